"""Legalesign's form field values as records: in field order, the signer reference matched to an e-mail."""

from __future__ import annotations

from airflow_provider_esign.hooks.legalesign.fields import parse_form_fields
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus

DOCUMENT = DocumentInfo(
    "d-1", "legalesign", "NDA", DocumentStatus.COMPLETED, 30,
    signers=[SignerInfo("ann@x.io", "Ann", SignerStatus.SIGNED, signer_id="s-1")],
)  # fmt: skip


def test_fields_in_field_order_with_the_signers_email():
    body = {
        "objects": [
            {
                "fieldorder": 2,
                "label": "Date",
                "value": "2026-03-01",
                "element_type": "text",
                "signer": "/api/v1/signer/s-1/",
            },
            {"fieldorder": "1", "label": "Company", "value": "Acme", "element_type": "admin", "signer": None},
            {"label": "Unordered", "value": None, "signer": "someone-else"},
        ]
    }
    fields = parse_form_fields(body, DOCUMENT)
    assert [f.label for f in fields] == ["Unordered", "Company", "Date"]
    assert [(f.signer, f.signer_email) for f in fields] == [
        ("someone-else", None),
        (None, None),
        ("/api/v1/signer/s-1/", "ann@x.io"),
    ]
    assert fields[2].raw["element_type"] == "text" and fields[1].field_type == "admin"


def test_a_bare_list_and_no_document_work_too():
    fields = parse_form_fields([{"label": "Seats", "value": 3, "signer": "s-1"}])
    assert [(f.label, f.value, f.signer, f.signer_email) for f in fields] == [("Seats", 3, "s-1", None)]
    assert parse_form_fields(None) == []
