"""The webhook receiver: verification, re-fetch, deduplication and recording into the metadata DB.

Deliveries go through the real FastAPI app (as mounted by the plugin), the real vendor hooks against the
sandbox, and Airflow's asset manager on the test SQLite database.
"""

from __future__ import annotations

import contextlib
import json
import threading

import pytest

from airflow_provider_esign.assets import COMPLETED_DOCUMENTS_NAME, COMPLETED_DOCUMENTS_URI
from airflow_provider_esign.hooks.legalesign.webhooks import webhook_document_id as legalesign_document_id
from airflow_provider_esign.webhooks import (
    WEBHOOK_HOOK_PARAMS,
    AssetEventRecorder,
    WebhookReceiver,
    create_app,
)

SECRET_HEADER = "X-Signature-Secret"


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def asset(airflow_db):
    """The completed-documents asset as a parsed DAG would register it; no events yet."""
    from airflow.models.asset import AssetActive, AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    with create_session() as session:
        model = session.scalar(select(AssetModel).where(AssetModel.uri == COMPLETED_DOCUMENTS_URI))
        if model is None:
            model = AssetModel(name=COMPLETED_DOCUMENTS_NAME, uri=COMPLETED_DOCUMENTS_URI)
            session.add(model)
            session.flush()
            session.add(AssetActive.for_asset(model))
        session.execute(delete(AssetEvent).where(AssetEvent.asset_id == model.id))
        return model.id


def events(asset_id):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(select(AssetEvent.extra).where(AssetEvent.asset_id == asset_id)).all()
        return [json.loads(r) if isinstance(r, str) else r for r in rows]


class CountingHooks:
    """The receiver's hook factory, counting the document re-reads."""

    def __init__(self):
        self.reads: list[str] = []
        self.sleeps: list[float] = []

    def __call__(self, conn_id):
        from airflow_provider_esign.hooks import get_hook

        # The receiver's own retry settings, with the backoff recorded instead of slept.
        hook = get_hook(conn_id, **WEBHOOK_HOOK_PARAMS, sleep=self.sleeps.append)
        original = hook.get_document

        def get_document(document_id):
            self.reads.append(document_id)
            return original(document_id)

        hook.get_document = get_document
        return hook


@pytest.fixture
def sandbox_delays():
    """Documents are created in their final state here: nothing waits for the sandbox."""
    return {"sign_delay": None, "send_delay": 0, "pdf_delay": 0}


@pytest.fixture
def sandbox_setup():
    return webhook_connections


def webhook_connections(sandbox, monkeypatch) -> None:
    """Two more eSignBase connections: one without a webhook secret, one that did not opt in."""
    no_secret = json.loads(
        sandbox.airflow_connections(vendors=["esignbase"])["AIRFLOW_CONN_ESIGNBASE_DEFAULT"]
    )
    no_secret["extra"].pop("webhook_secret")
    monkeypatch.setenv("AIRFLOW_CONN_ESIGNBASE_NO_SECRET", json.dumps(no_secret))
    disabled = json.loads(
        sandbox.airflow_connections(vendors=["esignbase"])["AIRFLOW_CONN_ESIGNBASE_DEFAULT"]
    )
    disabled["extra"].pop("webhooks_enabled")  # opting in is a deliberate step: absent means off
    monkeypatch.setenv("AIRFLOW_CONN_ESIGNBASE_NO_WEBHOOKS", json.dumps(disabled))


@pytest.fixture
def hooks():
    return CountingHooks()


@pytest.fixture
def client(hooks):
    from fastapi.testclient import TestClient

    return TestClient(create_app(WebhookReceiver(get_hook=hooks)))


@pytest.fixture
def secret(sandbox):
    return sandbox.config()["esignbase_webhook_secret"]


def completed(sandbox, vendor, **kwargs):
    return sandbox.create_document(vendor, name="Supplier agreement", status="completed", **kwargs)["id"]


def esignbase_delivery(client, document_id, secret, conn_id="esignbase_default", **headers):
    if secret is not None:
        headers[SECRET_HEADER] = secret
    body = {"document_id": document_id, "status": "COMPLETED"}
    return client.post(f"/webhooks/{conn_id}", json=body, headers=headers)


def legalesign_event(document_id, *, obj="document", event="finalPdfCreated"):
    data = {"uuid": document_id, "name": "x", "status": 30, "resourceUri": f"/api/v1/document/{document_id}/"}
    if obj == "recipient":
        data = {
            "uuid": "s0",
            "document": document_id,
            "documentResourceUri": f"/api/v1/document/{document_id}/",
        }
    return {"version": "1", "object": obj, "event": event, "id": "evt-1", "created": 1735722000, "data": data}


