"""Triggerer load: N ``DocumentStatusTrigger`` waits in one asyncio event loop against the sandbox.

Setup: N documents (spread evenly over the three vendors), sent and in flight; the waits run in a fresh
process (see :mod:`benchmarks._triggerer_child`), read their connections with Airflow's async connection
API from ``AIRFLOW_CONN_*`` variables (rate limiting off) and poll every ``trigger_poll`` seconds, far
more load than the default 60 s. Once every wait has polled twice, one sandbox clock jump completes every
document; each wait must then fire its success event.

A 10 ms heartbeat measures event-loop stalls. Every stall is split into the interpreter's garbage
collection pauses and the rest (``gc.callbacks``): the rest is what the waits' own code blocks the loop
for (the target); the longest stall with collections included is reported beside it, with the cost of one
full collection of the same process on its idle loop as the baseline, because that pause scales with the
process's heap (Airflow's modules) and the machine's load rather than with the number of waits.
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.common import REPO, VENDORS, Result, SandboxProcess, Sizes, child_env, set_connections


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    client = sandbox.fresh(sign_delay=None, send_delay=0, pdf_delay=0, token_ttl=10_000_000)
    set_connections(sandbox.url, rate_limit_per_minute=0)
    warmup = [(v, client.create_document(v, name="Warm-up", status="completed")["id"]) for v in VENDORS]
    documents = []
    for i in range(sizes.triggers):
        vendor = VENDORS[i % len(VENDORS)]
        created = client.create_document(
            vendor,
            name=f"Deferred contract {i}",
            signers=[{"name": "Ada Lovelace", "email": f"ada{i}@example.com"}],
            status="sent",
            sign_delay=3600,
        )
        documents.append((vendor, created["id"]))
    spec = {
        "sandbox_url": sandbox.url,
        "warmup": warmup,
        "documents": documents,
        "poll_interval": sizes.trigger_poll,
        "idle_seconds": sizes.trigger_idle,
    }
    before = client.stats()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._triggerer_child"],
        input=json.dumps(spec),
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the triggerer process failed: {done.stderr[-3000:]}")
    m = json.loads(done.stdout.strip().splitlines()[-1])
    after = client.stats()
    m["vendor_requests"] = after["total_requests"] - before["total_requests"]
    m["throttled"] = after["throttled"] - before["throttled"]
    n, load, idle = m["triggers"], m["load"], m["idle"]
    idle_full = m["idle_full_collection"]["max_full_collection_ms"]
    setup = (
        f"{n:,} waits ({n // len(VENDORS)}+ per vendor) in a fresh process, poll every "
        f"{sizes.trigger_poll:g}s: {m['vendor_requests']:,} vendor requests; all started in "
        f"{m['start_all_s']:.1f}s, last event {m['last_event_after_completion_s']:.1f}s after the documents completed"
    )
    return [
        Result(
            figure=f"Triggerer: {n:,} deferred document waits completed",
            value=m["succeeded"],
            unit="waits",
            baseline=n,
            baseline_label="started",
            target=f"all {n:,} succeed",
            passed=m["succeeded"] == n and m["fired_before_completion"] == 0,
            note=f"{setup}; events by status: {m['statuses']}",
            details=m,
        ),
        Result(
            figure=f"Triggerer: longest event-loop stall from the waits' work, {n:,} waits",
            value=round(load["max_stall_outside_gc_ms"], 1),
            unit="ms",
            baseline=round(idle["max_stall_ms"], 1),
            baseline_label="idle loop",
            target="< 100 ms",
            passed=load["max_stall_outside_gc_ms"] < 100,
            note=(
                f"10 ms heartbeat over {load['beats']:,} beats, garbage-collection pauses taken out (next "
                f"row); p99 stall {load['p99_stall_ms']:.1f} ms; measured after one warm-up wait per vendor, "
                f"whose one-time first-use costs stalled the loop once for "
                f"{m['warmup']['max_stall_ms']:.0f} ms"
            ),
        ),
        Result(
            figure=f"Triggerer: longest event-loop stall incl. garbage collection, {n:,} waits",
            value=round(load["max_stall_ms"], 1),
            unit="ms",
            baseline=round(idle_full, 1),
            baseline_label="one full GC, idle loop",
            target="",
            passed=None,
            note=(
                f"{load['full_collections']} full collections during the load, longest "
                f"{load['max_full_collection_ms']:.0f} ms; a full collection walks the whole process heap "
                f"({m['tracked_objects']:,} tracked objects, mostly Airflow's), so its pause is set by the "
                f"heap and the machine, as the baseline (same process, idle loop) shows"
            ),
        ),
        Result(
            figure=f"Triggerer: RSS growth, {n:,} waits",
            value=round(m["rss_peak_mb"] - m["rss_before_mb"], 1),
            unit="MB",
            baseline=round(m["rss_before_mb"], 1),
            baseline_label="process RSS before",
            target="",
            passed=None,
            note=(
                f"peak while all {n:,} waited, over the warmed-up process's RSS "
                f"({1024 * (m['rss_peak_mb'] - m['rss_before_mb']) / n:.0f} KB per wait); "
                f"{m['rss_after_mb'] - m['rss_before_mb']:.1f} MB after they all fired"
            ),
        ),
    ]
