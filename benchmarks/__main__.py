"""``python -m benchmarks [--smoke] [--only polling,download,...] [--output PATH | --merge PATH]``.

Starts its own sandbox (a child process on a free loopback port), measures every figure against its
baseline from the same run, prints the table and writes the results (default ``benchmarks/results.json``;
smoke and ``--only`` runs write to a temporary file unless ``--output`` is given, so they never overwrite a
full run's).
``--merge PATH`` puts a full-size run of some groups into an existing results file instead: their
figures replace the file's, and the file records when each group was measured again (``group_runs``).
Exit status 1 when a full run misses a target; a smoke run only checks that every figure was produced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from typing import Any

from benchmarks.common import FULL, REPO, SMOKE, Result, make_workdir, prepare_environment, render_table

#: Figure groups in run order: module name -> what it measures.
GROUPS = {
    "polling": "API calls per poll cycle: batch sensor vs one sensor per document",
    "download": "large PDF download: peak RSS (vs response.content) and throughput (vs curl)",
    "sends": "sends with rate limiting off: hook vs bare requests.Session loop, connections",
    "ratelimited": "rate-limited batch of mapped sends: share of the allowed rate, 429s",
    "triggerer": "deferred document waits in one event loop: completion, stalls, RSS",
    "imports": "import cost of a DAG file using every operator and sensor",
    "peers": "beside the official SDKs and bare requests loops: sends, batch status, 20 MiB download, dropped create",
    "scale": "account sizes 1k/10k/50k: batch poll, retried lookup, coalesced waits, stall, WeSignature bytes, memory",
    "contracts_page": "the Contracts page at 10k tracked documents: JSON server time (vs Airflow's TI list), vendor calls per view",
    "ledger": "contract ledger at 1k/10k/50k: first and incremental sync calls, memory, write rate vs executemany",
}
DEFAULT_OUTPUT = REPO / "benchmarks" / "results.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that every figure runs")
    parser.add_argument("--only", default="", help=f"comma-separated groups of {list(GROUPS)}")
    parser.add_argument("--output", default=None, help="results file (JSON)")
    parser.add_argument(
        "--merge", default=None, metavar="PATH", help="a results file to update with this run's figures"
    )
    parser.add_argument("--verbose", action="store_true", help="show the provider's and Airflow's logs")
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.only.split(",") if g.strip()] or list(GROUPS)
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {unknown}; choose from {list(GROUPS)}")
    if args.merge and (args.smoke or args.output):
        parser.error(
            "--merge takes a full-size run and writes to the file it names (no --smoke, no --output)"
        )
    sizes = SMOKE if args.smoke else FULL

    workdir = make_workdir()
    prepare_environment(workdir, verbose=args.verbose)
    if args.output or args.merge:
        output = args.output or args.merge
    elif args.smoke or args.only:  # never overwrite a full run's results with a partial or tiny one
        descriptor, output = tempfile.mkstemp(prefix="esign-bench-smoke-", suffix=".json")
        os.close(descriptor)
    else:
        output = str(DEFAULT_OUTPUT)

    from importlib import import_module

    from benchmarks.common import SandboxProcess

    started = time.monotonic()
    results: list[Result] = []
    errors: dict[str, str] = {}
    try:
        with SandboxProcess(workdir) as sandbox:
            for group in groups:
                print(f"[{time.monotonic() - started:6.1f}s] {group}: {GROUPS[group]}", file=sys.stderr)
                try:
                    results += import_module(f"benchmarks.{group}").run(sandbox, sizes, workdir)
                except Exception:
                    errors[group] = traceback.format_exc()
                    print(errors[group], file=sys.stderr)
        elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    document: dict[str, Any] = {
        "run": {
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "mode": "smoke" if args.smoke else "full",
            "groups": groups,
            "seconds": round(elapsed, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "airflow": _airflow_version(),
            "sizes": sizes.__dict__,
            "errors": errors,
        },
        "results": [r.to_dict() for r in results],
    }
    if args.merge:
        with open(args.merge) as handle:
            document = merge_results(json.load(handle), document)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "w") as handle:
        json.dump(document, handle, indent=2, default=str)
        handle.write("\n")

    print()
    print(render_table(results))
    print()
    for r in results:
        if r.note:
            print(f"- {r.figure}: {r.note}")
    print(f"\n{len(results)} figures in {elapsed:.0f}s ({document['run']['mode']} run); results: {output}")
    if errors:
        print(f"FAILED to measure: {', '.join(errors)}", file=sys.stderr)
        return 2
    if not args.smoke and any(r.passed is False for r in results):
        print("Some targets were missed.", file=sys.stderr)
        return 1
    return 0


#: What ``group_runs`` keeps of a run of some groups.
RUN_FIELDS = ("timestamp", "mode", "seconds", "python", "platform", "cpus", "airflow", "errors")


def merge_results(existing: dict[str, Any], measured: dict[str, Any]) -> dict[str, Any]:
    """``existing`` (a full run's results) with the figures of ``measured`` (a run of some groups) in
    place of its own (new figures appended), and that run recorded under ``run.group_runs`` for each
    of its groups, so the page generated from the file says what was measured when."""
    fresh = {result["figure"]: result for result in measured["results"]}
    results = [fresh.pop(result["figure"], result) for result in existing["results"]]
    group_runs = dict(existing["run"].get("group_runs") or {})
    for group in measured["run"]["groups"]:
        group_runs[group] = {key: measured["run"].get(key) for key in RUN_FIELDS}
    run = {**existing["run"], "group_runs": group_runs}
    return {**existing, "run": run, "results": results + list(fresh.values())}


def _airflow_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("apache-airflow")
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
