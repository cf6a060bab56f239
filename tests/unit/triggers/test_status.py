"""DocumentStatusTrigger against a fake hook (no HTTP)."""

from __future__ import annotations

import asyncio
import time
from unittest import mock

from airflow_provider_esign.exceptions import (
    ESignError,
    ESignValidationError,
)
from airflow_provider_esign.models import (
    DocumentStatus,
)
from airflow_provider_esign.triggers.status import DocumentStatusTrigger
from tests.unit.fakes import FakeHook, document


class TestDocumentStatusTrigger:
    def trigger(self, **overrides):
        values = {
            "conn_id": "esignbase_default",
            "document_id": "doc-1",
            "poll_interval": 0,
            "end_time": time.time() + 60,
            **overrides,
        }
        return DocumentStatusTrigger(**values)

    async def events(self, trigger, hook):
        async def fake_aget_hook(conn_id, **params):
            return hook

        # Any sync connection access inside the trigger would deadlock a real triggerer: forbid it.
        with (
            mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook),
            mock.patch("airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("sync connection")),
        ):
            return [event.payload async for event in trigger.run()]

    async def test_success_after_polling(self):
        hook = FakeHook(
            [
                document(DocumentStatus.SENT),
                document(DocumentStatus.SIGNED),
                document(DocumentStatus.COMPLETED),
            ]
        )
        events = await self.events(self.trigger(), hook)
        assert len(events) == 1
        assert events[0]["status"] == "success" and events[0]["document"]["status"] == "COMPLETED"

    async def test_declined_event(self):
        events = await self.events(self.trigger(), FakeHook([document(DocumentStatus.DECLINED)]))
        assert [e["status"] for e in events] == ["failed"]

    async def test_timeout_event(self):
        events = await self.events(self.trigger(end_time=time.time() - 1), FakeHook())
        assert [e["status"] for e in events] == ["timeout"]

    async def test_permanent_error_event(self):
        hook = FakeHook()

        async def broken(document_id):
            raise ESignValidationError("document_id", "unknown")

        hook.aget_document = broken
        events = await self.events(self.trigger(), hook)
        assert events[0]["status"] == "error" and events[0]["permanent"] is True

    async def test_transient_errors_are_tolerated(self):
        hook, calls = FakeHook([document(DocumentStatus.COMPLETED)]), []

        async def flaky(document_id):
            calls.append(1)
            if len(calls) < 3:
                raise ESignError("503")
            return document(DocumentStatus.COMPLETED)

        hook.aget_document = flaky
        events = await self.events(self.trigger(), hook)
        assert events[0]["status"] == "success" and len(calls) == 3

    async def test_does_not_block_while_waiting(self):
        trigger = self.trigger(poll_interval=30)
        hook = FakeHook([document(DocumentStatus.SENT)])

        async def fake_aget_hook(conn_id, **params):
            return hook

        with mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook):
            task = asyncio.create_task(trigger.run().__anext__())
            await asyncio.sleep(0.05)
            assert not task.done()  # sleeping in the event loop, not returning or blocking
            task.cancel()
