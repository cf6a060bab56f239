"""The WeSignature send ledger: one pre-send baseline per account and time window, shared by processes.

WeSignature has no idempotency field, so an exactly-once send records, before its create call, which
listed documents already match its fingerprint (file name + signer emails); after an ambiguous failure
it adopts a match that was not there. The account's list has no pagination and no filter, so taking
that baseline per send costs a whole-account download per send. The ledger shares it: one snapshot of
the account (each document's fingerprint digest and guid) serves every keyed send on the same account
for ``window`` seconds, in every process that shares the ledger's storage (the rate limiter's: a
SQLite file per account on the host, or Redis across hosts).

A shared, older snapshot does not know the documents created since it was taken, so the ledger also
records each keyed send:

* its *intent* (key, fingerprint, baseline) before its create call;
* its *claim*: the guid its create returned, or the guid it adopted. A guid is claimed by one key only
  (an atomic insert), so two sends can never adopt the same document.

A reconciling send excludes every guid claimed by another key. When a match is unclaimed while another
send with the same fingerprint is still open (its create may have landed but not yet been claimed), the
documents cannot be told apart: the send then fails rather than adopt a document it may not have
created (a later try finds the other send's claim). What stays assumed is written in
``docs/performance-peers.md``: within the window, no document with the same file name and signers is
created on the account other than by the provider's keyed sends.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_esign.exceptions import ESignError

#: Default of the ``baseline_window_seconds`` option: how long one account snapshot is shared.
DEFAULT_WINDOW = 60.0
#: How long a send's intent and claim are kept (a task retried days later still finds its own claim).
RETENTION_SECONDS = 7 * 24 * 3600.0


class LedgerError(ESignError):
    """The shared send ledger could not be read or written."""


def fingerprint_key(name: str, emails: Iterable[str]) -> str:
    """A short digest of a fingerprint (normalised file name, signer emails)."""
    raw = name + "\n" + "\n".join(sorted(emails))
    return hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


class SendLedger:
    """Interface of a ledger store (see the module docstring); times are the store's clock, seconds."""

    def now(self) -> float:
        raise NotImplementedError

    def baseline(self, fps: list[str], now: float, window: float) -> list[str] | None:
        """The snapshot's guids under ``fps``, or None when no snapshot is younger than ``window``."""
        raise NotImplementedError

    def snapshot_writer(self, taken_at: float, fps: list[str]) -> SnapshotWriter:
        """A new snapshot, written in batches while the account's list streams in (memory stays at one
        batch, whatever the account's size) and published at once by :meth:`SnapshotWriter.commit`."""
        return SnapshotWriter(self, taken_at, fps)

    def save_snapshot(self, taken_at: float, entries: Iterable[tuple[str, str]]) -> None:
        """Replace the snapshot with ``(fingerprint key, guid)`` pairs listed from ``taken_at`` on."""
        writer = self.snapshot_writer(taken_at, [])
        for entry in entries:
            writer.add(entry)
        writer.commit()

    def stage(self, token: str, rows: list[tuple[str, str]]) -> None:
        """Store a batch of a snapshot being written (invisible until :meth:`publish`)."""
        raise NotImplementedError

    def publish(self, token: str, taken_at: float) -> None:
        """Make the staged snapshot ``token`` the account's baseline taken at ``taken_at``."""
        raise NotImplementedError

    def drop(self, token: str) -> None:
        """Forget a staged snapshot that will not be published."""
        raise NotImplementedError

    def begin(self, key: str, fp: str, baseline: list[str], now: float) -> None:
        """Record a send's intent (before its create call); a later try of the same key replaces it."""
        raise NotImplementedError

    def recorded_baseline(self, key: str) -> list[str] | None:
        """The baseline an earlier try of ``key`` recorded, if any."""
        raise NotImplementedError

    def owned(self, key: str) -> str | None:
        """The guid ``key`` has claimed, if any."""
        raise NotImplementedError

    def claim(self, key: str, fp: str, guid: str, now: float) -> bool:
        """Claim ``guid`` for ``key`` (atomic); False when another key holds it."""
        raise NotImplementedError

    def others(self, fps: list[str], key: str, now: float) -> tuple[set[str], int]:
        """Guids claimed by other keys under ``fps``, and how many other sends under ``fps`` are open."""
        raise NotImplementedError

    def abandon(self, key: str) -> None:
        """Close an intent that made no document (the vendor refused the create)."""
        raise NotImplementedError


