"""
Request validation for the Legalesign emulation, as strict as the official OpenAPI 3 spec allows
(https://github.com/legalesign/Legalesign-V1-OpenAPI3): 400 bodies are keyed by object, then field, with a
list of messages, e.g. ``{"document": {"name": ["This field is required."]}}``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from typing import Any

from fastapi import Request
from starlette.responses import Response

from esign_sandbox.credentials import LEGALESIGN_USER_ID
from esign_sandbox.legalesign.responses import error, server_error
from esign_sandbox.state import SandboxState

GROUP_URI = re.compile(r"/api/v1/group/([-\w]{1,50})/")
TEMPLATEPDF_URI = re.compile(r"/api/v1/templatepdf/([-\w]+)/")
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
_SIGNER_FIELDS = {
    "firstname", "lastname", "email", "order", "message", "subject", "sms", "expires", "timezone",
    "attachments", "reviewers", "decide_later", "role", "skip", "experience", "behalfof",
}  # fmt: skip


def is_email(value: Any, max_length: int = 75) -> bool:
    """:return: whether ``value`` is an email address of at most ``max_length`` characters."""
    return isinstance(value, str) and len(value) <= max_length and bool(_EMAIL.fullmatch(value))


def bool_param(value: str | None) -> bool | None:
    """
    :return: a query flag (``1``/``true``/``0``/``false``), ``None`` when absent.
    :raises ValueError: for anything else.
    """
    if value is None:
        return None
    lowered = value.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise ValueError(value)


def paging(request: Request, obj: str) -> tuple[int, int] | Response:
    """:return: ``(limit, offset)`` of a list request, or the 400 answer."""
    try:
        limit = int(request.query_params.get("limit", "20"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        return error(obj, {"__all__": ["limit and offset must be integers."]})
    if limit < 0 or offset < 0:
        return error(obj, {"__all__": ["limit and offset must not be negative."]})
    # Tastypie semantics: 0 means "the maximum", larger values are capped silently.
    limit = 100 if limit == 0 else min(limit, 100)
    return limit, offset


async def json_body(request: Request, obj: str, invalid_json_status: int = 500) -> dict[str, Any] | Response:
    """:return: the JSON object body, or the vendor's answer to a wrong content type or bad JSON.

    :param invalid_json_status: the answer to a body that is not JSON: Legalesign's usual 500, or 400
        where the spec documents one (``/subscribe/``, ``/unsubscribe/``).
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return error(obj, {"__all__": ["Content-Type must be application/json."]})
    raw = await request.body()
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        if invalid_json_status == 400:
            return error(obj, {"__all__": ["The request body is not valid JSON."]})
        return server_error()
    if not isinstance(body, dict):
        return error(obj, {"__all__": ["The request body must be a JSON object."]})
    return body


def group_slug(state: SandboxState, value: Any, errors: dict[str, list[str]]) -> str | None:
    """:return: the slug of a group URI in a body, or ``None`` after recording the problem in ``errors``."""
    if value is None:
        errors["group"] = ["This field is required."]
        return None
    if not isinstance(value, str) or not (match := GROUP_URI.fullmatch(value)):
        errors["group"] = ["Must be a group resource URI like /api/v1/group/<slug>/."]
        return None
    if match.group(1) != state.config.legalesign_group:
        errors["group"] = [f"Group {match.group(1)!r} does not exist or you are not a member of it."]
        return None
    return match.group(1)


def check_user(value: Any, errors: dict[str, list[str]]) -> None:
    """Record in ``errors`` why ``value`` is not this sandbox's user URI, if it is not."""
    if not isinstance(value, str) or not (match := _USER_URI.fullmatch(value)):
        errors["user"] = ["Must be a user resource URI like /api/v1/user/<id>/."]
    elif match.group(1) != LEGALESIGN_USER_ID:
        errors["user"] = ["User does not exist or is not a member of the group."]


