"""Legalesign's rules for a connection and a send request, checked before any HTTP call.

Limits from the ``POST /document/`` and ``POST /templatepdf/`` reference
(https://apidocs.legalesign.com/docs/rest-v1/): names at most 60 characters, signer e-mails at most
75, tags at most 250 of a restricted alphabet, ``redirect`` an https URL of at most 250.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.legalesign.wire import (
    BARE_ID,
    BOOL_OPTIONS,
    DICT_OPTIONS,
    IDEMPOTENCY_TAG,
    METADATA_KEYS,
    NAME_PART,
    SIGNER_ROLES,
    STRING_OPTIONS,
    TAG_VALUE,
    TEMPLATEPDF_URI,
    USER_URI,
    check_group,
    group_slug,
    is_message_template,
)
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import SendRequest
from airflow_provider_esign.validation import (
    parse_expiry,
    require_email,
    require_known_options,
    require_signers,
    require_single_source,
    require_split_names,
    require_text,
)


def validate_settings(settings: ConnectionSettings) -> None:
    """The connection needs the API username and secret; ``group`` and ``user`` must be well formed."""
    if not settings.login or not settings.password:
        raise ESignValidationError(
            f"connection {settings.conn_id!r}", "needs the API username (login) and secret (password)"
        )
    group = settings.extra.get("group")
    if group not in (None, ""):
        check_group(f"connection {settings.conn_id!r} extra.group", group)
    user = settings.extra.get("user")
    if user not in (None, "") and not (isinstance(user, str) and USER_URI.fullmatch(user)):
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.user", "must be a URI like '/api/v1/user/<id>/'"
        )


def validate_send_request(
    request: SendRequest, settings: ConnectionSettings, send_options: frozenset[str]
) -> None:
    """Check a send request against what Legalesign accepts; no HTTP."""
    require_text("name", request.name, max_length=60)
    source = require_single_source(request, allowed={"template_id", "file"}, vendor="Legalesign")
    if source == "template_id":
        template_id = str(request.template_id)
        if not (TEMPLATEPDF_URI.fullmatch(template_id) or BARE_ID.fullmatch(template_id)):
            raise ESignValidationError(
                "template_id",
                "must be an uploaded template PDF id or its URI '/api/v1/templatepdf/<id>/' "
                "(HTML templates are deprecated and not supported)",
            )
    if source == "file":
        _check_local_file(str(request.file))
    signers = require_signers(request.signers)
    require_split_names(signers, pattern=NAME_PART, max_length=60, vendor="Legalesign")
    for index, signer in enumerate(signers):
        require_email(f"signers[{index}].email", signer.email, max_length=75)
        if signer.role not in (None, "", "signer") and signer.role not in SIGNER_ROLES:
            raise ESignValidationError(
                f"signers[{index}].role", f"must be one of {sorted(SIGNER_ROLES)} or empty"
            )
    orders = [s.order for s in signers]
    if any(o is not None for o in orders) and (None in orders or len(set(orders)) != len(orders)):
        raise ESignValidationError(
            "signers", "give every signer a distinct 'order', or none (list order is the signing order)"
        )
    _validate_options(request, source, send_options)
    _validate_metadata(request)
    parse_expiry(request.expires_at)
    if request.subject is not None:
        require_text("subject", request.subject, max_length=150)
    if request.message is not None and not is_message_template(request.message):
        raise ESignValidationError(
            "message",
            "Legalesign's signer 'message' names a saved email template ('#TemplateName') or is "
            "'default'; free text cannot be sent. Create an email template in Legalesign and pass "
            "'#<its name>'",
        )
    group_slug(settings, purpose="send documents")


def _check_local_file(location: str) -> None:
    """A local ``file`` must be a readable file (object-storage URLs are checked when read)."""
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    if parts.scheme not in ("", "file"):
        return
    path = parts.path if parts.scheme == "file" else location
    if os.path.isdir(path):
        raise ESignValidationError("file", f"{location!r} is a folder; give the path of a PDF file")
    if not os.path.exists(path):
        raise ESignValidationError("file", f"{location!r} does not exist")


def validate_idempotency_key(key: str) -> None:
    """The key is stored in ``tag2``, so it follows the tag alphabet."""
    if not isinstance(key, str) or not key.strip() or not TAG_VALUE.fullmatch(key):
        raise ESignValidationError(
            "idempotency_key", "is stored in tag2: at most 250 letters, digits, spaces and -[]:;/.,_"
        )


def _validate_options(request: SendRequest, source: str, send_options: frozenset[str]) -> None:
    options = request.vendor_options
    require_known_options(options, send_options, "Legalesign")
    for key, value in options.items():
        field = f"vendor_options[{key!r}]"
        if key in BOOL_OPTIONS and not isinstance(value, bool):
            raise ESignValidationError(field, "must be true or false")
        if key in DICT_OPTIONS and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
            raise ESignValidationError(field, "must map field labels (or uuids) to values")
        if key in STRING_OPTIONS and not isinstance(value, str):
            raise ESignValidationError(field, "must be a string")
    if "signature_type" in options and options["signature_type"] not in (1, 4):
        raise ESignValidationError(
            "vendor_options['signature_type']", "must be 4 (certified PDF) or 1 (sha256 hash)"
        )
    if options.get("reminders") not in (None, "default", ""):
        raise ESignValidationError("vendor_options['reminders']", "must be 'default' or ''")
    redirect = options.get("redirect")
    if redirect is not None and not (redirect.startswith("https://") and len(redirect) <= 250):
        raise ESignValidationError(
            "vendor_options['redirect']", "must be an https:// URL of at most 250 chars"
        )
    if options.get("user") and not USER_URI.fullmatch(options["user"]):
        raise ESignValidationError("vendor_options['user']", "must be a URI like '/api/v1/user/<id>/'")
    for key in ("tag", "tag1"):
        if key in options and not TAG_VALUE.fullmatch(options[key]):
            raise ESignValidationError(
                f"vendor_options[{key!r}]", "at most 250 letters, digits, spaces and -[]:;/.,_"
            )
    if "process_tags" in options and source != "file":
        raise ESignValidationError("vendor_options['process_tags']", "applies to the upload of a 'file' only")


def _validate_metadata(request: SendRequest) -> None:
    metadata = request.metadata
    if not isinstance(metadata, Mapping):
        raise ESignValidationError("metadata", "must be a mapping")
    for key, value in metadata.items():
        field = f"metadata[{key!r}]"
        if key == IDEMPOTENCY_TAG:
            raise ESignValidationError(field, "is reserved for the provider's idempotency key")
        if key not in METADATA_KEYS:
            raise ESignValidationError(field, f"Legalesign stores only {sorted(METADATA_KEYS)}")
        if not isinstance(value, str) or not TAG_VALUE.fullmatch(value):
            raise ESignValidationError(
                field, "must be a string of at most 250 letters, digits, spaces and -[]:;/.,_"
            )
        if key in request.vendor_options:
            raise ESignValidationError(field, f"also given as vendor_options[{key!r}]; give it once")
