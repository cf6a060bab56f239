"""The README's main command (``make demo``): real Airflow DAG runs against the local sandbox.

Starts the vendor sandbox, prepares a throw-away Airflow home (SQLite, examples off), points the
``AIRFLOW_CONN_*`` variables at the sandbox and runs the ``esign_batch_contracts`` example once per
vendor with ``dag.test()``, which is what ``airflow dags test esign_batch_contracts -c ...`` does, in
**one** Airflow process: Airflow is imported and the DAG folder parsed once, not three times. On 2
shared cores that halves the CPU the demo needs compared with three ``airflow dags test`` processes
(the demo is CPU-bound; the sandbox signs within a second), and nothing waits on a fixed sleep. The
signed PDFs land in ``signed/<vendor>/`` at the repository root; each is checked byte for byte
against the sandbox's copy. Exits non-zero if anything is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIGNED = ROOT / "signed"
VENDORS = {
    "esignbase": "esignbase_default",
    "legalesign": "legalesign_default",
    "wesignature": "wesignature_default",
}
#: Prefix of the run process's result lines (everything else it prints goes to the log only).
RESULT = "demo-result "


def airflow_env(home: str, connections: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        **connections,
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "ESIGN_EXAMPLE_POLL_SECONDS": "1",
    }


def main() -> int:
    from esign_sandbox import Sandbox, SandboxConfig

    started = time.monotonic()
    shutil.rmtree(SIGNED, ignore_errors=True)
    home = tempfile.mkdtemp(prefix="esign-demo-airflow-")
    print(f"Airflow home: {home}")
    with Sandbox(seed=7, config=SandboxConfig(sign_delay=0.5, send_delay=0.1, pdf_delay=0.1)) as sandbox:
        print(f"Sandbox: {sandbox.url}")
        # The local sandbox has no throttle: no client-side budget (Legalesign's default is 100/min).
        env = airflow_env(home, sandbox.airflow_connections(rate_limit_per_minute=0))
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True
        )
        print(f"Airflow database migrated ({time.monotonic() - started:.0f}s)")
        print("Running esign_batch_contracts once per vendor ...", flush=True)
        done = run_dags(env, Path(home) / "dag-runs.log", started)
        failures = [vendor for vendor in VENDORS if done.get(vendor) != "success"]
        rows, problems = summarize(sandbox)
    print()
    print(f"{'vendor':<12} {'sent':>5} {'signed':>7} {'stored':>7}  verified against the sandbox")
    for vendor, sent, signed, stored, verified in rows:
        print(f"{vendor:<12} {sent:>5} {signed:>7} {stored:>7}  {verified}")
    print(f"\nSigned PDFs: {SIGNED}/<vendor>/   wall time: {time.monotonic() - started:.0f}s")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if failures or problems else 0


def run_dags(env: dict[str, str], log: Path, started: float) -> dict[str, str]:
    """Run the DAG per vendor in one child process (its own Airflow home); ``{vendor: state}``."""
    done: dict[str, str] = {}
    with log.open("w") as out:
        child = subprocess.Popen(
            [sys.executable, __file__, "--dag-runs"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert child.stdout is not None
        for line in child.stdout:
            out.write(line)
            if line.startswith(RESULT):
                vendor, state = line[len(RESULT) :].split()
                done[vendor] = state
                note = "ok" if state == "success" else f"{state.upper()} (log: {log})"
                print(f"  {vendor:<12} {note} ({time.monotonic() - started:.0f}s)", flush=True)
        child.wait()
    return done


def dag_runs() -> None:
    """In the child: one ``dag.test()`` per vendor, as ``airflow dags test`` runs it."""
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    dag = DagBag(dag_folder=str(ROOT / "example_dags")).dags["esign_batch_contracts"]
    for vendor, conn_id in VENDORS.items():
        conf = {"conn_id": conn_id, "destination": str(SIGNED / vendor)}
        try:
            state = str(dag.test(run_conf=conf).state)
        except Exception as error:  # reported as a failed vendor, the others still run
            print(f"{vendor}: {error!r}", flush=True)
            state = "failed"
        print(f"{RESULT}{vendor} {state}", flush=True)
    # Everything is committed and printed. Tearing down the interpreter's Airflow-sized heap takes
    # several seconds on a busy 2-core machine and achieves nothing for a throw-away process.
    sys.stdout.flush()
    os._exit(0)


def summarize(sandbox) -> tuple[list[tuple], list[str]]:
    rows, problems = [], []
    for vendor in VENDORS:
        documents = sandbox.documents(vendor)
        finished = [d for d in documents if _is_complete(vendor, d)]
        stored = sorted((SIGNED / vendor).glob("*.pdf"))
        identical = 0
        for document in finished:
            # The example names each file "<contract>-<id>.pdf" after its CSV row.
            paths = list((SIGNED / vendor).glob(f"*{_safe(document['id'])}.pdf"))
            if len(paths) == 1 and paths[0].read_bytes() == sandbox.pdf_bytes(vendor, document["id"]):
                identical += 1
            else:
                problems.append(f"{vendor} document {document['id']}: stored PDF missing or different")
        if not documents or len(stored) != len(documents):
            problems.append(f"{vendor}: {len(documents)} sent but {len(stored)} stored")
        rows.append(
            (
                vendor,
                len(documents),
                len(finished),
                len(stored),
                f"{identical}/{len(finished)} byte-identical",
            )
        )
    return rows, problems


def _is_complete(vendor: str, document: dict) -> bool:
    return str(document.get("status")) in {"30", "3", "COMPLETED"}


def _safe(value: str) -> str:
    import re

    return re.sub(r"[^-\w.]", "_", value)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["--dag-runs"]:
        dag_runs()
    else:
        raise SystemExit(main())
