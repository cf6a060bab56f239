"""The vendors' current state of the sent documents, at a bounded cost.

One :class:`ConnectionStatus` per connection holds the last known state of its documents. A page view
asks for a connection's documents; when the last read is older than the refresh interval (at least
the sensors' default poll interval) one batch read starts, through the hook's O(pending) plan
(:meth:`~airflow_provider_esign.hooks.base.ESignHook.get_documents`) and so through the connection's
shared rate limiter. It reads only documents not yet known to be finished (completed, declined,
voided): a finished document never changes again. Every other view within the interval is answered
from memory, so vendor calls do not grow with page views, rows or viewers.

The read runs on a background thread; a view waits for it a short while and otherwise answers with
the last known state and its age (``refreshing`` set). A failed read keeps the last known state and
records the error, shown on the page with the age of that state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.models import DocumentInfo, DocumentStatus

log = logging.getLogger(__name__)

#: Default refresh interval: the sensors' default poke interval (``BatchDocumentStatusSensor``).
DEFAULT_REFRESH_SECONDS = 60.0
#: The interval never goes below this, whatever the configuration says.
MIN_REFRESH_SECONDS = 30.0
#: How long a page view waits for a read it started before answering with the last known state.
DEFAULT_WAIT_SECONDS = 3.0
#: Hook settings for the page's reads: the viewer is waiting, retries stay short.
PAGE_HOOK_PARAMS: dict[str, Any] = {"max_attempts": 2, "max_retry_seconds": 10.0, "timeout": (5.0, 30.0)}
_TERMINAL = {s.value for s in DocumentStatus if s.is_terminal}


@dataclass(frozen=True)
class Known:
    """A document's last known state at the vendor.

    :param status: Normalized status.
    :param signers: ``{"email", "name", "status", "signed_at"}`` per signer, as the vendor reported.
    :param changed_at: Epoch seconds the status was reached: the vendor's completion or modification
        time where it reports one, else when this process first saw the status.
    """

    status: str
    signers: tuple[dict[str, Any], ...]
    changed_at: float


@dataclass
class ConnectionStatus:
    """What is known about one connection's documents."""

    conn_id: str
    documents: dict[str, Known] = field(default_factory=dict)
    read_at: float | None = None  # clock time of the last successful read
    error: str | None = None  # the last read's failure, until a read succeeds
    error_at: float | None = None
    refreshing: bool = False
    reads: int = 0
    last_cost: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)


@dataclass(frozen=True)
class Snapshot:
    """A consistent copy of one connection's state for one page view."""

    conn_id: str
    documents: dict[str, Known]
    age: float | None  # seconds since the last successful read (None: never read)
    error: str | None
    refreshing: bool
    last_cost: str


def _default_reader(conn_id: str, document_ids: list[str]) -> dict[str, DocumentInfo]:
    from airflow_provider_esign.hooks import get_hook

    hook = get_hook(conn_id, **PAGE_HOOK_PARAMS)
    try:
        found = hook.get_documents(document_ids)
        log.info("Contracts page read %d document(s) of %r", len(document_ids), conn_id)
        return found
    finally:
        hook.close()


def _changed_at(document: DocumentInfo, seen: float) -> float:
    from airflow_provider_esign.hooks.batch import timestamp

    if document.status is DocumentStatus.COMPLETED and document.completed_at:
        return timestamp(document.completed_at) or seen
    if document.status.is_terminal and document.modified_at:
        return timestamp(document.modified_at) or seen
    return seen


def _known(document: DocumentInfo, previous: Known | None, seen: float) -> Known:
    signers = tuple(
        {"email": s.email, "name": s.name, "status": s.status.value, "signed_at": s.signed_at}
        for s in document.signers
    )
    status = document.status.value
    if previous is not None and previous.status == status:
        return Known(status, signers or previous.signers, previous.changed_at)
    return Known(status, signers, _changed_at(document, seen))


