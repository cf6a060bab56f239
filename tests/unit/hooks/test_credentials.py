"""The process-wide credentials cache: expiry on the hook's clock, compare-and-forget, login locks."""

from __future__ import annotations

import asyncio

from airflow_provider_esign.hooks.credentials import CredentialCache, Credentials


def test_credentials_lapse_at_their_deadline():
    cache = CredentialCache()
    cache.put("acme", Credentials({"token": "t-1"}, expires_at=100.0))
    assert cache.get("acme", now=99.9).values == {"token": "t-1"}
    assert cache.get("acme", now=100.0) is None
    assert cache.get("other", now=0) is None


def test_credentials_without_a_deadline_never_lapse():
    cache = CredentialCache()
    cache.put("acme", Credentials({"api_key": "k"}))
    assert cache.get("acme", now=1e12) is not None


def test_invalidate_forgets_only_the_credentials_it_was_given():
    cache = CredentialCache()
    stale, fresh = Credentials({"token": "old"}), Credentials({"token": "new"})
    cache.put("acme", fresh)
    cache.invalidate("acme", stale)  # another caller already logged in again: keep theirs
    assert cache.get("acme", now=0) is fresh
    cache.invalidate("acme", fresh)
    assert cache.get("acme", now=0) is None
    cache.put("acme", fresh)
    cache.invalidate("acme", None)
    assert cache.get("acme", now=0) is None


def test_the_values_never_appear_in_the_repr():
    creds = Credentials({"token": "secret-token"}, expires_at=5.0)
    assert "secret-token" not in repr(creds) and "secret-token" not in str(creds)


def test_one_thread_lock_per_identity():
    cache = CredentialCache()
    assert cache.thread_lock("a") is cache.thread_lock("a")
    assert cache.thread_lock("a") is not cache.thread_lock("b")


def test_async_locks_are_per_event_loop():
    cache = CredentialCache()

    async def locks():
        return cache.async_lock("a"), cache.async_lock("a"), cache.async_lock("b")

    first, again, other = asyncio.run(locks())
    assert first is again and first is not other
    (in_another_loop, _, _) = asyncio.run(locks())
    assert in_another_loop is not first  # an asyncio lock belongs to one loop


def test_clear_forgets_every_identity():
    cache = CredentialCache()
    cache.put("a", Credentials({"token": "t"}))
    cache.clear()
    assert cache.get("a", now=0) is None
