"""Async wait for one document that holds no worker slot."""

from __future__ import annotations

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
    ) -> None:
        super().__init__(
            conn_id=conn_id, poll_interval=poll_interval, end_time=end_time, hook_params=hook_params
        )
        self.document_id = document_id
        self.target_status = target_status
        self.signer_email = signer_email

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._classpath(), {
            **self._kwargs(),
            "document_id": self.document_id,
            "target_status": self.target_status,
            "signer_email": self.signer_email,
        }

    async def poll(self, hook: ESignHook) -> dict[str, Any] | None:
        from airflow_provider_esign.conditions import WaitCondition

        condition = WaitCondition.of(self.target_status, self.signer_email)
        document = await hook.aget_document(self.document_id)
        done, failure = condition.check(document)
        payload = {"document_id": self.document_id, "document": document.to_dict(include_raw=False)}
        if failure:
            return {**payload, "status": "failed", "message": failure}
        if done:
            return {**payload, "status": "success", "message": condition.describe()}
        return None

    def timeout_payload(self) -> dict[str, Any]:
        return {"status": "timeout", "document_id": self.document_id, "message": "not reached in time"}
