"""What a completion watcher has announced, and the payload of each announcement (pure, no I/O).

The cursor (:class:`CompletionCursor`) works on the vendor's own completion times:

* ``floor``: completions at or before this vendor time are old (announced before, or older than the
  first poll). It trails the newest completion seen by ``lookback`` seconds, so a document whose
  completion shows up in the list late (PDF still being generated, clock skew) is still announced.
* ``seen``: ids already handled whose completion time is above ``floor`` (so they are not announced
  twice), plus ids without any time (WeSignature lists none) for as long as the vendor lists them.

It is bounded: timed ids fall off once ``floor`` passes them, and beyond ``max_seen`` timed ids the
oldest are dropped by raising ``floor`` (never by forgetting an id that could then be announced again).
Untimed ids cannot be dropped that way. Beyond ``max_seen`` of them, the *stored* form keeps none: it
keeps the ids that were still open (not final) instead, and a trigger resuming from it re-takes the
baseline of untimed completions, announcing those that were open (see :meth:`CompletionCursor.to_json`).

``horizon`` makes a poll cost O(documents that can still complete) where the vendor has no time filter:
the creation time of the oldest document that was still open at the last poll. Final states are final,
so every document created before it was already final then and cannot complete any more; the next poll
reads the list from its newest end down to the horizon only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.models import DocumentInfo, DocumentStatus

#: Format version of the stored cursor.
CURSOR_VERSION = 1


def completion_time(value: str | None) -> float | None:
    """Epoch seconds of a vendor timestamp (ISO 8601; naive means UTC), or None if absent/unreadable."""
    if not value or not isinstance(value, str):
        return None
    import pendulum

    try:
        parsed = pendulum.parse(value.strip(), tz="UTC")
    except Exception:
        return None
    timestamp = getattr(parsed, "timestamp", None)
    if timestamp is None:  # a date-only or duration value: not a point in time
        return None
    result = float(timestamp())
    return result if math.isfinite(result) else None


def completion_payload(document: DocumentInfo, *, conn_id: str, source: str) -> dict[str, Any]:
    """The JSON-native description of a completed document, the same for the watcher and the webhook.

    Downstream DAGs read it as ``event.extra["payload"]`` of their triggering asset events.
    """
    return {
        "document_id": document.document_id,
        "vendor": document.vendor,
        "conn_id": conn_id,
        "name": document.name,
        "status": document.status.value,
        "raw_status": document.raw_status,
        "completed_at": document.completed_at or document.modified_at,
        "signers": [
            {"email": s.email, "name": s.name, "role": s.role, "status": s.status.value}
            for s in document.signers
        ],
        "metadata": dict(document.metadata),
        "source": source,
    }


@dataclass
class Listing:
    """What one watcher poll listed: the completed documents, the open ones' ids and the horizon.

    :param complete: Whether the listing holds every document the filters match (no time bound).
    :param horizon_known: False when a server-side filter hid open documents (no horizon then).
    """

    complete: bool
    completed: dict[str, DocumentInfo] = field(default_factory=dict)
    horizon_known: bool = True
    _open: set[str] = field(default_factory=set)
    _oldest_open: float | None = None
    _newest: float | None = None

    def add(self, document: DocumentInfo) -> None:
        from airflow_provider_esign.hooks.batch import timestamp  # the fast ISO 8601 reader

        created = timestamp(document.created_at)
        if created is not None:
            self._newest = created if self._newest is None else max(self._newest, created)
        if document.status is DocumentStatus.COMPLETED:
            # setdefault: offset pagination over a changing list can return a document twice.
            self.completed.setdefault(document.document_id, document)
        elif not document.status.is_terminal:
            self._open.add(document.document_id)
            if created is None:
                self.horizon_known = False  # an open document of unknown age: no bound
            else:
                self._oldest_open = created if self._oldest_open is None else min(self._oldest_open, created)

    @property
    def open_ids(self) -> frozenset[str]:
        return frozenset(self._open)

    @property
    def horizon(self) -> float | None:
        """Creation time of the oldest open document; with none open, of the newest listed one (any
        later document is newer still). None when unknown."""
        if not self.horizon_known:
            return None
        return self._oldest_open if self._oldest_open is not None else self._newest


@dataclass
class CompletionCursor:
    """What a watcher has already announced; see the module docstring.

    :param floor: Vendor time (epoch seconds) at or before which completions are old; None before the
        first completion is known.
    :param seen: Document id -> the completion time it was listed with (None when the vendor gives
        none), in insertion order.
    """

    floor: float | None = None
    seen: dict[str, float | None] = field(default_factory=dict)
    horizon: float | None = None
    open_ids: frozenset[str] = frozenset()
    rebaseline_untimed: bool = False

    # ------------------------------------------------------------------ (de)serialization
    def to_json(self, max_seen: int | None = None) -> dict[str, Any]:
        """The stored form, at most ``max_seen`` seen ids.

        With more untimed ids than that (WeSignature lists no times), it stores the timed ones and the
        ids still open at this poll instead; see :meth:`from_json`.
        """
        value: dict[str, Any] = {"v": CURSOR_VERSION, "floor": self.floor}
        if self.horizon is not None:
            value["horizon"] = self.horizon
        untimed = sum(t is None for t in self.seen.values())
        if max_seen is not None and untimed > max_seen:
            value["seen"] = [[i, t] for i, t in self.seen.items() if t is not None]
            value["open"] = sorted(self.open_ids)
            value["untimed_dropped"] = True
        else:
            value["seen"] = [[i, t] for i, t in self.seen.items()]
        return value

    @classmethod
    def from_json(cls, value: Any) -> CompletionCursor | None:
        """The stored cursor, or None when nothing (usable) is stored.

        A cursor stored without its untimed ids comes back with ``rebaseline_untimed``: its next poll
        takes untimed completions as known, except those of the ids that were open when it was stored.
        """
        if not isinstance(value, dict) or value.get("v") != CURSOR_VERSION:
            return None
        seen: dict[str, float | None] = {}
        for entry in value.get("seen") or []:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
                seen[entry[0]] = float(entry[1]) if isinstance(entry[1], (int, float)) else None
        return cls(
            _number(value.get("floor")),
            seen,
            horizon=_number(value.get("horizon")),
            open_ids=frozenset(i for i in value.get("open") or [] if isinstance(i, str)),
            rebaseline_untimed=value.get("untimed_dropped") is True,
        )

    # ------------------------------------------------------------------ the rules
    def is_candidate(self, document_id: str, listed_time: float | None) -> bool:
        """Not announced yet and not older than the floor."""
        if document_id in self.seen:
            return False
        return listed_time is None or self.floor is None or listed_time > self.floor

    def is_known_untimed(self, document_id: str, listed_time: float | None) -> bool:
        """After a resume without untimed ids: an untimed completion that was not open when the cursor
        was stored counts as known (part of the re-taken baseline), never as new."""
        return self.rebaseline_untimed and listed_time is None and document_id not in self.open_ids

    def is_new_completion(self, completed: float | None) -> bool:
        """Whether a candidate's (stable) completion time is after the floor."""
        return completed is None or self.floor is None or completed > self.floor

    @classmethod
    def baseline(
        cls, listed: Iterable[tuple[str, float | None]], *, lookback: float, max_seen: int
    ) -> CompletionCursor:
        """The cursor of a first poll: everything completed now counts as already announced."""
        listed = list(listed)
        return cls().advanced(listed, listed, lookback=lookback, max_seen=max_seen, complete_listing=True)

    def advanced(
        self,
        handled: Iterable[tuple[str, float | None]],
        listed: Iterable[tuple[str, float | None]],
        *,
        lookback: float,
        max_seen: int,
        complete_listing: bool,
    ) -> CompletionCursor:
        """A new cursor with ``handled`` marked as seen, the floor moved up and old ids dropped.

        :param handled: (id, listed time) of the documents decided on in this poll.
        :param listed: (id, listed time) of every completed document in this poll's listing.
        :param complete_listing: Whether the listing had no time-based server filter, so an id without a
            time that is no longer listed can be forgotten (the vendor removed or archived it).
        """
        listed = list(listed)
        seen = dict(self.seen)
        for document_id, listed_time in handled:
            seen[document_id] = listed_time
        times = [t for t in seen.values() if t is not None] + [t for _, t in listed if t is not None]
        floor = self.floor
        if times:
            candidate = max(times) - lookback
            floor = candidate if floor is None else max(floor, candidate)
        if floor is not None:
            seen = {i: t for i, t in seen.items() if t is None or t > floor}
        if complete_listing:
            listed_ids = {i for i, _ in listed}
            seen = {i: t for i, t in seen.items() if t is not None or i in listed_ids}
        timed = sorted((t, i) for i, t in seen.items() if t is not None)
        excess = len(seen) - max_seen
        if excess > 0 and timed:
            # Forget the oldest timed ids by raising the floor past them: they stay "old", never new.
            cut = timed[min(excess, len(timed)) - 1][0]
            floor = cut if floor is None else max(floor, cut)
            seen = {i: t for i, t in seen.items() if t is None or t > floor}
        return CompletionCursor(floor, seen, horizon=self.horizon, open_ids=self.open_ids)

    def with_listing(self, horizon: float | None, open_ids: frozenset[str]) -> CompletionCursor:
        """This cursor with what the poll's listing showed: its horizon and the ids still open."""
        return CompletionCursor(self.floor, dict(self.seen), horizon=horizon, open_ids=open_ids)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
