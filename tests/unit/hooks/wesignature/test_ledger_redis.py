"""The WeSignature send ledger in Redis (shared by hosts): the same rules as the local store, on a
real redis-server started here; an unreachable server is a ledger error without its address."""

from __future__ import annotations

import uuid

import pytest

from airflow_provider_esign.hooks.wesignature.ledger import LedgerError
from airflow_provider_esign.hooks.wesignature.ledger_redis import RedisLedger
from tests.deployment.services import redis_server
from tests.unit.hooks.wesignature.test_ledger import LedgerContract


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as server:
        yield server.url


class TestRedisLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, redis_url):
        import redis

        return RedisLedger(redis.Redis.from_url(redis_url), f"test:{uuid.uuid4().hex}")

    def test_now_is_the_servers_clock(self, ledger):
        import time

        assert abs(ledger.now() - time.time()) < 5


def test_an_unreachable_server_is_a_ledger_error():
    import redis

    client = redis.Redis(host="127.0.0.1", port=1, password="redis-secret", socket_connect_timeout=1)
    with pytest.raises(LedgerError) as excinfo:
        RedisLedger(client, "test").owned("send-a")
    assert "unreachable (ConnectionError)" in str(excinfo.value) and "redis-secret" not in str(excinfo.value)
