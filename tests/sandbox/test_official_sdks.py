"""
The vendors' official Python SDKs against the sandbox: every call the sandbox emulates, parsed values checked.

Legalesign: PyPI ``legalesign`` 1.1.1 with ``_strict_response_validation=True``, so every response must match
the SDK's pydantic models (generated from the official OpenAPI spec). eSignBase: PyPI ``esignbase-sdk`` 1.2.0,
all nine of its calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import esignbase_sdk
import legalesign
import pytest
from sandbox_helpers import ESIGNBASE_CLIENT, GROUP_URI, LEGALESIGN_AUTH, Receiver, wait_for

from esign_sandbox import Sandbox
from esign_sandbox.pdf import build_pdf

PDF = build_pdf("Contract", ["Please sign.", "<<t=signature;s=1>>", "<<t=signature;s=2>>"]).to_bytes()


@pytest.fixture
def client(sb: Sandbox) -> Iterator[legalesign.Legalesign]:
    sb.configure(send_delay=0, sign_delay=None, pdf_delay=0, legalesign_redirect_ratio=0.0)
    with legalesign.Legalesign(
        api_key=LEGALESIGN_AUTH["Authorization"],
        base_url=sb.vendor_url("legalesign"),
        _strict_response_validation=True,
        max_retries=0,
    ) as sdk:
        yield sdk


def _last_segment(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _upload(client: legalesign.Legalesign, **extra: object) -> str:
    raw = client.templatepdf.with_raw_response.create(
        group=GROUP_URI, pdf_file=base64.b64encode(PDF).decode(), title="Contract", **extra
    )
    assert raw.http_response.status_code == 201
    return _last_segment(raw.headers["location"])


def test_legalesign_templates(client: legalesign.Legalesign) -> None:
    template_id = _upload(client, process_tags=True)
    template = client.templatepdf.retrieve(template_id)
    assert template.uuid == template_id and template.page_count == 1 and template.valid is True
    # Two text tags for two signers: the spec's signer_count, and parties as a string holding JSON.
    assert template.signer_count == 2
    assert isinstance(template.parties, str) and len(json.loads(template.parties)) == 2
    listing = client.templatepdf.list(group=GROUP_URI)
    assert listing.meta and listing.meta.total_count == 1
    assert listing.objects and listing.objects[0].uuid == template_id
    fields = client.templatepdf.fields.list(template_id)
    assert fields.objects and [f.signer for f in fields.objects] == [1, 2]
    client.templatepdf.fields.create(
        template_id,
        body=[
            {"ax": 0.1, "ay": 0.1, "bx": 0.3, "by": 0.15, "element_type": "signature", "page": 1, "signer": 1},
            {"ax": 0.1, "ay": 0.2, "bx": 0.3, "by": 0.25, "element_type": "admin", "page": 1, "signer": None,
             "label": "Contract ref"},
        ],
    )  # fmt: skip
    replaced = client.templatepdf.fields.list(template_id)
    assert replaced.objects and [f.element_type for f in replaced.objects] == ["signature", "admin"]
    assert client.templatepdf.retrieve(template_id).signer_count == 1
    # The spec declares the body a JSON string; the SDK (cast_to=str) hands over its text.
    assert json.loads(client.templatepdf.get_edit_link(template_id)).startswith("http://")
    client.templatepdf.archive(template_id)
    assert client.templatepdf.retrieve(template_id).valid is False


def test_legalesign_document_lifecycle(sb: Sandbox, client: legalesign.Legalesign) -> None:
    template_id = _upload(client)
    client.templatepdf.fields.create(
        template_id,
        body=[
            {"ax": 0.1, "ay": 0.1, "bx": 0.3, "by": 0.15, "element_type": "signature", "page": 1, "signer": 1},
            {"ax": 0.1, "ay": 0.2, "bx": 0.3, "by": 0.25, "element_type": "admin", "page": 1, "signer": None,
             "label": "Contract ref"},
            {"ax": 0.1, "ay": 0.3, "bx": 0.3, "by": 0.35, "element_type": "text", "page": 1, "signer": 1,
             "label": "Your email", "validation": 1},
        ],
    )  # fmt: skip
    created = client.document.with_raw_response.create(
        group=GROUP_URI,
        name="Supplier agreement",
        templatepdf=f"/api/v1/templatepdf/{template_id}/",
        signers=[{"firstname": "Joe", "lastname": "Biggins", "email": "joe@example.com"}],
        pdftext={"Contract ref": "SUP-1"},
        tag="sdk-run",
    )
    assert created.parse().signer_1 is None
    doc_id = _last_segment(created.headers["location"])
    detail = client.document.retrieve(doc_id)
    assert detail.uuid == doc_id and detail.status == 10 and detail.download_final is False
    assert detail.signers and detail.signers[0][3] == "joe@example.com"
    signer_id = _last_segment(detail.signers[0][0])
    listing = client.document.list(group="sandbox-team", nosigners="1")
    assert (
        listing.meta
        and listing.meta.total_count == 1
        and listing.objects
        and listing.objects[0].tag == "sdk-run"
    )
    assert client.status.retrieve(doc_id).status == 10
    statuses = client.status.retrieve_all()
    assert statuses.objects and statuses.objects[0].resource_uri == f"/api/v1/document/{doc_id}/"
    signer = client.signer.retrieve(signer_id)
    assert signer.email == "joe@example.com" and signer.status == 10
    access = client.signer.with_raw_response.get_access_link(signer_id)
    assert access.http_response.status_code == 201 and signer_id in access.headers["location"]
    client.signer.send_reminder(signer_id, text="Please sign")
    before = {f.label: f for f in client.document.get_fields(doc_id)}
    assert before["Contract ref"].value == "SUP-1" and before["Your email"].value == ""

    sb.sign("legalesign", doc_id)
    done = client.document.retrieve(doc_id)
    assert done.status == 30 and done.download_final is True and done.hash_value
    after = {f.label: f for f in client.document.get_fields(doc_id)}
    assert after["Your email"].value == "joe@example.com" and after["Your email"].state is True
    assert [f.value for f in client.signer.retrieve_fields(signer_id) if f.label == "Your email"] == [
        "joe@example.com"
    ]
    pdf = client.pdf.retrieve(doc_id).read()
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == done.hash_value
    assert client.document.download_audit_log(doc_id).read().startswith(b"%PDF")
    client.document.archive(doc_id)
    assert client.status.retrieve(doc_id).archived is True
    assert client.document.list(group="sandbox-team").meta.total_count == 0  # type: ignore[union-attr]
    assert client.document.list(group="sandbox-team", archived="all").meta.total_count == 1  # type: ignore[union-attr]
    client.document.delete_permanently(doc_id)
    with pytest.raises(legalesign.NotFoundError):
        client.document.retrieve(doc_id)


def test_legalesign_rejection_reason(sb: Sandbox, client: legalesign.Legalesign) -> None:
    doc = sb.create_document(
        "legalesign", signers=[{"name": "Ann Lee", "email": "ann@example.com"}], status="sent"
    )
    signer_id = _last_segment(client.document.retrieve(doc["id"]).signers[0][0])  # type: ignore[index]
    assert client.signer.get_rejection_reason(signer_id).reason == ""
    sb.decline("legalesign", doc["id"], reason="Wrong company name")
    rejection = client.signer.get_rejection_reason(signer_id)
    assert rejection.status == 60 and rejection.reason == "Wrong company name"
    assert client.document.retrieve(doc["id"]).status == 50


def test_legalesign_groups_attachments_webhooks(client: legalesign.Legalesign) -> None:
    groups = client.group.list()
    assert groups.objects and groups.objects[0].slug == "sandbox-team"
    assert client.group.retrieve("sandbox-team").resource_uri == GROUP_URI
    client.attachment.upload(group=GROUP_URI, pdf_file=base64.b64encode(PDF).decode(), filename="terms.pdf",
                             description="Terms")  # fmt: skip
    attachments = client.attachment.list()
    assert attachments.objects and attachments.objects[0].filename == "terms.pdf"
    attachment_id = attachments.objects[0].uuid
    assert attachment_id and client.attachment.retrieve(attachment_id).description == "Terms"
    client.attachment.delete(attachment_id)
    with pytest.raises(legalesign.NotFoundError):
        client.attachment.retrieve(attachment_id)
    client.subscribe.create_webhook(notify="realtime", url="https://hooks.example.com/ls",
                                    event_filter="document.finalPdfCreated")  # fmt: skip
    hooks = client.notifications.list()
    assert [(h.url, h.notify_when, h.event_filter) for h in hooks] == [
        ("https://hooks.example.com/ls", 10, "document.finalPdfCreated")
    ]
    client.unsubscribe.delete_webhook(
        url="https://hooks.example.com/ls", event_filter="document.finalPdfCreated"
    )
    assert client.notifications.list() == []
    with pytest.raises(legalesign.BadRequestError):
        client.subscribe.create_webhook(notify="realtime", url="ftp://nope")


def test_legalesign_errors_are_typed(client: legalesign.Legalesign) -> None:
    with pytest.raises(legalesign.NotFoundError):
        client.document.retrieve("00000000-0000-4000-8000-000000000000")
    with pytest.raises(legalesign.BadRequestError) as bad:
        client.document.create(group=GROUP_URI, name="x", signers=[])
    assert "signers" in bad.value.body["document"]  # type: ignore[index]
    wrong = legalesign.Legalesign(
        api_key="ApiKey wrong:key", base_url=client.base_url, max_retries=0, _strict_response_validation=True
    )
    with wrong, pytest.raises(legalesign.AuthenticationError):
        wrong.group.list()


def test_esignbase_sdk_all_calls(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sb.configure(send_delay=0, sign_delay=None, pdf_delay=0)
    monkeypatch.setattr(esignbase_sdk, "BASE_URL", sb.vendor_url("esignbase") + "/")
    client = esignbase_sdk.OAuth2Client(id=ESIGNBASE_CLIENT[0], secret=ESIGNBASE_CLIENT[1],
                                        scope=[esignbase_sdk.Scope.ALL])  # fmt: skip
    esignbase_sdk.connect(client)
    assert client.is_connected
    templates = esignbase_sdk.get_templates(client)
    one_role = next(t for t in templates if len(t["form_role_names"]) == 1)
    assert esignbase_sdk.get_template(client, one_role["id"])["id"] == one_role["id"]
    credits = esignbase_sdk.get_credits(client)["credits"]
    created = esignbase_sdk.create_document(
        client,
        template_id=one_role["id"],
        document_name="SDK contract",
        recipients=[esignbase_sdk.Recipient(email="ann@example.com", first_name="Ann", last_name="Lee",
                                            role_name=one_role["form_role_names"][0], locale="en")],
        user_defined_metadata={"run": "sdk"},
    )  # fmt: skip
    assert created["status"] == "DRAFT"
    doc_id = created["document_id"]
    assert esignbase_sdk.get_credits(client)["credits"] == credits - 1
    listing = esignbase_sdk.get_documents(client, limit=10, offset=0)
    assert listing["count"] == 1 and listing["documents"][0]["id"] == doc_id
    sb.sign("esignbase", doc_id)
    detail = esignbase_sdk.get_document(client, doc_id)
    assert detail["status"] == "COMPLETED" and detail["user_defined_metadata"] == {"run": "sdk"}
    pdf = b"".join(esignbase_sdk.download_document(client, doc_id))
    assert pdf == sb.pdf_bytes("esignbase", doc_id)
    esignbase_sdk.delete_document(client, doc_id)
    with pytest.raises(esignbase_sdk.ESignBaseSDKError) as gone:
        esignbase_sdk.get_document(client, doc_id)
    assert gone.value.status_code == 404


def test_legalesign_realtime_webhook_delivery(
    sb: Sandbox, client: legalesign.Legalesign, receiver: Receiver
) -> None:
    early = sb.create_document("legalesign", status="completed")["id"]
    client.subscribe.create_webhook(
        notify="realtime", url=receiver.url, event_filter="document.finalPdfCreated"
    )
    client.subscribe.create_webhook(
        notify="realtime", url=receiver.url + "rejected", event_filter="document.rejected"
    )
    signed = sb.create_document("legalesign", status="sent", tag="rt")["id"]
    rejected = sb.create_document("legalesign", status="sent")["id"]
    sb.sign("legalesign", signed)
    sb.decline("legalesign", rejected, reason="No")
    assert wait_for(lambda: len(sb.webhook_deliveries()) == 2)
    by_event = {d["event"]: d for d in sb.webhook_deliveries()}
    assert by_event["finalPdfCreated"]["document_id"] == signed and by_event["finalPdfCreated"]["ok"]
    assert by_event["rejected"]["document_id"] == rejected and by_event["rejected"]["url"].endswith(
        "rejected"
    )
    final = next(c["body"] for c in receiver.calls if c["body"]["event"] == "finalPdfCreated")
    assert final["object"] == "document" and final["data"]["uuid"] == signed and final["data"]["tag"] == "rt"
    assert final["data"]["status"] == 30 and final["data"]["recipients"][0]["status"] == 40
    # The document completed before any subscription existed: no event for it.
    assert early not in {d["document_id"] for d in sb.webhook_deliveries()}
