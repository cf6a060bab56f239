"""
eSignBase OAuth2 Authorization Code grant emulation: consent page, codes, rotating refresh tokens, revoke.

What https://esignbase.com/en/api_documentation documents: ``GET /oauth2/authorize`` with ``client_id``,
``response_type=code``, ``redirect_uri`` (registered on the client), ``scope`` and ``state``; the user
approves; the browser returns to ``redirect_uri?code=...&state=...``; the code is short-lived and
single-use; ``POST /oauth2/token`` with ``grant_type=authorization_code`` (the same ``redirect_uri``,
exactly) or ``grant_type=refresh_token`` returns ``access_token``, ``refresh_token``, ``token_type``,
``expires_in``, and "refresh tokens may rotate on use".

What is emulated beyond that, as RFC 6749 and the OAuth 2.0 Security BCP (RFC 9700 §4.14) describe it:
every refresh rotates the refresh token; presenting a rotated (old) refresh token again is treated as
theft and revokes the whole token family (every refresh and access token descending from the same
code); a code used twice also revokes its family (RFC 6749 §4.1.2). Denied consent redirects with
``error=access_denied``. Every grant event goes to an event log without token values.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from esign_sandbox.credentials import same_secret
from esign_sandbox.esignbase.models import PREFIX, SCOPES
from esign_sandbox.responses import json_response
from esign_sandbox.state import SandboxState

#: Control API path of the grant event log and the "expire every access token now" switch.
CONTROL_PREFIX = "/_sandbox/esignbase/oauth"


def _digest(token: str) -> str:
    """Tokens are kept by hash only, as a real authorization server stores them."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class GrantState:
    """Codes, refresh-token families, consent tickets and the event log of one sandbox."""

    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    families: dict[str, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)


def grants(state: SandboxState) -> GrantState:
    """The grant state of ``state`` (created on first use, dropped by a sandbox reset)."""
    holder: dict[str, Any] = state.esignbase_grants
    if "state" not in holder:
        holder["state"] = GrantState()
    result: GrantState = holder["state"]
    return result


def _event(state: SandboxState, kind: str, family: str | None, **details: Any) -> None:
    # Never a token value: the family id and counters identify what happened.
    grants(state).events.append({"event": kind, "family": family, "at": state.now(), **details})


def _oauth_error(code: str, description: str, status: int = 400) -> Response:
    return json_response(
        {"error": code, "error_description": description}, status, headers={"cache-control": "no-store"}
    )


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;background:#f4f6f8;margin:0}"
        "main{max-width:460px;margin:60px auto;background:#fff;padding:28px 32px;border-radius:8px;"
        "box-shadow:0 2px 8px #0002}h1{font-size:1.3em}ul{padding-left:1.2em}"
        "button{font-size:1em;padding:8px 20px;margin-right:10px;border-radius:4px;border:1px solid #888}"
        "#approve{background:#1a7f37;color:#fff;border-color:#1a7f37}.muted{color:#555;font-size:.9em}"
        f"</style></head><body><main>{body}</main></body></html>",
        status_code=status,
        headers={"cache-control": "no-store", "x-frame-options": "DENY"},
    )


def _issue(state: SandboxState, family: str, scopes: set[str]) -> dict[str, Any]:
    """A new access token and refresh token of ``family``."""
    access_token = secrets.token_urlsafe(32)
    refresh_token = secrets.token_urlsafe(40)
    now = state.now()
    ttl = state.config.token_ttl
    state.tokens[access_token] = {
        "scopes": set(scopes),
        "issued_at": now,
        "expires_at": now + ttl,
        "family": family,
    }
    grants(state).refresh_tokens[_digest(refresh_token)] = {
        "family": family,
        "status": "active",
        "scopes": scopes,
    }
    return {
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(ttl) if float(ttl).is_integer() else ttl,
    }


def revoke_family(state: SandboxState, family: str, reason: str) -> None:
    """Revoke every refresh and access token of ``family``."""
    store = grants(state)
    info = store.families.get(family)
    if info is None or info["revoked"]:
        return
    info["revoked"] = reason
    for entry in store.refresh_tokens.values():
        if entry["family"] == family:
            entry["status"] = "revoked"
    for token in [t for t, e in state.tokens.items() if e.get("family") == family]:
        del state.tokens[token]
    _event(state, "family_revoked", family, reason=reason)


def token_grant(state: SandboxState, data: dict[str, str]) -> Response:
    """``POST /oauth2/token`` for ``authorization_code`` and ``refresh_token`` (client already checked)."""
    if data.get("grant_type") == "authorization_code":
        return _exchange_code(state, data)
    return _refresh(state, data)


def _exchange_code(state: SandboxState, data: dict[str, str]) -> Response:
    code, redirect_uri = data.get("code"), data.get("redirect_uri")
    if not code or not redirect_uri:
        return _oauth_error("invalid_request", "code and redirect_uri are required")
    store = grants(state)
    entry = store.codes.get(_digest(code))
    if entry is None:
        return _oauth_error("invalid_grant", "unknown authorization code")
    if entry["used"]:
        # RFC 6749 §4.1.2: a code used twice revokes what it issued.
        _event(state, "code_reused", entry["family"])
        revoke_family(state, entry["family"], "authorization code reused")
        return _oauth_error("invalid_grant", "authorization code already used")
    entry["used"] = True
    if state.now() >= entry["expires_at"]:
        _event(state, "code_expired", entry["family"])
        return _oauth_error("invalid_grant", "authorization code expired")
    if redirect_uri != entry["redirect_uri"]:
        _event(state, "redirect_uri_mismatch", entry["family"])
        return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
    family = entry["family"]
    store.families[family] = {"revoked": None, "rotations": 0, "created_at": state.now()}
    _event(state, "code_exchanged", family)
    return json_response(_issue(state, family, entry["scopes"]), headers={"cache-control": "no-store"})


