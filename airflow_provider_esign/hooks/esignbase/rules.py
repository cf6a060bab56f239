"""eSignBase's rules for a connection and a send request, checked before any HTTP call.

Limits from https://esignbase.com/en/api_documentation: document names up to 255 characters,
recipient names up to 100, at most 10 metadata keys (one is the provider's idempotency key) of up
to 25 characters with values up to 500, locales en/de/es, one recipient per template role.
"""

from __future__ import annotations

from dataclasses import replace

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.esignbase.wire import IDEMPOTENCY_METADATA_KEY, LOCALES, SCOPES, scopes
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import SendRequest
from airflow_provider_esign.validation import (
    parse_expiry,
    require_known_options,
    require_signers,
    require_single_source,
    require_split_names,
    require_string_metadata,
    require_text,
)


def validate_settings(settings: ConnectionSettings) -> None:
    """The connection needs the OAuth2 client id and secret, and known scopes."""
    if not settings.login or not settings.password:
        raise ESignValidationError(
            f"connection {settings.conn_id!r}", "needs the OAuth2 client id (login) and secret (password)"
        )
    grant = settings.extra.get("grant_type") or "client_credentials"
    if grant not in ("client_credentials", "authorization_code"):
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.grant_type",
            "must be client_credentials or authorization_code",
        )
    if grant == "authorization_code":
        from airflow_provider_esign.hooks.esignbase.grant_store import resolve_store_url

        resolve_store_url(settings.extra.get("refresh_token_store"), settings.conn_id)
    unknown = set(scopes(settings)) - SCOPES
    if unknown:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.scopes",
            f"unknown scope(s) {sorted(unknown)}; valid: {sorted(SCOPES)}",
        )


def validate_send_request(request: SendRequest, send_options: frozenset[str]) -> None:
    """Check a send request against what eSignBase accepts; no HTTP."""
    require_text("name", request.name, max_length=255)
    require_single_source(request, allowed={"template_id"}, vendor="eSignBase")
    signers = require_signers(request.signers)
    require_split_names(signers, pattern=None, max_length=100, vendor="eSignBase")
    roles = [s.role for s in signers if s.role]
    if roles and len(roles) != len(signers):
        raise ESignValidationError("signers", "give every signer a role (the template's role name), or none")
    if len(set(roles)) != len(roles):
        raise ESignValidationError("signers", "each template role takes exactly one signer")
    require_known_options(request.vendor_options, send_options, "eSignBase")
    locale = request.vendor_options.get("locale", "en")
    if not isinstance(locale, str) or locale not in LOCALES:
        raise ESignValidationError("vendor_options['locale']", f"must be one of {sorted(LOCALES)}")
    require_string_metadata(
        request.metadata,
        max_keys=9,
        max_key_length=25,
        max_value_length=500,
        reserved_keys=(IDEMPOTENCY_METADATA_KEY,),
    )
    if IDEMPOTENCY_METADATA_KEY in request.metadata:
        raise ESignValidationError(f"metadata[{IDEMPOTENCY_METADATA_KEY!r}]", "is reserved by the provider")
    parse_expiry(request.expires_at)


def assign_roles(request: SendRequest, roles: list[str]) -> SendRequest:
    """The request with one signer per template role: roles assigned in order when none are given."""
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
