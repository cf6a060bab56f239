"""Runtime credentials (tokens, api keys): one process-wide cache, and masking in Airflow's logs."""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, field


@dataclass
class Credentials:
    """Runtime credentials from a login call (token, api key) and when they lapse.

    Every value in ``values`` is registered with Airflow's secrets masker before first use, and none
    appears in the ``repr`` (subclasses' generated ``repr`` included: the field is ``repr=False``).
    """

    values: dict[str, str] = field(repr=False)
    expires_at: float | None = None  # deadline on the hook's monotonic clock


class CredentialCache:
    """Credentials per connection identity, shared by every hook instance in the process.

    So a batch of mapped tasks in one process (or 1,000 triggers in one triggerer) asks for one
    eSignBase token per expiry, not one per task. Logins are serialized per identity, by a thread
    lock for blocking code and by an asyncio lock per event loop for triggers.
    """

    def __init__(self) -> None:
        self._values: dict[str, Credentials] = {}
        self._thread_locks: dict[str, threading.Lock] = {}
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
        self._async_locks = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()

    def get(self, key: str, now: float) -> Credentials | None:
        creds = self._values.get(key)
        if creds is None or (creds.expires_at is not None and creds.expires_at <= now):
            return None
        return creds

    def put(self, key: str, creds: Credentials) -> None:
        self._values[key] = creds

    def invalidate(self, key: str, creds: Credentials | None) -> None:
        """Forget ``creds`` unless another caller already replaced them."""
        if creds is None or self._values.get(key) is creds:
            self._values.pop(key, None)

    def thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def async_lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            locks = self._async_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        self._values.clear()


CREDENTIALS = CredentialCache()


def mask(secret: str) -> None:
    """Register a runtime secret (token, api key, auth header) with Airflow's secrets masker."""
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(secret)


async def amask(secret: str) -> None:
    """:func:`mask` for async code: in the triggerer, sync masking goes through the supervisor
    and can deadlock the event loop."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # Airflow < 3.2 has no async variant; masking is in-process there
        mask(secret)
        return
    await amask_secret(secret)
