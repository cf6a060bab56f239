"""eSignBase's OAuth2 Authorization Code grant in the hook: access tokens from a shared, rotating refresh token.

https://esignbase.com/en/api_documentation: ``POST /oauth2/token`` with
``grant_type=refresh_token&refresh_token=...`` (HTTP Basic client authentication) returns a new
``access_token`` (5 minutes) and a new ``refresh_token``: "refresh tokens may rotate on use", so the
new one must be saved from every response.

With rotation, a refresh invalidates the refresh token every other process holds. So the token lives
in one shared record (:mod:`.grant_store`), refreshes run under a lease lock, a process that finds the
record already rotated uses the access token stored with it, and the new refresh token is stored
before the new access token is used (the write retried under the lease; a pair the store cannot take
is kept in this process and saved on its next token request). A grant the vendor no longer honours (``invalid_grant``: revoked,
reused, expired) fails the task at once with the command that re-authorizes it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from airflow_provider_esign.exceptions import ESignAuthError, ESignServerError, ESignValidationError
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.credentials import Credentials
from airflow_provider_esign.hooks.effects import Mask, Offload, Sleep
from airflow_provider_esign.hooks.esignbase import grant_store
from airflow_provider_esign.hooks.esignbase.grant_store import (
    GrantStoreError,
    RedisGrantStore,
    Sealer,
    token_digest,
)
from airflow_provider_esign.hooks.esignbase.wire import TOKEN_LIFETIME, TOKEN_REFRESH_MARGIN, basic_auth
from airflow_provider_esign.hooks.settings import ConnectionSettings

CLIENT_CREDENTIALS = "client_credentials"
AUTHORIZATION_CODE = "authorization_code"
GRANT_TYPES = frozenset({CLIENT_CREDENTIALS, AUTHORIZATION_CODE})
#: Default redirect URI of the authorize command (register it on the eSignBase OAuth2 client).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/callback"
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_LOCK_WAIT_SECONDS = 120.0
_POLL_SECONDS = 0.05
_POLL_MAX_SECONDS = 0.5
#: Compare-and-set writes of a rotated token tried while the lease is held (store errors in between).
STORE_WRITE_ATTEMPTS = 4
_STORE_RETRY_SECONDS = 0.2

_log = logging.getLogger(__name__)
#: Rotated pairs this process could not store (store key -> (record, generation it replaces)).
_PENDING: dict[str, tuple[dict[str, Any], int]] = {}

GrantFlow = Generator[Any, Any, Credentials]


class ESignGrantGoneError(ESignAuthError):
    """The authorization-code grant is gone (revoked, reused, expired, never stored): retries cannot help."""


def grant_type(settings: ConnectionSettings) -> str:
    value = str(settings.extra.get("grant_type") or CLIENT_CREDENTIALS)
    if value not in GRANT_TYPES:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.grant_type", f"must be one of {sorted(GRANT_TYPES)}"
        )
    return value


def reauthorize_hint(conn_id: str) -> str:
    return (
        f"re-authorize it: `airflow esign esignbase-authorize --conn-id {conn_id}` (Airflow 3.2+) or "
        f"`python -m airflow_provider_esign.esignbase_auth authorize --conn-id {conn_id}`; "
        "see docs/howto/esignbase-authorization-code.md"
    )


@dataclass
class Grant:
    """One connection's authorization-code grant: its store, seal and lock settings."""

    conn_id: str
    # Out of the repr: the settings hold the client secret, the store URL may hold a Redis password.
    settings: ConnectionSettings = field(repr=False)
    store: RedisGrantStore = field(repr=False)
    sealer: Sealer = field(repr=False)
    lease_seconds: float
    lock_wait_seconds: float

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> Grant:
        """The grant of an ``authorization_code`` connection (extras validated, Fernet key required)."""
        extra = settings.extra
        url = grant_store.resolve_store_url(extra.get("refresh_token_store"), settings.conn_id)
        name = str(extra.get("grant_name") or settings.conn_id)
        key = grant_store.store_key(settings.base_url, settings.login, name)
        lease = _positive(settings, "refresh_lock_lease", DEFAULT_LEASE_SECONDS)
        wait = _positive(settings, "refresh_lock_wait", DEFAULT_LOCK_WAIT_SECONDS)
        return cls(settings.conn_id, settings, RedisGrantStore(url, key), Sealer(key), lease, wait)

    # ------------------------------------------------------------------ record checks
    def gone(self, reason: str) -> ESignGrantGoneError:
        return ESignGrantGoneError(
            f"the eSignBase authorization of connection {self.conn_id!r} is gone ({reason}); "
            + reauthorize_hint(self.conn_id),
            conn_id=self.conn_id,
            operation="refresh_access_token",
        )

    def check(self, record: dict[str, Any] | None) -> dict[str, Any]:
        """The record if it is usable, else the permanent error."""
        if record is None:
            raise self.gone("no refresh token is stored for it")
        if record.get("status") != "active":
            raise self.gone(str(record.get("reason") or record.get("status")))
        return record

    def fresh_access(self, record: dict[str, Any], rejected: str | None, clock: Any) -> Credentials | None:
        """The stored access token as credentials, if it has time left and is not the one refused."""
        left = float(record.get("access_expires_at") or 0) - time.time() - TOKEN_REFRESH_MARGIN
        if left <= 0 or record.get("access_digest") == rejected:
            return None
        token = self.sealer.open(record["sealed"])["access_token"]
        return Credentials({"access_token": token}, clock() + left)


