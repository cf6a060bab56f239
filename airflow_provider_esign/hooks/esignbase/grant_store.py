"""Where an eSignBase Authorization Code grant lives: one Redis record per grant, and a lease lock.

The refresh token rotates on every use, so every process that may refresh (workers on every host,
the triggerer, the authorize command) must read and replace *one* copy of it, and only one of them
may refresh at a time. Redis (the store the rate limiter already supports, ``ratelimit.py``) gives
all of that: a key every host reads, ``SET NX PX`` for a lock that expires by itself when its holder
dies (a *lease*), and Lua scripts for an atomic compare-and-set. Airflow Variables were rejected:
they have no compare-and-set and no lock, so two refreshers could not be kept apart. The metadata
database was rejected: Airflow 3 tasks have no database access (the Task SDK talks to the API
server only).

The record holds no secret in the clear: the refresh and access tokens are sealed with Airflow's
Fernet key (the one that encrypts connections and variables) together with the record's key, so a
sealed value copied under another grant's key does not open. Outside the seal: the generation (a
counter bumped by every write), the status (``active`` or ``invalid_grant``), the access token's
expiry and its SHA-256 (to tell "the token I was refused" from "a newer one"), and times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.exceptions import ESignError, ESignValidationError
from airflow_provider_esign.ratelimit import redis_client

#: Environment default for the ``refresh_token_store`` extra (a Redis URL).
STORE_ENV = "AIRFLOW_ESIGN_GRANT_STORE"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
RECORD_VERSION = 1

# Replace the record only if its generation is still the one the writer read (0: no record yet).
_WRITE_IF_GENERATION = """
local current = redis.call('GET', KEYS[1])
local generation = 0
if current then generation = cjson.decode(current)['generation'] end
if generation ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""
# Release or extend the lock only while this holder still owns it.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class GrantStoreError(ESignError):
    """The grant store could not be read or written (Redis unreachable, Fernet key missing)."""


def resolve_store_url(value: Any, conn_id: str) -> str:
    """The store URL from the ``refresh_token_store`` extra or ``$AIRFLOW_ESIGN_GRANT_STORE``.

    :raises ESignValidationError: when neither names a Redis URL.
    """
    import os

    url = str(value or os.environ.get(STORE_ENV) or "").strip()
    if not url.startswith(_REDIS_SCHEMES):
        raise ESignValidationError(
            f"connection {conn_id!r} extra.refresh_token_store",
            "the authorization_code grant needs a redis://, rediss:// or unix:// URL (or set "
            f"${STORE_ENV}): every worker, host and the triggerer must share one refresh token",
        )
    return url


def store_key(base_url: str, client_id: str, grant_name: str) -> str:
    """The Redis key of one grant: a digest, so key names reveal neither client nor tenant."""
    digest = hashlib.sha256(f"{base_url}|{client_id}|{grant_name}".encode()).hexdigest()[:32]
    return f"airflow-esign:esignbase-grant:{digest}"


def token_digest(token: str) -> str:
    """SHA-256 of a token: compares tokens without storing or logging them."""
    return hashlib.sha256(token.encode()).hexdigest()


class Sealer:
    """Seals token pairs with Airflow's Fernet key, bound to one store key.

    :raises GrantStoreError: when Airflow has no ``[core] fernet_key`` (tokens would be stored in the clear).
    """

    def __init__(self, key: str) -> None:
        self.key = key
        try:
            from airflow.sdk.crypto import get_fernet
        except ImportError:  # Airflow < 3.2 keeps it in core
            from airflow.models.crypto import get_fernet  # type: ignore[no-redef]
        self._fernet = get_fernet()
        if not self._fernet.is_encrypted:
            raise GrantStoreError(
                "refusing to store eSignBase refresh tokens unencrypted: set [core] fernet_key "
                "(AIRFLOW__CORE__FERNET_KEY), the key Airflow encrypts connections and variables with"
            )

    def seal(self, secrets: dict[str, str]) -> str:
        payload = json.dumps({"key": self.key, **secrets}).encode()
        return self._fernet.encrypt(payload).decode()

    def open(self, sealed: str) -> dict[str, str]:
        try:
            payload = json.loads(self._fernet.decrypt(sealed.encode()))
        except Exception as exc:  # InvalidToken and friends: never echo the value
            raise GrantStoreError(
                f"the stored eSignBase grant does not decrypt with this Airflow's fernet_key ({type(exc).__name__})"
            ) from None
        if payload.pop("key", None) != self.key:
            raise GrantStoreError("the stored eSignBase grant was sealed for another grant; refusing it")
        return {k: str(v) for k, v in payload.items()}