class StatusCache:
    """Per-connection last known states, refreshed by at most one batch read per interval.

    :param read: ``(conn_id, document_ids) -> {id: DocumentInfo}``: the batch read (the hook's).
    :param refresh_seconds: Minimum time between two reads of one connection.
    :param wait_seconds: How long a view waits for a read it started.
    :param clock: Monotonic clock (injectable).
    :param wall: Wall clock in epoch seconds (injectable), for when a status was first seen.
    """

    def __init__(
        self,
        read: Callable[[str, list[str]], dict[str, DocumentInfo]] = _default_reader,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._read = read
        self.refresh_seconds = max(float(refresh_seconds), MIN_REFRESH_SECONDS)
        self.wait_seconds = wait_seconds
        self._clock = clock
        self._wall = wall
        self._connections: dict[str, ConnectionStatus] = {}
        self._lock = threading.Lock()

    def _state(self, conn_id: str) -> ConnectionStatus:
        with self._lock:
            if conn_id not in self._connections:
                self._connections[conn_id] = ConnectionStatus(conn_id)
            return self._connections[conn_id]

    def _due(self, state: ConnectionStatus) -> bool:
        last = max(t for t in (state.read_at, state.error_at, float("-inf")) if t is not None)
        return self._clock() - last >= self.refresh_seconds

    def snapshot(self, conn_id: str, documents: dict[str, str], *, refresh: bool = True) -> Snapshot:
        """The connection's state for ``documents`` (id → status at send time), reading the vendor
        first when the last read is older than the interval and some of them may still change."""
        state = self._state(conn_id)
        with state.lock:
            due = refresh and not state.refreshing and self._due(state)
        # Only when a read is due: the list of what may still change (every view would pay for it).
        pending = [d for d, sent in documents.items() if self._may_change(state, d, sent)] if due else []
        started = False
        with state.lock:
            if pending and not state.refreshing and self._due(state):
                state.refreshing, started = True, True
                state.done.clear()
            elif due and not pending and state.read_at is None and state.error is None:
                state.read_at = self._clock()  # nothing can change: nothing to read
        if started:
            thread = threading.Thread(
                target=self._refresh, args=(state, pending), name=f"esign-contracts-{conn_id}", daemon=True
            )
            thread.start()
            state.done.wait(self.wait_seconds)
        with state.lock:
            return Snapshot(
                conn_id,
                dict(state.documents),
                None if state.read_at is None else max(0.0, self._clock() - state.read_at),
                state.error,
                state.refreshing,
                state.last_cost,
            )

    @staticmethod
    def _may_change(state: ConnectionStatus, document_id: str, sent_status: str) -> bool:
        known = state.documents.get(document_id)
        return (known.status if known else sent_status) not in _TERMINAL

    def _refresh(self, state: ConnectionStatus, pending: list[str]) -> None:
        try:
            found = self._read(state.conn_id, pending)
        except Exception as exc:
            log.warning("Contracts page: reading %r failed: %s", state.conn_id, exc)
            with state.lock:
                state.error, state.error_at = _message(exc), self._clock()
        else:
            seen = self._wall()
            with state.lock:
                for document_id, document in found.items():
                    state.documents[document_id] = _known(document, state.documents.get(document_id), seen)
                state.read_at, state.error, state.error_at = self._clock(), None, None
                state.reads += 1
                state.last_cost = f"{len(pending)} document(s) read"
        finally:
            with state.lock:
                state.refreshing = False
            state.done.set()

    def update(self, conn_id: str, document: DocumentInfo) -> None:
        """Record a state read outside the batch (after a reminder or cancel)."""
        state = self._state(conn_id)
        with state.lock:
            previous = state.documents.get(document.document_id)
            state.documents[document.document_id] = _known(document, previous, self._wall())

    def reads(self, conn_id: str) -> int:
        """How many batch reads of ``conn_id`` succeeded (for tests and the benchmark)."""
        return self._state(conn_id).reads


def _message(exc: Exception) -> str:
    """The failure in a few words for the page (provider errors carry no secrets, see exceptions.py)."""
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
