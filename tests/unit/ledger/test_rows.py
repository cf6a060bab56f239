"""Documents as ledger rows: times in one ISO 8601 form, signer positions, form values as text, and a
hash that changes exactly when a vendor-owned value does."""

from __future__ import annotations

import json

from airflow_provider_esign.ledger.rows import (
    document_values,
    field_rows,
    iso,
    now_iso,
    row_hash,
    signer_rows,
)
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, FormField, SignerInfo, SignerStatus


def document(**changes) -> DocumentInfo:
    values = {
        "document_id": "d-1", "vendor": "legalesign", "name": "NDA", "status": DocumentStatus.SENT,
        "raw_status": 10, "created_at": "2026-03-01T10:00:00+01:00", "metadata": {"ref": "r-1"},
        "signers": [SignerInfo("a@x.io", "Ann", SignerStatus.SIGNED, raw_status=5), SignerInfo("b@x.io", "Bob", SignerStatus.SENT, order=7)],
        **changes,
    }  # fmt: skip
    return DocumentInfo(**values)


def test_times_become_iso_utc_to_the_second():
    assert iso("2026-03-01T10:00:00.123+01:00") == "2026-03-01T09:00:00+00:00"
    assert iso(None) is None and iso("soon") is None
    assert now_iso(0) == "1970-01-01T00:00:00+00:00"


def test_document_values():
    values = document_values(document(), "legalesign_default", "2026-04-01T00:00:00Z", "key-1")
    assert values["status"] == "SENT" and values["vendor_status"] == "10"
    assert values["created_at"] == "2026-03-01T09:00:00+00:00" and values["completed_at"] is None
    assert values["expires_at"] == "2026-04-01T00:00:00+00:00"
    assert json.loads(values["metadata"]) == {"ref": "r-1"}
    assert values["idempotency_key"] == "key-1"
    assert document_values(document(raw_status=None), "c", None, None)["vendor_status"] is None


def test_signer_rows_keep_the_vendors_order_else_the_list_position():
    rows = signer_rows(document(), "c")
    assert [(r["email"], r["position"], r["status"], r["vendor_status"]) for r in rows] == [
        ("a@x.io", 0, "SIGNED", "5"),
        ("b@x.io", 7, "SENT", None),
    ]


def test_form_values_are_stored_as_text():
    rows = field_rows(
        "d-1", "c", [FormField("Company", "Acme"), FormField("Seats", 3), FormField("Note", None)]
    )
    assert [r["value"] for r in rows] == ["Acme", "3", None]
    assert [r["position"] for r in rows] == [0, 1, 2]


def test_the_hash_changes_with_any_vendor_value_and_only_then():
    def digest(doc: DocumentInfo) -> str:
        return row_hash(document_values(doc, "c", None, None), signer_rows(doc, "c"))

    assert digest(document()) == digest(document())
    assert digest(document(status=DocumentStatus.COMPLETED)) != digest(document())
    signed = [
        SignerInfo("a@x.io", "Ann", SignerStatus.SIGNED, raw_status=5),
        SignerInfo("b@x.io", "Bob", SignerStatus.SIGNED, order=7),
    ]
    assert digest(document(signers=signed)) != digest(document())
    assert len(digest(document())) == 32
