"""Reading a batch of documents at a cost that grows with the batch, not with the account.

A batch read is a flow built from the vendor's flows (one list page, one document read), so the
same read serves the blocking and the async hook. It picks the cheapest correct method for the ids
still pending:

- one pending id: one document read;
- otherwise the first list page, which tells the list's total and its order (detected from the
  documents' creation times: no vendor documents its list order), then pages from the *newest end*
  (offset pagination lets an oldest-first list be read backwards), stopping as soon as every id
  is found, a page holds none of them (a batch sits together near the newest end), or the walk would
  cost more list calls than reading the remaining ids one by one;
- every id the list did not return (deleted, archived, voided out of the default list, or just too
  old to reach cheaply) gets one document read in the same poll. A 404 there means the document is
  gone: it is reported VOIDED, a failure, never left pending.

A later poll of a batch may instead ask only for the documents changed since the last one, where the
vendor has that filter (Legalesign ``modified_gt``): about one call whatever the batch's size. Ids
the change list does not show are left out of the answer: the caller keeps their last answer
(:class:`~airflow_provider_esign.conditions.BatchTracker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_esign.exceptions import ESignNotFoundError
from airflow_provider_esign.hooks.api import Flow, Page
from airflow_provider_esign.models import DocumentInfo, DocumentStatus

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.vendor import VendorInterface

NEWEST_FIRST = "newest_first"
OLDEST_FIRST = "oldest_first"
UNKNOWN_ORDER = "unknown"
#: ``raw_status`` of a tracked document the vendor answers 404 for.
GONE = "not found (deleted at the vendor)"
#: How many items from each end of a page :func:`detect_order` looks at for a creation time.
_ORDER_PROBE = 20


@dataclass
class BatchRead:
    """What one batch read found and what it cost.

    :param found: Document id → latest info (VOIDED for a document the vendor no longer has).
    :param list_calls: List pages read.
    :param read_calls: Single-document reads.
    :param order: The list order detected from creation times.
    :param changes_only: Whether the list asked only for documents changed since the last poll.
    """

    found: dict[str, DocumentInfo] = field(default_factory=dict)
    list_calls: int = 0
    read_calls: int = 0
    order: str = UNKNOWN_ORDER
    changes_only: bool = False

    @property
    def calls(self) -> int:
        return self.list_calls + self.read_calls

    @property
    def method(self) -> str:
        if self.changes_only:
            return "changes since the last poll" + (" + per-document reads" if self.read_calls else "")
        if not self.list_calls:
            return "per-document reads"
        if not self.read_calls:
            return f"list walk ({self.order})"
        return f"list walk ({self.order}) + per-document reads"

    def describe(self) -> str:
        return (
            f"{self.method}: {self.calls} call(s) ({self.list_calls} list page(s), "
            f"{self.read_calls} document read(s))"
        )


def timestamp(value: Any) -> float | None:
    """Epoch seconds of a vendor time (ISO 8601, naive read as UTC, or epoch number), else None."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return _parse_slowly(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _parse_slowly(value: str) -> float | None:
    """Forms Python 3.10's ``fromisoformat`` rejects (e.g. ``+0000``): the slower full parser."""
    import pendulum

    try:
        parsed = pendulum.parse(value.strip(), tz="UTC")
        return float(parsed.timestamp())  # type: ignore[union-attr]
    except Exception:
        return None


def detect_order(items: list[DocumentInfo]) -> str:
    """The list order, from the first and last creation times of a page (no vendor documents it).

    Only the ends are read: a WeSignature "page" is the whole account, parsed on the event loop.
    """
    # At most a few items from each end: a vendor whose items carry no creation time (WeSignature)
    # would otherwise make this a scan of the whole account.
    ends = min(len(items), _ORDER_PROBE)
    first = next((t for t in (timestamp(d.created_at) for d in items[:ends]) if t is not None), None)
    last = next(
        (t for t in (timestamp(d.created_at) for d in reversed(items[-ends:])) if t is not None), None
    )
    if first is None or last is None or first == last:
        return UNKNOWN_ORDER
    return NEWEST_FIRST if first > last else OLDEST_FIRST


def oldest(items: list[DocumentInfo]) -> float:
    """The earliest creation time on a page (infinity when none is readable)."""
    times = [t for t in (timestamp(d.created_at) for d in items) if t is not None]
    return min(times, default=float("inf"))


def gone(hook: VendorInterface, document_id: str) -> DocumentInfo:
    """A tracked document the vendor answers 404 for: a failure, so the wait ends."""
    return DocumentInfo(document_id, hook.vendor, None, DocumentStatus.VOIDED, GONE)


def read_flow(
    hook: VendorInterface,
    document_ids: list[str],
    filters: dict[str, Any],
    changed_since: float | None = None,
) -> Flow[BatchRead]:
    """The batch read of ``document_ids`` (see the module docstring), run by the hook's pipeline.

    :param changed_since: Vendor time of the last poll's newest change (less a margin): list only the
        documents changed after it, where the vendor can.
    """
    result = BatchRead()
    missing = dict.fromkeys(document_ids)
    changes = hook.changed_since_filters(changed_since) if changed_since is not None else None
    if changes and len(missing) > 1:
        finished = yield from _changes(hook, missing, {**hook.batch_list_filters(filters), **changes}, result)
        if finished:
            return result  # every id not listed is unchanged since the last poll
    elif len(missing) > 1:
        yield from _walk(hook, missing, hook.batch_list_filters(filters), result)
    for document_id in list(missing):
        result.read_calls += 1
        try:
            result.found[document_id] = yield from hook.get_document_flow(document_id)
        except ESignNotFoundError:
            result.found[document_id] = gone(hook, document_id)
    return result


