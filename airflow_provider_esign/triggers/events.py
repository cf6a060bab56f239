"""Event-driven scheduling: an :class:`AssetWatcher` trigger that announces newly completed documents.

``DocumentCompletedEventTrigger`` polls a vendor's document list and emits one event per document that
*newly* reached COMPLETED. The "new" part is the whole point (see "Avoid infinite scheduling" in
Airflow's event-scheduling docs): a condition that stays true, such as "document X is completed", would
start the downstream DAG on every poll. So the trigger keeps a cursor of what it has already announced.

The cursor is :class:`~airflow_provider_esign.triggers.completions.CompletionCursor`.

Persistence: on Airflow 3.3+ the triggerer injects ``asset_state_store`` into watcher triggers; the
cursor is stored there (one JSON value per connection + filters), written *before* the events are
yielded. On Airflow 3.1/3.2 there is no store: the cursor lives in memory only, and every (re)start of
the trigger takes a fresh baseline (documents completed while no triggerer ran it are not announced;
nothing is announced twice).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.triggers import BaseEventTrigger
from airflow.triggers.base import TriggerEvent

from airflow_provider_esign.models import DocumentInfo, DocumentStatus
from airflow_provider_esign.triggers.completions import (
    CompletionCursor,
    Listing,
    completion_payload,
    completion_time,
)

__all__ = [
    "CompletionCursor",
    "DocumentCompletedEventTrigger",
    "completion_payload",
    "completion_time",
]

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook
    from airflow_provider_esign.hooks.retry import RetryPolicy

#: Longest wait between polls after repeated failures, in seconds.
MAX_ERROR_BACKOFF = 3600.0
#: Where the vendor has no time filter (eSignBase), a new watcher assumes documents created longer than
#: this before it started are final (unless ``max_document_age`` says otherwise): 90 days, in seconds.
BASELINE_DOCUMENT_AGE = 90 * 86400.0


def _last_segment(value: Any) -> str:
    return str(value).strip().rstrip("/").rsplit("/", 1)[-1]


def vendor_rules(hook: ESignHook) -> type[ESignHook]:
    """The hook class declared for the hook's vendor: the watcher's filters and confirmation rules."""
    from airflow_provider_esign.hooks import hook_class_for

    return hook_class_for(hook.vendor)


class DocumentCompletedEventTrigger(BaseEventTrigger):
    """Emit one event per newly completed document of a connection; for ``AssetWatcher``.

    .. code-block:: python

        signed_contracts = completed_documents_asset(
            watchers=[
                AssetWatcher(
                    name="esignbase_completed",
                    trigger=DocumentCompletedEventTrigger(conn_id="esignbase_default"),
                )
            ]
        )

    Each event's payload is :func:`completion_payload` (``document_id``, ``vendor``, ``conn_id``, ``name``,
    ``completed_at``, ``signers``, ``metadata``, ``source="watcher"``); Airflow records it as the asset
    event's ``extra["payload"]``. The first poll takes a baseline: documents completed before it are not
    announced. It reads no document list: it asks the vendor for its time now (the ``Date`` header of
    one cheap call, so no clocks are compared) and starts from there, so a new watcher costs one call
    whatever the account's size (a vendor without such a call, WeSignature, lists once). See the
    module docstring for the cursor and its persistence.

    :param conn_id: The e-signature connection (any vendor).
    :param poll_interval: Seconds between polls of the vendor's document list.
    :param template_id: Only documents created from this template (eSignBase ``template_id``,
        Legalesign template PDF id or URI).
    :param metadata: Only documents carrying all these references (eSignBase ``user_defined_metadata``,
        Legalesign ``tag``/``tag1``/``tag2``).
    :param group: Legalesign only: list this group instead of the connection's default group.
    :param lookback: Seconds a completion may show up in the list after its completion time and still be
        announced; also how long announced ids are remembered.
    :param max_seen: Most ids the cursor keeps (it raises its floor instead of growing beyond).
    :param hook_params: JSON-native hook arguments.
    :param max_document_age: Seconds from a document's creation to its completion at most (your
        longest signing window). Where the vendor has no server-side time filter (eSignBase), each
        poll after the baseline reads the list from its newest end down to the oldest document
        still open at the last poll (always: older ones are final); with this set, also no further
        than documents created before the floor minus this. None (default): only the first bound,
        and documents created more than :data:`BASELINE_DOCUMENT_AGE` (90 days) before the watcher
        started are taken as final (set this to a longer signing window to reach older ones).
    """

    #: Sleep between polls; replaced in tests (no real waiting).
    _sleep: Callable[[float], Awaitable[Any]] = staticmethod(asyncio.sleep)

    def __init__(
        self,
        *,
        conn_id: str,
        poll_interval: float = 60.0,
        template_id: str | None = None,
        metadata: dict[str, str] | None = None,
        group: str | None = None,
        lookback: float = 86400.0,
        max_seen: int = 5000,
        hook_params: dict[str, Any] | None = None,
        max_document_age: float | None = None,
    ) -> None:
        super().__init__()
        if poll_interval <= 0 or lookback < 0 or max_seen < 1:
            raise ValueError("poll_interval must be > 0, lookback >= 0 and max_seen >= 1")
        self.conn_id = conn_id
        self.poll_interval = float(poll_interval)
        self.template_id = template_id
        # Sorted and stringified: the trigger's identity is a hash of its kwargs, so keep them canonical.
        self.metadata = {str(k): str(v) for k, v in sorted((metadata or {}).items())}
        self.group = group
        self.lookback = float(lookback)
        self.max_seen = int(max_seen)
        self.hook_params = hook_params or {}
        self.max_document_age = None if max_document_age is None else float(max_document_age)

    @property
    def _error_backoff(self) -> RetryPolicy:
        """The hooks' retry policy, as the backoff between failed polls: one poll interval, doubling
        per consecutive failure, up to an hour (or the poll interval, if longer)."""
        from airflow_provider_esign.hooks.retry import RetryPolicy

        return RetryPolicy(
            backoff_base=self.poll_interval, backoff_max=max(MAX_ERROR_BACKOFF, self.poll_interval)
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        # No timestamps or tokens: AssetWatcher triggers are identified by a hash of these kwargs.
        kwargs: dict[str, Any] = {
            "conn_id": self.conn_id,
            "poll_interval": self.poll_interval,
            "template_id": self.template_id,
            "metadata": self.metadata,
            "group": self.group,
            "lookback": self.lookback,
            "max_seen": self.max_seen,
            "hook_params": self.hook_params,
        }
        if self.max_document_age is not None:  # absent when unset: existing watchers keep their identity
            kwargs["max_document_age"] = self.max_document_age
        return f"{type(self).__module__}.{type(self).__qualname__}", kwargs

    # ------------------------------------------------------------------ cursor storage
    @property
    def cursor_key(self) -> str:
        """Key of the cursor in the asset state store: per connection and filters (not poll settings),
        so sibling watchers on one asset do not share a cursor and a changed poll interval keeps it."""
        filters = json.dumps(
            {"template_id": self.template_id, "metadata": self.metadata, "group": self.group},
            sort_keys=True,
        )
        digest = hashlib.sha256(filters.encode()).hexdigest()[:16]
        return f"esign.completed_cursor.{self.conn_id}.{digest}"

    def _stores(self) -> list[Any]:
        """The per-asset accessors of the state store (Airflow 3.3+, watcher triggers only), else []."""
        store = getattr(self, "asset_state_store", None)  # absent before Airflow 3.3
        if store is None:
            return []
        # A trigger shared by watchers on several assets gets an accessor per asset; the mapping's own
        # aget/aset only work with exactly one (AssetStateStoreAccessors._single_accessor), so the cursor is
        # written to every watched asset and read from the first.
        parts = [*getattr(store, "_by_name", {}).values(), *getattr(store, "_by_uri", {}).values()]
        return parts or [store]

    async def load_cursor(self) -> CompletionCursor | None:
        stores = self._stores()
        if not stores:
            return None
        return CompletionCursor.from_json(await stores[0].aget(self.cursor_key))

    async def save_cursor(self, cursor: CompletionCursor) -> None:
        for store in self._stores():
            await store.aset(self.cursor_key, cursor.to_json(self.max_seen))

    # ------------------------------------------------------------------ polling
    def _selected(self, document: DocumentInfo) -> bool:
        """Whether the document passes this watcher's metadata and template filters (any status)."""
        if any(document.metadata.get(k) != v for k, v in self.metadata.items()):
            return False
        if self.template_id is not None:
            raw = document.raw or {}
            templates = (raw.get("template_id"), raw.get("templatepdf"), raw.get("template"))
            # Ids or resource URIs (Legalesign '/api/v1/templatepdf/<id>/'): compare the last segment.
            wanted = _last_segment(self.template_id)
            if not any(t and _last_segment(t) == wanted for t in templates):
                return False
        return True

    def _read_since(self, cursor: CompletionCursor) -> float | None:
        """Creation time below which no listed document can complete any more (None: read it all).

        The horizon (oldest document still open at the last poll) is exact; ``max_document_age`` is
        the user's promise about signing windows. Either bound alone suffices, so the later one wins.
        """
        bounds = [cursor.horizon] if cursor.horizon is not None else []
        if cursor.floor is not None and self.max_document_age is not None:
            bounds.append(cursor.floor - self.max_document_age)
        return max(bounds, default=None)

    async def _completed(self, hook: ESignHook, cursor: CompletionCursor | None) -> Listing:
        filters, complete = vendor_rules(hook).completion_filters(
            self.group, cursor.floor if cursor else None
        )
        listing = hook.alist_documents(**filters)
        # Only an unfiltered listing shows the open documents the horizon is made of, and only offset
        # pagination lets an oldest-first list be read from its newest end.
        unfiltered = complete and not filters
        since = self._read_since(cursor) if cursor is not None and unfiltered else None
        if since is not None and hook.list_at_offset:
            # Documents created before `since` cannot complete after the last poll: not read at all
            # (and the listing is partial, so ids missing from it are not forgotten).
            listing, complete = hook.alist_documents_since(since, **filters), False
        result = Listing(complete=complete)
        async for doc in listing:
            if self._selected(doc):
                result.add(doc)
        if not unfiltered:
            result.horizon_known = False
        return result

    @staticmethod
    def _listed_time(document: DocumentInfo) -> float | None:
        return completion_time(document.completed_at) or completion_time(document.modified_at)

    async def _start_from_now(self, hook: ESignHook) -> CompletionCursor | None:
        """The baseline as of the vendor's time now, without reading any list (None: time unknown).

        Everything completed at or before that time is old. Where the listing has no time filter
        (eSignBase), the horizon starts at that time minus ``max_document_age`` (default
        :data:`BASELINE_DOCUMENT_AGE`): older documents are taken as final, so the next poll reads only
        the newest stretch of the list, and from then on the horizon follows the open documents.
        """
        now = await hook.aserver_time()
        if now is None:
            return None
        age = self.max_document_age if self.max_document_age is not None else BASELINE_DOCUMENT_AGE
        self.log.info(
            "Baseline for %s: starting from the vendor's time now; documents completed before it "
            "will not be announced",
            self.conn_id,
        )
        # An HTTP date has whole seconds: "now" lies in [date, date + 1), so a completion stamped with
        # that same second may be newer than the baseline. Only earlier seconds are certainly old.
        floor = now - 1.0
        return CompletionCursor(floor=floor, horizon=floor - age)

    async def poll(
        self, hook: ESignHook, cursor: CompletionCursor | None
    ) -> tuple[CompletionCursor, list[dict[str, Any]]]:
        """One poll: the next cursor and the payloads of the newly completed documents, oldest first.

        Without a cursor this is the baseline poll: it announces nothing.
        """
        if cursor is None:
            started = await self._start_from_now(hook)
            if started is not None:
                return started, []
        listing = await self._completed(hook, cursor)
        documents = list(listing.completed.values())
        listed = [(d.document_id, self._listed_time(d)) for d in documents]
        if cursor is None:
            baseline = CompletionCursor.baseline(listed, lookback=self.lookback, max_seen=self.max_seen)
            self.log.info(
                "Baseline for %s: %d completed document(s) exist and will not be announced",
                self.conn_id,
                len(documents),
            )
            return baseline.with_listing(listing.horizon, listing.open_ids), []
        handled: list[tuple[str, float | None]] = []
        new: list[tuple[float, DocumentInfo]] = []
        for document, (document_id, listed_time) in zip(documents, listed, strict=True):
            if not cursor.is_candidate(document_id, listed_time):
                continue
            if cursor.is_known_untimed(document_id, listed_time):
                handled.append((document_id, listed_time))
                continue
            confirmed = document
            if vendor_rules(hook).needs_completion_confirmation(document):
                # The listed time may move with later edits (Legalesign's `modified`); the document
                # itself has the stable completion time, which decides whether this is new.
                confirmed = await hook.aget_document(document_id)
                if confirmed.status is not DocumentStatus.COMPLETED:
                    continue
            handled.append((document_id, listed_time))
            completed = completion_time(confirmed.completed_at)
            if cursor.is_new_completion(completed if completed is not None else listed_time):
                new.append((completed or listed_time or 0.0, confirmed))
        next_cursor = cursor.advanced(
            handled, listed, lookback=self.lookback, max_seen=self.max_seen, complete_listing=listing.complete
        ).with_listing(listing.horizon, listing.open_ids)
        untimed = sum(t is None for t in next_cursor.seen.values())
        if untimed > self.max_seen:
            self.log.warning(
                "%s lists %d completed documents without completion times (more than max_seen=%d): the "
                "trigger keeps them in memory, but the stored cursor keeps only the %d still-open ids, so "
                "after a triggerer restart a document created and completed while it was down is not "
                "announced",
                self.conn_id,
                untimed,
                self.max_seen,
                len(next_cursor.open_ids),
            )
        new.sort(key=lambda item: item[0])
        payloads = [completion_payload(doc, conn_id=self.conn_id, source="watcher") for _, doc in new]
        return next_cursor, payloads

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll forever; yield one event per newly completed document.

        Why a long-running generator that yields many events rather than "yield one and return"
        (Airflow 3.3.2 sources):

        * ``TriggerRunner.run_trigger`` (jobs/triggerer_job_runner.py) consumes ``async for event in
          trigger.run()`` and queues *every* yielded event; ``Trigger.submit_event`` (models/trigger.py)
          turns each into one asset event per watched asset (``extra={"from_trigger": True, "payload":
          ...}``). So one event per document is the natural granularity.
        * When ``run()`` returns, ``cleanup_finished_triggers`` drops the instance and the next
          ``load_triggers`` / ``update_triggers`` starts a new one from the same kwargs: in-memory state is
          lost and, if it returned without an event, "Trigger exited without sending an event" is logged.
          On Airflow < 3.3 the in-memory cursor is the only one, so the trigger must keep running.
        * An exception out of ``run()`` also ends the instance and gets it restarted at once, a hot loop
          against the vendor; failures are therefore logged and retried here with backoff.

        The cursor is persisted before its events are yielded: a crash between the two loses those
        announcements rather than repeating them (a yielded event is only queued in memory until the
        triggerer's supervisor writes it to the database).
        """
        from airflow_provider_esign.hooks import aget_hook

        hook: ESignHook | None = None
        cursor: CompletionCursor | None = None
        loaded = False
        errors = 0
        while True:
            try:
                if hook is None:
                    hook = await aget_hook(self.conn_id, **self.hook_params)
                if not loaded:
                    cursor = await self.load_cursor()
                    loaded = True
                    if cursor is not None:
                        self.log.info("Resuming %s from the stored cursor", self.conn_id)
                next_cursor, payloads = await self.poll(hook, cursor)
                if next_cursor != cursor:
                    await self.save_cursor(next_cursor)
                cursor = next_cursor
                errors = 0
            except Exception as exc:  # never BaseException: cancellation must propagate
                errors += 1
                delay = self._error_backoff.ceiling(errors, max_doublings=10)
                self.log.warning(
                    "Polling %s for completed documents failed (%s: %s); retrying in %.0f s",
                    self.conn_id,
                    type(exc).__name__,
                    exc,
                    delay,
                )
                await self._sleep(delay)
                continue
            for payload in payloads:
                self.log.info("Document %s of %s completed", payload["document_id"], self.conn_id)
                yield TriggerEvent(payload)
            await self._sleep(self.poll_interval)
