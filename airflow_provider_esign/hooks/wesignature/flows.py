"""The WeSignature flows: auth (api key in the JSON body), error rules, parsing and document reads.

Every call is a ``POST`` with a JSON body carrying ``user_id`` and ``api_key``
(https://app.wesignature.com/integrations/api/documentation).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from typing import Any

from airflow_provider_esign.exceptions import (
    ESignApiError,
    ESignAuthError,
    ESignMalformedResponseError,
    error_for_status,
)
from airflow_provider_esign.hooks.api import MAX_ERROR_TEXT, ApiRequest, ApiResponse, Flow, Page
from airflow_provider_esign.hooks.base import ESignHook
from airflow_provider_esign.hooks.credentials import CREDENTIALS, Credentials
from airflow_provider_esign.hooks.jsonstream import JsonStream, KeptList
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.hooks.wesignature import rules, wire
from airflow_provider_esign.hooks.wesignature.wire import (
    OK_STATUSES,
    WeSignatureCredentials,
)
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo
from airflow_provider_esign.validation import require_text


class WeSignatureFlows(ESignHook):
    """WeSignature's implementation of the hook interface: auth, errors, parsing, document reads."""

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        # Set once the connection's stored api key was rejected: log in from then on.
        self._stored_key_rejected = False

    # ---------------------------------------------------------------- connection and auth
    _api = staticmethod(wire.api)
    _stored_keys = staticmethod(rules.stored_keys)
    _can_login = staticmethod(rules.can_login)

    def validate_settings(self, settings: ConnectionSettings) -> None:
        rules.validate_settings(settings)
        if settings.extra.get("api_key"):
            from airflow.sdk.log import mask_secret

            # Airflow already masks an extra named api_key; masking it here as well costs nothing.
            mask_secret(str(settings.extra["api_key"]))

    def needs_login(self) -> bool:
        # Stored keys go through the credentials cache too (without any HTTP call), so both modes
        # share one code path for re-login and masking.
        return True

    def login_flow(self) -> Flow[Credentials]:
        settings = self.loaded_settings()
        stored = self._stored_keys(settings)
        if stored and not self._stored_key_rejected:
            return WeSignatureCredentials({"api_key": stored[1]}, user_id=stored[0], stored=True)
        if not self._can_login(settings):
            raise ESignAuthError(
                "the stored user_id/api_key were rejected and no email/password is set to log in",
                conn_id=self.conn_id,
                operation="login",
            )
        response = yield self._api(
            "login_api", "login", {"email": settings.login, "password": settings.password}, auth=False
        )
        data = (response.json() or {}).get("data")
        data = data if isinstance(data, dict) else {}
        user = data.get("user")
        if isinstance(user, dict):  # defensive: the example shows a plain value
            user = user.get("user_id") or user.get("id")
        api_key = data.get("api_key")
        if not user or not api_key:
            raise ESignAuthError(
                "the login answer has no data.user / data.api_key", conn_id=self.conn_id, operation="login"
            )
        # data.user is taken as the user_id of later calls, inferred from the field names (the
        # reference does not say so). The key's lifetime is undocumented, so it is cached without expiry and
        # replaced once on a 401.
        return WeSignatureCredentials({"api_key": str(api_key)}, user_id=str(user))

    def apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        if not isinstance(creds, WeSignatureCredentials):
            raise ESignAuthError(
                "no WeSignature credentials", conn_id=self.conn_id, operation=request.operation
            )
        body = {"user_id": creds.user_id, "api_key": creds.values["api_key"], **(request.json or {})}
        return replace(request, json=body)

    # ---------------------------------------------------------------- errors and re-login
    def is_unauthorized(self, response: ApiResponse) -> bool:
        # 401 may come as the HTTP status or as the body's status or code.
        return response.status_code == 401 or (response.status_code < 300 and wire.body_code(response) == 401)

    def vendor_message(self, response: ApiResponse) -> str | None:
        body = response.json()
        if isinstance(body, dict):
            message = body.get("message")
            # Only the message text, never the raw body: a login answer carries the api_key.
            return message[:MAX_ERROR_TEXT] if isinstance(message, str) else None
        return super().vendor_message(response)

    def check_response(self, request: ApiRequest, response: ApiResponse) -> None:
        """Raise for errors WeSignature reports inside a 2xx answer (``"status": "400"``,
        ``"code": 401`` etc.), classified like the same HTTP status."""
        body = response.json()
        if not isinstance(body, dict):
            # Unknown outcome (a proxy page, a wrong host): a server error, so an ambiguous create is
            # reconciled rather than repeated.
            raise ESignMalformedResponseError(
                f"the HTTP {response.status_code} answer is not a JSON object (check the connection host)",
                conn_id=self.conn_id,
                operation=request.operation,
            )
        status = wire.body_status(response) or ""
        if status in OK_STATUSES:
            return
        code = wire.body_code(response)
        kwargs: dict[str, Any] = {
            "conn_id": self.conn_id,
            "operation": request.operation,
            # The body code goes into status_code so the retry policy treats a body "500" as a 500.
            "status_code": code,
            "vendor_message": self.vendor_message(response),
        }
        text = f"vendor status {body.get('status')!r} in the JSON body (the HTTP status was {response.status_code})"
        if code is not None and code >= 400:
            cls, message = error_for_status(code, text)
            raise cls(message, **kwargs)
        # "error" without a code, a missing status or anything else: a failure of unknown kind.
        raise ESignApiError(text, **kwargs)

    def before_reauthenticate(self, request: ApiRequest, creds: Credentials | None) -> None:
        """Prepare the one re-login after a 401, or fail fast when no login is possible."""
        settings = self.loaded_settings()
        if isinstance(creds, WeSignatureCredentials) and creds.stored:
            if not self._can_login(settings):
                raise ESignAuthError(
                    "the stored user_id/api_key were rejected (401); renew the api_key in the connection "
                    "extra, or set the account email (login) and password so the hook can log in",
                    conn_id=self.conn_id,
                    operation=request.operation,
                    status_code=401,
                )
            self._stored_key_rejected = True
        CREDENTIALS.invalidate(self.credentials_key, creds)

    def parse_signers(self, raw: dict[str, Any]) -> list[SignerInfo]:
        """The signers of a status, list or send payload, whichever of the three shapes it uses."""
        return wire.parse_signers(raw)

    def _document_status(
        self, raw_status: Any, signers: list[SignerInfo], *, warn_unknown: bool = False
    ) -> DocumentStatus:
        status = wire.document_status(raw_status, signers)
        if status is None:
            # The status API should only say 1/2/3 (worth a warning); list words are uncertain anyway.
            log = self.log.warning if warn_unknown else self.log.debug
            log("Unknown WeSignature document status %r; treating it as SENT (in progress)", raw_status)
            status = wire.document_status("1", signers) or DocumentStatus.SENT
        return status

    def parse_document(
        self, raw: dict[str, Any], document_id: str | None = None, *, warn_unknown: bool = False
    ) -> DocumentInfo:
        """Normalize one WeSignature document: a list item, a send answer's or a status answer's ``data``.

        :param raw: The payload.
        :param document_id: The guid, when the payload has none (the status answer).
        :param warn_unknown: Log an unknown status as a warning (else at debug level).
        """
        signers = self.parse_signers(raw)
        raw_status = raw.get("document_status")
        status = self._document_status(raw_status, signers, warn_unknown=warn_unknown)
        return DocumentInfo(
            document_id=str(raw.get("guid") or document_id or ""),
            vendor=self.vendor,
            name=raw.get("document_name"),
            status=status,
            raw_status=raw_status,
            signers=signers,
            downloadable=status is DocumentStatus.COMPLETED,
            raw=raw,
        )

    # ---------------------------------------------------------------- documents
    def _status_flow(self, guid: str, operation: str) -> Flow[dict[str, Any]]:
        require_text("document_id", guid)
        response = yield self._api(
            "documentstatusapi", operation, {"guid": guid}, check_answer=wire.status_answer
        )
        return response.json()

    def get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        body = yield from self._status_flow(document_id, "get_document")
        data = body.get("data")
        if isinstance(data, list):  # defensive: the example shows an object
            data = data[0] if data and isinstance(data[0], dict) else None
        # Missing or empty data means "not yet sent out", still pending.
        doc = self.parse_document(data if isinstance(data, dict) else {}, document_id, warn_unknown=True)
        if doc.status is DocumentStatus.DRAFT:
            self.log.info(
                "WeSignature document %s is not sent out yet (draft). It may need fields placed in the "
                "WeSignature web app: open its edit_link (in the send_document result).",
                document_id,
            )
        return doc

    def _sent_documents_flow(
        self, guid: str | None, operation: str, keep: Callable[[dict[str, Any]], Any] | None = None
    ) -> Flow[list[Any]]:
        """The documents of ``getsentdocumentsapi``, parsed while the answer streams in.

        The answer holds the whole account (no pagination is documented, ~0.7 kB per document), so
        each document is offered to ``keep`` as soon as it is parsed and only what ``keep`` returns
        is kept: memory grows with that, not with the account, and no parsing step is long.

        :param guid: Only this document.
        :param operation: Hook operation name, for errors.
        :param keep: Called with each document (a dict); what it returns is kept, None drops the
            document. Default: keep every document as it is.
        """

        def each(item: Any) -> Any:
            if not isinstance(item, dict):
                return None
            return item if keep is None else keep(item)

        body: dict[str, Any] = {"guid": guid} if guid else {}
        stream = JsonStream(wire.LIST_ARRAYS, each)
        response = yield self._api("getsentdocumentsapi", operation, body, stream_json=stream)
        answer = response.json()
        found, value = wire.list_value(answer if isinstance(answer, dict) else {})
        if not found:
            # Reconciliation relies on this list: an answer without one must not read as "no documents".
            raise ESignApiError(
                "the sent-documents answer has neither data nor message.data",
                conn_id=self.conn_id,
                operation=operation,
                vendor_message=self.vendor_message(response),
            )
        if isinstance(value, KeptList):  # an array: its documents went through keep while streaming
            return list(value)
        # Not an array (defensive): one document object instead of a list of one, or null.
        return [kept for kept in map(each, [value] if isinstance(value, dict) else []) if kept is not None]

    def list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        unknown = sorted(set(filters) - {"guid"})
        if unknown:
            self.log.warning("WeSignature lists filter only by 'guid'; ignoring %s", unknown)
        # Each document is normalized as it is parsed, so no step handles the whole account at once.
        docs = yield from self._sent_documents_flow(
            filters.get("guid"), "list_documents", self.parse_document
        )
        # No pagination is documented; the one answer is taken as complete.
        return Page(docs, None)

    def batch_page_flow(self, cursor: Any, filters: dict[str, Any], wanted: Collection[str]) -> Flow[Page]:
        # The "page" is the whole account: only the tracked documents are converted while it streams
        # in (the others are dropped as soon as they are parsed).
        wanted = frozenset(wanted)

        def tracked(item: dict[str, Any]) -> DocumentInfo | None:
            return self.parse_document(item) if str(item.get("guid")) in wanted else None

        docs = yield from self._sent_documents_flow(filters.get("guid"), "list_documents", tracked)
        return Page(docs, None)

    def sync_walk(self, ctx: Any) -> Flow[None]:
        """The ledger's walk: the one streamed list, each chunk of parsed documents handed on (and
        committed) while the answer still streams in, so memory stays at one chunk."""
        from airflow_provider_esign.hooks import sync

        started = ctx.clock()
        walk_id = f"full-{started:.6f}"
        state = ctx.state or {}
        chunk: list[DocumentInfo] = []

        def keep(raw: dict[str, Any]) -> None:
            chunk.append(self.parse_document(raw))
            if len(chunk) >= SYNC_CHUNK:
                ctx.emit(sync.SyncPage(list(chunk), state, True, walk_id))
                chunk.clear()

        ctx.calls += 1
        # Chunks are committed from the parser's callback while the answer streams in (memory stays
        # at one chunk); the last one as an effect, once the list has been read whole.
        yield from self._sent_documents_flow(None, "sync_documents", keep)
        # No list cursor to resume from (one answer); a cut walk is read again whole, idempotently.
        done = {
            "version": sync.STATE_VERSION,
            "phase": sync.IDLE,
            "last_walk": "full",
            "since": None,
            "finished_at": ctx.clock(),
        }
        yield sync.commit(ctx, sync.SyncPage(list(chunk), done, True, walk_id, last=True))


#: Documents per committed chunk of WeSignature's streamed list.
SYNC_CHUNK = 500
