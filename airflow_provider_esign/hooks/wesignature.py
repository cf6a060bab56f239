"""WeSignature API hook (``app.wesignature.com/apihandler``): api key in the JSON body.

Wire format reference: ``shared/specs/wesignature.md``. Everything WeSignature-specific lives here.
Every call is a ``POST`` with a JSON body carrying ``user_id`` and ``api_key``; there is no auth
header.

Connection (type ``wesignature``), one of:

* ``login`` = account email, ``password`` = account password: the hook calls ``login_api`` once per
  process and reuses the ``user_id``/``api_key`` it returns (the key may rotate on every login, so it
  is not fetched per task);
* extra ``user_id`` + ``api_key``, obtained once: no login call at all. When email/password are set
  too, a rejected stored key is replaced by one login.

``host`` = base URL (default ``https://app.wesignature.com/apihandler``). No rate limit is
documented, so none is applied by default; poll a document no faster than about once a minute.

Status mapping (``documentstatusapi`` ``data.document_status``, compared as ``str()``; the list
endpoint reports words such as ``"draft"`` instead):

==========================  ==========================================================
WeSignature                 Normalized
==========================  ==========================================================
``"draft"``, no ``data``    DRAFT (not yet sent out: may need preparation in the web UI)
``"1"`` out for signature   SENT; PARTIALLY_SIGNED / SIGNED from the signers' ``"3"``
``"2"`` cancelled           VOIDED
``"3"`` completed           COMPLETED (the final PDF is downloadable)
any signer ``"4"``          DECLINED (defensive: the vendor does not say whether a
                            rejection also moves the document to ``"2"``)
==========================  ==========================================================

Signer states: ``"1"`` SENT, ``"2"`` VIEWED, ``"3"`` SIGNED, ``"4"`` DECLINED, anything else
(including the list endpoint's ``"0"``) PENDING.

Limits (no vendor support exists for these):

* **Sending** takes a public http(s) ``file`` URL that WeSignature downloads itself (use a short-lived
  pre-signed URL for private storage). There are no templates, metadata or expiry. The document is
  named after the URL's last path segment, not after ``SendRequest.name``. A sent document starts as
  ``"draft"`` and may need fields placed in the web UI (its ``edit_link``) before it goes out.
* **Exactly-once** sends: WeSignature has no idempotency field. Before creating, the hook records in
  the checkpoint the sent documents that already match the send's fingerprint (file name + signer
  emails); after an ambiguous failure it adopts the match that was not there before. If that baseline
  was never persisted (a crash before the checkpoint was saved), it adopts the latest matching
  document that is still in progress, which may be an older identical send.
* **Cancel** is not available: only a ``delete_link`` of unknown semantics exists.
* **Download** uses the document's ``download_link`` without credentials; if it needs a browser
  session the hook reports the document as not ready.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar
from urllib.parse import unquote, urljoin, urlsplit

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignServerError,
    ESignUnsupportedError,
    ESignValidationError,
    error_for_status,
)
from airflow_provider_esign.hooks.base import (
    CREDENTIALS,
    MAX_ERROR_TEXT,
    ApiRequest,
    ApiResponse,
    ConnectionSettings,
    Credentials,
    DownloadSource,
    ESignHook,
    Flow,
    Page,
    single_request,
)
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest, SignerInfo, SignerStatus
from airflow_provider_esign.validation import (
    require_known_options,
    require_signers,
    require_single_source,
    require_text,
)

#: Document status → normalized status. Numbers come from ``documentstatusapi``; the words from the
#: send and list answers. Only ``"draft"`` is documented: the other words are a guess at the
#: vocabulary, and unknown words count as SENT (in progress).
STATUS_MAP: dict[str, DocumentStatus] = {
    "1": DocumentStatus.SENT,
    "2": DocumentStatus.VOIDED,
    "3": DocumentStatus.COMPLETED,
    "draft": DocumentStatus.DRAFT,
    "completed": DocumentStatus.COMPLETED,
    "cancelled": DocumentStatus.VOIDED,
    "canceled": DocumentStatus.VOIDED,
    "declined": DocumentStatus.DECLINED,
    "rejected": DocumentStatus.DECLINED,
}
#: Signer status → normalized signer status; anything else (``"0"`` in the list answer) is PENDING.
SIGNER_STATUS_MAP: dict[str, SignerStatus] = {
    "1": SignerStatus.SENT,
    "2": SignerStatus.VIEWED,
    "3": SignerStatus.SIGNED,
    "4": SignerStatus.DECLINED,
}
COMPLETED = "3"
#: Body ``status`` values meaning success (``authorized`` for login; the error table lists 200).
OK_STATUSES = frozenset({"success", "authorized", "200"})
JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
LINK_KEYS = ("signing_link", "edit_link", "delete_link", "download_link")
#: The only ``sign_type`` shown to produce "they-sign" (spec §4 row 1), and the label it must produce.
THEY_SIGN = 3
THEY_SIGN_LABEL = "they-sign"
EMBEDDED_SIGNING_VALUES = frozenset({0, 1, 2})
#: Checkpoint key holding the guids that matched the send's fingerprint before the create call.
BASELINE_KEY = "wesignature_baseline"


@dataclass
class WeSignatureCredentials(Credentials):
    """``api_key`` (in ``values``, so the base masks it) plus the user id it belongs to.

    :param user_id: The account's user id, sent beside the key.
    :param stored: True when the pair comes from the connection extra, not from ``login_api``.
    """

    user_id: str = ""
    stored: bool = False


def document_links(document: DocumentInfo) -> dict[str, str | None]:
    """The ``signing_link``, ``edit_link``, ``delete_link`` and ``download_link`` of a document.

    Present in the results of :meth:`WeSignatureHook.send_document` and of the list endpoint (not in
    :meth:`WeSignatureHook.get_document`). Their lifetime and authentication are undocumented.
    """
    return {key: document.raw.get(key) for key in LINK_KEYS}


class WeSignatureHook(ESignHook):
    """Interact with WeSignature: send a document from a public URL, track it, download it.

    :param conn_id: Airflow connection of type ``wesignature``.
    """

    conn_type = "wesignature"
    default_conn_name = "wesignature_default"
    hook_name = "WeSignature"
    vendor = "wesignature"
    default_host = "https://app.wesignature.com/apihandler"
    # Spec §3.1: on a 401, call login_api once and retry the request once.
    reauthenticate_on_401 = True
    supports_cancel = False
    supports_reminders = False
    # No rate limit is documented (left at 0); the spec suggests polling once a minute per document.
    default_rate_limit_per_minute = 0
    send_options: ClassVar[frozenset[str]] = frozenset({"sign_type", "is_for_embedded_signing"})

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        # Set once the connection's stored api key was rejected: log in from then on.
        self._stored_key_rejected = False

    # ---------------------------------------------------------------- connection and auth
    @staticmethod
    def _stored_keys(settings: ConnectionSettings) -> tuple[str, str] | None:
        user_id = str(settings.extra.get("user_id") or "").strip()
        api_key = str(settings.extra.get("api_key") or "").strip()
        return (user_id, api_key) if user_id and api_key else None

    @staticmethod
    def _can_login(settings: ConnectionSettings) -> bool:
        return bool(settings.login and settings.password)

    def _validate_settings(self, settings: ConnectionSettings) -> None:
        has_user, has_key = bool(settings.extra.get("user_id")), bool(settings.extra.get("api_key"))
        if has_user != has_key:
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra",
                "give both 'user_id' and 'api_key', or neither",
            )
        if not self._stored_keys(settings) and not self._can_login(settings):
            raise ESignValidationError(
                f"connection {settings.conn_id!r}",
                "needs the account email (login) and password, or extra 'user_id' and 'api_key'",
            )
        if has_key:
            from airflow.sdk.log import mask_secret

            # Airflow already masks an extra named api_key; masking it here as well costs nothing.
            mask_secret(str(settings.extra["api_key"]))

    def _needs_login(self) -> bool:
        # Stored keys go through the credentials cache too (without any HTTP call), so both modes
        # share one code path for re-login and masking.
        return True

    def _login_flow(self) -> Flow[Credentials]:
        settings = self.settings_or_none
        assert settings is not None
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
        # UNCERTAIN (spec §3.1, §4 row 11): data.user is taken as the user_id of later calls, inferred
        # from the field names. The key's lifetime is undocumented, so it is cached without expiry and
        # replaced once on a 401.
        return WeSignatureCredentials({"api_key": str(api_key)}, user_id=str(user))

    def _apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        if not isinstance(creds, WeSignatureCredentials):
            raise ESignAuthError(
                "no WeSignature credentials", conn_id=self.conn_id, operation=request.operation
            )
        body = {"user_id": creds.user_id, "api_key": creds.values["api_key"], **(request.json or {})}
        return replace(request, json=body)

    @staticmethod
    def _api(endpoint: str, operation: str, body: dict[str, Any], **kwargs: Any) -> ApiRequest:
        # Always POST + JSON, also documentstatusapi whose curl example says GET (spec §4 row 3).
        return ApiRequest(
            "POST", endpoint, operation=operation, json=body, headers=dict(JSON_HEADERS), **kwargs
        )

    # ---------------------------------------------------------------- errors and re-login
    @staticmethod
    def _body_status(response: ApiResponse) -> str | None:
        body = response.json()
        if not isinstance(body, dict) or body.get("status") is None:
            return None
        return str(body["status"]).strip().lower()

    @classmethod
    def _body_code(cls, response: ApiResponse) -> int | None:
        """The error code of a JSON answer: a numeric ``status`` ("400"), else a numeric ``code``.

        WeSignature "responds with these error codes, message and status in json format"
        (https://app.wesignature.com/integrations/api/documentation), also with HTTP 200: e.g.
        ``{"status": "error", "code": 401, "message": ...}``.
        """
        status = cls._body_status(response) or ""
        if status.isdigit():
            return int(status)
        body = response.json()
        code = body.get("code") if isinstance(body, dict) else None
        if isinstance(code, bool):
            return None
        if isinstance(code, int):
            return code
        return int(code) if isinstance(code, str) and code.strip().isdigit() else None

    def _is_unauthorized(self, response: ApiResponse) -> bool:
        # 401 may come as the HTTP status or as the body's status or code.
        return response.status_code == 401 or (
            response.status_code < 300 and self._body_code(response) == 401
        )

    def _vendor_message(self, response: ApiResponse) -> str | None:
        body = response.json()
        if isinstance(body, dict):
            message = body.get("message")
            # Only the message text, never the raw body: a login answer carries the api_key.
            return message[:MAX_ERROR_TEXT] if isinstance(message, str) else None
        return super()._vendor_message(response)

    def _check_response(self, request: ApiRequest, response: ApiResponse) -> None:
        """Raise for errors WeSignature reports inside a 2xx answer (``"status": "400"``,
        ``"code": 401`` etc.), classified like the same HTTP status."""
        body = response.json()
        if not isinstance(body, dict):
            # Unknown outcome (a proxy page, a wrong host): a server error, so an ambiguous create is
            # reconciled rather than repeated.
            raise ESignServerError(
                f"the HTTP {response.status_code} answer is not a JSON object (check the connection host)",
                conn_id=self.conn_id,
                operation=request.operation,
            )
        status = self._body_status(response) or ""
        if status in OK_STATUSES:
            return
        code = self._body_code(response)
        kwargs: dict[str, Any] = {
            "conn_id": self.conn_id,
            "operation": request.operation,
            # The body code goes into status_code so the retry policy treats a body "500" as a 500.
            "status_code": code,
            "vendor_message": self._vendor_message(response),
        }
        text = f"vendor status {body.get('status')!r} in the JSON body (the HTTP status was {response.status_code})"
        if code is not None and code >= 400:
            cls, message = error_for_status(code, text)
            raise cls(message, **kwargs)
        # "error" without a code, a missing status or anything else: a failure of unknown kind.
        raise ESignApiError(text, **kwargs)

    def _before_reauthenticate(self, request: ApiRequest, creds: Credentials | None) -> None:
        """Prepare the one re-login after a 401, or fail fast when no login is possible."""
        settings = self.settings_or_none
        assert settings is not None
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

    # ---------------------------------------------------------------- parsing
    @staticmethod
    def _signer_entries(raw: dict[str, Any]) -> list[dict[str, Any]]:
        value = next((raw[k] for k in ("signer_data", "SignerMails") if raw.get(k) is not None), None)
        entries = list(value) if isinstance(value, list) else []
        # Spec §4 row 6: the send answer nests the list one level ([[...]]).
        if entries and isinstance(entries[0], list):
            entries = [e for group in entries if isinstance(group, list) for e in group]
        return [e for e in entries if isinstance(e, dict)]

    @staticmethod
    def _entry_email(entry: dict[str, Any]) -> str:
        return str(entry.get("email_address") or entry.get("email") or entry.get("signer_mail") or "")

    def parse_signers(self, raw: dict[str, Any]) -> list[SignerInfo]:
        """The signers of a status, list or send payload, whichever of the three shapes it uses."""
        signers = []
        for index, entry in enumerate(self._signer_entries(raw)):
            raw_status = entry.get("signaturestatus", entry.get("signer_status"))
            # Spec §4 row 5: unknown values, including "0", are pending.
            status = SIGNER_STATUS_MAP.get(str(raw_status).strip(), SignerStatus.PENDING)
            signer_id = entry.get("signer_id")
            signers.append(
                SignerInfo(
                    email=self._entry_email(entry),
                    name=entry.get("name"),
                    status=status,
                    raw_status=raw_status,
                    order=index,
                    signer_id=str(signer_id) if signer_id else None,
                )
            )
        return signers

    def _document_status(
        self, raw_status: Any, signers: list[SignerInfo], *, warn_unknown: bool = False
    ) -> DocumentStatus:
        if any(s.status is SignerStatus.DECLINED for s in signers):
            return DocumentStatus.DECLINED  # defensive (spec §5.4): a rejection fails the document
        key = "" if raw_status is None else str(raw_status).strip().lower()
        if not key:
            return DocumentStatus.DRAFT
        status = STATUS_MAP.get(key)
        if status is None:
            # The status API should only say 1/2/3 (worth a warning); list words are uncertain anyway.
            log = self.log.warning if warn_unknown else self.log.debug
            log("Unknown WeSignature document status %r; treating it as SENT (in progress)", raw_status)
            status = DocumentStatus.SENT
        if status is DocumentStatus.SENT and signers:
            signed = sum(s.status is SignerStatus.SIGNED for s in signers)
            if signed == len(signers):
                status = DocumentStatus.SIGNED  # every signer done, the document not "3" yet
            elif signed:
                status = DocumentStatus.PARTIALLY_SIGNED
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

    @staticmethod
    def _list_items(body: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The documents of a list answer, or None when the answer has no list at all."""
        message = body.get("message")
        # Spec §4 row 7: data is top level elsewhere, but this endpoint puts it under message.data.
        if isinstance(body.get("data"), list):
            value = body["data"]
        elif isinstance(message, dict) and "data" in message:
            value = message["data"]
        elif "data" in body:
            value = body["data"]
        else:
            return None
        if isinstance(value, dict):  # defensive: one document instead of a list of one
            value = [value]
        return [item for item in value or [] if isinstance(item, dict)]

    # ---------------------------------------------------------------- documents
    def _status_flow(self, guid: str, operation: str) -> Flow[dict[str, Any]]:
        require_text("document_id", guid)
        response = yield self._api("documentstatusapi", operation, {"guid": guid})
        return response.json()

    def _get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        body = yield from self._status_flow(document_id, "get_document")
        data = body.get("data")
        if isinstance(data, list):  # defensive: the example shows an object
            data = data[0] if data and isinstance(data[0], dict) else None
        # Spec §4 row 4: missing or empty data means "not yet sent out", still pending.
        doc = self.parse_document(data if isinstance(data, dict) else {}, document_id, warn_unknown=True)
        if doc.status is DocumentStatus.DRAFT:
            self.log.info(
                "WeSignature document %s is not sent out yet (draft). It may need fields placed in the "
                "WeSignature web app: open its edit_link (in the send_document result).",
                document_id,
            )
        return doc

    def _sent_documents_flow(self, guid: str | None, operation: str) -> Flow[list[dict[str, Any]]]:
        body: dict[str, Any] = {"guid": guid} if guid else {}
        response = yield self._api("getsentdocumentsapi", operation, body)
        answer = response.json()
        items = self._list_items(answer)
        if items is None:
            # Reconciliation relies on this list: an answer without one must not read as "no documents".
            raise ESignApiError(
                "the sent-documents answer has neither data nor message.data",
                conn_id=self.conn_id,
                operation=operation,
                vendor_message=self._vendor_message(response),
            )
        return items

    def _list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        unknown = sorted(set(filters) - {"guid"})
        if unknown:
            self.log.warning("WeSignature lists filter only by 'guid'; ignoring %s", unknown)
        items = yield from self._sent_documents_flow(filters.get("guid"), "list_documents")
        # UNCERTAIN (spec §5.3): no pagination is documented; the one answer is taken as complete.
        return Page([self.parse_document(item) for item in items], None)

    # ---------------------------------------------------------------- sending
    @staticmethod
    def _int_option(name: str, value: Any) -> int:
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)  # templated fields render as text
        if isinstance(value, bool) or not isinstance(value, int):
            raise ESignValidationError(f"vendor_options[{name!r}]", f"must be an integer, got {value!r}")
        return value

    @classmethod
    def _sign_type(cls, request: SendRequest) -> int:
        # UNCERTAIN (spec §4 row 1): the documented 0-2 table contradicts the vendor's own example, so
        # no value set is enforced; the default 3 is the only value shown to produce "they-sign".
        value = cls._int_option("sign_type", request.vendor_options.get("sign_type", THEY_SIGN))
        if value < 0:
            raise ESignValidationError("vendor_options['sign_type']", "must not be negative")
        return value

    @classmethod
    def _embedded(cls, request: SendRequest) -> int:
        # Spec §4 row 2: default 0 (the vendor example); 1 embedded only, 2 mail only.
        value = cls._int_option(
            "is_for_embedded_signing", request.vendor_options.get("is_for_embedded_signing", 0)
        )
        if value not in EMBEDDED_SIGNING_VALUES:
            raise ESignValidationError(
                "vendor_options['is_for_embedded_signing']", "must be 0 (embedded and mail), 1 or 2"
            )
        return value

    def validate_send_request(self, request: SendRequest) -> None:
        """Check a send request against what WeSignature accepts; no HTTP.

        ``file`` must be a public http(s) URL; ``vendor_options`` may hold ``sign_type`` (default 3,
        "they-sign") and ``is_for_embedded_signing`` (0, 1 or 2; default 0).
        """
        require_single_source(request, allowed={"file"}, vendor="WeSignature")
        url = urlsplit(str(request.file).strip())
        if url.scheme.lower() not in ("http", "https") or not url.netloc:
            raise ESignValidationError(
                "file",
                f"{request.file!r} is not an http(s) URL. WeSignature downloads the file itself, so it must "
                "be publicly reachable: for private storage (s3://, gs://, a local path) pass a short-lived "
                "pre-signed URL",
            )
        signers = require_signers(request.signers)
        for index, signer in enumerate(signers):
            if signer.role:
                raise ESignValidationError(f"signers[{index}].role", "WeSignature has no signer roles")
            if signer.order is not None:
                raise ESignValidationError(
                    f"signers[{index}].order", "WeSignature has no signing order field; leave it unset"
                )
        for field in ("subject", "message"):
            value = getattr(request, field)
            if value is not None:
                require_text(field, value)
        # Rejected rather than dropped: the caller would otherwise believe they were stored.
        if request.metadata:
            raise ESignValidationError("metadata", "WeSignature has no field to store metadata")
        if request.expires_at:
            raise ESignValidationError("expires_at", "WeSignature has no document expiry")
        require_known_options(request.vendor_options, self.send_options, "WeSignature")
        self._sign_type(request)
        self._embedded(request)

    def _prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        # Coerce dict signers once, so fingerprint and body see the same Signer objects.
        return replace(request, signers=require_signers(request.signers), file=str(request.file).strip())
        yield  # pragma: no cover

    def _create_body(self, request: SendRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sign_type": self._sign_type(request),
            "file_list": [{"file_url": request.file}],
            "is_for_embedded_signing": self._embedded(request),
            "signers": [{"name": s.name.strip(), "email_address": s.email.strip()} for s in request.signers],
        }
        mail_data = {
            key: value
            for key, value in (("mail_subject", request.subject), ("mail_message", request.message))
            if value
        }
        if mail_data:
            body["mail_data"] = mail_data
        return body

    def _create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        # WeSignature has no idempotency field: the key is used only for reconciliation.
        body = self._create_body(request)
        response = yield self._api("senddocumentapi", "send_document", body, idempotent=False)
        data = (response.json() or {}).get("data")
        data = data if isinstance(data, dict) else {}
        guid = data.get("guid")
        if not guid:
            raise ESignApiError(
                "the send answer has no data.guid; check the WeSignature account before sending again",
                conn_id=self.conn_id,
                operation="send_document",
                vendor_message=self._vendor_message(response),
            )
        if body["sign_type"] == THEY_SIGN:
            # Spec §4 row 1: the sign_type table is unreliable, so the label is verified after sending.
            label = str(data.get("signature_type") or "").strip().lower()
            if label != THEY_SIGN_LABEL:
                raise ESignBadRequestError(
                    f"sign_type {THEY_SIGN} produced signature_type {data.get('signature_type')!r}, not "
                    f"{THEY_SIGN_LABEL!r}. Document {guid} may have been created: check it (and delete it "
                    "if unwanted) in the WeSignature web app, then set vendor_options['sign_type']",
                    conn_id=self.conn_id,
                    operation="send_document",
                )
        else:
            self.log.info(
                "sign_type %s produced signature_type %r", body["sign_type"], data.get("signature_type")
            )
        raw_status = data.get("document_status") or "draft"
        status = self._document_status(raw_status, [])
        if status is DocumentStatus.DRAFT:
            # The link itself is not logged: its authentication is undocumented.
            self.log.info(
                "WeSignature document %s is a draft: it may need fields placed in the WeSignature web app "
                "before it goes out (its edit_link is in the result's raw payload)",
                guid,
            )
        signers = [
            SignerInfo(email=s.email.strip(), name=s.name.strip(), order=index)
            for index, s in enumerate(request.signers)
        ]
        return DocumentInfo(
            document_id=str(guid),
            vendor=self.vendor,
            name=data.get("document_name"),
            status=status,
            raw_status=raw_status,
            signers=signers,
            raw=data,
        )

    # ---------------------------------------------------------------- exactly-once
    @staticmethod
    def _fingerprint(request: SendRequest) -> tuple[str, frozenset[str]]:
        """File name (the URL's last path segment, as WeSignature names the document) + signer emails."""
        name = unquote(urlsplit(str(request.file)).path.rsplit("/", 1)[-1]).strip().lower()
        return name, frozenset(s.email.strip().lower() for s in request.signers)

    def _matches(self, item: dict[str, Any], fingerprint: tuple[str, frozenset[str]]) -> bool:
        name, emails = fingerprint
        if unquote(str(item.get("document_name") or "")).strip().lower() != name:
            return False
        listed = {self._entry_email(e).strip().lower() for e in self._signer_entries(item)} - {""}
        # An item without signers matches on its name: a miss here would mean a duplicate send.
        return not listed or listed == emails

    def _before_create_flow(self, request: SendRequest, checkpoint: MutableMapping[str, Any]) -> Flow[None]:
        items = yield from self._sent_documents_flow(None, "send_document")
        fingerprint = self._fingerprint(request)
        checkpoint[BASELINE_KEY] = [
            str(i["guid"]) for i in items if i.get("guid") and self._matches(i, fingerprint)
        ]

    def _find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        items = yield from self._sent_documents_flow(None, "send_document")
        fingerprint = self._fingerprint(request)
        matches = [i for i in items if i.get("guid") and self._matches(i, fingerprint)]
        if BASELINE_KEY in checkpoint:
            baseline = {str(g) for g in checkpoint[BASELINE_KEY] or []}
            candidates = [i for i in matches if str(i["guid"]) not in baseline]
            if len(candidates) > 1:
                self.log.warning(
                    "%d new WeSignature documents match this send; adopting the last listed", len(candidates)
                )
            # UNCERTAIN: the list order is undocumented; the last item is taken as the newest.
            return self.parse_document(candidates[-1]) if candidates else None
        in_progress = [d for d in (self.parse_document(i) for i in matches) if not d.status.is_terminal]
        if in_progress:
            self.log.warning(
                "No pre-send baseline was recorded, so the earlier attempt's document cannot be told apart "
                "from an older identical send (same file name and signers); adopting %s, the last such "
                "document still in progress, rather than risking a duplicate",
                in_progress[-1].document_id,
            )
            return in_progress[-1]
        return None

    # ---------------------------------------------------------------- cancel, download, test
    def _cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # Spec §6: delete_link's semantics are unknown and it must not be called automatically.
        raise ESignUnsupportedError(
            f"WeSignature has no cancel API; to withdraw document {document_id}, open its delete_link "
            "(in the send_document result) or use the WeSignature web app"
        )
        yield  # pragma: no cover

    def _download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        body = yield from self._status_flow(document_id, "download_document")
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        doc = self.parse_document(data, document_id)
        if doc.status.is_failure:
            raise DocumentFailedError(document_id, doc.status.value, doc.raw_status)
        if str(doc.raw_status).strip() != COMPLETED:
            raise DocumentNotReadyError(
                f"WeSignature document {document_id} has status {doc.raw_status!r}; the signed PDF is "
                f"available once it is {COMPLETED!r} (completed)"
            )
        link = data.get("download_link")
        if not link:
            # UNCERTAIN (spec §4 row 8): the status answer's link field is undocumented; the list has it.
            items = yield from self._sent_documents_flow(document_id, "download_document")
            item = next((i for i in items if str(i.get("guid")) == document_id), None)
            if item is None and len(items) == 1:
                item = items[0]
            link = (item or {}).get("download_link")
        if not link:
            raise DocumentNotReadyError(
                f"WeSignature document {document_id} is completed but has no download_link"
            )
        settings = self.settings_or_none
        assert settings is not None
        # UNCERTAIN (spec §6): the link's auth is undocumented; it is fetched without credentials, and
        # an HTML answer (a login page) is reported as not ready by the base.
        return DownloadSource(url=urljoin(settings.base_url, str(link)), auth=False, supports_range=False)

    def _test_connection_flow(self) -> Flow[str]:
        # With email/password the first call implies a login_api call.
        items = yield from self._sent_documents_flow(None, "test_connection")
        return f"Connected to WeSignature: {len(items)} sent document(s)"

    def document_url(self, document_id: str) -> str | None:
        """None: WeSignature documents no per-document page; see :meth:`links` for the send's links."""
        return None

    def web_url(self, document: DocumentInfo) -> str | None:
        """The send's ``edit_link`` (where a draft is prepared), else its ``signing_link``."""
        links = document_links(document)
        return links.get("edit_link") or links.get("signing_link")

    # ---------------------------------------------------------------- vendor extras
    def links(self, document: DocumentInfo) -> dict[str, str | None]:
        """The four WeSignature links of a document (``edit_link`` is where a draft is prepared).

        :param document: A result of :meth:`send_document` or :meth:`list_documents`.
        """
        return document_links(document)

    def login(self) -> dict[str, str]:
        """Obtain this process's WeSignature credentials and return the user id (never the key).

        Calls ``login_api`` only when no credentials are cached yet and the connection has no stored
        ``user_id``/``api_key``; logging in again might rotate the key.
        """
        _ = self.settings  # the credentials key needs the connection loaded
        creds = self._credentials()
        assert isinstance(creds, WeSignatureCredentials)
        return {"user_id": creds.user_id}

    def list_sent_documents(self, guid: str | None = None) -> list[dict[str, Any]]:
        """The raw documents of ``getsentdocumentsapi``, with their links.

        :param guid: Only this document.
        """
        return self._run(self._sent_documents_flow(guid, "list_sent_documents"))

    def get_status_raw(self, guid: str) -> dict[str, Any]:
        """The full ``documentstatusapi`` answer for one document.

        :param guid: The document's guid.
        """
        require_text("guid", guid)
        response = self._run(single_request(self._api("documentstatusapi", "get_status_raw", {"guid": guid})))
        return response.json()
