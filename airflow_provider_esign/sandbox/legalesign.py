"""
Legalesign REST API v1 emulation (``/legalesign/api/v1/...``).

Modelled on the official OpenAPI spec: ``ApiKey user:secret`` auth, trailing slashes everywhere, 201 +
absolute ``Location`` on create, Tastypie-style ``{"meta", "objects"}`` lists with relative ``next`` links,
and 400 bodies keyed by object then field.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from airflow_provider_esign.sandbox.credentials import LEGALESIGN_USER_ID
from airflow_provider_esign.sandbox.models import Document, Signer, iso_utc
from airflow_provider_esign.sandbox.pdf import build_pdf
from airflow_provider_esign.sandbox.responses import html_response, json_response, pdf_response
from airflow_provider_esign.sandbox.state import SandboxState

VENDOR = "legalesign"
API_PREFIXES = ("/legalesign/api/v1", "/api/v1")
STORAGE_PREFIX = "/legalesign-storage"

_GROUP_URI = re.compile(r"/api/v1/group/([-\w]{1,50})/")
_TEMPLATEPDF_URI = re.compile(r"/api/v1/templatepdf/([-\w]+)/")
_USER_URI = re.compile(r"/api/v1/user/([-\w]+)/")
_ATTACHMENT_URI = re.compile(r"/api/v1/attachment/([-\w]+)/")
_NAME = re.compile(r"[-\w' ]{1,60}")
_TAG = re.compile(r"[-\w\[\]\:\;\/\.\, _]{0,250}")
_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\"]+")

#: Fields the current spec accepts on ``POST /document/`` (``text``/``template`` are handled separately).
_DOCUMENT_FIELDS = {
    "group", "name", "templatepdf", "signers", "do_email", "signers_in_order", "return_signer_links",
    "pdftext", "signertext", "strict_fields", "convert_sender_to_signer", "user", "tag", "tag1", "tag2",
    "cc_emails", "signature_type", "append_pdf", "append_history", "auto_archive", "redirect", "reminders",
    "pdf_password", "pdf_password_type", "footer", "footer_height", "header", "header_height",
}  # fmt: skip
_BOOL_FIELDS = (
    "do_email", "signers_in_order", "return_signer_links", "strict_fields", "convert_sender_to_signer",
    "append_pdf", "append_history", "auto_archive",
)  # fmt: skip
_DEFAULTS = {
    "do_email": False, "signers_in_order": False, "return_signer_links": False, "strict_fields": False,
    "convert_sender_to_signer": False, "append_pdf": True, "append_history": False, "auto_archive": True,
    "signature_type": 4, "cc_emails": None, "redirect": "", "reminders": "", "pdf_password": None,
    "pdf_password_type": None, "footer": "", "footer_height": None, "header": "", "header_height": None,
    "pdftext": None, "signertext": None,
}  # fmt: skip
_SIGNER_FIELDS = {
    "firstname", "lastname", "email", "order", "message", "subject", "sms", "expires", "timezone",
    "attachments", "reviewers", "decide_later", "role", "skip", "experience", "behalfof",
}  # fmt: skip
_TEMPLATEPDF_FIELDS = {"group", "pdf_file", "title", "user", "process_tags", "archive_upon_send"}
_PHASE_STATUS = {"unsent": 4, "sent": 10, "opened": 15, "viewed": 20, "signed": 40, "declined": 60}
#: Post-signing steps until ``download_final`` becomes true.
FINAL_STEPS = 1


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


def _error(obj: str, errors: dict[str, list[str]], status: int = 400) -> Response:
    return json_response({obj: errors}, status)


def _server_error() -> Response:
    # Django's stock 500 page: Legalesign documents 500 as "usually json parsing error".
    return Response("<h1>Server Error (500)</h1>", status_code=500, media_type="text/html")


def _not_found() -> Response:
    return Response(status_code=404)


def _is_email(value: Any, max_length: int = 75) -> bool:
    return isinstance(value, str) and len(value) <= max_length and bool(_EMAIL.fullmatch(value))


def _origin(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def _api_base(request: Request) -> str:
    path = request.url.path
    prefix = next((p for p in API_PREFIXES if path.startswith(p + "/")), API_PREFIXES[0])
    return _origin(request) + prefix


def _bool_param(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise ValueError(value)


def signer_uri(signer: Signer) -> str:
    """:return: the signer's resource URI."""
    return f"/api/v1/signer/{signer.id}/"


