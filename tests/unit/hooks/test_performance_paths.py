"""Performance fixes of issue 6 that have a functional contract (their speed is a benchmark figure).

* eSignBase: the template's roles are read once per process and template for a few minutes, not before
  every send; a rejected create forgets them.
* Async HTTP: the provider's concurrent requests per event loop are bounded by a semaphore, so they never
  queue inside httpcore's pool (whose bookkeeping is quadratic in queued requests).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from airflow_provider_esign.exceptions import ESignBadRequestError
from airflow_provider_esign.hooks.api import ApiRequest
from airflow_provider_esign.hooks.effects import Send
from airflow_provider_esign.hooks.esignbase import TEMPLATE_ROLES_TTL, ESignBaseHook
from airflow_provider_esign.hooks.pipeline import resolve_url
from airflow_provider_esign.hooks.transport import ASYNC_MAX_CONNECTIONS, AsyncExecutor
from airflow_provider_esign.models import SendRequest, Signer

BASE = "https://esignbase.test"


@pytest.fixture
def connection(make_connection):
    def make(conn_id: str = "esignbase_default", client_id: str = "client-id") -> str:
        return make_connection(
            conn_id, "esignbase", host=BASE, login=client_id, password="client-secret-value", sandbox=True
        )

    return make


@pytest.fixture
def vendor(requests_mock):
    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token-1"})
    template = requests_mock.get(
        f"{BASE}/api/template/tpl-1", json={"id": "tpl-1", "form_role_names": ["signee_1"]}
    )
    create = requests_mock.post(f"{BASE}/api/document", json={"document_id": "new", "status": "DRAFT"})
    return template, create


def send_request(name: str = "Contract") -> SendRequest:
    return SendRequest(name=name, signers=(Signer("John Doe", "john@example.com"),), template_id="tpl-1")


def test_template_roles_are_read_once_for_many_sends(connection, vendor, clock):
    template, create = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    for i in range(5):
        hook.send_document(send_request(f"Contract {i}"), idempotency_key=f"k{i}")
    other = ESignBaseHook(sleep=clock.sleep, clock=clock)  # another task in the same process
    other.send_document(send_request(), idempotency_key="k5")
    assert template.call_count == 1
    assert create.call_count == 6
    assert all(r.json()["recipients"][0]["role_name"] == "signee_1" for r in create.request_history)


def test_template_roles_expire(connection, vendor, clock):
    template, _ = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    hook.send_document(send_request())
    clock.now += TEMPLATE_ROLES_TTL + 1
    hook.send_document(send_request())
    assert template.call_count == 2


def test_template_roles_are_cached_per_credentials(connection, vendor, clock):
    template, _ = vendor
    connection("esignbase_default", "client-a")
    connection("esignbase_other", "client-b")
    ESignBaseHook(sleep=clock.sleep, clock=clock).send_document(send_request())
    ESignBaseHook("esignbase_other", sleep=clock.sleep, clock=clock).send_document(send_request())
    assert template.call_count == 2


def test_rejected_create_forgets_the_roles(connection, vendor, requests_mock, clock):
    template, _ = vendor
    connection()
    hook = ESignBaseHook(sleep=clock.sleep, clock=clock)
    hook.send_document(send_request())
    requests_mock.post(f"{BASE}/api/document", status_code=400, json={"message": "role_name unknown"})
    with pytest.raises(ESignBadRequestError):
        hook.send_document(send_request())
    requests_mock.post(f"{BASE}/api/document", json={"document_id": "new-2", "status": "DRAFT"})
    hook.send_document(send_request())
    assert template.call_count == 2  # read again after the rejection


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


def test_get_hook_reads_the_connection_once(make_connection, monkeypatch):
    """A mapped task builds one hook per task: the connection lookup that picks the hook class is
    the one its settings come from (before: two lookups per task)."""
    from airflow.sdk import BaseHook

    from airflow_provider_esign.hooks import get_hook

    make_connection("once", "wesignature", host="https://wesig.invalid/apihandler/", user_id="u", api_key="k")
    reads = []
    original = BaseHook.get_connection.__func__

    def counting(cls, conn_id):
        reads.append(conn_id)
        return original(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(counting))
    hook = get_hook("once")
    assert hook.settings.base_url == "https://wesig.invalid/apihandler/"
    assert reads == ["once"]
