"""The Contracts page's status cache: at most one batch read per connection and interval, only of the
documents that may still change, failures shown until a read succeeds (injected clocks, a fake read)."""

from __future__ import annotations

import pytest

from airflow_provider_esign.contracts.status import MIN_REFRESH_SECONDS, StatusCache
from airflow_provider_esign.exceptions import ESignServerError
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus

WALL = 1_800_000_000.0


def info(document_id: str, status: DocumentStatus, **kwargs) -> DocumentInfo:
    return DocumentInfo(document_id, "esignbase", "NDA", status, status.value, **kwargs)


class Vendor:
    """The batch read: scripted answers, recording what was asked."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, list[str]]] = []

    def __call__(self, conn_id, ids):
        self.asked.append((conn_id, sorted(ids)))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def cache_for(clock):
    def make(vendor: Vendor, refresh_seconds: float = 60) -> StatusCache:
        return StatusCache(
            vendor, refresh_seconds=refresh_seconds, wait_seconds=30, clock=clock, wall=lambda: WALL
        )

    return make


SENT = {"d-1": "SENT", "d-2": "COMPLETED"}


def test_one_read_per_interval_of_only_what_may_change(cache_for, clock):
    signed = info(
        "d-1", DocumentStatus.PARTIALLY_SIGNED, signers=[SignerInfo("a@x.io", "Ann", SignerStatus.SIGNED)]
    )
    vendor = Vendor({"d-1": signed})
    cache = cache_for(vendor)
    snapshot = cache.snapshot("esb", SENT)
    assert vendor.asked == [("esb", ["d-1"])]  # d-2 was sent completed: it cannot change
    known = snapshot.documents["d-1"]
    assert (known.status, known.changed_at, known.signers[0]["status"]) == (
        "PARTIALLY_SIGNED",
        WALL,
        "SIGNED",
    )
    assert snapshot.age == 0.0 and snapshot.error is None and snapshot.last_cost == "1 document(s) read"
    clock.now += 59
    assert cache.snapshot("esb", SENT).age == 59
    assert len(vendor.asked) == 1
    clock.now += 1
    cache.snapshot("esb", SENT)
    assert len(vendor.asked) == 2 and cache.reads("esb") == 2


def test_a_document_known_terminal_is_never_read_again(cache_for, clock):
    vendor = Vendor({"d-1": info("d-1", DocumentStatus.VOIDED, modified_at="2026-03-01T09:00:00Z")})
    cache = cache_for(vendor)
    assert cache.snapshot("esb", SENT).documents["d-1"].changed_at == 1772355600.0  # the vendor's time
    clock.now += 600
    cache.snapshot("esb", SENT)
    assert len(vendor.asked) == 1


def test_a_failed_read_is_shown_until_one_succeeds_and_keeps_what_was_known(cache_for, clock):
    error = ESignServerError("vendor error", conn_id="esb", operation="get_documents", status_code=503)
    vendor = Vendor(
        {"d-1": info("d-1", DocumentStatus.SENT)}, error, {"d-1": info("d-1", DocumentStatus.SIGNED)}
    )
    cache = cache_for(vendor)
    cache.snapshot("esb", SENT)
    clock.now += 60
    failed = cache.snapshot("esb", SENT)
    assert failed.error == "get_documents on connection 'esb' failed: HTTP 503, vendor error"
    assert failed.documents["d-1"].status == "SENT" and failed.age == 60
    clock.now += 60
    recovered = cache.snapshot("esb", SENT)
    assert recovered.error is None and recovered.documents["d-1"].status == "SIGNED"


def test_a_status_keeps_the_time_it_was_first_seen(cache_for, clock):
    vendor = Vendor({"d-1": info("d-1", DocumentStatus.SENT)})
    cache = StatusCache(
        vendor, refresh_seconds=60, wait_seconds=30, clock=clock, wall=iter([WALL, WALL + 500]).__next__
    )
    cache.snapshot("esb", SENT)
    clock.now += 60
    assert cache.snapshot("esb", SENT).documents["d-1"].changed_at == WALL


def test_no_read_without_a_refresh_or_anything_to_read(cache_for):
    vendor = Vendor({})
    cache = cache_for(vendor)
    assert cache.snapshot("esb", {"d-2": "COMPLETED"}).age == 0.0  # nothing can change: nothing read
    assert cache.snapshot("other", SENT, refresh=False).age is None
    assert vendor.asked == []


def test_the_interval_has_a_floor_and_an_update_shows_at_once(cache_for):
    cache = cache_for(Vendor({}), refresh_seconds=1)
    assert cache.refresh_seconds == MIN_REFRESH_SECONDS
    cache.update("esb", info("d-1", DocumentStatus.VOIDED))
    assert cache.snapshot("esb", {}, refresh=False).documents["d-1"].status == "VOIDED"