def document_uri(doc: Document) -> str:
    """:return: the document's resource URI."""
    return f"/api/v1/document/{doc.id}/"


def signer_status(doc: Document, index: int, now: float) -> int:
    """
    :return: the signer status code. With ``signers_in_order`` a signer is only sent (10) once the previous
        one has signed; until then it stays unsent (4).
    """
    phase = doc.signer_phase(index, now)
    in_order = doc.data.get("options", {}).get("signers_in_order")
    if phase == "sent" and in_order and index > 0 and doc.signers[index - 1].signed_at is None:
        return _PHASE_STATUS["unsent"]
    return _PHASE_STATUS[phase]


def signer_rows(doc: Document, now: float) -> list[list[Any]]:
    """:return: the 8-element ``signers`` arrays."""
    return [
        [
            signer_uri(s),
            s.first_name,
            s.last_name,
            s.email,
            s.data.get("sms", ""),
            True,
            signer_status(doc, i, now),
            s.order,
        ]
        for i, s in enumerate(doc.signers)
    ]


def signer_objects(doc: Document, now: float) -> list[dict[str, Any]]:
    """:return: the ``signer_objects`` list."""
    return [
        {
            "uuid": s.id,
            "resource_uri": signer_uri(s),
            "firstname": s.first_name,
            "lastname": s.last_name,
            "email": s.email,
            "order": s.order,
            "role": s.role or "signer",
            "tel": s.data.get("sms", ""),
            "status": signer_status(doc, i, now),
        }
        for i, s in enumerate(doc.signers)
    ]


def _common(doc: Document, now: float) -> dict[str, Any]:
    data = doc.data
    final = download_final(doc, now)
    return {
        "uuid": doc.id,
        "resource_uri": document_uri(doc),
        "name": doc.name,
        "group": f"/api/v1/group/{data['group']}/",
        "user": data["user"],
        "templatepdf": data.get("templatepdf"),
        "template": None,
        "text": None,
        "status": document_status(doc, now),
        "archived": doc.archived,
        "auto_archive": data["options"]["auto_archive"],
        "do_email": data["options"]["do_email"],
        "download_final": final,
        "return_signer_links": data["options"]["return_signer_links"],
        "cc_emails": data["options"]["cc_emails"],
        "pdftext": data["options"]["pdftext"],
        "redirect": data["options"]["redirect"],
        "tag": data.get("tag", ""),
        "tag1": data.get("tag1", ""),
        "tag2": data.get("tag2", ""),
        "created": naive(doc.created_at),
        "modified": naive(doc.modified_at(now, FINAL_STEPS)),
    }


def document_detail(doc: Document, now: float) -> dict[str, Any]:
    """:return: the ``DocumentResponseDetail`` body."""
    options = doc.data["options"]
    body = _common(doc, now)
    body.update(
        {
            "hash_value": doc.final_pdf().sha256() if body["download_final"] else None,
            "sign_time": naive(doc.all_signed_at),
            "signers_in_order": options["signers_in_order"],
            "append_pdf": options["append_pdf"],
            "append_history": options["append_history"],
            "signature_type": options["signature_type"],
            "has_fields": True,
            "pdf_password": options["pdf_password"],
            "pdf_password_type": options["pdf_password_type"],
            "footer": options["footer"],
            "footer_height": options["footer_height"],
            "header": options["header"],
            "header_height": options["header_height"],
            "sign_mouse": True,
            "sign_type": True,
            "sign_upload": True,
            "signature_placement": 2,
            "signers": signer_rows(doc, now),
            "signer_objects": signer_objects(doc, now),
        }
    )
    return body


def document_list_item(doc: Document, now: float, *, with_signers: bool) -> dict[str, Any]:
    """:return: a ``DocumentListResponse`` item."""
    body = _common(doc, now)
    body["signers_in_order"] = 1 if doc.data["options"]["signers_in_order"] else 0
    if with_signers:
        body["signers"] = signer_rows(doc, now)
    return body


def _list_envelope(
    objects: list[Any], total: int, limit: int, offset: int, path: str, params: dict[str, str]
) -> dict[str, Any]:
    def link(new_offset: int) -> str:
        query = dict(params)
        query["limit"] = str(limit)
        query["offset"] = str(new_offset)
        return f"{path}?{urllib.parse.urlencode(sorted(query.items()))}"

    return {
        "meta": {
            "limit": limit,
            "offset": offset,
            "total_count": total,
            "next": link(offset + limit) if offset + limit < total else None,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
        },
        "objects": objects,
    }


