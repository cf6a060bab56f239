"""The hook-side account walks (hooks/sync.py) against a fake list: calls, cursors, resume, bounds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_esign.hooks import sync
from airflow_provider_esign.hooks.api import Page
from airflow_provider_esign.hooks.effects import Offload
from airflow_provider_esign.models import DocumentInfo, DocumentStatus


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat()


def doc(
    i: int, created: float, modified: float | None = None, status=DocumentStatus.COMPLETED
) -> DocumentInfo:
    return DocumentInfo(
        f"d{i}",
        "fake",
        f"Doc {i}",
        status,
        "raw",
        created_at=iso(created),
        modified_at=iso(modified or created),
    )


class FakeHook:
    """An oldest-first, offset-paginated list (like eSignBase) that records its calls."""

    vendor = "fake"
    list_at_offset = True
    page_size = 10

    def __init__(self, docs: list[DocumentInfo]) -> None:
        self.docs = docs
        self.calls: list[tuple[object, dict]] = []

    def batch_list_filters(self, filters):
        return {**filters, "archived": "all"}

    def changed_since_filters(self, since):
        return {"modified_gt": since}

    def list_page_flow(self, cursor, filters):
        self.calls.append((cursor, dict(filters)))
        docs = self.docs
        if "modified_gt" in filters:
            docs = [
                d for d in docs if datetime.fromisoformat(d.modified_at).timestamp() > filters["modified_gt"]
            ]
        size = filters.get("page_size", self.page_size)
        offset = int(cursor or 0)
        items = docs[offset : offset + size]
        nxt = offset + len(items)
        return Page(items, nxt if items and nxt < len(docs) else None, total=len(docs))
        yield  # a flow


def drive(walk, ctx):
    """Run a walk whose fake pages make no request, as an executor does: each ``Offload`` (a page
    commit) is performed and its result sent back. Returns the walk's count of list calls."""
    try:
        effect = next(walk)
        while True:
            assert isinstance(effect, Offload), effect
            effect = walk.send(effect.function())
    except StopIteration:
        return ctx.calls


def run(hook, state=None, **kw):
    pages: list[sync.SyncPage] = []
    ctx = sync.SyncContext(state, pages.append, clock=lambda: 10_000.0, **kw)
    calls = drive(sync.full_walk(hook, ctx), ctx)
    return pages, calls


def test_a_full_walk_reads_every_page_once_and_stores_a_bound():
    hook = FakeHook([doc(i, 1000 + i) for i in range(25)])
    pages, calls = run(hook)
    assert calls == 3 and [len(p.documents) for p in pages] == [10, 10, 5]
    assert [p.state.get("cursor") for p in pages[:-1]] == [10, 20]
    assert pages[-1].last and pages[-1].state["phase"] == sync.IDLE
    assert pages[-1].state["since"] == 1024 - sync.DEFAULT_MARGIN  # newest change, less the margin
    assert all(f["archived"] == "all" for _, f in hook.calls)  # archived documents too
    assert len({p.walk_id for p in pages}) == 1 and all(p.full for p in pages)


def test_a_cut_full_walk_resumes_from_its_committed_cursor():
    hook = FakeHook([doc(i, 1000 + i) for i in range(25)])
    pages, _ = run(hook)
    resumed, calls = run(hook, state=pages[0].state)  # killed after the first page was committed
    assert calls == 2 and [d.document_id for p in resumed for d in p.documents] == [
        f"d{i}" for i in range(10, 25)
    ]
    assert resumed[0].walk_id == pages[0].walk_id  # the same walk: its seen ids carry over


def test_a_changes_walk_reads_only_what_changed_plus_the_total():
    docs = [doc(i, 1000 + i) for i in range(25)]
    hook = FakeHook(docs)
    idle = run(hook, margin=0)[0][-1].state
    assert idle["since"] == 1024
    docs[3] = doc(3, 1003, modified=9000)
    hook.calls.clear()
    pages: list[sync.SyncPage] = []
    ctx = sync.SyncContext(idle, pages.append, clock=lambda: 10_000.0, margin=0)
    calls = drive(sync.changes_walk(hook, ctx), ctx)
    assert calls == 2  # one page of changes, one one-item page for the account's total
    assert [d.document_id for p in pages for d in p.documents] == ["d3"]
    assert pages[-1].vendor_total == 25 and hook.calls[-1][1]["page_size"] == 1
    assert pages[-1].state["since"] == 9000


def test_a_horizon_walk_stops_below_the_oldest_open_document():
    docs = [doc(i, 1000 + i * 10) for i in range(100)]
    hook = FakeHook(docs)
    idle = run(hook)[0][-1].state
    hook.calls.clear()
    pages: list[sync.SyncPage] = []
    # the oldest open document was created at 1950: the newest 5 documents and one page below
    ctx = sync.SyncContext(idle, pages.append, open_since=1950.0, margin=0, clock=lambda: 10_000.0)
    calls = drive(sync.horizon_walk(hook, ctx), ctx)
    assert calls <= 3, hook.calls
    seen = {d.document_id for p in pages for d in p.documents}
    assert {f"d{i}" for i in range(95, 100)} <= seen
    assert pages[-1].last and pages[-1].vendor_total == 100


def test_an_unstorable_cursor_is_refused():
    class Odd(FakeHook):
        def list_page_flow(self, c, filters):
            return Page([doc(1, 1000)], object())
            yield

    with pytest.raises(TypeError, match="str or int"):
        run(Odd([]))


def test_a_horizon_walk_of_a_known_oldest_first_list_starts_where_its_newest_end_was():
    docs = [doc(i, 1000 + i * 10) for i in range(100)]
    hook = FakeHook(docs)
    idle = run(hook, margin=0)[0][-1].state
    assert (idle["order"], idle["total"], idle["page_size"]) == ("oldest_first", 100, 10)
    docs += [doc(i, 3000 + i) for i in range(100, 115)]  # added since the last sync
    hook.calls.clear()
    pages: list[sync.SyncPage] = []
    ctx = sync.SyncContext(idle, pages.append, open_since=1950.0, margin=0, clock=lambda: 10_000.0)
    calls = drive(sync.horizon_walk(hook, ctx), ctx)
    # the old newest page (offset 90) tells the total; the two pages added since; no oldest page
    assert [c for c, _ in hook.calls] == [90, 100, 110] and calls == 3
    assert {d.document_id for p in pages for d in p.documents} == {f"d{i}" for i in range(90, 115)}
    assert pages[-1].state["total"] == 115 and pages[-1].vendor_total == 115


def test_a_horizon_walk_after_deletions_falls_back_to_reading_the_total_first():
    docs = [doc(i, 1000 + i * 10) for i in range(100)]
    hook = FakeHook(docs)
    idle = run(hook, margin=0)[0][-1].state
    del docs[10:30]  # fewer documents than the last walk saw
    hook.calls.clear()
    pages: list[sync.SyncPage] = []
    ctx = sync.SyncContext(idle, pages.append, open_since=1950.0, margin=0, clock=lambda: 10_000.0)
    drive(sync.horizon_walk(hook, ctx), ctx)
    assert hook.calls[1][0] is None  # the first page, for the total and order
    assert pages[-1].vendor_total == 80
