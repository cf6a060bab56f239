"""Client-side rate limiting: one call budget per connection, shared by processes and, with Redis, hosts.

Each call reserves the next free slot on an evenly spaced schedule (``60 / calls_per_minute`` seconds
apart, plus a 1% margin), so a batch runs at the allowed rate instead of bursting into the vendor's 429s.
The schedule is pyrate-limiter's GCRA (generic cell rate algorithm) with a burst of one: a single
"theoretical arrival time" per connection. A reservation is a GCRA check at the slot's time, so the
caller learns how long to wait instead of blocking inside the limiter.

Where the schedule lives (``storage``, connection extra ``rate_limit_storage``):

* ``local`` (default): a small SQLite file per connection under the ``[esign] ratelimit_dir`` option
  (``AIRFLOW__ESIGN__RATELIMIT_DIR``; default a per-user folder in the system temp dir, created 0700
  and refused when another user owns it or others may write to it). Every process of that user on the
  host shares it; read-modify-write runs in one ``BEGIN IMMEDIATE`` transaction. Times come from the injected clock (``time.monotonic``: system-wide
  on Linux, so comparable across processes).
* ``redis://host:port/db`` (or ``rediss://``, ``unix://``): pyrate-limiter's Redis store, where the
  GCRA step runs as one Lua script, so workers on any number of hosts share one budget. Times come from
  the Redis server (``TIME``), one clock for every host, so host clock skew cannot shrink the spacing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, cast

from pyrate_limiter import GCRA, Decision, Rate, StateStore

from airflow_provider_esign.config import config_value, default_state_dir, ensure_private_dir
from airflow_provider_esign.exceptions import ESignValidationError, RateLimitStorageError

__all__ = [
    "DEFAULT_MAX_PENALTY",
    "RateLimitStorageError",
    "RateLimiter",
    "SQLiteStateStore",
    "redis_client",
    "resolve_storage",
]

#: The longest a 429's ``Retry-After`` may push a schedule back when the limiter is given no cap.
DEFAULT_MAX_PENALTY = 60.0
# 1% slack: a vendor counting "N calls in any 60 s window" sees N, never N + 1, at the boundary.
_SAFETY = 1.01
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# A Redis schedule outlives its last write by this long. Reserved slots can lie far ahead (a queue of
# tasks, a Retry-After), and an expired key would forget them, so keep it much longer than any queue.
_REDIS_TTL_MS = 3_600_000
# A reservation retries when another process took the slot between its check and its claim.
_MAX_CLAIMS = 1000
_ALGORITHM = GCRA()


def _redacted(url: str) -> str:
    """The storage URL without its password, for error messages."""
    return re.sub(r"//[^@/]*@", "//***@", url)


def resolve_storage(storage: str | None) -> str:
    """Normalise the ``rate_limit_storage`` option: ``"local"`` or a Redis URL.

    :param storage: The option's value; empty means the ``[esign] ratelimit_storage`` option, else local.
    :raises ESignValidationError: for anything else, naming the field and rule.
    """
    value = (storage or config_value("ratelimit_storage") or "local").strip()
    if value == "local" or value.startswith(_REDIS_SCHEMES):
        return value
    raise ESignValidationError(
        "rate_limit_storage", "must be 'local' or a redis://, rediss:// or unix:// URL"
    )


class RateLimiter:
    """Reserve evenly spaced call slots for one key (one connection at one vendor).

    :param key: What shares the budget, e.g. ``"legalesign|https://eu-api.legalesign.com|user"``.
    :param calls_per_minute: Allowed rate; 0 or less disables limiting.
    :param storage: ``"local"`` (default; shared by the processes of one host) or a Redis URL such as
        ``"redis://redis:6379/0"`` (shared by every host using that Redis).
    :param state_dir: Local storage folder (default: the ``[esign] ratelimit_dir`` option, else a
        per-user folder in the system temp dir).
    :param clock: Monotonic clock for local storage, injectable for tests. Redis storage uses the
        Redis server's clock.
    :param max_penalty: The longest :meth:`penalize` pushes the schedule back (the hook passes its
        ``backoff_max``), whatever the vendor's ``Retry-After`` says.
    """

    def __init__(
        self,
        key: str,
        calls_per_minute: float,
        *,
        storage: str | None = None,
        state_dir: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_penalty: float = DEFAULT_MAX_PENALTY,
    ) -> None:
        self.calls_per_minute = calls_per_minute
        self.interval = 60.0 / calls_per_minute * _SAFETY if calls_per_minute > 0 else 0.0
        self.storage = resolve_storage(storage)
        self._clock = clock
        self.max_penalty = max_penalty
        self._digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        folder = state_dir or config_value("ratelimit_dir") or default_state_dir()
        self.path = os.path.join(folder, f"{self._digest}.sqlite3")
        self.redis_key = f"airflow-esign:ratelimit:{self._digest}"
        # "1000 calls per 1000 intervals" with a burst of one is one call per interval; GCRA keeps its
        # state in integer microseconds, so this form keeps the interval exact to the microsecond.
        self._rates = [Rate(1000, max(1, round(self.interval * 1_000_000)), burst=1)]

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    @property
    def is_shared_across_hosts(self) -> bool:
        return self.storage != "local"

    # ------------------------------------------------------------------ sync
    def reserve(self) -> float:
        """Take the next free slot and return how many seconds to wait before using it."""
        if not self.enabled:
            return 0.0
        store = self._store()
        now = self._now_ms()
        return (_claim(store, self._rates, now, now) - now) / 1000

    def try_reserve(self) -> float:
        """Take a slot only if one is free now; never waits and never books a future slot.

        For callers that must not queue (the webhook receiver answers "retry later" instead).

        :return: 0.0 when a slot was taken, else the seconds until one is free (nothing taken).
        """
        if not self.enabled:
            return 0.0
        wait = _check(self._store(), self._rates, self._now_ms())
        return 0.0 if wait is None else max(wait, 1) / 1000

    def penalize(self, seconds: float) -> None:
        """Push the whole schedule back, e.g. after the vendor answered 429 with ``Retry-After``.

        Implemented as one GCRA check one interval before ``now + seconds``: admitted, it moves the
        schedule to at least ``now + seconds``; denied, the schedule already lies that far ahead. A
        shorter penalty never pulls the schedule forward. A disabled limiter has no schedule to push:
        only the throttled call itself waits.
        """
        seconds = self._capped(seconds)
        if seconds <= 0 or not self.enabled:
            return
        store = self._store()
        _check(store, self._rates, self._penalty_ms(self._now_ms(), seconds))

    # ------------------------------------------------------------------ async (triggerer)
    async def areserve(self) -> float:
        """:meth:`reserve` for the event loop: never blocks it (local storage runs in a thread, Redis
        through its asyncio client)."""
        if not self.enabled:
            return 0.0
        if not self.is_shared_across_hosts:
            return await asyncio.to_thread(self.reserve)
        store, client = self._async_redis()
        now = await _aredis_now_ms(client, self.storage)
        slot = now
        for _ in range(_MAX_CLAIMS):
            wait = await _acheck(store, self._rates, slot, self.storage)
            if wait is None:
                return (slot - now) / 1000
            slot += max(wait, 1)
        raise RateLimitStorageError(f"no free rate-limit slot after {_MAX_CLAIMS} attempts")

    async def apenalize(self, seconds: float) -> None:
        """:meth:`penalize` for the event loop."""
        seconds = self._capped(seconds)
        if seconds <= 0 or not self.enabled:
            return
        if not self.is_shared_across_hosts:
            await asyncio.to_thread(self.penalize, seconds)
            return
        store, client = self._async_redis()
        now = await _aredis_now_ms(client, self.storage)
        await _acheck(store, self._rates, self._penalty_ms(now, seconds), self.storage)

    # ------------------------------------------------------------------ storage
    def _capped(self, seconds: float) -> float:
        """A penalty within ``[0, max_penalty]`` (``inf`` and ``nan`` count as the cap)."""
        if not math.isfinite(seconds):
            return self.max_penalty
        return min(max(seconds, 0.0), self.max_penalty)

    def __repr__(self) -> str:
        storage = "local" if self.storage == "local" else _redacted(self.storage)
        return f"RateLimiter(calls_per_minute={self.calls_per_minute:g}, storage={storage!r})"

    def _penalty_ms(self, now: int, seconds: float) -> int:
        return now + round(seconds * 1000) - round(self.interval * 1000)

    def _now_ms(self) -> int:
        if self.is_shared_across_hosts:
            return _redis_now_ms(redis_client(self.storage), self.storage)
        return round(self._clock() * 1000)

    def _store(self) -> StateStore:
        if self.is_shared_across_hosts:
            return _cached(("redis", self.storage, self.redis_key), self._new_redis_store)
        return _cached(("local", self.path), lambda: SQLiteStateStore(self.path))

    def _new_redis_store(self) -> StateStore:
        from pyrate_limiter import RedisStateStore

        return RedisStateStore(redis_client(self.storage), self.redis_key, ttl_ms=_REDIS_TTL_MS)

    def _async_redis(self) -> tuple[StateStore, Any]:
        """Store and client bound to the running event loop (asyncio Redis clients are per loop)."""
        from pyrate_limiter import RedisStateStore
        from redis.asyncio import Redis

        per_loop = _ASYNC_CLIENTS.setdefault(asyncio.get_running_loop(), {})
        if self.storage not in per_loop:
            per_loop[self.storage] = Redis.from_url(self.storage, socket_timeout=10)
        client = per_loop[self.storage]
        return RedisStateStore(client, self.redis_key, ttl_ms=_REDIS_TTL_MS), client


def _claim(store: StateStore, rates: list[Rate], slot: int, now: int) -> int:
    """The first slot at or after ``slot`` the schedule admits, claimed; retried when another
    process wins the race between our check and our claim."""
    for _ in range(_MAX_CLAIMS):
        wait = _check(store, rates, slot)
        if wait is None:
            return slot
        slot += max(wait, 1)
    raise RateLimitStorageError(f"no free rate-limit slot after {_MAX_CLAIMS} attempts")


def _check(store: StateStore, rates: list[Rate], at_ms: int) -> int | None:
    """One atomic GCRA step at ``at_ms``: ``None`` when admitted (slot claimed), else ms to wait."""
    try:
        decision = cast(Decision, store.check(_ALGORITHM, rates, at_ms, 1))  # a sync store answers directly
    except sqlite3.Error as exc:
        raise RateLimitStorageError(f"local rate-limit state unusable: {exc}") from None
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):
            raise RateLimitStorageError(f"rate-limit storage unreachable ({type(exc).__name__})") from None
        raise
    return None if decision.allowed else int(decision.retry_after_ms or 1)


async def _acheck(store: StateStore, rates: list[Rate], at_ms: int, url: str) -> int | None:
    try:
        decision = await store.check(_ALGORITHM, rates, at_ms, 1)  # type: ignore[misc]
    except Exception as exc:
        if type(exc).__module__.startswith("redis"):
            raise RateLimitStorageError(
                f"rate-limit storage {_redacted(url)} unreachable ({type(exc).__name__})"
            ) from None
        raise
    return None if decision.allowed else int(decision.retry_after_ms or 1)


# ---------------------------------------------------------------------- Redis plumbing
_CACHE: dict[tuple[str, ...], Any] = {}
_CACHE_LOCK = threading.RLock()  # a store build may fetch its cached client
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


def _forget_after_fork() -> None:
    """A forked child must not reuse its parent's SQLite connections (or a lock held mid-fork)."""
    global _CACHE_LOCK
    _CACHE.clear()
    _CACHE_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_after_fork)


