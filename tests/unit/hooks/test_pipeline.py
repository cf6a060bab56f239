"""The request pipeline and its executors, beyond what the vendor hook tests cover."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_esign.hooks.esignbase import ESignBaseHook

BASE = "https://esignbase.test"
DOC = {"id": "doc-1", "status": "SENT", "recipients": [], "user_defined_metadata": {}}


@pytest.fixture
def hook(make_connection):
    make_connection("esb_pipe", "esignbase", host=BASE, login="client-id", password="client-secret")
    return ESignBaseHook("esb_pipe", rate_limit_per_minute=0)


async def test_a_cancelled_login_releases_the_login_lock(hook, monkeypatch):
    """A trigger cancelled while it logs in must not leave the process's login lock held: the next
    caller logs in and succeeds (the pipeline's finally blocks run on cancellation)."""
    logins: list[str] = []
    release = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth2/token":
            logins.append("token")
            if len(logins) == 1:
                await release.wait()  # the first login hangs until cancelled
            return httpx.Response(200, json={"access_token": f"token-{len(logins)}"})
        return httpx.Response(200, json=DOC)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)
    try:
        first = asyncio.ensure_future(hook.aget_document("doc-1"))
        while not logins:
            await asyncio.sleep(0)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        document = await asyncio.wait_for(ESignBaseHook("esb_pipe").aget_document("doc-1"), timeout=5)
    finally:
        await client.aclose()
    assert document.document_id == "doc-1"
    assert logins == ["token", "token"]


@pytest.mark.parametrize(
    ("location", "keeps_token"),
    [("/api/result?id=7", True), ("https://other.test/api/result?id=7", False)],
    ids=["same-origin", "cross-origin"],
)
def test_a_303_after_a_post_is_fetched_with_get_and_credentials_only_on_the_same_origin(
    hook, requests_mock, location, keeps_token
):
    """The one redirect policy: a 303 turns a POST into a body-less GET; the connection's own origin
    keeps the token, another origin never sees it."""
    from airflow_provider_esign.hooks.api import ApiRequest, single_request

    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token-0"})
    requests_mock.post(f"{BASE}/api/thing", status_code=303, headers={"Location": location})
    target = location if "://" in location else f"{BASE}{location}"
    result = requests_mock.get(target, json={"ok": True})
    request = ApiRequest("POST", "api/thing", operation="make_thing", json={"a": 1}, idempotent=False)

    response = hook.run_flow(single_request(request))

    assert response.json() == {"ok": True}
    redirected = result.last_request
    assert redirected.method == "GET" and redirected.body is None
    assert ("Authorization" in redirected.headers) is keeps_token


async def test_offload_runs_a_blocking_call_off_the_event_loop(hook):
    """A login flow's blocking store call (the eSignBase grant store) never runs on the triggerer's
    event loop: the async executor hands it to a worker thread; the sync executor calls it inline."""
    import threading

    from airflow_provider_esign.hooks.effects import Offload
    from airflow_provider_esign.hooks.transport import AsyncExecutor, SyncExecutor

    def pipeline():
        thread = yield Offload(lambda: threading.get_ident())
        return thread

    loop_thread = threading.get_ident()
    assert await AsyncExecutor(hook).run(pipeline()) != loop_thread
    assert SyncExecutor(hook).run(pipeline()) == loop_thread
