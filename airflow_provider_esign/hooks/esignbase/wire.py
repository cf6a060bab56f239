"""eSignBase REST API wire format: status map, parsers and request bodies.

Pure functions of their arguments (no hook state, no I/O, no clock). API reference:
https://esignbase.com/en/api_documentation ; the status mapping is described in
``docs/vendors/esignbase.md``.
"""

from __future__ import annotations

import base64
import math
from typing import Any

from airflow_provider_esign.exceptions import ESignAuthError
from airflow_provider_esign.hooks.api import ApiRequest, malformed, truthy
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest, SignerInfo, SignerStatus
from airflow_provider_esign.validation import parse_expiry

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


def scopes(settings: ConnectionSettings) -> list[str]:
    """The OAuth2 scopes of the connection (extra ``scopes``, default ``all``, plus ``sandbox``)."""
    raw = settings.extra.get("scopes", settings.extra.get("scope")) or "all"
    values = raw.split() if isinstance(raw, str) else [str(s) for s in raw]
    if truthy(settings.extra.get("sandbox")) and "sandbox" not in values:
        values.append("sandbox")
    return values


def basic_auth(settings: ConnectionSettings) -> str:
    """The ``Authorization`` header value of the OAuth2 client (HTTP Basic, client id and secret)."""
    return "Basic " + base64.b64encode(f"{settings.login}:{settings.password}".encode()).decode()


def token_request(settings: ConnectionSettings) -> ApiRequest:
    """The client-credentials token request (HTTP Basic client authentication)."""
    return ApiRequest(
        "POST",
        "oauth2/token",
        operation="get_access_token",
        data={"grant_type": "client_credentials", "scope": " ".join(scopes(settings))},
        headers={"Authorization": basic_auth(settings), "Accept": "application/json"},
        auth=False,
        check_answer=token_shape,
    )


def document_object(body: Any, *, conn_id: str, operation: str) -> dict[str, Any]:
    """A checked document answer: a JSON object with ``id`` (or ``document_id``) and ``status``.

    A 200 carrying an HTML page, truncated JSON, ``null``, ``[]`` or ``{}`` would otherwise fail with
    a raw ``AttributeError`` or read as document ``'None'``.

    :raises ESignMalformedResponseError: naming ``operation`` (retried like a 5xx).
    """
    if (
        isinstance(body, dict)
        and (body.get("id") or body.get("document_id"))
        and body.get("status") is not None
    ):
        return body
    raise malformed(body, "a document", conn_id=conn_id, operation=operation)


def document_list(body: Any, *, conn_id: str, operation: str) -> tuple[list[dict[str, Any]], int]:
    """The documents and total ``count`` of a checked ``GET /api/documents`` answer. A junk answer
    must never read as an empty list (reconciliation would take it for "not sent yet")."""
    documents = body.get("documents") if isinstance(body, dict) else None
    if not isinstance(documents, list):
        raise malformed(body, "a document list", conn_id=conn_id, operation=operation)
    items = [document_object(item, conn_id=conn_id, operation=operation) for item in documents]
    try:
        count = int(body.get("count") or 0)
    except (TypeError, ValueError):
        raise malformed(
            body, "a document list with a numeric count", conn_id=conn_id, operation=operation
        ) from None
    return items, count


def template_object(body: Any, *, conn_id: str, operation: str) -> dict[str, Any]:
    """A checked template answer: a JSON object with its ``form_role_names`` list."""
    if isinstance(body, dict) and isinstance(body.get("form_role_names", []), list) and body:
        return body
    raise malformed(body, "a template", conn_id=conn_id, operation=operation)


def template_list(body: Any, *, conn_id: str, operation: str) -> list[Any]:
    """A checked ``GET /api/templates`` answer: a JSON list."""
    if isinstance(body, list):
        return body
    raise malformed(body, "a template list", conn_id=conn_id, operation=operation)


def token_shape(body: Any, *, conn_id: str, operation: str) -> None:
    """A token answer that is not a JSON object is a proxy's page, not a refusal: retried."""
    if not isinstance(body, dict):
        raise malformed(body, "a token answer", conn_id=conn_id, operation=operation)


def credits_value(body: Any, *, conn_id: str, operation: str) -> int:
    """The ``credits`` number of a checked ``GET /api/credits`` answer."""
    value = body.get("credits") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise malformed(body, "a credits answer", conn_id=conn_id, operation=operation)
    try:
        return int(value)
    except ValueError:
        raise malformed(body, "a credits answer", conn_id=conn_id, operation=operation) from None


def token_answer(body: Any, *, conn_id: str) -> tuple[str, float]:
    """The access token and its lifetime (seconds) from a token answer.

    :raises ESignMalformedResponseError: the answer is not a JSON object (a proxy page: retried).
    :raises ESignAuthError: a JSON object without ``access_token`` (the vendor refused).
    """
    if not isinstance(body, dict):
        raise malformed(body, "a token answer", conn_id=conn_id, operation="get_access_token")
    token = body.get("access_token")
    if not token or not isinstance(token, str):
        raise ESignAuthError(
            "the token response has no access_token", conn_id=conn_id, operation="get_access_token"
        )
    try:
        lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
    except (TypeError, ValueError):
        lifetime = TOKEN_LIFETIME
    return token, lifetime if math.isfinite(lifetime) and lifetime > 0 else TOKEN_LIFETIME


def parse_document(raw: dict[str, Any], vendor: str, status: DocumentStatus) -> DocumentInfo:
    """Normalize one eSignBase document object whose status is already mapped."""
    raw_status = raw.get("status")
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
        vendor=vendor,
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


def create_body(request: SendRequest, idempotency_key: str | None) -> dict[str, Any]:
    """The ``POST /api/document`` body; the idempotency key goes into the document's metadata."""
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


def created_document(
    document_id: str, raw_status: Any, request: SendRequest, body: dict[str, Any]
) -> dict[str, Any]:
    """The created document, built from the answer and the request (no extra GET per send)."""
    return {
        "id": document_id,
        "name": request.name,
        "template_id": request.template_id,
        "status": raw_status,
        "recipients": [{**r, "form_role": r["role_name"]} for r in body["recipients"]],
        "user_defined_metadata": body.get("user_defined_metadata", {}),
    }
