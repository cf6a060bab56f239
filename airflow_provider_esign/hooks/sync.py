"""Walking a whole vendor account for the contract ledger: once in full, then only what changed.

A walk is a flow like a batch read (:mod:`~airflow_provider_esign.hooks.batch`), built from the
vendor's list flow. It hands each page of documents to the caller (``SyncContext.emit``, run by the
executor as an :class:`~airflow_provider_esign.hooks.effects.Offload`: the flow does no I/O)
together with the walk's *state* after that page. The caller commits the page
and the state in one transaction, so a walk killed at any point resumes from the last committed
page: no page twice in the table, none skipped.

The state is a JSON-native dict owned by the hook (the caller stores it, never reads into it apart
from ``phase``). Three building blocks serve the vendors (each vendor picks in ``sync_walk``):

- :func:`full_walk`: every list page from the first (or from the stored cursor, resuming);
- :func:`changes_walk`: the list filtered to documents changed since the stored time (Legalesign
  ``modified_gt``), then one one-item page for the vendor's total (to notice deletions);
- :func:`horizon_walk`: the list from its newest end down to the oldest document that was still
  open at the last sync (eSignBase: a final document never changes again).

Where a walk reads times, the next "changed since" bound is the newest modification seen, less the
walk's own duration and a margin: a document changed while the walk ran is read again next time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow_provider_esign.hooks.api import Flow, Page
from airflow_provider_esign.hooks.batch import OLDEST_FIRST, NewestEndWalk, detect_order, oldest, timestamp
from airflow_provider_esign.hooks.effects import Offload

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.vendor import VendorInterface
    from airflow_provider_esign.models import DocumentInfo

#: Seconds subtracted from a "changed since" bound for clock skew between the vendor's servers.
DEFAULT_MARGIN = 60.0
STATE_VERSION = 1
#: ``state["phase"]`` between syncs; during a walk it is the walk's kind (``full``, ...).
IDLE = "idle"


@dataclass
class SyncPage:
    """One page of a walk, to be committed with ``state``.

    :param documents: The documents read.
    :param state: The walk's state once this page is committed (resume point).
    :param full: Part of a full walk: at its end, a document the walk did not list is gone.
    :param walk_id: Identifies the walk across resumes (keys the "seen" records of a full walk).
    :param total: How many documents the list being walked holds, where the vendor says (for the ETA).
    :param last: The walk's last page.
    :param vendor_total: The vendor's count of the whole account, where this walk read it.
    """

    documents: list[DocumentInfo]
    state: dict[str, Any]
    full: bool
    walk_id: str
    total: int | None = None
    last: bool = False
    vendor_total: int | None = None


@dataclass
class SyncContext:
    """What a walk needs from its caller.

    :param state: The stored state (None: never synced).
    :param emit: Receives each page (commits it); called inside the walk, in order.
    :param open_since: Vendor epoch seconds of the oldest document the ledger still has open.
    :param full_refresh: Walk the whole account even where a cheaper walk exists.
    :param margin: Seconds of vendor clock skew allowed for.
    :param clock: Wall clock (epoch seconds), injectable for tests.
    :param calls: The vendor calls (list pages) the walk has made so far.
    """

    state: dict[str, Any] | None
    emit: Callable[[SyncPage], None]
    open_since: float | None = None
    full_refresh: bool = False
    margin: float = DEFAULT_MARGIN
    clock: Callable[[], float] = time.time
    calls: int = field(default=0)

    @property
    def synced_before(self) -> bool:
        """Whether a full walk has finished before (a cheaper walk can start from its state)."""
        return self.state is not None and self.state.get("since") is not None


def read_page(hook: VendorInterface, ctx: SyncContext, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
    """One list page, counted."""
    ctx.calls += 1
    return (yield from hook.list_page_flow(cursor, filters))


def commit(ctx: SyncContext, page: SyncPage) -> Offload:
    """The effect that commits ``page`` (the caller's database write, performed by the executor)."""
    return Offload(partial(ctx.emit, page))


class _Times:
    """The newest modification and creation times seen during a walk."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.modified: float | None = state.get("max_modified")
        self.created: float | None = state.get("max_created")

    def see(self, documents: list[DocumentInfo]) -> None:
        for doc in documents:
            modified = timestamp(doc.modified_at) or timestamp(doc.completed_at)
            created = timestamp(doc.created_at)
            if modified is not None and (self.modified is None or modified > self.modified):
                self.modified = modified
            if created is not None and (self.created is None or created > self.created):
                self.created = created

    def into(self, state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "max_modified": self.modified, "max_created": self.created}


def _since(times: _Times, started: float, ctx: SyncContext, previous: float | None) -> float:
    """The next "changed since" bound (see the module docstring); never later than ``previous``
    moved forward by what this walk saw."""
    newest = times.modified if times.modified is not None else times.created
    if newest is None:
        return previous if previous is not None else 0.0
    bound = newest - max(0.0, ctx.clock() - started) - ctx.margin
    return bound if previous is None else max(previous, bound)


def _idle(ctx: SyncContext, times: _Times, started: float, kind: str) -> dict[str, Any]:
    previous = (ctx.state or {}).get("since")
    return {
        "version": STATE_VERSION,
        "phase": IDLE,
        "last_walk": kind,
        "since": _since(times, started, ctx, previous),
        "max_modified": times.modified,
        "max_created": times.created,
        "finished_at": ctx.clock(),
    }


def full_walk(hook: VendorInterface, ctx: SyncContext, filters: dict[str, Any] | None = None) -> Flow[None]:
    """Every page of the list (the hook's batch filters: archived documents included), resuming
    from the stored cursor when the last full walk was cut short."""
    state = ctx.state or {}
    resuming = state.get("phase") == "full" and not ctx.full_refresh
    if not resuming:
        state = {
            "version": STATE_VERSION,
            "phase": "full",
            "cursor": None,
            "started": ctx.clock(),
            "since": (ctx.state or {}).get("since"),
            "finished_at": (ctx.state or {}).get("finished_at"),
        }
    walk_id = f"full-{state['started']:.6f}"
    filters = hook.batch_list_filters(dict(filters or {}))
    times = _Times(state)
    cursor = state.get("cursor")
    while True:
        page = yield from read_page(hook, ctx, cursor, filters)
        times.see(page.items)
        if "order" not in state:  # the walk's first page: the list's order and page size
            state = {**state, "order": detect_order(page.items), "page_size": len(page.items)}
        cursor = page.next_cursor
        if cursor is not None and not isinstance(cursor, (str, int)):
            raise TypeError(f"{type(hook).__name__} list cursors must be str or int to be stored")
        if cursor is None:
            done = {
                **_idle(ctx, times, state["started"], "full"),
                "total": page.total,
                "order": state["order"],
                "page_size": state["page_size"],
            }
            yield commit(
                ctx, SyncPage(page.items, done, True, walk_id, page.total, last=True, vendor_total=page.total)
            )
            return
        state = times.into({**state, "cursor": cursor})
        yield commit(ctx, SyncPage(page.items, state, True, walk_id, page.total))


def changes_walk(hook: VendorInterface, ctx: SyncContext) -> Flow[None]:
    """The documents changed since the stored bound, then the account's total (one more call)."""
    state = ctx.state or {}
    since = float(state["since"])
    changes = hook.changed_since_filters(since)
    if changes is None:
        raise TypeError(f"{type(hook).__name__} has no changed-since list filter")
    base = hook.batch_list_filters({})
    started = ctx.clock()
    walk_id = f"changes-{started:.6f}"
    times = _Times({})
    cursor: Any = None
    total: int | None = None
    while True:
        page = yield from read_page(hook, ctx, cursor, {**base, **changes})
        times.see(page.items)
        cursor = page.next_cursor
        total = page.total
        if cursor is None:
            break
        yield commit(ctx, SyncPage(page.items, state, False, walk_id, total))
    # The vendor's count of the account, from a one-item page (a deletion leaves no change behind).
    vendor_total = (yield from read_page(hook, ctx, None, {**base, "page_size": 1})).total
    done = _idle(ctx, times, started, "changes")
    yield commit(ctx, SyncPage(page.items, done, False, walk_id, total, True, vendor_total))


def horizon_walk(hook: VendorInterface, ctx: SyncContext) -> Flow[None]:
    """The list from its newest end down to the oldest document still open at the last sync (or
    created after it): where a final document never changes, nothing older can have changed.

    An oldest-first list whose size the last walk stored starts at the page where the newest end
    was then (its answer tells today's total): the documents added since are the pages above it,
    and no call is spent on the oldest page just to learn the total.
    """
    state = ctx.state or {}
    bounds = [b for b in (ctx.open_since, state.get("max_created")) if b is not None]
    horizon = min(bounds) - ctx.margin if bounds else None
    filters = hook.batch_list_filters({})
    started = ctx.clock()
    walk_id = f"horizon-{started:.6f}"
    times = _Times({})

    def read(cursor: Any) -> Flow[Page]:
        page = yield from read_page(hook, ctx, cursor, filters)
        times.see(page.items)
        yield commit(ctx, SyncPage(page.items, state, False, walk_id, page.total))
        return page

    known, size = state.get("total"), state.get("page_size")
    total: int | None = None
    if hook.list_at_offset and state.get("order") == OLDEST_FIRST and known and size and horizon is not None:
        probe_at = max(0, int(known) - int(size))
        probe = yield from read(probe_at)
        total = probe.total
        step = len(probe.items) or int(size)
        if total is not None and total >= known and probe_at + len(probe.items) >= known:
            for offset in range(probe_at + len(probe.items), total, step):  # added since the last sync
                yield from read(offset)
            offset, low = probe_at, oldest(probe.items)
            while offset > 0 and not low < horizon:
                offset = max(0, offset - step)
                low = oldest((yield from read(offset)).items)
        else:  # fewer documents than last time (deleted ones): the plain walk below
            total = None
    if total is None:
        first = yield from read(None)
        total = first.total
        walk = NewestEndWalk(first, horizon, hook.list_at_offset)
        cursor = walk.next_cursor(first)
        while cursor is not None:
            cursor = walk.next_cursor((yield from read(cursor)))
        state = {**state, "order": detect_order(first.items), "page_size": len(first.items) or size}
    done = {
        **_idle(ctx, times, started, "horizon"),
        "total": total,
        "order": state.get("order"),
        "page_size": state.get("page_size"),
    }
    done["max_created"] = max(x for x in (times.created, state.get("max_created"), 0.0) if x is not None)
    yield commit(ctx, SyncPage([], done, False, walk_id, total, True, total))