def _cached(key: tuple[str, ...], build: Callable[[], Any]) -> Any:
    """One store or client per process and key: hooks are created per task, connections are not."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]


def redis_client(url: str, field: str = "rate_limit_storage") -> Any:
    """One redis-py client (one connection pool) per Redis URL and process, shared by every user of
    Redis in the provider (rate limiter, WeSignature send ledger, eSignBase grant store); forgotten
    after a fork. redis-py clients are thread-safe.

    :param url: A redis://, rediss:// or unix:// URL.
    :param field: The option that named the URL (for the error when the ``redis`` package is missing).
    """

    def build() -> Any:
        try:
            from redis import Redis
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ESignValidationError(
                field, "a redis:// URL needs the 'redis' package (pip install redis)"
            ) from None
        return Redis.from_url(url, socket_timeout=10)

    return _cached(("redis-client", url), build)


def _ms_from_time(reply: Any) -> int:
    seconds, micros = reply
    return int(seconds) * 1000 + int(micros) // 1000


def _redis_now_ms(client: Any, url: str) -> int:
    try:
        return _ms_from_time(client.time())
    except Exception as exc:
        raise RateLimitStorageError(
            f"rate-limit storage {_redacted(url)} unreachable ({type(exc).__name__})"
        ) from None


async def _aredis_now_ms(client: Any, url: str) -> int:
    try:
        return _ms_from_time(await client.time())
    except Exception as exc:
        raise RateLimitStorageError(
            f"rate-limit storage {_redacted(url)} unreachable ({type(exc).__name__})"
        ) from None


# ---------------------------------------------------------------------- local storage
def _create_once(path: str) -> None:
    """Create the schedule file fully set up (WAL mode, table) before any process can open it.

    Several task processes start at once on a fresh host. Had each of them switched a new, empty file to
    WAL itself, SQLite would answer some with "database is locked" at once: that switch turns a read
    lock into an exclusive one, and SQLite fails such an upgrade without waiting when another process
    holds the write lock, since waiting could deadlock. So one process builds the file under a private
    name, and ``os.link`` publishes it atomically: it fails if the file already exists, and the losing
    process just uses the winner's file.
    """
    folder = os.path.dirname(path)
    ensure_private_dir(folder)
    if os.path.exists(path):
        return
    descriptor, draft = tempfile.mkstemp(dir=folder, prefix=".draft-", suffix=".sqlite3")  # mode 0600
    os.close(descriptor)
    try:
        conn = sqlite3.connect(draft, isolation_level=None)
        try:
            # WAL (kept in the file): readers never block the writer.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE gcra (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT)")
        finally:
            conn.close()  # the last connection checkpoints and removes the draft's -wal/-shm files
        with contextlib.suppress(FileExistsError):  # another process published first: use its file
            os.link(draft, path)
    except sqlite3.Error as exc:
        raise RateLimitStorageError(f"local rate-limit state unusable: {exc}") from None
    finally:
        for leftover in (draft, f"{draft}-wal", f"{draft}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


class SQLiteStateStore(StateStore):
    """pyrate-limiter state store in a SQLite file, shared by every process of one host.

    pyrate-limiter ships GCRA stores for memory, a ``multiprocessing`` manager (only for processes
    forked from one parent) and Redis; Airflow task processes are unrelated, so the local default
    keeps the GCRA state in a file. ``BEGIN IMMEDIATE`` takes SQLite's write lock before reading, so
    the read-step-write is atomic across processes.

    :param path: The SQLite file (created with its folder, mode 0600, see :func:`_create_once`).
    """

    is_async = False

    def __init__(self, path: str) -> None:
        _create_once(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            # The state is a cache of timing, so NORMAL sync is enough (a per-connection setting).
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise RateLimitStorageError(f"local rate-limit state unusable: {exc}") from None

    def check(self, algorithm, rates, now, weight):
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                state = self._load(algorithm, rates)
                new_state, decision = algorithm.step(rates, state, now, weight)
                if decision.allowed:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO gcra (id, state) VALUES (1, ?)",
                        (",".join(str(int(v)) for v in new_state),),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return decision

    def _load(self, algorithm, rates):
        row = self._conn.execute("SELECT state FROM gcra WHERE id = 1").fetchone()
        state = algorithm.decode(row[0].split(",")) if row else algorithm.initial(rates)
        return state if len(state) == len(rates) else algorithm.initial(rates)

    def read(self, algorithm, rates):
        with self._lock:
            return self._load(algorithm, rates)

    def reset(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM gcra")
