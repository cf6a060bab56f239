"""One batch read per poll for every document wait on a connection in a triggerer.

A DAG of 1,000 mapped deferrable ``DocumentStatusSensor``s puts 1,000 ``DocumentStatusTrigger``s in
one triggerer. Polling each document on its own costs 1,000 calls per interval; here the triggers
of one connection (and hook arguments) on one event loop hand their ids to a shared
:class:`ReadCoordinator`, which gathers the ids asked for within :data:`GATHER_SECONDS` and answers
all of them from one :meth:`~airflow_provider_esign.hooks.base.ESignHook.aget_documents` (itself
O(pending)). The triggers poll on ticks aligned to the wall clock, so the triggers with the same
interval wake together. Each trigger still checks its own condition and fires its own event; a
cancelled trigger only drops its own wait.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook
    from airflow_provider_esign.models import DocumentInfo

#: How long the first asking trigger waits for the others woken by the same tick.
GATHER_SECONDS = 0.2

_COORDINATORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ReadCoordinator]] = (
    weakref.WeakKeyDictionary()
)


class ReadCoordinator:
    """Gathers document reads on one connection and answers them from one batch read.

    :param hook: The hook the batch reads use (the first asking trigger's).
    :param gather_seconds: How long to collect ids before reading.
    """

    def __init__(self, hook: ESignHook, gather_seconds: float = GATHER_SECONDS) -> None:
        self.hook = hook
        self.gather_seconds = gather_seconds
        self.batch_reads = 0
        self._waiting: dict[str, list[asyncio.Future[DocumentInfo]]] = {}
        self._flush: asyncio.Task[None] | None = None

    async def read(self, document_id: str) -> DocumentInfo:
        """The document's current state, read together with every other id asked for meanwhile."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[DocumentInfo] = loop.create_future()
        self._waiting.setdefault(document_id, []).append(future)
        if self._flush is None:
            self._flush = loop.create_task(self._read_gathered())
        return await future  # a cancelled trigger cancels only its own future

    async def _read_gathered(self) -> None:
        await asyncio.sleep(self.gather_seconds)
        waiting, self._waiting, self._flush = self._waiting, {}, None
        live = {i: [f for f in futures if not f.done()] for i, futures in waiting.items()}
        live = {i: futures for i, futures in live.items() if futures}
        if not live:
            return
        self.batch_reads += 1
        try:
            found = await self.hook.aget_documents(list(live))
        except Exception as exc:  # every waiting trigger counts it as its own failed poll
            for futures in live.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for document_id, futures in live.items():
            for future in futures:
                if future.done():
                    continue
                if document_id in found:
                    future.set_result(found[document_id])
                else:  # never expected: the batch read answers every id; fall back to one read
                    future.set_exception(LookupError(f"document {document_id} missing from the batch read"))


def coordinator(hook: ESignHook, hook_params: dict[str, Any]) -> ReadCoordinator:
    """The running loop's coordinator for ``hook``'s connection and hook arguments."""
    per_loop = _COORDINATORS.setdefault(asyncio.get_running_loop(), {})
    key = f"{hook.conn_id}|{json.dumps(hook_params, sort_keys=True, default=str)}"
    if key not in per_loop:
        per_loop[key] = ReadCoordinator(hook)
    return per_loop[key]
