"""The README's main command (``make demo``): real Airflow DAG runs against the local sandbox.

Starts the vendor sandbox, prepares a throw-away Airflow home (SQLite, examples off), points the
``AIRFLOW_CONN_*`` variables at the sandbox and runs ``airflow dags test esign_batch_contracts``
for the three vendors **in parallel**: each vendor gets its own copy of the migrated database (SQLite
takes one writer at a time), so the database is migrated once and nothing waits on a fixed sleep.
The signed PDFs land in ``signed/<vendor>/`` at the repository root; each is checked byte for byte
against the sandbox's copy. Exits non-zero if anything is missing.
"""

from __future__ import annotations

import json
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
    from airflow_provider_esign.sandbox import Sandbox, SandboxConfig

    started = time.monotonic()
    shutil.rmtree(SIGNED, ignore_errors=True)
    base = tempfile.mkdtemp(prefix="esign-demo-airflow-")
    print(f"Airflow homes: {base}/<vendor>")
    config = SandboxConfig(sign_delay=0.5, send_delay=0.1, pdf_delay=0.1)
    with Sandbox(seed=7, config=config) as sandbox:
        print(f"Sandbox: {sandbox.url}")
        connections = sandbox.airflow_connections()
        template = os.path.join(base, "migrated")
        os.makedirs(template)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=airflow_env(template, connections),
            check=True,
            capture_output=True,
        )
        print(f"Airflow database migrated ({time.monotonic() - started:.0f}s)")
        runs = {}
        for vendor, conn_id in VENDORS.items():
            home = os.path.join(base, vendor)
            shutil.copytree(template, home)
            conf = json.dumps({"conn_id": conn_id, "destination": str(SIGNED / vendor)})
            log = Path(home) / "dags-test.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "airflow", "dags", "test", "esign_batch_contracts", "-c", conf],
                    env=airflow_env(home, connections),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            runs[vendor] = (process, log)
        print(f"Running esign_batch_contracts for {', '.join(VENDORS)} in parallel ...", flush=True)
        failures = []
        for vendor, (process, log) in runs.items():
            code = process.wait()
            print(
                f"  {vendor:<12} {'ok' if code == 0 else f'FAILED (log: {log})'} ({time.monotonic() - started:.0f}s)"
            )
            if code:
                failures.append(vendor)
        rows, problems = summarize(sandbox)
    print()
    print(f"{'vendor':<12} {'sent':>5} {'signed':>7} {'stored':>7}  verified against the sandbox")
    for vendor, sent, signed, stored, verified in rows:
        print(f"{vendor:<12} {sent:>5} {signed:>7} {stored:>7}  {verified}")
    print(f"\nSigned PDFs: {SIGNED}/<vendor>/   wall time: {time.monotonic() - started:.0f}s")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if failures or problems else 0


def summarize(sandbox) -> tuple[list[tuple], list[str]]:
    rows, problems = [], []
    for vendor in VENDORS:
        documents = sandbox.documents(vendor)
        finished = [d for d in documents if _is_complete(vendor, d)]
        stored = sorted((SIGNED / vendor).glob("*.pdf"))
        identical = 0
        for document in finished:
            path = SIGNED / vendor / f"{_safe(document['id'])}.pdf"
            if path.exists() and path.read_bytes() == sandbox.pdf_bytes(vendor, document["id"]):
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
    raise SystemExit(main())
