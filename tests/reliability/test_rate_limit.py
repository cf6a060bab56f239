"""Client-side rate limiting: evenly spaced slots shared by hooks and processes of one host."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from airflow_provider_esign.exceptions import ESignRateLimitError
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.ratelimit import RateLimiter
from tests.reliability import _ratelimit_worker

INTERVAL = 60 / 60 * 1.01  # 60 calls a minute, with the limiter's 1% safety margin


class TestRateLimiter:
    def test_slots_are_evenly_spaced(self, tmp_path, clock):
        limiter = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, INTERVAL, 2 * INTERVAL])

    def test_instances_with_the_same_key_share_one_schedule(self, tmp_path, clock):
        first = RateLimiter("conn-a", 60, state_dir=str(tmp_path), clock=clock)
        second = RateLimiter("conn-a", 60, state_dir=str(tmp_path), clock=clock)
        other = RateLimiter("conn-b", 60, state_dir=str(tmp_path), clock=clock)
        delays = [first.reserve(), second.reserve(), first.reserve(), second.reserve()]
        assert delays == pytest.approx([0.0, INTERVAL, 2 * INTERVAL, 3 * INTERVAL])
        assert other.reserve() == 0.0  # another connection has its own budget
        assert first.path == second.path != other.path

    def test_idle_time_builds_no_burst(self, tmp_path, clock):
        limiter = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        limiter.reserve()
        clock.now += 600  # ten idle minutes
        assert [limiter.reserve() for _ in range(3)] == pytest.approx([0.0, INTERVAL, 2 * INTERVAL])

    def test_waiting_out_the_delay_lands_on_the_slot(self, tmp_path, clock):
        limiter = RateLimiter("k", 120, state_dir=str(tmp_path), clock=clock)
        for _ in range(5):
            clock.sleep(limiter.reserve())
        assert clock.sleeps == pytest.approx([0.0] + [0.505] * 4)

    def test_penalize_pushes_the_schedule_for_every_instance(self, tmp_path, clock):
        first = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        second = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        first.reserve()
        first.penalize(30)  # the vendor said Retry-After: 30
        assert second.reserve() == pytest.approx(30.0)
        second.penalize(1)  # a shorter penalty never pulls the schedule forward
        assert first.reserve() == pytest.approx(30.0 + INTERVAL)

    def test_disabled_limiter_never_waits_or_writes(self, tmp_path, clock):
        limiter = RateLimiter("k", 0, state_dir=str(tmp_path), clock=clock)
        assert not limiter.enabled
        assert [limiter.reserve() for _ in range(5)] == [0.0] * 5
        limiter.penalize(10)
        assert list(tmp_path.iterdir()) == []


def test_retry_after_is_honoured_and_shared_by_the_connections_hooks(make_connection, requests_mock, clock):
    base = "https://legalesign.invalid/api/v1"
    make_connection(
        "legalesign_rl",
        "legalesign",
        host=base,
        login="u",
        password="secret",
        group="acme",
        rate_limit_per_minute=60,
    )
    requests_mock.get(
        f"{base}/document/doc-1/",
        [
            {"status_code": 429, "headers": {"Retry-After": "3"}, "text": ""},
            {"json": {"uuid": "doc-1", "status": 10}},
        ],
    )
    requests_mock.get(f"{base}/document/doc-2/", json={"uuid": "doc-2", "status": 10})
    first = LegalesignHook("legalesign_rl", sleep=clock.sleep, clock=clock)
    second = LegalesignHook("legalesign_rl", sleep=clock.sleep, clock=clock)
    assert first.get_document("doc-1").document_id == "doc-1"
    assert second.get_document("doc-2").document_id == "doc-2"
    # The 429 waited exactly Retry-After; the other hook's next slot comes one interval later.
    assert clock.sleeps == pytest.approx([3.0, INTERVAL])


@pytest.mark.e2e
class TestAgainstTheSandboxLimit:
    """Time-scaled: the sandbox allows 20 Legalesign calls per 2 s (600 a minute) per sliding window."""

    LIMIT = {"legalesign": {"calls": 20, "window_seconds": 2, "retry_after": True}}

    @staticmethod
    def connect(sandbox, monkeypatch, per_minute: int) -> str:
        env = sandbox.airflow_connections(rate_limit_per_minute=per_minute, vendors=["legalesign"])
        conn_id = f"legalesign_rl{per_minute}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"])
        return conn_id

    def test_the_limit_bites_without_the_client_limiter(self, sandbox, monkeypatch):
        conn_id = self.connect(sandbox, monkeypatch, 0)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        hook = LegalesignHook(conn_id, max_attempts=1)
        with pytest.raises(ESignRateLimitError):
            for _ in range(40):
                hook.get_document(document["id"])
        assert sandbox.stats()["throttled"] == 1

    def test_two_worker_processes_stay_under_the_limit(self, sandbox, monkeypatch):
        """Two processes share the connection's budget through the limiter's state file: 60 calls
        against a 20-per-2-s vendor limit, not a single 429.

        The client runs at 570 a minute, 5% under the vendor: the limiter's own 1% margin is 0.6 s
        of a real 60 s window but only 20 ms of this time-scaled 2 s window, less than the
        scheduling jitter of a loaded two-core CI machine.
        """
        conn_id = self.connect(sandbox, monkeypatch, 570)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        started = time.monotonic()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            work = pool.starmap_async(_ratelimit_worker.read_documents, [(conn_id, document["id"], 30)] * 2)
            done = work.get(timeout=120)
        elapsed = time.monotonic() - started
        stats = sandbox.stats()
        assert done == [(30, ""), (30, "")]
        assert stats["requests"]["legalesign"] == 60
        assert stats["throttled"] == 0
        assert elapsed >= 59 * 60 / 570  # the slots were really spaced: 60 calls took 6 s, not a burst
