"""
eSignBase state and behaviour: the documented status ladder, document and template bodies, list index.

Facts from the eSignBase API documentation (https://app.esignbase.com/api_documentation): statuses DRAFT,
SENT, PARTIALLY_SIGNED, WAITING_FOR_PREPARATION, WAITING_FOR_DIGITAL_SIGNATURE, DIGITAL_SIGNATURE_CREATED,
COMPLETED, VOIDED; ``GET /api/documents`` pages with ``limit`` (at most 100) and ``offset`` and reports the
total as ``count``; no sort order and no server-side filter are documented.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

from esign_sandbox.credentials import ESIGNBASE_TEMPLATES
from esign_sandbox.index import IndexSpec
from esign_sandbox.models import Document, Signer
from esign_sandbox.state import SandboxState

VENDOR = "esignbase"
PREFIX = "/esignbase"
SCOPES = ("all", "read", "create_document", "delete", "sandbox")
DOWNLOADABLE = ("DIGITAL_SIGNATURE_CREATED", "COMPLETED")
#: Post-signing steps: preparation -> waiting for digital signature -> signature created -> completed.
COMPLETED_STEPS = 3
_TEMPLATE_CTIME = "2025-08-25T13:49:00+00:00"
_ISO_WITH_OFFSET = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?(Z|[+-]\d{2}:?\d{2})"
)


def iso(timestamp: float | None) -> str | None:
    """:return: ``YYYY-MM-DDTHH:MM:SS+00:00``."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat(timespec="seconds")


def parse_expiration(value: str) -> float | None:
    """
    Parse an ISO 8601 date-time that carries an offset (``+00:00``, ``+0000`` or ``Z``, as the SDKs send).

    :return: epoch seconds, or ``None`` when the format is not accepted.
    """
    match = _ISO_WITH_OFFSET.fullmatch(value)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        naive = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )  # fmt: skip
    except ValueError:
        return None
    if offset == "Z":
        delta = dt.timedelta(0)
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        delta = sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return naive.replace(tzinfo=dt.timezone(delta)).timestamp()


def document_status(doc: Document, now: float) -> str:
    """:return: the eSignBase status string for ``doc`` at ``now``."""
    if doc.voided_at is not None or doc.declined_signer is not None:
        return "VOIDED"
    if doc.sent_at is None:
        return "DRAFT"
    signed = sum(1 for s in doc.signers if s.signed_at is not None)
    if signed == 0:
        return "SENT"
    if signed < len(doc.signers):
        return "PARTIALLY_SIGNED"
    ladder = ("WAITING_FOR_PREPARATION", "WAITING_FOR_DIGITAL_SIGNATURE", "DIGITAL_SIGNATURE_CREATED")
    for steps in range(COMPLETED_STEPS, 0, -1):
        if doc.stage_reached(steps, now):
            return "COMPLETED" if steps == COMPLETED_STEPS else ladder[steps]
    return ladder[0]


def template_body(template_id: str) -> dict[str, Any]:
    """:return: the template object as ``GET /api/template/{id}`` returns it."""
    roles, page_standard, pages, filename = ESIGNBASE_TEMPLATES[template_id]
    return {
        "id": template_id,
        "ctime": _TEMPLATE_CTIME,
        "filename": filename,
        "num_of_pages": pages,
        "page_standard": page_standard,
        "form_role_names": list(roles),
    }


def document_body(doc: Document, now: float) -> dict[str, Any]:
    """:return: the document object (item shape of ``GET /api/documents``)."""
    _, page_standard, pages, _ = ESIGNBASE_TEMPLATES[doc.data["template_id"]]
    status = document_status(doc, now)
    days = None
    if doc.expires_at is not None:
        days = max(0, math.ceil((doc.expires_at - now) / 86400))
    return {
        "id": doc.id,
        "template_id": doc.data["template_id"],
        "name": doc.name,
        "owner": "Sandbox Owner",
        "ctime": iso(doc.created_at),
        "mtime": iso(doc.modified_at(now, COMPLETED_STEPS)),
        "expiration_date": iso(doc.expires_at),
        "page_standard": page_standard,
        "num_of_pages": pages,
        "completed_date": iso(doc.stage_at(COMPLETED_STEPS)) if status == "COMPLETED" else None,
        "status": status,
        "recipients": [
            {
                "email": s.email,
                "first_name": s.first_name,
                "last_name": s.last_name,
                "days_before_voided": days,
                "form_role": s.role,
                "locale": s.data.get("locale", "en"),
            }
            for s in doc.signers
        ],
        "user_defined_metadata": dict(doc.data.get("metadata") or {}),
    }