def _positive(settings: ConnectionSettings, name: str, default: float) -> float:
    raw = settings.extra.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if value <= 0:
        raise ESignValidationError(
            f"connection {settings.conn_id!r} extra.{name}", "must be a positive number of seconds"
        )
    return value


def refresh_request(
    settings: ConnectionSettings, refresh_token: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> ApiRequest:
    """The refresh-token grant: never retried once sent (a lost answer may have rotated the token).

    Its connect and read timeouts are each capped at a third of the lease: even when every renewal
    of the lease fails (Redis unreachable), the call ends before the lock can lapse and another
    process refresh with the same token.
    """
    return ApiRequest(
        "POST",
        "oauth2/token",
        operation="refresh_access_token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Authorization": basic_auth(settings), "Accept": "application/json"},
        auth=False,
        idempotent=False,
        ok_statuses=frozenset({400, 401}),
        max_timeout=lease_seconds / 3,
    )


def oauth_error(response: ApiResponse) -> tuple[str, str]:
    """``(error, error_description)`` of an RFC 6749 §5.2 error answer (never a token)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")[:200]


def access_flow(grant: Grant, clock: Any, rejected: str | None) -> GrantFlow:
    """A usable access token: the stored one, or one refresh under the grant's lock.

    :param grant: The connection's grant.
    :param clock: The hook's monotonic clock (for the credentials' deadline).
    :param rejected: SHA-256 of the access token the vendor just refused (401), if any.
    """
    pending = yield from _save_pending(grant, clock, rejected)
    if pending is not None:
        return pending
    record = grant.check((yield Offload(grant.store.read)))
    creds = grant.fresh_access(record, rejected, clock)
    if creds is not None:
        return creds
    holder = uuid.uuid4().hex
    lease_ms = int(grant.lease_seconds * 1000)
    deadline = time.monotonic() + grant.lock_wait_seconds
    pause = _POLL_SECONDS
    while (lease := (yield Offload(partial(grant.store.try_acquire, holder, lease_ms)))) is None:
        # Another process refreshes: use its result as soon as it is stored.
        record = grant.check((yield Offload(grant.store.read)))
        creds = grant.fresh_access(record, rejected, clock)
        if creds is not None:
            return creds
        if time.monotonic() > deadline:
            raise ESignServerError(
                f"timed out after {grant.lock_wait_seconds:.0f}s waiting for another process's eSignBase "
                "token refresh (extra refresh_lock_wait)",
                conn_id=grant.conn_id,
                operation="refresh_access_token",
            )
        yield Sleep(pause)
        pause = min(pause * 2, _POLL_MAX_SECONDS)
    try:
        creds = yield from _refresh_locked(grant, clock, rejected)
    except BaseException:
        # Released without a yield: this flow may be being closed (a generator that is closed
        # cannot yield) or cancelled. One quick Redis call; Lease.release never raises.
        lease.release()
        raise
    try:
        yield Offload(lease.release)
    except BaseException:  # cancelled while releasing: release here (idempotent)
        lease.release()
        raise
    return creds


def _refresh_locked(grant: Grant, clock: Any, rejected: str | None) -> GrantFlow:
    # Read again under the lock: the previous holder may have refreshed a moment ago.
    record = grant.check((yield Offload(grant.store.read)))
    creds = grant.fresh_access(record, rejected, clock)
    if creds is not None:
        return creds
    generation = int(record["generation"])
    refresh_token = grant.sealer.open(record["sealed"])["refresh_token"]
    yield Mask((refresh_token,))
    response: ApiResponse = yield refresh_request(grant.settings, refresh_token, grant.lease_seconds)
    if response.status_code >= 400:
        error, description = oauth_error(response)
        if error == "invalid_grant":
            # Every process sees it at once, without calling the vendor again.
            gone = dict(record, status="invalid_grant", reason=f"invalid_grant: {description or 'rejected'}")
            gone.pop("sealed", None)
            gone["generation"] = generation + 1
            if not (yield Offload(partial(grant.store.write, gone, generation))):
                # Another writer stored a newer generation meanwhile (the token we sent was already
                # rotated): its access token is the valid one, the grant is not gone.
                fresh = grant.check((yield Offload(grant.store.read)))
                creds = grant.fresh_access(fresh, rejected, clock)
                if creds is not None:
                    return creds
                raise _changed_error(grant)
            raise grant.gone(gone["reason"])
        raise ESignAuthError(
            f"eSignBase refused the refresh-token grant ({response.status_code} {error or 'error'}: {description})",
            conn_id=grant.conn_id,
            operation="refresh_access_token",
            status_code=response.status_code,
        )
    body = response.json() or {}
    access_token = body.get("access_token") if isinstance(body, dict) else None
    if not access_token:
        raise ESignAuthError(
            "the refresh response has no access_token",
            conn_id=grant.conn_id,
            operation="refresh_access_token",
        )
    # "Refresh tokens may rotate on use": keep the old one only when no new one came back.
    new_refresh = body.get("refresh_token") or refresh_token
    yield Mask((access_token, new_refresh))
    lifetime = float(body.get("expires_in") or TOKEN_LIFETIME)
    new = grant_store.new_record(
        grant.sealer,
        generation + 1,
        refresh_token=new_refresh,
        access_token=access_token,
        expires_in=lifetime,
    )
    creds = Credentials({"access_token": access_token}, clock() + max(lifetime - TOKEN_REFRESH_MARGIN, 1.0))
    # Stored before the access token is used: a crash after this loses nothing. eSignBase has already
    # rotated the token, so the old one in the store is dead: the write is retried while we hold the lease.
    try:
        stored = yield from _store_rotated(grant, new, generation)
    except GrantStoreError:
        # The store stays unreachable: keep the new pair in this process, which goes on with it and
        # saves it on its next token request (see _save_pending). Only this process has it now.
        _PENDING[grant.store.key] = (new, generation)
        _log.warning(
            "eSignBase connection %r: the rotated refresh token could not be saved to the grant store "
            "(unreachable); this process keeps it and saves it on its next token request",
            grant.conn_id,
        )
        return creds
    if not stored:
        raise _changed_error(grant)
    return creds


def _store_rotated(grant: Grant, new: dict[str, Any], expected: int) -> Generator[Any, Any, bool]:
    """Compare-and-set ``new`` over generation ``expected``, retried on store errors.

    True when stored (also when a write that timed out turns out to have been applied: the record is
    then generation ``expected + 1`` with our access token's digest), False when another writer stored
    another generation. Raises the last :class:`GrantStoreError` when the store stays unreachable.
    """
    failure: GrantStoreError | None = None
    for attempt in range(STORE_WRITE_ATTEMPTS):
        if attempt:
            yield Sleep(_STORE_RETRY_SECONDS * 2 ** (attempt - 1))
        try:
            return bool((yield Offload(partial(grant.store.write, new, expected))))
        except GrantStoreError as exc:
            failure = exc
        try:
            current = yield Offload(grant.store.read)
        except GrantStoreError:
            continue
        held = int(current["generation"]) if current else 0
        if held == expected + 1 and current and current.get("access_digest") == new["access_digest"]:
            return True  # the write went through; only its answer was lost
        if held != expected:
            return False
    assert failure is not None
    raise failure


def _save_pending(grant: Grant, clock: Any, rejected: str | None) -> Generator[Any, Any, Credentials | None]:
    """Save a rotated pair this process could not store earlier; its access token while the store is
    still unreachable. None when nothing is pending (or it is saved now): go on with the store.

    :raises ESignAuthError: when another generation was stored meanwhile: the pair can never be saved,
        and the stored grant may need re-authorization.
    """
    pending = _PENDING.get(grant.store.key)
    if pending is None:
        return None
    new, expected = pending
    try:
        stored = yield from _store_rotated(grant, new, expected)
    except GrantStoreError:
        creds = grant.fresh_access(new, rejected, clock)
        if creds is not None:
            return creds  # the store is still down: this process goes on with the pair it holds
        raise
    _PENDING.pop(grant.store.key, None)
    if not stored:
        raise ESignAuthError(
            "eSignBase rotated this connection's refresh token but the grant store was unreachable, "
            "and another process stored another token meanwhile: the rotated token could not be saved. "
            "If the next attempt fails, " + reauthorize_hint(grant.conn_id),
            conn_id=grant.conn_id,
            operation="refresh_access_token",
        )
    return None


def _changed_error(grant: Grant) -> ESignAuthError:
    return ESignAuthError(
        "the eSignBase grant changed while this process held its refresh lock (lease lost); "
        + reauthorize_hint(grant.conn_id)
        + " if the next attempt fails",
        conn_id=grant.conn_id,
        operation="refresh_access_token",
    )


def rejected_digest(creds: Credentials | None) -> str | None:
    if creds is None or "access_token" not in creds.values:
        return None
    return token_digest(creds.values["access_token"])
