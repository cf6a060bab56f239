"""eSignBase Authorization Code grant under failure: the refresh lock is always released, a rotated
token is never lost to a store error, renewal survives a Redis blip, the loopback callback cannot be
aborted by a stranger, and revoke never leaves a revoked grant active.

Most tests drive the grant's flow with an in-memory store (the failure is injected exactly where it
matters); the lease tests use a real redis-server.
"""

from __future__ import annotations

from airflow_provider_esign import ratelimit
from airflow_provider_esign.hooks.esignbase.grant_store import RedisGrantStore


def test_the_grant_store_and_the_rate_limiter_share_one_redis_client():
    url = "redis://127.0.0.1:1/0"  # never connected: redis-py connects lazily
    assert RedisGrantStore(url, "airflow-esign:esignbase-grant:x").client is ratelimit.redis_client(url)