def _take(page: Page, missing: dict[str, None], result: BatchRead) -> int:
    """Record the page's tracked documents; how many it held."""
    hits = 0
    for doc in page.items:
        if doc.document_id in missing:
            del missing[doc.document_id]
            result.found[doc.document_id] = doc
            hits += 1
    return hits


def _walk(
    hook: VendorInterface, missing: dict[str, None], filters: dict[str, Any], result: BatchRead
) -> Flow[BatchRead]:
    budget = len(missing)  # list calls never exceed reading the pending ids one by one
    first = yield from hook.batch_page_flow(None, filters, missing)
    result.list_calls += 1
    first_hits = _take(first, missing, result)
    result.order = detect_order(first.items)
    if not missing or first.next_cursor is None or (result.order == NEWEST_FIRST and not first_hits):
        return result  # done, or the batch is not at the newest end: the rest is read one by one
    offsets = newest_end_offsets(first, result.order) if hook.list_at_offset else None
    cursor = first.next_cursor
    while missing and result.list_calls < budget:
        if offsets is not None:
            if not offsets:
                break
            page = yield from hook.batch_page_flow(offsets.pop(0), filters, missing)
        else:
            if cursor is None:
                break
            page = yield from hook.batch_page_flow(cursor, filters, missing)
            cursor = page.next_cursor
        result.list_calls += 1
        if not _take(page, missing, result):
            break  # past the batch: what is still missing is read one by one
    return result


def _changes(
    hook: VendorInterface, missing: dict[str, None], filters: dict[str, Any], result: BatchRead
) -> Flow[bool]:
    """List the documents changed since the filter's time; False if that list grew longer than
    reading the pending ids one by one (then the ids it did not reach are read that way)."""
    result.changes_only = True
    cursor: Any = None
    while True:
        page = yield from hook.batch_page_flow(cursor, filters, missing)
        result.list_calls += 1
        _take(page, missing, result)
        cursor = page.next_cursor
        if cursor is None or not missing:
            return True
        if result.list_calls >= len(missing):
            return False


def newest_end_offsets(first: Page, order: str) -> list[int] | None:
    """Offsets of the pages to read after the first, newest first (None: follow the cursor)."""
    if order != OLDEST_FIRST or first.total is None or not first.items:
        return None
    size = len(first.items)
    offsets, offset = [], first.total - size
    while offset > 0:
        offsets.append(offset)
        offset -= size
    if offsets and offsets[-1] < size:  # the oldest stretch overlaps page one: read what it missed
        offsets[-1] = size
    return offsets


class NewestEndWalk:
    """The pages to read after a list's ``first`` page: :meth:`next_cursor` says which, page by page.

    With ``since`` (epoch seconds) the walk goes from the list's newest end (an oldest-first list is
    read backwards by offset, where ``at_offset``) and ends at the first page reaching documents
    created before ``since``; without it, it follows the list to its end.
    """

    def __init__(self, first: Page, since: float | None, at_offset: bool) -> None:
        self.first = first
        self.since = since
        self.order = detect_order(first.items)
        self.offsets = newest_end_offsets(first, self.order) if since is not None and at_offset else None
        self.cursor: Any = first.next_cursor
        self.done = first.next_cursor is None or (
            since is not None and self.order == NEWEST_FIRST and oldest(first.items) < since
        )

    def next_cursor(self, page: Page) -> Any:
        """The cursor (or offset) of the next page to read, given the ``page`` just read (the first
        page, or one this walk named), or None when the walk is over."""
        if page is not self.first:
            if self.since is not None and self.order != UNKNOWN_ORDER and oldest(page.items) < self.since:
                self.done = True  # the rest of the walk is older than the bound
            self.cursor = page.next_cursor
        if self.done:
            return None
        if self.offsets is not None:
            return self.offsets.pop(0) if self.offsets else None
        return self.cursor


def find_first_flow(
    hook: VendorInterface,
    filters: dict[str, Any],
    matches: Callable[[DocumentInfo], bool],
    since: float | None = None,
) -> Flow[DocumentInfo | None]:
    """Walk the document list page by page; the first document ``matches`` accepts, or None.

    :param since: Epoch seconds before which no match can have been created (a send's first attempt).
        With it the walk starts at the list's newest end (:class:`NewestEndWalk`) and stops at the
        first page reaching older documents: a few calls at any account size.
    """
    page = yield from hook.list_page_flow(None, filters)
    walk = NewestEndWalk(page, since, hook.list_at_offset)
    while True:
        found = next((doc for doc in page.items if matches(doc)), None)
        if found is not None:
            return found
        cursor = walk.next_cursor(page)
        if cursor is None:
            return None
        page = yield from hook.list_page_flow(cursor, filters)
