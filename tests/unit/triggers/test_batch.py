"""BatchDocumentStatusTrigger: one list call per poll for many documents (the sensor's tests share its scripted hook)."""

from __future__ import annotations

import time
from unittest import mock

from airflow_provider_esign.triggers.batch import BatchDocumentStatusTrigger
from tests.unit.sensors.test_batch import IDS, C, ListingHook, S, states


async def test_trigger_reads_only_the_documents_still_pending():
    hook = ListingHook(*states([C, S, S, S, S], [C, C, C, C, C]))
    trigger = BatchDocumentStatusTrigger(
        conn_id="esignbase_default", document_ids=IDS, poll_interval=0, end_time=time.time() + 60
    )
    assert await trigger.poll(hook) is None
    event = await trigger.poll(hook)
    assert event["status"] == "success" and event["result"]["completed"] == IDS
    assert hook.asked == [IDS, ["d1", "d2", "d3", "d4"]]


async def test_trigger_polls_the_list_until_done():
    hook = ListingHook(*states([S, S, S, S, S], [C, C, C, S, S], [C, C, C, C, C]))

    async def fake_aget_hook(conn_id, **params):
        return hook

    trigger = BatchDocumentStatusTrigger(
        conn_id="x", document_ids=IDS, poll_interval=0, end_time=time.time() + 60
    )
    with (
        mock.patch("airflow_provider_esign.hooks.aget_hook", fake_aget_hook),
        mock.patch("airflow.sdk.BaseHook.get_connection", side_effect=AssertionError("sync connection")),
    ):
        events = [e.payload async for e in trigger.run()]
    assert [e["status"] for e in events] == ["success"]
    assert events[0]["result"]["completed"] == IDS
    assert hook.calls == 3
