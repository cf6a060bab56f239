"""Cancelling a document and reminding its signers, with a scripted hook (real DAG runs: tests/e2e)."""

from __future__ import annotations

import logging

from airflow_provider_esign.models import ReminderResult
from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator


class Hook:
    vendor = "legalesign"

    def __init__(self, reminded=("signer-1",), reason=None) -> None:
        self.calls: list = []
        self.result = ReminderResult(list(reminded), reason)
        self.closed = False

    def cancel_document(self, document_id, *, notify):
        self.calls.append(("cancel", document_id, notify))

    def remind_signers(self, document_id, signer_email, text):
        self.calls.append(("remind", document_id, signer_email, text))
        return self.result

    def close(self):
        self.closed = True


def with_hook(operator, hook):
    operator.get_hook = lambda: hook
    return operator


def test_cancel_passes_notify_and_returns_the_document_id():
    hook = Hook()
    operator = with_hook(
        CancelDocumentOperator(task_id="cancel", conn_id="c", document_id=17, notify=True), hook
    )
    assert operator.execute({}) == "17"
    assert hook.calls == [("cancel", "17", True)]
    assert hook.closed


def test_a_reminder_returns_who_was_reminded():
    hook = Hook(reminded=["s-1", "s-2"])
    operator = SendReminderOperator(
        task_id="remind", conn_id="c", document_id="d-1", signer_email="a@x.io", text="Please"
    )
    assert with_hook(operator, hook).execute({}) == {
        "document_id": "d-1",
        "reminded": ["s-1", "s-2"],
        "reason": None,
    }
    assert hook.calls == [("remind", "d-1", "a@x.io", "Please")]


def test_a_reminder_that_reaches_nobody_succeeds_with_the_reason_as_a_warning(caplog, capsys):
    hook = Hook(reminded=[], reason="every signer has signed (2 of 2)")
    operator = with_hook(SendReminderOperator(task_id="remind", conn_id="c", document_id="d-1"), hook)
    with caplog.at_level(logging.WARNING):
        result = operator.execute({})
    assert result["reminded"] == [] and result["reason"] == "every signer has signed (2 of 2)"
    assert "Reminded nobody of document d-1: every signer has signed" in caplog.text + capsys.readouterr().out


def test_the_document_id_and_texts_are_templated():
    assert set(CancelDocumentOperator.template_fields) == {"conn_id", "document_id"}
    assert set(SendReminderOperator.template_fields) == {"conn_id", "document_id", "signer_email", "text"}