def _paging(request: Request, obj: str) -> tuple[int, int] | Response:
    try:
        limit = int(request.query_params.get("limit", "20"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        return _error(obj, {"__all__": ["limit and offset must be integers."]})
    if limit < 0 or offset < 0:
        return _error(obj, {"__all__": ["limit and offset must not be negative."]})
    # Tastypie semantics: 0 means "the maximum", larger values are capped silently.
    limit = 100 if limit == 0 else min(limit, 100)
    return limit, offset


async def _json_body(request: Request, obj: str) -> dict[str, Any] | Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error(obj, {"__all__": ["Content-Type must be application/json."]})
    raw = await request.body()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _server_error()
    if not isinstance(body, dict):
        return _error(obj, {"__all__": ["The request body must be a JSON object."]})
    return body


def _group_slug(state: SandboxState, value: Any, errors: dict[str, list[str]]) -> str | None:
    if value is None:
        errors["group"] = ["This field is required."]
        return None
    if not isinstance(value, str) or not (match := _GROUP_URI.fullmatch(value)):
        errors["group"] = ["Must be a group resource URI like /api/v1/group/<slug>/."]
        return None
    if match.group(1) != state.config.legalesign_group:
        errors["group"] = [f"Group {match.group(1)!r} does not exist or you are not a member of it."]
        return None
    return match.group(1)


def _check_user(value: Any, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, str) or not (match := _USER_URI.fullmatch(value)):
        errors["user"] = ["Must be a user resource URI like /api/v1/user/<id>/."]
    elif match.group(1) != LEGALESIGN_USER_ID:
        errors["user"] = ["User does not exist or is not a member of the group."]


def _validate_signer(index: int, raw: Any, messages: list[str]) -> None:
    where = f"signers[{index}]"
    if not isinstance(raw, dict):
        messages.append(f"{where}: must be an object.")
        return
    unknown = sorted(set(raw) - _SIGNER_FIELDS)
    if unknown:
        messages.append(f"{where}: unknown field(s) {', '.join(unknown)}.")
    for key in ("firstname", "lastname"):
        value = raw.get(key)
        if value is None:
            messages.append(f"{where}.{key}: This field is required.")
        elif not isinstance(value, str) or not _NAME.fullmatch(value):
            messages.append(f"{where}.{key}: 1-60 letters, digits, spaces, hyphens or apostrophes.")
    email = raw.get("email")
    if email is None:
        messages.append(f"{where}.email: This field is required.")
    elif not _is_email(email):
        messages.append(f"{where}.email: Enter a valid email address (at most 75 characters).")
    order = raw.get("order")
    if order is not None and (not isinstance(order, int) or isinstance(order, bool) or order < 0):
        messages.append(f"{where}.order: must be a non-negative integer.")
    for key in ("message", "sms", "timezone", "experience", "behalfof"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            messages.append(f"{where}.{key}: must be a string.")
    subject = raw.get("subject")
    if subject is not None and (not isinstance(subject, str) or len(subject) > 150):
        messages.append(f"{where}.subject: at most 150 characters.")
    expires = raw.get("expires")
    if expires is not None:
        try:
            dt.datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        except ValueError:
            messages.append(f"{where}.expires: must be an ISO 8601 date-time.")
    for key in ("decide_later", "skip"):
        if raw.get(key) is not None and not isinstance(raw[key], bool):
            messages.append(f"{where}.{key}: must be a boolean.")
    role = raw.get("role")
    if role not in (None, "", "witness", "approver"):
        messages.append(f"{where}.role: must be 'witness' or 'approver'.")
    attachments = raw.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list) or not all(
            isinstance(a, str) and _ATTACHMENT_URI.fullmatch(a) for a in attachments
        ):
            messages.append(f"{where}.attachments: must be a list of /api/v1/attachment/<id>/ URIs.")
        elif attachments:
            messages.append(f"{where}.attachments: attachment does not exist.")
    reviewers = raw.get("reviewers")
    if reviewers is not None and (
        not isinstance(reviewers, list)
        or not all(isinstance(r, dict) and _is_email(r.get("email")) for r in reviewers)
    ):
        messages.append(f"{where}.reviewers: must be a list of {{email, firstname, lastname, include_link}}.")


def validate_document(state: SandboxState, body: dict[str, Any]) -> dict[str, list[str]]:
    """
    Validate a ``POST /document/`` body against the current spec.

    :return: field -> messages; empty when valid.
    """
    errors: dict[str, list[str]] = {}
    if "text" in body:
        errors["text"] = [
            "This field is no longer supported: upload the PDF with POST /templatepdf/ and send it with "
            "'templatepdf'."
        ]
    if "template" in body:
        errors["template"] = ["This field is deprecated and no longer accepted; use 'templatepdf'."]
    unknown = sorted(set(body) - _DOCUMENT_FIELDS - {"text", "template"})
    for key in unknown:
        errors[key] = ["Unknown field."]
    slug = _group_slug(state, body.get("group"), errors)
    name = body.get("name")
    if name is None:
        errors["name"] = ["This field is required."]
    elif not isinstance(name, str) or not 1 <= len(name) <= 60:
        errors["name"] = ["Ensure this field has 1 to 60 characters."]
    templatepdf = body.get("templatepdf")
    if templatepdf is None:
        errors["templatepdf"] = ["This field is required."]
    elif not isinstance(templatepdf, str) or not (match := _TEMPLATEPDF_URI.fullmatch(templatepdf)):
        errors["templatepdf"] = ["Must be a templatepdf resource URI like /api/v1/templatepdf/<uuid>/."]
    else:
        template = state.templatepdfs.get(match.group(1))
        if template is None:
            errors["templatepdf"] = [
                "Could not find the templatepdf; upload it with POST /templatepdf/ first."
            ]
        elif slug is not None and template["group"] != slug:
            errors["templatepdf"] = ["The templatepdf belongs to another group."]
    signers = body.get("signers")
    if signers is None:
        errors["signers"] = ["This field is required."]
    elif not isinstance(signers, list):
        errors["signers"] = ["Must be a list of signer objects, even for one signer."]
    elif not signers:
        errors["signers"] = ["At least one signer is required."]
    else:
        messages: list[str] = []
        for index, raw in enumerate(signers):
            _validate_signer(index, raw, messages)
        if messages:
            errors["signers"] = messages
    for key in _BOOL_FIELDS:
        if key in body and not isinstance(body[key], bool):
            errors[key] = ["Must be a boolean (true or false)."]
    for key in ("pdftext", "signertext"):
        value = body.get(key)
        if value is not None and (
            not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
        ):
            errors[key] = ["Must be an object mapping field labels or uuids to string values."]
    if "user" in body and body["user"] is not None:
        _check_user(body["user"], errors)
    for key in ("tag", "tag1", "tag2"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or not _TAG.fullmatch(value)):
            errors[key] = ["At most 250 characters: letters, digits, spaces and - [ ] : ; / . , _"]
    cc_emails = body.get("cc_emails")
    if cc_emails is not None and (
        not isinstance(cc_emails, str)
        or not all(_is_email(e.strip(), 254) for e in cc_emails.split(",") if e.strip())
    ):
        errors["cc_emails"] = ["Must be a comma-separated string of valid email addresses."]
    signature_type = body.get("signature_type")
    if signature_type is not None and (signature_type not in (1, 4) or isinstance(signature_type, bool)):
        errors["signature_type"] = ["Must be 1 (sha256 hash) or 4 (certified PDF)."]
    redirect = body.get("redirect")
    if redirect not in (None, "") and (
        not isinstance(redirect, str) or not redirect.startswith("https://") or len(redirect) > 250
    ):
        errors["redirect"] = ["Must be an https:// URL of at most 250 characters."]
    if body.get("reminders") not in (None, "", "default"):
        errors["reminders"] = ["Must be 'default' or an empty string."]
    if body.get("pdf_password") is not None:
        if not isinstance(body["pdf_password"], str):
            errors["pdf_password"] = ["Must be a string."]
        elif body.get("signature_type", 4) != 4:
            errors["pdf_password"] = ["A PDF password requires signature_type 4."]
        if body.get("pdf_password_type") not in (1, 2):
            errors["pdf_password_type"] = ["Must be 1 (store) or 2 (delete after signing)."]
    for key in ("footer", "header"):
        if body.get(key) is not None and not isinstance(body[key], str):
            errors[key] = ["Must be a string."]
    for key in ("footer_height", "header_height"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            errors[key] = ["Must be a non-negative integer."]
    return errors


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
) -> Document:
    """:return: a new (stored) Legalesign document."""
    now = state.now()
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
    merged = dict(_DEFAULTS)
    merged.update(options)
    doc = Document(
        vendor=VENDOR,
        id=state.new_uuid(),
        name=name,
        created_at=now,
        signers=doc_signers,
        send_delay=state.config.send_delay,
        sign_delay=state.config.sign_delay,
        pdf_delay=state.config.pdf_delay,
        data={
            "group": group,
            "templatepdf": templatepdf,
            "user": user or f"/api/v1/user/{LEGALESIGN_USER_ID}/",
            "options": merged,
            **{k: tags.get(k, "") for k in ("tag", "tag1", "tag2")},
        },
    )
    return state.add(doc)


def _template_detail(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": template["uuid"],
        "title": template["title"],
        "group": f"/api/v1/group/{template['group']}/",
        "user": template["user"],
        "created": naive(template["created"]),
        "modified": naive(template["created"]),
        "page_count": template["page_count"],
        "signer_count": 1,
        "parties": [],
        "valid": True,
        "resource_uri": f"/api/v1/templatepdf/{template['uuid']}/",
    }


def _audit_pdf(doc: Document, now: float) -> bytes:
    lines = [f"Document: {doc.name}", f"Document id: {doc.id}", "", f"{iso_utc(doc.created_at)}  created"]
    if doc.sent_at is not None:
        lines.append(f"{iso_utc(doc.sent_at)}  sent to {len(doc.signers)} signer(s)")
    for signer in doc.signers:
        if signer.signed_at is not None:
            lines.append(f"{iso_utc(signer.signed_at)}  signed by {signer.name} <{signer.email}>")
        if signer.declined_at is not None:
            lines.append(f"{iso_utc(signer.declined_at)}  rejected by {signer.name} <{signer.email}>")
    if doc.voided_at is not None:
        lines.append(f"{iso_utc(doc.voided_at)}  removed ({doc.void_reason})")
    return build_pdf(f"Audit log: {doc.name}", lines).to_bytes()


def build_router(state: SandboxState) -> APIRouter:
    """:return: the Legalesign API router (mounted under each prefix in :data:`API_PREFIXES`)."""
    router = APIRouter()

    def authorised(request: Request) -> bool:
        expected = f"ApiKey {state.config.legalesign_username}:{state.config.legalesign_secret}"
        return secrets.compare_digest(request.headers.get("authorization", ""), expected)

    def unauthorised() -> Response:
        # Tastypie answers 401 with an empty body.
        return Response(status_code=401)

    def find(doc_id: str) -> Document | None:
        return state.get(VENDOR, doc_id)

    @router.post("/templatepdf/", name="legalesign.templatepdf_create")
    async def create_templatepdf(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        body = await _json_body(request, "templatepdf")
        if isinstance(body, Response):
            return body
        errors: dict[str, list[str]] = {}
        for key in sorted(set(body) - _TEMPLATEPDF_FIELDS):
            errors[key] = ["Unknown field."]
        slug = _group_slug(state, body.get("group"), errors)
        pdf_file = body.get("pdf_file")
        pdf_bytes = b""
        if pdf_file is None:
            errors["pdf_file"] = ["This field is required."]
        elif not isinstance(pdf_file, str):
            errors["pdf_file"] = ["Must be a base64-encoded PDF string."]
        else:
            try:
                pdf_bytes = base64.b64decode(pdf_file, validate=True)
            except (binascii.Error, ValueError):
                errors["pdf_file"] = ["Invalid base64 data."]
            else:
                if not pdf_bytes.startswith(b"%PDF"):
                    errors["pdf_file"] = ["The decoded file is not a PDF (it must start with %PDF)."]
        title = body.get("title")
        if title is not None and (not isinstance(title, str) or len(title) > 120):
            errors["title"] = ["Ensure this field has no more than 120 characters."]
        if body.get("user") is not None:
            _check_user(body["user"], errors)
        for key in ("process_tags", "archive_upon_send"):
            if key in body and not isinstance(body[key], bool):
                errors[key] = ["Must be a boolean (true or false)."]
        if errors:
            return _error("templatepdf", errors)
        template_id = state.new_uuid()
        state.templatepdfs[template_id] = {
            "uuid": template_id,
            "title": title or "",
            "group": slug,
            "user": body.get("user") or f"/api/v1/user/{LEGALESIGN_USER_ID}/",
            "created": state.now(),
            "page_count": max(1, len(re.findall(rb"/Type\s*/Page(?!s)", pdf_bytes))),
            "size": len(pdf_bytes),
            "process_tags": bool(body.get("process_tags", False)),
            "archived": False,
        }
        location = f"{_api_base(request)}/templatepdf/{template_id}/"
        return Response(status_code=201, headers={"location": location})

    @router.get("/templatepdf/", name="legalesign.templatepdf_list")
    async def list_templatepdfs(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        paging = _paging(request, "templatepdf")
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        group = request.query_params.get("group")
        items = list(state.templatepdfs.values())
        if group:
            match = _GROUP_URI.fullmatch(group)
            slug = match.group(1) if match else group
            items = [t for t in items if t["group"] == slug]
        params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
        objects = [_template_detail(t) for t in items[offset : offset + limit]]
        return json_response(
            _list_envelope(objects, len(items), limit, offset, "/api/v1/templatepdf/", params)
        )

    @router.get("/templatepdf/{template_id}/", name="legalesign.templatepdf_detail")
    async def get_templatepdf(request: Request, template_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        template = state.templatepdfs.get(template_id)
        return json_response(_template_detail(template)) if template else _not_found()

    @router.get("/templatepdf/{template_id}/fields/", name="legalesign.templatepdf_fields")
    async def get_templatepdf_fields(request: Request, template_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        template = state.templatepdfs.get(template_id)
        if template is None:
            return _not_found()
        field = {
            "uuid": template_id[:24] + "0000signfld1",
            "element_type": "signature",
            "label": "Signature 1",
            "label_extra": "",
            "signer": 1,
            "page": template["page_count"],
            "ax": 0.1,
            "ay": 0.8,
            "bx": 0.4,
            "by": 0.85,
            "optional": False,
            "validation": None,
            "value": "",
        }
        return json_response([field])

    @router.post("/document/", name="legalesign.document_create")
    async def create_document(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        body = await _json_body(request, "document")
        if isinstance(body, Response):
            return body
        errors = validate_document(state, body)
        if errors:
            return _error("document", errors)
        allowed = state.config.legalesign_allowed_recipients
        if allowed is not None:
            allowed_lower = {a.lower() for a in allowed}
            if any(s["email"].lower() not in allowed_lower for s in body["signers"]):
                # The Legalesign trial answers 401 for recipients outside its preset list.
                return unauthorised()
        templatepdf_match = _TEMPLATEPDF_URI.fullmatch(body["templatepdf"])
        assert templatepdf_match is not None
        group_match = _GROUP_URI.fullmatch(body["group"])
        assert group_match is not None
        doc = build_document(
            state,
            name=body["name"],
            signers=body["signers"],
            group=group_match.group(1),
            templatepdf=body["templatepdf"],
            options={k: body[k] for k in _DEFAULTS if k in body},
            tags={k: body[k] for k in ("tag", "tag1", "tag2") if body.get(k) is not None},
            user=body.get("user"),
        )
        location = f"{_api_base(request)}/document/{doc.id}/"
        if body.get("return_signer_links"):
            links = {
                f"signer_{i + 1}": f"{_origin(request)}/legalesign/esign/{s.id}/"
                for i, s in enumerate(doc.signers)
            }
            return json_response(links, 201, headers={"location": location})
        return Response(status_code=201, headers={"location": location})

    @router.get("/document/", name="legalesign.document_list")
    async def list_documents(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        query = request.query_params
        group = query.get("group")
        if not group:
            return _error("document", {"group": ["This parameter is required."]})
        match = _GROUP_URI.fullmatch(group)
        slug = match.group(1) if match else group
        if slug != state.config.legalesign_group:
            return _error("document", {"group": [f"Group {slug!r} does not exist or you are not a member."]})
        paging = _paging(request, "document")
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        now = state.now()
        docs = [d for d in state.all(VENDOR) if d.data["group"] == slug]
        archived = (query.get("archived") or "false").lower()
        if archived in ("false", "0"):
            docs = [d for d in docs if not d.archived]
        elif archived in ("true", "1"):
            docs = [d for d in docs if d.archived]
        elif archived != "all":
            return _error("document", {"archived": ["Must be true, false or all."]})
        if query.get("status"):
            try:
                wanted = int(query["status"])
            except ValueError:
                return _error("document", {"status": ["Must be an integer."]})
            docs = [d for d in docs if document_status(d, now) == wanted]
        if query.get("email"):
            email = query["email"].lower()
            docs = [d for d in docs if any(s.email.lower() == email for s in d.signers)]
        for key, attr in (("created_gt", "created"), ("modified_gt", "modified")):
            if query.get(key):
                try:
                    parsed = dt.datetime.fromisoformat(query[key].replace("Z", "+00:00"))
                except ValueError:
                    return _error("document", {key: ["Must be an ISO 8601 date-time."]})
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=dt.timezone.utc)
                threshold = parsed.timestamp()
                if attr == "created":
                    docs = [d for d in docs if d.created_at > threshold]
                else:
                    docs = [d for d in docs if d.modified_at(now, FINAL_STEPS) > threshold]
        try:
            nosigners = _bool_param(query.get("nosigners")) or False
        except ValueError:
            return _error("document", {"nosigners": ["Must be 1 or 0."]})
        page = docs[offset : offset + limit]
        objects = [document_list_item(d, now, with_signers=not nosigners) for d in page]
        params = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        return json_response(_list_envelope(objects, len(docs), limit, offset, "/api/v1/document/", params))

    @router.get("/document/{doc_id}/", name="legalesign.document_detail")
    async def get_document(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        doc = find(doc_id)
        return json_response(document_detail(doc, state.now())) if doc else _not_found()

    @router.delete("/document/{doc_id}/", name="legalesign.document_void")
    async def void_document(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        try:
            _bool_param(request.query_params.get("email"))
        except ValueError:
            return _error("document", {"email": ["Must be true, 1, false or 0."]})
        doc = find(doc_id)
        if doc is None:
            return _not_found()
        if doc.all_signed_at is None and doc.voided_at is None and doc.declined_signer is None:
            doc.voided_at, doc.void_reason = state.now(), "removed"
        doc.archived = True
        return Response(status_code=204)

    @router.delete("/document/{doc_id}/delete/", name="legalesign.document_delete")
    async def delete_document(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        doc = find(doc_id)
        if doc is None:
            return _not_found()
        doc.deleted = True
        return Response(status_code=204)

    @router.get("/document/{doc_id}/auditlog/", name="legalesign.document_auditlog")
    async def audit_log(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        doc = find(doc_id)
        if doc is None:
            return _not_found()
        return Response(_audit_pdf(doc, state.now()), media_type="application/pdf")

    @router.get("/status/{doc_id}/", name="legalesign.status_detail")
    async def get_status(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        doc = find(doc_id)
        if doc is None:
            return _not_found()
        now = state.now()
        return json_response(
            {
                "archived": doc.archived,
                "download_final": download_final(doc, now),
                "resource_uri": document_uri(doc),
                "status": document_status(doc, now),
                "tag": doc.data.get("tag", ""),
                "tag1": doc.data.get("tag1", ""),
                "tag2": doc.data.get("tag2", ""),
            }
        )

    @router.get("/pdf/{doc_id}/", name="legalesign.pdf_download")
    async def get_pdf(request: Request, doc_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        doc = find(doc_id)
        if doc is None:
            return json_response({"error": "Document not found."}, 404)
        now = state.now()
        if not download_final(doc, now):
            return json_response({"error": "The final PDF is not available for this document."}, 404)
        if state.choice(f"redirect:{doc.id}", state.config.legalesign_redirect_ratio):
            token = secrets.token_urlsafe(24)
            state.redirects[token] = (doc.id, now + state.config.legalesign_redirect_ttl)
            host = request.url.hostname or "127.0.0.1"
            other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
            port = request.url.port
            netloc = f"{other}:{port}" if port else other
            query = urllib.parse.urlencode(
                {"X-Amz-Expires": int(state.config.legalesign_redirect_ttl), "X-Amz-Signature": token}
            )
            location = f"{request.url.scheme}://{netloc}{STORAGE_PREFIX}/final/{doc.id}.pdf?{query}"
            return Response(status_code=302, headers={"location": location})
        return pdf_response(doc.final_pdf(), filename=f"{doc.id}.pdf", ranges=False)

    @router.get("/signer/{signer_id}/", name="legalesign.signer_detail")
    async def get_signer(request: Request, signer_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        now = state.now()
        for doc in state.all(VENDOR):
            for index, signer in enumerate(doc.signers):
                if signer.id == signer_id:
                    return json_response(
                        {
                            "document": document_uri(doc),
                            "email": signer.email,
                            "first_name": signer.first_name,
                            "last_name": signer.last_name,
                            "has_fields": True,
                            "order": signer.order,
                            "resource_uri": signer_uri(signer),
                            "status": signer_status(doc, index, now),
                        }
                    )
        return _not_found()

    @router.post("/signer/{signer_id}/send-reminder/", name="legalesign.signer_reminder")
    async def send_reminder(request: Request, signer_id: str) -> Response:
        if not authorised(request):
            return unauthorised()
        body = await _json_body(request, "signer")
        if isinstance(body, Response):
            return body
        errors: dict[str, list[str]] = {}
        for key in sorted(set(body) - {"text"}):
            errors[key] = ["Unknown field."]
        text = body.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > 10000):
            errors["text"] = ["Ensure this field has no more than 10000 characters."]
        if errors:
            return _error("signer", errors)
        for doc in state.all(VENDOR):
            for signer in doc.signers:
                if signer.id == signer_id:
                    closed = doc.voided_at is not None or doc.declined_signer is not None
                    if signer.signed_at is not None or doc.sent_at is None or closed:
                        # Documented meaning of 401 here: the reminder was not sent.
                        return Response(status_code=401)
                    return Response(status_code=200)
        return _not_found()

    def group_body() -> dict[str, Any]:
        slug = state.config.legalesign_group
        return {
            "slug": slug,
            "name": "Sandbox team",
            "public_name": "Sandbox team",
            "resource_uri": f"/api/v1/group/{slug}/",
            "is_active": True,
            "created": "2025-01-01T00:00:00",
            "modified": "2025-01-01T00:00:00",
            "user": f"/api/v1/user/{LEGALESIGN_USER_ID}/",
            "xframe_allow": False,
            "xframe_allow_pdf_edit": False,
        }

    @router.get("/group/", name="legalesign.group_list")
    async def list_groups(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        paging = _paging(request, "group")
        if isinstance(paging, Response):
            return paging
        limit, offset = paging
        groups = [group_body()]
        return json_response(
            _list_envelope(groups[offset : offset + limit], 1, limit, offset, "/api/v1/group/", {})
        )

    @router.get("/group/{slug}/", name="legalesign.group_detail")
    async def get_group(request: Request, slug: str) -> Response:
        if not authorised(request):
            return unauthorised()
        if slug != state.config.legalesign_group:
            return _not_found()
        return json_response(group_body())

    return router


def build_storage_router(state: SandboxState) -> APIRouter:
    """:return: the router for the short-lived download URLs ``GET /pdf/{id}/`` redirects to."""
    router = APIRouter()

    def s3_error(status: int, code: str, message: str) -> Response:
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
        return Response(body, status_code=status, media_type="application/xml")

    @router.get(STORAGE_PREFIX + "/final/{file_name}", name="legalesign.storage_download")
    async def storage_download(request: Request, file_name: str) -> Response:
        if "authorization" in request.headers:
            # Object stores reject a second auth mechanism; Legalesign says never to send its key here.
            return s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                "string parameter or the Authorization header should be specified",
            )
        token = request.query_params.get("X-Amz-Signature", "")
        entry = state.redirects.get(token)
        doc_id = file_name.removesuffix(".pdf")
        if entry is None or entry[0] != doc_id:
            return s3_error(403, "AccessDenied", "Access Denied")
        if state.now() > entry[1]:
            return s3_error(403, "AccessDenied", "Request has expired")
        doc = state.get(VENDOR, doc_id)
        if doc is None or not download_final(doc, state.now()):
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return pdf_response(doc.final_pdf(), filename=file_name, range_header=request.headers.get("range"))

    @router.get("/legalesign/esign/{signer_id}/", name="legalesign.signing_page")
    async def signing_page(signer_id: str) -> Response:
        return html_response("Legalesign sandbox", "API Test: signing page placeholder.")

    return router


def decorate_control_document(state: SandboxState, doc: Document, payload: dict[str, Any]) -> None:
    """Fill the Legalesign-specific fields of a document created through the control API."""
    options = dict(_DEFAULTS)
    doc.data.update(
        {
            "group": state.config.legalesign_group,
            "templatepdf": None,
            "user": f"/api/v1/user/{LEGALESIGN_USER_ID}/",
            "options": options,
            "tag": str(payload.get("tag") or ""),
            "tag1": str(payload.get("tag1") or ""),
            "tag2": str(payload.get("tag2") or ""),
        }
    )


def raw_status(doc: Document, now: float) -> Any:
    """:return: the vendor status shown by the control API."""
    return document_status(doc, now)
