"""Exactly one document per intended send, through ambiguous create failures and task retries."""

from __future__ import annotations

import pytest
import requests

from airflow_provider_esign.exceptions import ESignTransportError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.models import SendRequest, Signer
from airflow_provider_esign.operators.send import SendDocumentOperator
from tests.reliability.conftest import FakeTI, fake_context

VENDORS = ("legalesign", "wesignature", "esignbase")
CREATE = {  # (method, path) of each vendor's create call
    "legalesign": ("POST", "/api/v1/document/"),
    "wesignature": ("POST", "senddocumentapi"),
    "esignbase": ("POST", "/api/document"),
}
SOURCES = {
    "legalesign": {"template_id": None, "file": None},  # filled in by the fixture (an uploaded PDF)
    "wesignature": {"file": "https://files.example.com/once/contract-{vendor}.pdf"},
    "esignbase": {"template_id": "tpl-nda"},
}
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "create_settle_seconds": 0.2}


class StateStore:
    """Airflow 3.3's task state store, as the operator sees it (survives a crashed try)."""

    def __init__(self) -> None:
        self.values: dict = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value, retention=None):
        self.values[key] = value

    def delete(self, key):
        self.values.pop(key, None)


def send_operator(sandbox, vendor: str, **hook_params) -> SendDocumentOperator:
    source = dict(SOURCES[vendor])
    if vendor == "legalesign":
        source = {"file": str(sandbox.sample_pdf)}
    elif vendor == "wesignature":
        source = {"file": source["file"].format(vendor=vendor)}
    return SendDocumentOperator(
        task_id="send",
        conn_id=f"{vendor}_default",
        document_name="Exactly once",
        signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
        hook_params={**FAST, **hook_params},
        **source,
    )


@pytest.fixture
def once_sandbox(sandbox):
    from tests.dags.esign_reliability import PDF

    sandbox.sample_pdf = PDF
    return sandbox


def live_documents(sandbox, vendor: str) -> list[dict]:
    return [d for d in sandbox.documents(vendor) if not d["deleted"]]


@pytest.mark.e2e
@pytest.mark.parametrize("with_state_store", [True, False], ids=["airflow-3.3", "airflow-before-3.3"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_try_that_died_after_the_create_is_adopted_by_the_retry(once_sandbox, vendor, with_state_store):
    """Try 1's create is committed but its answer lost and the try gives up (one attempt); try 2 —
    same task instance, ``try_number`` 2 — adopts that document instead of sending another."""
    sandbox = once_sandbox
    method, path = CREATE[vendor]
    sandbox.queue_fault("drop_after_commit", vendor=vendor, path_contains=path, method=method)
    store = StateStore()
    extra = {"task_state_store": store} if with_state_store else {}
    with pytest.raises(ESignTransportError):
        send_operator(sandbox, vendor, max_attempts=1).execute(fake_context(FakeTI("send"), **extra))
    assert len(live_documents(sandbox, vendor)) == 1  # created, answer lost

    retry = send_operator(sandbox, vendor).execute(fake_context(FakeTI("send", try_number=2), **extra))
    assert [d["id"] for d in live_documents(sandbox, vendor)] == [retry]
    if with_state_store:
        assert store.values["document_id"] == retry


ESIGNBASE = "https://esignbase.invalid"


class SlowVendor:
    """An eSignBase whose first create fails for the client but is committed ``commit_after``
    seconds later (hook clock), as when the client times out or a gateway gives up (504)."""

    def __init__(self, requests_mock, clock, first_failure: str, commit_after: float) -> None:
        self.clock, self.first_failure, self.commit_after = clock, first_failure, commit_after
        self.documents: list[dict] = []  # (committed) documents with their commit time
        self.refused = False
        requests_mock.post(f"{ESIGNBASE}/oauth2/token", json={"access_token": "t-1"})
        requests_mock.get(f"{ESIGNBASE}/api/template/tpl-nda", json={"form_role_names": ["signee_1"]})
        requests_mock.post(f"{ESIGNBASE}/api/document", json=self.create)
        requests_mock.get(f"{ESIGNBASE}/api/documents", json=self.listing)

    def create(self, request, context):
        body = request.json()
        first = not self.documents and not self.refused
        if first and self.first_failure == "503":  # refused at the door: nothing is created
            self.refused = True
            context.status_code = 503
            return {"error": "unavailable"}
        document = {
            "id": f"doc-{len(self.documents) + 1}",
            "status": "SENT",
            "user_defined_metadata": body.get("user_defined_metadata", {}),
            "visible_at": self.clock.now + (self.commit_after if first else 0),
        }
        self.documents.append(document)
        if first and self.first_failure == "timeout":
            raise requests.exceptions.ReadTimeout("read timed out")
        if first:
            context.status_code = int(self.first_failure)
            return {"error": "gateway"}
        return {"document_id": document["id"], "status": "SENT"}

    def listing(self, request, context):
        visible = [d for d in self.documents if d["visible_at"] <= self.clock.now]
        return {"documents": visible, "count": len(visible)}


def send_with(make_connection, clock, **hook_params):
    make_connection("esignbase_slow", "esignbase", host=ESIGNBASE, login="id", password="secret-value")
    hook = ESignBaseHook("esignbase_slow", sleep=clock.sleep, clock=clock, **hook_params)
    request = SendRequest(
        name="Contract", signers=(Signer("Ada Lovelace", "ada@example.com"),), template_id="tpl-nda"
    )
    return hook.send_document(request, idempotency_key="af-key-1")


@pytest.mark.parametrize("failure", ["timeout", "504", "502"])
def test_create_still_running_at_the_vendor_is_not_sent_twice(make_connection, requests_mock, clock, failure):
    """The first lookup after the failure finds nothing (the vendor commits 5 s later): the hook
    waits ``create_settle_seconds`` (default 30 s) and looks again instead of sending a second one."""
    vendor = SlowVendor(requests_mock, clock, failure, commit_after=5.0)
    document = send_with(make_connection, clock)
    assert document.document_id == "doc-1"
    assert len(vendor.documents) == 1
    assert 30.0 in clock.sleeps


def test_without_settling_the_race_sends_twice(make_connection, requests_mock, clock):
    """The control: with ``create_settle_seconds=0`` the same vendor ends up with two documents."""
    vendor = SlowVendor(requests_mock, clock, "timeout", commit_after=5.0)
    send_with(make_connection, clock, create_settle_seconds=0)
    assert len(vendor.documents) == 2


def test_vendor_answered_error_is_resent_without_settling(make_connection, requests_mock, clock):
    """A 503 is an answer (nothing is still running): one lookup, then the create is sent again."""
    vendor = SlowVendor(requests_mock, clock, "503", commit_after=5.0)
    document = send_with(make_connection, clock)
    assert 30.0 not in clock.sleeps
    assert vendor.refused and [d["id"] for d in vendor.documents] == [document.document_id]
