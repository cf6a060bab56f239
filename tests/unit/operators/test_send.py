"""SendDocumentOperator against a fake hook (no HTTP). Real DAG runs live in tests/e2e."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from unittest import mock

import pytest

from airflow_provider_esign.exceptions import (
    ESignPermanentError,
    ESignValidationError,
)
from airflow_provider_esign.operators.send import SendDocumentOperator, derive_idempotency_key
from tests.unit.fakes import FakeHook, FakeStateStore, FakeTI, document, send_operator


class TestSendDocumentOperator:
    def test_sends_and_pushes_document_and_link(self):
        hook, ti = FakeHook(), FakeTI()
        op = send_operator(metadata={"crm": "7"})
        with mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook):
            assert op.execute({"ti": ti}) == "new-1"
        request, kwargs = hook.sent[0]
        assert request.signers[0].email == "ann@x.io" and request.metadata == {"crm": "7"}
        assert kwargs["idempotency_key"] == derive_idempotency_key({"ti": ti})
        assert kwargs["adopt_existing"] is False
        assert ti.xcom["document"]["document_id"] == "new-1" and "raw" not in ti.xcom["document"]
        assert ti.xcom["document_url"] == "https://app.example/new-1"

    def test_pushes_the_contracts_page_record(self):
        hook, ti = FakeHook(), FakeTI()
        op = send_operator(expires_at="2027-01-31T00:00:00+00:00")
        with mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook):
            op.execute({"ti": ti})
        record = ti.xcom["esign_contract"]
        assert {k: record[k] for k in ("conn_id", "document_id", "expires_at", "url")} == {
            "conn_id": "esignbase_default",
            "document_id": "new-1",
            "expires_at": "2027-01-31T00:00:00+00:00",
            "url": "https://app.example/new-1",
        }
        assert record["signers"] == [{"name": "Ann", "email": "a@x.io"}]  # as the vendor reports them
        assert record["sent_at"].endswith("+00:00") and record["status"] and record["vendor"]

    def test_retried_try_adopts_earlier_document(self):
        hook = FakeHook()
        with mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook):
            send_operator().execute({"ti": FakeTI(try_number=2)})
        assert hook.sent[0][1]["adopt_existing"] is True

    def test_idempotency_key_is_stable_per_task_instance(self):
        first = derive_idempotency_key({"ti": FakeTI()})
        assert first == derive_idempotency_key({"ti": FakeTI(try_number=3)})
        assert first != derive_idempotency_key({"ti": FakeTI(map_index=1)})
        assert first.startswith("af-") and len(first) <= 64

    def test_task_state_store_reconnects_without_sending(self):
        hook, store = FakeHook([document(document_id="saved-9")]), FakeStateStore()
        store.set("document_id", "saved-9")
        with mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook):
            result = send_operator().execute({"ti": FakeTI(try_number=2), "task_state_store": store})
        assert result == "saved-9"
        assert hook.sent == []

    def test_created_id_is_persisted_in_the_task_state_store(self):
        hook, store = FakeHook(), FakeStateStore()
        with mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook):
            send_operator().execute({"ti": FakeTI(), "task_state_store": store})
        assert store.values["document_id"] == "new-1"
        assert store.values["seen_by_hook"] is True  # the hook's checkpoint writes through
        assert "first_attempt_at" in store.values

    def test_bad_input_fails_without_retry_before_the_hook_sends(self):
        hook = FakeHook()
        op = send_operator(signers=[{"name": "Ann Lee", "email": "nope"}])
        with (
            mock.patch.object(SendDocumentOperator, "get_hook", return_value=hook),
            pytest.raises(ESignValidationError, match=r"signers\[0\]\.email") as excinfo,
        ):
            op.execute({"ti": FakeTI()})
        assert isinstance(excinfo.value, ESignPermanentError)
        assert hook.sent == []

    def test_unknown_signer_field_named(self):
        with pytest.raises(ESignValidationError, match=r"signers\[0\]"):
            send_operator(signers=[{"name": "A B", "email": "a@x.io", "phone": "1"}]).build_request()

    def test_templated_fields_render(self):
        from airflow.sdk import DAG

        with DAG("render", schedule=None, start_date=datetime(2026, 1, 1)):
            op = send_operator(
                document_name="Contract {{ ds }}",
                signers="{{ params.signers }}",
                metadata={"batch": "{{ params.batch }}"},
            )
        op.render_template_fields(
            {"ds": "2026-01-02", "params": {"signers": [{"name": "A B", "email": "a@x.io"}], "batch": "b7"}}
        )
        assert op.document_name == "Contract 2026-01-02"
        assert op.metadata == {"batch": "b7"}
        assert "{{" not in str(op.signers)

    def test_default_map_index_template_names_document_and_signers(self):
        op = send_operator()
        assert "document_name" in op.map_index_template and "email" in op.map_index_template


ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


def test_send_operator_names_document_name_not_the_request_field(monkeypatch):
    from airflow_provider_esign.operators.send import SendDocumentOperator

    def reject_name(request):
        raise ESignValidationError("name", "must be at most 60 characters, got 61")

    operator = SendDocumentOperator(
        task_id="send", conn_id="x", document_name="N" * 61, signers=[ADA], template_id="t"
    )
    monkeypatch.setattr(operator, "get_hook", lambda: SimpleNamespace(validate_send_request=reject_name))
    with pytest.raises(ESignValidationError) as excinfo:
        operator.execute({"ti": SimpleNamespace()})
    assert str(excinfo.value) == "Invalid document_name: must be at most 60 characters, got 61"
