"""One ledger sync: walk the account through the hook, commit every page with its cursor, log progress.

The hook decides how to walk (:meth:`~airflow_provider_esign.hooks.base.ESignHook.sync_account`);
this module turns pages into rows, commits them, marks what a full walk no longer lists as deleted at
the vendor, and starts a full walk right away when an incremental one finds the vendor holding fewer
documents than the ledger (something was deleted, which no change list shows).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.hooks.batch import timestamp
from airflow_provider_esign.hooks.sync import SyncContext, SyncPage
from airflow_provider_esign.ledger import rows as rowmod
from airflow_provider_esign.ledger.store import DocumentRow, LedgerStore

log = logging.getLogger(__name__)
#: Seconds between two progress lines in the task log.
PROGRESS_EVERY = 10.0
#: Ids kept in ``SyncResult.new`` / ``changed``: memory stays flat on a first sync of a large account.
ID_SAMPLE = 1000


@dataclass
class SyncResult:
    """What one sync did.

    :param calls: Vendor calls of the walks (list pages, form field reads).
    :param walks: The walks run, in order (``full``, ``changes``, ``horizon``).
    :param read: Documents read from the vendor.
    :param new: Ids of documents new to the ledger (the first :data:`ID_SAMPLE`; see ``new_count``).
    :param changed: Ids of documents whose row changed (the first :data:`ID_SAMPLE`).
    :param deleted: Ids marked deleted at the vendor.
    :param state: The stored state after the sync.
    :param vendor_total: The vendor's count of the account, where read.
    """

    calls: int = 0
    walks: list[str] = field(default_factory=list)
    read: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    vendor_total: int | None = None
    pages: int = 0
    synced_before: bool = False
    new_count: int = 0
    changed_count: int = 0
    #: Documents that reached DECLINED or VOIDED in this sync (new or changed rows).
    failed: list[str] = field(default_factory=list)


class _Progress:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.started = clock()
        self.last = self.started

    def report(self, result: SyncResult, total: int | None, final: bool) -> None:
        now = self.clock()
        if not final and now - self.last < PROGRESS_EVERY and result.pages > 1:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = result.read / elapsed
        eta = "unknown"
        if total and rate > 0 and total >= result.read:
            eta = f"{(total - result.read) / rate:.0f}s"
        log.info(
            "Ledger sync: %d page(s), %d document(s) read of %s, %d new, %d changed, %.0f docs/s, ETA %s",
            result.pages,
            result.read,
            total if total is not None else "?",
            result.new_count,
            result.changed_count,
            rate,
            "0s" if final else eta,
        )


def sync(
    hook: Any,
    store: LedgerStore,
    *,
    full_refresh: bool = False,
    form_fields: bool = False,
    margin: float = 60.0,
    clock: Callable[[], float] = time.time,
    after_page: Callable[[SyncResult], None] | None = None,
) -> SyncResult:
    """Sync the hook's account into the store (see the module docstring).

    :param form_fields: Also read the form field values of documents that became signed, where the
        vendor exposes them (one call per such document).
    :param after_page: Called after each committed page (tests inject a failure here).
    """
    connection_id = hook.conn_id
    result = SyncResult()
    progress = _Progress(clock)
    state = store.load_state(connection_id)
    result.synced_before = bool(state and state.get("finished_at"))
    force = full_refresh
    for _attempt in range(2):
        walk_state = _walk(
            hook, store, state, force, form_fields, margin, clock, result, progress, after_page
        )
        state = walk_state
        live = store.live_count(connection_id)
        if result.vendor_total is not None and result.vendor_total < live and result.walks[-1] != "full":
            log.info(
                "The vendor lists %d document(s), the ledger %d: a full walk finds the deleted ones",
                result.vendor_total,
                live,
            )
            force = True
            continue
        break
    result.state = state or {}
    return result


def _walk(
    hook: Any,
    store: LedgerStore,
    state: dict[str, Any] | None,
    full_refresh: bool,
    form_fields: bool,
    margin: float,
    clock: Callable[[], float],
    result: SyncResult,
    progress: _Progress,
    after_page: Callable[[SyncResult], None] | None,
) -> dict[str, Any]:
    connection_id = hook.conn_id
    fresh_full = state is None or state.get("phase") != "full" or full_refresh
    # A full walk records the ids it lists only where earlier rows exist that it might not list.
    stage = (
        (store.live_count(connection_id) > 0) if fresh_full else bool((state or {}).get("ledger_stage", True))
    )
    open_since = timestamp(_text(store.open_since(connection_id)))
    final: dict[str, Any] = dict(state or {})
    walk_kind: list[str] = []

    def emit(page: SyncPage) -> None:
        nonlocal final
        if not walk_kind:
            walk_kind.append(page.walk_id.split("-")[0])
            result.walks.append(walk_kind[0])
        page_state = {**page.state, "ledger_stage": stage} if page.full and not page.last else page.state
        rows = [_row(hook, doc, connection_id) for doc in page.documents]
        assume_new = page.full and not stage
        if form_fields and hook.supports_form_data:
            # Read before the page is written, and written with it: a sync killed in between
            # commits neither, so the resumed sync reads this page, and its fields, again.
            moved = store.moved_ids(connection_id, rows, assume_new=assume_new)
            result.calls += _form_fields(hook, page, rows, moved)
        counts = store.write_page(
            connection_id,
            hook.vendor,
            rows,
            page_state,
            seen_walk=page.walk_id if page.full and stage else None,
            documents_total=page.vendor_total,
            assume_new=assume_new,
        )
        result.pages += 1
        result.read += len(page.documents)
        result.new.extend(counts.new[: max(0, ID_SAMPLE - len(result.new))])
        result.changed.extend(counts.changed[: max(0, ID_SAMPLE - len(result.changed))])
        result.new_count += len(counts.new)
        result.changed_count += len(counts.changed)
        if result.synced_before:  # a first sync's whole history would be "new failures"
            moved = set(counts.new) | set(counts.changed)
            result.failed += [
                d.document_id for d in page.documents if d.document_id in moved and d.status.is_failure
            ]
        if page.vendor_total is not None:
            result.vendor_total = page.vendor_total
        if page.last and page.full:
            result.deleted.extend(store.finish_full_walk(connection_id, page.walk_id if stage else None))
        final = page_state
        progress.report(result, page.total, page.last)
        if after_page is not None:
            after_page(result)

    ctx = SyncContext(
        state, emit, open_since=open_since, full_refresh=full_refresh, margin=margin, clock=clock
    )
    walk_calls = hook.sync_account(ctx)  # before adding: emit() adds the form field reads meanwhile
    result.calls += walk_calls
    return final


def _text(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _row(hook: Any, doc: Any, connection_id: str) -> DocumentRow:
    values = rowmod.document_values(
        doc, connection_id, hook.document_expires_at(doc), hook.idempotency_key_of(doc)
    )
    signers = rowmod.signer_rows(doc, connection_id)
    return DocumentRow(values, signers, rowmod.row_hash(values, signers))


def _form_fields(hook: Any, page: SyncPage, rows: list[DocumentRow], moved: set[str]) -> int:
    """Read the form field values of the page's signed documents about to be written (new or
    changed) into their rows' ``fields``; returns the vendor calls made."""
    calls = 0
    by_id = {row.values["document_id"]: row for row in rows}
    for doc in page.documents:
        if doc.document_id not in moved or doc.status.value not in ("SIGNED", "COMPLETED"):
            continue
        fields = hook.get_form_data(doc.document_id, document=doc)
        calls += 1
        by_id[doc.document_id].fields = rowmod.field_rows(doc.document_id, hook.conn_id, fields)
    return calls
