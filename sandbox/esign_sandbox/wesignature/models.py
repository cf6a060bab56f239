"""
WeSignature state and behaviour: statuses, the sign_type labels, links, the list index, seeded history.

Facts from the WeSignature API documentation (https://app.wesignature.com/integrations/api/documentation):
document status 1 out for signature, 2 cancelled, 3 completed; signer status 1 pending, 2 viewed, 3 signed,
4 rejected; ``getsentdocumentsapi`` documents no pagination and no filter but ``guid``, and no order.
"""

from __future__ import annotations

import posixpath
import secrets
import urllib.parse
from typing import Any

from esign_sandbox.index import IndexSpec
from esign_sandbox.models import Document, Signer
from esign_sandbox.state import SandboxState

VENDOR = "wesignature"
PREFIX = "/wesignature"
API_PREFIX = PREFIX + "/apihandler"
#: ``sign_type`` -> ``signature_type`` label. The vendor's table says 0 i sign, 1 we-sign, 2 they-sign, and
#: its own example sends 3 and gets "they-sign"; the "shifted" reading is that the table is off by one.
SIGN_TYPE_TABLES = {
    "documented": {0: "i-sign", 1: "we-sign", 2: "they-sign", 3: "they-sign"},
    "shifted": {0: "i-sign", 1: "i-sign", 2: "we-sign", 3: "they-sign"},
}
_SEND_FIELDS = {
    "user_id", "api_key", "sign_type", "file_list", "is_for_embedded_signing", "signers", "mail_data",
}  # fmt: skip
PHASE_STATUS = {"unsent": "1", "sent": "1", "opened": "2", "viewed": "2", "signed": "3", "declined": "4"}
#: Post-signing steps until the document is "3" (completed) and downloadable.
COMPLETE_STEPS = 1


def is_sent(doc: Document) -> bool:
    """:return: whether status data exists: the document went out for signature or was cancelled."""
    return doc.sent_at is not None or doc.voided_at is not None


def document_status(doc: Document, now: float) -> str:
    """
    :return: ``"1"`` out for signature, ``"2"`` cancelled, ``"3"`` completed. A decline leaves ``"1"``:
        the vendor does not say whether it moves, and this forces clients to check the signers.
    """
    if doc.voided_at is not None or (doc.declined_signer is not None and doc.data.get("decline_cancels")):
        return "2"
    if doc.declined_signer is None and doc.stage_reached(COMPLETE_STEPS, now):
        return "3"
    return "1"


def completed(doc: Document, now: float) -> bool:
    """:return: whether the final PDF can be downloaded."""
    return document_status(doc, now) == "3"


def list_status(doc: Document, now: float) -> str:
    if not is_sent(doc):
        return "draft"
    return {"1": "pending", "2": "cancelled", "3": "completed"}[document_status(doc, now)]


def links(origin: str, doc: Document) -> dict[str, str]:
    token = doc.data["download_token"]
    return {
        "signing_link": f"{origin}{PREFIX}/sign/{doc.id}/{doc.data['signing_token']}",
        "edit_link": f"{origin}{PREFIX}/doc_prepare/?guid={doc.id}",
        "delete_link": f"{origin}{PREFIX}/document/delete/{doc.id}",
        "download_link": f"{origin}{PREFIX}/document/download/{doc.id}/{token}",
    }


def decorate(state: SandboxState, doc: Document, *, sign_type: int, embedded: int, files: list[str]) -> None:
    """Fill the WeSignature-specific fields of a new document."""
    first_path = urllib.parse.urlsplit(files[0]).path if files else ""
    doc.data.update(
        {
            "sign_type": sign_type,
            "is_for_embedded_signing": embedded,
            "file_urls": files,
            "document_name": urllib.parse.unquote(posixpath.basename(first_path)) or "document",
            "signature_request_id": str(100000 + state.next_sequence()),
            "download_token": secrets.token_urlsafe(24),
            "signing_token": secrets.token_urlsafe(12),
            "mail_data": None,
            "label": SIGN_TYPE_TABLES[state.config.wesignature_sign_type_table][sign_type],
            "decline_cancels": state.config.wesignature_decline_cancels,
        }
    )
    for signer in doc.signers:
        # A signer_id only exists for embedded signing requests (vendor note in §1.4).
        signer.data["signer_id"] = str(200000 + state.next_sequence()) if embedded == 1 else ""


def decorate_control_document(state: SandboxState, doc: Document, payload: dict[str, Any]) -> None:
    """Fill the WeSignature-specific fields of a document created through the control API."""
    file_url = payload.get("file_url") or "https://files.example.test/sandbox-document.pdf"
    decorate(
        state,
        doc,
        sign_type=int(payload.get("sign_type", 3)),
        embedded=int(payload.get("is_for_embedded_signing", 0)),
        files=[str(file_url)],
    )
    doc.data["mail_data"] = payload.get("mail_data")


def raw_status(doc: Document, now: float) -> Any:
    """:return: ``"draft"`` before the document is out, else the ``documentstatusapi`` value."""
    return document_status(doc, now) if is_sent(doc) else "draft"


def _settled(doc: Document, now: float) -> bool:
    return (
        doc.voided_at is not None or doc.declined_signer is not None or doc.stage_reached(COMPLETE_STEPS, now)
    )


#: WeSignature documents no list filter but ``guid``: one list of every document.
INDEX_SPEC = IndexSpec(
    keys=lambda doc, now: [("all",)],
    settled=_settled,
    modified=lambda doc, now: doc.modified_at(now, COMPLETE_STEPS),
)


def history_document(state: SandboxState, created_at: float, outcome: str, number: int) -> Document:
    """:return: a final historical document (``completed``, ``voided`` or ``declined``) for bulk seeding."""
    doc = Document(
        vendor=VENDOR,
        id="group-" + state.new_hex(23),
        name=f"historical-contract-{number}.pdf",
        created_at=created_at,
        signers=[
            Signer(
                id="0",
                first_name=f"Past Signer {number}",
                last_name="",
                email=f"past{number}@example.com",
                order=0,
            )
        ],
        send_delay=state.config.send_delay,
        sign_delay=state.config.sign_delay,
        pdf_delay=state.config.pdf_delay,
    )
    decorate(state, doc, sign_type=3, embedded=0, files=[f"https://files.example.test/{doc.name}"])
    doc.close_as_history(outcome, number)
    return doc
