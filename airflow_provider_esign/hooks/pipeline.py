"""The request pipeline: one generator per concern, written once for blocking and async code.

Every call a hook makes goes through here: credentials (cached per process, one re-login on a
rejected key or token), the client-side rate limit, the HTTP exchange (redirects followed by hand,
under the one policy of :mod:`~airflow_provider_esign.hooks.redirects`: credentials never leave the
connection's origin), error mapping and retries.

The pipeline does no I/O itself. It yields *effects* (:class:`Send`, :class:`Sleep`,
:class:`RateLimitWait`, :class:`ReadChunk`, ...) and receives their results; the executors in
:mod:`airflow_provider_esign.hooks.transport` perform them with ``requests`` (operators, sensors) or
``httpx`` (triggers). A failed effect is thrown back into the generator as an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin

from airflow_provider_esign.exceptions import ESignApiError, ESignRateLimitError, ESignRedirectError
from airflow_provider_esign.hooks import redirects
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse, Flow
from airflow_provider_esign.hooks.credentials import CREDENTIALS, Credentials
from airflow_provider_esign.hooks.jsonstream import CHUNK_BYTES, JsonStream, NotJsonError
from airflow_provider_esign.hooks.settings import ConnectionSettings

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook
    from airflow_provider_esign.ratelimit import RateLimiter

T = TypeVar("T")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
#: Bytes of an error body read from a streamed response (for the vendor's message).
ERROR_BODY_LIMIT = 4096


# --------------------------------------------------------------------------------------------------
# Effects: what the executors perform
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Send:
    """Send ``request`` to ``url`` without following redirects; the result is an :class:`ApiResponse`
    (with ``stream`` set and no ``content`` when ``stream`` is true)."""

    request: ApiRequest
    url: str
    stream: bool = False


@dataclass(frozen=True)
class ReadChunk:
    """Read up to ``size`` bytes of a streamed body; the result is ``b""`` at its end."""

    response: ApiResponse
    size: int


@dataclass(frozen=True)
class Close:
    """Release a streamed response."""

    response: ApiResponse


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (the hook's injectable sleep, or ``asyncio.sleep``)."""

    seconds: float


@dataclass(frozen=True)
class RateLimitWait:
    """Wait for the client-side rate limiter's next slot."""

    limiter: RateLimiter


@dataclass(frozen=True)
class RateLimitPenalty:
    """Push the client-side rate limiter's shared schedule back by ``seconds`` (a 429's Retry-After)."""

    limiter: RateLimiter
    seconds: float


@dataclass(frozen=True)
class Resolve:
    """Resolve a host name; the result is its addresses (empty when it does not resolve)."""

    host: str


@dataclass(frozen=True)
class Mask:
    """Register runtime secrets with Airflow's secrets masker."""

    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Lock:
    """Take the per-process login lock of a credentials identity (thread or asyncio lock)."""

    key: str


@dataclass(frozen=True)
class Unlock:
    """Release the login lock taken by :class:`Lock`."""

    key: str


@dataclass(frozen=True)
class Offload:
    """Call a blocking ``function`` (a shared store, a cross-host lock): directly in blocking code, in a
    worker thread in async code, so the triggerer's event loop never waits on it."""

    function: Callable[[], Any]


Effect = (
    Send
    | ReadChunk
    | Close
    | Sleep
    | RateLimitWait
    | RateLimitPenalty
    | Resolve
    | Mask
    | Lock
    | Unlock
    | Offload
)
Pipeline = Generator[Effect, Any, T]


# --------------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------------
def run(hook: ESignHook, settings: ConnectionSettings, flow: Flow[T]) -> Pipeline[T]:
    """Drive a vendor flow: every request it yields goes through :func:`call`; an effect it yields (a
    login flow's :class:`Sleep` or :class:`Offload`) goes to the executor as it is.

    Every error is raised inside the flow, at its ``yield``: a call's final error (a flow may catch it
    to name the input that caused it, e.g. the ``template_id`` of a 404), a failed effect (a store
    write, a rate-limit storage error, a timeout) and a cancellation alike. So a flow's ``finally``
    blocks always run (a lock it holds is released); one that does not catch an error re-raises it.
    When this pipeline is closed (abandoned), the flow is closed too.
    """
    try:
        request = next(flow)
        while True:
            try:
                if isinstance(request, ApiRequest):
                    response = yield from call(hook, settings, request)
                else:
                    response = yield request
            except GeneratorExit:
                flow.close()
                raise
            except BaseException as exc:  # cancellation included: the flow's cleanup must run
                request = flow.throw(exc)
                continue
            request = flow.send(response)
    except StopIteration as stop:
        return stop.value