def _refresh(state: SandboxState, data: dict[str, str]) -> Response:
    token = data.get("refresh_token")
    if not token:
        return _oauth_error("invalid_request", "refresh_token is required")
    store = grants(state)
    entry = store.refresh_tokens.get(_digest(token))
    if entry is None:
        return _oauth_error("invalid_grant", "unknown refresh token")
    family = entry["family"]
    if entry["status"] == "rotated":
        # A rotated token presented again: one of its holders is an attacker, so end the family.
        _event(state, "reuse_detected", family)
        revoke_family(state, family, "refresh token reused")
        return _oauth_error("invalid_grant", "refresh token already used; the grant is revoked")
    if entry["status"] != "active":
        return _oauth_error("invalid_grant", "refresh token revoked")
    entry["status"] = "rotated"
    store.families[family]["rotations"] += 1
    _event(state, "rotated", family, rotation=store.families[family]["rotations"])
    return json_response(_issue(state, family, entry["scopes"]), headers={"cache-control": "no-store"})


def revoke_token(state: SandboxState, token: str) -> None:
    """``POST /oauth2/revoke``: an access token ends alone, a refresh token ends its family (RFC 7009 §2.1)."""
    entry = grants(state).refresh_tokens.get(_digest(token))
    if entry is not None:
        revoke_family(state, entry["family"], "revoked by the client")
        return
    access = state.tokens.pop(token, None)
    if access is not None and access.get("family"):
        _event(state, "access_token_revoked", access["family"])


def build_router(state: SandboxState) -> APIRouter:
    """:return: the consent page routes and the grant control routes."""
    router = APIRouter()

    def client_error(message: str) -> HTMLResponse:
        # RFC 6749 §4.1.2.1: with a bad client or redirect_uri, never redirect; tell the user.
        return _page(
            "Authorization error",
            f"<h1>Authorization error</h1><p id='error'>{html.escape(message)}</p>",
            400,
        )

    @router.get(PREFIX + "/oauth2/authorize", name="esignbase.authorize")
    async def authorize(request: Request) -> Response:
        q = request.query_params
        client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
        if not same_secret(client_id, state.config.esignbase_client_id):
            return client_error("unknown client_id")
        if redirect_uri not in state.config.esignbase_redirect_uris:
            return client_error("redirect_uri is not registered for this client (exact match required)")
        back = {"state": q["state"]} if "state" in q else {}
        if q.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", **back})
        scopes = q.get("scope", "").split()
        if not scopes or any(s not in SCOPES for s in scopes):
            return _redirect(redirect_uri, {"error": "invalid_scope", **back})
        ticket = secrets.token_urlsafe(24)
        grants(state).tickets[ticket] = {
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "state": q.get("state"),
            "expires_at": state.now() + 600,
        }
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        body = (
            "<h1>Authorize access to your eSignBase account</h1>"
            f"<p>The application <b id='client'>{html.escape(client_id)}</b> asks to act on behalf of "
            f"<b>{html.escape(state.config.esignbase_user_email)}</b> with these permissions:</p>"
            f"<ul id='scopes'>{items}</ul>"
            f"<p class='muted'>You will return to <code>{html.escape(redirect_uri)}</code>.</p>"
            f"<form method='post' action='{PREFIX}/oauth2/authorize'>"
            f"<input type='hidden' name='consent_token' value='{ticket}'>"
            "<button id='approve' name='decision' value='approve'>Approve</button>"
            "<button id='deny' name='decision' value='deny'>Deny</button></form>"
            "<p class='muted'>eSignBase sandbox: this consent page emulates the vendor's.</p>"
        )
        return _page("eSignBase - authorize application", body)

    @router.post(PREFIX + "/oauth2/authorize", name="esignbase.authorize_decision")
    async def decide(request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", errors="replace")
        data = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
        # The single-use ticket from the page this browser was shown: a forged POST has none.
        ticket = grants(state).tickets.pop(data.get("consent_token", ""), None)
        if ticket is None or state.now() >= ticket["expires_at"]:
            return client_error("this consent request is unknown or expired; start again")
        back = {"state": ticket["state"]} if ticket["state"] is not None else {}
        if data.get("decision") != "approve":
            _event(state, "consent_denied", None)
            return _redirect(ticket["redirect_uri"], {"error": "access_denied", **back})
        code = secrets.token_urlsafe(24)
        family = secrets.token_hex(8)
        grants(state).codes[_digest(code)] = {
            "redirect_uri": ticket["redirect_uri"],
            "scopes": set(ticket["scopes"]),
            "expires_at": state.now() + state.config.esignbase_code_ttl,
            "used": False,
            "family": family,
        }
        _event(state, "consent_approved", family)
        return _redirect(ticket["redirect_uri"], {"code": code, **back})

    @router.get(CONTROL_PREFIX + "/events")
    async def events() -> Response:
        store = grants(state)
        families = {
            f: {"revoked": i["revoked"], "rotations": i["rotations"]} for f, i in store.families.items()
        }
        return json_response({"events": store.events, "families": families})

    @router.post(CONTROL_PREFIX + "/expire-access-tokens")
    async def expire_access_tokens() -> Response:
        """Expire every authorization-code access token now (forces refreshes, deterministically)."""
        expired = 0
        for entry in state.tokens.values():
            if entry.get("family"):
                entry["expires_at"] = state.now()
                expired += 1
        return json_response({"expired": expired})

    return router


def _redirect(redirect_uri: str, params: dict[str, str]) -> Response:
    separator = "&" if urllib.parse.urlsplit(redirect_uri).query else "?"
    return RedirectResponse(redirect_uri + separator + urllib.parse.urlencode(params), status_code=302)
