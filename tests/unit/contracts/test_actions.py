"""The Contracts page's actions: a confirmed body, the sender's DAG edit permission, what the vendor
offers, an audit log entry for every attempt, the hook closed (fakes for the store, hook and session)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_provider_esign.contracts.actions import ActionRefused, Actions, parse_body
from airflow_provider_esign.contracts.records import Record
from airflow_provider_esign.models import DocumentInfo, DocumentStatus


@pytest.mark.parametrize(
    ("action", "body", "options"),
    [
        ("remind", {"confirm": True}, {}),
        ("remind", {"confirm": True, "signer_email": "a@x.io"}, {"signer_email": "a@x.io"}),
        ("cancel", {"confirm": True, "notify": 1}, {"notify": True}),
        ("cancel", {"confirm": True}, {"notify": False}),
    ],
)
def test_a_confirmed_body(action, body, options):
    assert parse_body(action, body) == options


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([], "Invalid body"),
        ({}, "Invalid confirm: must be true to remind"),
        ({"confirm": "yes"}, "Invalid confirm"),
        ({"confirm": True, "signer_email": "nobody"}, "Invalid signer_email"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(body, detail):
    with pytest.raises(ActionRefused) as excinfo:
        parse_body("remind", body)
    assert excinfo.value.status_code == 400 and excinfo.value.detail.startswith(detail)


RECORD = Record((1, "send", -1), "onboarding", "run-1", "send", -1, dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc),
                {"conn_id": "esb", "document_id": "d-1", "vendor": "esignbase"})  # fmt: skip


class Store:
    def __init__(self, records=(RECORD,)) -> None:
        self.records = list(records)

    def find(self, conn_id, document_id, session):
        return [r for r in self.records if (r.conn_id, r.document_id) == (conn_id, document_id)]


class Cache:
    def __init__(self) -> None:
        self.updates: list = []

    def update(self, conn_id, document):
        self.updates.append((conn_id, document.status))


class Hook:
    hook_name = "eSignBase"
    supports_reminders = True
    supports_cancel = True

    def __init__(self, fail=False) -> None:
        self.fail = fail
        self.calls: list = []
        self.closed = False

    def send_reminder(self, document_id, signer_email):
        if self.fail:
            raise RuntimeError("vendor down")
        self.calls.append(("remind", document_id, signer_email))
        return ["s-1", "s-2"]

    def cancel_document(self, document_id, notify):
        self.calls.append(("cancel", document_id, notify))

    def get_document(self, document_id):
        return DocumentInfo(document_id, "esignbase", "NDA", DocumentStatus.VOIDED, "VOIDED")

    def close(self):
        self.closed = True


class Session:
    def __init__(self) -> None:
        self.logged: list = []

    def add(self, entry):
        self.logged.append((entry.event, entry.owner, entry.dag_id, json.loads(entry.extra)))

    def commit(self):
        pass


def actions(hook, may_edit=True, store=None, cache=None):
    return Actions(
        store or Store(),
        cache or Cache(),
        lambda user, dag_id: may_edit,
        lambda user: "ann",
        lambda conn_id: hook,
    )


def test_a_reminder_is_audited_sent_and_the_row_updated():
    hook, cache, session = Hook(), Cache(), Session()
    result = actions(hook, cache=cache).perform(
        "remind", "esb", "d-1", {"signer_email": None}, "user", session
    )
    assert result == {"document_id": "d-1", "action": "remind", "reminded": 2}
    assert hook.calls == [("remind", "d-1", None)] and hook.closed
    assert cache.updates == [("esb", DocumentStatus.VOIDED)]
    ((event, owner, dag_id, extra),) = session.logged
    assert (event, owner, dag_id, extra["document_id"]) == (
        "esign_contracts_remind",
        "ann",
        "onboarding",
        "d-1",
    )


def test_an_unknown_document_is_404_and_a_user_who_may_not_edit_the_dag_403():
    with pytest.raises(ActionRefused) as unknown:
        actions(Hook()).perform("cancel", "esb", "d-404", {}, "user", Session())
    assert unknown.value.status_code == 404
    hook, session = Hook(), Session()
    with pytest.raises(ActionRefused) as refused:
        actions(hook, may_edit=False).perform("cancel", "esb", "d-1", {}, "user", session)
    assert refused.value.status_code == 403 and "'onboarding'" in refused.value.detail
    assert hook.calls == [] and session.logged == []


def test_what_the_vendor_does_not_offer_is_409():
    hook = Hook()
    hook.supports_cancel = False
    with pytest.raises(ActionRefused) as excinfo:
        actions(hook).perform("cancel", "esb", "d-1", {"notify": False}, "user", Session())
    assert excinfo.value.status_code == 409 and hook.closed and hook.calls == []


def test_a_vendor_failure_is_502_and_audited_as_failed():
    hook, session = Hook(fail=True), Session()
    with pytest.raises(ActionRefused) as excinfo:
        actions(hook).perform("remind", "esb", "d-1", {}, "user", session)
    assert excinfo.value.status_code == 502 and "vendor down" in excinfo.value.detail
    assert [event for event, *_ in session.logged] == [
        "esign_contracts_remind",
        "esign_contracts_remind_failed",
    ]
    assert hook.closed


def test_an_unusable_connection_is_502_and_audited():
    def broken(conn_id):
        raise ValueError("connection esb is gone")

    session = Session()
    with pytest.raises(ActionRefused) as excinfo:
        Actions(Store(), Cache(), lambda u, d: True, lambda u: "ann", broken).perform(
            "cancel", "esb", "d-1", {}, "u", session
        )
    assert excinfo.value.status_code == 502
    assert session.logged[0][0] == "esign_contracts_cancel_failed"
