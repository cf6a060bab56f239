"""Async waits that hold no worker slot: the triggerer polls the vendor with async HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

#: Consecutive transient failures tolerated before the trigger gives up with an error event.
MAX_CONSECUTIVE_ERRORS = 5


class DocumentStatusTrigger(BaseTrigger):
    """Poll one document until a condition holds, it fails, or the deadline passes.

    Yields exactly one event: ``{"status": "success" | "failed" | "timeout" | "error", ...}`` with the
    document (``DocumentInfo.to_dict`` without raw payload) where known. Connections are read with
    Airflow's async API and HTTP is async, so the triggerer's event loop never blocks.

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
        super().__init__()
        self.conn_id = conn_id
        self.document_id = document_id
        self.target_status = target_status
        self.signer_email = signer_email
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.hook_params = hook_params or {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "document_id": self.document_id,
                "target_status": self.target_status,
                "signer_email": self.signer_email,
                "poll_interval": self.poll_interval,
                "end_time": self.end_time,
                "hook_params": self.hook_params,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_esign.conditions import WaitCondition
        from airflow_provider_esign.exceptions import ESignPermanentError
        from airflow_provider_esign.hooks import aget_hook

        base = {"document_id": self.document_id, "conn_id": self.conn_id}
        errors = 0
        try:
            condition = WaitCondition.of(self.target_status, self.signer_email)
            hook = await aget_hook(self.conn_id, **self.hook_params)
            while True:
                try:
                    document = await hook.aget_document(self.document_id)
                    errors = 0
                except ESignPermanentError:
                    raise
                except Exception as exc:  # transient: the hook already retried; keep polling a while
                    errors += 1
                    if errors >= MAX_CONSECUTIVE_ERRORS:
                        raise
                    self.log.warning("Polling %s failed (%s); will poll again", self.document_id, exc)
                else:
                    done, failure = condition.check(document)
                    payload = {**base, "document": document.to_dict(include_raw=False)}
                    if failure:
                        yield TriggerEvent({**payload, "status": "failed", "message": failure})
                        return
                    if done:
                        yield TriggerEvent({**payload, "status": "success", "message": condition.describe()})
                        return
                if time.time() >= self.end_time:
                    yield TriggerEvent(
                        {
                            **base,
                            "status": "timeout",
                            "message": f"{condition.describe()} not reached in time",
                        }
                    )
                    return
                await asyncio.sleep(max(0.0, min(self.poll_interval, self.end_time - time.time())))
        except Exception as exc:  # never BaseException: cancellation must propagate
            yield TriggerEvent(
                {
                    **base,
                    "status": "error",
                    "message": str(exc),
                    "permanent": isinstance(exc, ESignPermanentError),
                }
            )