class SnapshotWriter:
    """Collects one snapshot in batches (see :meth:`SendLedger.snapshot_writer`).

    :param ledger: Where it goes.
    :param taken_at: When the list it comes from was requested.
    :param fps: The fingerprint keys of the send taking it: :meth:`add` returns their guids.
    """

    BATCH = 2000

    def __init__(self, ledger: SendLedger, taken_at: float, fps: list[str]) -> None:
        self.ledger = ledger
        self.taken_at = taken_at
        self.fps = frozenset(fps)
        self.token = f"{os.getpid()}-{threading.get_ident()}-{time.time_ns()}"
        self._rows: list[tuple[str, str]] = []

    def add(self, entry: tuple[str, str] | None) -> str | None:
        """Stage one listed document's ``(fingerprint key, guid)``; its guid if it matches ``fps``."""
        if entry is None:
            return None
        self._rows.append(entry)
        if len(self._rows) >= self.BATCH:
            self._flush()
        return entry[1] if entry[0] in self.fps else None

    def _flush(self) -> None:
        rows, self._rows = self._rows, []
        if rows:
            self.ledger.stage(self.token, rows)

    def commit(self) -> None:
        """Publish the snapshot (unless another process published a newer one meanwhile)."""
        self._flush()
        self.ledger.publish(self.token, self.taken_at)

    def abort(self) -> None:
        """Drop what was staged (the list failed)."""
        self._rows = []
        with contextlib.suppress(LedgerError):
            self.ledger.drop(self.token)


# ---------------------------------------------------------------------- local: one SQLite file
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v REAL)",
    "CREATE TABLE IF NOT EXISTS snapshot (fp TEXT, guid TEXT)",
    "CREATE INDEX IF NOT EXISTS snapshot_fp ON snapshot (fp)",
    "CREATE TABLE IF NOT EXISTS sends (key TEXT PRIMARY KEY, fp TEXT, baseline TEXT, started REAL,"
    " guid TEXT UNIQUE)",
    "CREATE INDEX IF NOT EXISTS sends_fp ON sends (fp)",
    "CREATE TABLE IF NOT EXISTS staging (token TEXT, fp TEXT, guid TEXT, at REAL)",
    "CREATE INDEX IF NOT EXISTS staging_token ON staging (token)",
)


