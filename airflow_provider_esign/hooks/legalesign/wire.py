"""Legalesign REST API v1 wire format: paths, status maps, parsers and request bodies.

Pure functions of their arguments (no hook state, no I/O, no clock). API reference:
https://apidocs.legalesign.com/docs/rest-v1/ ; the status mapping is described in
``docs/vendors/legalesign.md``.

Sending defaults differ from the vendor's: ``do_email`` is true (Legalesign's default, false,
suppresses every email, so nobody would hear of the document) and ``signature_type`` is 4 (certified
PDF, the vendor's recommendation). The idempotency key is stored in the document's ``tag2``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.api import MAX_ERROR_TEXT, malformed, truthy
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import DocumentStatus, SendRequest, SignerInfo, SignerStatus
from airflow_provider_esign.validation import parse_expiry

STATUS_MAP: dict[int, DocumentStatus] = {
    10: DocumentStatus.SENT,
    20: DocumentStatus.PARTIALLY_SIGNED,
    30: DocumentStatus.SIGNED,
    40: DocumentStatus.VOIDED,
    50: DocumentStatus.DECLINED,
}
SIGNER_STATUS_MAP: dict[int, SignerStatus] = {
    4: SignerStatus.PENDING,
    5: SignerStatus.PENDING,
    10: SignerStatus.SENT,
    15: SignerStatus.VIEWED,
    20: SignerStatus.VIEWED,
    30: SignerStatus.VIEWED,
    35: SignerStatus.VIEWED,
    39: SignerStatus.VIEWED,
    40: SignerStatus.SIGNED,
    50: SignerStatus.SIGNED,
    60: SignerStatus.DECLINED,
}
UNSENT_SIGNER_CODES = frozenset({4, 5})
SIGNED_SIGNER_CODES = frozenset({40, 50})
REJECTED_SIGNER_CODE = 60

API_PREFIX = "/api/v1/"
PAGE_SIZE = 100  # no maximum page size is documented; 100 is a size the API is known to accept
GROUP_SLUG = re.compile(r"[-\w]{1,50}")
USER_URI = re.compile(r"/api/v1/user/[-\w]+/")
TEMPLATEPDF_URI = re.compile(r"/api/v1/templatepdf/([-\w]+)/")
BARE_ID = re.compile(r"[-\w]+")
NAME_PART = re.compile(r"[-\w' ]{1,60}")
TAG_VALUE = re.compile(r"[-\w\[\]\:\;\/\.\, _]{0,250}")
SIGNER_ROLES = frozenset({"witness", "approver"})
#: Metadata keys a DAG author may set; ``tag2`` holds the provider's idempotency key.
METADATA_KEYS = frozenset({"tag", "tag1"})
IDEMPOTENCY_TAG = "tag2"

BOOL_OPTIONS = frozenset(
    {
        "signers_in_order",
        "strict_fields",
        "do_email",
        "append_pdf",
        "append_history",
        "auto_archive",
        "return_signer_links",
        "convert_sender_to_signer",
        "process_tags",
    }
)
DICT_OPTIONS = frozenset({"pdftext", "signertext"})
STRING_OPTIONS = frozenset({"cc_emails", "redirect", "reminders", "user", "tag", "tag1"})
#: The documented ``POST /document/`` fields a DAG author sets, plus ``process_tags`` (upload only).
SEND_OPTIONS = BOOL_OPTIONS | DICT_OPTIONS | STRING_OPTIONS | {"signature_type"}
LIST_FILTERS = frozenset(
    {"group", "status", "email", "created_gt", "modified_gt", "archived", "nosigners", "page_size"}
)

DEFAULT_DO_EMAIL = True
DEFAULT_SIGNATURE_TYPE = 4
#: No ``Retry-After`` is documented; without one, wait out the per-minute throttle window.
RATE_LIMITED_WAIT = 60.0
#: Timestamps are naive and their time zone is undocumented, so the reconciliation lower bound
#: (``created_gt``) is moved back far enough to cover any offset and clock skew.
CREATED_GT_MARGIN = timedelta(days=1)
READ_CHUNK_BYTES = 3 * 256 * 1024  # a multiple of 3: the base64 pieces concatenate cleanly


def map_signer_status(code: int | None) -> SignerStatus:
    """Normalize one Legalesign signer status code (unknown codes count as SENT)."""
    if code is None:
        return SignerStatus.PENDING
    return SIGNER_STATUS_MAP.get(code, SignerStatus.SENT)


def map_document_status(
    status: int | None, signer_codes: list[int], download_final: bool
) -> DocumentStatus | None:
    """Normalize a Legalesign document status; None for a code this provider does not know.

    :param status: The document ``status``.
    :param signer_codes: The known signer statuses (empty for list items fetched with ``nosigners``).
    :param download_final: The document's ``download_final`` flag.
    """
    if status == 40:
        return DocumentStatus.VOIDED
    if status == 50 or REJECTED_SIGNER_CODE in signer_codes:
        return DocumentStatus.DECLINED
    if status == 10:
        if signer_codes and all(code in UNSENT_SIGNER_CODES for code in signer_codes):
            return DocumentStatus.DRAFT
        if any(code in SIGNED_SIGNER_CODES for code in signer_codes):
            return DocumentStatus.PARTIALLY_SIGNED
        return DocumentStatus.SENT
    if status == 30:
        return DocumentStatus.COMPLETED if download_final else DocumentStatus.SIGNED
    return STATUS_MAP.get(status) if status is not None else None


def id_from_uri(value: str | None) -> str | None:
    """The last non-empty path segment of a resource URI or ``Location`` header (absolute or not)."""
    if not value:
        return None
    segments = [s for s in urlsplit(value.strip()).path.split("/") if s]
    return segments[-1] if segments else None


def int_or_none(value: Any) -> int | None:
    # Numbers arrive as JSON numbers or as strings depending on the endpoint; coerce.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def group_uri(slug: str) -> str:
    return f"{API_PREFIX}group/{slug}/"


def templatepdf_uri(template_id: str) -> str:
    return (
        template_id if TEMPLATEPDF_URI.fullmatch(template_id) else f"{API_PREFIX}templatepdf/{template_id}/"
    )


def _field_errors(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Flatten a Legalesign 400 body (``{"document": {"name": ["..."]}}``) into (path, message)."""
    if isinstance(value, dict):
        return [
            error
            for key, item in value.items()
            for error in _field_errors(item, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, list):
        if all(isinstance(item, str) for item in value):
            return [(path, "; ".join(value))] if value else []
        return [
            error
            for index, item in enumerate(value)
            for error in _field_errors(item, f"{path}[{index}]" if isinstance(item, (dict, list)) else path)
        ]
    return [(path, str(value))]


def _format_timestamp(field: str, value: Any) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ESignValidationError(field, f"{value!r} is not an ISO 8601 date-time") from None
    if not isinstance(value, datetime):
        raise ESignValidationError(field, "must be an ISO 8601 string or a datetime")
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    # The vendor's documented format, YYYY-mm-ddTH:M:S, naive.
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def auth_header(settings: ConnectionSettings) -> str:
    """``Authorization: ApiKey <username>:<secret>``; the vendor's examples differ in the prefix's case
    ("Apikey" in some guides), "ApiKey" is the documented form."""
    return f"ApiKey {settings.login}:{settings.password}"


def error_text(body: Any) -> str | None:
    """A 400 body's field errors (``{"document": {"name": ["..."]}}``) as one line, or None."""
    if isinstance(body, dict) and any(isinstance(v, (dict, list)) for v in body.values()):
        text = "; ".join(f"{path}: {message}" if path else message for path, message in _field_errors(body))
        return text[:MAX_ERROR_TEXT] or None
    return None


def rejects_user(body: Any) -> bool:
    """Whether a 400 body rejects the ``user`` field (a configuration error, not bad input)."""
    return any(re.split(r"[.\[]", path)[-1] == "user" for path, _ in _field_errors(body) if path)


def check_group(field: str, value: Any) -> str:
    """A valid, lowercase group slug, or :class:`ESignValidationError` naming ``field``."""
    if not isinstance(value, str) or not GROUP_SLUG.fullmatch(value):
        raise ESignValidationError(
            field,
            f"{value!r} is not a group slug (letters, digits, '-' and '_', at most 50), e.g. 'acme-dev'",
        )
    if value != value.lower():
        # Legalesign wants the slug lowercase; a mixed-case one would not match the group.
        raise ESignValidationError(field, f"the group slug must be lowercase: {value.lower()!r}")
    return value


def group_slug(settings: ConnectionSettings, override: Any = None, *, purpose: str) -> str:
    """The group to use: ``override``, else the connection's required ``group`` extra."""
    if override not in (None, ""):
        return check_group("group", override)
    slug = settings.extra.get("group")
    if not slug:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.group",
            f"is required to {purpose}: the slug of the Legalesign group (team), e.g. 'acme-dev'",
        )
    return slug


