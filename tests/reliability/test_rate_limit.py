"""Client-side rate limiting: evenly spaced slots shared by hooks and processes of one host (local
storage) or of many hosts (Redis storage, against a real redis-server started here)."""

from __future__ import annotations

import asyncio
import itertools
import json
import multiprocessing
import time
import uuid

import pytest

from airflow_provider_esign.exceptions import ESignRateLimitError, ESignValidationError
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.ratelimit import RateLimiter, RateLimitStorageError
from tests.deployment.services import free_port, redis_server
from tests.reliability import _ratelimit_worker

#: The [esign] ratelimit_storage option in Airflow's environment-variable form.
STORAGE_ENV = "AIRFLOW__ESIGN__RATELIMIT_STORAGE"

INTERVAL = 60 / 60 * 1.01  # 60 calls a minute, with the limiter's 1% safety margin
# Redis storage runs on the Redis server's real clock: delays move by the time the test itself takes.
REAL_TIME = 0.06


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def legalesign_connection(make_connection, conn_id: str, **extra) -> str:
    """A Legalesign connection at 60 calls a minute; returns its API base URL."""
    base = "https://legalesign.invalid/api/v1"
    make_connection(
        conn_id,
        "legalesign",
        host=base,
        login="u",
        password="secret",
        group="acme",
        rate_limit_per_minute=60,
        **extra,
    )
    return base


def _reserve_in_child(limiter: RateLimiter, pipe) -> None:
    pipe.send(limiter.reserve())


def _reserve_on_cue(state_dir: str, barrier, results) -> None:
    barrier.wait()
    try:
        results.put(("ok", RateLimiter("k", 6000, state_dir=state_dir).reserve()))
    except Exception as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def unique_key() -> str:
    return f"legalesign|https://example.invalid/{uuid.uuid4().hex}|user"


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

    @pytest.mark.parametrize("retry_after", [3600.0, 2.3e9, float("inf"), float("nan")])
    def test_a_penalty_never_pushes_the_schedule_beyond_the_cap(self, tmp_path, clock, retry_after):
        limiter = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock, max_penalty=5)
        limiter.reserve()
        limiter.penalize(retry_after)  # no OverflowError for inf either
        assert limiter.reserve() <= 5.0

    def test_disabled_limiter_never_waits_or_writes(self, tmp_path, clock):
        limiter = RateLimiter("k", 0, state_dir=str(tmp_path), clock=clock)
        assert not limiter.enabled
        assert [limiter.reserve() for _ in range(5)] == [0.0] * 5
        limiter.penalize(10)
        assert list(tmp_path.iterdir()) == []

    def test_a_forked_child_shares_the_schedule_on_its_own_connection(self, tmp_path, clock):
        parent = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        assert parent.reserve() == 0.0  # the parent now holds an open SQLite connection
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_reserve_in_child, args=(parent, send))
        child.start()
        child.join(30)
        assert child.exitcode == 0
        assert receive.recv() == pytest.approx(INTERVAL)
        assert parent.reserve() == pytest.approx(2 * INTERVAL)

    def test_processes_starting_together_on_a_fresh_host_all_get_a_slot(self, tmp_path):
        """The first tasks of a batch start at once, before any schedule file exists."""
        context = multiprocessing.get_context("fork")
        processes, rounds = 12, 15
        outcomes = []
        for round_ in range(rounds):
            state_dir = str(tmp_path / f"host-{round_}")
            barrier, results = context.Barrier(processes), context.Queue()
            children = [
                context.Process(target=_reserve_on_cue, args=(state_dir, barrier, results))
                for _ in range(processes)
            ]
            for child in children:
                child.start()
            outcomes += [results.get(timeout=60) for _ in children]
            for child in children:
                child.join(30)
            files = sorted(p.name for p in (tmp_path / f"host-{round_}").iterdir())
            assert not [f for f in files if f.startswith(".draft-")], files  # no build leftovers
        assert [o for o in outcomes if o[0] == "error"] == []
        assert len(outcomes) == processes * rounds

    async def test_areserve_takes_slots_from_the_same_schedule(self, tmp_path, clock):
        sync = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        triggerer = RateLimiter("k", 60, state_dir=str(tmp_path), clock=clock)
        assert sync.reserve() == 0.0
        assert await triggerer.areserve() == pytest.approx(INTERVAL)
        await triggerer.apenalize(20)
        assert sync.reserve() == pytest.approx(20.0)


