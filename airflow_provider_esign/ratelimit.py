"""Client-side rate limiting shared by every process on one host.

Each call reserves the next free slot on an evenly spaced schedule (``60 / calls_per_minute`` seconds
apart), so a batch runs at the allowed rate instead of bursting into the vendor's 429s. The schedule
lives in a small file guarded by ``flock``, so mapped task instances running as separate worker
processes on one machine share one budget per connection. Across machines, combine it with an
Airflow pool (see README, "Reliability").

Times come from ``time.monotonic`` (system-wide on Linux, so comparable across processes).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import threading
import time
from collections.abc import Callable

try:  # POSIX only; Airflow workers are POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_STATE = struct.Struct("d")
# 1% slack: a vendor counting "N calls in any 60 s window" sees N, never N + 1, at the boundary.
_SAFETY = 1.01


class RateLimiter:
    """Reserve evenly spaced call slots for one key (one connection at one host).

    :param key: What shares the budget, e.g. ``"legalesign|https://eu-api.legalesign.com|user"``.
    :param calls_per_minute: Allowed rate; 0 or less disables limiting.
    :param state_dir: Where the shared schedule file lives (default: ``$AIRFLOW_ESIGN_RATELIMIT_DIR``,
        else the system temp dir).
    :param clock: Monotonic clock, injectable for tests.
    """

    _thread_lock = threading.Lock()

    def __init__(
        self,
        key: str,
        calls_per_minute: float,
        *,
        state_dir: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.calls_per_minute = calls_per_minute
        self.interval = 60.0 / calls_per_minute * _SAFETY if calls_per_minute > 0 else 0.0
        self._clock = clock
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        folder = (
            state_dir
            or os.environ.get("AIRFLOW_ESIGN_RATELIMIT_DIR")
            or os.path.join(tempfile.gettempdir(), "airflow-esign-ratelimit")
        )
        self.path = os.path.join(folder, f"{digest}.slot")
        self._local_next = 0.0

    @property
    def enabled(self) -> bool:
        return self.interval > 0

    def reserve(self) -> float:
        """Take the next slot and return how many seconds to wait before using it."""
        if not self.enabled:
            return 0.0
        with self._locked() as (read, write):
            now = self._clock()
            slot = max(read(), now)
            write(slot + self.interval)
        return max(0.0, slot - now)

    def penalize(self, seconds: float) -> None:
        """Push the whole schedule back, e.g. after the vendor answered 429 with ``Retry-After``.

        A disabled limiter has no schedule to push: only the throttled call itself waits.
        """
        if seconds <= 0 or not self.enabled:
            return
        with self._locked() as (read, write):
            write(max(read(), self._clock() + seconds))

    def _locked(self):
        return _ScheduleFile(self) if fcntl is not None else _InProcessSchedule(self)


class _ScheduleFile:
    """Context manager: the schedule file, locked, with read/write of the next free slot."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter
        self.fd = -1

    def __enter__(self):
        RateLimiter._thread_lock.acquire()
        try:
            os.makedirs(os.path.dirname(self.limiter.path), exist_ok=True)
            self.fd = os.open(self.limiter.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self._close()
            raise
        return self._read, self._write

    def _read(self) -> float:
        data = os.pread(self.fd, _STATE.size, 0)
        return _STATE.unpack(data)[0] if len(data) == _STATE.size else 0.0

    def _write(self, value: float) -> None:
        os.pwrite(self.fd, _STATE.pack(value), 0)

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing releases the flock
            self.fd = -1
        RateLimiter._thread_lock.release()

    def __exit__(self, *exc_info) -> None:
        self._close()


class _InProcessSchedule:
    """Fallback without ``fcntl``: the schedule is shared by the threads of one process only."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def __enter__(self):
        RateLimiter._thread_lock.acquire()
        return (lambda: self.limiter._local_next), self._write

    def _write(self, value: float) -> None:
        self.limiter._local_next = value

    def __exit__(self, *exc_info) -> None:
        RateLimiter._thread_lock.release()