def is_message_template(message: str) -> bool:
    """Whether a signer ``message`` names a saved email template (``#Name``) or is ``default``."""
    return message.startswith("#") or message == "default"


def document_id(raw: dict[str, Any]) -> str | None:
    """A document object's id: ``uuid``, else the last segment of ``resource_uri``."""
    value = raw.get("uuid") or id_from_uri(
        raw.get("resource_uri") if isinstance(raw.get("resource_uri"), str) else None
    )
    return str(value) if value else None


def document_object(body: Any, *, conn_id: str, operation: str) -> dict[str, Any]:
    """A checked ``GET /document/{id}/`` answer: a JSON object with its id and ``status``.

    A 200 carrying an HTML page, truncated JSON, ``null``, ``[]`` or ``{}`` would otherwise read as a
    document with id ``''`` in status SENT, and a sensor would wait for it until its timeout.

    :raises ESignMalformedResponseError: naming ``operation`` (retried like a 5xx).
    """
    if isinstance(body, dict) and document_id(body) and body.get("status") is not None:
        return body
    raise malformed(body, "a document", conn_id=conn_id, operation=operation)


def list_objects(body: Any, *, conn_id: str, operation: str, documents: bool = True) -> dict[str, Any]:
    """A checked list answer (``{"meta": {...}, "objects": [...]}``), each object a document with an
    id when ``documents``. A junk answer must never read as an empty list: reconciliation would take
    it for "not sent yet" and send again.

    :raises ESignMalformedResponseError: naming ``operation``.
    """
    objects = body.get("objects") if isinstance(body, dict) else None
    if not isinstance(objects, list) or not isinstance(body.get("meta", {}), (dict, type(None))):
        raise malformed(body, "a list of objects", conn_id=conn_id, operation=operation)
    if any(not isinstance(item, dict) or (documents and not document_id(item)) for item in objects):
        raise malformed(body, "a list of documents", conn_id=conn_id, operation=operation)
    return body


