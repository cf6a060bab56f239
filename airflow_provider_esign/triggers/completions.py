"""What a completion watcher has announced, and the payload of each announcement (pure, no I/O).

The cursor (:class:`CompletionCursor`) works on the vendor's own completion times:

* ``floor``: completions at or before this vendor time are old (announced before, or older than the
  first poll). It trails the newest completion seen by ``lookback`` seconds, so a document whose
  completion shows up in the list late (PDF still being generated, clock skew) is still announced.
* ``seen``: ids already handled whose completion time is above ``floor`` (so they are not announced
  twice), plus ids without any time (WeSignature lists none) for as long as the vendor lists them.

It is bounded: timed ids fall off once ``floor`` passes them, and beyond ``max_seen`` timed ids the
oldest are dropped by raising ``floor`` (never by forgetting an id that could then be announced again).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.models import DocumentInfo

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
class CompletionCursor:
    """What a watcher has already announced; see the module docstring.

    :param floor: Vendor time (epoch seconds) at or before which completions are old; None before the
        first completion is known.
    :param seen: Document id -> the completion time it was listed with (None when the vendor gives
        none), in insertion order.
    """

    floor: float | None = None
    seen: dict[str, float | None] = field(default_factory=dict)

    # ------------------------------------------------------------------ (de)serialization
    def to_json(self) -> dict[str, Any]:
        return {"v": CURSOR_VERSION, "floor": self.floor, "seen": [[i, t] for i, t in self.seen.items()]}

    @classmethod
    def from_json(cls, value: Any) -> CompletionCursor | None:
        """The stored cursor, or None when nothing (usable) is stored."""
        if not isinstance(value, dict) or value.get("v") != CURSOR_VERSION:
            return None
        floor = value.get("floor")
        seen: dict[str, float | None] = {}
        for entry in value.get("seen") or []:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
                seen[entry[0]] = float(entry[1]) if isinstance(entry[1], (int, float)) else None
        return cls(float(floor) if isinstance(floor, (int, float)) else None, seen)

    # ------------------------------------------------------------------ the rules
    def is_candidate(self, document_id: str, listed_time: float | None) -> bool:
        """Not announced yet and not older than the floor."""
        if document_id in self.seen:
            return False
        return listed_time is None or self.floor is None or listed_time > self.floor

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
        return CompletionCursor(floor, seen)
