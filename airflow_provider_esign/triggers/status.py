"""Async wait for one document that holds no worker slot."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_esign.triggers.base import MAX_CONSECUTIVE_ERRORS, PollingTrigger

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

__all__ = ["MAX_CONSECUTIVE_ERRORS", "DocumentStatusTrigger"]


class DocumentStatusTrigger(PollingTrigger):
    """Poll one document until a condition holds, it fails, or the deadline passes.

    Yields exactly one event: ``{"status": "success" | "failed" | "timeout" | "error", ...}`` with the
    document (``DocumentInfo.to_dict`` without raw payload) where known.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id.
    :param target_status: Normalized status to reach.
    :param signer_email: Wait for this signer only.
    :param poll_interval: Seconds between polls.
    :param end_time: Wall-clock deadline (epoch seconds); survives triggerer restarts.
    :param hook_params: JSON-native hook arguments.
    :param coalesce: Share one batch read per poll with the other waits on this connection in the
        same triggerer (see :mod:`~airflow_provider_esign.triggers.coalesce`). Polls then fall on
        wall-clock ticks of ``poll_interval``. A wait for one signer always reads its own document.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        document_id: str,
        target_status: str = "COMPLETED",
        signer_email: str | None = None,
        poll_interval: float = 60.0,
        end_time: float,
        hook_params: dict[str, Any] | None = None,
        coalesce: bool = False,
    ) -> None:
        super().__init__(
            conn_id=conn_id, poll_interval=poll_interval, end_time=end_time, hook_params=hook_params
        )
        self.document_id = document_id
        self.target_status = target_status
        self.signer_email = signer_email
        self.coalesce = coalesce

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._classpath(), {
            **self._kwargs(),
            "document_id": self.document_id,
            "target_status": self.target_status,
            "signer_email": self.signer_email,
            "coalesce": self.coalesce,
        }

    async def poll(self, hook: ESignHook) -> dict[str, Any] | None:
        from airflow_provider_esign.conditions import WaitCondition

        condition = WaitCondition.of(self.target_status, self.signer_email)
        if self.coalesce and not self.signer_email:
            from airflow_provider_esign.triggers.coalesce import coordinator

            # List items carry the document's status, not always each signer's: one-signer waits read.
            document = await coordinator(hook, self.hook_params).read(self.document_id)
        else:
            document = await hook.aget_document(self.document_id)
        done, failure = condition.check(document)
        if not done and not failure:
            from airflow_provider_esign.conditions import describe_wait

            line = describe_wait(document, condition, done)
            if line != getattr(self, "_last_logged", None):  # on change only: no line per poll
                self._last_logged = line
                self.log.info("%s", line)
        payload = {"document_id": self.document_id, "document": document.to_dict(include_raw=False)}
        if failure:
            return {**payload, "status": "failed", "message": failure}
        if done:
            return {**payload, "status": "success", "message": condition.describe()}
        return None

    def next_delay(self) -> float:
        if not self.coalesce or self.poll_interval <= 0:
            return super().next_delay()
        now = time.time()
        aligned = self.poll_interval - (now % self.poll_interval)  # the same tick for every wait
        return max(0.0, min(aligned, self.end_time - now))

    def timeout_payload(self) -> dict[str, Any]:
        return {"status": "timeout", "document_id": self.document_id, "message": "not reached in time"}
