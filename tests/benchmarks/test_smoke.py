"""A smoke-sized run of the benchmark suite, so it cannot rot.

``python -m benchmarks --smoke`` measures every figure at tiny sizes against its own sandbox. Only the
structure of the results is asserted here: the targets are about the full sizes and are checked by
``make bench``, never by the test suite (timings in tests would be flaky and meaningless).
"""

from __future__ import annotations

import json
import numbers
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Every figure the suite produces (prefixes; sizes are part of the names).
EXPECTED = [
    *(
        f"API calls per poll cycle, 30 in-flight docs: {v}"
        for v in ("esignbase", "legalesign", "wesignature")
    ),
    "Peak RSS increase, 2 MB PDF download to a file",
    "Download throughput, 2 MB PDF",
    *(f"Send throughput, 20 sends, rate limit off: {v}" for v in ("esignbase", "legalesign", "wesignature")),
    *(f"Client connections for 20 sends: {v}" for v in ("esignbase", "legalesign", "wesignature")),
    "Exactly-once sends, 20: wesignature",
    "Rate-limited batch of 12 mapped sends: share of the allowed rate",
    "Rate-limited batch of 12 mapped sends: 429 answers",
    "Triggerer: 30 deferred document waits completed",
    "Triggerer: longest event-loop stall from the waits' work, 30 waits",
    "Triggerer: longest event-loop stall incl. garbage collection, 30 waits",
    "Triggerer: RSS growth, 30 waits",
    "Import cost of a DAG using every operator and sensor",
    *(
        f"Batch poll, {n} pending of 300 old docs, {order}: {v}"
        for order in ("oldest_first", "newest_first")
        for v in ("esignbase", "legalesign")
        for n in (20, 150)
    ),
    *(
        f"Batch poll, quiet batch, 150 pending of 300 old docs, {order}: {v}"
        for order in ("oldest_first", "newest_first")
        for v in ("esignbase", "legalesign")
    ),
    *(f"Retried send lookup, 300 old docs, {order}: esignbase" for order in ("oldest_first", "newest_first")),
    *(f"Watcher poll, 300 old docs, {order}: esignbase" for order in ("oldest_first", "newest_first")),
    "150 coalesced document waits, one poll, 300 old docs: esignbase",
    *(
        f"Longest event-loop stall, async batch read of 150 of 300 old docs: {v}"
        for v in ("esignbase", "legalesign", "wesignature")
    ),
    *(f"Peers: 6 mapped-style sends: {v}" for v in ("legalesign", "esignbase", "wesignature")),
    *(
        f"Peers: batch status of 5 docs, account of {n}: {v}"
        for n in (5, 40)
        for v in ("legalesign", "esignbase", "wesignature")
    ),
    *(f"Peers: 1 MiB download: {v}" for v in ("legalesign", "esignbase", "wesignature")),
    *(
        f"Peers: documents made when the create answer is dropped after commit: {v}"
        for v in ("legalesign", "esignbase", "wesignature")
    ),
    "WeSignature pre-send baseline download, 300 old docs",
    "WeSignature pre-send baseline peak memory, 300 old docs",
    "Contracts page JSON server time, 200 tracked documents",
    "Contracts page vendor calls per view, warm cache, 200 tracked documents",
    *(f"Ledger first sync calls, 300 old docs: {v}" for v in ("esignbase", "legalesign", "wesignature")),
    *(
        f"Ledger incremental sync calls after 100 changes, 300 old docs: {v}"
        for v in ("esignbase", "legalesign", "wesignature")
    ),
    *(
        f"Ledger first-sync peak RSS growth, 300 old docs: {v}"
        for v in ("esignbase", "legalesign", "wesignature")
    ),
    "Ledger write rate into SQLite, 1,000 documents",
    "Ledger write rate into PostgreSQL, 1,000 documents",
]


def test_smoke_run_produces_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--output", str(output)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    document = json.loads(output.read_text())
    run = document["run"]
    assert run["mode"] == "smoke"
    assert run["errors"] == {}
    assert run["sizes"]["smoke"] is True

    results = document["results"]
    figures = [r["figure"] for r in results]
    for prefix in EXPECTED:
        assert sum(f.startswith(prefix) for f in figures) == 1, (prefix, figures)
    assert len(results) == len(EXPECTED)
    for result in results:
        assert {"figure", "value", "unit", "baseline", "target", "pass"} <= set(result), result
        assert isinstance(result["value"], numbers.Real), result
        assert result["baseline"] is None or isinstance(result["baseline"], numbers.Real), result
        assert isinstance(result["unit"], str) and result["unit"], result
        # A figure with a target has a verdict (true or false: tiny sizes need not meet it); one
        # without is reported only.
        assert (result["pass"] is None) == (not result["target"]), result
        assert result["figure"] in done.stdout  # the printed table has every row


def test_a_run_of_some_groups_is_merged_into_a_full_runs_results() -> None:
    from benchmarks.__main__ import merge_results

    full = {
        "run": {"timestamp": "2026-12-02T01:48:16+00:00", "groups": ["sends", "peers"], "seconds": 171.2},
        "results": [
            {"figure": "Send throughput: wesignature", "value": 691.1},
            {"figure": "Peers: sends: wesignature", "value": 153.5},
        ],
    }
    again = {
        "run": {"timestamp": "2026-12-06T22:52:54+00:00", "groups": ["peers"], "seconds": 27.8, "cpus": 2},
        "results": [
            {"figure": "Peers: sends: wesignature", "value": 496.5},
            {"figure": "Peers: a new figure", "value": 1},
        ],
    }
    merged = merge_results(full, again)
    assert [(r["figure"], r["value"]) for r in merged["results"]] == [
        ("Send throughput: wesignature", 691.1),  # not measured again: kept
        ("Peers: sends: wesignature", 496.5),  # replaced in place
        ("Peers: a new figure", 1),  # appended
    ]
    assert merged["run"]["timestamp"] == "2026-12-02T01:48:16+00:00"  # still the full run's
    assert merged["run"]["group_runs"]["peers"]["timestamp"] == "2026-12-06T22:52:54+00:00"
    assert merged["run"]["group_runs"]["peers"]["seconds"] == 27.8
    assert "sends" not in merged["run"]["group_runs"]
    assert full["run"].get("group_runs") is None  # the input is left as it was