class TestStorageOption:
    def test_unknown_storage_is_rejected_naming_the_field(self):
        with pytest.raises(ESignValidationError, match="rate_limit_storage"):
            RateLimiter("k", 60, storage="memcached://127.0.0.1:11211")

    def test_environment_default_applies_to_every_connection(self, monkeypatch):
        monkeypatch.setenv(STORAGE_ENV, "redis://127.0.0.1:6379/3")
        assert RateLimiter("k", 60).storage == "redis://127.0.0.1:6379/3"
        assert RateLimiter("k", 60, storage="local").storage == "local"  # the connection extra wins
        monkeypatch.delenv(STORAGE_ENV)
        assert RateLimiter("k", 60).storage == "local"

    def test_bad_connection_extra_fails_before_any_http_call(self, make_connection, requests_mock):
        legalesign_connection(
            make_connection, "legalesign_bad_storage", rate_limit_storage="redis.internal:6379"
        )
        hook = LegalesignHook("legalesign_bad_storage")
        with pytest.raises(ESignValidationError, match="rate_limit_storage"):
            hook.get_document("doc-1")
        assert requests_mock.call_count == 0

    def test_unreachable_redis_fails_clearly_without_leaking_its_password(self):
        limiter = RateLimiter("k", 60, storage=f"redis://:hunter2@127.0.0.1:{free_port()}/0")
        with pytest.raises(RateLimitStorageError) as caught:
            limiter.reserve()
        assert "unreachable" in str(caught.value)
        assert "hunter2" not in str(caught.value)


class TestRedisStorage:
    """Limiters with separate local state (as on two hosts) sharing one schedule through Redis."""

    @staticmethod
    def two_hosts(tmp_path, redis_url, per_minute: float = 60) -> tuple[RateLimiter, RateLimiter]:
        key = unique_key()
        return (
            RateLimiter(key, per_minute, storage=redis_url, state_dir=str(tmp_path / "host-a")),
            RateLimiter(key, per_minute, storage=redis_url, state_dir=str(tmp_path / "host-b")),
        )

    def test_hosts_share_one_evenly_spaced_schedule(self, tmp_path, redis_url):
        host_a, host_b = self.two_hosts(tmp_path, redis_url)
        delays = [host_a.reserve(), host_b.reserve(), host_a.reserve(), host_b.reserve()]
        assert delays == pytest.approx([0.0, INTERVAL, 2 * INTERVAL, 3 * INTERVAL], abs=REAL_TIME)
        other = RateLimiter(unique_key(), 60, storage=redis_url)
        assert other.reserve() == pytest.approx(0.0, abs=REAL_TIME)  # another connection, its own budget
        assert list(tmp_path.iterdir()) == []  # no local state written

    def test_retry_after_pushes_the_schedule_on_every_host(self, tmp_path, redis_url):
        host_a, host_b = self.two_hosts(tmp_path, redis_url)
        host_a.reserve()
        host_a.penalize(30)
        assert host_b.reserve() == pytest.approx(30.0, abs=REAL_TIME)
        host_b.penalize(1)  # a shorter penalty never pulls the schedule forward
        assert host_a.reserve() == pytest.approx(30.0 + INTERVAL, abs=REAL_TIME)

    async def test_a_penalty_never_pushes_the_shared_schedule_beyond_the_cap(self, tmp_path, redis_url):
        key = unique_key()
        worker = RateLimiter(key, 60, storage=redis_url, max_penalty=5)
        triggerer = RateLimiter(key, 60, storage=redis_url, max_penalty=5)
        worker.reserve()
        worker.penalize(3600)
        await triggerer.apenalize(float("inf"))
        assert worker.reserve() <= 5.0 + REAL_TIME
        assert await triggerer.areserve() <= 5.0 + INTERVAL + REAL_TIME

    def test_the_schedule_expires_from_redis(self, tmp_path, redis_url, redis_client):
        host_a, _ = self.two_hosts(tmp_path, redis_url)
        host_a.reserve()
        ttl_ms = redis_client.pttl(host_a.redis_key)
        assert 0 < ttl_ms <= 3_600_000

    async def test_triggerer_and_workers_share_the_budget(self, tmp_path, redis_url):
        worker, triggerer = self.two_hosts(tmp_path, redis_url)
        assert worker.reserve() == pytest.approx(0.0, abs=REAL_TIME)
        assert await triggerer.areserve() == pytest.approx(INTERVAL, abs=REAL_TIME)
        await triggerer.apenalize(20)
        assert worker.reserve() == pytest.approx(20.0, abs=REAL_TIME)

    async def test_concurrent_async_reservations_get_distinct_slots(self, tmp_path, redis_url):
        _, triggerer = self.two_hosts(tmp_path, redis_url, per_minute=600)
        delays = sorted(await asyncio.gather(*(triggerer.areserve() for _ in range(10))))
        gaps = [later - earlier for earlier, later in itertools.pairwise(delays)]
        assert min(gaps) == pytest.approx(0.101, abs=REAL_TIME)  # one slot each, never two in one