# ------------------------------------------------------------------------------------------ eSignBase
def test_esignbase_verified_completion_is_recorded_once(sandbox, client, secret, asset, hooks):
    document_id = completed(sandbox, "esignbase", metadata={"contract": "42"})
    response = esignbase_delivery(client, document_id, secret)
    assert response.status_code == 200
    assert response.json() == {"status": "recorded", "document_id": document_id}
    (extra,) = events(asset)
    assert extra["from_webhook"] is True
    assert extra["from_rest_api"] is True  # the UI's Source column shows "API", not an empty link
    payload = extra["payload"]
    assert payload["document_id"] == document_id and payload["vendor"] == "esignbase"
    assert payload["conn_id"] == "esignbase_default" and payload["source"] == "webhook"
    assert payload["metadata"] == {"contract": "42"} and payload["completed_at"]
    assert [s["email"] for s in payload["signers"]] == ["signer@example.com"]
    assert hooks.reads == [document_id]  # the document was re-read before recording

    replay = esignbase_delivery(client, document_id, secret)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert len(events(asset)) == 1
    assert hooks.reads == [document_id]  # an authentic replay costs no API call


@pytest.mark.parametrize(
    ("case", "conn_id", "header"),
    [
        ("missing header", "esignbase_default", None),
        ("wrong secret", "esignbase_default", "not-the-secret"),
        ("secret with a suffix", "esignbase_default", "{secret}x"),
        ("secret prefix", "esignbase_default", "{secret_prefix}"),
        ("empty header", "esignbase_default", ""),
        ("connection without webhook_secret", "esignbase_no_secret", "{secret}"),
    ],
)
def test_unverified_deliveries_get_401_and_record_nothing(
    sandbox, client, secret, asset, hooks, case, conn_id, header, caplog, capsys
):
    document_id = completed(sandbox, "esignbase")
    value = None if header is None else header.format(secret=secret, secret_prefix=secret[:-1])
    response = client.post(
        f"/webhooks/{conn_id}",
        json={"document_id": document_id, "status": "COMPLETED"},
        headers={} if value is None else {SECRET_HEADER: value},
    )
    assert response.status_code == 401, case
    assert response.json() == {"detail": "Webhook could not be verified"}
    assert events(asset) == []
    assert hooks.reads == []  # nothing unverified reaches the vendor API
    output = caplog.text + capsys.readouterr().out + response.text
    assert secret not in output  # neither the stored secret nor a received header is ever echoed
    if value:
        assert value not in output


@pytest.mark.parametrize(
    ("case", "conn_id"),
    [
        ("unknown connection", "nope"),
        ("connection that did not opt in (no webhooks_enabled)", "esignbase_no_webhooks"),
        ("WeSignature has no webhooks", "wesignature_default"),
    ],
)
def test_connections_without_a_webhook_endpoint_answer_404_and_cost_nothing(
    sandbox, client, secret, asset, hooks, case, conn_id
):
    document_id = completed(sandbox, "esignbase")
    sandbox.clear_requests()
    response = esignbase_delivery(client, document_id, secret, conn_id=conn_id)
    assert response.status_code == 404, case
    # One answer for "missing" and "not opted in": connection ids cannot be probed.
    assert response.json() == {"detail": "No webhook endpoint for this connection"}
    assert events(asset) == [] and hooks.reads == []
    assert sandbox.requests() == []  # not one vendor call


def test_the_opt_in_must_be_true(sandbox, client, secret, asset, monkeypatch):
    from airflow_provider_esign.webhooks import webhooks_enabled

    assert webhooks_enabled({"webhooks_enabled": True}) and webhooks_enabled({"webhooks_enabled": "true"})
    for off in ({}, {"webhooks_enabled": False}, {"webhooks_enabled": "false"}, {"webhooks_enabled": 1}):
        assert not webhooks_enabled(off), off


def test_esignbase_document_not_completed_yet_asks_for_a_retry(sandbox, client, secret, asset):
    sandbox.configure(pdf_delay=600)  # signed, the final PDF still being made: the API says SIGNED
    document_id = sandbox.create_document("esignbase", status="signed")["id"]
    response = esignbase_delivery(client, document_id, secret)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    voided = sandbox.create_document("esignbase", status="voided")["id"]
    assert esignbase_delivery(client, voided, secret).status_code == 202
    assert events(asset) == []