#: A holder renews its lease for at most this long: a refresh is one HTTP call (plus connect retries),
#: so a lock held longer was leaked by a holder that never released it, and must lapse by itself.
MAX_HOLD_SECONDS = 900.0


@dataclass
class Lease:
    """A held lock: renewed in the background while the holder lives, so only a dead holder's lapses.

    Renewal stops when the lease is released, when the object is garbage-collected (a holder that
    dropped it without releasing), when Redis says the lock is no longer ours, when the lock has
    expired (every renewal failed for a whole lease), or after :data:`MAX_HOLD_SECONDS`. A Redis error
    alone does not stop it: renewal is tried again until the lease would have expired.
    """

    store: RedisGrantStore = field(repr=False)
    holder: str
    lease_ms: int

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        # The thread holds no reference to the lease, so dropping it lets the finalizer stop renewal.
        self._thread = threading.Thread(
            target=_renew_loop,
            args=(self.store, self.holder, self.lease_ms, self._stop, time.monotonic() + MAX_HOLD_SECONDS),
            name="esignbase-grant-lease",
            daemon=True,
        )
        self._finalizer = weakref.finalize(self, self._stop.set)
        self._thread.start()

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours. Never raises: called in cleanup paths,
        and a lock that could not be deleted (Redis unreachable) lapses by itself within ``lease_ms``."""
        self._stop.set()
        with contextlib.suppress(GrantStoreError):
            self.store.release(self.holder)


def _renew_loop(
    store: RedisGrantStore, holder: str, lease_ms: int, stop: threading.Event, until: float
) -> None:
    interval = lease_ms / 3000.0
    expires = time.monotonic() + lease_ms / 1000.0  # when the lock lapses unless renewed
    pause = interval
    while not stop.wait(pause) and time.monotonic() < until:
        try:
            if not store.renew(holder, lease_ms):
                return  # the lock is no longer ours (lapsed and taken): the next write's check sees it
            expires = time.monotonic() + lease_ms / 1000.0
            pause = interval
        except Exception:
            if time.monotonic() >= expires:
                return  # every renewal failed for a whole lease: the lock has lapsed in Redis
            pause = min(interval, max(lease_ms / 10000.0, 0.01))  # a Redis blip: try again soon


class RedisGrantStore:
    """The grant record and its lock in Redis.

    :param url: Redis URL.
    :param key: The grant's key (:func:`store_key`).
    """

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.lock_key = f"{key}:lock"

    @property
    def client(self) -> Any:
        return redis_client(self.url, "refresh_token_store")

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):
                # The URL may hold a password: name the operation and the error type only.
                raise GrantStoreError(
                    f"eSignBase grant store: {what} failed ({type(exc).__name__})"
                ) from None
            raise

    def read(self) -> dict[str, Any] | None:
        raw = self._call("read", self.client.get, self.key)
        return None if raw is None else json.loads(raw)

    def write(self, record: dict[str, Any], expected_generation: int) -> bool:
        """Store ``record`` if the stored generation is still ``expected_generation``."""
        script = self.client.register_script(_WRITE_IF_GENERATION)
        done = self._call(
            "write", lambda: script(keys=[self.key], args=[expected_generation, json.dumps(record)])
        )
        return bool(done)

    def delete(self) -> None:
        self._call("delete", self.client.delete, self.key)

    def try_acquire(self, holder: str, lease_ms: int) -> Lease | None:
        """Take the lock for ``lease_ms`` (renewed while held), or None when another holder has it."""
        taken = self._call("lock", lambda: self.client.set(self.lock_key, holder, nx=True, px=lease_ms))
        return Lease(self, holder, lease_ms) if taken else None

    def renew(self, holder: str, lease_ms: int) -> bool:
        return bool(self._call("renew", lambda: self.client.eval(_RENEW, 1, self.lock_key, holder, lease_ms)))

    def release(self, holder: str) -> None:
        self._call("unlock", lambda: self.client.eval(_RELEASE, 1, self.lock_key, holder))


def new_record(
    sealer: Sealer,
    generation: int,
    *,
    refresh_token: str,
    access_token: str,
    expires_in: float,
    now: float | None = None,
) -> dict[str, Any]:
    """A fresh active record (the token pair sealed, the rest in the clear)."""
    now = time.time() if now is None else now
    return {
        "version": RECORD_VERSION,
        "generation": generation,
        "status": "active",
        "reason": None,
        "sealed": sealer.seal({"refresh_token": refresh_token, "access_token": access_token}),
        "access_digest": token_digest(access_token),
        "access_expires_at": now + expires_in,
        "updated_at": now,
    }
