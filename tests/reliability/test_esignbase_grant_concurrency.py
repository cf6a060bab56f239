"""One eSignBase Authorization Code grant shared by 8 worker processes and a trigger's async path.

Every round expires all access tokens at the sandbox, then every process makes a call at once: all get
a 401, all want to refresh, exactly one may (a second refresh would reuse a rotated refresh token, which
the sandbox, like many OAuth servers, punishes by revoking the whole grant). Through 20 forced rotations
nothing may be lost: no invalid_grant, no reuse detected, every call succeeds, exactly one rotation per
round. The second test SIGKILLs a refresher while it holds the refresh lock (at a known point, not after
a guessed sleep): the others wait out its lease and carry on.

Real parts: separate OS processes, a real redis-server, the sandbox over HTTP, Airflow's Fernet.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.deployment.services import free_port, redis_server
from tests.unit.hooks.esignbase.grant_helpers import (
    FERNET_KEY,
    AuthorizeRun,
    clear_fernet_cache,
    consent,
    grant_connection,
    use_fernet_key,
)

CONN = "esignbase_shared_grant"
ROUNDS = 20
WORKERS = 8
ROOT = Path(__file__).resolve().parents[2]

# 8 processes through 20 rotations, twice: minutes on 2 cores, so once per CI run (the Airflow 3.3 pass).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as server:
        yield server.url


@pytest.fixture
def shared_grant(esign_sandbox_clean, redis_url, monkeypatch):
    """An authorized grant (the authorize command, consent approved) and the env the workers inherit."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    use_fernet_key(monkeypatch)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    esign_sandbox_clean.configure(esignbase_redirect_uris=[redirect_uri], sign_delay=None)
    # A 5 s lease: a live holder renews it every 1.7 s; only a dead holder's runs out.
    connection = grant_connection(esign_sandbox_clean.url, redis_url, redirect_uri, refresh_lock_lease=5)
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", connection)
    run = AuthorizeRun(CONN)
    assert consent(run.url).status_code == 200
    run.join()
    assert run.error is None, run.error
    env = dict(os.environ, AIRFLOW__CORE__FERNET_KEY=FERNET_KEY, PYTHONPATH=str(ROOT))
    yield esign_sandbox_clean, env
    clear_fernet_cache()


class Worker:
    def __init__(self, env: dict[str, str], *flags: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability._grant_worker", CONN, *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        assert self.result() == "ready"

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def result(self) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:  # Airflow may print its own lines: skip them
            if line.startswith("RESULT "):
                return line[len("RESULT ") :].strip()
        raise AssertionError(f"worker exited with {self.process.wait()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def grant_events(sandbox) -> dict:
    return requests.get(sandbox.url + "/_sandbox/esignbase/oauth/events", timeout=10).json()


def expire_access_tokens(sandbox) -> int:
    response = requests.post(sandbox.url + "/_sandbox/esignbase/oauth/expire-access-tokens", timeout=10)
    response.raise_for_status()
    return response.json()["expired"]


def run_rounds(sandbox, workers: list[Worker], victim: Worker | None = None, kill_round: int = -1) -> None:
    for index, worker in enumerate(workers + ([victim] if victim else [])):
        worker.command(f"send grant-doc-{index}")
    for worker in workers + ([victim] if victim else []):
        assert worker.result().startswith("ok "), "send failed"
    for round_number in range(ROUNDS):
        assert expire_access_tokens(sandbox) >= 1
        if round_number == kill_round and victim is not None:
            # The victim goes first, takes the lock and stops right there; then it dies holding it.
            victim.command("hang-read")
            assert victim.result() == "holding"
            victim.process.send_signal(signal.SIGKILL)
            victim.process.wait()
        # Until it dies, the victim is an ordinary worker (with the current token, so it refreshes).
        current = workers + ([victim] if victim and victim.process.poll() is None else [])
        for worker in current:
            worker.command("read")
        outcomes = [worker.result() for worker in current]
        assert all(o.startswith("ok ") for o in outcomes), (round_number, outcomes)


def assert_nothing_lost(sandbox, documents: int) -> None:
    state = grant_events(sandbox)
    kinds = [e["event"] for e in state["events"]]
    assert "reuse_detected" not in kinds and "family_revoked" not in kinds
    assert kinds.count("rotated") == ROUNDS  # one refresh per forced expiry, never two
    (family,) = state["families"].values()
    assert family == {"revoked": None, "rotations": ROUNDS}
    assert len(sandbox.documents("esignbase")) == documents  # every send happened exactly once


def test_eight_workers_and_a_trigger_share_one_rotating_grant(shared_grant):
    sandbox, env = shared_grant
    workers = [Worker(env) for _ in range(WORKERS)] + [Worker(env, "--async")]
    try:
        run_rounds(sandbox, workers)
    finally:
        for worker in workers:
            worker.stop()
    assert_nothing_lost(sandbox, documents=len(workers))


def test_a_refresher_killed_while_holding_the_lock_loses_nothing(shared_grant):
    sandbox, env = shared_grant
    workers = [Worker(env) for _ in range(WORKERS)] + [Worker(env, "--async")]
    victim = Worker(env, "--victim")
    try:
        run_rounds(sandbox, workers, victim, kill_round=ROUNDS // 2)
    finally:
        for worker in [*workers, victim]:
            worker.stop()
    assert victim.process.returncode == -signal.SIGKILL
    # It died holding the lock: the lock was taken at the kill and is gone now only by its lease.
    assert_nothing_lost(sandbox, documents=len(workers) + 1)
