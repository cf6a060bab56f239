"""WeSignature API wire format (``app.wesignature.com/apihandler``): bodies, status maps, parsers.

Pure functions of their arguments (no hook state, no I/O, no clock). Every call is a ``POST`` with a
JSON body carrying ``user_id`` and ``api_key``; there is no auth header. API reference:
https://app.wesignature.com/integrations/api/documentation ; the status mapping and the vendor's
limits are described in ``docs/vendors/wesignature.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse, malformed
from airflow_provider_esign.hooks.credentials import Credentials
from airflow_provider_esign.hooks.wesignature.ledger import fingerprint_key
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest, SignerInfo, SignerStatus

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
#: The only ``sign_type`` the vendor's example shows producing "they-sign", and the label it must produce.
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


def api(endpoint: str, operation: str, body: dict[str, Any], **kwargs: Any) -> ApiRequest:
    # Always POST + JSON, also documentstatusapi, whose curl example shows GET.
    return ApiRequest("POST", endpoint, operation=operation, json=body, headers=dict(JSON_HEADERS), **kwargs)


def status_answer(body: Any, *, conn_id: str, operation: str) -> None:
    """A ``documentstatusapi`` answer's ``data`` is an object (or a list of one), or empty ("not sent
    out yet"); anything else (a string, a number) is junk, not a draft.

    :raises ESignMalformedResponseError: naming ``operation`` (retried like a 5xx).
    """
    data = body.get("data") if isinstance(body, dict) else None
    if data in (None, "", [], {}) or isinstance(data, (dict, list)):
        return
    raise malformed(
        body, "a document status (data is neither an object nor empty)", conn_id=conn_id, operation=operation
    )


def body_status(response: ApiResponse) -> str | None:
    body = response.json()
    if not isinstance(body, dict) or body.get("status") is None:
        return None
    return str(body["status"]).strip().lower()


def body_code(response: ApiResponse) -> int | None:
    """The error code of a JSON answer: a numeric ``status`` ("400"), else a numeric ``code``.

    WeSignature "responds with these error codes, message and status in json format"
    (https://app.wesignature.com/integrations/api/documentation), also with HTTP 200: e.g.
    ``{"status": "error", "code": 401, "message": ...}``.
    """
    status = body_status(response) or ""
    if status.isdigit():
        return int(status)
    body = response.json()
    code = body.get("code") if isinstance(body, dict) else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    return int(code) if isinstance(code, str) and code.strip().isdigit() else None


def signer_entries(raw: dict[str, Any]) -> list[dict[str, Any]]:
    value = next((raw[k] for k in ("signer_data", "SignerMails") if raw.get(k) is not None), None)
    entries = list(value) if isinstance(value, list) else []
    # The send answer nests the list one level ([[...]]).
    if entries and isinstance(entries[0], list):
        entries = [e for group in entries if isinstance(group, list) for e in group]
    return [e for e in entries if isinstance(e, dict)]


def entry_email(entry: dict[str, Any]) -> str:
    return str(entry.get("email_address") or entry.get("email") or entry.get("signer_mail") or "")


#: Where a list answer may hold its documents, as ijson prefixes: the sent-documents answer puts
#: them under ``message.data``; other answers have ``data`` at the top level (accepted as well).
LIST_ARRAYS = ("data", "message.data")


def list_value(body: dict[str, Any]) -> tuple[bool, Any]:
    """Whether a list answer has a list at all, and the raw value holding its documents."""
    message = body.get("message")
    # data is top level in other answers, but the sent-documents answer puts it under message.data.
    if isinstance(body.get("data"), list):
        return True, body["data"]
    if isinstance(message, dict) and "data" in message:
        return True, message["data"]
    if "data" in body:
        return True, body["data"]
    return False, None


def list_items(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The documents of a list answer, or None when the answer has no list at all."""
    found, value = list_value(body)
    if not found:
        return None
    if isinstance(value, dict):  # defensive: one document instead of a list of one
        value = [value]
    return [item for item in value or [] if isinstance(item, dict)]


def baseline_guid(item: dict[str, Any], fingerprint: tuple[str, frozenset[str]]) -> str | None:
    """The guid of a listed document matching a send's fingerprint (what the pre-send baseline keeps)."""
    return str(item["guid"]) if item.get("guid") and matches(item, fingerprint) else None


def parse_signers(raw: dict[str, Any]) -> list[SignerInfo]:
    """The signers of a status, list or send payload, whichever of the three shapes it uses."""
    signers = []
    for index, entry in enumerate(signer_entries(raw)):
        raw_status = entry.get("signaturestatus", entry.get("signer_status"))
        # Signer states other than 1-4 (the list answer's "0" included) are pending.
        status = SIGNER_STATUS_MAP.get(str(raw_status).strip(), SignerStatus.PENDING)
        signer_id = entry.get("signer_id")
        signers.append(
            SignerInfo(
                email=entry_email(entry),
                name=entry.get("name"),
                status=status,
                raw_status=raw_status,
                order=index,
                signer_id=str(signer_id) if signer_id else None,
            )
        )
    return signers


def document_status(raw_status: Any, signers: list[SignerInfo]) -> DocumentStatus | None:
    """Normalize a document status with its signers; None for an unknown status word."""
    if any(s.status is SignerStatus.DECLINED for s in signers):
        return DocumentStatus.DECLINED  # defensive: the vendor does not say a rejection moves it to "2"
    key = "" if raw_status is None else str(raw_status).strip().lower()
    if not key:
        return DocumentStatus.DRAFT
    status = STATUS_MAP.get(key)
    if status is None:
        return None
    if status is DocumentStatus.SENT and signers:
        signed = sum(s.status is SignerStatus.SIGNED for s in signers)
        if signed == len(signers):
            status = DocumentStatus.SIGNED  # every signer done, the document not "3" yet
        elif signed:
            status = DocumentStatus.PARTIALLY_SIGNED
    return status


def create_body(request: SendRequest, sign_type: int, embedded: int) -> dict[str, Any]:
    """The ``senddocumentapi`` body (credentials are added by the hook)."""
    body: dict[str, Any] = {
        "sign_type": sign_type,
        "file_list": [{"file_url": request.file}],
        "is_for_embedded_signing": embedded,
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


def fingerprint(request: SendRequest) -> tuple[str, frozenset[str]]:
    """File name (the URL's last path segment, as WeSignature names the document) + signer emails."""
    name = unquote(urlsplit(str(request.file)).path.rsplit("/", 1)[-1]).strip().lower()
    return name, frozenset(s.email.strip().lower() for s in request.signers)


def matches(item: dict[str, Any], fingerprint: tuple[str, frozenset[str]]) -> bool:
    name, emails = fingerprint
    if unquote(str(item.get("document_name") or "")).strip().lower() != name:
        return False
    listed = {entry_email(e).strip().lower() for e in signer_entries(item)} - {""}
    # An item without signers matches on its name: a miss here would mean a duplicate send.
    return not listed or listed == emails


def fingerprint_keys(fingerprint: tuple[str, frozenset[str]]) -> list[str]:
    """The send ledger's keys a send's matches are filed under: its own, and its name without signers
    (a listed document without signers matches on its name, see :func:`matches`)."""
    name, emails = fingerprint
    return [fingerprint_key(name, emails), fingerprint_key(name, ())]


def ledger_entry(item: dict[str, Any]) -> tuple[str, str] | None:
    """``(fingerprint key, guid)`` of a listed document, as the send ledger's snapshot files it."""
    if not item.get("guid"):
        return None
    name = unquote(str(item.get("document_name") or "")).strip().lower()
    emails = {entry_email(e).strip().lower() for e in signer_entries(item)} - {""}
    return fingerprint_key(name, emails), str(item["guid"])


def with_listed_details(status: DocumentInfo, listed: DocumentInfo | None) -> DocumentInfo:
    """The status answer's document with what only the sent-documents list carries: the document's
    name and the signers' names (``documentstatusapi`` returns neither)."""
    if listed is None:
        return status
    names = {s.email.strip().lower(): s.name for s in listed.signers if s.name}
    signers = [replace(s, name=s.name or names.get(s.email.strip().lower())) for s in status.signers]
    return replace(status, name=status.name or listed.name, signers=signers or listed.signers)