def parse_signers(raw: dict[str, Any]) -> list[SignerInfo]:
    """The signers of a document: ``signer_objects`` where present, else the 8-element arrays."""
    result = []
    objects = raw.get("signer_objects")
    if objects:
        for index, obj in enumerate(objects):
            code = int_or_none(obj.get("status"))
            order = int_or_none(obj.get("order"))
            result.append(
                SignerInfo(
                    email=str(obj.get("email") or ""),
                    name=" ".join(p for p in (obj.get("firstname"), obj.get("lastname")) if p) or None,
                    status=map_signer_status(code),
                    raw_status=code,
                    role=obj.get("role"),
                    order=order if order is not None else index,
                    signer_id=obj.get("uuid") or id_from_uri(obj.get("resource_uri")),
                )
            )
        return result
    for index, row in enumerate(raw.get("signers") or []):
        # [uri, first name, last name, email, sms, has_fields, status, order (0-based)]
        values = list(row) + [None] * (8 - len(row))
        code = int_or_none(values[6])
        order = int_or_none(values[7])
        result.append(
            SignerInfo(
                email=str(values[3] or ""),
                name=" ".join(str(p) for p in values[1:3] if p) or None,
                status=map_signer_status(code),
                raw_status=code,
                order=order if order is not None else index,
                # Signer URIs appear as /signers/ and /signer/; the last segment is the id either way.
                signer_id=id_from_uri(values[0]),
            )
        )
    return result


def resolve_next(settings: ConnectionSettings, next_url: str) -> str:
    """An absolute URL for a list's ``meta.next`` (relative, like ``/api/v1/document/?offset=20``).

    The ``/api/v1/`` prefix is replaced by the connection's base URL (which already ends in it, or
    a proxy path), so it is never doubled; a foreign host is never contacted with the API key.
    """
    parts = urlsplit(next_url)
    query = f"?{parts.query}" if parts.query else ""
    if parts.path.startswith(API_PREFIX):
        return settings.base_url + parts.path[len(API_PREFIX) :] + query
    if parts.path.startswith("/"):
        base = urlsplit(settings.base_url)
        return f"{base.scheme}://{base.netloc}{parts.path}{query}"
    return urljoin(settings.base_url, parts.path) + query


