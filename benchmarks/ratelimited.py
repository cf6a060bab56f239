"""A rate-limited batch of mapped sends: share of the allowed rate reached, and 429s.

Setup: the sandbox enforces Legalesign's documented sandbox throttle, 100 calls per minute, time-scaled
by 10 (``rl_calls`` calls per ``rl_window`` seconds, sliding window, with ``Retry-After``); the Airflow
connection says ``rate_limit_per_minute`` = the same rate (1,000/min). ``rl_workers`` worker processes
run ``rl_sends`` mapped ``SendDocumentOperator`` task instances between them (round-robin map indexes,
each a real ``execute`` with its own hook), sharing the provider's client-side limiter file as workers on
one host do. Each send is one ``POST /document/`` (template PDF uploaded beforehand).

Figure: vendor calls counted at the sandbox / time from the first send's start to the last one's end,
as a share of the allowed rate; and the number of 429 answers (target: none).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

from benchmarks.common import REPO, Result, SandboxProcess, Sizes, StatsDelta, child_env, set_connections
from benchmarks.sends import SAMPLE_PDF


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    from airflow_provider_esign.hooks.legalesign import LegalesignHook
    from esign_sandbox.client import connections_env

    vendor = "legalesign"
    client = sandbox.fresh(sign_delay=None, send_delay=0)
    set_connections(sandbox.url, rate_limit_per_minute=0)
    template_id = LegalesignHook(f"{vendor}_default").upload_template_pdf(
        str(SAMPLE_PDF), title="Batch contract"
    )
    client.configure(
        rate_limits={
            vendor: {"calls": sizes.rl_calls, "window_seconds": sizes.rl_window, "retry_after": True}
        }
    )
    per_minute = round(sizes.rl_calls * 60 / sizes.rl_window)
    allowed = sizes.rl_calls / sizes.rl_window  # calls per second

    env = child_env()
    env.update(connections_env(sandbox.url, rate_limit_per_minute=per_minute, vendors=[vendor]))
    env["AIRFLOW__ESIGN__RATELIMIT_DIR"] = tempfile.mkdtemp(prefix="ratelimit-", dir=workdir)
    workers = []
    for w in range(sizes.rl_workers):
        spec = {
            "conn_id": f"{vendor}_default",
            "template_id": template_id,
            "dag_id": "bench_rate_limited_batch",
            "run_id": "manual__bench",
            "map_indexes": list(range(w, sizes.rl_sends, sizes.rl_workers)),
        }
        command = [sys.executable, "-m", "benchmarks._send_worker", json.dumps(spec)]
        workers.append(
            subprocess.Popen(
                command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        )
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a send worker did not start: {line!r}")
        with StatsDelta(client, vendor) as delta:
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            outputs = [
                json.loads(worker.communicate(timeout=600)[0].strip().splitlines()[-1]) for worker in workers
            ]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    sends = [s for out in outputs for s in out["sends"]]
    errors = [e for out in outputs for e in out["errors"]]
    if errors:
        raise RuntimeError(f"{len(errors)} sends failed, e.g. {errors[0]}")
    first = min(s[1] for s in sends)
    last = max(s[2] for s in sends)
    elapsed = last - first
    achieved = delta.requests / elapsed
    share = 100 * achieved / allowed
    documents = len(client.documents(vendor))
    setup = (
        f"sandbox allows {sizes.rl_calls} calls/{sizes.rl_window:g}s (100/min time-scaled); connection "
        f"rate_limit_per_minute={per_minute}; {len(sends)} mapped sends in {sizes.rl_workers} processes "
        f"sharing the limiter"
    )
    return [
        Result(
            figure=f"Rate-limited batch of {len(sends)} mapped sends: share of the allowed rate",
            value=round(share, 1),
            unit="%",
            baseline=100.0,
            baseline_label=f"allowed: {allowed:.2f} calls/s",
            target=">= 90 %",
            passed=share >= 90,
            note=(
                f"{setup}; {delta.requests} calls in {elapsed:.1f}s = {achieved:.2f}/s; "
                f"{documents} documents created (one per map index)"
            ),
            details={"calls": delta.requests, "seconds": elapsed, "routes": delta.routes()},
        ),
        Result(
            figure=f"Rate-limited batch of {len(sends)} mapped sends: 429 answers",
            value=delta.throttled,
            unit="429s",
            baseline=None,
            target="0",
            passed=delta.throttled == 0 and documents == len(sends),
            note=setup,
        ),
    ]
