"""The two executors of the request pipeline: blocking (``requests``) and async (``httpx``).

Each one drives a generator of :mod:`~airflow_provider_esign.hooks.effects` (the hook's request
pipeline), performing the effects it yields; neither knows anything about vendors, retries or
credentials: it needs only the few things of :class:`ExecutorHost`. A failure while performing an
effect is thrown back into the generator (so its ``finally`` blocks release locks and streams).
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import socket
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from airflow_provider_esign.exceptions import ESignTransportError
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.credentials import CREDENTIALS, amask, mask
from airflow_provider_esign.hooks.effects import (
    Close,
    Effect,
    Effects,
    Lock,
    Mask,
    Offload,
    RateLimitPenalty,
    RateLimitWait,
    ReadChunk,
    Resolve,
    Send,
    Sleep,
    Unlock,
)
from airflow_provider_esign.hooks.session import USER_AGENT, NoCookies, environment, prepare

if TYPE_CHECKING:
    import httpx
    import requests

T = TypeVar("T")

#: Concurrent async requests per event loop (and the pool's connection limit). httpcore's pool does
#: work proportional to queued requests x connections on every request start and end, so 1,000
#: triggers polling together through a 100-connection pool stalled the triggerer's loop for seconds.
#: The provider's requests therefore wait on a semaphore (O(1) per wake-up) and never queue inside the
#: pool; 20 connections still serve far more than any vendor's rate limit allows.
ASYNC_MAX_CONNECTIONS = 20

# One httpx client per event loop: creating a client builds an SSL context (milliseconds of blocking
# work), which 1,000 triggers starting together would turn into a long event-loop stall.
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
_ASYNC_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def transport_error(
    operation: str, conn_id: str, exc: BaseException, *, maybe_processed: bool
) -> ESignTransportError:
    """An :class:`ESignTransportError` for an HTTP client failure (never the request's content)."""
    error = ESignTransportError(
        f"no usable answer ({type(exc).__name__})", conn_id=conn_id, operation=operation
    )
    error.maybe_processed = maybe_processed
    return error


class ExecutorHost(Protocol):
    """What an executor uses of its hook: the connection id (in errors), the per-request timeouts, the
    blocking sleep and HTTP session (the async executor shares one ``httpx`` client per event loop)."""

    conn_id: str
    sleep: Callable[[float], None]

    @property
    def timeout(self) -> tuple[float, float]: ...

    def get_conn(self) -> requests.Session: ...


class _Step:
    """One pipeline being driven: hands it the last effect's result (or error), takes the next effect."""

    effect: Effect  # set by advance()

    def __init__(self, pipeline: Effects[Any]) -> None:
        self.pipeline = pipeline
        self.result: Any = None
        self.error: BaseException | None = None
        self.value: Any = None

    def advance(self) -> bool:
        """Resume the pipeline; False once it returned (its value in ``value``)."""
        error, self.error = self.error, None
        result, self.result = self.result, None
        try:
            self.effect = self.pipeline.throw(error) if error is not None else self.pipeline.send(result)
        except StopIteration as stop:
            self.value = stop.value
            return False
        return True


class SyncExecutor:
    """Performs pipeline effects with blocking I/O: the hook's ``requests`` session and sleep."""

    def __init__(self, hook: ExecutorHost) -> None:
        self.hook = hook

    def run(self, pipeline: Effects[T]) -> T:
        step = _Step(pipeline)
        while step.advance():
            try:
                step.result = self.perform(step.effect)
            except BaseException as exc:  # thrown into the pipeline, which re-raises what it cannot handle
                step.error = exc
        return step.value

    def perform(self, effect: Effect) -> Any:
        hook = self.hook
        if isinstance(effect, Send):
            return self._send(effect)
        if isinstance(effect, ReadChunk):
            return effect.response.stream.read(effect.size)
        if isinstance(effect, Close):
            effect.response.stream.close()
        elif isinstance(effect, Sleep):
            hook.sleep(effect.seconds)
        elif isinstance(effect, RateLimitWait):
            delay = effect.limiter.reserve()
            if delay:
                hook.sleep(delay)
        elif isinstance(effect, RateLimitPenalty):
            effect.limiter.penalize(effect.seconds)
        elif isinstance(effect, Resolve):
            try:
                return _addresses(socket.getaddrinfo(effect.host, None, type=socket.SOCK_STREAM))
            except (OSError, UnicodeError):
                return []
        elif isinstance(effect, Mask):
            for secret in effect.secrets:
                mask(secret)
        elif isinstance(effect, Lock):
            CREDENTIALS.thread_lock(effect.key).acquire()
        elif isinstance(effect, Unlock):
            CREDENTIALS.thread_lock(effect.key).release()
        elif isinstance(effect, Offload):
            return effect.function()
        return None

    def _send(self, effect: Send) -> ApiResponse:
        import requests

        request, hook = effect.request, self.hook
        try:
            session = hook.get_conn()
            resp = session.send(
                prepare(session, request, effect.url),
                timeout=request.timeout(hook.timeout),
                allow_redirects=False,  # the pipeline follows redirects under its own policy
                stream=effect.stream,
                **environment(session, effect.url),
            )
        except requests.ConnectionError as exc:
            raise transport_error(
                request.operation, hook.conn_id, exc, maybe_processed=not _is_connect_failure(exc)
            ) from None
        except requests.RequestException as exc:
            raise transport_error(request.operation, hook.conn_id, exc, maybe_processed=True) from None
        if effect.stream:
            stream = _SyncStream(resp, request.operation, hook.conn_id)
            return ApiResponse(resp.status_code, dict(resp.headers), b"", resp.url, stream=stream)
        return ApiResponse(resp.status_code, dict(resp.headers), resp.content, resp.url)


class _Stream:
    """An open streamed body of one response; mid-body failures become :class:`ESignTransportError`."""

    def __init__(self, response: Any, operation: str, conn_id: str) -> None:
        self.response = response
        self.operation = operation
        self.conn_id = conn_id
        self._chunks: Any = None

    def failed(self, exc: BaseException) -> ESignTransportError:
        return transport_error(self.operation, self.conn_id, exc, maybe_processed=True)


class _SyncStream(_Stream):
    """A streamed ``requests`` body."""

    def read(self, size: int) -> bytes:
        import requests
        import urllib3

        try:
            if self._chunks is None:
                self._chunks = self.response.iter_content(size)
            return next(self._chunks, b"")
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self.failed(exc) from None

    def close(self) -> None:
        self.response.close()


#: Responses larger than this are handed to the flow (and parsed) in a worker thread: ~1 ms of JSON.
OFF_LOOP_BYTES = 64 * 1024


class AsyncExecutor:
    """Performs pipeline effects without blocking the event loop: a shared ``httpx`` client per loop."""

    def __init__(self, hook: ExecutorHost) -> None:
        self.hook = hook

    async def run(self, pipeline: Effects[T]) -> T:
        step = _Step(pipeline)
        while await self._advance(step):
            try:
                step.result = await self.perform(step.effect)
            except BaseException as exc:  # cancellation included: the pipeline's finally blocks run
                step.error = exc
        return step.value

    @staticmethod
    async def _advance(step: _Step) -> bool:
        """Resume the pipeline; with a large response in a worker thread, so parsing it (a 100-item
        page) never stalls the triggerer's event loop. A body parsed while it streams in (an
        ``ApiRequest.stream_json``) comes back as small chunks instead, each parsed on the loop."""
        if not (isinstance(step.result, ApiResponse) and len(step.result.content) > OFF_LOOP_BYTES):
            return step.advance()
        thread = asyncio.ensure_future(asyncio.to_thread(step.advance))
        try:
            return await asyncio.shield(thread)
        except asyncio.CancelledError as exc:
            # Never re-enter the pipeline while the thread still runs it; then hand it the
            # cancellation, so its finally blocks (login lock, open stream) run.
            await asyncio.wait([thread])
            if not thread.result():
                raise
            step.error = exc
            return step.advance()

    async def perform(self, effect: Effect) -> Any:
        if isinstance(effect, Send):
            return await self._send(effect)
        if isinstance(effect, ReadChunk):
            return await effect.response.stream.read(effect.size)
        if isinstance(effect, Close):
            await effect.response.stream.close()
        elif isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
        elif isinstance(effect, RateLimitWait):
            delay = await effect.limiter.areserve()  # a Redis store is asked without blocking the loop
            if delay:
                await asyncio.sleep(delay)
        elif isinstance(effect, RateLimitPenalty):
            await effect.limiter.apenalize(effect.seconds)
        elif isinstance(effect, Resolve):
            loop = asyncio.get_running_loop()
            try:
                return _addresses(await loop.getaddrinfo(effect.host, None, type=socket.SOCK_STREAM))
            except (OSError, UnicodeError):
                return []
        elif isinstance(effect, Mask):
            for secret in effect.secrets:
                await amask(secret)
        elif isinstance(effect, Lock):
            await CREDENTIALS.async_lock(effect.key).acquire()
        elif isinstance(effect, Unlock):
            CREDENTIALS.async_lock(effect.key).release()
        elif isinstance(effect, Offload):
            return await asyncio.to_thread(effect.function)
        return None

    async def _send(self, effect: Send) -> ApiResponse:
        import httpx

        request, hook = effect.request, self.hook
        client = _async_client()
        # Per request: the client is shared by every hook of the event loop, each with its own timeout.
        connect, read = request.timeout(hook.timeout)
        timeout = httpx.Timeout(read, connect=connect)
        try:
            if effect.stream:
                built = client.build_request(request.method, effect.url, **_body(request), timeout=timeout)
                resp = await client.send(built, stream=True, follow_redirects=False)
                stream = _AsyncStream(resp, request.operation, hook.conn_id)
                return ApiResponse(resp.status_code, dict(resp.headers), b"", str(resp.url), stream=stream)
            async with _async_slots():
                resp = await client.request(
                    request.method, effect.url, **_body(request), timeout=timeout, follow_redirects=False
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise transport_error(request.operation, hook.conn_id, exc, maybe_processed=False) from None
        except httpx.HTTPError as exc:
            raise transport_error(request.operation, hook.conn_id, exc, maybe_processed=True) from None
        return ApiResponse(resp.status_code, dict(resp.headers), resp.content, str(resp.url))


class _AsyncStream(_Stream):
    """A streamed ``httpx`` body."""

    async def read(self, size: int) -> bytes:
        import httpx

        try:
            if self._chunks is None:
                self._chunks = self.response.aiter_bytes(size)
            return await anext(self._chunks, b"")
        except httpx.HTTPError as exc:
            raise self.failed(exc) from None

    async def close(self) -> None:
        await self.response.aclose()


def _body(request: ApiRequest) -> dict[str, Any]:
    """The query, body and headers of a request, as ``httpx`` takes them (the sync executor's
    counterpart is :func:`~airflow_provider_esign.hooks.session.prepare`: a field ``ApiRequest`` gains
    goes into both)."""
    return {"params": request.params, "json": request.json, "data": request.data, "headers": request.headers}


def _async_client() -> httpx.AsyncClient:
    """The running loop's shared client (timeouts are passed per request, each hook its own)."""
    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = _ASYNC_CLIENTS[loop] = new_async_client()
    return client


def new_async_client(**kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx`` client as the async executor uses it: pooled, no cookie store, no redirects of
    its own (``kwargs``, e.g. a test transport, are passed on)."""
    import httpx

    return httpx.AsyncClient(
        cookies=http.cookiejar.CookieJar(policy=NoCookies()),
        limits=httpx.Limits(
            max_connections=ASYNC_MAX_CONNECTIONS, max_keepalive_connections=ASYNC_MAX_CONNECTIONS
        ),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,  # the pipeline follows redirects under its own policy
        **kwargs,
    )


def _addresses(infos: list[Any]) -> list[str]:
    """The IP addresses of a ``getaddrinfo`` answer."""
    return [str(info[4][0]) for info in infos]


def _async_slots() -> asyncio.Semaphore:
    """The running loop's limit on concurrent async requests (see ``ASYNC_MAX_CONNECTIONS``)."""
    loop = asyncio.get_running_loop()
    slots = _ASYNC_SLOTS.get(loop)
    if slots is None:
        slots = _ASYNC_SLOTS[loop] = asyncio.Semaphore(ASYNC_MAX_CONNECTIONS)
    return slots


def _is_connect_failure(exc: Exception) -> bool:
    """Whether the request never left the client (safe to resend even a create)."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolution"))
