"""Where users run Airflow: PostgreSQL metadata DB, CeleryExecutor with two workers, Redis broker.

The test starts, on 127.0.0.1 only: PostgreSQL and Redis (OS packages, installed with apt-get when
missing), then ``airflow db migrate`` on Postgres, the API server (two worker processes), scheduler,
DAG processor, triggerer and two Celery workers. The workers keep their rate-limiter local state in
separate folders, as on two hosts, and share only Redis (``rate_limit_storage``). Then:

1. ``esign_batch_contracts`` (the example DAG) sends 60 Legalesign contracts while the sandbox enforces
   Legalesign's 100 calls a minute, time-scaled to 100 calls per 3 s: no 429, one document per send,
   every PDF stored byte-identical;
2. while sends are in flight, worker A is killed with SIGKILL: the scheduler notices the lost
   heartbeats, and the retries on worker B still end with exactly one document per contract;
3. 20 concurrent deliveries of one eSignBase "Document Completed" webhook through the API server
   record exactly one asset event and start ``esign_on_signed`` exactly once (Postgres row lock).

Everything started here is stopped by process id (process groups, then any descendant left).
"""

from __future__ import annotations

import base64
import contextlib
import csv
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.deployment.services import free_port, postgres_server, redis_server
from tests.e2e.test_event_driven import COMPLETED_URI, Deployment, _descendants, _start_time, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLES = ROOT / "example_dags"
BATCH, ON_SIGNED = "esign_batch_contracts", "esign_on_signed"
CRON = 'schedule="0 7 * * 1-5"'
DOCUMENTS = 60
#: Legalesign's documented 100 calls a minute, twice as fast: 100 per 30 s. Faster would not shorten
#: the run (Airflow's own task overhead on two cores is the bottleneck) but would stop the limit from
#: ever biting during the send phase.
VENDOR_LIMIT = {"legalesign": {"calls": 100, "window_seconds": 30, "retry_after": True}}
#: The client runs 5% under it, for jitter between a slot's start and the call's arrival.
CLIENT_PER_MINUTE = 190
#: Celery workers as two hosts would run them: no log server, no chatter between them.
_WORKER = ("--skip-serve-logs", "--without-gossip", "--without-mingle")
LOCAL_DIRS = ("ratelimit-a", "ratelimit-b")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CeleryDeployment(Deployment):
    """The event-driven test's Deployment, reading its state from PostgreSQL."""

    def __init__(self, home: pathlib.Path, env: dict[str, str], port: int, pg_port: int) -> None:
        super().__init__(home, env, port)
        self.pg_port = pg_port
        self.limiter_url = ""

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname="airflow")
        try:
            with conn.cursor() as cur:
                cur.execute(sql.replace("?", "%s"), params)
                return list(cur.fetchall())
        finally:
            conn.close()

    def start_worker(self, name: str, rate_limit_dir: pathlib.Path) -> None:
        """A Celery worker with its own local rate-limit state and task-instance hostname."""
        env = {
            **self.env,
            "AIRFLOW__ESIGN__RATELIMIT_DIR": str(rate_limit_dir),
            "ESIGN_WORKER_HOSTNAME": name,
        }
        with (self.home / f"{name}.log").open("ab") as out:
            self.processes[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "airflow",
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{name}@%h",
                    *_WORKER,
                ],
                env=env,
                cwd=self.home,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def sigkill(self, name: str) -> None:
        """SIGKILL a component with everything below it: no cleanup, as when a host dies."""
        process = self.processes.pop(name)
        below = _descendants(process.pid)
        os.killpg(process.pid, signal.SIGKILL)
        for pid, started in below.items():
            if started is not None and _start_time(pid) == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.wait(10)

    def runs(self, dag_id: str) -> list[tuple[str, str]]:
        return self.query("SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id", dag_id)

    def tis(self, task_id: str) -> list[tuple[int, str, int, str]]:
        return self.query(
            "SELECT map_index, state, try_number, hostname FROM task_instance "
            "WHERE dag_id = ? AND task_id = ? ORDER BY map_index",
            BATCH,
            task_id,
        )


def _write_recipients(path: pathlib.Path) -> list[str]:
    names = []
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "company", "contract"])
        for n in range(DOCUMENTS):
            writer.writerow([f"Signer {n}", f"signer{n}@example.com", f"Company {n}", f"Agreement {n}"])
            names.append(f"Agreement {n} - Company {n}")
    return names