def test_vendor_api_failure_records_nothing_and_the_redelivery_succeeds(
    sandbox, client, secret, asset, hooks
):
    document_id = completed(sandbox, "esignbase")
    sandbox.queue_fault("503", vendor="esignbase", path_contains=document_id)
    response = esignbase_delivery(client, document_id, secret)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert hooks.sleeps == []  # one attempt, no backoff: no API-server thread sleeps; the vendor redelivers
    assert events(asset) == []
    assert esignbase_delivery(client, document_id, secret).status_code == 200
    assert len(events(asset)) == 1


def test_malformed_bodies(sandbox, client, secret, asset):
    url = "/webhooks/esignbase_default"
    assert client.post(url, content=b"not json", headers={SECRET_HEADER: secret}).status_code == 400
    assert (
        client.post(url, json={"document_id": "../../x"}, headers={SECRET_HEADER: secret}).status_code == 400
    )
    too_big = b"{" + b" " * (300 * 1024) + b"}"
    assert client.post(url, content=too_big, headers={SECRET_HEADER: secret}).status_code == 413
    assert client.get(url).status_code == 405
    assert events(asset) == []


@pytest.mark.parametrize("conn_id", ["esignbase_default", "legalesign_default", "nope"])
def test_junk_bodies_are_rejected_before_anything_else(sandbox, asset, conn_id):
    from fastapi.testclient import TestClient

    looked_up: list[str] = []

    def lookup(name):
        looked_up.append(name)
        raise AssertionError("a junk body must be answered before the connection lookup")

    app = TestClient(create_app(WebhookReceiver(get_connection=lookup)), raise_server_exceptions=False)
    url = f"/webhooks/{conn_id}"
    nested = app.post(url, content=b"[" * (200 * 1024))  # deeper than Python's JSON parser can recurse
    assert nested.status_code == 400
    assert nested.json() == {"detail": "Body must be a JSON object"}  # clean JSON, no traceback
    for junk in (b"", b"junk", b"[]", b"null", b'"x"', b"\xff\xfe"):
        assert app.post(url, content=junk).status_code == 400, junk
    # Too big: 413 from the declared length, before a byte of the body is read.
    declared = app.post(url, content=b"{}", headers={"Content-Length": str(10 * 1024 * 1024)})
    assert declared.status_code in (400, 413)  # the test client may fix the length; the server never 500s
    assert app.post(url, content=b"{" + b" " * (300 * 1024) + b"}").status_code == 413
    assert looked_up == []


# ------------------------------------------------------------------------------------------ Legalesign
LEGALESIGN_URL = "/webhooks/legalesign_default"


@pytest.fixture
def token():
    from esign_sandbox.credentials import LEGALESIGN_WEBHOOK_TOKEN

    return LEGALESIGN_WEBHOOK_TOKEN


def test_legalesign_is_accepted_only_after_the_refetch_confirms_completion(
    sandbox, client, asset, hooks, token
):
    document_id = completed(sandbox, "legalesign")
    # Authenticated by the token the subscribed URL carries; the undocumented X-Hmac headers are ignored.
    response = client.post(
        LEGALESIGN_URL,
        params={"token": token},
        json=legalesign_event(document_id),
        headers={"X-Hmac-Sha256": "anything"},
    )
    assert response.status_code == 200 and response.json()["status"] == "recorded"
    (extra,) = events(asset)
    assert extra["payload"]["vendor"] == "legalesign" and extra["payload"]["document_id"] == document_id
    assert hooks.reads == [document_id]

    recipient_event = legalesign_event(document_id, obj="recipient", event="completed")
    replay = client.post(LEGALESIGN_URL, params={"token": token}, json=recipient_event)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert len(events(asset)) == 1
    assert hooks.reads == [document_id]  # an authenticated replay costs no API call


def test_legalesign_events_that_are_not_completions(sandbox, client, asset, token):
    unknown = "d0d0d0d0-1111-2222-3333-444455556666"
    response = client.post(LEGALESIGN_URL, params={"token": token}, json=legalesign_event(unknown))
    assert response.status_code == 202 and response.json()["reason"] == "document not found"
    assert client.post(LEGALESIGN_URL, params={"token": token}, json={"event": "x"}).status_code == 400
    sent = sandbox.create_document("legalesign", status="sent")["id"]
    response = client.post(LEGALESIGN_URL, params={"token": token}, json=legalesign_event(sent, event="x"))
    assert response.status_code == 202 and response.json()["status"] == "ignored"
    assert events(asset) == []