def _create_once(path: str) -> None:
    """Create the ledger file fully set up (WAL mode, tables, mode 0600) before any process opens it:
    built under a private name and published with ``os.link``, which fails if another process
    published first (see ``ratelimit._create_once`` for why switching a shared new file to WAL races)."""
    if os.path.exists(path):
        return
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    descriptor, draft = tempfile.mkstemp(dir=folder, prefix=".draft-", suffix=".sqlite3")
    os.close(descriptor)
    try:
        conn = sqlite3.connect(draft, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)
        finally:
            conn.close()
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        for leftover in (draft, f"{draft}-wal", f"{draft}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)


class SQLiteLedger(SendLedger):
    """The ledger in a SQLite file shared by the processes of one host: a send's intent and claim are one
    statement each (atomic on its own), the shared snapshot a ``BEGIN IMMEDIATE`` transaction.

    :param path: The file (created with mode 0600).
    :param clock: The clock of ``now``: wall time, since the file outlives a reboot (which restarts
        the monotonic clock); a snapshot stamped in the future is never taken as fresh.
    """

    def __init__(self, path: str, clock: Callable[[], float] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: time.time())  # looked up per call: tests can move it
        self._lock = threading.Lock()
        try:
            _create_once(path)
            self._conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            # WAL with NORMAL sync: a commit survives the process being killed (what happens to task
            # workers) without an fsync per send; a power loss may lose the last commits.
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except (OSError, sqlite3.Error) as exc:
            raise LedgerError(f"local WeSignature send ledger unusable: {exc}") from None

    @contextlib.contextmanager
    def _write(self) -> Any:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """One statement in its own transaction (SQLite makes every statement atomic, so a send's
        intent and claim need no ``BEGIN``/``COMMIT`` round trips); the rows it returns."""
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.IntegrityError:
                raise  # a constraint said no: the caller's answer, not a broken ledger
            except sqlite3.Error as exc:
                raise LedgerError(f"local WeSignature send ledger unusable: {exc}") from None

    def now(self) -> float:
        return self._clock()

    def baseline(self, fps: list[str], now: float, window: float) -> list[str] | None:
        # One statement: the stamp and the guids come from the same snapshot (two statements could
        # straddle another process's publish), in one round trip per send.
        marks = ",".join("?" * len(fps))
        rows = self._execute(
            "SELECT v, NULL FROM meta WHERE k = 'taken_at'"
            f" UNION ALL SELECT NULL, guid FROM snapshot WHERE fp IN ({marks})",
            tuple(fps),
        )
        taken = next((v for v, _ in rows if v is not None), None)
        if taken is None or not (now - window <= taken <= now):
            return None
        return sorted(g for v, g in rows if v is None)

    def stage(self, token: str, rows: list[tuple[str, str]]) -> None:
        at = time.time()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO staging (token, fp, guid, at) VALUES (?, ?, ?, ?)",
                [(token, f, g, at) for f, g in rows],
            )

    def publish(self, token: str, taken_at: float) -> None:
        with self._write() as conn:
            current = conn.execute("SELECT v FROM meta WHERE k = 'taken_at'").fetchone()
            if not current or current[0] < taken_at:  # else another process saved a newer one meanwhile
                conn.execute("DELETE FROM snapshot")
                # DISTINCT: a list read again after a cut body staged its first part twice.
                conn.execute(
                    "INSERT INTO snapshot (fp, guid) SELECT DISTINCT fp, guid FROM staging WHERE token = ?",
                    (token,),
                )
                conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES ('taken_at', ?)", (taken_at,))
                conn.execute("DELETE FROM sends WHERE started < ?", (taken_at - RETENTION_SECONDS,))
            conn.execute("DELETE FROM staging WHERE token = ? OR at < ?", (token, time.time() - 3600))

    def drop(self, token: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM staging WHERE token = ?", (token,))

    def begin(self, key: str, fp: str, baseline: list[str], now: float) -> None:
        self._execute(
            "INSERT INTO sends (key, fp, baseline, started) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO"
            " UPDATE SET fp = excluded.fp, baseline = excluded.baseline, started = excluded.started",
            (key, fp, json.dumps(baseline), now),
        )

    def recorded_baseline(self, key: str) -> list[str] | None:
        row = self._execute("SELECT baseline FROM sends WHERE key = ?", (key,))
        return json.loads(row[0][0]) if row and row[0][0] is not None else None

    def owned(self, key: str) -> str | None:
        row = self._execute("SELECT guid FROM sends WHERE key = ?", (key,))
        return row[0][0] if row else None

    def claim(self, key: str, fp: str, guid: str, now: float) -> bool:
        # One statement: the UNIQUE guid column refuses a guid another key holds (IntegrityError),
        # atomically across processes; claiming a guid this key already holds changes nothing.
        try:
            self._execute(
                "INSERT INTO sends (key, fp, started, guid) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO"
                " UPDATE SET guid = excluded.guid",
                (key, fp, now, guid),
            )
            return True
        except sqlite3.IntegrityError:
            holder = self._execute("SELECT key FROM sends WHERE guid = ?", (guid,))
            return bool(holder) and holder[0][0] == key

    def others(self, fps: list[str], key: str, now: float) -> tuple[set[str], int]:
        marks = ",".join("?" * len(fps))
        rows = self._execute(
            f"SELECT guid FROM sends WHERE fp IN ({marks}) AND key != ? AND started >= ?",
            (*fps, key, now - RETENTION_SECONDS),
        )
        return {g for (g,) in rows if g is not None}, sum(g is None for (g,) in rows)

    def abandon(self, key: str) -> None:
        self._execute("DELETE FROM sends WHERE key = ? AND guid IS NULL", (key,))
