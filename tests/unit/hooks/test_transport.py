"""The two executors, driven directly with small hand-written pipelines (generators yielding effects).

Both: the per-request timeout reaches the HTTP client, redirects are never followed by the client,
streamed bodies are read in chunks and closed, a failed effect is thrown back into the pipeline (its
``finally`` runs), transport errors say whether the request may have been processed, and the other
effects (sleep, rate limit, lock, offload, mask, resolve) reach what performs them. Async only:
cancellation runs the pipeline's ``finally`` and releases its lock, large responses are handed over
off the event loop, and concurrent requests per loop are bounded.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import threading
import time

import httpx
import pytest
import requests

from airflow_provider_esign.exceptions import ESignTransportError
from airflow_provider_esign.hooks import transport
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.credentials import CREDENTIALS
from airflow_provider_esign.hooks.effects import (
    Close,
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
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.pipeline import resolve_url
from airflow_provider_esign.hooks.session import new_session
from airflow_provider_esign.hooks.transport import (
    ASYNC_MAX_CONNECTIONS,
    OFF_LOOP_BYTES,
    AsyncExecutor,
    SyncExecutor,
    _Step,
    new_async_client,
)
from tests.unit.hooks.esignbase import test_hook as esignbase_hook_tests


def pipeline(response_size: int, seen: list[int], work: float = 0.0):
    """Yields one effect, then parses the response it gets back (recording the thread)."""
    response = yield "send"
    seen.append(threading.get_ident())
    time.sleep(work)  # stands for parsing a large JSON body
    yield "next"
    return len(json.loads(response.content))


def large(n: int) -> ApiResponse:
    return ApiResponse(200, {}, json.dumps(["x" * 100] * n).encode(), "http://127.0.0.1/")


async def drive(step: _Step, response: ApiResponse) -> bool:
    assert await AsyncExecutor._advance(step)  # to the first effect
    step.result = response
    return await AsyncExecutor._advance(step)


async def test_a_large_response_is_parsed_in_a_worker_thread():
    seen: list[int] = []
    response = large(2000)
    assert len(response.content) > OFF_LOOP_BYTES
    step = _Step(pipeline(0, seen))
    assert await drive(step, response)
    assert seen and seen[0] != threading.get_ident()


async def test_a_small_response_stays_on_the_loop():
    seen: list[int] = []
    step = _Step(pipeline(0, seen))
    assert await drive(step, large(3))
    assert seen == [threading.get_ident()]


async def test_the_loop_keeps_running_while_a_large_body_is_parsed():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    step = _Step(pipeline(0, [], work=0.3))
    await drive(step, large(2000))
    task.cancel()
    assert ticks >= 10  # a 300 ms parse on the loop would have allowed one tick


async def test_cancellation_waits_for_the_thread_then_reaches_the_pipeline():
    seen: list[int] = []
    closed = []

    def guarded():
        try:
            yield from pipeline(0, seen, work=0.2)
        finally:
            closed.append(True)

    step = _Step(guarded())
    assert await AsyncExecutor._advance(step)
    step.result = large(2000)
    task = asyncio.create_task(AsyncExecutor._advance(step))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == [True]


# The eSignBase connection the hook tests use.
connection = esignbase_hook_tests.connection


async def test_concurrent_async_requests_are_bounded(connection, monkeypatch):
    connection()
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return httpx.Response(200, json={"ok": True})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    hook = ESignBaseHook(rate_limit_per_minute=0)
    settings = await hook.asettings()
    request = ApiRequest("GET", "api/credits", operation="get_credits", auth=False)
    executor = AsyncExecutor(hook)
    try:
        responses = await asyncio.gather(
            *(
                executor.perform(Send(request, resolve_url(settings.base_url, request.path)))
                for _ in range(3 * ASYNC_MAX_CONNECTIONS)
            )
        )
    finally:
        await client.aclose()
    assert [r.status_code for r in responses] == [200] * (3 * ASYNC_MAX_CONNECTIONS)
    assert peak == ASYNC_MAX_CONNECTIONS  # concurrent up to the bound, never beyond


# --------------------------------------------------------------------------------------------------
# Both executors, driven with hand-written pipelines
# --------------------------------------------------------------------------------------------------
API = "http://vendor.test/api/"
HOOK_TIMEOUT = (3.0, 7.0)


class FakeHook:
    """What the executors use of a hook: its session, timeouts, connection id and sleep."""

    def __init__(self, clock=None, timeout=HOOK_TIMEOUT) -> None:
        self.conn_id = "vendor_default"
        self.timeout = timeout
        self.session = new_session()
        self.sleep = clock.sleep if clock is not None else None

    def get_conn(self):
        return self.session


def one_send(request: ApiRequest, url: str = API + "documents", log: list | None = None):
    """Sends one request and returns its response; records in ``log`` that its finally ran."""
    try:
        response = yield Send(request, url)
        return response
    finally:
        if log is not None:
            log.append("finally")


def streamed(url: str, size: int, log: list):
    """Streams a body in ``size`` chunks, then closes it (in its finally, as the pipeline does)."""
    response = yield Send(ApiRequest("GET", url, operation="download"), url, stream=True)
    try:
        while chunk := (yield ReadChunk(response, size)):
            log.append(chunk)
    finally:
        yield Close(response)
        log.append("closed")
    return response


GET = ApiRequest("GET", "documents", operation="list_documents")


@pytest.fixture
def silent_server():
    """A loopback port that accepts connections (the kernel's backlog) but never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    server.close()


@pytest.fixture
def closed_port():
    """A loopback URL nothing listens on: connecting is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def async_transport(monkeypatch):
    """Installs a client with a mock transport as the running loop's shared client (exactly as the
    executor builds it, timeouts still per request); returns the requests it saw."""
    seen: list[httpx.Request] = []
    answers: list = []

    async def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0) if answers else httpx.Response(200, json={"ok": True})
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = new_async_client(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    return seen, answers


class TestSyncExecutor:
    def test_the_hooks_timeout_reaches_requests(self, requests_mock):
        requests_mock.get(API + "documents", json={"ok": True})
        response = SyncExecutor(FakeHook()).run(one_send(GET))
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert requests_mock.last_request.timeout == HOOK_TIMEOUT

    def test_a_capped_request_gets_its_own_shorter_timeout(self, requests_mock):
        requests_mock.get(API + "documents", json={})
        capped = ApiRequest("GET", "documents", operation="refresh", max_timeout=2.0)
        SyncExecutor(FakeHook()).run(one_send(capped))
        assert requests_mock.last_request.timeout == (2.0, 2.0)

    def test_a_redirect_is_handed_to_the_pipeline_not_followed(self, requests_mock):
        requests_mock.get(API + "documents", status_code=302, headers={"Location": "http://elsewhere.test/"})
        elsewhere = requests_mock.get("http://elsewhere.test/", json={})
        response = SyncExecutor(FakeHook()).run(one_send(GET))
        assert response.status_code == 302 and response.header("location") == "http://elsewhere.test/"
        assert not elsewhere.called

    def test_a_streamed_body_is_read_in_chunks_and_closed(self, requests_mock):
        requests_mock.get(API + "file.pdf", content=b"0123456789")
        log: list = []
        response = SyncExecutor(FakeHook()).run(streamed(API + "file.pdf", 4, log))
        assert log == [b"0123", b"4567", b"89", "closed"]
        assert response.content == b""  # streamed: the body went through ReadChunk only
        assert requests_mock.last_request.stream is True

    @pytest.mark.parametrize(
        ("error", "maybe_processed"),
        [
            (requests.ConnectionError("Connection refused"), False),
            (requests.ConnectTimeout("connect timed out"), False),
            (requests.ConnectionError("Connection aborted: RemoteDisconnected"), True),
            (requests.ReadTimeout("read timed out"), True),
        ],
    )
    def test_a_transport_failure_is_thrown_into_the_pipeline_and_says_if_it_may_have_arrived(
        self, requests_mock, error, maybe_processed
    ):
        requests_mock.get(API + "documents", exc=error)
        log: list = []
        with pytest.raises(ESignTransportError) as excinfo:
            SyncExecutor(FakeHook()).run(one_send(GET, log=log))
        assert log == ["finally"]
        assert excinfo.value.maybe_processed is maybe_processed
        assert excinfo.value.operation == "list_documents" and excinfo.value.conn_id == "vendor_default"

    def test_a_pipeline_may_recover_from_a_failed_effect(self, requests_mock):
        requests_mock.get(
            API + "documents", [{"exc": requests.ConnectionError("Connection refused")}, {"json": [1]}]
        )

        failures: list[bool] = []

        def retrying():
            try:
                yield Send(GET, API + "documents")
            except ESignTransportError as exc:
                failures.append(exc.maybe_processed)
            response = yield Send(GET, API + "documents")
            return response.json()

        assert SyncExecutor(FakeHook()).run(retrying()) == [1]
        assert failures == [False]

    def test_a_secret_in_the_request_never_reaches_the_error(self, requests_mock):
        requests_mock.get(API + "documents", exc=requests.ConnectionError("Connection refused"))
        request = ApiRequest("GET", "documents", operation="list", headers={"Authorization": "Bearer s3cr3t"})
        with pytest.raises(ESignTransportError) as excinfo:
            SyncExecutor(FakeHook()).run(one_send(request, API + "documents?token=s3cr3t"))
        assert "s3cr3t" not in str(excinfo.value) and "s3cr3t" not in repr(excinfo.value)

    def test_sleep_and_rate_limit_effects_use_the_hooks_sleep_and_the_limiter(self, clock):
        limiter = FakeLimiter(delays=[2.5, 0.0])

        def waits():
            yield Sleep(1.0)
            yield RateLimitWait(limiter)  # 2.5 s to the next slot
            yield RateLimitWait(limiter)  # a free slot: no sleep
            yield RateLimitPenalty(limiter, 30.0)

        SyncExecutor(FakeHook(clock)).run(waits())
        assert clock.sleeps == [1.0, 2.5]
        assert limiter.penalties == [30.0]

    def test_lock_unlock_offload_and_mask(self, monkeypatch):
        masked: list[str] = []
        monkeypatch.setattr("airflow_provider_esign.hooks.transport.mask", masked.append)
        lock = CREDENTIALS.thread_lock("sync-identity")
        states = []

        def guarded():
            yield Lock("sync-identity")
            states.append(lock.locked())
            try:
                value = yield Offload(lambda: threading.get_ident())
                yield Mask(("token-1", "key-2"))
                return value
            finally:
                yield Unlock("sync-identity")

        assert SyncExecutor(FakeHook()).run(guarded()) == threading.get_ident()  # blocking: called in place
        assert states == [True] and not lock.locked()
        assert masked == ["token-1", "key-2"]

    def test_resolve_gives_addresses_and_nothing_for_a_name_that_does_not_resolve(self, monkeypatch):
        def lookup():
            return (yield Resolve("127.0.0.1"))

        assert SyncExecutor(FakeHook()).run(lookup()) == ["127.0.0.1"]

        def no_dns(*args, **kwargs):
            raise socket.gaierror("Name or service not known")

        monkeypatch.setattr(socket, "getaddrinfo", no_dns)
        assert SyncExecutor(FakeHook()).run(lookup()) == []

    def test_a_real_server_that_never_answers_times_out_at_the_requests_cap(self, silent_server):
        capped = ApiRequest("GET", silent_server, operation="get_document", max_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ESignTransportError) as excinfo:
            SyncExecutor(FakeHook(timeout=(30.0, 30.0))).run(one_send(capped, silent_server))
        assert time.monotonic() - started < 10  # the 0.3 s cap, not the hook's 30 s
        assert excinfo.value.maybe_processed is True  # the request was sent: it may have arrived

    def test_a_refused_connection_is_known_not_to_have_arrived(self, closed_port):
        with pytest.raises(ESignTransportError) as excinfo:
            SyncExecutor(FakeHook()).run(one_send(GET, closed_port))
        assert excinfo.value.maybe_processed is False


class FakeLimiter:
    """A rate limiter with scripted delays, recording penalties (blocking and async)."""

    def __init__(self, delays=()) -> None:
        self.delays = list(delays)
        self.penalties: list[float] = []

    def reserve(self) -> float:
        return self.delays.pop(0)

    async def areserve(self) -> float:
        return self.reserve()

    def penalize(self, seconds: float) -> None:
        self.penalties.append(seconds)

    async def apenalize(self, seconds: float) -> None:
        self.penalize(seconds)


class TestAsyncExecutor:
    async def test_each_hooks_timeout_reaches_the_shared_client(self, async_transport):
        seen, _ = async_transport
        await AsyncExecutor(FakeHook(timeout=(3.0, 7.0))).run(one_send(GET))
        await AsyncExecutor(FakeHook(timeout=(1.0, 2.0))).run(one_send(GET))
        timeouts = [request.extensions["timeout"] for request in seen]
        assert [(t["connect"], t["read"]) for t in timeouts] == [(3.0, 7.0), (1.0, 2.0)]

    async def test_a_capped_request_gets_its_own_shorter_timeout(self, async_transport):
        seen, _ = async_transport
        capped = ApiRequest("GET", "documents", operation="refresh", max_timeout=2.0)
        await AsyncExecutor(FakeHook()).run(one_send(capped))
        assert (seen[0].extensions["timeout"]["connect"], seen[0].extensions["timeout"]["read"]) == (2.0, 2.0)

    async def test_the_shared_client_is_per_loop_and_keeps_no_timeout_of_its_own(self):
        client = transport._async_client()
        assert transport._async_client() is client  # shared by every hook of the loop
        try:
            assert client.timeout == httpx.Timeout(5.0)  # httpx's default: every request passes its own
            assert client.follow_redirects is False
        finally:
            await client.aclose()

    def test_the_shared_client_takes_no_timeout_so_a_test_double_cannot_drop_one(self):
        """Tests replace ``_async_client`` with ``lambda: client``; the timeout is never the client's
        to keep (it travels with each request), so such a double cannot lose it."""
        assert inspect.signature(transport._async_client).parameters == {}

    async def test_a_redirect_is_handed_to_the_pipeline_not_followed(self, async_transport):
        seen, answers = async_transport
        answers.append(httpx.Response(302, headers={"Location": "http://elsewhere.test/"}))
        response = await AsyncExecutor(FakeHook()).run(one_send(GET))
        assert response.status_code == 302 and len(seen) == 1

    async def test_a_streamed_body_is_read_in_chunks_and_closed(self, async_transport):
        seen, answers = async_transport
        answers.append(httpx.Response(200, content=b"0123456789"))
        log: list = []
        response = await AsyncExecutor(FakeHook()).run(streamed(API + "file.pdf", 4, log))
        assert log == [b"0123", b"4567", b"89", "closed"]
        assert response.stream.response.is_closed
        assert seen[0].extensions["timeout"]["read"] == HOOK_TIMEOUT[1]

    @pytest.mark.parametrize(
        ("error", "maybe_processed"),
        [
            (httpx.ConnectError("refused"), False),
            (httpx.ConnectTimeout("connect timed out"), False),
            (httpx.ReadTimeout("read timed out"), True),
            (httpx.RemoteProtocolError("server disconnected"), True),
        ],
    )
    async def test_a_transport_failure_is_thrown_into_the_pipeline_and_says_if_it_may_have_arrived(
        self, async_transport, error, maybe_processed
    ):
        _, answers = async_transport
        answers.append(error)
        log: list = []
        with pytest.raises(ESignTransportError) as excinfo:
            await AsyncExecutor(FakeHook()).run(one_send(GET, log=log))
        assert log == ["finally"]
        assert excinfo.value.maybe_processed is maybe_processed

    async def test_cancellation_runs_the_pipelines_finally_and_releases_its_lock(self):
        log: list = []

        def holds_the_lock():
            yield Lock("async-identity")
            try:
                yield Sleep(3600)  # cancelled long before
            finally:
                yield Unlock("async-identity")
                log.append("finally")

        task = asyncio.create_task(AsyncExecutor(FakeHook()).run(holds_the_lock()))
        lock = CREDENTIALS.async_lock("async-identity")
        while not lock.locked():
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert log == ["finally"]
        assert not lock.locked()

    async def test_rate_limit_offload_and_mask(self, monkeypatch):
        masked: list[str] = []

        async def amask(secret):
            masked.append(secret)

        monkeypatch.setattr("airflow_provider_esign.hooks.transport.amask", amask)
        limiter = FakeLimiter(delays=[0.0])

        def effects():
            yield RateLimitWait(limiter)
            yield RateLimitPenalty(limiter, 12.0)
            thread = yield Offload(threading.get_ident)
            yield Mask(("token-1",))
            return thread

        thread = await AsyncExecutor(FakeHook()).run(effects())
        assert thread != threading.get_ident()  # the blocking call ran in a worker thread
        assert limiter.penalties == [12.0] and limiter.delays == []
        assert masked == ["token-1"]

    async def test_resolve_gives_addresses(self):
        def lookup():
            return (yield Resolve("127.0.0.1"))

        assert await AsyncExecutor(FakeHook()).run(lookup()) == ["127.0.0.1"]

    async def test_a_real_server_that_never_answers_times_out_at_the_requests_cap(self, silent_server):
        capped = ApiRequest("GET", silent_server, operation="get_document", max_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(ESignTransportError) as excinfo:
            await AsyncExecutor(FakeHook(timeout=(30.0, 30.0))).run(one_send(capped, silent_server))
        assert time.monotonic() - started < 10  # the 0.3 s cap, not the hook's 30 s
        assert excinfo.value.maybe_processed is True
        await transport._async_client().aclose()

    async def test_a_refused_connection_is_known_not_to_have_arrived(self, closed_port):
        with pytest.raises(ESignTransportError) as excinfo:
            await AsyncExecutor(FakeHook()).run(one_send(GET, closed_port))
        assert excinfo.value.maybe_processed is False
        await transport._async_client().aclose()
