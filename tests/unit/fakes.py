"""Fakes for the operator, sensor and trigger unit tests: a scripted hook, task instance and state store (no HTTP)."""

from __future__ import annotations

import hashlib

from airflow_provider_esign.exceptions import (
    ESignIntegrityError,
)
from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    DownloadResult,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.operators.send import SendDocumentOperator

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