def new_document(
    state: SandboxState,
    *,
    name: str,
    template_id: str,
    recipients: list[dict[str, Any]],
    metadata: dict[str, str] | None,
    expiration: str | None,
    sandbox_mode: bool,
) -> Document:
    """:return: a new stored eSignBase document (already validated input)."""
    doc = Document(
        vendor=VENDOR,
        id=state.new_uuid(),
        name=name,
        created_at=state.now(),
        signers=[
            Signer(
                id=str(i),
                first_name=r["first_name"],
                last_name=r["last_name"],
                email=r["email"],
                order=i,
                role=r["role_name"],
                data={"locale": r.get("locale", "en")},
            )
            for i, r in enumerate(recipients)
        ],
        send_delay=state.config.send_delay,
        sign_delay=state.config.sign_delay,
        pdf_delay=state.config.pdf_delay,
        expires_at=parse_expiration(expiration) if expiration else None,
        data={"template_id": template_id, "metadata": dict(metadata or {}), "sandbox": sandbox_mode},
    )
    return state.add(doc)


def decorate_control_document(state: SandboxState, doc: Document, payload: dict[str, Any]) -> None:
    """
    Fill the eSignBase-specific fields of a document created through the control API.

    :raises ValueError: when no template fits the signers.
    """
    template_id = payload.get("template_id")
    if template_id is None:
        template_id = next(
            (t for t, spec in ESIGNBASE_TEMPLATES.items() if len(spec[0]) == len(doc.signers)), None
        )
    if template_id not in ESIGNBASE_TEMPLATES:
        raise ValueError("template_id is unknown or no template has that many roles")
    roles = ESIGNBASE_TEMPLATES[template_id][0]
    if len(roles) != len(doc.signers):
        raise ValueError(f"template {template_id} needs exactly {len(roles)} signer(s)")
    for signer, role in zip(doc.signers, roles, strict=True):
        signer.role = role
        signer.data.setdefault("locale", "en")
    metadata = payload.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("metadata must map strings to strings")
    doc.data.update({"template_id": template_id, "metadata": metadata, "sandbox": True})


def raw_status(doc: Document, now: float) -> Any:
    """:return: the vendor status shown by the control API."""
    return document_status(doc, now)


def _settled(doc: Document, now: float) -> bool:
    return doc.deleted or document_status(doc, now) in ("VOIDED", "COMPLETED")


#: eSignBase documents no list filter: one list of every document not deleted.
INDEX_SPEC = IndexSpec(
    keys=lambda doc, now: [] if doc.deleted else [("all",)],
    settled=_settled,
    modified=lambda doc, now: doc.modified_at(now, COMPLETED_STEPS),
)


def history_document(state: SandboxState, created_at: float, outcome: str, number: int) -> Document:
    """:return: a final historical document (``completed``, ``voided`` or ``declined``) for bulk seeding."""
    template_id = next(t for t, spec in ESIGNBASE_TEMPLATES.items() if len(spec[0]) == 1)
    role = ESIGNBASE_TEMPLATES[template_id][0][0]
    doc = Document(
        vendor=VENDOR,
        id=state.new_uuid(),
        name=f"Historical contract {number}",
        created_at=created_at,
        signers=[
            Signer(id="0", first_name="Past", last_name=f"Signer {number}", email=f"past{number}@example.com",
                   order=0, role=role, data={"locale": "en"})
        ],
        send_delay=state.config.send_delay,
        sign_delay=state.config.sign_delay,
        pdf_delay=state.config.pdf_delay,
        data={"template_id": template_id, "metadata": {"history": str(number)}, "sandbox": True},
    )  # fmt: skip
    doc.close_as_history(outcome, number)
    # Completed long ago: the documented hook never fires for these.
    doc.hook_done = True
    return doc
