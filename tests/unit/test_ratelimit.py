"""The client-side rate limiter on local storage with an injected clock: evenly spaced slots shared
by every limiter of a key, penalties that only push the schedule back, the storage option."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.ratelimit import RateLimiter, resolve_storage


@pytest.fixture
def limiter(tmp_path, clock):
    def make(key: str = "vendor|https://api.example|user", per_minute: float = 60, **kwargs) -> RateLimiter:
        return RateLimiter(key, per_minute, state_dir=str(tmp_path), clock=clock, **kwargs)

    return make


def test_slots_are_evenly_spaced(limiter):
    one = limiter()
    waits = [one.reserve() for _ in range(3)]
    assert waits[0] == 0.0
    assert waits[1] == pytest.approx(one.interval, abs=0.002)
    assert waits[2] == pytest.approx(2 * one.interval, abs=0.002)
    assert one.interval >= 1.0  # 60 a minute, never faster


def test_limiters_of_one_key_share_the_schedule_and_other_keys_do_not(limiter):
    first, second, other = limiter(), limiter(), limiter(key="other|key")
    assert first.reserve() == 0.0
    assert second.reserve() == pytest.approx(first.interval, abs=0.002)
    assert other.reserve() == 0.0


def test_a_slot_frees_as_the_clock_moves(limiter, clock):
    one = limiter()
    one.reserve()
    clock.now += one.interval
    assert one.reserve() == pytest.approx(0.0, abs=0.002)


def test_try_reserve_never_books_a_future_slot(limiter):
    one = limiter()
    assert one.try_reserve() == 0.0
    busy = one.try_reserve()
    assert busy == pytest.approx(one.interval, abs=0.002)
    assert one.reserve() == pytest.approx(one.interval, abs=0.002)  # the refused try took nothing


def test_a_penalty_pushes_the_schedule_back_and_a_shorter_one_never_forward(limiter):
    one = limiter()
    one.penalize(30)
    one.penalize(5)
    assert one.reserve() == pytest.approx(30, abs=0.01)


def test_a_penalty_is_capped(limiter):
    one = limiter(max_penalty=20)
    one.penalize(float("inf"))
    assert one.reserve() == pytest.approx(20, abs=0.01)


def test_a_disabled_limiter_never_waits(limiter):
    off = limiter(per_minute=0)
    off.penalize(30)
    assert not off.enabled
    assert [off.reserve(), off.reserve(), off.try_reserve()] == [0.0, 0.0, 0.0]


async def test_the_async_methods_share_the_same_schedule(limiter):
    one = limiter()
    assert await one.areserve() == 0.0
    assert one.reserve() == pytest.approx(one.interval, abs=0.002)
    await one.apenalize(40)
    assert await one.areserve() == pytest.approx(40, abs=0.01)


@pytest.mark.parametrize(
    "value", ["local", "redis://redis:6379/0", "rediss://r:6380/1", "unix:///run/redis.sock"]
)
def test_storage_is_local_or_a_redis_url(value):
    assert resolve_storage(value) == value


def test_an_unknown_storage_names_the_field_and_the_rule():
    with pytest.raises(ESignValidationError) as excinfo:
        resolve_storage("memcached://cache:11211")
    assert excinfo.value.field == "rate_limit_storage"
    assert "redis://" in excinfo.value.rule


def test_empty_storage_falls_back_to_the_section_then_local(monkeypatch):
    assert resolve_storage(None) == "local"
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_STORAGE", "redis://redis:6379/2")
    assert resolve_storage("") == "redis://redis:6379/2"
