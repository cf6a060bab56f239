"""The request pipeline: what happens to every request a vendor flow yields, written once for
blocking and async code.

A hook owns one :class:`RequestPipeline`. It drives a flow (:meth:`RequestPipeline.run`); each
request goes through :meth:`~RequestPipeline.call`: credentials (cached per process, one re-login
on a rejected key or token), error mapping, the check of a 2xx answer, and retries; and
:meth:`~RequestPipeline.http`: the client-side rate limit and the HTTP exchange, redirects followed
by hand under the one policy of :mod:`~airflow_provider_esign.hooks.redirects` (credentials never
leave the connection's origin). So a request passes three generators between its flow and the
executor: ``run``, ``call``, ``http``.

The pipeline does no I/O itself. It yields effects (:mod:`~airflow_provider_esign.hooks.effects`)
and receives their results; the executors in :mod:`~airflow_provider_esign.hooks.transport` perform
them with ``requests`` (operators, sensors) or ``httpx`` (triggers). A failed effect is thrown back
into the generator as an exception.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin

from airflow_provider_esign.exceptions import ESignApiError, ESignRateLimitError, ESignRedirectError
from airflow_provider_esign.hooks import redirects
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse, Flow
from airflow_provider_esign.hooks.credentials import CREDENTIALS, Credentials
from airflow_provider_esign.hooks.effects import (
    Close,
    Effects,
    Lock,
    Mask,
    RateLimitPenalty,
    RateLimitWait,
    ReadChunk,
    Resolve,
    Send,
    Sleep,
    Unlock,
)
from airflow_provider_esign.hooks.jsonstream import CHUNK_BYTES, JsonStream, NotJsonError

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.vendor import VendorInterface

T = TypeVar("T")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
#: Bytes of an error body read from a streamed response (for the vendor's message).
ERROR_BODY_LIMIT = 4096


class RequestPipeline:
    """The request pipeline of one hook (see the module docstring).

    :param hook: The vendor hook: its flows' response rules, credentials, retry policy, rate limiter,
        clock and log, and the connection settings the hook loaded before running a flow.
    """

    def __init__(self, hook: VendorInterface) -> None:
        self.hook = hook

    def run(self, flow: Flow[T]) -> Effects[T]:
        """Drive a vendor flow: every request it yields goes through :meth:`call`; an effect it yields
        (a :class:`~.effects.Sleep`, an :class:`~.effects.Offload`) goes to the executor as it is.

        Every error is raised inside the flow, at its ``yield``: a call's final error (a flow may catch
        it to name the input that caused it, e.g. the ``template_id`` of a 404), a failed effect (a
        store write, a rate-limit storage error, a timeout) and a cancellation alike. So a flow's
        ``finally`` blocks always run (a lock it holds is released); one that does not catch an error
        re-raises it. When this pipeline is closed (abandoned), the flow is closed too.
        """
        try:
            message = next(flow)
            while True:
                try:
                    if isinstance(message, ApiRequest):
                        result = yield from self.call(message)
                    else:
                        result = yield message
                except GeneratorExit:
                    flow.close()
                    raise
                except BaseException as exc:  # cancellation included: the flow's cleanup must run
                    message = flow.throw(exc)
                    continue
                message = flow.send(result)
        except StopIteration as stop:
            return stop.value

    def call(self, request: ApiRequest, *, stream: bool = False, retry: bool = True) -> Effects[ApiResponse]:
        """One API call: credentials, HTTP, one re-login if the vendor rejects them, error mapping and
        the answer check, attempted again as the hook's retry policy allows.

        :param stream: Return the response open (read it with :class:`~.effects.ReadChunk`, release it
            with :class:`~.effects.Close`); a 2xx body is then not inspected.
        :param retry: False: one attempt (the caller retries, e.g. a download that resumes).
        """
        hook = self.hook
        started, number = hook.clock(), 0
        while True:
            number += 1
            try:
                creds = (yield from self.credentials()) if request.auth else None
                response: ApiResponse | None = None
                for fresh_login in (False, True):
                    if response is not None:  # rejected credentials: log in again, once
                        if stream:
                            yield Close(response)
                        hook.before_reauthenticate(request, creds)
                        creds = yield from self.credentials()
                    # The same request each time (params, body, headers), with the credentials of now.
                    response = yield from self.http(self.authorized(request, creds), request, stream=stream)
                    if request.stream_json is not None and not stream:
                        response = yield from self.read_json(response, request.stream_json)
                    rejected = request.auth and hook.reauthenticate_on_401 and hook.is_unauthorized(response)
                    if fresh_login or not rejected:
                        break
                assert response is not None
                if stream:
                    if response.status_code < 400 or response.status_code in request.ok_statuses:
                        return response
                    body = yield ReadChunk(response, ERROR_BODY_LIMIT)
                    yield Close(response)
                    response = ApiResponse(response.status_code, response.headers, body, response.url)
                try:
                    hook.raise_for_response(request, response)
                except ESignRateLimitError as exc:
                    if exc.retry_after:
                        # Every task sharing the budget backs off (on every host, with a Redis store),
                        # never longer than the retry sleep itself: one answer must not freeze the
                        # connection's schedule.
                        yield RateLimitPenalty(hook.rate_limiter, hook.retry_policy.cap(exc.retry_after))
                    raise
                return self.checked(request, response)
            except ESignApiError as exc:
                if not retry:
                    raise
                yield Sleep(self.retry_wait(request, exc, number, started))

    def retry_wait(self, request: ApiRequest, exc: ESignApiError, number: int, started: float) -> float:
        """The wait before attempt ``number + 1`` of ``request`` after ``exc``; raises ``exc`` when it
        is not retryable or the retry budget (attempts, seconds since ``started``) is spent."""
        hook = self.hook
        policy = hook.retry_policy
        if not policy.is_retryable(exc, request) or policy.exhausted(number, hook.clock() - started):
            raise exc
        wait = policy.backoff(number, exc)
        hook.log.warning("%s attempt %d failed (%s); retrying in %.1fs", request.operation, number, exc, wait)
        return wait

    def checked(self, request: ApiRequest, response: ApiResponse) -> ApiResponse:
        """The response with ``check_answer``'s value in ``checked`` (a 2xx answer the request checks).

        Inside the retry loop: a junk 200 (a proxy page, a cut body) is asked again like a 5xx. The flow
        reads the checked value instead of checking the body a second time.
        """
        status = response.status_code
        if request.check_answer is None or not 200 <= status < 300 or status in request.ok_statuses:
            return response
        body = response.json()
        value = request.check_answer(body, conn_id=self.hook.conn_id, operation=request.operation)
        return replace(response, parsed=body, checked=value)

    def read_json(self, response: ApiResponse, spec: JsonStream) -> Effects[ApiResponse]:
        """Read a streamed response to its end, parsing a 2xx body chunk by chunk with ``spec``.

        The result is an ordinary, closed response: an error status keeps the first bytes of its body
        (for the vendor's message), a 2xx body that is not JSON keeps its first bytes and parses as
        None, a JSON body is in ``parsed``. So the checks that follow (re-login, error mapping) see it
        as they see any other. Memory: one chunk, the first bytes and what ``spec`` keeps.
        """
        head = b""
        parser = spec.parser() if response.status_code < 300 else None
        parsed: Any = None
        try:
            while chunk := (yield ReadChunk(response, CHUNK_BYTES)):
                if len(head) < ERROR_BODY_LIMIT:
                    head += chunk[: ERROR_BODY_LIMIT - len(head)]
                if parser is None:  # an error body: its first bytes are enough
                    if len(head) >= ERROR_BODY_LIMIT:
                        break
                    continue
                parser.feed(chunk)
            if parser is not None:
                parsed = parser.close()
        except NotJsonError:
            parsed = None
        finally:
            yield Close(response)
        if parser is None:
            return ApiResponse(response.status_code, response.headers, head, response.url)
        # A 2xx body that is not JSON parses as None, as an in-memory one does.
        content = head if parsed is None else b""
        return ApiResponse(response.status_code, response.headers, content, response.url, parsed=parsed)

    def http(
        self, prepared: ApiRequest, original: ApiRequest, *, stream: bool = False
    ) -> Effects[ApiResponse]:
        """Send ``prepared`` after the rate-limit wait and follow redirects under the one redirect policy.

        ``prepared`` carries the vendor's credentials, ``original`` is the request as the flow built it.
        Each hop is checked by :mod:`~airflow_provider_esign.hooks.redirects`: a same-origin hop is sent
        again as it was, a cross-origin hop without credential headers and body (or refused), and a
        downgrade to http or a hop to an internal address is refused with :class:`ESignRedirectError`.
        A request with ``stream_json`` is streamed too (:meth:`call` parses it as it arrives). Each
        host is classified (a name resolved with :class:`~.effects.Resolve`) only when a hop leaves
        the first origin, and once per chain.
        """
        hook = self.hook
        streamed = stream or original.stream_json is not None
        yield RateLimitWait(hook.rate_limiter)
        base_url = hook.loaded_settings().base_url
        own = redirects.Origin.of(base_url)
        url = resolve_url(base_url, prepared.path)
        home = redirects.Origin.of(url)
        internal: dict[str, bool] = {}  # host -> is internal, for this chain
        # Hop 0 is the request itself: a link the vendor handed out (a download link) on another
        # origin obeys the same rules as a redirect from the connection's host.
        current, send, status = base_url, prepared, 0
        trusted = home == own  # the chain has not left its first origin
        for hop in range(MAX_REDIRECTS + 1):
            refusal = None if trusted else redirects.scheme_refusal(current, url)
            for host in () if trusted or refusal else (own.host, redirects.Origin.of(url).host):
                if host not in internal:  # resolved only when needed, once per chain
                    literal = redirects.literal_is_internal(host)
                    if literal is None:
                        addresses = yield Resolve(host)
                        literal = any(redirects.address_is_internal(a) for a in addresses or ())
                    internal[host] = literal
                if internal[host] and host == own.host:
                    break  # the connection itself is on an internal host (a sandbox, an internal proxy)
                if internal[host]:
                    refusal = (
                        f"{redirects.where(url)} is a loopback, private or link-local address, never "
                        "contacted from a connection to a public host"
                    )
            if hop and refusal is None:
                follow = redirects.followed_request(prepared, original, status, trusted)
                if follow is None:
                    refusal = (
                        f"a {status} redirect to {redirects.where(url)} would re-send the request body "
                        "(which may hold credentials) to another origin"
                    )
                send = follow or send
            if refusal is not None:
                raise ESignRedirectError(
                    refusal, conn_id=hook.conn_id, operation=original.operation, status_code=status or None
                )
            response = yield Send(send, url, streamed)
            status = response.status_code
            location = response.header("Location") if status in REDIRECT_STATUSES else None
            if not location or hop == MAX_REDIRECTS:
                return response
            if streamed:
                yield Close(response)
            current = response.url or url
            url = urljoin(current, location)
            trusted = trusted and redirects.Origin.of(url) == home
        raise AssertionError("unreachable: the last hop returns")  # pragma: no cover

    def credentials(self) -> Effects[Credentials | None]:
        """The process's cached credentials for the hook's identity, logging in (once, locked) if needed."""
        hook = self.hook
        if not hook.needs_login():
            return None
        key = hook.credentials_key
        creds = CREDENTIALS.get(key, hook.clock())
        if creds is not None:
            return creds
        yield Lock(key)
        try:
            creds = CREDENTIALS.get(key, hook.clock())
            if creds is None:
                creds = yield from self.run(hook.login_flow())
                yield Mask(tuple(creds.values.values()))
                CREDENTIALS.put(key, creds)
        finally:
            yield Unlock(key)
        return creds

    def authorized(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        """``request`` with the vendor's credentials applied, where it asks for them."""
        return self.hook.apply_auth(request, creds) if request.auth else request


def resolve_url(base_url: str, path: str) -> str:
    """An absolute URL for a request path (relative to the connection's base URL, or absolute)."""
    if "://" in path:
        return path
    return urljoin(base_url, path.lstrip("/"))
