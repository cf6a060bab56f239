"""The download operator's event payload, audit log and form data, with a scripted hook."""

from __future__ import annotations

import hashlib
import os
import stat
from types import SimpleNamespace
from unittest import mock

import pytest

from airflow_provider_esign.exceptions import (
    ESignIntegrityError,
    ESignPermanentError,
    ESignUnsupportedError,
)
from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    DownloadResult,
    FormField,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.operators.download import DownloadDocumentOperator
from tests.unit.fakes import PDF, FakeHook, FakeTI

SIGNED_PDF = b"%SIGNED_PDF-1.7\nsigned\n%%EOF\n"
AUDIT = b"%SIGNED_PDF-1.7\naudit trail\n%%EOF\n"
DOCUMENT = DocumentInfo(
    document_id="doc-7",
    vendor="legalesign",
    name="Supply contract",
    status=DocumentStatus.COMPLETED,
    raw_status=30,
    signers=[
        SignerInfo(
            "ada@example.com",
            "Ada Lovelace",
            SignerStatus.SIGNED,
            raw_status=40,
            role="buyer",
            signer_id="s1",
            signed_at="2026-11-30T10:00:00",
        )
    ],
    created_at="2026-11-29T09:00:00",
    completed_at="2026-11-30T10:00:00",
    metadata={"tag": "crm-42"},
)


class ScriptedHook:
    """Serves one document; records every call so tests can count them."""

    vendor = "legalesign"
    hook_name = "Legalesign"

    def __init__(self, *, audit: bool = True, forms: bool = True, document_in_download: bool = False):
        self.supports_audit_log = audit
        self.supports_form_data = forms
        self.document_in_download = document_in_download
        self.calls: list[str] = []

    def _write(self, out, data: bytes, document=None) -> DownloadResult:
        out.write(data)
        return DownloadResult(len(data), hashlib.sha256(data).hexdigest(), ("pdf-magic",), document=document)

    def download_document(self, document_id, out, chunk_size=1024):
        self.calls.append("download_document")
        return self._write(out, SIGNED_PDF, DOCUMENT if self.document_in_download else None)

    def download_audit_log(self, document_id, out, chunk_size=1024):
        self.calls.append("download_audit_log")
        return self._write(out, AUDIT)

    def get_document_details(self, document_id):
        self.calls.append("get_document_details")
        return DOCUMENT

    def get_form_data(self, document_id, *, document=None):
        self.calls.append("get_form_data")
        return [FormField("Company", "Acme Ltd", "text", signer="s1", signer_email="ada@example.com")]


class _AnyAsset:
    """outlet_events stand-in: every asset maps to the same accessor, without hashing the asset."""

    def __init__(self, value):
        self.value = value

    def __getitem__(self, _asset):
        return self.value


def run(tmp_path, hook, **kwargs):
    op = DownloadDocumentOperator(
        task_id="store", conn_id="legalesign_prod", document_id="doc-7", destination=str(tmp_path), **kwargs
    )
    op.get_hook = lambda: hook  # type: ignore[method-assign]
    pushed: dict = {}
    event = SimpleNamespace(extra={})
    ti = SimpleNamespace(xcom_push=lambda key, value: pushed.__setitem__(key, value))
    # Every outlet maps to the one event (Airflow 3.1's Asset.__hash__ cannot hash an asset).
    op.execute({"ti": ti, "outlet_events": _AnyAsset(event)})  # type: ignore[arg-type]
    return pushed["download"], event.extra


def test_payload_is_complete_with_one_extra_read(tmp_path):
    hook = ScriptedHook()
    record, extra = run(tmp_path, hook)
    assert hook.calls == ["download_document", "get_document_details"]  # one read for name, signers, times
    assert record == extra
    assert record == {
        "document_id": "doc-7",
        "vendor": "legalesign",
        "conn_id": "legalesign_prod",
        "name": "Supply contract",
        "status": "COMPLETED",
        "signers": [
            {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "role": "buyer",
                "status": "SIGNED",
                "signed_at": "2026-11-30T10:00:00",
            }
        ],
        "created_at": "2026-11-29T09:00:00",
        "completed_at": "2026-11-30T10:00:00",
        "completed_at_source": "vendor",
        "metadata": {"tag": "crm-42"},
        "path": str(tmp_path / "doc-7.pdf"),
        "size": len(SIGNED_PDF),
        "sha256": hashlib.sha256(SIGNED_PDF).hexdigest(),
        "verified_against": ["pdf-magic"],
    }


def test_a_vendor_without_completion_times_gets_the_observed_time_marked_as_such(tmp_path):
    import dataclasses
    import datetime as dt

    class NoTimes(ScriptedHook):
        vendor = "wesignature"

        def get_document_details(self, document_id):
            self.calls.append("get_document_details")
            return dataclasses.replace(DOCUMENT, vendor="wesignature", completed_at=None)

    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    record, extra = run(tmp_path, NoTimes())
    after = dt.datetime.now(dt.timezone.utc)
    assert record == extra and record["completed_at_source"] == "observed"
    observed = dt.datetime.fromisoformat(record["completed_at"])
    assert observed.tzinfo is not None and before <= observed <= after  # when this task saw it completed


def test_no_extra_read_when_the_download_already_read_the_document(tmp_path):
    hook = ScriptedHook(document_in_download=True)
    record, _ = run(tmp_path, hook)
    assert hook.calls == ["download_document"]
    assert record["name"] == "Supply contract" and record["signers"][0]["email"] == "ada@example.com"


def test_audit_log_is_stored_beside_the_pdf_and_referenced(tmp_path):
    record, _ = run(tmp_path, ScriptedHook(), audit_log=True)
    assert (tmp_path / "doc-7.audit.pdf").read_bytes() == AUDIT
    assert (tmp_path / "doc-7.pdf").read_bytes() == SIGNED_PDF
    assert record["audit_log"] == {
        "path": str(tmp_path / "doc-7.audit.pdf"),
        "size": len(AUDIT),
        "sha256": hashlib.sha256(AUDIT).hexdigest(),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc-7.audit.pdf", "doc-7.pdf"]


def test_form_data_goes_into_the_event(tmp_path):
    record, extra = run(tmp_path, ScriptedHook(), include_form_data=True)
    assert record["form_data"] == extra["form_data"]  # XCom and event carry the same record
    assert extra["form_data"] == [
        {
            "label": "Company",
            "value": "Acme Ltd",
            "field_type": "text",
            "signer": "s1",
            "signer_email": "ada@example.com",
        }
    ]


@pytest.mark.parametrize(
    ("option", "hook", "message"),
    [
        (
            {"audit_log": True},
            ScriptedHook(audit=False),
            "audit_log=True: Legalesign's API offers no audit log",
        ),
        (
            {"include_form_data": True},
            ScriptedHook(forms=False),
            "include_form_data=True: Legalesign's API offers no form field values",
        ),
    ],
)
def test_vendor_without_the_feature_fails_before_any_call(tmp_path, option, hook, message):
    with pytest.raises(ESignUnsupportedError, match=message.replace("(", r"\(")):
        run(tmp_path, hook, **option)
    assert hook.calls == []
    assert list(tmp_path.iterdir()) == []


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