def _legalesign_connection(sandbox, redis_url: str) -> dict[str, str]:
    import json

    env = sandbox.airflow_connections(rate_limit_per_minute=0)
    legalesign = json.loads(env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"])
    legalesign["extra"].update(rate_limit_per_minute=CLIENT_PER_MINUTE, rate_limit_storage=redis_url)
    env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"] = json.dumps(legalesign)
    return env


@pytest.fixture
def deployment(tmp_path, esign_sandbox_clean):
    sandbox = esign_sandbox_clean
    started = time.monotonic()
    with postgres_server() as postgres, redis_server() as redis:
        home = tmp_path / "airflow"
        (home / "dags").mkdir(parents=True)
        shutil.copy(EXAMPLES / f"{ON_SIGNED}.py", home / "dags" / f"{ON_SIGNED}.py")
        # The batch example as shipped, but without its weekday cron: on first parse Airflow would
        # start the latest missed 07:00 run (default connection, default CSV) beside the test's run.
        batch = (EXAMPLES / f"{BATCH}.py").read_text()
        assert CRON in batch
        (home / "dags" / f"{BATCH}.py").write_text(batch.replace(CRON, "schedule=None"))
        shutil.copytree(EXAMPLES / "data", home / "dags" / "data")
        port = free_port()
        broker, limiter = f"{redis.url[:-2]}/0", f"{redis.url[:-2]}/1"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
        env.update(_legalesign_connection(sandbox, limiter))
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres.url,
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": broker,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + postgres.url,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
                "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "16",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
                "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.deployment.worker_hostname.get",
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__API_AUTH__JWT_SECRET": base64.b64encode(os.urandom(64)).decode(),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # A killed worker's task instances stop heartbeating; fail them over within seconds.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "10",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
                # A task the dead worker had prefetched but not started stays unacked in Redis until
                # the broker's visibility timeout (24 h); the scheduler re-queues it after this.
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "30",
                "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "5",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                "ESIGN_EXAMPLE_POLL_SECONDS": "1",
                # The event-driven DAG's watcher looks at an account this test leaves empty.
                "ESIGN_ON_SIGNED_CONN_ID": "wesignature_default",
                "ESIGN_ON_SIGNED_POLL_INTERVAL": "30",
                "ESIGN_ETL_DB": str(home / "contracts.db"),
                "ESIGN_SIGNED_DIR": str(home / "signed-on-event"),
                "NO_PROXY": "127.0.0.1,localhost",
            }
        )
        airflow = CeleryDeployment(home, env, port, postgres.port)
        airflow.limiter_url = limiter
        try:
            airflow.airflow("db", "migrate", timeout=240)
            migrated = time.monotonic()
            airflow.start("api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
            airflow.start("scheduler")
            airflow.start("dag-processor")
            airflow.start("triggerer")
            for name, local_dir in zip(("worker-a", "worker-b"), LOCAL_DIRS, strict=True):
                airflow.start_worker(name, tmp_path / local_dir)
            print(f"\n[deployment] postgres+redis+migrate: {migrated - started:.0f}s")
            yield airflow, sandbox
        finally:
            airflow.stop()
            sandbox.configure(rate_limits={})


def _post_concurrently(url: str, body: bytes, headers: dict[str, str], count: int) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def deliver() -> None:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        barrier.wait(30)
        try:
            with _NO_PROXY.open(request, timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=deliver) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def test_celery_workers_on_postgres_keep_the_rate_limit_exactly_once_and_webhook_dedup(deployment, tmp_path):
    import json

    airflow, sandbox = deployment
    test_started = time.monotonic()
    sandbox.configure(sign_delay=0.2, send_delay=0.05, pdf_delay=0.05, rate_limits=VENDOR_LIMIT)
    expected_names = _write_recipients(tmp_path / "recipients.csv")
    destination = tmp_path / "signed"
    wait_for("the API server", lambda: airflow.get_status("/api/v2/monitor/health") == 200, airflow, 180)
    wait_for("both DAGs parsed", lambda: len(airflow.query("SELECT dag_id FROM dag")) >= 2, airflow, 180)

    # ---- 1 + 2: the batch, with worker A killed while its sends are in flight
    conf = {"conn_id": "legalesign_default", "recipients_csv": str(tmp_path / "recipients.csv")}
    conf["destination"] = str(destination)
    airflow.airflow("dags", "trigger", BATCH, "-c", json.dumps(conf), timeout=120)
    batch_started = time.monotonic()

    def sends_in_flight_on_a():
        if len(sandbox.documents("legalesign")) < 10:  # mid-batch, not at its start
            return []
        return [ti for ti in airflow.tis("send") if ti[1] == "running" and ti[3] == "worker-a"]

    wait_for("sends in flight on worker A, mid-batch", sends_in_flight_on_a, airflow, 240)
    airflow.sigkill("worker-a")
    # Read after the kill: a send that finished between the check above and the kill is not in
    # flight; what a dead worker still holds as running is.
    killed = {
        map_index
        for map_index, state, _, host in airflow.tis("send")
        if (state, host) == ("running", "worker-a")
    }
    assert killed, "every send on worker A finished before the kill: nothing was in flight"
    sent_at_kill = len(sandbox.documents("legalesign"))
    runs = wait_for(
        "the batch run to finish",
        lambda: [r for r in airflow.runs(BATCH) if r[1] in ("success", "failed")],
        airflow,
        420,
    )
    batch_seconds = time.monotonic() - batch_started
    assert runs[0][1] == "success", airflow.tail("worker-b", 80)
    assert len(airflow.runs(BATCH)) == 1  # the trigger's run only, nothing from the schedule

    documents = sandbox.documents("legalesign")
    stats = sandbox.stats()
    assert stats["throttled"] == 0, stats
    assert sorted(d["name"] for d in documents) == sorted(expected_names)  # one document per send
    stored = sorted(destination.iterdir())
    assert len(stored) == DOCUMENTS
    pdfs = {sandbox.pdf_bytes("legalesign", d["id"]) for d in documents}
    assert all(path.read_bytes() in pdfs for path in stored)  # every stored PDF byte-identical ...
    assert len({path.read_bytes() for path in stored}) == DOCUMENTS  # ... and each a different document

    # Both workers and the triggerer took their slots from Redis, none from host-local state.
    import redis

    client = redis.Redis.from_url(airflow.limiter_url)
    assert client.keys("airflow-esign:ratelimit:*"), "no rate-limit schedule in Redis"
    client.close()
    assert not any((tmp_path / name).exists() and any((tmp_path / name).iterdir()) for name in LOCAL_DIRS)

    sends = {map_index: (state, tries, host) for map_index, state, tries, host in airflow.tis("send")}
    assert len(sends) == DOCUMENTS
    assert all(state == "success" for state, _, _ in sends.values())
    for map_index in killed:  # what worker A had in flight was retried, and finished on worker B
        _, tries, host = sends[map_index]
        assert tries >= 2 and host == "worker-b", (map_index, sends[map_index])
    print(
        f"\n[deployment] batch of {DOCUMENTS}: {batch_seconds:.0f}s, {stats['requests']['legalesign']} "
        f"Legalesign calls, 0 throttled; worker A killed after {sent_at_kill} sends with "
        f"{len(killed)} in flight"
    )

    # ---- 3: 20 concurrent deliveries of one eSignBase webhook, through the API server
    document = sandbox.create_document("esignbase", name="Hooked contract", status="completed")
    secret = sandbox.config()["esignbase_webhook_secret"]
    body = json.dumps({"document_id": document["id"], "status": "COMPLETED"}).encode()
    headers = {"Content-Type": "application/json", "X-Signature-Secret": secret}
    statuses = _post_concurrently(f"{airflow.url}/esign/webhooks/esignbase_default", body, headers, 20)
    assert statuses == [200] * 20
    events = airflow.query(
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ?", COMPLETED_URI
    )
    extras = [extra if isinstance(extra, dict) else json.loads(extra) for (extra,) in events]
    assert [extra["payload"]["document_id"] for extra in extras] == [document["id"]]
    wait_for("the downstream run", lambda: "success" in {s for _, s in airflow.runs(ON_SIGNED)}, airflow, 180)
    time.sleep(3)  # a few scheduler loops: a duplicate event would queue a second run by now
    assert len(airflow.runs(ON_SIGNED)) == 1
    assert airflow.query("SELECT count(*) FROM asset_dag_run_queue") == [(0,)]
    print(f"[deployment] test body: {time.monotonic() - test_started:.0f}s", file=sys.stderr)
