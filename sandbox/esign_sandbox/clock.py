"""Injectable clocks: every time-based behaviour of the sandbox reads ``clock.now()``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """What the sandbox needs from a clock: epoch seconds that only move forward."""

    def now(self) -> float:
        """:return: the current sandbox time in epoch seconds."""
        ...

    def advance(self, seconds: float) -> float:
        """
        Jump forward.

        :param seconds: how far to move the clock.
        :return: the new time.
        """
        ...

    def reset(self) -> None:
        """Forget every manual advance."""
        ...


class SandboxClock:
    """
    Wall-clock time plus a manual offset.

    Tests advance the offset instead of sleeping, so time-based behaviour (signing, token expiry, rate-limit
    windows) is reached instantly while the clock still flows for interactive use.

    :param time_func: source of real time, injectable for tests.
    """

    def __init__(self, time_func: Callable[[], float] | None = None) -> None:
        self._time: Callable[[], float] = time_func or time.time
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return float(self._time()) + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock cannot go backwards")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0


class ManualClock:
    """
    A frozen clock that only moves through :meth:`advance`; fully deterministic.

    :param start: the initial epoch time (defaults to the real time at construction).
    """

    def __init__(self, start: float | None = None) -> None:
        self._start = time.time() if start is None else float(start)
        self._now = self._start
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the sandbox clock cannot go backwards")
        with self._lock:
            self._now += seconds
        return self._now

    def reset(self) -> None:
        with self._lock:
            self._now = self._start
