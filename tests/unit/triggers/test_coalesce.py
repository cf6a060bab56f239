"""Coalesced document waits: one batch read answers many triggers; each fires its own event."""

from __future__ import annotations

import asyncio
import time
from unittest import mock

from airflow_provider_esign.models import DocumentInfo, DocumentStatus
from airflow_provider_esign.triggers import coalesce
from airflow_provider_esign.triggers.status import DocumentStatusTrigger


def doc(document_id, status):
    return DocumentInfo(document_id, "esignbase", None, status, status.value)


class BatchHook:
    """Answers aget_documents from the account state, recording every batch read."""

    conn_id = "esignbase_default"

    def __init__(self, state):
        self.state = state
        self.reads: list[list[str]] = []

    async def aget_documents(self, ids, **filters):
        self.reads.append(sorted(ids))
        return {i: doc(i, self.state[i]) for i in ids}

    async def aget_document(self, document_id):
        raise AssertionError("coalesced waits never read one document on their own")


def trigger(document_id, **overrides):
    values = {
        "conn_id": "esignbase_default",
        "document_id": document_id,
        "poll_interval": 0.5,
        "end_time": time.time() + 30,
        "coalesce": True,
        **overrides,
    }
    return DocumentStatusTrigger(**values)


async def run_all(triggers, hook):
    async def fake_aget_hook(conn_id, **params):
        return hook

    async def first_event(t):
        async for event in t.run():
            return event.payload

    with mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook):
        return await asyncio.gather(*(first_event(t) for t in triggers))


async def test_one_batch_read_answers_every_trigger_and_each_fires_its_own_event():
    ids = [f"d{i}" for i in range(200)]
    hook = BatchHook(dict.fromkeys(ids, DocumentStatus.SENT))

    async def complete_later():
        await asyncio.sleep(0.6)
        hook.state.update(dict.fromkeys(ids, DocumentStatus.COMPLETED))
        hook.state["d7"] = DocumentStatus.DECLINED

    asyncio.get_running_loop().create_task(complete_later())
    events = await run_all([trigger(i) for i in ids], hook)
    assert [e["document_id"] for e in events] == ids
    assert [e["status"] for e in events].count("success") == 199
    assert events[7]["status"] == "failed"
    assert len(hook.reads) <= 3  # one read per tick for all 200 (two or three ticks)
    assert hook.reads[0] == sorted(ids)


async def test_a_cancelled_trigger_leaves_the_others_running():
    hook = BatchHook({"a": DocumentStatus.SENT, "b": DocumentStatus.SENT})

    async def fake_aget_hook(conn_id, **params):
        return hook

    with mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook):
        a = asyncio.create_task(trigger("a").run().__anext__())
        b = asyncio.create_task(trigger("b").run().__anext__())
        await asyncio.sleep(0.3)
        a.cancel()
        hook.state["b"] = DocumentStatus.COMPLETED
        event = await asyncio.wait_for(b, 5)
    assert event.payload["status"] == "success" and event.payload["document_id"] == "b"
    assert a.cancelled()
    assert hook.reads[-1] == ["b"]  # the cancelled wait is no longer read


async def test_a_failed_batch_read_is_each_triggers_failed_poll():
    calls = []

    class Flaky(BatchHook):
        async def aget_documents(self, ids, **filters):
            calls.append(ids)
            if len(calls) == 1:
                from airflow_provider_esign.exceptions import ESignServerError

                raise ESignServerError("503")
            return await super().aget_documents(ids)

    hook = Flaky({"a": DocumentStatus.COMPLETED, "b": DocumentStatus.COMPLETED})
    events = await run_all([trigger("a", poll_interval=0.2), trigger("b", poll_interval=0.2)], hook)
    assert [e["status"] for e in events] == ["success", "success"]
    assert len(calls) == 2


async def test_coordinators_are_per_connection_and_hook_arguments():
    hook = BatchHook({})
    assert coalesce.coordinator(hook, {}) is coalesce.coordinator(hook, {})
    assert coalesce.coordinator(hook, {}) is not coalesce.coordinator(hook, {"max_attempts": 2})


def test_polls_fall_on_shared_wall_clock_ticks():
    t = trigger("a", poll_interval=60)
    with mock.patch("airflow_provider_esign.triggers.status.time.time", return_value=1_000_000_030.0):
        assert t.next_delay() == 50.0  # 1_000_000_080 is the next multiple of 60
    assert trigger("a", poll_interval=20, coalesce=False).next_delay() > 19  # deadline is 30 s away
