"""eSignBase Authorization Code grant under failure: the refresh lock is always released, a rotated
token is never lost to a store error, renewal survives a Redis blip, and the invalid_grant path
respects the compare-and-set.

Most tests drive the grant's flow with an in-memory store, so a failure is injected exactly where it
matters (the flow's effects run as the real executor runs them: an effect's error is thrown back
into the flow). The lease tests use a real redis-server; the end-to-end lock test the sandbox too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_esign import ratelimit
from airflow_provider_esign.exceptions import ESignAuthError
from airflow_provider_esign.hooks import pipeline
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.effects import Offload
from airflow_provider_esign.hooks.esignbase import grant_store, grants
from airflow_provider_esign.hooks.esignbase.grant_store import GrantStoreError, RedisGrantStore, Sealer
from tests.deployment.services import redis_server
from tests.unit.hooks.esignbase.grant_helpers import clear_fernet_cache, use_fernet_key

KEY = "airflow-esign:esignbase-grant:robustness"


def test_the_grant_store_and_the_rate_limiter_share_one_redis_client():
    url = "redis://127.0.0.1:1/0"  # never connected: redis-py connects lazily
    assert RedisGrantStore(url, KEY).client is ratelimit.redis_client(url)


# ------------------------------------------------------------------------------ RequestPipeline.run
@pytest.mark.parametrize("error", [GrantStoreError("store down"), asyncio.CancelledError(), TimeoutError()])
def test_run_throws_every_effect_error_into_the_flow_so_its_cleanup_runs(error):
    seen: list[Any] = []

    def flow():
        try:
            yield Offload(lambda: None)
        except BaseException as exc:
            seen.append(type(exc))
            raise
        return "unreachable"

    driven = pipeline.RequestPipeline(None).run(flow())  # type: ignore[arg-type]
    assert isinstance(next(driven), Offload)
    with pytest.raises(type(error)):
        driven.throw(error)
    assert seen == [type(error)]


def test_run_lets_a_flow_recover_from_an_effect_error_and_closes_it_when_abandoned():
    closed: list[bool] = []

    def flow():
        with contextlib.suppress(GrantStoreError):
            yield Offload(lambda: None)
        try:
            yield Offload(lambda: None)
        finally:
            closed.append(True)

    driven = pipeline.RequestPipeline(None).run(flow())  # type: ignore[arg-type]
    next(driven)
    assert isinstance(driven.throw(GrantStoreError("blip")), Offload)  # recovered: the next effect
    driven.close()
    assert closed == [True]


# ------------------------------------------------------------------------------- in-memory grant store
class FakeLease:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def release(self) -> None:
        self.store.released += 1
        self.store.locked = False


class FakeStore:
    key = KEY

    def __init__(self, record: dict[str, Any]) -> None:
        self.record: dict[str, Any] | None = record
        self.locked = False
        self.released = 0
        self.write_failures: list[BaseException] = []  # raised by the next writes, in order
        self.apply_failed_write = False  # a failing write was applied all the same (lost answer)
        self.before_write: Any = None

    def read(self) -> dict[str, Any] | None:
        return None if self.record is None else dict(self.record)

    def write(self, record: dict[str, Any], expected: int) -> bool:
        if self.before_write is not None:
            self.before_write()
        current = int(self.record["generation"]) if self.record else 0
        if self.write_failures:
            failure = self.write_failures.pop(0)
            if self.apply_failed_write and current == expected:
                self.record = dict(record)
            raise failure
        if current != expected:
            return False
        self.record = dict(record)
        return True

    def try_acquire(self, holder: str, lease_ms: int) -> FakeLease | None:
        if self.locked:
            return None
        self.locked = True
        return FakeLease(self)


@pytest.fixture
def sealer(monkeypatch):
    use_fernet_key(monkeypatch)
    yield Sealer(KEY)
    clear_fernet_cache()


@pytest.fixture(autouse=True)
def _no_pending():
    pending = getattr(grants, "_PENDING", {})  # this process's unsaved rotated pairs
    pending.clear()
    yield
    pending.clear()


def expired_record(sealer: Sealer, generation: int = 1) -> dict[str, Any]:
    return grant_store.new_record(
        sealer, generation, refresh_token=f"rt-{generation}", access_token=f"at-{generation}", expires_in=-1
    )


def make_grant(store: FakeStore, sealer: Sealer) -> grants.Grant:
    settings = SimpleNamespace(conn_id="esignbase_x", login="client", password="secret", extra={})
    return grants.Grant("esignbase_x", settings, store, sealer, 30.0, 5.0)  # type: ignore[arg-type]


def token_answer(access: str, refresh: str) -> ApiResponse:
    body = {"access_token": access, "refresh_token": refresh, "expires_in": 300}
    return ApiResponse(200, {"content-type": "application/json"}, json.dumps(body).encode(), "")


def drive(flow: Any, respond: Any) -> Any:
    """Perform a flow's effects as the executors do: an effect's error is thrown back into it."""
    result: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as stop:
            return stop.value
        result, error = None, None
        try:
            if isinstance(effect, Offload):
                result = effect.function()
            elif isinstance(effect, ApiRequest):
                result = respond(effect)
        except BaseException as exc:
            error = exc


def test_the_refresh_lock_is_released_when_the_flow_fails_or_is_closed(sealer):
    store = FakeStore(expired_record(sealer))
    store.before_write = lambda: (_ for _ in ()).throw(RuntimeError("webhook budget busy"))
    with pytest.raises(RuntimeError):
        drive(
            grants.access_flow(make_grant(store, sealer), time.monotonic, None),
            lambda _r: token_answer("a", "r"),
        )
    assert store.released == 1 and not store.locked
    # Abandoned at the refresh call (a cancelled trigger): closing the flow releases the lock too
    # (a flow that yields in its finally cannot be closed: the lock stayed held).
    store = FakeStore(expired_record(sealer))
    flow = grants.access_flow(make_grant(store, sealer), time.monotonic, None)
    effect = None
    while not isinstance(effect, ApiRequest):
        effect = flow.send(effect.function() if isinstance(effect, Offload) else None)
    flow.close()
    assert store.released == 1 and not store.locked


def test_a_store_timeout_after_rotation_is_retried_under_the_lease(sealer):
    store = FakeStore(expired_record(sealer))
    store.write_failures = [GrantStoreError("timeout"), GrantStoreError("timeout")]
    creds = drive(
        grants.access_flow(make_grant(store, sealer), time.monotonic, None),
        lambda _r: token_answer("at-2", "rt-2"),
    )
    assert creds.values["access_token"] == "at-2"
    assert store.record["generation"] == 2 and sealer.open(store.record["sealed"])["refresh_token"] == "rt-2"
    assert store.released == 1


def test_a_write_applied_despite_its_timeout_counts_as_stored(sealer):
    store = FakeStore(expired_record(sealer))
    store.write_failures = [GrantStoreError("timeout")]
    store.apply_failed_write = True  # the write reached Redis, its answer was lost
    creds = drive(
        grants.access_flow(make_grant(store, sealer), time.monotonic, None),
        lambda _r: token_answer("at-2", "rt-2"),
    )
    assert creds.values["access_token"] == "at-2" and store.record["generation"] == 2
    assert not getattr(grants, "_PENDING", {})


def test_an_unreachable_store_keeps_the_rotated_pair_in_memory_and_saves_it_later(sealer):
    store = FakeStore(expired_record(sealer))
    store.write_failures = [GrantStoreError("down")] * 4  # grants.STORE_WRITE_ATTEMPTS
    calls: list[ApiRequest] = []

    def vendor(request: ApiRequest) -> ApiResponse:
        calls.append(request)
        return token_answer("at-2", "rt-2")

    grant = make_grant(store, sealer)
    creds = drive(grants.access_flow(grant, time.monotonic, None), vendor)
    assert creds.values["access_token"] == "at-2"  # this process goes on
    assert store.record["generation"] == 1 and KEY in grants._PENDING  # not lost
    # The store is back: the next token request saves the pair, without calling eSignBase again.
    creds = drive(grants.access_flow(grant, time.monotonic, None), vendor)
    assert creds.values["access_token"] == "at-2" and len(calls) == 1
    assert store.record["generation"] == 2 and sealer.open(store.record["sealed"])["refresh_token"] == "rt-2"
    assert not getattr(grants, "_PENDING", {})


def test_a_pending_pair_that_can_never_be_saved_says_so(sealer):
    store = FakeStore(expired_record(sealer))
    store.write_failures = [GrantStoreError("down")] * 4  # grants.STORE_WRITE_ATTEMPTS
    grant = make_grant(store, sealer)
    drive(grants.access_flow(grant, time.monotonic, None), lambda _r: token_answer("at-2", "rt-2"))
    store.record = expired_record(sealer, 2)  # another process stored another generation meanwhile
    with pytest.raises(ESignAuthError, match=r"could not be saved.*re-authorize"):
        drive(grants.access_flow(grant, time.monotonic, None), lambda _r: token_answer("x", "y"))


def test_invalid_grant_losing_the_compare_and_set_uses_the_newer_stored_token(sealer):
    store = FakeStore(expired_record(sealer))
    newer = grant_store.new_record(sealer, 2, refresh_token="rt-2", access_token="at-2", expires_in=300)

    def vendor(_request: ApiRequest) -> ApiResponse:
        store.record = newer  # another writer stored a valid generation while our refresh was out
        body = json.dumps({"error": "invalid_grant", "error_description": "rotated"}).encode()
        return ApiResponse(400, {"content-type": "application/json"}, body, "")

    creds = drive(grants.access_flow(make_grant(store, sealer), time.monotonic, None), vendor)
    assert creds.values["access_token"] == "at-2"
    assert store.record["status"] == "active" and store.record["generation"] == 2


def test_the_refresh_call_ends_before_the_lease_can_lapse():
    settings = SimpleNamespace(conn_id="c", login="client", password="secret", extra={})
    request = grants.refresh_request(settings, "rt", lease_seconds=30.0)  # type: ignore[arg-type]
    connect, read = request.timeout((10.0, 60.0))
    assert connect + read < 30.0


# ------------------------------------------------------------------------------------ lease (real Redis)
@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as server:
        yield server.url


def test_renewal_survives_a_redis_error_and_stops_when_the_lease_is_dropped(redis_url, monkeypatch):
    import gc

    import redis

    client = redis.Redis.from_url(redis_url)
    store = RedisGrantStore(redis_url, KEY + ":renew")
    real_renew = store.renew
    failures = [GrantStoreError("blip")]
    renewed = []

    def flaky_renew(holder: str, lease_ms: int) -> bool:
        if failures:
            raise failures.pop()
        renewed.append(holder)
        return real_renew(holder, lease_ms)

    monkeypatch.setattr(store, "renew", flaky_renew)
    lease = store.try_acquire("h", 600)
    assert lease is not None
    deadline = time.monotonic() + 30
    while len(renewed) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(renewed) >= 3  # renewed after the error, again and again
    assert client.get(store.lock_key) == b"h"
    thread = lease._thread
    del lease
    gc.collect()  # a holder that dropped its lease without releasing it
    thread.join(10)
    assert not thread.is_alive()


def test_release_never_raises_and_stops_renewal(redis_url, monkeypatch):
    store = RedisGrantStore(redis_url, KEY + ":release")
    lease = store.try_acquire("h", 600)
    assert lease is not None

    def down(_holder: str) -> None:
        raise GrantStoreError("unlock failed")

    monkeypatch.setattr(store, "release", down)
    lease.release()  # in a cleanup path: must not mask the error being handled
    lease._thread.join(10)
    assert not lease._thread.is_alive()


# ------------------------------------------------------------------------------ the authorize command
@pytest.mark.parametrize("uri", ["http://localhost:8765/callback", "http://example.com:8765/cb"])
def test_the_redirect_uri_must_be_a_literal_loopback_address(uri):
    from airflow_provider_esign.esignbase_auth import redirect_target
    from airflow_provider_esign.exceptions import ESignValidationError

    settings = SimpleNamespace(conn_id="c", extra={"redirect_uri": uri})
    with pytest.raises(ESignValidationError, match=r"redirect_uri.*literal loopback"):
        redirect_target(settings)
    for good in ("http://127.0.0.1:8765/callback", "http://[::1]:8765/callback"):
        assert redirect_target(SimpleNamespace(conn_id="c", extra={"redirect_uri": good}))[2] == 8765


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null"])
def test_a_code_exchange_answer_that_is_not_a_json_object_is_a_clear_error(requests_mock, body):
    from airflow_provider_esign.esignbase_auth import AuthorizationFailed, exchange_code

    settings = SimpleNamespace(base_url="https://esign.invalid/", login="c", password="s")
    requests_mock.post(
        "https://esign.invalid/oauth2/token", text=body, headers={"content-type": "application/json"}
    )
    with pytest.raises(AuthorizationFailed, match="not a JSON object"):
        exchange_code(settings, "code", "http://127.0.0.1:8765/callback")
