"""Legalesign REST API v1 hook (static API key).

Wire format reference: ``shared/specs/legalesign.md``. Everything Legalesign-specific lives here.

Connection: ``login`` = API username, ``password`` = API secret (both from the API Dashboard,
Config → Generate Key), ``host`` = base URL (default ``https://eu-api.legalesign.com/api/v1``; the
sandbox uses the same host). Every call carries ``Authorization: ApiKey <login>:<password>``.
Extra ``group`` is the slug of the Legalesign group (the web app's "team"), lowercase, required for
sending and listing; optional extra ``user`` is a ``/api/v1/user/<id>/`` URI sent on
``POST /document/`` to assign documents to that group member.

Status mapping (Legalesign document ``status`` and signer statuses → :class:`DocumentStatus`; the
first matching row wins, an unknown code counts as SENT with a warning):

===============================================  ================
Legalesign                                       Normalized
===============================================  ================
40 (removed; also the void ``DELETE``)           VOIDED
50 (rejected), or any signer at 60 (rejected)    DECLINED
10, every signer 4/5 (unsent / scheduled)        DRAFT
10, any signer 40/50 (signed / downloaded)       PARTIALLY_SIGNED
10, otherwise (also list items without signers)  SENT
20 (fields completed)                            PARTIALLY_SIGNED
30 (signed), ``download_final`` false            SIGNED
30 (signed), ``download_final`` true             COMPLETED
===============================================  ================

Signer statuses: 4, 5 → PENDING; 10 → SENT; 15, 20, 30, 35, 39 → VIEWED; 40, 50 → SIGNED;
60 → DECLINED. ``downloadable`` is ``status == 30 and download_final``.

Sending defaults differ from the vendor's: ``do_email`` is true (Legalesign's default, false,
suppresses every email, so nobody would hear of the document) and ``signature_type`` is 4 (certified
PDF, the vendor's recommendation). The idempotency key is stored in the document's ``tag2``.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import IO, Any, ClassVar
from urllib.parse import urljoin, urlsplit

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignValidationError,
)
from airflow_provider_esign.hooks.base import (
    MAX_ERROR_TEXT,
    PDF_MAGIC,
    ApiRequest,
    ApiResponse,
    ConnectionSettings,
    Credentials,
    DownloadSource,
    ESignHook,
    Flow,
    Page,
    RetryPolicy,
    amask,
    mask,
    quote_id,
    single_request,
    truthy,
)
from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    DownloadResult,
    FormField,
    SendRequest,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.validation import (
    parse_expiry,
    require_email,
    require_known_options,
    require_signers,
    require_single_source,
    require_split_names,
    require_text,
)

#: Document status → normalized status. 10 and 30 are refined by :func:`map_document_status`
#: (signer progress, ``download_final``); any signer at 60 makes the document DECLINED.
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
PAGE_SIZE = 100  # no maximum is documented (UNCERTAIN); the spec's handling: keep limit <= 100
GROUP_SLUG = re.compile(r"^[-\w]{1,50}$")
USER_URI = re.compile(r"^/api/v1/user/[-\w]+/$")
TEMPLATEPDF_URI = re.compile(r"^/api/v1/templatepdf/([-\w]+)/$")
BARE_ID = re.compile(r"^[-\w]+$")
NAME_PART = re.compile(r"^[-\w' ]{1,60}$")
TAG_VALUE = re.compile(r"^[-\w\[\]\:\;\/\.\, _]{0,250}$")
WEBHOOK_URL = re.compile(r"^https?://")
SIGNER_ROLES = frozenset({"witness", "approver"})
WEBHOOK_NOTIFY = frozenset({"all", "signed", "sent", "rejected", "realtime"})
WEBHOOK_EVENT_FILTERS = frozenset(
    {
        "",
        "document.*",
        "document.created",
        "document.rejected",
        "document.finalPdfCreated",
        "recipient.*",
        "recipient.completed",
        "recipient.rejected",
        "recipient.emailOpened",
        "recipient.visiting",
        "recipient.bounced",
    }
)
#: Metadata keys a DAG author may set; ``tag2`` holds the provider's idempotency key.
METADATA_KEYS = frozenset({"tag", "tag1"})
IDEMPOTENCY_TAG = "tag2"

_BOOL_OPTIONS = frozenset(
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
_DICT_OPTIONS = frozenset({"pdftext", "signertext"})
_STRING_OPTIONS = frozenset({"cc_emails", "redirect", "reminders", "user", "tag", "tag1"})
#: The documented ``POST /document/`` fields a DAG author sets, plus ``process_tags`` (upload only).
SEND_OPTIONS = _BOOL_OPTIONS | _DICT_OPTIONS | _STRING_OPTIONS | {"signature_type"}
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
_READ_CHUNK = 3 * 256 * 1024  # a multiple of 3: the base64 pieces concatenate cleanly


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


def _int_or_none(value: Any) -> int | None:
    # UNCERTAIN (spec §8.2): values may arrive as strings or native types; coerce.
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _group_uri(slug: str) -> str:
    return f"{API_PREFIX}group/{slug}/"


def _templatepdf_uri(template_id: str) -> str:
    return template_id if TEMPLATEPDF_URI.match(template_id) else f"{API_PREFIX}templatepdf/{template_id}/"


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


class LegalesignHook(ESignHook):
    """Interact with Legalesign: template PDFs, documents, signers, downloads, webhooks.

    :param conn_id: Airflow connection of type ``legalesign``.
    """

    conn_type = "legalesign"
    default_conn_name = "legalesign_default"
    hook_name = "Legalesign"
    vendor = "legalesign"
    default_host = "https://eu-api.legalesign.com/api/v1"
    #: The documented sandbox throttle (100 calls/min); the production limit is undocumented.
    default_rate_limit_per_minute = 100
    supports_reminders = True
    supports_audit_log = True
    supports_form_data = True
    #: A static key: a 401 fails fast, there is nothing to refresh.
    reauthenticate_on_401 = False
    send_options: ClassVar[frozenset[str]] = SEND_OPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_masked = False
        self._group_as_uri = False

    # ---------------------------------------------------------------- connection and auth
    def _validate_settings(self, settings: ConnectionSettings) -> None:
        if not settings.login or not settings.password:
            raise ESignValidationError(
                f"connection {settings.conn_id!r}", "needs the API username (login) and secret (password)"
            )
        group = settings.extra.get("group")
        if group not in (None, ""):
            self._check_group(f"connection {settings.conn_id!r} extra.group", group)
        user = settings.extra.get("user")
        if user not in (None, "") and not (isinstance(user, str) and USER_URI.match(user)):
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra.user", "must be a URI like '/api/v1/user/<id>/'"
            )

    @staticmethod
    def _check_group(field: str, value: Any) -> str:
        if not isinstance(value, str) or not GROUP_SLUG.match(value):
            raise ESignValidationError(
                field,
                f"{value!r} is not a group slug (letters, digits, '-' and '_', at most 50), e.g. 'acme-dev'",
            )
        if value != value.lower():
            # Legalesign wants the slug lowercase (CS-QS); a mixed-case one would not match the group.
            raise ESignValidationError(field, f"the group slug must be lowercase: {value.lower()!r}")
        return value

    def _group_slug(self, settings: ConnectionSettings, override: Any = None, *, purpose: str) -> str:
        if override not in (None, ""):
            return self._check_group("group", override)
        slug = settings.extra.get("group")
        if not slug:
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra.group",
                f"is required to {purpose}: the slug of the Legalesign group (team), e.g. 'acme-dev'",
            )
        return slug

    def _flow_settings(self) -> ConnectionSettings:
        # Flows run after _run/_arun loaded the settings; never trigger a sync connection read here.
        settings = self.settings_or_none
        assert settings is not None
        return settings

    @staticmethod
    def _auth_header(settings: ConnectionSettings) -> str:
        # UNCERTAIN (spec §3): the prefix's case; CS-QS writes "Apikey". Handling: send "ApiKey".
        return f"ApiKey {settings.login}:{settings.password}"

    async def asettings(self) -> ConnectionSettings:
        settings = await super().asettings()
        if not self._header_masked:
            self._header_masked = True
            await amask(self._auth_header(settings))
        return settings

    def _apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        header = self._auth_header(self._flow_settings())
        if not self._header_masked:
            self._header_masked = True
            mask(header)
        headers = {**request.headers, "Authorization": header}
        headers.setdefault("Accept", "application/json")  # downloads ask for application/pdf
        if request.json is not None:
            headers["Content-Type"] = "application/json"
        return replace(request, headers=headers)

    @property
    def retry_policy(self) -> RetryPolicy:
        # The spec's handling for 429 without Retry-After: wait about a minute (per-minute throttle).
        return replace(super().retry_policy, rate_limited_wait=RATE_LIMITED_WAIT)

    # ---------------------------------------------------------------- errors
    def _vendor_message(self, response: ApiResponse) -> str | None:
        body = response.json()
        if isinstance(body, dict) and any(isinstance(v, (dict, list)) for v in body.values()):
            text = "; ".join(
                f"{path}: {message}" if path else message for path, message in _field_errors(body)
            )
            return text[:MAX_ERROR_TEXT] or None
        return super()._vendor_message(response)

    def _raise_for_response(self, request: ApiRequest, response: ApiResponse) -> None:
        status = response.status_code
        if status in (400, 401) and status not in request.ok_statuses:
            kwargs: dict[str, Any] = {
                "conn_id": self.conn_id,
                "operation": request.operation,
                "status_code": status,
                "vendor_message": self._vendor_message(response),
            }
            if status == 401 and request.operation == "send_document":
                # CS-QS: a sandbox answers 401 for a recipient outside its five preset addresses.
                raise ESignAuthError(
                    "credentials rejected, or (sandbox) a recipient is not one of the sandbox's preset "
                    "addresses",
                    **kwargs,
                )
            body = response.json()
            if status == 400 and any(
                re.split(r"[.\[]", path)[-1] == "user" for path, _ in _field_errors(body) if path
            ):
                # The `user` conflict (spec §7.1): a rejected user URI is a configuration error.
                raise ESignBadRequestError(
                    "the 'user' URI was rejected; fix the connection's extra.user or vendor_options['user']",
                    **kwargs,
                )
        super()._raise_for_response(request, response)

    # ---------------------------------------------------------------- parsing
    def parse_document(self, raw: dict[str, Any]) -> DocumentInfo:
        """Normalize a Legalesign document: ``GET /document/{id}/``, a list item or a status object."""
        signers = self._parse_signers(raw)
        raw_status = raw.get("status")
        code = _int_or_none(raw_status)
        download_final = truthy(raw.get("download_final"))
        status = map_document_status(
            code, [s.raw_status for s in signers if s.raw_status is not None], download_final
        )
        if status is None:
            self.log.warning("Unknown Legalesign status %r; treating it as SENT (in progress)", raw_status)
            status = DocumentStatus.SENT
        metadata = {key: str(raw[key]) for key in ("tag", "tag1", "tag2") if raw.get(key)}
        return DocumentInfo(
            document_id=str(raw.get("uuid") or id_from_uri(raw.get("resource_uri")) or ""),
            vendor=self.vendor,
            name=raw.get("name"),
            status=status,
            raw_status=code if code is not None else raw_status,
            signers=signers,
            created_at=raw.get("created"),
            modified_at=raw.get("modified"),
            completed_at=raw.get("sign_time"),
            downloadable=code == 30 and download_final,
            metadata=metadata,
            raw=raw,
        )

    @staticmethod
    def _parse_signers(raw: dict[str, Any]) -> list[SignerInfo]:
        result = []
        objects = raw.get("signer_objects")
        if objects:  # the spec's handling: prefer signer_objects, fall back to the 8-element arrays
            for index, obj in enumerate(objects):
                code = _int_or_none(obj.get("status"))
                order = _int_or_none(obj.get("order"))
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
            code = _int_or_none(values[6])
            order = _int_or_none(values[7])
            result.append(
                SignerInfo(
                    email=str(values[3] or ""),
                    name=" ".join(str(p) for p in values[1:3] if p) or None,
                    status=map_signer_status(code),
                    raw_status=code,
                    order=order if order is not None else index,
                    # UNCERTAIN (spec §8.2): /signers/ vs /signer/ URIs; the last segment is the id.
                    signer_id=id_from_uri(values[0]),
                )
            )
        return result

    # ---------------------------------------------------------------- documents
    def _get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        response = yield ApiRequest("GET", f"document/{quote_id(document_id)}/", operation="get_document")
        return self.parse_document(response.json() or {})

    def _resolve_next(self, settings: ConnectionSettings, next_url: str) -> str:
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

    def _list_params(self, settings: ConnectionSettings, filters: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(filters) - LIST_FILTERS)
        if unknown:
            raise ESignValidationError(
                f"filters[{unknown[0]!r}]",
                f"not a Legalesign document filter; allowed: {sorted(LIST_FILTERS)}",
            )
        group = self._group_slug(settings, filters.get("group"), purpose="list documents")
        page_size = int(filters.get("page_size") or PAGE_SIZE)
        params: dict[str, Any] = {
            "group": _group_uri(group) if self._group_as_uri else group,
            "limit": max(1, min(page_size, PAGE_SIZE)),
            "offset": 0,
        }
        if filters.get("status") is not None:
            status = _int_or_none(filters["status"])
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

    def _list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        settings = self._flow_settings()
        if cursor:
            response = yield ApiRequest(
                "GET", self._resolve_next(settings, cursor), operation="list_documents"
            )
        else:
            params = self._list_params(settings, filters)
            response = yield ApiRequest(
                "GET",
                "document/",
                operation="list_documents",
                params=params,
                ok_statuses=frozenset() if self._group_as_uri else frozenset({400}),
            )
            if response.status_code == 400:
                # UNCERTAIN (spec §10): slug or URI for `group` here. Handling: send the slug; on a
                # 400 retry once with the URI.
                params["group"] = _group_uri(params["group"])
                response = yield ApiRequest("GET", "document/", operation="list_documents", params=params)
                self._group_as_uri = True
        body = response.json() or {}
        objects = body.get("objects") or []
        next_url = (body.get("meta") or {}).get("next")
        # An empty page ends the walk even if `next` is set: never loop on a misbehaving server.
        return Page([self.parse_document(d) for d in objects], next_url if next_url and objects else None)

    def validate_send_request(self, request: SendRequest) -> None:
        require_text("name", request.name, max_length=60)
        source = require_single_source(request, allowed={"template_id", "file"}, vendor="Legalesign")
        if source == "template_id":
            template_id = str(request.template_id)
            if not (TEMPLATEPDF_URI.match(template_id) or BARE_ID.match(template_id)):
                raise ESignValidationError(
                    "template_id",
                    "must be an uploaded template PDF id or its URI '/api/v1/templatepdf/<id>/' "
                    "(HTML templates are deprecated and not supported)",
                )
        signers = require_signers(request.signers)
        require_split_names(signers, pattern=NAME_PART, max_length=60)
        for index, signer in enumerate(signers):
            require_email(f"signers[{index}].email", signer.email, max_length=75)
            if signer.role not in (None, "", "signer") and signer.role not in SIGNER_ROLES:
                raise ESignValidationError(
                    f"signers[{index}].role", f"must be one of {sorted(SIGNER_ROLES)} or empty"
                )
        orders = [s.order for s in signers]
        if any(o is not None for o in orders) and (None in orders or len(set(orders)) != len(orders)):
            raise ESignValidationError(
                "signers", "give every signer a distinct 'order', or none (list order is the signing order)"
            )
        self._validate_options(request, source)
        self._validate_metadata(request)
        parse_expiry(request.expires_at)
        if request.subject is not None:
            require_text("subject", request.subject, max_length=150)
        if request.message is not None and not self._is_message_template(request.message):
            raise ESignValidationError(
                "message",
                "Legalesign's signer 'message' names a saved email template ('#TemplateName') or is "
                "'default'; free text cannot be sent. Create an email template in Legalesign and pass "
                "'#<its name>'",
            )
        self._group_slug(self.settings, purpose="send documents")

    @staticmethod
    def _is_message_template(message: str) -> bool:
        return message.startswith("#") or message == "default"

    def _validate_options(self, request: SendRequest, source: str) -> None:
        options = request.vendor_options
        require_known_options(options, self.send_options, "Legalesign")
        for key, value in options.items():
            field = f"vendor_options[{key!r}]"
            if key in _BOOL_OPTIONS and not isinstance(value, bool):
                raise ESignValidationError(field, "must be true or false")
            if key in _DICT_OPTIONS and not (
                isinstance(value, dict) and all(isinstance(k, str) for k in value)
            ):
                raise ESignValidationError(field, "must map field labels (or uuids) to values")
            if key in _STRING_OPTIONS and not isinstance(value, str):
                raise ESignValidationError(field, "must be a string")
        if "signature_type" in options and options["signature_type"] not in (1, 4):
            raise ESignValidationError(
                "vendor_options['signature_type']", "must be 4 (certified PDF) or 1 (sha256 hash)"
            )
        if options.get("reminders") not in (None, "default", ""):
            raise ESignValidationError("vendor_options['reminders']", "must be 'default' or ''")
        redirect = options.get("redirect")
        if redirect is not None and not (redirect.startswith("https://") and len(redirect) <= 250):
            raise ESignValidationError(
                "vendor_options['redirect']", "must be an https:// URL of at most 250 chars"
            )
        if options.get("user") and not USER_URI.match(options["user"]):
            raise ESignValidationError("vendor_options['user']", "must be a URI like '/api/v1/user/<id>/'")
        for key in ("tag", "tag1"):
            if key in options and not TAG_VALUE.match(options[key]):
                raise ESignValidationError(
                    f"vendor_options[{key!r}]", "at most 250 letters, digits, spaces and -[]:;/.,_"
                )
        if "process_tags" in options and source != "file":
            raise ESignValidationError(
                "vendor_options['process_tags']", "applies to the upload of a 'file' only"
            )

    @staticmethod
    def _validate_metadata(request: SendRequest) -> None:
        metadata = request.metadata
        if not isinstance(metadata, Mapping):
            raise ESignValidationError("metadata", "must be a mapping")
        for key, value in metadata.items():
            field = f"metadata[{key!r}]"
            if key == IDEMPOTENCY_TAG:
                raise ESignValidationError(field, "is reserved for the provider's idempotency key")
            if key not in METADATA_KEYS:
                raise ESignValidationError(field, f"Legalesign stores only {sorted(METADATA_KEYS)}")
            if not isinstance(value, str) or not TAG_VALUE.match(value):
                raise ESignValidationError(
                    field, "must be a string of at most 250 letters, digits, spaces and -[]:;/.,_"
                )
            if key in request.vendor_options:
                raise ESignValidationError(field, f"also given as vendor_options[{key!r}]; give it once")

    # ---------------------------------------------------------------- sending
    @staticmethod
    def _read_pdf_base64(location: str | os.PathLike[str], field: str) -> str:
        """Read a PDF (local path, ``file://`` or any object-storage URL) into base64, chunk by chunk.

        The file is streamed into the encoder, but the JSON body holding the base64 text is built in
        memory: fine for Legalesign's uploads, which are limited to a few MB.
        """
        from airflow.sdk import ObjectStoragePath

        try:
            with ObjectStoragePath(os.fspath(location)).open("rb") as handle:
                carry = handle.read(len(PDF_MAGIC))
                if carry != PDF_MAGIC:
                    raise ESignValidationError(
                        field, f"{os.fspath(location)!r} is not a PDF (no %PDF- header)"
                    )
                pieces = []
                while chunk := handle.read(_READ_CHUNK):
                    data = carry + chunk
                    cut = len(data) - len(data) % 3
                    pieces.append(base64.b64encode(data[:cut]))
                    carry = data[cut:]
                pieces.append(base64.b64encode(carry))
        except FileNotFoundError:
            raise ESignValidationError(field, f"{os.fspath(location)!r} does not exist") from None
        return b"".join(pieces).decode("ascii")

    def _upload_flow(self, pdf_base64: str, title: str, process_tags: bool) -> Flow[str]:
        settings = self._flow_settings()
        group = self._group_slug(settings, purpose="upload template PDFs")
        body: dict[str, Any] = {"group": _group_uri(group), "pdf_file": pdf_base64, "title": title}
        if process_tags:
            body["process_tags"] = True
        # A repeated upload only leaves an unused template behind, so retrying it is harmless.
        response = yield ApiRequest(
            "POST", "templatepdf/", operation="upload_template_pdf", json=body, idempotent=True
        )
        return self._location_id(response, "upload_template_pdf", "the upload answer has no Location header")

    def _location_id(self, response: ApiResponse, operation: str, missing: str) -> str:
        """The created resource's id from the ``Location`` header of a 201, or a clear error."""
        # UNCERTAIN (spec §7.3): Location absolute or a path. Handling: the last non-empty segment.
        resource_id = id_from_uri(response.header("Location"))
        if not resource_id:
            raise ESignApiError(
                missing, conn_id=self.conn_id, operation=operation, status_code=response.status_code
            )
        return resource_id

    def _prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Upload a ``file`` as a template PDF; a ``template_id`` needs no preparation."""
        if not request.file:
            return request
        # Read (and check the %PDF- header) before the first request goes out.
        pdf_base64 = self._read_pdf_base64(request.file, "file")
        template_id = yield from self._upload_flow(
            pdf_base64, request.name, truthy(request.vendor_options.get("process_tags"))
        )
        return replace(request, template_id=template_id, file=None)

    def _create_body(self, request: SendRequest, idempotency_key: str | None) -> dict[str, Any]:
        settings = self._flow_settings()
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
            if request.message and self._is_message_template(request.message):
                item["message"] = request.message
            if expires is not None:
                # UNCERTAIN (spec §2): the vendor's time zone; an explicit UTC offset is unambiguous.
                item["expires"] = expires.isoformat(timespec="seconds")
            signer_bodies.append(item)
        body: dict[str, Any] = {
            "group": _group_uri(self._group_slug(settings, purpose="send documents")),
            "name": request.name,
            # Never `text` or `template`: removed / deprecated (spec §7, UNCERTAIN handling).
            "templatepdf": _templatepdf_uri(str(request.template_id)),
            "signers": signer_bodies,
            "do_email": DEFAULT_DO_EMAIL,
            "signature_type": DEFAULT_SIGNATURE_TYPE,
        }
        # UNCERTAIN (spec §7.1): `user` required or optional. Handling: send it when configured.
        user = options.pop("user", None) or settings.extra.get("user")
        if user:
            body["user"] = user
        body.update(options)
        body.update({key: request.metadata[key] for key in METADATA_KEYS if key in request.metadata})
        if idempotency_key:
            body[IDEMPOTENCY_TAG] = idempotency_key
        return body

    def validate_idempotency_key(self, key: str) -> None:
        if not isinstance(key, str) or not key.strip() or not TAG_VALUE.match(key):
            raise ESignValidationError(
                "idempotency_key", "is stored in tag2: at most 250 letters, digits, spaces and -[]:;/.,_"
            )

    def _create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        # The key was validated by send_document before any call.
        body = self._create_body(request, idempotency_key)
        response = yield ApiRequest(
            "POST", "document/", operation="send_document", json=body, idempotent=False
        )
        # No body unless return_signer_links. A 201 without Location is created but unidentifiable:
        # not retried here (a resend could duplicate it); a task retry with adopt_existing finds it
        # through tag2.
        document_id = self._location_id(
            response, "send_document", "the document was created but the answer has no Location header"
        )
        answer = response.json()
        # Built from the request and the answer: no extra GET per send.
        raw: dict[str, Any] = {
            "uuid": document_id,
            "resource_uri": f"{API_PREFIX}document/{document_id}/",
            "name": body["name"],
            "group": body["group"],
            "templatepdf": body["templatepdf"],
            "status": 10,
            "download_final": False,
            "signer_objects": [
                {
                    "firstname": s["firstname"],
                    "lastname": s["lastname"],
                    "email": s["email"],
                    "order": s["order"],
                }
                for s in body["signers"]
            ],
            **{key: body[key] for key in ("tag", "tag1", "tag2") if key in body},
        }
        if isinstance(answer, dict) and answer:
            raw["signer_links"] = answer
        return self.parse_document(raw)

    def _before_create_flow(self, request: SendRequest, checkpoint: MutableMapping[str, Any]) -> Flow[None]:
        # Lets reconciliation list only recent documents instead of the group's whole history.
        checkpoint.setdefault("first_attempt_at", datetime.now(timezone.utc).isoformat(timespec="seconds"))
        return None
        yield  # pragma: no cover

    def _find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        # Archived documents count too (a fast signer plus auto_archive).
        filters: dict[str, Any] = {"archived": "all", "page_size": PAGE_SIZE}
        first_attempt = checkpoint.get("first_attempt_at")
        if first_attempt:
            since = datetime.fromisoformat(str(first_attempt).replace("Z", "+00:00"))
            filters["created_gt"] = since - CREATED_GT_MARGIN
        return (
            yield from self._find_first_flow(
                filters, lambda doc: doc.metadata.get(IDEMPOTENCY_TAG) == idempotency_key
            )
        )

    def _cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # The documented void: status 40 and archived. `email=1` tells the recipients.
        yield ApiRequest(
            "DELETE",
            f"document/{quote_id(document_id)}/",
            operation="cancel_document",
            params={"email": "1"} if notify else None,
        )

    def _download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        doc = yield from self._get_document_flow(document_id)
        if not doc.downloadable:
            raise DocumentNotReadyError(
                f"Legalesign document {document_id} is {doc.status.value} (status {doc.raw_status!r}, "
                f"download_final {truthy(doc.raw.get('download_final'))}); the final PDF is downloadable "
                "once status is 30 and download_final is true"
            )
        # UNCERTAIN (spec §9.1): "not ready" is 201 or 202; both are treated as not ready, as is any
        # non-PDF body. hash_value may be hex or base64 (the base accepts both).
        return DownloadSource(
            url=f"pdf/{quote_id(document_id)}/",
            sha256=doc.raw.get("hash_value") or None,
            not_ready_statuses=frozenset({201, 202}),
            supports_range=False,
        )

    def _test_connection_flow(self) -> Flow[str]:
        settings = self._flow_settings()
        objects, total = yield from self._groups_page_flow()
        slugs = [str(g.get("slug")) for g in objects]
        group = settings.extra.get("group")
        if group and group not in slugs and total <= len(slugs):
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra.group",
                f"{group!r} is not a group this API user can see; visible: {slugs}",
            )
        return f"Connected to Legalesign as {settings.login!r}; {total} group(s) visible: {', '.join(slugs)}"

    def _groups_page_flow(self) -> Flow[tuple[list[dict[str, Any]], int]]:
        response = yield ApiRequest("GET", "group/", operation="test_connection", params={"limit": PAGE_SIZE})
        body = response.json() or {}
        objects = body.get("objects") or []
        return objects, int((body.get("meta") or {}).get("total_count") or len(objects))

    # ---------------------------------------------------------------- generic lists
    def _collect_flow(self, path: str, params: dict[str, Any], operation: str) -> Flow[list[dict[str, Any]]]:
        settings = self._flow_settings()
        url: str = path
        query: dict[str, Any] | None = {"limit": PAGE_SIZE, "offset": 0, **params}
        items: list[dict[str, Any]] = []
        while True:
            response = yield ApiRequest("GET", url, operation=operation, params=query)
            body = response.json()
            if isinstance(body, list):  # an unpaginated list
                return items + body
            body = body or {}
            objects = body.get("objects") or []
            items.extend(objects)
            next_url = (body.get("meta") or {}).get("next")
            if not next_url or not objects:
                return items
            url, query = self._resolve_next(settings, next_url), None

    # ---------------------------------------------------------------- template PDFs
    def upload_template_pdf(
        self,
        path_or_bytes: str | os.PathLike[str] | bytes,
        title: str | None = None,
        process_tags: bool = False,
    ) -> str:
        """Upload a PDF as a template PDF of the connection's group (``POST /templatepdf/``).

        The whole base64 body is held in memory; Legalesign's uploads are limited to a few MB.

        :param path_or_bytes: Local path, ``file://`` or object-storage URL of the PDF, or its bytes.
        :param title: Template title (at most 120 chars; default: the file name).
        :param process_tags: Convert text tags in the PDF into signing fields.
        :return: The new template PDF's id (use it as ``template_id``).
        """
        if isinstance(path_or_bytes, (bytes, bytearray)):
            if not bytes(path_or_bytes).startswith(PDF_MAGIC):
                raise ESignValidationError("path_or_bytes", "is not a PDF (no %PDF- header)")
            pdf_base64 = base64.b64encode(path_or_bytes).decode("ascii")
            default_title = "Uploaded by Airflow"
        else:
            pdf_base64 = self._read_pdf_base64(path_or_bytes, "path_or_bytes")
            default_title = os.path.basename(urlsplit(os.fspath(path_or_bytes)).path) or "Uploaded by Airflow"
        title = require_text("title", title if title is not None else default_title, max_length=120)
        return self._run(self._upload_flow(pdf_base64, title, process_tags))

    def get_template_pdf(self, template_id: str) -> dict[str, Any]:
        """One template PDF: ``uuid``, ``title``, ``group``, ``page_count``, ``valid`` (sendable), ...

        :param template_id: The template PDF id.
        """
        path = f"templatepdf/{quote_id(template_id)}/"
        response = self._run(single_request(ApiRequest("GET", path, operation="get_template_pdf")))
        return response.json() or {}

    def list_template_pdfs(
        self, group: str | None = None, archived: bool | None = None
    ) -> list[dict[str, Any]]:
        """Every template PDF of a group, all pages.

        :param group: Group slug (default: the connection's ``group``).
        :param archived: Filter on archived templates (the vendor's ``archive`` parameter).
        """
        settings = self.settings
        params: dict[str, Any] = {"group": self._group_slug(settings, group, purpose="list template PDFs")}
        if archived is not None:
            params["archive"] = "true" if archived else "false"
        return self._run(self._collect_flow("templatepdf/", params, "list_template_pdfs"))

    def get_template_pdf_fields(self, template_id: str) -> list[dict[str, Any]]:
        """The fields of a template PDF (``element_type``, ``label``, ``uuid``, ``signer``, ``page``, ...).

        Their ``label`` or ``uuid`` keys ``vendor_options['pdftext']`` and ``['signertext']``.

        :param template_id: The template PDF id.
        """
        path = f"templatepdf/{quote_id(template_id)}/fields/"
        response = self._run(single_request(ApiRequest("GET", path, operation="get_template_pdf_fields")))
        body = response.json()
        if isinstance(body, dict):
            return list(body.get("objects") or [])
        return list(body or [])

    # ---------------------------------------------------------------- documents and signers
    def get_status(self, document_id: str) -> DocumentInfo:
        """The document's status from the fast ``GET /status/{id}/`` (no signers, so a status 10
        document is reported SENT even when nobody has been sent it yet).

        :param document_id: The document id.
        """
        path = f"status/{quote_id(document_id)}/"
        response = self._run(single_request(ApiRequest("GET", path, operation="get_status")))
        body = response.json() or {}
        # UNCERTAIN (spec §8.1): typed with the signer enum; handling: read as a document status.
        return self.parse_document({"uuid": document_id, **body})

    def send_reminder(self, document_id: str, signer_email: str | None = None, text: str = "") -> list[str]:
        """Remind the signers who were sent the document and have not signed yet.

        :param document_id: The document id.
        :param signer_email: Remind only this signer.
        :param text: Custom message (at most 10,000 chars; the vendor strips HTML).
        :return: The ids of the signers reminded.
        """
        if len(text) > 10000:
            raise ESignValidationError("text", "must be at most 10000 characters")
        return self._run(self._send_reminder_flow(document_id, signer_email, text))

    def _send_reminder_flow(self, document_id: str, signer_email: str | None, text: str) -> Flow[list[str]]:
        doc = yield from self._get_document_flow(document_id)
        if doc.status.is_failure:
            raise ESignValidationError("document_id", f"document {document_id} is {doc.status.value}")
        waiting = (SignerStatus.SENT, SignerStatus.VIEWED)
        if signer_email:
            signer = doc.signer(signer_email)
            if signer is None:
                raise ESignValidationError(
                    "signer_email", f"{signer_email!r} is not a signer of {document_id}"
                )
            if signer.status not in waiting:
                raise ESignValidationError(
                    "signer_email", f"{signer_email!r} is {signer.status.value}; only sent, unsigned signers"
                )
            targets = [signer]
        else:
            targets = [s for s in doc.signers if s.status in waiting]
        reminded = []
        for signer in targets:
            if not signer.signer_id:
                raise ESignValidationError(
                    "signer_email", f"Legalesign gave no id for signer {signer.email!r}"
                )
            response = yield ApiRequest(
                "POST",
                f"signer/{quote_id(signer.signer_id)}/send-reminder/",
                operation="send_reminder",
                json={"text": text},
                idempotent=False,  # a repeat would email the signer twice
                ok_statuses=frozenset({401}),
            )
            if response.status_code == 401:
                # Here 401 means "failed to send" (spec §8.6), not bad credentials.
                raise ESignBadRequestError(
                    f"Legalesign failed to send the reminder to signer {signer.signer_id} (its 401 on "
                    "send-reminder means 'not sent', not rejected credentials)",
                    conn_id=self.conn_id,
                    operation="send_reminder",
                    status_code=401,
                    vendor_message=self._vendor_message(response),
                )
            reminded.append(signer.signer_id)
        return reminded

    def get_signer_rejection_reason(self, signer_id: str) -> str | None:
        """Why a signer rejected the document (``GET /signer/{id}/rejection/``), if they did.

        :param signer_id: The signer id (``SignerInfo.signer_id``).
        """
        path = f"signer/{quote_id(signer_id)}/rejection/"
        response = self._run(single_request(ApiRequest("GET", path, operation="get_signer_rejection_reason")))
        body = response.json() or {}
        return body.get("reason") or None

    def download_audit_log(
        self, document_id: str, destination: IO[bytes], *, chunk_size: int = 1024 * 1024
    ) -> DownloadResult:
        """Stream the document's audit log PDF into ``destination`` (checked to be a PDF).

        :param document_id: The document id.
        :param destination: A seekable binary file.
        :param chunk_size: Bytes per read.
        """
        source = DownloadSource(url=f"document/{quote_id(document_id)}/auditlog/")
        return self.download_from_source(
            source, destination, chunk_size=chunk_size, operation="download_audit_log"
        )

    def get_form_data(self, document_id: str, *, document: DocumentInfo | None = None) -> list[FormField]:
        """Form field values of a document (``GET /document/{id}/fields/``).

        Legalesign's OpenAPI spec (https://apidocs.legalesign.com/) lists each field's
        ``element_type, fieldorder, label, label_extra, signer, state, validation, value``. It does
        not say what ``signer`` holds; a signer URI or id is matched to the signer's email (from
        ``document`` when given), any other value is passed on as given.
        """
        path = f"document/{quote_id(document_id)}/fields/"
        body = self._run(single_request(ApiRequest("GET", path, operation="get_form_data"))).json()
        items = body.get("objects", []) if isinstance(body, dict) else body or []
        emails = {s.signer_id: s.email for s in (document.signers if document else []) if s.signer_id}
        fields = []
        for item in sorted(items, key=lambda f: _int_or_none(f.get("fieldorder")) or 0):
            ref = item.get("signer")
            ref_text = None if ref is None else str(ref)
            fields.append(
                FormField(
                    label=item.get("label"),
                    value=item.get("value"),
                    field_type=item.get("element_type"),
                    signer=ref_text,
                    signer_email=emails.get(id_from_uri(ref_text) or "") if ref_text else None,
                    raw=item,
                )
            )
        return fields

    def delete_document_permanently(self, document_id: str) -> None:
        """Delete the document for good (``DELETE /document/{id}/delete/``).

        Needs "automated deletion" enabled for the group; to void a document use
        :meth:`cancel_document`.

        :param document_id: The document id.
        """
        path = f"document/{quote_id(document_id)}/delete/"
        response = self._run(single_request(ApiRequest("DELETE", path, operation="delete_document")))
        if response.status_code != 204:
            # Legalesign answers 200 when it did not delete (probably no automated deletion).
            raise ESignBadRequestError(
                "Legalesign did not delete the document (HTTP 200 means failure here; is automated "
                "deletion enabled for the group?)",
                conn_id=self.conn_id,
                operation="delete_document",
                status_code=response.status_code,
                vendor_message=self._vendor_message(response),
            )

    # ---------------------------------------------------------------- groups and webhooks
    def list_groups(self) -> list[dict[str, Any]]:
        """Every group (team) the API user belongs to: ``slug``, ``name``, ``is_active``, ..."""
        return self._run(self._collect_flow("group/", {}, "list_groups"))

    def subscribe_webhook(
        self, url: str, notify: str = "realtime", event_filter: str = "", group: str | None = None
    ) -> str | None:
        """Register a webhook (``POST /subscribe/``).

        Webhooks get events from every account where the API user is an admin: pass ``group``.

        :param url: ``http(s)://`` endpoint receiving the events.
        :param notify: ``realtime`` (JSON events), or the legacy ``all``, ``signed``, ``sent``,
            ``rejected``.
        :param event_filter: E.g. ``document.finalPdfCreated``; ``""`` for every event.
        :param group: Group slug to limit events to.
        :return: The ``Location`` header (URL to delete the webhook), if any.
        """
        body = self._webhook_body(url, event_filter, group)
        if notify not in WEBHOOK_NOTIFY:
            raise ESignValidationError("notify", f"must be one of {sorted(WEBHOOK_NOTIFY)}")
        body["notify"] = notify
        response = self._run(
            single_request(
                ApiRequest("POST", "subscribe/", operation="subscribe_webhook", json=body, idempotent=False)
            )
        )
        return response.header("Location")

    def unsubscribe_webhook(self, url: str, event_filter: str = "", group: str | None = None) -> None:
        """Remove a webhook (``POST /unsubscribe/``; succeeds whether or not it was registered).

        :param url: The registered URL, exactly.
        :param event_filter: The registered event filter.
        :param group: The registered group slug.
        """
        body = self._webhook_body(url, event_filter, group)
        self._run(
            single_request(ApiRequest("POST", "unsubscribe/", operation="unsubscribe_webhook", json=body))
        )

    def _webhook_body(self, url: str, event_filter: str, group: str | None) -> dict[str, Any]:
        if not isinstance(url, str) or not WEBHOOK_URL.match(url):
            raise ESignValidationError("url", "must start with http:// or https://")
        if event_filter not in WEBHOOK_EVENT_FILTERS:
            raise ESignValidationError("event_filter", f"must be one of {sorted(WEBHOOK_EVENT_FILTERS)}")
        body: dict[str, Any] = {"url": url, "eventFilter": event_filter}
        if group:
            # The form is not documented for webhooks; POST bodies elsewhere use the group URI.
            body["group"] = _group_uri(self._check_group("group", group))
        return body

    def list_webhooks(self) -> list[dict[str, Any]]:
        """The registered webhooks: ``active``, ``notify_when``, ``url``, ``group_id``, ``event_filter``."""
        response = self._run(single_request(ApiRequest("GET", "notifications/", operation="list_webhooks")))
        body = response.json()
        if isinstance(body, dict):
            return list(body.get("objects") or [])
        return list(body or [])
