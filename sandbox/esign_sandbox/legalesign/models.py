"""
Legalesign state and behaviour: statuses, archiving, templates and their fields, document field values.

Facts from the official OpenAPI 3 spec (https://github.com/legalesign/Legalesign-V1-OpenAPI3): document
status 10 sent, 20 fields done, 30 signed, 40 removed, 50 rejected; signer status 4 unsent, 10 sent,
15 opened, 20 visited, 40 signed, 60 rejected; ``auto_archive`` (default true) archives "soon after
signing"; an archived document leaves ``GET /document/`` unless ``archived=true|all`` is asked for.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from esign_sandbox.credentials import LEGALESIGN_USER_ID
from esign_sandbox.index import IndexSpec
from esign_sandbox.models import Document, Signer
from esign_sandbox.pdfinfo import count_pages, text_tags
from esign_sandbox.state import SandboxState

VENDOR = "legalesign"
#: Post-signing steps until ``download_final`` becomes true.
FINAL_STEPS = 1
USER_URI = f"/api/v1/user/{LEGALESIGN_USER_ID}/"
PHASE_STATUS = {"unsent": 4, "sent": 10, "opened": 15, "viewed": 20, "signed": 40, "declined": 60}
#: Option defaults of ``POST /document/`` (``auto_archive`` true and ``do_email`` false per the spec).
DEFAULTS = {
    "do_email": False, "signers_in_order": False, "return_signer_links": False, "strict_fields": False,
    "convert_sender_to_signer": False, "append_pdf": True, "append_history": False, "auto_archive": True,
    "signature_type": 4, "cc_emails": None, "redirect": "", "reminders": "", "pdf_password": None,
    "pdf_password_type": None, "footer": "", "footer_height": None, "header": "", "header_height": None,
    "pdftext": None, "signertext": None,
}  # fmt: skip
#: Validation codes (spec ``PdfFieldValidationEnum``) the sandbox fills with realistic values.
_EMAIL_VALIDATION = 1
_DATE_FORMATS = {2: "%Y/%m/%d", 4: "%d/%m/%Y", 14: "%Y-%m-%d", 16: "%d-%m-%Y", 30: "%Y/%m/%d", 42: "%Y-%m-%d"}


def naive(timestamp: float | None) -> str | None:
    """:return: Legalesign's naive ``YYYY-mm-ddTHH:MM:SS`` (UTC) form."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def document_status(doc: Document, now: float) -> int:
    """:return: the Legalesign document status code (10, 30, 40, 50)."""
    if doc.voided_at is not None:
        return 40
    if doc.declined_signer is not None:
        return 50
    if doc.all_signed_at is not None:
        return 30
    return 10


def download_final(doc: Document, now: float) -> bool:
    """:return: whether the final PDF is ready."""
    return doc.voided_at is None and doc.stage_reached(FINAL_STEPS, now)


def auto_archive_at(doc: Document) -> float | None:
    """:return: when ``auto_archive`` archives the document, or ``None`` if it never does."""
    delay = doc.data.get("auto_archive_delay")
    ready = doc.stage_at(FINAL_STEPS)
    if delay is None or ready is None or doc.voided_at is not None or not doc.data["options"]["auto_archive"]:
        return None
    return ready + delay


def is_archived(doc: Document, now: float) -> bool:
    """:return: whether the document is archived (by ``DELETE``, or by ``auto_archive`` by now)."""
    at = auto_archive_at(doc)
    return doc.archived or (at is not None and now >= at)


def modified(doc: Document, now: float) -> float:
    """:return: the document's ``modified`` time (the latest event, the final PDF and archiving included)."""
    latest = doc.modified_at(now, FINAL_STEPS)
    at = auto_archive_at(doc)
    return max(latest, at) if at is not None and at <= now else latest


def signer_status(doc: Document, index: int, now: float) -> int:
    """
    :return: the signer status code. With ``signers_in_order`` a signer is only sent (10) once the previous
        one has signed; until then it stays unsent (4).
    """
    phase = doc.signer_phase(index, now)
    in_order = doc.data.get("options", {}).get("signers_in_order")
    if phase == "sent" and in_order and index > 0 and doc.signers[index - 1].signed_at is None:
        return PHASE_STATUS["unsent"]
    return PHASE_STATUS[phase]


