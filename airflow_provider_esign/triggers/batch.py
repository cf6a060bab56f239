"""Deferrable wait for a whole batch of documents with a few list calls per poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_esign.triggers.status import MAX_CONSECUTIVE_ERRORS


class BatchDocumentStatusTrigger(BaseTrigger):
    """Poll the vendor's list endpoint until every document meets the condition (or fails).

    One poll costs ``ceil(account documents / page size)`` list calls at most, whatever the batch
    size, instead of one call per document. Yields one event: ``{"status": "success" | "failed" |
    "timeout" | "error", "result": BatchProgress.result(), "message": ...}``.

    :param conn_id: The e-signature connection.
    :param document_ids: The batch.
    :param target_status: Normalized status each document must reach.
    :param fail_fast: Stop at the first declined/voided document.
    :param poll_interval: Seconds between polls.
    :param end_time: Wall-clock deadline (epoch seconds).
    :param list_filters: Vendor list filters (e.g. Legalesign ``group``), JSON-native.
    :param hook_params: JSON-native hook arguments.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        document_ids: list[str],
        target_status: str = "COMPLETED",
        fail_fast: bool = True,
        poll_interval: float = 60.0,
        end_time: float,
        list_filters: dict[str, Any] | None = None,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.document_ids = list(document_ids)
        self.target_status = target_status
        self.fail_fast = fail_fast
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.list_filters = list_filters or {}
        self.hook_params = hook_params or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "document_ids": self.document_ids,
                "target_status": self.target_status,
                "fail_fast": self.fail_fast,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "list_filters": self.list_filters,
                "hook_params": self.hook_params,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_esign.conditions import BatchProgress, WaitCondition
        from airflow_provider_esign.exceptions import ESignPermanentError
        from airflow_provider_esign.hooks import aget_hook

        errors = 0
        try:
            condition = WaitCondition.of(self.target_status)
            hook = await aget_hook(self.conn_id, **self.hook_params)
            while True:
                try:
                    found = await hook.aget_documents(self.document_ids, **self.list_filters)
                    errors = 0
                except ESignPermanentError:
                    raise
                except Exception as exc:
                    errors += 1
                    if errors >= MAX_CONSECUTIVE_ERRORS:
                        raise
                    self.log.warning("Polling the batch failed (%s); will poll again", exc)
                else:
                    progress = BatchProgress.evaluate(condition, self.document_ids, found)
                    self.log.info("Batch of %d: %s", len(self.document_ids), progress.summary())
                    if progress.finished(self.fail_fast):
                        status = "failed" if progress.failed and self.fail_fast else "success"
                        yield TriggerEvent(
                            {"status": status, "message": progress.summary(), "result": progress.result()}
                        )
                        return
                if time.time() >= self.end_time:
                    yield TriggerEvent({"status": "timeout", "message": "the batch did not finish in time"})
                    return
                await asyncio.sleep(max(0.0, min(self.poll_interval, self.end_time - time.time())))
        except Exception as exc:
            yield TriggerEvent(
                {"status": "error", "message": str(exc), "permanent": isinstance(exc, ESignPermanentError)}
            )
