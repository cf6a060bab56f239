"""What the webhook endpoint costs an unauthenticated caller, and how it answers when our side fails.

Deliveries go through the real FastAPI app and the real vendor hooks against the sandbox; vendor calls
are counted in the sandbox's request journal, rate-limit waits at the hooks' injected sleep.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

import pytest

from airflow_provider_esign.webhooks import (
    WEBHOOK_HOOK_PARAMS,
    WebhookReceiver,
    WebhookTokenFilter,
    create_app,
)
from esign_sandbox.credentials import LEGALESIGN_WEBHOOK_TOKEN
from tests.unit import test_webhooks as shared
from tests.unit.test_webhooks import CountingHooks, completed, legalesign_event

# The metadata DB and the completed-documents asset, as the receiver's own tests set them up.
airflow_db = shared.airflow_db
asset = shared.asset

#: Six calls a minute: one slot every 10.1 s, far longer than any of these tests runs.
PER_MINUTE = 6


@pytest.fixture
def limited(esign_sandbox_clean, monkeypatch, tmp_path):
    """Connections on the sandbox with a real (local) rate limit and a schedule of their own."""
    esign_sandbox_clean.configure(sign_delay=None, send_delay=0, pdf_delay=0)
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_DIR", str(tmp_path / "ratelimit"))
    for name, value in esign_sandbox_clean.airflow_connections(rate_limit_per_minute=PER_MINUTE).items():
        monkeypatch.setenv(name, value)
    return esign_sandbox_clean


def _client(receiver):
    from fastapi.testclient import TestClient

    return TestClient(create_app(receiver))


def _dag_hook(sleeps):
    """A hook as a task would build it (default retries), with rate-limit waits recorded, not slept."""
    from airflow_provider_esign.hooks import get_hook

    return get_hook("legalesign_default", sleep=sleeps.append)


def test_20_concurrent_unauthenticated_deliveries_cost_no_vendor_call_and_delay_nobody(limited, asset):
    hooks = CountingHooks()
    client = _client(WebhookReceiver(get_hook=hooks))
    document_id = completed(limited, "legalesign")
    limited.clear_requests()
    sleeps: list[float] = []
    read: list[str] = []
    start = threading.Barrier(21)
    answers: list[int] = []

    def forge(n):
        start.wait()
        params = {} if n % 2 else {"token": f"guess-{n}"}
        body = legalesign_event(str(uuid.uuid4()) if n % 3 else document_id)
        answers.append(client.post("/webhooks/legalesign_default", params=params, json=body).status_code)

    def real_call():
        start.wait()
        read.append(_dag_hook(sleeps).get_document(document_id).status.value)

    threads = [threading.Thread(target=forge, args=(n,)) for n in range(20)]
    threads.append(threading.Thread(target=real_call))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [401] * 20
    assert read == ["COMPLETED"]
    # Counted at the vendor: the real read is the only call; no forgery took a slot or a thread's sleep.
    journal = limited.requests(vendor="legalesign")
    assert [e["path"] for e in journal] == [f"/legalesign/api/v1/document/{document_id}/"]
    assert hooks.reads == [] and hooks.sleeps == []
    assert sleeps == []  # the DAG's call found its slot free: nothing queued ahead of it


def test_a_verified_delivery_never_waits_for_or_books_a_rate_limit_slot(limited, asset):
    hooks = CountingHooks()
    client = _client(WebhookReceiver(get_hook=hooks))
    document_id = completed(limited, "legalesign")
    sleeps: list[float] = []
    dag_hook = _dag_hook(sleeps)
    dag_hook.get_document(document_id)  # the budget's slot for the next 10 s is now taken
    limited.clear_requests()

    response = client.post(
        "/webhooks/legalesign_default",
        params={"token": LEGALESIGN_WEBHOOK_TOKEN},
        json=legalesign_event(document_id),
    )
    assert response.status_code == 503
    assert 1 <= int(response.headers["Retry-After"]) <= 11  # when a slot frees: the vendor redelivers then
    assert limited.requests() == [] and hooks.sleeps == []  # no call made, no thread put to sleep
    # Nothing was booked ahead: the DAG's next call waits for the next slot, not the one after it.
    dag_hook.get_document(document_id)
    interval = 60 / PER_MINUTE * 1.01
    assert len(sleeps) == 1 and 0 < sleeps[0] <= interval


def test_a_verified_delivery_with_a_free_slot_is_recorded(limited, asset):
    hooks = CountingHooks()
    client = _client(WebhookReceiver(get_hook=hooks))
    document_id = completed(limited, "legalesign")
    response = client.post(
        "/webhooks/legalesign_default",
        params={"token": LEGALESIGN_WEBHOOK_TOKEN},
        json=legalesign_event(document_id),
    )
    assert response.status_code == 200 and response.json()["status"] == "recorded"
    assert hooks.reads == [document_id] and hooks.sleeps == []


def test_webhook_hook_params_make_one_attempt():
    assert WEBHOOK_HOOK_PARAMS["max_attempts"] == 1


# ------------------------------------------------------------------------------------------ lookup failures
class _DatabaseDown(Exception):
    pass


def test_a_failing_connection_lookup_answers_503_so_the_vendor_redelivers(limited, asset):
    def lookup(conn_id):
        raise _DatabaseDown("could not connect to server: Connection refused")

    client = _client(WebhookReceiver(get_connection=lookup))
    response = client.post("/webhooks/esignbase_default", json={"document_id": "abc"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "refused" not in response.text


def test_a_secrets_backend_outage_is_not_mistaken_for_a_missing_connection(limited, asset, monkeypatch):
    """Airflow's own lookup logs a backend that raised and reports "not found"; the receiver must not."""
    from airflow.sdk.execution_time import supervisor

    class BrokenBackend:
        def get_connection(self, conn_id):
            raise _DatabaseDown("metadata database unreachable")

    monkeypatch.setattr(supervisor, "ensure_secrets_backend_loaded", lambda: [BrokenBackend()])
    client = _client(WebhookReceiver())
    body = {"document_id": "abc"}
    assert client.post("/webhooks/esignbase_default", json=body).status_code == 503

    class EmptyBackend:
        def get_connection(self, conn_id):
            return None

    monkeypatch.setattr(supervisor, "ensure_secrets_backend_loaded", lambda: [EmptyBackend()])
    assert client.post("/webhooks/esignbase_default", json=body).status_code == 404  # really missing


