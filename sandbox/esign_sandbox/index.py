"""
Per-vendor list index: list pages in O(page) at any account size.

A document whose list-visible state can still change with time (not yet final, final PDF still being
produced, auto-archive still pending) is *live*: it is refreshed on every list call, which costs
O(live documents). Once it can no longer change on its own it is *settled*: it moves into sorted lists, one
per filter key (e.g. Legalesign ``archived=false`` and ``archived=false&status=30``), so a page is a slice of
a sorted list merged with the few live documents. Anything that changes a settled document (a void, an
archive, a delete) must call :meth:`ListIndex.touch` to make it live again.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from esign_sandbox.models import Document

_Key = tuple[float, int]


@dataclass(frozen=True)
class IndexSpec:
    """
    What a vendor's list filters need to know about a document.

    :param keys: ``(doc, now) -> filter keys`` the document belongs to (empty: in no list, e.g. deleted).
    :param settled: ``(doc, now) -> bool``: whether keys and modification time can no longer change on their
        own (only through an action that calls :meth:`ListIndex.touch`).
    :param modified: ``(doc, now) -> float``: the modification time ``modified_gt`` filters on.
    """

    keys: Callable[[Document, float], Iterable[Hashable]]
    settled: Callable[[Document, float], bool]
    modified: Callable[[Document, float], float]


def _sort_key(doc: Document) -> _Key:
    return (doc.created_at, doc.seq)


class ListIndex:
    """
    Sorted lists per filter key of one vendor's settled documents, plus the set of live ones.

    :param spec: the vendor's filter keys.
    """

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec
        self.live: dict[int, Document] = {}
        self.lists: dict[Hashable, list[_Key]] = {}
        self.by_modified: list[tuple[float, float, int]] = []
        self.settled: dict[int, tuple[Document, frozenset[Hashable], float]] = {}

    # -- maintenance -------------------------------------------------------------------------------------
    def add(self, doc: Document) -> None:
        """Register a new (live) document."""
        self.live[doc.seq] = doc

    def touch(self, doc: Document) -> None:
        """A settled document was changed by an action: make it live again."""
        entry = self.settled.pop(doc.seq, None)
        if entry is not None:
            key = _sort_key(doc)
            for name in entry[1]:
                items = self.lists[name]
                del items[bisect.bisect_left(items, key)]
            mod = (entry[2], doc.created_at, doc.seq)
            del self.by_modified[bisect.bisect_left(self.by_modified, mod)]
        doc.cache.clear()
        self.live[doc.seq] = doc

    def encoded(self, doc: Document, key: Hashable | None, build: Callable[[], Any]) -> bytes:
        """
        ``build()`` as compact JSON, cached on a settled document (whose list item can no longer change).

        :param doc: the document.
        :param key: what is cached (e.g. the item shape and options); ``None`` never caches.
        :param build: produces the JSON-serialisable item.
        """
        if key is None:
            return json.dumps(build(), separators=(",", ":"), ensure_ascii=False).encode()
        cached = doc.cache.get(key)
        if cached is not None:
            return cached
        encoded = json.dumps(build(), separators=(",", ":"), ensure_ascii=False).encode()
        if doc.seq in self.settled:
            doc.cache[key] = encoded
        return encoded

    def _settle(self, doc: Document, now: float) -> None:
        doc.cache.clear()
        keys = frozenset(self.spec.keys(doc, now))
        modified = self.spec.modified(doc, now)
        self.settled[doc.seq] = (doc, keys, modified)
        key = _sort_key(doc)
        for name in keys:
            bisect.insort(self.lists.setdefault(name, []), key)
        bisect.insort(self.by_modified, (modified, doc.created_at, doc.seq))

    def bulk_settle(self, docs: Sequence[Document], now: float) -> None:
        """Add many already-final documents at once (sorting once instead of inserting one by one)."""
        touched: set[Hashable] = set()
        for doc in docs:
            keys = frozenset(self.spec.keys(doc, now))
            modified = self.spec.modified(doc, now)
            self.settled[doc.seq] = (doc, keys, modified)
            key = _sort_key(doc)
            for name in keys:
                self.lists.setdefault(name, []).append(key)
                touched.add(name)
            self.by_modified.append((modified, doc.created_at, doc.seq))
        for name in touched:
            self.lists[name].sort()
        self.by_modified.sort()

    def refresh(self, now: float) -> list[Document]:
        """
        Refresh every live document and settle those that can no longer change.

        :return: the documents still live.
        """
        still: list[Document] = []
        for seq, doc in list(self.live.items()):
            doc.refresh(now)
            if self.spec.settled(doc, now):
                del self.live[seq]
                self._settle(doc, now)
            else:
                still.append(doc)
        return still

    def _doc(self, seq: int) -> Document:
        entry = self.settled.get(seq)
        return entry[0] if entry is not None else self.live[seq]

    # -- queries -----------------------------------------------------------------------------------------
    def query(
        self,
        key: Hashable,
        now: float,
        *,
        order: str = "oldest_first",
        offset: int = 0,
        limit: int | None = None,
        created_gt: float | None = None,
        modified_gt: float | None = None,
        predicate: Callable[[Document], bool] | None = None,
    ) -> tuple[int, list[Document]]:
        """
        One page of the documents in filter ``key``.

        :param key: the filter key (see the vendor's :class:`IndexSpec`).
        :param now: sandbox time.
        :param order: ``oldest_first`` or ``newest_first`` (by creation time).
        :param offset: documents to skip.
        :param limit: page size; ``None`` for all.
        :param created_gt: only documents created after this time.
        :param modified_gt: only documents modified after this time (costs O(documents modified since)).
        :param predicate: any further filter; costs O(documents in ``key``).
        :return: ``(total matching, page)``.
        """
        live = [d for d in self.refresh(now) if key in set(self.spec.keys(d, now))]
        if created_gt is not None:
            live = [d for d in live if d.created_at > created_gt]
        if modified_gt is not None or predicate is not None:
            return self._filtered(key, now, live, order, offset, limit, created_gt, modified_gt, predicate)
        settled = self.lists.get(key, [])
        low = 0 if created_gt is None else bisect.bisect_right(settled, (created_gt, 1 << 62))
        extra = sorted(_sort_key(d) for d in live)
        total = len(settled) - low + len(extra)
        stop = total if limit is None else min(total, offset + limit)
        start = min(offset, stop)
        if order == "newest_first":
            keys = _merged_slice(settled, low, extra, total - stop, total - start)[::-1]
        else:
            keys = _merged_slice(settled, low, extra, start, stop)
        return total, [self._doc(seq) for _, seq in keys]

    def _filtered(
        self,
        key: Hashable,
        now: float,
        live: list[Document],
        order: str,
        offset: int,
        limit: int | None,
        created_gt: float | None,
        modified_gt: float | None,
        predicate: Callable[[Document], bool] | None,
    ) -> tuple[int, list[Document]]:
        if modified_gt is not None:
            start = bisect.bisect_right(self.by_modified, (modified_gt, float("inf"), 1 << 62))
            seqs = [seq for _, _, seq in self.by_modified[start:] if key in self.settled[seq][1]]
            docs = [self.settled[seq][0] for seq in seqs]
            docs += [d for d in live if self.spec.modified(d, now) > modified_gt]
        else:
            docs = [self._doc(seq) for _, seq in self.lists.get(key, [])] + live
        if created_gt is not None:
            docs = [d for d in docs if d.created_at > created_gt]
        if predicate is not None:
            docs = [d for d in docs if predicate(d)]
        docs.sort(key=_sort_key, reverse=order == "newest_first")
        end = None if limit is None else offset + limit
        return len(docs), docs[offset:end]


def _merged_slice(settled: list[_Key], low: int, extra: list[_Key], start: int, stop: int) -> list[_Key]:
    """
    Ranks ``start`` to ``stop`` of the merge of ``settled[low:]`` and the short sorted list ``extra``.

    Finding where the slice starts costs O(len(extra)), the slice itself O(stop - start).
    """
    size = len(settled) - low
    if stop <= start:
        return []
    split_extra = 0
    for j in range(len(extra) + 1):
        i = start - j
        if i < 0 or i > size:
            continue
        if j > 0 and i < size and extra[j - 1] > settled[low + i]:
            continue
        if i > 0 and j < len(extra) and settled[low + i - 1] > extra[j]:
            continue
        split_extra = j
        break
    i, j = low + start - split_extra, split_extra
    result: list[_Key] = []
    end = len(settled)
    while len(result) < stop - start:
        if j < len(extra) and (i >= end or extra[j] < settled[i]):
            result.append(extra[j])
            j += 1
        else:
            result.append(settled[i])
            i += 1
    return result


def describe(index: ListIndex) -> dict[str, Any]:
    """:return: sizes for the control API's stats."""
    return {"live": len(index.live), "settled": len(index.settled), "lists": len(index.lists)}
