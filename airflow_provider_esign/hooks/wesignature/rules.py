"""WeSignature's rules for a connection and a send request, checked before any HTTP call.

The vendor has no templates, metadata, expiry, signer roles or signing order, and downloads the
document itself from a public http(s) URL
(https://app.wesignature.com/integrations/api/documentation).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.hooks.wesignature.wire import EMBEDDED_SIGNING_VALUES, THEY_SIGN
from airflow_provider_esign.models import SendRequest
from airflow_provider_esign.validation import (
    require_known_options,
    require_signers,
    require_single_source,
    require_text,
)


def stored_keys(settings: ConnectionSettings) -> tuple[str, str] | None:
    user_id = str(settings.extra.get("user_id") or "").strip()
    api_key = str(settings.extra.get("api_key") or "").strip()
    return (user_id, api_key) if user_id and api_key else None


def can_login(settings: ConnectionSettings) -> bool:
    return bool(settings.login and settings.password)


def validate_settings(settings: ConnectionSettings) -> None:
    """Stored keys come in pairs; without them the account email and password are needed."""
    has_user, has_key = bool(settings.extra.get("user_id")), bool(settings.extra.get("api_key"))
    if has_user != has_key:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra",
            "give both 'user_id' and 'api_key', or neither",
        )
    if not stored_keys(settings) and not can_login(settings):
        raise ESignValidationError(
            f"connection {settings.conn_id!r}",
            "needs the account email (login) and password, or extra 'user_id' and 'api_key'",
        )


def int_option(name: str, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)  # templated fields render as text
    if isinstance(value, bool) or not isinstance(value, int):
        raise ESignValidationError(f"vendor_options[{name!r}]", f"must be an integer, got {value!r}")
    return value


def sign_type(request: SendRequest) -> int:
    # The documented 0-2 table contradicts the vendor's own example, so no value set is enforced;
    # the default 3 is the only value the example shows producing "they-sign".
    value = int_option("sign_type", request.vendor_options.get("sign_type", THEY_SIGN))
    if value < 0:
        raise ESignValidationError("vendor_options['sign_type']", "must not be negative")
    return value


def embedded(request: SendRequest) -> int:
    # Default 0 (the vendor's example): embedded and mail; 1 embedded only, 2 mail only.
    value = int_option("is_for_embedded_signing", request.vendor_options.get("is_for_embedded_signing", 0))
    if value not in EMBEDDED_SIGNING_VALUES:
        raise ESignValidationError(
            "vendor_options['is_for_embedded_signing']", "must be 0 (embedded and mail), 1 or 2"
        )
    return value


def validate_send_request(request: SendRequest, send_options: frozenset[str]) -> None:
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
    require_known_options(request.vendor_options, send_options, "WeSignature")
    sign_type(request)
    embedded(request)
