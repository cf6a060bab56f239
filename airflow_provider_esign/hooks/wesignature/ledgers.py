"""The WeSignature send ledgers this process has open: one per account and storage, none shared
with a forked child (see :mod:`~airflow_provider_esign.hooks.wesignature.ledger`)."""

from __future__ import annotations

import hashlib
import os
import threading

from airflow_provider_esign.hooks.wesignature.ledger import SendLedger, SQLiteLedger

_LEDGERS: dict[tuple[str, ...], SendLedger] = {}
_LEDGERS_LOCK = threading.Lock()


def open_ledger(account: str, storage: str, folder: str) -> SendLedger:
    """The ledger of one WeSignature account, one per process and storage.

    :param account: What identifies the account (vendor, base URL, user).
    :param storage: ``"local"`` or a Redis URL (the rate limiter's storage option).
    :param folder: Where the local file lives (the rate limiter's folder).
    """
    digest = hashlib.sha256(account.encode()).hexdigest()[:24]
    cache_key = (storage, folder, digest)
    with _LEDGERS_LOCK:
        if cache_key not in _LEDGERS:
            if storage == "local":
                _LEDGERS[cache_key] = SQLiteLedger(
                    os.path.join(folder, f"wesignature-sends-{digest}.sqlite3")
                )
            else:
                from airflow_provider_esign.hooks.wesignature.ledger_redis import RedisLedger
                from airflow_provider_esign.ratelimit import redis_client

                _LEDGERS[cache_key] = RedisLedger(
                    redis_client(storage), f"airflow-esign:wesignature:{digest}"
                )
        return _LEDGERS[cache_key]


def forget_ledgers() -> None:
    """Close this process's ledger connections (a test's fresh state directory opens new ones)."""
    with _LEDGERS_LOCK:
        _LEDGERS.clear()


def _forget_after_fork() -> None:
    global _LEDGERS_LOCK
    _LEDGERS.clear()
    _LEDGERS_LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX: a forked child must not share its parent's connections
    os.register_at_fork(after_in_child=_forget_after_fork)
