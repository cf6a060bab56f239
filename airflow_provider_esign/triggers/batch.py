"""Deferrable wait for a whole batch of documents with a few list calls per poll."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_esign.triggers.base import PollingTrigger

if TYPE_CHECKING:
    from airflow_provider_esign.conditions import BatchTracker
    from airflow_provider_esign.hooks.base import ESignHook


class BatchDocumentStatusTrigger(PollingTrigger):
    """Poll the vendor's list endpoint until every document meets the condition (or fails).

    Each poll reads only the documents still pending, at about ``min(pending, list pages they
    span) + 1`` calls whatever the account's size. Yields one event: ``{"status": "success" | "failed" |
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
        super().__init__(
            conn_id=conn_id, poll_interval=poll_interval, end_time=end_time, hook_params=hook_params
        )
        self.document_ids = list(document_ids)
        self.target_status = target_status
        self.fail_fast = fail_fast
        self.list_filters = list_filters or {}
        self._tracker: BatchTracker | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._classpath(), {
            **self._kwargs(),
            "document_ids": self.document_ids,
            "target_status": self.target_status,
            "fail_fast": self.fail_fast,
            "list_filters": self.list_filters,
        }

    async def poll(self, hook: ESignHook) -> dict[str, Any] | None:
        from airflow_provider_esign.conditions import BatchTracker, WaitCondition

        if self._tracker is None:  # in memory: after a triggerer restart the first poll reads all
            self._tracker = BatchTracker(WaitCondition.of(self.target_status), self.document_ids)
        progress = await self._tracker.aread(hook, **self.list_filters)
        self.log.info("Batch of %d: %s", len(self.document_ids), progress.summary())
        if not progress.finished(self.fail_fast):
            return None
        status = "failed" if progress.failed and self.fail_fast else "success"
        return {"status": status, "message": progress.summary(), "result": progress.result()}

    def timeout_payload(self) -> dict[str, Any]:
        return {"status": "timeout", "message": "the batch did not finish in time"}