def _validate_signer(index: int, raw: Any, messages: list[str], known: set[str]) -> None:
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
    elif not is_email(email):
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
        elif any(_ATTACHMENT_URI.fullmatch(a).group(1) not in known for a in attachments):  # type: ignore[union-attr]
            messages.append(f"{where}.attachments: attachment does not exist.")
    reviewers = raw.get("reviewers")
    if reviewers is not None and (
        not isinstance(reviewers, list)
        or not all(isinstance(r, dict) and is_email(r.get("email")) for r in reviewers)
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
    slug = group_slug(state, body.get("group"), errors)
    name = body.get("name")
    if name is None:
        errors["name"] = ["This field is required."]
    elif not isinstance(name, str) or not 1 <= len(name) <= 60:
        errors["name"] = ["Ensure this field has 1 to 60 characters."]
    templatepdf = body.get("templatepdf")
    if templatepdf is None:
        errors["templatepdf"] = ["This field is required."]
    elif not isinstance(templatepdf, str) or not (match := TEMPLATEPDF_URI.fullmatch(templatepdf)):
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
            _validate_signer(index, raw, messages, set(state.attachments))
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
        check_user(body["user"], errors)
    for key in ("tag", "tag1", "tag2"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or not _TAG.fullmatch(value)):
            errors[key] = ["At most 250 characters: letters, digits, spaces and - [ ] : ; / . , _"]
    cc_emails = body.get("cc_emails")
    if cc_emails is not None and (
        not isinstance(cc_emails, str)
        or not all(is_email(e.strip(), 254) for e in cc_emails.split(",") if e.strip())
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


def pdf_upload(body: dict[str, Any], errors: dict[str, list[str]]) -> bytes:
    """:return: the decoded ``pdf_file`` (base64 PDF), recording problems in ``errors``."""
    pdf_file = body.get("pdf_file")
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
            if pdf_bytes.startswith(b"%PDF"):
                return pdf_bytes
            errors["pdf_file"] = ["The decoded file is not a PDF (it must start with %PDF)."]
    return b""


def validate_templatepdf(state: SandboxState, body: dict[str, Any]) -> tuple[dict[str, list[str]], bytes]:
    """:return: ``(errors, pdf bytes)`` for a ``POST /templatepdf/`` body."""
    # The spec's TemplatePdfPost allows additional properties: unknown keys are ignored, not rejected.
    errors: dict[str, list[str]] = {}
    group_slug(state, body.get("group"), errors)
    pdf_bytes = pdf_upload(body, errors)
    title = body.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 120):
        errors["title"] = ["Ensure this field has no more than 120 characters."]
    if body.get("user") is not None:
        check_user(body["user"], errors)
    for key in ("process_tags", "archive_upon_send"):
        if key in body and not isinstance(body[key], bool):
            errors[key] = ["Must be a boolean (true or false)."]
    return errors, pdf_bytes


_FIELD_REQUIRED = ("ax", "ay", "bx", "by", "element_type", "page", "signer")
_ELEMENT_TYPES = ("signature", "initials", "text", "admin")


def validate_fields(raw: Any, page_count: int) -> list[str]:
    """:return: problems with a ``POST /templatepdf/{id}/fields/`` body (an array of ``PdfFieldsPost``)."""
    if not isinstance(raw, list):
        return ["The body must be a JSON array of field objects."]
    problems: list[str] = []
    for index, field in enumerate(raw):
        where = f"[{index}]"
        if not isinstance(field, dict):
            problems.append(f"{where}: must be an object.")
            continue
        problems += [f"{where}.{key}: This field is required." for key in _FIELD_REQUIRED if key not in field]
        for key in ("ax", "ay", "bx", "by"):
            value = field.get(key)
            if key in field and (
                not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1
            ):
                problems.append(f"{where}.{key}: must be a number between 0 and 1.")
        if "element_type" in field and field["element_type"] not in _ELEMENT_TYPES:
            problems.append(f"{where}.element_type: must be one of {', '.join(_ELEMENT_TYPES)}.")
        page = field.get("page")
        if "page" in field and (
            not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= page_count
        ):
            problems.append(f"{where}.page: must be a page of the PDF (1 to {page_count}).")
        signer = field.get("signer")
        if signer is not None and (not isinstance(signer, int) or isinstance(signer, bool) or signer < 1):
            problems.append(f"{where}.signer: must be a 1-based signer number (witness +100, approver +200).")
    return problems


_NOTIFY = ("all", "signed", "sent", "rejected", "realtime")
EVENT_FILTERS = (
    "", "document.*", "document.created", "document.rejected", "document.finalPdfCreated", "recipient.*",
    "recipient.completed", "recipient.rejected", "recipient.emailOpened", "recipient.visiting",
    "recipient.bounced",
)  # fmt: skip


def validate_webhook(body: dict[str, Any], *, subscribe: bool) -> dict[str, list[str]]:
    """:return: field errors of a ``POST /subscribe/`` (or ``/unsubscribe/``) body."""
    allowed = {"url", "notify", "eventFilter", "group"} if subscribe else {"url", "eventFilter", "group"}
    errors: dict[str, list[str]] = {key: ["Unknown field."] for key in sorted(set(body) - allowed)}
    url = body.get("url")
    if not isinstance(url, str) or not re.match(r"(http|https)://", url):
        errors["url"] = ["This field is required and must start with http:// or https://."]
    if subscribe and body.get("notify") not in _NOTIFY:
        errors["notify"] = [f"Must be one of {', '.join(_NOTIFY)}."]
    if body.get("eventFilter") not in (None, *EVENT_FILTERS):
        errors["eventFilter"] = ["Not a known event filter."]
    group = body.get("group")
    if group is not None and not isinstance(group, str):
        errors["group"] = ["Must be a group slug or resource URI."]
    return errors


_ATTACHMENT_FILENAME = re.compile(r"[-\w]{1,250}.pdf")


def validate_attachment(state: SandboxState, body: dict[str, Any]) -> tuple[list[str], bytes]:
    """:return: ``(problems, pdf bytes)`` for a ``POST /attachment/`` body (problems go in ``{"text"}``)."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(body) - {"group", "pdf_file", "filename", "user", "description"})
    group_slug(state, body.get("group"), errors)
    pdf_bytes = pdf_upload(body, errors)
    if not isinstance(body.get("filename"), str) or not _ATTACHMENT_FILENAME.fullmatch(body["filename"]):
        errors["filename"] = ["Must match ^[-\\w]{1,250}.pdf$."]
    if body.get("user") is not None:
        check_user(body["user"], errors)
    if body.get("description") is not None and not isinstance(body["description"], str):
        errors["description"] = ["Must be a string."]
    problems = [f"{key}: Unknown field." for key in unknown]
    problems += [f"{key}: {' '.join(messages)}" for key, messages in errors.items()]
    return problems, pdf_bytes
