"""
eSignBase REST API emulation: the routes (``/esignbase/oauth2/...`` and ``/esignbase/api/...``).

OAuth2 client credentials with 5-minute bearer tokens and scopes (the Authorization Code grant's consent
page, codes and rotating refresh tokens are in :mod:`.oauth`), template-driven documents with exactly
one recipient per role, credits, the documented status ladder, ranged downloads and the "Document
Completed Hook". Error bodies are undocumented; OAuth errors use RFC 6749 codes and the rest use
``{"error": <code>, "message": <text>}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import urllib.parse
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from esign_sandbox.credentials import ESIGNBASE_TEMPLATES, same_secret
from esign_sandbox.esignbase import oauth
from esign_sandbox.esignbase.models import (
    COMPLETED_STEPS,
    DOWNLOADABLE,
    PREFIX,
    SCOPES,
    VENDOR,
    document_body,
    document_status,
    new_document,
    parse_expiration,
    template_body,
)
from esign_sandbox.models import Document
from esign_sandbox.responses import Rejected, json_list_response, json_response, pdf_response
from esign_sandbox.state import SandboxState

_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\"]+")
_CREATE_FIELDS = {"name", "template_id", "recipients", "user_defined_metadata", "expiration_date"}
_RECIPIENT_FIELDS = {"email", "first_name", "last_name", "role_name", "locale"}


def _error(
    status: int, code: str, message: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"error": code}
    if message:
        body["message"] = message
    return json_response(body, status, headers)


def _invalid(message: str) -> Response:
    return _error(400, "invalid_request", message)


def validate_create(body: dict[str, Any], now: float) -> str | None:
    """
    Validate a ``POST /api/document`` body.

    :return: the first problem found, or ``None``.
    """
    unknown = sorted(set(body) - _CREATE_FIELDS)
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    for key in ("name", "template_id", "recipients"):
        if key not in body or body[key] is None:
            return f"{key} is required"
    name = body["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        return "name must be a non-empty string of at most 255 characters"
    template_id = body["template_id"]
    if not isinstance(template_id, str) or template_id not in ESIGNBASE_TEMPLATES:
        return f"template {template_id!r} does not exist"
    roles = ESIGNBASE_TEMPLATES[template_id][0]
    recipients = body["recipients"]
    if not isinstance(recipients, list) or not recipients:
        return "recipients must be a non-empty list"
    seen: list[str] = []
    for index, recipient in enumerate(recipients):
        where = f"recipients[{index}]"
        if not isinstance(recipient, dict):
            return f"{where} must be an object"
        unknown = sorted(set(recipient) - _RECIPIENT_FIELDS)
        if unknown:
            return f"{where}: unknown field(s): {', '.join(unknown)}"
        for key in ("email", "first_name", "last_name", "role_name"):
            value = recipient.get(key)
            if not isinstance(value, str) or not value.strip():
                return f"{where}.{key} is required and must be a non-empty string"
        if not _EMAIL.fullmatch(recipient["email"]):
            return f"{where}.email is not a valid email address"
        if recipient.get("locale", "en") not in ("en", "de", "es"):
            return f"{where}.locale must be one of en, de, es"
        if recipient["role_name"] not in roles:
            return f"{where}.role_name {recipient['role_name']!r} is not a role of template {template_id!r}"
        if recipient["role_name"] in seen:
            return f"{where}.role_name {recipient['role_name']!r} is used more than once"
        seen.append(recipient["role_name"])
    missing = [r for r in roles if r not in seen]
    if missing:
        return f"no recipient for template role(s): {', '.join(missing)}"
    metadata = body.get("user_defined_metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            return "user_defined_metadata must be an object"
        if len(metadata) > 10:
            return "user_defined_metadata allows at most 10 fields"
        for key, value in metadata.items():
            if not key or len(key) > 25:
                return f"user_defined_metadata key {key!r} must have 1 to 25 characters"
            if not isinstance(value, str):
                return f"user_defined_metadata value for {key!r} must be a string"
            if len(value) > 500:
                return f"user_defined_metadata value for {key!r} exceeds 500 characters"
    expiration = body.get("expiration_date")
    if expiration is not None:
        if not isinstance(expiration, str):
            return "expiration_date must be an ISO 8601 string"
        parsed = parse_expiration(expiration)
        if parsed is None:
            return "expiration_date must be ISO 8601 with a UTC offset, e.g. 2025-09-25T13:49:00+00:00"
        if parsed <= now:
            return "expiration_date must be in the future"
    return None


def build_router(state: SandboxState) -> APIRouter:
    """:return: the eSignBase router (OAuth under ``/esignbase/oauth2``, API under ``/esignbase/api``)."""
    router = APIRouter()
    router.include_router(oauth.build_router(state))

    def client_ok(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return False
        client_id, _, secret = decoded.partition(":")
        # urlencoded credentials are allowed by RFC 6749 §2.3.1.
        client_id, secret = urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
        return same_secret(client_id, state.config.esignbase_client_id) and same_secret(
            secret, state.config.esignbase_client_secret
        )

    async def form(request: Request) -> dict[str, str] | Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _invalid("Content-Type must be application/x-www-form-urlencoded")
        raw = (await request.body()).decode("utf-8", errors="replace")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}

    @router.post(PREFIX + "/oauth2/token", name="esignbase.token")
    async def token(request: Request) -> Response:
        state.stats.token_requests += 1
        if not client_ok(request):
            return _error(401, "invalid_client", headers={"www-authenticate": 'Basic realm="esignbase"'})
        data = await form(request)
        if isinstance(data, Response):
            return data
        grant_type = data.get("grant_type")
        if not grant_type:
            return _invalid("grant_type is required")
        if grant_type in ("authorization_code", "refresh_token"):
            return oauth.token_grant(state, data)
        if grant_type != "client_credentials":
            return _error(400, "unsupported_grant_type")
        scopes = data.get("scope", "").split()
        if not scopes or any(s not in SCOPES for s in scopes):
            return _error(400, "invalid_scope")
        access_token = secrets.token_urlsafe(32)
        now = state.now()
        state.tokens[access_token] = {
            "scopes": set(scopes),
            "issued_at": now,
            "expires_at": now + state.config.token_ttl,
        }
        return json_response({"access_token": access_token}, headers={"cache-control": "no-store"})

    @router.post(PREFIX + "/oauth2/revoke", name="esignbase.revoke")
    async def revoke(request: Request) -> Response:
        if "authorization" in request.headers and not client_ok(request):
            return _error(401, "invalid_client")
        data = await form(request)
        if isinstance(data, Response):
            return data
        if not data.get("token"):
            return _invalid("token is required")
        oauth.revoke_token(state, data["token"])
        state.tokens.pop(data["token"], None)
        return Response(status_code=200)

    def bearer(request: Request, needed: str) -> set[str] | Response:
        header = request.headers.get("authorization", "")

        def invalid(description: str) -> Response:
            # RFC 6750: the body names the error only; the description travels in the challenge.
            challenge = f'Bearer error="invalid_token", error_description="{description}"'
            return _error(401, "invalid_token", headers={"www-authenticate": challenge})

        if header[:7].lower() != "bearer ":
            return invalid("missing bearer token")
        entry = state.tokens.get(header[7:].strip())
        if entry is None:
            return invalid("unknown access token")
        if state.now() >= entry["expires_at"]:
            return invalid("access token expired")
        scopes: set[str] = entry["scopes"]
        if "all" not in scopes and needed not in scopes:
            challenge = f'Bearer error="insufficient_scope", scope="{needed}"'
            return _error(403, "insufficient_scope", headers={"www-authenticate": challenge})
        return scopes

    def scope(needed: str) -> Any:
        """A dependency: the token's scopes, or the 401/403 answer when it lacks ``needed``."""

        def dependency(request: Request) -> set[str]:
            scopes = bearer(request, needed)
            if isinstance(scopes, Response):
                raise Rejected(scopes)
            return scopes

        return Depends(dependency)

    def document(needed: str) -> Any:
        """A dependency: the document ``doc_id`` after the scope check, or the 404 answer."""
        allowed = scope(needed)

        def dependency(doc_id: str, _: set[str] = allowed) -> Document:
            doc = state.get(VENDOR, doc_id)
            if doc is None:
                raise Rejected(_error(404, "not_found", "document not found"))
            return doc

        return Depends(dependency)

    can_read, can_create, read_document, delete_document_ = (
        scope("read"),
        scope("create_document"),
        document("read"),
        document("delete"),
    )

    @router.get(PREFIX + "/api/templates", name="esignbase.templates")
    async def templates(request: Request, scopes: set[str] = can_read) -> Response:
        return json_response([template_body(t) for t in ESIGNBASE_TEMPLATES])

    @router.get(PREFIX + "/api/template/{template_id}", name="esignbase.template")
    async def template(request: Request, template_id: str, scopes: set[str] = can_read) -> Response:
        if template_id not in ESIGNBASE_TEMPLATES:
            return _error(404, "not_found", "template not found")
        return json_response(template_body(template_id))

    @router.get(PREFIX + "/api/credits", name="esignbase.credits")
    async def credits(request: Request, scopes: set[str] = can_read) -> Response:
        return json_response({"credits": state.credits})

    @router.post(PREFIX + "/api/document", name="esignbase.document_create")
    async def create_document(request: Request, scopes: set[str] = can_create) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return _invalid("Content-Type must be application/json")
        try:
            body = json.loads((await request.body()).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _invalid("malformed JSON body")
        if not isinstance(body, dict):
            return _invalid("the body must be a JSON object")
        now = state.now()
        problem = validate_create(body, now)
        if problem:
            return _error(400, "validation_error", problem)
        sandbox_mode = "sandbox" in scopes
        if not sandbox_mode:
            if state.credits < 1:
                return _error(402, "insufficient_credits", "no document credits left")
            state.credits -= 1
        doc = new_document(
            state,
            name=body["name"],
            template_id=body["template_id"],
            recipients=body["recipients"],
            metadata=body.get("user_defined_metadata"),
            expiration=body.get("expiration_date"),
            sandbox_mode=sandbox_mode,
        )
        # The vendor answers DRAFT: sending happens asynchronously after the call.
        return json_response({"document_id": doc.id, "status": "DRAFT"})

    @router.get(PREFIX + "/api/documents", name="esignbase.documents")
    async def list_documents(request: Request, scopes: set[str] = can_read) -> Response:
        try:
            limit = int(request.query_params.get("limit", "20"))
            offset = int(request.query_params.get("offset", "0"))
        except ValueError:
            return _invalid("limit and offset must be integers")
        if not 1 <= limit <= 100:
            return _invalid("limit must be between 1 and 100")
        if offset < 0:
            return _invalid("offset must not be negative")
        now = state.now()
        total, docs = state.index(VENDOR).query(
            ("all",), now, order=state.config.order_for(VENDOR), offset=offset, limit=limit
        )
        index = state.index(VENDOR)
        # days_before_voided counts down with the clock, so documents with an expiry are never cached.
        items = [
            index.encoded(d, "item" if d.expires_at is None else None, lambda d=d: document_body(d, now))  # type: ignore[misc]
            for d in docs
        ]
        return json_list_response({}, "documents", items, {"count": total})

    @router.get(PREFIX + "/api/document/{doc_id}", name="esignbase.document")
    async def get_document(doc: Document = read_document) -> Response:
        return json_response(document_body(doc, state.now()))

    @router.delete(PREFIX + "/api/document/{doc_id}", name="esignbase.document_delete")
    async def delete_document(doc: Document = delete_document_) -> Response:
        doc.deleted = True
        state.touch(doc)
        return Response(status_code=200)

    @router.get(PREFIX + "/api/document/{doc_id}/download", name="esignbase.download")
    async def download(request: Request, doc: Document = read_document) -> Response:
        status = document_status(doc, state.now())
        if status not in DOWNLOADABLE:
            return _error(409, "document_not_completed", f"the document is {status}; no final PDF yet")
        filename = ESIGNBASE_TEMPLATES[doc.data["template_id"]][3]
        # Last-Modified is when the digitally signed PDF was created.
        return pdf_response(
            doc.final_pdf(),
            filename=filename,
            range_header=request.headers.get("range"),
            last_modified=doc.stage_at(COMPLETED_STEPS - 1),
        )

    return router