def call(hook: ESignHook, settings: ConnectionSettings, request: ApiRequest) -> Pipeline[ApiResponse]:
    """One API call, retried as the hook's retry policy allows."""
    return (yield from retrying(hook, request, lambda: exchange(hook, settings, request)))


def retrying(hook: ESignHook, request: ApiRequest, attempt: Callable[[], Pipeline[T]]) -> Pipeline[T]:
    """Run ``attempt`` until it succeeds, fails permanently or the retry budget is spent.

    :param hook: The hook (its retry policy, clock and log).
    :param request: The request being retried (its idempotency decides what is retryable).
    :param attempt: Makes the pipeline of one attempt.
    """
    policy = hook.retry_policy
    started = hook.clock()
    number = 0
    while True:
        number += 1
        try:
            return (yield from attempt())
        except ESignApiError as exc:
            if not policy.is_retryable(exc, request) or policy.exhausted(number, hook.clock() - started):
                raise
            wait = policy.backoff(number, exc)
            hook.log.warning(
                "%s attempt %d failed (%s); retrying in %.1fs", request.operation, number, exc, wait
            )
            yield Sleep(wait)


def exchange(
    hook: ESignHook, settings: ConnectionSettings, request: ApiRequest, *, stream: bool = False
) -> Pipeline[ApiResponse]:
    """One attempt: credentials, HTTP, one re-login if the vendor rejects them, error mapping.

    For a streamed request the returned response is open (read it with :class:`ReadChunk`, release it
    with :class:`Close`); 2xx bodies are then not inspected.
    """
    creds = (yield from credentials(hook, settings)) if request.auth else None
    response = yield from http(hook, settings, _authorized(hook, request, creds), request, stream=stream)
    if request.auth and hook.reauthenticate_on_401 and hook.is_unauthorized(response):
        if stream:
            yield Close(response)
        hook.before_reauthenticate(request, creds)
        creds = yield from credentials(hook, settings)
        # The same request again (params, body, headers), with the new credentials.
        response = yield from http(hook, settings, _authorized(hook, request, creds), request, stream=stream)
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
            # Every task sharing the budget backs off (on every host, with a Redis store), never longer
            # than the retry sleep itself: one answer must not freeze the connection's schedule.
            yield RateLimitPenalty(hook.rate_limiter, hook.retry_policy.cap(exc.retry_after))
        raise
    checked = 200 <= response.status_code < 300 and response.status_code not in request.ok_statuses
    if request.check_answer is not None and checked:
        # Inside the retry loop: a junk 200 (a proxy page, a cut body) is asked again like a 5xx.
        request.check_answer(response.json(), conn_id=hook.conn_id, operation=request.operation)
    return response