def _index_keys(doc: Document, now: float) -> list[tuple[Any, ...]]:
    if doc.deleted:
        return []
    group, archived, status = doc.data["group"], is_archived(doc, now), document_status(doc, now)
    keys: list[tuple[Any, ...]] = []
    for flag in (archived, "all"):
        keys += [(group, flag), (group, flag, status)]
    return keys


def _settled(doc: Document, now: float) -> bool:
    if doc.deleted or doc.voided_at is not None or doc.declined_signer is not None:
        return True
    if not doc.stage_reached(FINAL_STEPS, now):
        return False
    at = auto_archive_at(doc)
    return at is None or now >= at


#: List filters: ``(group, archived)`` and ``(group, archived, status)`` with archived true/false/"all".
INDEX_SPEC = IndexSpec(keys=_index_keys, settled=_settled, modified=modified)


def build_document(
    state: SandboxState,
    *,
    name: str,
    signers: list[dict[str, Any]],
    group: str,
    templatepdf: str | None,
    options: dict[str, Any],
    tags: dict[str, str],
    user: str | None,
    created_at: float | None = None,
) -> Document:
    """:return: a new Legalesign document (not yet stored)."""
    doc_signers = [
        Signer(
            id=state.new_uuid(),
            first_name=raw["firstname"],
            last_name=raw["lastname"],
            email=raw["email"],
            order=index,
            role=raw.get("role") or None,
            data={"sms": raw.get("sms") or ""},
        )
        for index, raw in enumerate(signers)
    ]
    merged = dict(DEFAULTS)
    merged.update(options)
    return Document(
        vendor=VENDOR,
        id=state.new_uuid(),
        name=name,
        created_at=state.now() if created_at is None else created_at,
        signers=doc_signers,
        send_delay=state.config.send_delay,
        sign_delay=state.config.sign_delay,
        pdf_delay=state.config.pdf_delay,
        data={
            "group": group,
            "templatepdf": templatepdf,
            "user": user or USER_URI,
            "options": merged,
            "auto_archive_delay": state.config.legalesign_auto_archive_delay,
            **{k: tags.get(k, "") for k in ("tag", "tag1", "tag2")},
        },
    )


def history_document(state: SandboxState, created_at: float, outcome: str, number: int) -> Document:
    """:return: a final historical document (``completed``, ``voided`` or ``declined``) for bulk seeding."""
    doc = build_document(
        state,
        name=f"Historical contract {number}",
        signers=[{"firstname": "Past", "lastname": f"Signer {number}", "email": f"past{number}@example.com"}],
        group=state.config.legalesign_group,
        templatepdf=None,
        options={},
        tags={"tag": f"history-{number}"},
        user=None,
        created_at=created_at,
    )
    # Legalesign's void (DELETE) sets status 40 and archives.
    doc.archived = outcome == "voided"
    doc.close_as_history(outcome, number, void_reason="removed")
    return doc


# -- templates ----------------------------------------------------------------------------------------------
def default_fields(pdf_bytes: bytes, page_count: int, process_tags: bool) -> list[dict[str, Any]]:
    """
    The fields of a new template: its text tags when ``process_tags`` is set and tags are found, else one
    signature field for signer 1 on the last page (so that an untagged PDF can still be sent).
    """
    tags = text_tags(pdf_bytes) if process_tags else []
    if not tags:
        tags = [{"element_type": "signature", "signer": 1, "label": "Signature 1"}]
    fields = []
    for number, tag in enumerate(tags, start=1):
        top = 0.1 + 0.08 * ((number - 1) % 10)
        fields.append(
            {
                "element_type": tag["element_type"],
                "signer": tag["signer"],
                "label": tag["label"] or f"{str(tag['element_type']).title()} {number}",
                "page": page_count,
                "ax": 0.1, "ay": round(top, 2), "bx": 0.4, "by": round(top + 0.05, 2),
                "fieldorder": number,
                "optional": False,
                "validation": None,
            }
        )  # fmt: skip
    return fields


def new_templatepdf(
    state: SandboxState, *, title: str, group: str, user: str | None, pdf_bytes: bytes, process_tags: bool
) -> dict[str, Any]:
    """:return: a stored template record with page count and fields read from the PDF."""
    template_id = state.new_uuid()
    pages = count_pages(pdf_bytes)
    template = {
        "uuid": template_id,
        "title": title,
        "group": group,
        "user": user or USER_URI,
        "created": state.now(),
        "modified": state.now(),
        "page_count": pages,
        "size": len(pdf_bytes),
        "process_tags": process_tags,
        "archived": False,
    }
    set_fields(template, default_fields(pdf_bytes, pages, process_tags), state.now())
    state.templatepdfs[template_id] = template
    return template


