"""The completion cursor of the watchers: what has been announced, the floor below which completions are
old, its stored form; vendor completion times; a listing's horizon; the payload of a completion."""

from __future__ import annotations

import datetime as dt
import json

from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus
from airflow_provider_esign.triggers.completions import Listing, completion_payload
from airflow_provider_esign.triggers.events import (
    CompletionCursor,
    completion_time,
)

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------------------------------ the cursor
def test_completion_time_reads_vendor_formats():
    assert completion_time("2026-03-01T09:00:00+00:00") == T0.timestamp()
    assert completion_time("2026-03-01T09:00:00Z") == T0.timestamp()
    assert completion_time("2026-03-01T09:00:00") == T0.timestamp()  # Legalesign: naive means UTC
    assert completion_time("2026-03-01T10:00:00+0100") == T0.timestamp()
    assert completion_time(None) is None and completion_time("soon") is None


def test_cursor_candidates_respect_seen_and_floor():
    cursor = CompletionCursor(floor=100.0, seen={"a": 150.0, "w": None})
    assert not cursor.is_candidate("a", 150.0)  # seen
    assert not cursor.is_candidate("w", None)  # seen, untimed
    assert not cursor.is_candidate("b", 100.0)  # at the floor: old
    assert cursor.is_candidate("b", 100.5)
    assert cursor.is_candidate("c", None)


def test_cursor_forgets_ids_below_the_floor_and_keeps_untimed_while_listed():
    cursor = CompletionCursor.baseline([("a", 0.0), ("b", 500.0), ("w", None)], lookback=100, max_seen=10)
    assert cursor.floor == 400.0 and cursor.seen == {"b": 500.0, "w": None}
    later = cursor.advanced([("c", 900.0)], [("c", 900.0), ("w", None)], lookback=100, max_seen=10,
                            complete_listing=True)  # fmt: skip
    assert later.floor == 800.0 and later.seen == {"w": None, "c": 900.0}
    gone = later.advanced([], [("c", 900.0)], lookback=100, max_seen=10, complete_listing=True)
    assert "w" not in gone.seen  # no longer listed: the vendor removed it
    partial = later.advanced([], [("c", 900.0)], lookback=100, max_seen=10, complete_listing=False)
    assert "w" in partial.seen  # a time-filtered listing proves nothing about absent ids


def test_cursor_stays_bounded_by_raising_its_floor_never_by_forgetting():
    listed = [(f"d{i}", 1000.0 + i) for i in range(50)]
    cursor = CompletionCursor.baseline(listed, lookback=10_000, max_seen=20)
    assert len(cursor.seen) == 20
    assert cursor.floor == 1029.0  # the 30 oldest were dropped by moving the floor past them
    # Everything dropped is below the floor, so none of it can come back as new.
    assert not any(cursor.is_candidate(i, t) for i, t in listed)
    assert len(json.dumps(cursor.to_json())) < 2000


def test_cursor_json_round_trip_and_junk():
    cursor = CompletionCursor(floor=12.5, seen={"a": 13.0, "w": None})
    assert CompletionCursor.from_json(json.loads(json.dumps(cursor.to_json()))) == cursor
    assert CompletionCursor.from_json(None) is None
    assert CompletionCursor.from_json({"v": 99, "seen": []}) is None
    assert CompletionCursor.from_json("garbage") is None


def test_a_cursor_within_max_seen_is_stored_whole():
    cursor = CompletionCursor(
        floor=None, seen={"w1": None, "w2": None}, horizon=5.0, open_ids=frozenset({"o"})
    )
    stored = cursor.to_json(max_seen=2)
    assert stored["seen"] == [["w1", None], ["w2", None]] and "open" not in stored
    back = CompletionCursor.from_json(stored)
    assert back.horizon == 5.0 and not back.rebaseline_untimed
    assert not back.is_known_untimed("w3", None)


# ------------------------------------------------------------------------------------------ a listing
def listed(document_id: str, status: DocumentStatus, created: str | None) -> DocumentInfo:
    return DocumentInfo(document_id, "esignbase", "NDA", status, status.value, created_at=created)


def test_a_listing_keeps_completed_documents_once_and_the_open_ids():
    listing = Listing(complete=True)
    listing.add(listed("c1", DocumentStatus.COMPLETED, "2026-03-01T09:00:00Z"))
    listing.add(listed("c1", DocumentStatus.COMPLETED, "2026-03-01T09:00:00Z"))  # paginated twice
    listing.add(listed("o1", DocumentStatus.SENT, "2026-03-01T08:00:00Z"))
    listing.add(listed("v1", DocumentStatus.VOIDED, "2026-03-01T07:00:00Z"))
    assert list(listing.completed) == ["c1"]
    assert listing.open_ids == frozenset({"o1"})


def test_the_horizon_is_the_oldest_open_document_else_the_newest_listed():
    listing = Listing(complete=True)
    listing.add(listed("c1", DocumentStatus.COMPLETED, "2026-03-01T09:00:00Z"))
    assert listing.horizon == T0.timestamp()
    listing.add(listed("o1", DocumentStatus.SENT, "2026-03-01T08:00:00Z"))
    listing.add(listed("o2", DocumentStatus.SENT, "2026-03-01T08:30:00Z"))
    assert listing.horizon == T0.timestamp() - 3600


def test_an_open_document_of_unknown_age_leaves_no_horizon():
    listing = Listing(complete=True)
    listing.add(listed("o1", DocumentStatus.SENT, "2026-03-01T08:00:00Z"))
    listing.add(listed("o2", DocumentStatus.PARTIALLY_SIGNED, None))
    assert listing.horizon is None


def test_the_payload_is_json_native_and_falls_back_to_the_modified_time():
    document = DocumentInfo(
        "d-1", "legalesign", "NDA", DocumentStatus.COMPLETED, 30, modified_at="2026-03-01T09:00:00Z",
        signers=[SignerInfo("a@x.io", "Ann", SignerStatus.SIGNED, role="signee_1")], metadata={"ref": "r-1"},
    )  # fmt: skip
    payload = completion_payload(document, conn_id="legalesign_default", source="webhook")
    assert json.loads(json.dumps(payload)) == payload
    assert payload["completed_at"] == "2026-03-01T09:00:00Z"
    assert payload["signers"] == [{"email": "a@x.io", "name": "Ann", "role": "signee_1", "status": "SIGNED"}]
    assert (payload["status"], payload["source"], payload["metadata"]) == (
        "COMPLETED",
        "webhook",
        {"ref": "r-1"},
    )
