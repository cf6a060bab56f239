"""Operators, sensor and trigger against a fake hook (no HTTP). Real DAG runs live in tests/e2e."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import time
from datetime import datetime
from types import SimpleNamespace
from unittest import mock

import pytest

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    ESignError,
    ESignIntegrityError,
    ESignPermanentError,
    ESignValidationError,
)
from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    DownloadResult,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator, derive_idempotency_key
from airflow_provider_esign.sensors.status import DocumentStatusSensor
from airflow_provider_esign.triggers.status import DocumentStatusTrigger

PDF = b"%PDF-1.4\nbody\n%%EOF\n"


def document(status=DocumentStatus.SENT, signers=None, **kwargs):
    return DocumentInfo(
        document_id=kwargs.pop("document_id", "doc-1"),
        vendor="esignbase",
        name="Contract",
        status=status,
        raw_status=status.value,
        signers=signers or [SignerInfo("a@x.io", "Ann", SignerStatus.SENT)],
        **kwargs,
    )


class FakeHook:
    vendor = "esignbase"
    hook_name = "Fake"
    send_options = frozenset({"locale"})

    def __init__(self, documents=None, pdf=PDF, fail_download=False):
        self.documents = list(documents or [document()])
        self.sent = []
        self.pdf = pdf
        self.fail_download = fail_download

    def validate_send_request(self, request):
        from airflow_provider_esign.hooks.esignbase import ESignBaseHook

        ESignBaseHook.validate_send_request(self, request)  # real vendor rules, no HTTP

    def send_document(self, request, **kwargs):
        self.sent.append((request, kwargs))
        kwargs["checkpoint"]["seen_by_hook"] = True
        return document(DocumentStatus.DRAFT, document_id="new-1")

    def get_document(self, document_id):
        return self.documents.pop(0) if len(self.documents) > 1 else self.documents[0]

    async def aget_document(self, document_id):
        return self.get_document(document_id)

    def web_url(self, doc):
        return f"https://app.example/{doc.document_id}"

    def download_document(self, document_id, out, chunk_size=1024):
        out.write(self.pdf[:5])
        if self.fail_download:
            raise ESignIntegrityError("SHA-256 mismatch")
        out.write(self.pdf[5:])
        return DownloadResult(
            len(self.pdf),
            hashlib.sha256(self.pdf).hexdigest(),
            ("pdf-magic",),
            document=document(DocumentStatus.COMPLETED),
        )


class FakeTI:
    def __init__(self, try_number=1, map_index=-1):
        self.dag_id, self.task_id, self.run_id = "dag", "send", "manual__2026-01-01"
        self.map_index = map_index
        self.try_number = try_number
        self.xcom = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value


class FakeStateStore:
    def __init__(self):
        self.values = {}

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value, retention=None):
        assert value is not None
        self.values[key] = value

    def delete(self, key):
        self.values.pop(key, None)


def send_operator(**overrides):
    values = {
        "task_id": "send",
        "conn_id": "esignbase_default",
        "document_name": "Contract",
        "signers": [{"name": "Ann Lee", "email": "ann@x.io", "role": "signee_1"}],
        "template_id": "tpl-1",
        **overrides,
    }
    return SendDocumentOperator(**values)


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


class TestDocumentStatusSensor:
    def sensor(self, **overrides):
        values = {"task_id": "wait", "conn_id": "esignbase_default", "document_id": "doc-1", **overrides}
        return DocumentStatusSensor(**values)

    @pytest.mark.parametrize(
        ("status", "target", "done"),
        [
            (DocumentStatus.SENT, "COMPLETED", False),
            (DocumentStatus.SIGNED, "COMPLETED", False),
            (DocumentStatus.SIGNED, "SIGNED", True),
            (DocumentStatus.COMPLETED, "SIGNED", True),
            (DocumentStatus.COMPLETED, "COMPLETED", True),
        ],
    )
    def test_poke(self, status, target, done):
        with mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook([document(status)])):
            result = self.sensor(target_status=target).poke({})
        assert result.is_done is done
        assert (result.xcom_value or {}).get("status") == (status.value if done else None)

    @pytest.mark.parametrize("status", [DocumentStatus.DECLINED, DocumentStatus.VOIDED])
    def test_failure_states_fail_without_retry(self, status):
        with (
            mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook([document(status)])),
            pytest.raises(DocumentFailedError, match=status.value) as excinfo,
        ):
            self.sensor().poke({})
        assert isinstance(excinfo.value, ESignPermanentError)

    def test_wait_for_one_signer(self):
        signers = [
            SignerInfo("a@x.io", status=SignerStatus.SIGNED),
            SignerInfo("b@x.io", status=SignerStatus.SENT),
        ]
        hook = FakeHook([document(DocumentStatus.PARTIALLY_SIGNED, signers=signers)])
        with mock.patch.object(DocumentStatusSensor, "get_hook", return_value=hook):
            assert self.sensor(signer_email="A@x.io").poke({}).is_done
            assert not self.sensor(signer_email="b@x.io").poke({}).is_done
            with pytest.raises(DocumentFailedError, match="not a signer"):
                self.sensor(signer_email="zed@x.io").poke({})

    def test_invalid_target_named(self):
        with pytest.raises(ESignValidationError, match="target_status"):
            _ = self.sensor(target_status="DECLINED").condition
        with pytest.raises(ESignValidationError, match="target_status"):
            _ = self.sensor(target_status="FINISHED").condition

    def test_deferrable_defers_with_json_native_trigger(self):
        from airflow.providers.common.compat.sdk import TaskDeferred

        sensor = self.sensor(deferrable=True, poke_interval=5, timeout=600)
        with (
            mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook()),
            pytest.raises(TaskDeferred) as excinfo,
        ):
            sensor.execute({})
        trigger = excinfo.value.trigger
        assert isinstance(trigger, DocumentStatusTrigger)
        classpath, kwargs = trigger.serialize()
        assert classpath == "airflow_provider_esign.triggers.status.DocumentStatusTrigger"
        import json

        assert json.loads(json.dumps(kwargs)) == kwargs
        assert abs(kwargs["end_time"] - (time.time() + 600)) < 5
        assert DocumentStatusTrigger(**kwargs).serialize() == (classpath, kwargs)

    def test_deferrable_returns_at_once_when_already_done(self):
        sensor = self.sensor(deferrable=True)
        with mock.patch.object(
            DocumentStatusSensor, "get_hook", return_value=FakeHook([document(DocumentStatus.COMPLETED)])
        ):
            assert sensor.execute({})["status"] == "COMPLETED"

    def test_execute_complete_validates_events(self):
        from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

        sensor = self.sensor()
        assert sensor.execute_complete({}, {"status": "success", "document": {"status": "COMPLETED"}}) == {
            "status": "COMPLETED"
        }
        with pytest.raises(DocumentFailedError):
            sensor.execute_complete(
                {}, {"status": "failed", "document": {"status": "DECLINED"}, "message": "x"}
            )
        with pytest.raises(AirflowSensorTimeout):
            sensor.execute_complete({}, {"status": "timeout", "message": "late"})
        with pytest.raises(ESignError) as transient:
            sensor.execute_complete({}, {"status": "error", "message": "boom", "permanent": False})
        assert not isinstance(transient.value, AirflowFailException)
        with pytest.raises(AirflowFailException):
            sensor.execute_complete({}, {"status": "error", "message": "bad key", "permanent": True})
        with pytest.raises(ESignError, match="Unexpected"):
            sensor.execute_complete({}, None)


class TestDocumentStatusTrigger:
    def trigger(self, **overrides):
        values = {
            "conn_id": "esignbase_default",
            "document_id": "doc-1",
            "poll_interval": 0,
            "end_time": time.time() + 60,
            **overrides,
        }
        return DocumentStatusTrigger(**values)

    async def events(self, trigger, hook):
        async def fake_aget_hook(conn_id, **params):
            return hook

        # Any sync connection access inside the trigger would deadlock a real triggerer: forbid it.
        with (
            mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook),
            mock.patch("airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("sync connection")),
        ):
            return [event.payload async for event in trigger.run()]

    async def test_success_after_polling(self):
        hook = FakeHook(
            [
                document(DocumentStatus.SENT),
                document(DocumentStatus.SIGNED),
                document(DocumentStatus.COMPLETED),
            ]
        )
        events = await self.events(self.trigger(), hook)
        assert len(events) == 1
        assert events[0]["status"] == "success" and events[0]["document"]["status"] == "COMPLETED"

    async def test_declined_event(self):
        events = await self.events(self.trigger(), FakeHook([document(DocumentStatus.DECLINED)]))
        assert [e["status"] for e in events] == ["failed"]

    async def test_timeout_event(self):
        events = await self.events(self.trigger(end_time=time.time() - 1), FakeHook())
        assert [e["status"] for e in events] == ["timeout"]

    async def test_permanent_error_event(self):
        hook = FakeHook()

        async def broken(document_id):
            raise ESignValidationError("document_id", "unknown")

        hook.aget_document = broken
        events = await self.events(self.trigger(), hook)
        assert events[0]["status"] == "error" and events[0]["permanent"] is True

    async def test_transient_errors_are_tolerated(self):
        hook, calls = FakeHook([document(DocumentStatus.COMPLETED)]), []

        async def flaky(document_id):
            calls.append(1)
            if len(calls) < 3:
                raise ESignError("503")
            return document(DocumentStatus.COMPLETED)

        hook.aget_document = flaky
        events = await self.events(self.trigger(), hook)
        assert events[0]["status"] == "success" and len(calls) == 3

    async def test_does_not_block_while_waiting(self):
        trigger = self.trigger(poll_interval=30)
        hook = FakeHook([document(DocumentStatus.SENT)])

        async def fake_aget_hook(conn_id, **params):
            return hook

        with mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook):
            task = asyncio.create_task(trigger.run().__anext__())
            await asyncio.sleep(0.05)
            assert not task.done()  # sleeping in the event loop, not returning or blocking
            task.cancel()


class TestDownloadDocumentOperator:
    def op(self, destination, **overrides):
        values = {
            "task_id": "store",
            "conn_id": "esignbase_default",
            "document_id": "doc/1",
            "destination": destination,
        }
        return DownloadDocumentOperator(**{**values, **overrides})

    def context(self):
        outlet = SimpleNamespace(extra={})
        return {"ti": FakeTI(), "outlet_events": _AnyKey(outlet)}, outlet

    def test_stores_atomically_and_announces_asset(self, tmp_path):
        op = self.op(str(tmp_path / "signed"))
        context, event = self.context()
        with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
            path = op.execute(context)
        assert path.endswith("signed/doc_1.pdf")
        assert (tmp_path / "signed" / "doc_1.pdf").read_bytes() == PDF
        assert sorted(p.name for p in (tmp_path / "signed").iterdir()) == ["doc_1.pdf"]
        assert event.extra["document_id"] == "doc/1" and event.extra["path"] == path
        assert event.extra["vendor"] == "esignbase" and event.extra["name"] == "Contract"
        assert op.outlets and op.outlets[0].uri == "esign://signed-documents/"

    def test_failed_download_leaves_nothing(self, tmp_path):
        op = self.op(str(tmp_path))
        with (
            mock.patch.object(
                DownloadDocumentOperator, "get_hook", return_value=FakeHook(fail_download=True)
            ),
            pytest.raises(ESignIntegrityError),
        ):
            op.execute(self.context()[0])
        assert list(tmp_path.iterdir()) == []

    def test_refuses_to_overwrite_unless_asked(self, tmp_path):
        (tmp_path / "doc_1.pdf").write_bytes(b"old")
        with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
            with pytest.raises(ESignPermanentError, match="overwrite"):
                self.op(str(tmp_path)).execute(self.context()[0])
            assert (tmp_path / "doc_1.pdf").read_bytes() == b"old"
            self.op(str(tmp_path), overwrite=True).execute(self.context()[0])
        assert (tmp_path / "doc_1.pdf").read_bytes() == PDF

    def test_filename_pattern(self, tmp_path):
        op = self.op(f"file://{tmp_path}", filename="{vendor}-{document_id}.pdf")
        with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
            op.execute(self.context()[0])
        assert (tmp_path / "esignbase-doc_1.pdf").exists()

    def test_object_storage_destination(self):
        import fsspec
        from airflow.sdk.io.store import attach

        # Stands in for s3:// or gs://: a non-local filesystem registered the way providers do.
        attach("memory", None, fs=fsspec.filesystem("memory"))
        op = self.op("memory://bucket/signed")
        with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
            path = op.execute(self.context()[0])
        from airflow.sdk import ObjectStoragePath

        stored = ObjectStoragePath(path)
        assert stored.read_bytes() == PDF
        assert [p.name for p in stored.parent.iterdir()] == ["doc_1.pdf"]  # no staging leftovers

    def test_mapped_partial_declares_the_asset(self):
        mapped = DownloadDocumentOperator.partial(
            task_id="store_many", conn_id="esignbase_default", destination="/tmp"
        ).expand(document_id=["a", "b"])
        assert [o.uri for o in mapped.outlets] == ["esign://signed-documents/"]


class _AnyKey:
    """outlet_events stand-in: every asset maps to the same accessor (no hashing: Airflow 3.1's
    ``Asset.__hash__`` cannot hash an asset, and the real accessor never does)."""

    def __init__(self, value):
        self.value = value

    def __getitem__(self, key):
        return self.value


class TestDownloadRetriesAndModes:
    """A retried download after a worker died post-publish, and the stored file's mode."""

    op = TestDownloadDocumentOperator.op
    context = TestDownloadDocumentOperator.context

    def test_retry_accepts_the_identical_file_an_earlier_try_stored(self, tmp_path):
        (tmp_path / "doc_1.pdf").write_bytes(PDF)  # the earlier try published, then its worker died
        context, event = self.context()
        with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
            path = self.op(str(tmp_path)).execute(context)
        assert (tmp_path / "doc_1.pdf").read_bytes() == PDF
        assert event.extra["path"] == path and event.extra["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["doc_1.pdf"]  # no temporary file left

    def test_a_different_existing_file_still_refuses(self, tmp_path):
        (tmp_path / "doc_1.pdf").write_bytes(PDF + b"\n% another version\n")
        with (
            mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()),
            pytest.raises(ESignPermanentError, match=r"different content.*overwrite=True"),
        ):
            self.op(str(tmp_path)).execute(self.context()[0])
        assert (tmp_path / "doc_1.pdf").read_bytes().endswith(b"another version\n")

    @pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
    def test_stored_file_follows_the_umask(self, tmp_path, umask):
        previous = os.umask(umask)
        try:
            with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=FakeHook()):
                self.op(str(tmp_path)).execute(self.context()[0])
        finally:
            os.umask(previous)
        assert stat.S_IMODE((tmp_path / "doc_1.pdf").stat().st_mode) == 0o666 & ~umask
