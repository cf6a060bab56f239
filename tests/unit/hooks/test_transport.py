"""Large responses are handed to the flow (and parsed) off the event loop; small ones stay on it."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest

from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.pipeline import Send
from airflow_provider_esign.hooks.transport import ASYNC_MAX_CONNECTIONS, OFF_LOOP_BYTES, AsyncExecutor, _Step


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


BASE = "https://esignbase.test"


@pytest.fixture
def connection(make_connection):
    def make(conn_id: str = "esignbase_default", client_id: str = "client-id") -> str:
        return make_connection(
            conn_id, "esignbase", host=BASE, login=client_id, password="client-secret-value", sandbox=True
        )

    return make


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
                executor.perform(Send(request, hook._url(settings, request.path)))
                for _ in range(3 * ASYNC_MAX_CONNECTIONS)
            )
        )
    finally:
        await client.aclose()
    assert [r.status_code for r in responses] == [200] * (3 * ASYNC_MAX_CONNECTIONS)
    assert peak == ASYNC_MAX_CONNECTIONS  # concurrent up to the bound, never beyond
