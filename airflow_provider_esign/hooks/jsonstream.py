"""Parse a JSON body while it downloads, keeping only the items of its big arrays a caller asks for.

A list answer that holds a whole vendor account (WeSignature's sent-documents list: no pagination,
~0.7 kB per document) would cost memory proportional to the account if it were read and parsed
whole, and one ``json.loads`` of it holds the GIL for half a second. Here the body is fed chunk by
chunk to ijson (its C backend where installed): everything outside the *streamed arrays* is built as
usual (the status fields, an error message), while each item of a streamed array is built on its own,
offered to ``keep`` as soon as it is complete and dropped unless ``keep`` returns something. Memory
then grows with what is kept, not with the body, and each chunk is a short step (no long stall of an
event loop, no long GIL hold).

The parsed body is the whole JSON value with each streamed array replaced by a :class:`KeptList` of
what ``keep`` returned, so the usual response checks (error status fields, "has a list at all") work
on it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Bytes read per chunk: a ~1 ms parsing step with ijson's C backend.
CHUNK_BYTES = 32 * 1024


class NotJsonError(ValueError):
    """The body is not (complete) JSON."""


class KeptList(list):  # type: ignore[type-arg]
    """A streamed array of the body: only what ``keep`` returned for its items, in their order."""


@dataclass(frozen=True)
class JsonStream:
    """How to parse one response body while it streams in.

    :param arrays: ijson prefixes (dotted paths, e.g. ``"message.data"``) of the arrays whose items
        are streamed. They must not nest in one another.
    :param keep: Called with each item of a streamed array as soon as it is complete; what it returns
        is kept in the array's :class:`KeptList`, None drops the item.
    """

    arrays: tuple[str, ...]
    keep: Callable[[Any], Any]

    def parser(self) -> JsonStreamParser:
        """A fresh parser (one per response: a retried request starts over)."""
        return JsonStreamParser(self)


class _Builder:
    """Builds a JSON value from ijson ``parse`` events (the part of the body outside streamed arrays)."""

    def __init__(self) -> None:
        self.root: Any = None
        self._stack: list[Any] = []
        self._key: Any = None

    def _attach(self, value: Any) -> None:
        if not self._stack:
            self.root = value
        elif isinstance(self._stack[-1], list):
            self._stack[-1].append(value)
        else:
            self._stack[-1][self._key] = value

    def event(self, event: str, value: Any) -> Any:
        """Apply one event; returns the container it opened, if any."""
        if event == "map_key":
            self._key = value
        elif event in ("start_map", "start_array"):
            container: Any = {} if event == "start_map" else []
            self._attach(container)
            self._stack.append(container)
            return container
        elif event in ("end_map", "end_array"):
            self._stack.pop()
        else:
            self._attach(value)
        return None

    def open_kept(self) -> KeptList:
        """Open a streamed array: a :class:`KeptList` in place of the array."""
        kept = KeptList()
        self._attach(kept)
        self._stack.append(kept)
        return kept


class JsonStreamParser:
    """Push parser of one body: :meth:`feed` each chunk, then :meth:`close` for the parsed value.

    Raises :class:`NotJsonError` when the body is not JSON.
    """

    def __init__(self, spec: JsonStream) -> None:
        import ijson

        backend = ijson.get_backend(ijson.backend)
        self._keep = spec.keep
        self._arrays = frozenset(spec.arrays)
        self._events = ijson.sendable_list()
        # float, not Decimal, for JSON numbers with a fraction: what json.loads returns.
        self._parse = backend.parse_coro(self._events, use_float=True)
        self._items_basecoro = backend.items_basecoro
        self._json_error = ijson.JSONError
        self._summary = _Builder()
        self._item_prefix = ""  # of the streamed array open now ("" when none is)
        self._item_dot = ""
        self._built: Any = None  # the open array's item builder and its output
        self._done: Any = None
        self._kept: KeptList | None = None
        #: The most bytes handed to one :meth:`feed` call (what the parse buffers at a time).
        self.largest_chunk = 0

    def feed(self, chunk: bytes) -> None:
        """Parse the next chunk of the body (an empty one is no news: :meth:`close` ends the body)."""
        if not chunk:
            return
        self.largest_chunk = max(self.largest_chunk, len(chunk))
        try:
            self._parse.send(chunk)
        except (self._json_error, ValueError):
            raise NotJsonError("the body is not complete JSON") from None
        self._route()

    def close(self) -> Any:
        """Finish the body (raises :class:`NotJsonError` when it is incomplete); the parsed value."""
        try:
            self._parse.close()
        except (self._json_error, ValueError):
            raise NotJsonError("the body is not complete JSON") from None
        self._route()
        return self._summary.root

    def _route(self) -> None:
        events, summary = self._events, self._summary
        item, item_dot = self._item_prefix, self._item_dot
        send = self._built.send if item else None
        for parsed in events:  # the hot loop: one pass per event, the item's events to its builder
            prefix = parsed[0]
            if item and (prefix.startswith(item_dot) or prefix == item):
                send(parsed)  # type: ignore[misc]  # ijson's item builder (C where available)
                continue
            event = parsed[1]
            if event == "start_array" and not item and prefix in self._arrays:
                self._open(prefix)
                item, item_dot, send = self._item_prefix, self._item_dot, self._built.send
            elif event == "end_array" and item and prefix == item[: -len(".item")]:
                self._take_items()
                item = item_dot = self._item_prefix = self._item_dot = ""
                summary.event(event, parsed[2])
            else:
                summary.event(event, parsed[2])
        del events[:]
        self._take_items()

    def _open(self, prefix: str) -> None:
        import ijson

        self._kept = self._summary.open_kept()
        self._item_prefix = f"{prefix}.item" if prefix else "item"
        self._item_dot = self._item_prefix + "."
        self._done = ijson.sendable_list()
        self._built = self._items_basecoro(self._done, self._item_prefix)

    def _take_items(self) -> None:
        """Offer the items completed so far to ``keep``."""
        done, keep, kept = self._done, self._keep, self._kept
        if not done or kept is None:
            return
        for item in done:
            value = keep(item)
            if value is not None:
                kept.append(value)
        del done[:]
