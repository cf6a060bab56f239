"""The poll loop shared by the provider's wait triggers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

#: Consecutive transient failures tolerated before a trigger gives up with an error event.
MAX_CONSECUTIVE_ERRORS = 5


class PollingTrigger(BaseTrigger):
    """Poll the vendor until :meth:`poll` returns an event payload or the deadline passes.

    Yields exactly one event. Transient failures (the hook already retried them) are tolerated
    ``MAX_CONSECUTIVE_ERRORS`` times in a row; permanent ones end the wait at once. Everything runs
    on the triggerer's event loop: async connection access and async HTTP only.

    :param conn_id: The e-signature connection.
    :param poll_interval: Seconds between polls.
    :param end_time: Wall-clock deadline (epoch seconds); survives triggerer restarts.
    :param hook_params: JSON-native hook arguments.
    """

    def __init__(
        self, *, conn_id: str, poll_interval: float, end_time: float, hook_params: dict[str, Any] | None
    ) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.end_time = end_time
        self.hook_params = hook_params or {}

    def _kwargs(self) -> dict[str, Any]:
        return {
            "conn_id": self.conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
            "hook_params": self.hook_params,
        }

    def _classpath(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}"

    async def poll(self, hook: ESignHook) -> dict[str, Any] | None:
        """One poll: the final event payload, or None to keep waiting."""
        raise NotImplementedError

    def timeout_payload(self) -> dict[str, Any]:
        return {"status": "timeout", "message": "not finished in time"}

    def next_delay(self) -> float:
        """Seconds until the next poll (never past the deadline)."""
        return max(0.0, min(self.poll_interval, self.end_time - time.time()))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_esign.exceptions import AirflowFailException
        from airflow_provider_esign.hooks import aget_hook

        errors = 0
        try:
            hook = await aget_hook(self.conn_id, **self.hook_params)
            while True:
                try:
                    payload = await self.poll(hook)
                    errors = 0
                except AirflowFailException:  # permanent: rejected credentials, a 404, a declined document
                    raise
                except Exception as exc:  # transient: the hook already retried; keep polling a while
                    errors += 1
                    if errors >= MAX_CONSECUTIVE_ERRORS:
                        raise
                    self.log.warning("Polling failed (%s); will poll again", exc)
                else:
                    if payload is not None:
                        yield TriggerEvent(payload)
                        return
                if time.time() >= self.end_time:
                    yield TriggerEvent(self.timeout_payload())
                    return
                await asyncio.sleep(self.next_delay())
        except Exception as exc:  # never BaseException: cancellation must propagate
            yield TriggerEvent(
                {"status": "error", "message": str(exc), "permanent": isinstance(exc, AirflowFailException)}
            )