# ------------------------------------------------------------------------------------------ access log
def test_the_legalesign_token_is_redacted_from_access_logs(caplog):
    from airflow_provider_esign import plugins  # noqa: F401 - installs the filter, as the API server does

    logger = logging.getLogger("uvicorn.access")
    assert any(isinstance(f, WebhookTokenFilter) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.1:5000",
            "POST",
            f"/esign/webhooks/legalesign_default?a=1&token={LEGALESIGN_WEBHOOK_TOKEN}&b=2",
            "1.1",
            200,
        )
        logger.info("GET /api/v2/dags?token=unrelated")
    assert LEGALESIGN_WEBHOOK_TOKEN not in caplog.text
    assert "/esign/webhooks/legalesign_default?a=1&token=***&b=2" in caplog.text
    assert "token=unrelated" in caplog.text  # other routes are not this filter's business


def test_sandbox_journals_subscribed_webhook_urls_without_their_token(esign_connections):
    from airflow_provider_esign.hooks import get_hook

    hook = get_hook("legalesign_default", rate_limit_per_minute=0)
    url = f"http://127.0.0.1:9/esign/webhooks/legalesign_default?token={LEGALESIGN_WEBHOOK_TOKEN}"
    hook.subscribe_webhook(url)
    text = json.dumps(esign_connections.requests(vendor="legalesign"))
    assert LEGALESIGN_WEBHOOK_TOKEN not in text and "token=***" in text


def test_unknown_connection_ids_cost_the_secrets_backends_once_a_minute(limited, asset):
    """Random connection ids from an unauthenticated caller must not spend a paid secrets backend's
    quota: a miss is remembered for a minute, and an id Airflow could never store is not looked up."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    lookups: list[str] = []
    now = [1000.0]

    def lookup(conn_id):
        lookups.append(conn_id)
        raise AirflowNotFoundException(conn_id)

    client = _client(WebhookReceiver(get_connection=lookup, clock=lambda: now[0]))
    for _ in range(20):
        assert client.post("/webhooks/forged_conn", json={"document_id": "abc"}).status_code == 404
    assert lookups == ["forged_conn"]
    assert client.post("/webhooks/" + "x" * 251, json={"document_id": "abc"}).status_code == 404
    assert client.post("/webhooks/bad%20id", json={"document_id": "abc"}).status_code == 404
    assert lookups == ["forged_conn"]  # neither could be a connection id: not looked up
    now[0] += WebhookReceiver.MISS_SECONDS
    assert client.post("/webhooks/forged_conn", json={"document_id": "abc"}).status_code == 404
    assert lookups == ["forged_conn", "forged_conn"]  # asked again once the minute is over
