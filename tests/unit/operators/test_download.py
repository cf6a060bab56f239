"""The download operator's event payload, audit log and form data, with a scripted hook."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from airflow_provider_esign.exceptions import ESignUnsupportedError
from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    DownloadResult,
    FormField,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.operators.download import DownloadDocumentOperator

PDF = b"%PDF-1.7\nsigned\n%%EOF\n"
AUDIT = b"%PDF-1.7\naudit trail\n%%EOF\n"
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
        return self._write(out, PDF, DOCUMENT if self.document_in_download else None)

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
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
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
    assert (tmp_path / "doc-7.pdf").read_bytes() == PDF
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
