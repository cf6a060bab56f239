"""Input checks shared by the hooks, run before any HTTP call.

Every failure raises :class:`~airflow_provider_esign.exceptions.ESignValidationError` naming the
field (``signers[2].email``) and the rule, so a DAG author can fix the input without reading logs
of a vendor call that should never have happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.models import MissingSignerFieldError, SendRequest, Signer

# Pragmatic address check (RFC 5322 is far wider): one @, no spaces, a dotted domain.
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


def require_text(field: str, value: Any, *, max_length: int | None = None, min_length: int = 1) -> str:
    """A non-empty string of bounded length."""
    if not isinstance(value, str):
        raise ESignValidationError(field, f"must be a string, got {type(value).__name__}")
    if len(value.strip()) < min_length:
        raise ESignValidationError(field, "must not be empty")
    if max_length is not None and len(value) > max_length:
        raise ESignValidationError(field, f"must be at most {max_length} characters, got {len(value)}")
    return value


def require_email(field: str, value: Any, *, max_length: int = 254) -> str:
    require_text(field, value, max_length=max_length)
    if not _EMAIL.fullmatch(value.strip()):
        raise ESignValidationError(field, f"{value!r} is not a valid email address")
    return value.strip()


def require_signers(signers: Iterable[Any]) -> tuple[Signer, ...]:
    """Coerce dicts to :class:`Signer` and check names, emails and duplicates."""
    if isinstance(signers, (str, bytes)) or not isinstance(signers, Iterable):
        raise ESignValidationError("signers", "must be a list of signers")
    result: list[Signer] = []
    seen: set[str] = set()
    for index, raw in enumerate(signers):
        field = f"signers[{index}]"
        try:
            signer = Signer.coerce(raw)
        except MissingSignerFieldError as exc:
            raise ESignValidationError(
                f"{field}.{exc.field}", "is required: each signer needs a 'name' and an 'email'"
            ) from None
        except TypeError as exc:
            raise ESignValidationError(field, str(exc)) from None
        require_text(f"{field}.name", signer.name)
        for part in ("first_name", "last_name", "role"):
            value = getattr(signer, part)
            if value is not None and not isinstance(value, str):
                raise ESignValidationError(f"{field}.{part}", f"must be a string, got {type(value).__name__}")
        email = require_email(f"{field}.email", signer.email).lower()
        if email in seen:
            raise ESignValidationError(f"{field}.email", f"{email!r} appears twice; each signer signs once")
        seen.add(email)
        if signer.order is not None and (not isinstance(signer.order, int) or signer.order < 0):
            raise ESignValidationError(f"{field}.order", "must be a non-negative integer")
        result.append(signer)
    if not result:
        raise ESignValidationError("signers", "must contain at least one signer")
    return tuple(result)


def require_split_names(
    signers: Iterable[Signer],
    *,
    pattern: re.Pattern[str] | None,
    max_length: int,
    vendor: str = "this vendor",
) -> None:
    """Vendors that store first and last name separately need both.

    :param vendor: The vendor's name, for the message ("eSignBase needs a first and a last name").
    """
    for index, signer in enumerate(signers):
        first, last = signer.split_name()
        for part, value in (("first_name", first), ("last_name", last)):
            field = f"signers[{index}].{part}"
            if not value:
                raise ESignValidationError(
                    field,
                    f"{vendor} needs a first and a last name: give 'first_name' and 'last_name', "
                    "or a 'name' with a space in it",
                )
            if len(value) > max_length:
                raise ESignValidationError(field, f"must be at most {max_length} characters")
            if pattern is not None and not pattern.fullmatch(value):
                raise ESignValidationError(
                    field, f"{value!r} may only contain letters, digits, spaces, hyphens and apostrophes"
                )


def require_mapping(field: str, value: Any) -> dict[str, Any]:
    """A mapping (e.g. a templated field that rendered to text is rejected, not half-parsed)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ESignValidationError(field, f"must be a mapping (a dict), got {type(value).__name__}")
    return dict(value)


def require_string_metadata(
    metadata: Mapping[str, Any],
    *,
    max_keys: int,
    max_key_length: int,
    max_value_length: int,
    reserved_keys: Sequence[str] = (),
) -> dict[str, str]:
    """eSignBase-style metadata: a flat mapping of short string keys to string values.

    :param max_keys: How many keys the DAG author may use.
    :param reserved_keys: Keys the provider stores on top of those (counted in the vendor's limit),
        named in the message so the limit makes sense.
    """
    if not isinstance(metadata, Mapping):
        raise ESignValidationError("metadata", "must be a mapping of string keys to string values")
    if len(metadata) > max_keys:
        rule = f"at most {max_keys} keys allowed, got {len(metadata)}"
        if reserved_keys:
            rule += (
                f" (the vendor stores {max_keys + len(reserved_keys)} keys; this provider reserves "
                f"{', '.join(repr(k) for k in reserved_keys)} for its idempotency key)"
            )
        raise ESignValidationError("metadata", rule)
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise ESignValidationError("metadata", f"keys must be non-empty strings, got {key!r}")
        if len(key) > max_key_length:
            raise ESignValidationError(f"metadata[{key!r}]", f"key longer than {max_key_length} characters")
        if not isinstance(value, str):
            raise ESignValidationError(
                f"metadata[{key!r}]", f"values must be strings, got {type(value).__name__}; convert it"
            )
        if len(value) > max_value_length:
            raise ESignValidationError(
                f"metadata[{key!r}]", f"value longer than {max_value_length} characters"
            )
    return dict(metadata)


def parse_expiry(value: str | datetime | None, *, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime in the future, from ISO 8601 text or a datetime (naive means UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ESignValidationError("expires_at", f"{value!r} is not an ISO 8601 date-time") from None
    else:
        raise ESignValidationError("expires_at", "must be an ISO 8601 string or a datetime")
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    if when <= (now or datetime.now(timezone.utc)):
        raise ESignValidationError("expires_at", f"{when.isoformat()} is in the past")
    return when


_SOURCE_WORDS = {"template_id": "a template (template_id)", "file": "a file (file)"}


def require_single_source(request: SendRequest, *, allowed: set[str], vendor: str) -> str:
    """Exactly one of ``template_id`` / ``file``, and one this vendor accepts."""
    given = [name for name in ("template_id", "file") if getattr(request, name)]
    accepted = " or ".join(_SOURCE_WORDS[name] for name in sorted(allowed, reverse=True))
    if not given:
        raise ESignValidationError(
            "template_id/file", f"no document source given; {vendor} sends from {accepted}"
        )
    if len(given) > 1:
        raise ESignValidationError(
            "template_id/file",
            f"give one document source, not both template_id and file; {vendor} sends from {accepted}",
        )
    source = given[0]
    if source not in allowed:
        raise ESignValidationError(source, f"{vendor} does not send from a {source.replace('_', ' ')}")
    require_text(source, getattr(request, source))
    return source


def require_known_options(options: Mapping[str, Any], allowed: Iterable[str], vendor: str) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ESignValidationError(
            f"vendor_options[{unknown[0]!r}]", f"not an option of {vendor}; allowed: {sorted(allowed)}"
        )