def list_params(
    settings: ConnectionSettings, filters: Mapping[str, Any], *, group_as_uri: bool
) -> dict[str, Any]:
    """Query parameters of ``GET /document/`` for the hook's list filters (validated)."""
    unknown = sorted(set(filters) - LIST_FILTERS)
    if unknown:
        raise ESignValidationError(
            f"filters[{unknown[0]!r}]",
            f"not a Legalesign document filter; allowed: {sorted(LIST_FILTERS)}",
        )
    group = group_slug(settings, filters.get("group"), purpose="list documents")
    page_size = int(filters.get("page_size") or PAGE_SIZE)
    params: dict[str, Any] = {
        "group": group_uri(group) if group_as_uri else group,
        "limit": max(1, min(page_size, PAGE_SIZE)),
        "offset": 0,
    }
    if filters.get("status") is not None:
        status = int_or_none(filters["status"])
        if status is None:
            raise ESignValidationError("filters['status']", "must be a Legalesign status code (10-50)")
        params["status"] = status
    if filters.get("email"):
        params["email"] = filters["email"]
    for key in ("created_gt", "modified_gt"):
        if filters.get(key):
            params[key] = _format_timestamp(f"filters[{key!r}]", filters[key])
    archived = filters.get("archived")
    if archived is not None:
        params["archived"] = archived if archived == "all" else ("true" if truthy(archived) else "false")
    if truthy(filters.get("nosigners")):
        params["nosigners"] = 1
    return params


def create_body(
    settings: ConnectionSettings, request: SendRequest, idempotency_key: str | None
) -> dict[str, Any]:
    """The ``POST /document/`` body for a validated send request."""
    options = dict(request.vendor_options)
    options.pop("process_tags", None)
    expires = parse_expiry(request.expires_at)
    signers = list(request.signers)
    if signers and all(s.order is not None for s in signers):
        signers.sort(key=lambda s: s.order or 0)
    signer_bodies = []
    for position, signer in enumerate(signers):
        first, last = signer.split_name()
        # `order` is deprecated in favour of the list position; sent equal to it.
        item: dict[str, Any] = {
            "firstname": first,
            "lastname": last,
            "email": signer.email.strip(),
            "order": position,
        }
        if signer.role in SIGNER_ROLES:
            item["role"] = signer.role
        if request.subject:
            item["subject"] = request.subject
        if request.message and is_message_template(request.message):
            item["message"] = request.message
        if expires is not None:
            # The vendor's time zone for `expires` is undocumented; an explicit UTC offset is unambiguous.
            item["expires"] = expires.isoformat(timespec="seconds")
        signer_bodies.append(item)
    body: dict[str, Any] = {
        "group": group_uri(group_slug(settings, purpose="send documents")),
        "name": request.name,
        # Never `text` or `template`: free-text documents are removed and HTML templates deprecated.
        "templatepdf": templatepdf_uri(str(request.template_id)),
        "signers": signer_bodies,
        "do_email": DEFAULT_DO_EMAIL,
        "signature_type": DEFAULT_SIGNATURE_TYPE,
    }
    # `user` assigns the document to a group member; sent only when configured.
    user = options.pop("user", None) or settings.extra.get("user")
    if user:
        body["user"] = user
    body.update(options)
    body.update({key: request.metadata[key] for key in METADATA_KEYS if key in request.metadata})
    if idempotency_key:
        body[IDEMPOTENCY_TAG] = idempotency_key
    return body


def created_document(body: dict[str, Any], document_id: str, answer: Any) -> dict[str, Any]:
    """The document a create made, built from the request body and the answer (no extra GET)."""
    raw: dict[str, Any] = {
        "uuid": document_id,
        "resource_uri": f"{API_PREFIX}document/{document_id}/",
        "name": body["name"],
        "group": body["group"],
        "templatepdf": body["templatepdf"],
        "status": 10,
        "download_final": False,
        "signer_objects": [
            {"firstname": s["firstname"], "lastname": s["lastname"], "email": s["email"], "order": s["order"]}
            for s in body["signers"]
        ],
        **{key: body[key] for key in ("tag", "tag1", "tag2") if key in body},
    }
    if isinstance(answer, dict) and answer:
        raw["signer_links"] = answer  # only with return_signer_links
    return raw
