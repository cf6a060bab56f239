"""Form field values and audit logs: Legalesign's endpoint, and a clear error where a vendor has none."""

from __future__ import annotations

import io

import pytest

from airflow_provider_esign.exceptions import ESignUnsupportedError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo

API = "https://legalesign.test/api/v1/"
DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"
SIGNER = "s1s1s1s1-s1s1-s1s1-s1s1-s1s1s1s1s1s1"
# Shape of Legalesign's DocumentFieldResponse list (OpenAPI spec, GET /document/{docId}/fields/).
FIELDS = [
    {
        "element_type": "text",
        "fieldorder": 2,
        "label": "Start date",
        "label_extra": "",
        "signer": 2,
        "state": True,
        "validation": 2,
        "value": "2026-12-01",
    },
    {
        "element_type": "text",
        "fieldorder": 1,
        "label": "Company",
        "label_extra": "",
        "signer": f"/api/v1/signer/{SIGNER}/",
        "state": True,
        "validation": None,
        "value": "Acme Ltd",
    },
    {
        "element_type": "signature",
        "fieldorder": 3,
        "label": "",
        "label_extra": "",
        "signer": None,
        "state": False,
        "validation": None,
        "value": None,
    },
]


@pytest.fixture
def legalesign(make_connection, clock):
    make_connection("lg", "legalesign", host=API, login="user", password="secret", group="acme-dev")
    return LegalesignHook("lg", sleep=clock.sleep, clock=clock)


@pytest.mark.parametrize("envelope", [False, True])
def test_legalesign_form_data_in_field_order_with_signer_emails(legalesign, requests_mock, envelope):
    body = {"meta": {"total_count": 3}, "objects": FIELDS} if envelope else FIELDS
    requests_mock.get(API + f"document/{DOC_ID}/fields/", json=body)
    document = DocumentInfo(
        DOC_ID,
        "legalesign",
        "NDA",
        DocumentStatus.COMPLETED,
        30,
        signers=[SignerInfo("ada@example.com", signer_id=SIGNER)],
    )
    fields = legalesign.get_form_data(DOC_ID, document=document)
    assert [(f.label, f.value, f.field_type, f.signer_email) for f in fields] == [
        ("Company", "Acme Ltd", "text", "ada@example.com"),
        ("Start date", "2026-12-01", "text", None),  # a bare number is not guessed into a signer
        ("", None, "signature", None),
    ]
    assert fields[1].signer == "2"
    assert requests_mock.last_request.headers["Authorization"] == "ApiKey user:secret"
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("hook_class", [ESignBaseHook, WeSignatureHook])
def test_other_vendors_say_their_api_offers_neither(hook_class, requests_mock):
    hook = hook_class("unused")
    assert not hook.supports_form_data and not hook.supports_audit_log
    with pytest.raises(ESignUnsupportedError, match="offers no form field values"):
        hook.get_form_data("doc")
    with pytest.raises(ESignUnsupportedError, match="offers no audit log"):
        hook.download_audit_log("doc", io.BytesIO())
    assert requests_mock.call_count == 0


def test_wesignature_details_add_the_names_its_status_answer_lacks(make_connection, requests_mock):
    host = "https://wesignature.test/apihandler"
    make_connection("ws", "wesignature", host=host, user_id="user-77", api_key="key-0123456789")
    requests_mock.post(
        f"{host}/documentstatusapi",
        json={
            "status": "success",
            "message": "document data",
            "data": {
                "document_status": "3",
                "signer_data": [{"signer_status": "3", "signer_mail": "Ada@Example.com", "signer_id": "1"}],
            },
        },
    )
    listing = requests_mock.post(
        f"{host}/getsentdocumentsapi",
        json={
            "status": "success",
            "message": {
                "data": [
                    {
                        "guid": "g-1",
                        "document_name": "nda.pdf",
                        "document_status": "completed",
                        "SignerMails": [{"email": "ada@example.com", "signaturestatus": "0", "name": "Ada"}],
                    }
                ]
            },
        },
    )
    hook = WeSignatureHook("ws")
    assert hook.get_document("g-1").name is None  # the status read alone has no names
    details = hook.get_document_details("g-1")
    assert details.name == "nda.pdf"
    assert [(s.email, s.name, s.status.value) for s in details.signers] == [
        ("Ada@Example.com", "Ada", "SIGNED")
    ]
    assert listing.last_request.json()["guid"] == "g-1"  # one filtered list call, not the account
