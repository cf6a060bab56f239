"""The triggerer process of the triggerer-load figure: ``python -m benchmarks._triggerer_child`` (spec on stdin).

A fresh process, like a triggerer: one asyncio event loop running ``DocumentStatusTrigger`` waits. Phases:

1. warm-up: one wait per vendor on an already completed document (the process's one-time costs: lazy
   imports, the shared HTTP client, tokens), heartbeat running;
2. idle: the heartbeat alone, then one forced full garbage collection of the process's heap, so the
   cost of a full collection in this process is known;
3. load: N waits started as ``TriggerRunner.create_triggers`` starts them (one task each, yielding to the
   loop in between); once every wait has polled at least twice, one sandbox clock jump completes every
   document and each wait must fire its success event.

The heartbeat sleeps 10 ms in a loop and records how late it wakes up. ``gc.callbacks`` record every
garbage collection, so each stall can be split into the interpreter's collection pauses and the rest.
Prints one JSON line of measurements.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any

HEARTBEAT = 0.010


class Recorder:
    """Heartbeat beats and garbage collections, on the ``perf_counter`` clock."""

    def __init__(self) -> None:
        self.beats: list[tuple[float, float]] = []
        self.collections: list[tuple[float, float, int, int]] = []
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections.append(
                (self._started, time.perf_counter(), info["generation"], info["collected"])
            )

    async def heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(HEARTBEAT)
            self.beats.append((before, time.perf_counter()))

    def summary(self, since: float, until: float) -> dict[str, Any]:
        beats = [b for b in self.beats if since <= b[0] and b[1] <= until]
        gcs = [c for c in self.collections if since <= c[0] and c[1] <= until]
        stalls, outside_gc = [], []
        for before, after in beats:
            late_from = before + HEARTBEAT
            stall = max(0.0, after - late_from)
            in_gc = sum(max(0.0, min(after, end) - max(late_from, start)) for start, end, _, _ in gcs)
            stalls.append(stall)
            outside_gc.append(max(0.0, stall - in_gc))
        full = [c for c in gcs if c[2] == 2]
        ordered = sorted(stalls)
        return {
            "beats": len(beats),
            "max_stall_ms": 1000 * max(stalls, default=0.0),
            "p99_stall_ms": 1000 * (ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0.0),
            "max_stall_outside_gc_ms": 1000 * max(outside_gc, default=0.0),
            "collections": len(gcs),
            "full_collections": len(full),
            "max_full_collection_ms": 1000 * max((c[1] - c[0] for c in full), default=0.0),
            "max_collection_ms": 1000 * max((c[1] - c[0] for c in gcs), default=0.0),
        }


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_esign.triggers.status import DocumentStatusTrigger
    from benchmarks.common import peak_rss_mb, reset_peak_rss, rss_mb
    from esign_sandbox.client import SandboxClient

    client = SandboxClient(spec["sandbox_url"])
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    stop = asyncio.Event()
    beat = asyncio.create_task(recorder.heartbeat(stop))

    warm_from = time.perf_counter()
    for vendor, document_id in spec["warmup"]:
        trigger = DocumentStatusTrigger(
            conn_id=f"{vendor}_default", document_id=document_id, poll_interval=0.1, end_time=time.time() + 60
        )
        async for event in trigger.run():
            assert event.payload["status"] == "success", event.payload
    await asyncio.sleep(0.1)
    warm = recorder.summary(warm_from, time.perf_counter())

    idle_from = time.perf_counter()
    await asyncio.sleep(spec["idle_seconds"])
    idle = recorder.summary(idle_from, time.perf_counter())
    gc_from = time.perf_counter()
    await asyncio.sleep(0.05)
    gc.collect()  # the cost of one full collection of this process's heap, on the idle loop
    await asyncio.sleep(0.05)
    idle_gc = recorder.summary(gc_from, time.perf_counter())
    tracked = len(gc.get_objects())

    rss_before = rss_mb()
    reset_peak_rss()
    documents = spec["documents"]
    end_time = time.time() + 600
    polls_needed = client.stats()["total_requests"] + 2 * len(documents)

    async def wait(trigger: Any) -> tuple[dict[str, Any], float]:
        async for event in trigger.run():
            return event.payload, loop.time()
        raise AssertionError("the trigger ended without an event")

    load_from = time.perf_counter()
    started = loop.time()
    tasks = []
    for vendor, document_id in documents:
        trigger = DocumentStatusTrigger(
            conn_id=f"{vendor}_default",
            document_id=document_id,
            poll_interval=spec["poll_interval"],
            end_time=end_time,
        )
        tasks.append(asyncio.create_task(wait(trigger)))
        await asyncio.sleep(0)  # as TriggerRunner.create_triggers does between two triggers
    all_started = loop.time() - started
    while (await asyncio.to_thread(client.stats))["total_requests"] < polls_needed:
        await asyncio.sleep(0.25)
    early = sum(t.done() for t in tasks)
    completed_at = loop.time()
    await asyncio.to_thread(client.advance_clock, 7200)
    outcomes = await asyncio.gather(*tasks)
    finished = loop.time()
    load = recorder.summary(load_from, time.perf_counter())
    stop.set()
    await beat
    rss_peak = peak_rss_mb()
    del tasks
    gc.collect()
    statuses: dict[str, int] = {}
    for payload, _ in outcomes:
        statuses[payload["status"]] = statuses.get(payload["status"], 0) + 1
    return {
        "triggers": len(documents),
        "statuses": statuses,
        "succeeded": statuses.get("success", 0),
        "fired_before_completion": early,
        "warmup": warm,
        "idle": idle,
        "idle_full_collection": idle_gc,
        "tracked_objects": tracked,
        "load": load,
        "start_all_s": all_started,
        "run_s": finished - started,
        "last_event_after_completion_s": max(at for _, at in outcomes) - completed_at,
        "rss_before_mb": rss_before,
        "rss_peak_mb": rss_peak,
        "rss_after_mb": rss_mb(),
    }


if __name__ == "__main__":
    from benchmarks.common import quiet_logging

    quiet_logging()
    print(json.dumps(asyncio.run(main(json.loads(sys.stdin.read())))))