def test_retry_after_is_honoured_and_shared_by_the_connections_hooks(make_connection, requests_mock, clock):
    base = legalesign_connection(make_connection, "legalesign_rl")
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
    """Time-scaled: the sandbox allows 60 Legalesign calls per 6 s (600 a minute) per sliding window.

    Each worker makes :data:`CALLS` reads, so two fill the window twice. A call that leaves later than
    its slot (its process was descheduled) moves into the next window; at this scale a window holds
    about 380 ms of margin (5 % under the vendor, see below), more than a loaded CI machine's jitter.
    """

    LIMIT = {"legalesign": {"calls": 60, "window_seconds": 6, "retry_after": True}}
    CALLS = 60

    @staticmethod
    def connect(sandbox, monkeypatch, per_minute: int, storage: str = "") -> str:
        env = sandbox.airflow_connections(rate_limit_per_minute=per_minute, vendors=["legalesign"])
        connection = json.loads(env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"])
        if storage:
            connection["extra"]["rate_limit_storage"] = storage
        conn_id = f"legalesign_rl{per_minute}{'_redis' if storage else ''}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))
        return conn_id

    @staticmethod
    def run_two_workers(conn_id: str, document_id: str, state_dirs: tuple[str, str]) -> list:
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            work = pool.starmap_async(
                _ratelimit_worker.read_documents,
                [(conn_id, document_id, TestAgainstTheSandboxLimit.CALLS, d) for d in state_dirs],
            )
            return work.get(timeout=120)

    def test_the_limit_bites_without_the_client_limiter(self, sandbox, monkeypatch):
        conn_id = self.connect(sandbox, monkeypatch, 0)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        hook = LegalesignHook(conn_id, max_attempts=1)
        with pytest.raises(ESignRateLimitError):
            for _ in range(80):
                hook.get_document(document["id"])
        assert sandbox.stats()["throttled"] == 1

    def test_two_worker_processes_stay_under_the_limit(self, sandbox, monkeypatch):
        """Two processes share the connection's budget through the limiter's local state: 120 calls
        against a 60-per-6-s vendor limit, not a single 429.

        The client runs at 570 a minute, 5% under the vendor: the limiter's own 1% margin is 0.6 s
        of a real 60 s window but only 60 ms of this time-scaled 6 s window, less than the
        scheduling jitter of a loaded two-core CI machine.
        """
        conn_id = self.connect(sandbox, monkeypatch, 570)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        started = time.monotonic()
        done = self.run_two_workers(conn_id, document["id"], ("", ""))
        elapsed = time.monotonic() - started
        stats = sandbox.stats()
        assert done == [(self.CALLS, ""), (self.CALLS, "")]
        assert stats["requests"]["legalesign"] == 2 * self.CALLS
        assert stats["throttled"] == 0
        assert elapsed >= (2 * self.CALLS - 1) * 60 / 570  # really spaced: 120 calls took 12.5 s, no burst

    def test_two_hosts_sharing_only_redis_stay_under_the_limit(
        self, sandbox, monkeypatch, tmp_path, redis_url
    ):
        """As two Celery hosts: each process has its own local state dir; only Redis is shared."""
        conn_id = self.connect(sandbox, monkeypatch, 570, storage=redis_url)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        started = time.monotonic()
        done = self.run_two_workers(conn_id, document["id"], (str(tmp_path / "a"), str(tmp_path / "b")))
        elapsed = time.monotonic() - started
        stats = sandbox.stats()
        assert done == [(self.CALLS, ""), (self.CALLS, "")]
        assert stats["requests"]["legalesign"] == 2 * self.CALLS
        assert stats["throttled"] == 0
        assert elapsed >= (2 * self.CALLS - 1) * 60 / 570

    def test_two_hosts_with_local_state_each_exceed_the_limit(self, sandbox, monkeypatch, tmp_path):
        """The control for the Redis test: with only host-local state, each host believes it owns the
        whole budget, and together they run into the vendor's 429."""
        conn_id = self.connect(sandbox, monkeypatch, 570)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        sandbox.configure(rate_limits=self.LIMIT)
        done = self.run_two_workers(conn_id, document["id"], (str(tmp_path / "a"), str(tmp_path / "b")))
        assert sandbox.stats()["throttled"] >= 1
        assert any("ESignRateLimitError" in error for _, error in done)

    async def test_the_async_path_reserves_from_the_shared_schedule(
        self, sandbox, monkeypatch, redis_url, redis_client
    ):
        conn_id = self.connect(sandbox, monkeypatch, 570, storage=redis_url)
        document = sandbox.create_document("legalesign", name="Limit", status="sent")
        hook = LegalesignHook(conn_id, max_attempts=1)
        redis_client.flushdb()
        info = await hook.aget_document(document["id"])
        assert info.document_id == document["id"]
        assert hook.rate_limiter.storage == redis_url
        assert redis_client.exists(hook.rate_limiter.redis_key)
