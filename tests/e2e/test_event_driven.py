"""Event-driven DAGs with real Airflow processes: a completed contract starts the DAG exactly once.

The test starts ``airflow api-server``, ``scheduler`` (LocalExecutor), ``dag-processor`` and
``triggerer`` as subprocesses on loopback against a temporary SQLite home, with the example DAG
``example_dags/esign_on_signed.py`` as the only DAG:

* watcher path: the DAG's ``DocumentCompletedEventTrigger`` watches the sandbox's Legalesign account;
  a document signed there starts the DAG once, and later polls do not start it again;
* webhook path: the sandbox's eSignBase "Document Completed Hook" posts to the plugin's endpoint
  ``/esign/webhooks/esignbase_default`` (no Airflow login, just ``X-Signature-Secret``); the completion
  starts the DAG once, a replayed delivery and a forged one do not.

The two paths watch different vendors so that each document can only come through one of them.
Every wait is bounded; the process groups are killed in ``finally``. Runs in about two minutes.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

EXAMPLE = pathlib.Path(__file__).parents[2] / "example_dags" / "esign_on_signed.py"
DAG_ID = "esign_on_signed"
COMPLETED_URI = "esign://completed-documents/"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_time(pid: int) -> int | None:
    """The process's start time (clock ticks since boot), to tell it from a later one with its pid."""
    try:
        return int(pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _descendants(root: int) -> dict[int, int | None]:
    """Every process below ``root`` with its start time (from /proc): children that left the
    process group are found too."""
    children: dict[int, list[int]] = {}
    proc = pathlib.Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: dict[int, int | None] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found[child] = _start_time(child)
                todo.append(child)
    return found


class Deployment:
    """Four Airflow components in their own process groups, logging to files in the home."""

    def __init__(self, home: pathlib.Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def airflow(self, *args: str, timeout: float) -> None:
        log = self.home / f"{args[0]}-{args[1] if len(args) > 1 else ''}.log"
        with log.open("wb") as out:
            subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, cwd=self.home,
                           stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=True)  # fmt: skip

    def start(self, name: str, *args: str) -> None:
        out = (self.home / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", name, *args],
            env=self.env,
            cwd=self.home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited with {process.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.home / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop_one(self, name: str) -> None:
        """Stop one component as a deployment would (SIGTERM, then SIGKILL if it lingers)."""
        self._stop({name: self.processes.pop(name)})

    def stop(self) -> None:
        self._stop(self.processes)

    @staticmethod
    def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
        below = {p.pid: _descendants(p.pid) for p in processes.values() if p.poll() is None}
        for process in processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
        for process in processes.values():
            if process.poll() is None:  # not reaped, so its pid (= group id) is still ours
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
        for descendants in below.values():
            for pid, started in descendants.items():
                if started is not None and _start_time(pid) == started:  # still that same process
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(5)

    # ---------------------------------------------------------------- reading state
    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.home / 'airflow.db'}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def dag_runs(self) -> list[tuple[str, str]]:
        return self.query("SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id", DAG_ID)

    def completion_events(self) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ? ORDER BY e.id",
            COMPLETED_URI,
        )
        return [json.loads(extra) for (extra,) in rows]

    def contracts(self) -> list[tuple[str, str, str, int]]:
        path = self.home / "contracts.db"
        if not path.exists():
            return []
        db = sqlite3.connect(path, timeout=10)
        try:
            return db.execute(
                "SELECT vendor, document_id, source, size FROM completed_contracts ORDER BY vendor"
            ).fetchall()
        finally:
            db.close()

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **(headers or {})})  # fmt: skip
        try:
            with _NO_PROXY.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def get_status(self, path: str) -> int:
        try:
            with _NO_PROXY.open(self.url + path, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0


def wait_for(what: str, condition: Callable[[], Any], deployment: Deployment, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment.check_alive()
        try:
            value = condition()
        except sqlite3.OperationalError:  # table not created yet, or briefly locked
            value = None
        if value:
            return value
        time.sleep(0.5)
    logs = "\n".join(f"--- {n}\n{deployment.tail(n)}" for n in deployment.processes)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")


@pytest.fixture
def deployment(tmp_path, esign_sandbox_clean):
    try:
        port = _free_port()
    except OSError as exc:  # pragma: no cover - only where loopback sockets are forbidden
        pytest.skip(f"cannot bind a loopback port for the Airflow API server: {exc}")
    sandbox = esign_sandbox_clean
    sandbox.configure(sign_delay=None, send_delay=0, pdf_delay=0)
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    shutil.copy(EXAMPLE, home / "dags" / EXAMPLE.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(sandbox.airflow_connections(rate_limit_per_minute=0))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": base64.b64encode(os.urandom(24)).decode(),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "ESIGN_ON_SIGNED_CONN_ID": "legalesign_default",
            "ESIGN_ON_SIGNED_POLL_INTERVAL": "1",
            "ESIGN_ETL_DB": str(home / "contracts.db"),
            "ESIGN_SIGNED_DIR": str(home / "signed"),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    deployment = Deployment(home, env, port)
    try:
        deployment.airflow("db", "migrate", timeout=180)
        deployment.start("api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        deployment.start("scheduler")
        deployment.start("dag-processor")
        deployment.start("triggerer")
        yield deployment, sandbox
    finally:
        deployment.stop()
        sandbox.configure(webhook_url=None)


def test_a_completed_contract_starts_the_dag_once_via_the_watcher_and_once_via_the_webhook(deployment):
    airflow, sandbox = deployment
    wait_for("the API server", lambda: airflow.get_status("/api/v2/monitor/health") == 200, airflow, 120)
    # The example DAG parsed, unpaused, its watcher's trigger registered and polling Legalesign.
    wait_for(
        "the watcher trigger",
        lambda: airflow.query("SELECT id FROM trigger WHERE classpath LIKE '%DocumentCompletedEventTrigger'"),
        airflow,
        120,
    )
    # A second poll proves the first one, the baseline, is complete: what completes now is new.
    wait_for("the watcher's baseline poll and one more", lambda: _list_calls(sandbox) >= 2, airflow, 90)

    # ---- watcher path: a Legalesign contract signed in the sandbox
    signed_here = sandbox.create_document("legalesign", name="Watched contract", status="sent")["id"]
    sandbox.sign("legalesign", signed_here)
    runs = wait_for("a successful run from the watcher", lambda: _successes(airflow), airflow, 120)
    assert len(runs) == 1
    (event,) = airflow.completion_events()
    assert event["from_trigger"] is True
    assert event["payload"]["document_id"] == signed_here and event["payload"]["source"] == "watcher"
    polls = _list_calls(sandbox)
    wait_for("three more watcher polls", lambda: _list_calls(sandbox) >= polls + 3, airflow, 60)
    # No second announcement, and nothing queued that would become a second run.
    assert len(airflow.completion_events()) == 1
    assert airflow.query("SELECT count(*) FROM asset_dag_run_queue") == [(0,)]
    assert len(airflow.dag_runs()) == 1

    # ---- triggerer restart, with a contract completed while it was down
    tables = {name for (name,) in airflow.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    has_store = "asset_state_store" in tables  # Airflow 3.3+
    if has_store:
        (value,) = airflow.query(
            "SELECT value FROM asset_state_store WHERE key LIKE 'esign.completed_cursor.legalesign_default.%'"
        )[0]
        assert signed_here in {document_id for document_id, _ in json.loads(value)["seen"]}
    airflow.stop_one("triggerer")
    while_down = sandbox.create_document("legalesign", name="Signed while down", status="sent")["id"]
    sandbox.sign("legalesign", while_down)
    polls = _list_calls(sandbox)
    airflow.start("triggerer")
    wait_for("three polls after the restart", lambda: _list_calls(sandbox) >= polls + 3, airflow, 120)
    if has_store:  # resumed from the stored cursor: the missed completion comes now, the old one not again
        wait_for("the completion while down", lambda: len(airflow.completion_events()) >= 2, airflow, 60)
    announced = [e["payload"]["document_id"] for e in airflow.completion_events()]
    if has_store:
        assert announced == [signed_here, while_down]
        wait_for("the run for it", lambda: len(_successes(airflow)) == 2, airflow, 120)
    else:  # no store: a fresh baseline, so nothing is repeated and the completion while down is missed
        assert announced == [signed_here]
    watcher_runs = len(announced)

    # ---- webhook path: eSignBase's Document Completed Hook posts to the plugin's endpoint
    hook_url = f"{airflow.url}/esign/webhooks/esignbase_default"
    assert airflow.get_status("/api/v2/dags") == 401  # the Airflow API wants a login; the webhook does not
    sandbox.configure(webhook_url=hook_url)
    delivered = sandbox.create_document("esignbase", name="Hooked contract", status="sent")["id"]
    sandbox.sign("esignbase", delivered)
    wait_for(
        "a successful run from the webhook",
        lambda: len(_successes(airflow)) == watcher_runs + 1,
        airflow,
        120,
    )
    deliveries = [d for d in sandbox.webhook_deliveries() if d["document_id"] == delivered]
    assert [d["status_code"] for d in deliveries] == [200]

    secret = sandbox.config()["esignbase_webhook_secret"]
    body = {"document_id": delivered, "status": "COMPLETED"}
    assert airflow.post("/esign/webhooks/esignbase_default", body, {"X-Signature-Secret": secret}) == 200
    assert airflow.post("/esign/webhooks/esignbase_default", body, {"X-Signature-Secret": "forged"}) == 401
    assert airflow.post("/esign/webhooks/esignbase_default", body) == 401
    events = airflow.completion_events()  # the replay and the forgeries recorded nothing ...
    assert airflow.query("SELECT count(*) FROM asset_dag_run_queue") == [(0,)]  # ... so queued no run
    assert len(airflow.dag_runs()) == watcher_runs + 1
    assert [(e["payload"]["document_id"], e["payload"]["source"]) for e in events] == [
        *[(document_id, "watcher") for document_id in announced],
        (delivered, "webhook"),
    ]
    assert events[-1]["from_webhook"] is True

    # The DAG fetched both PDFs and loaded one row per contract.
    rows = airflow.contracts()
    assert sorted((vendor, doc, source) for vendor, doc, source, _ in rows) == sorted(
        [("esignbase", delivered, "webhook"), *[("legalesign", d, "watcher") for d in announced]]
    )
    assert all(size > 1000 for *_, size in rows)
    assert sorted(p.name for p in (airflow.home / "signed").iterdir()) == sorted(
        [f"esignbase-{delivered}.pdf", *[f"legalesign-{d}.pdf" for d in announced]]
    )


def _successes(airflow: Deployment) -> list[str]:
    runs = airflow.dag_runs()
    failed = [run_id for run_id, state in runs if state == "failed"]
    if failed:
        logs = sorted((airflow.home / "logs").rglob("*.log"))
        raise AssertionError(f"run(s) {failed} failed:\n" + "\n".join(p.read_text()[-3000:] for p in logs))
    return [run_id for run_id, state in runs if state == "success"]


def _list_calls(sandbox) -> int:
    """Legalesign document-list requests so far: the watcher's polls."""
    routes = sandbox.stats()["routes"].items()
    return sum(
        n for route, n in routes if route.startswith("legalesign GET") and route.endswith("/document/")
    )
