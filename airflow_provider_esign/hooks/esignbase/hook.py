"""eSignBase REST API hook (OAuth2 client credentials, 5-minute tokens): https://esignbase.com/en/api_documentation

Connection: ``login`` = OAuth2 client id, ``password`` = client secret, ``host`` = base URL
(default ``https://app.esignbase.com``); extra ``scopes`` (space separated, default ``all``),
``sandbox`` (adds the ``sandbox`` scope: no credits used) and ``webhook_secret`` (the Document
Completed Hook secret, for the webhook receiver).

Extra ``grant_type``: ``client_credentials`` (default: the integration owns the account) or
``authorization_code`` (acting for an eSignBase user who approved access; the refresh token lives in
the Redis store named by extra ``refresh_token_store``, see :mod:`.grants` and
``docs/howto/esignbase-authorization-code.md``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import replace
from typing import Any, ClassVar

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignAuthError,
    ESignBadRequestError,
    ESignNotFoundError,
)
from airflow_provider_esign.hooks import batch
from airflow_provider_esign.hooks.api import ApiRequest, DownloadSource, Flow, Page, quote_id, single_request
from airflow_provider_esign.hooks.base import ESignHook
from airflow_provider_esign.hooks.credentials import Credentials
from airflow_provider_esign.hooks.esignbase import grants, rules, wire
from airflow_provider_esign.hooks.esignbase.info import ESignBaseInfo
from airflow_provider_esign.hooks.esignbase.wire import (
    IDEMPOTENCY_METADATA_KEY,
    PAGE_SIZE,
    STATUS_MAP,
    TEMPLATE_ROLES_TTL,
    TOKEN_REFRESH_MARGIN,
)
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.hooks.webhook import WebhookClaim, document_id_from, secret_mismatch
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest

#: ``ctime`` is the vendor's clock and the first-attempt bound the worker's: an hour covers any skew.
CTIME_SKEW_SECONDS = 3600.0


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


class ESignBaseHook(ESignBaseInfo, ESignHook):
    """Interact with eSignBase: templates, documents, downloads, credits.

    :param conn_id: Airflow connection of type ``esignbase``.
    """

    reauthenticate_on_401 = True
    list_at_offset = True  # `GET /api/documents?limit=&offset=` (offset pagination, documented)
    send_options: ClassVar[frozenset[str]] = frozenset({"locale"})

    #: The Document Completed Hook sends the shared secret in this header.
    webhook_secret_header: ClassVar[str] = "x-signature-secret"
    #: SHA-256 of the access token eSignBase just refused (authorization_code grant), for the next login.
    _rejected_access: str | None = None

    # ---------------------------------------------------------------- connection and auth
    def validate_settings(self, settings: ConnectionSettings) -> None:
        rules.validate_settings(settings)

    _scopes = staticmethod(wire.scopes)

    def needs_login(self) -> bool:
        return True

    def login_flow(self) -> Flow[Credentials]:
        settings = self.loaded_settings()
        if grants.grant_type(settings) == grants.AUTHORIZATION_CODE:
            rejected, self._rejected_access = self._rejected_access, None
            flow = grants.access_flow(grants.Grant.from_settings(settings), self.clock, rejected)
            return (yield from flow)
        response = yield wire.token_request(settings)
        token, lifetime = wire.token_answer(response.json(), conn_id=self.conn_id)
        # Refresh ahead of expiry so a request never leaves with a token about to lapse.
        return Credentials({"access_token": token}, self.clock() + max(lifetime - TOKEN_REFRESH_MARGIN, 1.0))

    def before_reauthenticate(self, request: ApiRequest, creds: Credentials | None) -> None:
        # The refused token's digest: a shared grant refreshes only if no process did so already.
        self._rejected_access = grants.rejected_digest(creds)
        super().before_reauthenticate(request, creds)

    def apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        if creds is None:
            raise ESignAuthError("no eSignBase token", conn_id=self.conn_id, operation=request.operation)
        headers = {**request.headers, "Authorization": f"Bearer {creds.values['access_token']}"}
        return replace(request, headers=headers)

    @classmethod
    def verify_webhook(
        cls,
        extra: Mapping[str, Any],
        headers: Mapping[str, str],
        payload: dict[str, Any] | None,
        query: Mapping[str, str] | None = None,
    ) -> WebhookClaim:
        """The Document Completed Hook's ``X-Signature-Secret`` must equal the connection's
        ``webhook_secret`` extra (compared in constant time). eSignBase fires it for completed
        documents only (https://esignbase.com/en/api_documentation)."""
        problem = secret_mismatch(
            extra.get("webhook_secret"),
            headers.get(cls.webhook_secret_header),
            f"{cls.webhook_secret_header} header",
        )
        if problem is not None:
            return WebhookClaim.reject(problem)
        document_id = document_id_from((payload or {}).get("document_id"))
        if document_id is None:
            return WebhookClaim(verified_sender=True, bad_request="Body must be JSON with a document_id")
        return WebhookClaim(document_id=document_id, verified_sender=True, announces_completion=True)

    # ---------------------------------------------------------------- parsing
    def parse_document(self, raw: dict[str, Any]) -> DocumentInfo:
        """Normalize one eSignBase document object."""
        raw_status = raw.get("status")
        status = STATUS_MAP.get(str(raw_status))
        if status is None:
            self.log.warning("Unknown eSignBase status %r; treating it as SENT (in progress)", raw_status)
            status = DocumentStatus.SENT
        return wire.parse_document(raw, self.vendor, status)

    # ---------------------------------------------------------------- documents
    def get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        response = yield ApiRequest(
            "GET",
            f"api/document/{quote_id(document_id)}",
            operation="get_document",
            check_answer=wire.document_object,
        )
        return self.parse_document(response.checked)

    def clock_request(self) -> ApiRequest | None:
        # The smallest authenticated read; only its Date header is used.
        return ApiRequest("GET", "api/documents", operation="server_time", params={"limit": 1, "offset": 0})

    def list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        offset = int(cursor or 0)
        limit = min(int(filters.get("page_size", PAGE_SIZE)), PAGE_SIZE)
        response = yield ApiRequest(
            "GET",
            "api/documents",
            operation="list_documents",
            params={"limit": limit, "offset": offset},
            check_answer=wire.document_list,
        )
        documents, count = response.checked
        items = [self.parse_document(d) for d in documents]
        offset += len(items)
        return Page(items, offset if items and offset < count else None, total=count)

    def sync_walk(self, ctx: Any) -> Any:
        # No changed-since filter, but a final document never changes: after one full walk, the list
        # is read from its newest end down to the oldest document still open (offset pagination).
        from airflow_provider_esign.hooks import sync

        if ctx.synced_before and not ctx.full_refresh and (ctx.state or {}).get("phase") == sync.IDLE:
            return sync.horizon_walk(self, ctx)
        return sync.full_walk(self, ctx)

    def document_expires_at(self, document: DocumentInfo) -> str | None:
        value = document.raw.get("expiration_date")  # the create body's field, echoed by reads
        return str(value) if value else None

    def idempotency_key_of(self, document: DocumentInfo) -> str | None:
        return document.metadata.get(IDEMPOTENCY_METADATA_KEY) or None

    # ---------------------------------------------------------------- sending
    def validate_send_request(self, request: SendRequest) -> None:
        rules.validate_send_request(request, self.send_options)

    def prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Check the signers against the template's roles before anything is created."""
        if not request.template_id:
            raise RuntimeError("validate_send_request ensures a template_id")
        roles = yield from self._template_roles_flow(request.template_id)
        return rules.assign_roles(request, roles)

    def _create_body(self, request: SendRequest, idempotency_key: str | None) -> dict[str, Any]:
        return wire.create_body(request, idempotency_key)

    def create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
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
        return self.parse_document(wire.created_document(document_id, raw_status, request, body))

    def find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        # No server-side filter exists (https://esignbase.com/api_documentation), so the list is read
        # from its newest end and the walk stops at documents created before the first attempt.
        since = batch.timestamp(checkpoint.get("first_attempt_at"))
        return (
            yield from batch.find_first_flow(
                self,
                {},
                lambda doc: doc.metadata.get(IDEMPOTENCY_METADATA_KEY) == idempotency_key,
                since=None if since is None else since - CTIME_SKEW_SECONDS,
            )
        )

    def cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # eSignBase offers only DELETE; whether it also notifies recipients is undocumented.
        yield ApiRequest(
            "DELETE", f"api/document/{quote_id(document_id)}", operation="cancel_document", idempotent=True
        )

    def download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        doc = yield from self.get_document_flow(document_id)
        if not doc.downloadable:
            raise DocumentNotReadyError(
                f"eSignBase document {document_id} is {doc.raw_status}; the PDF is downloadable from "
                "DIGITAL_SIGNATURE_CREATED on"
            )
        return DownloadSource(
            url=f"api/document/{quote_id(document_id)}/download", supports_range=True, document=doc
        )

    def test_connection_flow(self) -> Flow[str]:
        credits = yield from self._credits_flow()
        return f"Connected to eSignBase ({credits} credits left)"

    def after_send_rejected(self, request: SendRequest) -> None:
        # Perhaps the template's roles changed since they were cached: read them again next time.
        if request.template_id:
            TEMPLATE_ROLES.forget((self.credentials_key, str(request.template_id)))

    # ---------------------------------------------------------------- templates and credits
    def _template_roles_flow(self, template_id: str) -> Flow[list[str]]:
        """The template's role names, from the per-process cache or one template read."""
        key = (self.credentials_key, template_id)
        cached = TEMPLATE_ROLES.get(key, self.clock())
        if cached is not None:
            return list(cached)
        template = yield from self._get_template_flow(template_id)
        roles = tuple(str(r) for r in template.get("form_role_names") or [])
        TEMPLATE_ROLES.put(key, roles, self.clock() + TEMPLATE_ROLES_TTL)
        return list(roles)

    def _get_template_flow(self, template_id: str) -> Flow[dict[str, Any]]:
        try:
            response = yield ApiRequest(
                "GET",
                f"api/template/{quote_id(template_id)}",
                operation="get_template",
                check_answer=wire.template_object,
            )
        except ESignNotFoundError as exc:
            # The vendor's "template not found" does not say which argument was wrong.
            raise ESignNotFoundError(
                f"template_id {template_id!r} does not exist in this eSignBase account "
                "(list_templates() shows the ids it has)",
                conn_id=exc.conn_id,
                operation=exc.operation,
                status_code=exc.http_status,
                vendor_message=exc.vendor_message,
            ) from None
        return response.checked

    def _credits_flow(self) -> Flow[int]:
        response = yield ApiRequest(
            "GET", "api/credits", operation="get_credits", check_answer=wire.credits_value
        )
        return response.checked

    def get_template(self, template_id: str) -> dict[str, Any]:
        """One template: ``id``, ``filename``, ``num_of_pages``, ``page_standard``, ``form_role_names``."""
        return self.run_flow(self._get_template_flow(template_id))

    def list_templates(self) -> list[dict[str, Any]]:
        """Every template of the account (a list; sandbox scope shows sandbox templates only)."""
        request = ApiRequest(
            "GET", "api/templates", operation="list_templates", check_answer=wire.template_list
        )
        return self.run_flow(single_request(request)).checked

    def get_credits(self) -> int:
        """Credits left (each non-sandbox send costs one)."""
        return self.run_flow(self._credits_flow())