def set_fields(template: dict[str, Any], fields: list[dict[str, Any]], now: float) -> None:
    """Replace every field of a template (``POST /templatepdf/{id}/fields/`` semantics), assigning uuids."""
    stored = []
    for number, raw in enumerate(fields, start=1):
        field = dict(raw)
        field.setdefault("fieldorder", number)
        field["uuid"] = f"{template['uuid'][:24]}{number:012d}"
        stored.append(field)
    template["fields"] = stored
    template["modified"] = now


def signer_numbers(template: dict[str, Any]) -> list[int]:
    """:return: the distinct 1-based signer numbers of the template's fields (witness +100, approver +200)."""
    return sorted({int(f["signer"]) for f in template["fields"] if f.get("signer") is not None})


def parties(template: dict[str, Any]) -> str:
    """:return: the spec's ``parties``: a *string* holding a JSON array of the template's parties."""
    roles = {0: "signer", 1: "witness", 2: "approver"}
    items = [
        {"signer_index": n, "role": roles.get(n // 100, "signer"), "label": f"Signer {n % 100}"}
        for n in signer_numbers(template)
    ]
    return json.dumps(items, separators=(",", ":"))


# -- document field values --------------------------------------------------------------------------------
def field_values(state: SandboxState, doc: Document, now: float) -> list[dict[str, Any]]:
    """
    ``GET /document/{id}/fields/``: the template's fields with the values the document holds by ``now``.

    Sender fields (``admin``) hold their ``pdftext`` value; signer fields are filled once their signer has
    signed (the ``signertext`` placeholder, or a value that fits the field's validation); signature and
    initials fields hold the signer's name or initials once signed.
    """
    template_id = (doc.data.get("templatepdf") or "").rstrip("/").rsplit("/", 1)[-1]
    template = state.templatepdfs.get(template_id)
    if template is None:
        return []
    options = doc.data["options"]
    pdftext, signertext = options.get("pdftext") or {}, options.get("signertext") or {}
    result = []
    for field in template["fields"]:
        number = field.get("signer")
        signer = doc.signers[(number % 100) - 1] if number and 0 < number % 100 <= len(doc.signers) else None
        signed = signer is not None and signer.signed_at is not None
        value, label = "", field.get("label") or ""
        if field["element_type"] == "admin":
            value = pdftext.get(label) or pdftext.get(field["uuid"]) or ""
        elif signed and signer is not None:
            value = _signer_value(field, signer, signertext.get(label) or signertext.get(field["uuid"]))
        result.append(
            {
                "element_type": field["element_type"],
                "fieldorder": field.get("fieldorder"),
                "label": label,
                "label_extra": field.get("label_extra", ""),
                "signer": number,
                "state": field["element_type"] == "admin" or signed,
                "validation": field.get("validation"),
                "value": value,
            }
        )
    return result


def _signer_value(field: dict[str, Any], signer: Signer, placeholder: str | None) -> str:
    kind, validation = field["element_type"], field.get("validation")
    if kind == "signature":
        return signer.name
    if kind == "initials":
        return "".join(part[:1].upper() for part in signer.name.split())
    if validation == _EMAIL_VALIDATION:
        return signer.email
    if validation in _DATE_FORMATS and signer.signed_at is not None:
        return dt.datetime.fromtimestamp(signer.signed_at, dt.timezone.utc).strftime(
            _DATE_FORMATS[validation]
        )
    return placeholder or f"{signer.name} ({field.get('label') or 'text'})"


def decorate_control_document(state: SandboxState, doc: Document, payload: dict[str, Any]) -> None:
    """Fill the Legalesign-specific fields of a document created through the control API."""
    doc.data.update(
        {
            "group": state.config.legalesign_group,
            "templatepdf": None,
            "user": USER_URI,
            "options": dict(DEFAULTS),
            "auto_archive_delay": state.config.legalesign_auto_archive_delay,
            "tag": str(payload.get("tag") or ""),
            "tag1": str(payload.get("tag1") or ""),
            "tag2": str(payload.get("tag2") or ""),
        }
    )


def raw_status(doc: Document, now: float) -> Any:
    """:return: the vendor status shown by the control API."""
    return document_status(doc, now)