@pytest.mark.parametrize("params", [{}, {"token": "forged"}, {"token": ""}, {"secret": "x"}])
def test_unauthenticated_legalesign_deliveries_get_one_uniform_answer_and_cost_nothing(
    sandbox, client, asset, hooks, token, params
):
    completed_id = completed(sandbox, "legalesign")
    sent_id = sandbox.create_document("legalesign", status="sent")["id"]
    sandbox.clear_requests()
    answers = [
        client.post(LEGALESIGN_URL, params=params, json=legalesign_event(doc))
        for doc in (completed_id, sent_id, "d0d0d0d0-1111-2222-3333-444455556666")
    ]
    # Known completed, known sent, unknown: one answer, which says nothing about any document.
    assert {(a.status_code, a.text) for a in answers} == {(401, '{"detail":"Webhook could not be verified"}')}
    assert hooks.reads == [] and sandbox.requests() == [] and events(asset) == []


def test_legalesign_document_ids_from_both_event_kinds():
    assert legalesign_document_id(legalesign_event("abc-1")) == "abc-1"
    assert legalesign_document_id(legalesign_event("abc-1", obj="recipient")) == "abc-1"
    assert legalesign_document_id({"data": {"resourceUri": "/api/v1/document/abc-2/"}}) == "abc-2"
    assert legalesign_document_id({"data": {"uuid": "a b"}}) is None
    assert legalesign_document_id({"data": "x"}) is None


# ------------------------------------------------------------------------------------------ dedup
def test_a_completion_the_watcher_already_announced_is_a_duplicate(sandbox, client, secret, asset):
    from airflow.assets.manager import asset_manager
    from airflow.models.asset import AssetModel
    from airflow.utils.session import create_session

    document_id = completed(sandbox, "esignbase")
    with create_session() as session:
        model = session.get(AssetModel, asset)
        watcher_payload = {"document_id": document_id, "vendor": "esignbase", "source": "watcher"}
        asset_manager.register_asset_change(
            asset=model, extra={"from_trigger": True, "payload": watcher_payload}, session=session
        )
    # A fresh app and receiver: the check reads the database, so it survives API-server restarts.
    from fastapi.testclient import TestClient

    restarted = TestClient(create_app())
    response = esignbase_delivery(restarted, document_id, secret)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert len(events(asset)) == 1
    # Same id at another vendor is another document.
    assert not AssetEventRecorder().is_recorded("legalesign", document_id)


class RacingRecorder(AssetEventRecorder):
    """Holds every delivery between its duplicate check and its insert until all have checked (or a
    short timeout passes): without mutual exclusion all of them would find nothing and insert."""

    arrived = threading.Barrier(4, timeout=0.5)

    def _recorded(self, session, asset_id, vendor, document_id):
        found = super()._recorded(session, asset_id, vendor, document_id)
        with contextlib.suppress(threading.BrokenBarrierError):
            self.arrived.wait()
        return found


def test_concurrent_deliveries_of_one_document_record_it_once(sandbox, secret, asset):
    from fastapi.testclient import TestClient

    document_id = completed(sandbox, "esignbase")
    clients = [TestClient(create_app(WebhookReceiver(recorder=RacingRecorder()))) for _ in range(4)]
    answers: list[str] = []
    start = threading.Barrier(len(clients))

    def deliver(c):
        start.wait()
        answers.append(esignbase_delivery(c, document_id, secret).json()["status"])

    threads = [threading.Thread(target=deliver, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == ["duplicate", "duplicate", "duplicate", "recorded"]
    assert len(events(asset)) == 1


def test_unregistered_asset_answers_503_so_the_vendor_retries(sandbox, client, secret, airflow_db):
    recorder = AssetEventRecorder(uri="esign://nobody-uses-this/", name="nobody")
    from fastapi.testclient import TestClient

    app = TestClient(create_app(WebhookReceiver(recorder=recorder)))
    response = esignbase_delivery(app, completed(sandbox, "esignbase"), secret)
    assert response.status_code == 503


def test_the_connection_forms_offer_the_opt_in_off_by_default():
    from airflow_provider_esign.get_provider_info import get_provider_info

    forms = {c["connection-type"]: c.get("conn-fields", {}) for c in get_provider_info()["connection-types"]}
    for vendor in ("esignbase", "legalesign"):
        field = forms[vendor]["webhooks_enabled"]
        assert field["schema"]["default"] is False and "404" in field["description"]
        assert forms[vendor]["webhook_secret"]["schema"]["format"] == "password"  # masked in the UI
    assert "webhooks_enabled" not in forms["wesignature"]  # no webhooks to opt in to
