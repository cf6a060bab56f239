"""The WeSignature send ledger in Redis, shared by every host using it (see :mod:`.ledger`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from airflow_provider_esign.hooks.wesignature.ledger import RETENTION_SECONDS, LedgerError, SendLedger


class RedisLedger(SendLedger):
    """The ledger in Redis (``SET NX`` claims, times from the server's ``TIME``).

    :param client: A ``redis.Redis`` client.
    :param prefix: Key prefix of this account.
    """

    def __init__(self, client: Any, prefix: str) -> None:
        self._r = client
        self._p = prefix

    def _call(self, work: Callable[[], Any]) -> Any:
        try:
            return work()
        except Exception as exc:
            if type(exc).__module__.startswith("redis"):
                raise LedgerError(
                    f"WeSignature send ledger storage unreachable ({type(exc).__name__})"
                ) from None
            raise

    def now(self) -> float:
        seconds, micros = self._call(self._r.time)
        return int(seconds) + int(micros) / 1e6

    def baseline(self, fps: list[str], now: float, window: float) -> list[str] | None:
        taken, generation = self._call(lambda: self._r.mget(f"{self._p}:taken_at", f"{self._p}:generation"))
        if taken is None or generation is None or not (now - window <= float(taken) <= now):
            return None
        token = generation.decode() if isinstance(generation, bytes) else generation
        members = self._call(lambda: self._r.sunion([f"{self._p}:snap:{token}:{fp}" for fp in fps]))
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)

    def stage(self, token: str, rows: list[tuple[str, str]]) -> None:
        def write() -> None:
            pipe = self._r.pipeline(transaction=False)
            for fp, guid in rows:
                pipe.sadd(f"{self._p}:snap:{token}:{fp}", guid)
                pipe.expire(f"{self._p}:snap:{token}:{fp}", int(RETENTION_SECONDS))
            pipe.execute()

        self._call(write)

    def publish(self, token: str, taken_at: float) -> None:
        def write() -> None:
            taken = self._r.get(f"{self._p}:taken_at")
            if taken is not None and float(taken) >= taken_at:
                return  # another host published a newer one (its sets expire on their own)
            pipe = self._r.pipeline(transaction=True)
            pipe.set(f"{self._p}:generation", token, ex=int(RETENTION_SECONDS))
            pipe.set(f"{self._p}:taken_at", repr(taken_at), ex=int(RETENTION_SECONDS))
            pipe.execute()

        self._call(write)

    def drop(self, token: str) -> None:
        pass  # the staged sets expire on their own

    def _send(self, key: str) -> str:
        return f"{self._p}:send:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def begin(self, key: str, fp: str, baseline: list[str], now: float) -> None:
        def write() -> None:
            pipe = self._r.pipeline(transaction=True)
            pipe.hset(self._send(key), mapping={"key": key, "fp": fp, "baseline": json.dumps(baseline)})
            pipe.expire(self._send(key), int(RETENTION_SECONDS))
            pipe.sadd(f"{self._p}:fp:{fp}", key)
            pipe.expire(f"{self._p}:fp:{fp}", int(RETENTION_SECONDS))
            pipe.execute()

        self._call(write)

    def recorded_baseline(self, key: str) -> list[str] | None:
        value = self._call(lambda: self._r.hget(self._send(key), "baseline"))
        return json.loads(value) if value else None

    def owned(self, key: str) -> str | None:
        value = self._call(lambda: self._r.hget(self._send(key), "guid"))
        return value.decode() if isinstance(value, bytes) else value

    def claim(self, key: str, fp: str, guid: str, now: float) -> bool:
        def write() -> bool:
            claim = f"{self._p}:guid:{guid}"
            if not self._r.set(claim, key, nx=True, ex=int(RETENTION_SECONDS)):
                holder = self._r.get(claim)
                return (holder.decode() if isinstance(holder, bytes) else holder) == key
            pipe = self._r.pipeline(transaction=True)
            pipe.hset(self._send(key), mapping={"key": key, "fp": fp, "guid": guid})
            pipe.expire(self._send(key), int(RETENTION_SECONDS))
            pipe.sadd(f"{self._p}:fp:{fp}", key)
            pipe.expire(f"{self._p}:fp:{fp}", int(RETENTION_SECONDS))
            pipe.execute()
            return True

        return bool(self._call(write))

    def others(self, fps: list[str], key: str, now: float) -> tuple[set[str], int]:
        def read() -> tuple[set[str], int]:
            keys = {
                k.decode() if isinstance(k, bytes) else k
                for fp in fps
                for k in self._r.smembers(f"{self._p}:fp:{fp}")
            }
            keys.discard(key)
            claimed, open_sends = set(), 0
            for other in keys:
                guid = self._r.hget(self._send(other), "guid")
                if guid:
                    claimed.add(guid.decode() if isinstance(guid, bytes) else guid)
                elif self._r.exists(self._send(other)):
                    open_sends += 1
            return claimed, open_sends

        return self._call(read)  # type: ignore[no-any-return]

    def abandon(self, key: str) -> None:
        def write() -> None:
            if not self._r.hget(self._send(key), "guid"):
                self._r.delete(self._send(key))

        self._call(write)