def read_json(response: ApiResponse, spec: JsonStream) -> Pipeline[ApiResponse]:
    """Read a streamed response to its end, parsing a 2xx body chunk by chunk with ``spec``.

    The result is an ordinary, closed response: an error status keeps the first bytes of its body
    (for the vendor's message), a 2xx body that is not JSON keeps its first bytes and parses as None,
    a JSON body is in ``parsed``. So the response checks that follow (re-login, error mapping) see
    it as they see any other. Memory: one chunk, the first bytes and what ``spec`` keeps.
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
    return ApiResponse(
        response.status_code, response.headers, head if parsed is None else b"", response.url, parsed=parsed
    )


def http(
    hook: ESignHook,
    settings: ConnectionSettings,
    prepared: ApiRequest,
    original: ApiRequest,
    *,
    stream: bool = False,
) -> Pipeline[ApiResponse]:
    """Send ``prepared`` after the rate-limit wait and follow redirects under the one redirect policy.

    ``prepared`` carries the vendor's credentials, ``original`` is the request as the flow built it.
    Each hop is checked by :mod:`~airflow_provider_esign.hooks.redirects`: a same-origin hop is
    sent again as it was, a cross-origin hop without credential headers and body (or refused), and
    a downgrade to http or a hop to an internal address is refused with :class:`ESignRedirectError`.

    A request with ``stream_json`` (and no ``stream`` of the caller's own) is streamed too, and its
    body read and parsed as it arrives (see :func:`read_json`).
    """
    streamed = stream or original.stream_json is not None
    yield RateLimitWait(hook.rate_limiter)
    url = resolve_url(settings, prepared.path)
    home = redirects.Origin.of(url)
    checked: dict[str, bool] = {}  # host -> is internal
    if home != redirects.Origin.of(settings.base_url):
        # A link the vendor handed out (a download link) obeys the same rules as a redirect from
        # the connection's host: no downgrade, no internal address.
        refusal = yield from _target_refusal(settings, settings.base_url, url, checked)
        if refusal is not None:
            raise ESignRedirectError(refusal, conn_id=hook.conn_id, operation=original.operation)
    response = yield Send(prepared, url, streamed)
    trusted = True  # the chain has not left the origin of its first request
    for _ in range(MAX_REDIRECTS):
        location = response.header("Location") if response.status_code in REDIRECT_STATUSES else None
        if not location:
            break
        if streamed:
            yield Close(response)
        target = urljoin(response.url or url, location)
        trusted = trusted and redirects.Origin.of(target) == home
        refusal = (
            None if trusted else (yield from _target_refusal(settings, response.url or url, target, checked))
        )
        follow = None
        if refusal is None:
            follow = redirects.followed_request(prepared, original, response.status_code, trusted)
            if follow is None:
                refusal = (
                    f"a {response.status_code} redirect to {redirects.where(target)} would re-send the "
                    "request body (which may hold credentials) to another origin"
                )
        if follow is None:
            raise ESignRedirectError(
                refusal or "redirect refused",
                conn_id=hook.conn_id,
                operation=original.operation,
                status_code=response.status_code,
            )
        url = target
        response = yield Send(follow, url, streamed)
    if streamed and not stream and original.stream_json is not None:
        response = yield from read_json(response, original.stream_json)
    return response


def _target_refusal(
    settings: ConnectionSettings, current: str, target: str, checked: dict[str, bool]
) -> Pipeline[str | None]:
    """Why ``target`` (another origin than the request's first) is never contacted, or None.

    :param checked: Hosts already classified in this chain (internal or not).
    """
    refusal = redirects.scheme_refusal(current, target)
    if refusal is not None:
        return refusal
    own = redirects.Origin.of(settings.base_url).host
    if own not in checked:
        checked[own] = yield from _is_internal(own)
    if checked[own]:
        return None  # the connection itself is on an internal host (a sandbox, an internal proxy)
    host = redirects.Origin.of(target).host
    if host not in checked:
        checked[host] = yield from _is_internal(host)
    if checked[host]:
        return (
            f"{redirects.where(target)} is a loopback, private or link-local address, never contacted "
            "from a connection to a public host"
        )
    return None


def _is_internal(host: str) -> Pipeline[bool]:
    """Whether a host is (or resolves to) a loopback, private, link-local or other non-public address."""
    literal = redirects.literal_is_internal(host)
    if literal is not None:
        return literal
    addresses = yield Resolve(host)
    return any(redirects.address_is_internal(a) for a in addresses or ())


def credentials(hook: ESignHook, settings: ConnectionSettings) -> Pipeline[Credentials | None]:
    """The process's cached credentials for the hook's identity, logging in (once, locked) if needed."""
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
            creds = yield from run(hook, settings, hook.login_flow())
            yield Mask(tuple(creds.values.values()))
            CREDENTIALS.put(key, creds)
    finally:
        yield Unlock(key)
    return creds


def resolve_url(settings: ConnectionSettings, path: str) -> str:
    """An absolute URL for a request path (relative to the connection's base URL, or absolute)."""
    if "://" in path:
        return path
    return urljoin(settings.base_url, path.lstrip("/"))


def _authorized(hook: ESignHook, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
    return hook.apply_auth(request, creds) if request.auth else request
