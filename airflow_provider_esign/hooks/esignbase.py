"""eSignBase REST API hook (OAuth2 client credentials, 5-minute tokens).

Wire format reference: ``shared/specs/esignbase.md``. Everything eSignBase-specific lives here.

Connection: ``login`` = OAuth2 client id, ``password`` = client secret, ``host`` = base URL
(default ``https://app.esignbase.com``); extra ``scopes`` (space separated, default ``all``),
``sandbox`` (adds the ``sandbox`` scope: no credits used) and ``webhook_secret`` (the Document
Completed Hook secret, for the webhook receiver).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any, ClassVar

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignAuthError,
    ESignBadRequestError,
    ESignValidationError,
)
from airflow_provider_esign.hooks.base import (
    ApiRequest,
    ConnectionSettings,
    Credentials,
    DownloadSource,
    ESignHook,
    Flow,
    Page,
    quote_id,
    single_request,
    truthy,
)
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest, SignerInfo, SignerStatus
from airflow_provider_esign.validation import (
    parse_expiry,
    require_known_options,
    require_signers,
    require_single_source,
    require_split_names,
    require_string_metadata,
    require_text,
)

#: Vendor status → normalized status. DIGITAL_SIGNATURE_CREATED already allows the download, but the
#: vendor's own completion test is COMPLETED, so it maps to SIGNED with ``downloadable=True``.
STATUS_MAP: dict[str, DocumentStatus] = {
    "DRAFT": DocumentStatus.DRAFT,
    "PARTIALLY_SENT": DocumentStatus.SENT,
    "SENT": DocumentStatus.SENT,
    "PARTIALLY_SIGNED": DocumentStatus.PARTIALLY_SIGNED,
    "WAITING_FOR_PREPARATION": DocumentStatus.SIGNED,
    "WAITING_FOR_DIGITAL_SIGNATURE": DocumentStatus.SIGNED,
    "DIGITAL_SIGNATURE_CREATED": DocumentStatus.SIGNED,
    "COMPLETED": DocumentStatus.COMPLETED,
    "VOIDED": DocumentStatus.VOIDED,
}
DOWNLOADABLE = frozenset({"DIGITAL_SIGNATURE_CREATED", "COMPLETED"})
SCOPES = frozenset({"all", "read", "create_document", "delete", "sandbox"})
LOCALES = frozenset({"en", "de", "es"})
#: Metadata key holding the provider's idempotency key (counts toward the vendor's 10 keys).
IDEMPOTENCY_METADATA_KEY = "airflow_idempotency_key"
PAGE_SIZE = 100  # the documented maximum
TOKEN_LIFETIME = 300.0  # seconds, when the token response has no expires_in
TOKEN_REFRESH_MARGIN = 30.0
#: How long a template's role names are reused for the pre-send role check (seconds).
TEMPLATE_ROLES_TTL = 300.0


class _TemplateRolesCache:
    """Role names per (credentials, template), shared by the hooks of one process for a few minutes.

    The role check before each send needs the template's roles; reading the template on every send
    doubled the API calls of a batch (and its share of the rate limit). Roles rarely change, and if
    one does, the vendor rejects the create with a 400, which also drops the cached entry.
    """

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], tuple[tuple[str, ...], float]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], now: float) -> tuple[str, ...] | None:
        with self._lock:
            entry = self._values.get(key)
            if entry is None or entry[1] <= now:
                return None
            return entry[0]

    def put(self, key: tuple[str, str], roles: tuple[str, ...], expires_at: float) -> None:
        with self._lock:
            self._values[key] = (roles, expires_at)

    def forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._values.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


TEMPLATE_ROLES = _TemplateRolesCache()


class ESignBaseHook(ESignHook):
    """Interact with eSignBase: templates, documents, downloads, credits.

    :param conn_id: Airflow connection of type ``esignbase``.
    """

    conn_type = "esignbase"
    default_conn_name = "esignbase_default"
    hook_name = "eSignBase"
    vendor = "esignbase"
    default_host = "https://app.esignbase.com"
    reauthenticate_on_401 = True
    send_options: ClassVar[frozenset[str]] = frozenset({"locale"})

    # ---------------------------------------------------------------- connection and auth
    def _validate_settings(self, settings: ConnectionSettings) -> None:
        if not settings.login or not settings.password:
            raise ESignValidationError(
                f"connection {settings.conn_id!r}", "needs the OAuth2 client id (login) and secret (password)"
            )
        unknown = set(self._scopes(settings)) - SCOPES
        if unknown:
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra.scopes",
                f"unknown scope(s) {sorted(unknown)}; valid: {sorted(SCOPES)}",
            )

    @staticmethod
    def _scopes(settings: ConnectionSettings) -> list[str]:
        raw = settings.extra.get("scopes", settings.extra.get("scope")) or "all"
        scopes = raw.split() if isinstance(raw, str) else [str(s) for s in raw]
        if truthy(settings.extra.get("sandbox")) and "sandbox" not in scopes:
            scopes.append("sandbox")
        return scopes

    def _needs_login(self) -> bool:
        return True

    def _login_flow(self) -> Flow[Credentials]:
        settings = self.settings_or_none
        assert settings is not None
        basic = base64.b64encode(f"{settings.login}:{settings.password}".encode()).decode()
        response = yield ApiRequest(
            "POST",
            "oauth2/token",
            operation="get_access_token",
            data={"grant_type": "client_credentials", "scope": " ".join(self._scopes(settings))},
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            auth=False,
        )
        body = response.json() or {}
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise ESignAuthError(
                "the token response has no access_token", conn_id=self.conn_id, operation="get_access_token"
            )
        lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
        # Refresh ahead of expiry so a request never leaves with a token about to lapse.
        return Credentials({"access_token": token}, self._clock() + max(lifetime - TOKEN_REFRESH_MARGIN, 1.0))

    def _apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        assert creds is not None
        headers = {**request.headers, "Authorization": f"Bearer {creds.values['access_token']}"}
        return ApiRequest(**{**request.__dict__, "headers": headers})

    # ---------------------------------------------------------------- parsing
    def parse_document(self, raw: dict[str, Any]) -> DocumentInfo:
        """Normalize one eSignBase document object."""
        raw_status = raw.get("status")
        status = STATUS_MAP.get(str(raw_status))
        if status is None:
            self.log.warning("Unknown eSignBase status %r; treating it as SENT (in progress)", raw_status)
            status = DocumentStatus.SENT
        # eSignBase reports no per-recipient progress: signers are known signed only once all are.
        signer_status = (
            SignerStatus.SIGNED
            if status.reached(DocumentStatus.SIGNED)
            else SignerStatus.PENDING
            if status is DocumentStatus.DRAFT
            else SignerStatus.SENT
        )
        signers = [
            SignerInfo(
                email=r.get("email", ""),
                name=" ".join(p for p in (r.get("first_name"), r.get("last_name")) if p) or None,
                status=signer_status,
                raw_status=None,
                role=r.get("form_role") or r.get("role_name"),
                order=index,
            )
            for index, r in enumerate(raw.get("recipients") or [])
        ]
        metadata = raw.get("user_defined_metadata") or {}
        return DocumentInfo(
            document_id=str(raw.get("id") or raw.get("document_id")),
            vendor=self.vendor,
            name=raw.get("name"),
            status=status,
            raw_status=raw_status,
            signers=signers,
            created_at=raw.get("ctime"),
            modified_at=raw.get("mtime"),
            completed_at=raw.get("completed_date"),
            downloadable=str(raw_status) in DOWNLOADABLE,
            metadata={str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {},
            raw=raw,
        )

    # ---------------------------------------------------------------- documents
    def _get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        response = yield ApiRequest("GET", f"api/document/{quote_id(document_id)}", operation="get_document")
        return self.parse_document(response.json())

    def _list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        offset = int(cursor or 0)
        limit = min(int(filters.get("page_size", PAGE_SIZE)), PAGE_SIZE)
        response = yield ApiRequest(
            "GET", "api/documents", operation="list_documents", params={"limit": limit, "offset": offset}
        )
        body = response.json() or {}
        items = [self.parse_document(d) for d in body.get("documents") or []]
        offset += len(items)
        count = int(body.get("count") or 0)
        return Page(items, offset if items and offset < count else None)

    def validate_send_request(self, request: SendRequest) -> None:
        require_text("name", request.name, max_length=255)
        require_single_source(request, allowed={"template_id"}, vendor="eSignBase")
        signers = require_signers(request.signers)
        require_split_names(signers, pattern=None, max_length=100)
        roles = [s.role for s in signers if s.role]
        if roles and len(roles) != len(signers):
            raise ESignValidationError(
                "signers", "give every signer a role (the template's role name), or none"
            )
        if len(set(roles)) != len(roles):
            raise ESignValidationError("signers", "each template role takes exactly one signer")
        require_known_options(request.vendor_options, self.send_options, "eSignBase")
        locale = request.vendor_options.get("locale", "en")
        if not isinstance(locale, str) or locale not in LOCALES:
            raise ESignValidationError("vendor_options['locale']", f"must be one of {sorted(LOCALES)}")
        # One key is reserved for the idempotency key.
        require_string_metadata(request.metadata, max_keys=9, max_key_length=25, max_value_length=500)
        if IDEMPOTENCY_METADATA_KEY in request.metadata:
            raise ESignValidationError(
                f"metadata[{IDEMPOTENCY_METADATA_KEY!r}]", "is reserved by the provider"
            )
        parse_expiry(request.expires_at)

    def _prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Check the signers against the template's roles before anything is created."""
        assert request.template_id
        roles = yield from self._template_roles_flow(request.template_id)
        signers = list(request.signers)
        if not any(s.role for s in signers) and len(signers) == len(roles):
            # No roles given: assign the template's roles in order, the obvious reading.
            signers = [replace(s, role=role) for s, role in zip(signers, roles, strict=True)]
        given = [s.role for s in signers]
        if sorted(r or "" for r in given) != sorted(roles):
            raise ESignValidationError(
                "signers",
                f"template {request.template_id!r} needs exactly one signer per role {roles}; got roles {given}",
            )
        return replace(request, signers=tuple(signers))

    def _create_body(self, request: SendRequest, idempotency_key: str | None) -> dict[str, Any]:
        locale = request.vendor_options.get("locale", "en")
        recipients = []
        for signer in request.signers:
            first, last = signer.split_name()
            recipients.append(
                {
                    "email": signer.email.strip(),
                    "first_name": first,
                    "last_name": last,
                    "role_name": signer.role,
                    "locale": locale,
                }
            )
        body: dict[str, Any] = {
            "name": request.name,
            "template_id": request.template_id,
            "recipients": recipients,
        }
        metadata = dict(request.metadata)
        if idempotency_key:
            metadata[IDEMPOTENCY_METADATA_KEY] = idempotency_key
        if metadata:
            body["user_defined_metadata"] = metadata
        expires = parse_expiry(request.expires_at)
        if expires is not None:
            body["expiration_date"] = expires.isoformat(timespec="seconds")
        return body

    def _create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        body = self._create_body(request, idempotency_key)
        response = yield ApiRequest(
            "POST", "api/document", operation="send_document", json=body, idempotent=False
        )
        answer = response.json() or {}
        document_id = answer.get("document_id") or answer.get("id")
        if not document_id:
            raise ESignBadRequestError(
                "the create response has no document_id", conn_id=self.conn_id, operation="send_document"
            )
        raw_status = answer.get("status", "DRAFT")
        # Built from the answer and the request: no extra GET per send.
        return self.parse_document(
            {
                "id": document_id,
                "name": request.name,
                "template_id": request.template_id,
                "status": raw_status,
                "recipients": [{**r, "form_role": r["role_name"]} for r in body["recipients"]],
                "user_defined_metadata": body.get("user_defined_metadata", {}),
            }
        )

    def _find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        # No server-side filter exists, so this scans the account's documents page by page.
        return (
            yield from self._find_first_flow(
                {}, lambda doc: doc.metadata.get(IDEMPOTENCY_METADATA_KEY) == idempotency_key
            )
        )

    def _cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # eSignBase offers only DELETE; whether it also notifies recipients is undocumented.
        yield ApiRequest(
            "DELETE", f"api/document/{quote_id(document_id)}", operation="cancel_document", idempotent=True
        )

    def _download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        doc = yield from self._get_document_flow(document_id)
        if not doc.downloadable:
            raise DocumentNotReadyError(
                f"eSignBase document {document_id} is {doc.raw_status}; the PDF is downloadable from "
                "DIGITAL_SIGNATURE_CREATED on"
            )
        return DownloadSource(
            url=f"api/document/{quote_id(document_id)}/download", supports_range=True, document=doc
        )

    def _test_connection_flow(self) -> Flow[str]:
        credits = yield from self._credits_flow()
        return f"Connected to eSignBase ({credits} credits left)"

    def send_document(
        self,
        request: SendRequest,
        *,
        idempotency_key: str | None = None,
        checkpoint: MutableMapping[str, Any] | None = None,
        adopt_existing: bool = False,
    ) -> DocumentInfo:
        try:
            return super().send_document(
                request, idempotency_key=idempotency_key, checkpoint=checkpoint, adopt_existing=adopt_existing
            )
        except ESignBadRequestError:
            # Perhaps the template's roles changed since they were cached: read them again next time.
            if request.template_id:
                TEMPLATE_ROLES.forget((self.credentials_key, str(request.template_id)))
            raise

    # ---------------------------------------------------------------- templates and credits
    def _template_roles_flow(self, template_id: str) -> Flow[list[str]]:
        """The template's role names, from the per-process cache or one template read."""
        key = (self.credentials_key, template_id)
        cached = TEMPLATE_ROLES.get(key, self._clock())
        if cached is not None:
            return list(cached)
        template = yield from self._get_template_flow(template_id)
        roles = tuple(str(r) for r in template.get("form_role_names") or [])
        TEMPLATE_ROLES.put(key, roles, self._clock() + TEMPLATE_ROLES_TTL)
        return list(roles)

    def _get_template_flow(self, template_id: str) -> Flow[dict[str, Any]]:
        response = yield ApiRequest("GET", f"api/template/{quote_id(template_id)}", operation="get_template")
        return response.json() or {}

    def _credits_flow(self) -> Flow[int]:
        response = yield ApiRequest("GET", "api/credits", operation="get_credits")
        return int((response.json() or {}).get("credits", 0))

    def get_template(self, template_id: str) -> dict[str, Any]:
        """One template: ``id``, ``filename``, ``num_of_pages``, ``page_standard``, ``form_role_names``."""
        return self._run(self._get_template_flow(template_id))

    def list_templates(self) -> list[dict[str, Any]]:
        """Every template of the account (a list; sandbox scope shows sandbox templates only)."""
        response = self._run(single_request(ApiRequest("GET", "api/templates", operation="list_templates")))
        body = response.json()
        return body if isinstance(body, list) else []

    def get_credits(self) -> int:
        """Credits left (each non-sandbox send costs one)."""
        return self._run(self._credits_flow())
