"""Deterministic fault injection and sliding-window rate limiting."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import math
import socket
import struct
from dataclasses import dataclass
from typing import Any

from esign_sandbox.config import FAULT_KINDS, VENDORS

#: Kinds that only make sense on a subset of endpoints.
CREATE_ONLY = "drop_after_commit"
DOWNLOAD_ONLY = "truncate"


def fault_for(seed: int, n: int, rate: float, kinds: list[str]) -> str | None:
    """
    Decide whether the n-th vendor request fails; a pure function of its arguments.

    :param seed: plan seed.
    :param n: 0-based index of the vendor request since the plan was installed (or the last reset).
    :param rate: probability of a fault.
    :param kinds: kinds applicable to this request, in plan order.
    :return: the chosen kind or ``None``.
    """
    if not kinds or rate <= 0:
        return None
    digest = hashlib.blake2b(f"{seed}:{n}".encode(), digest_size=16).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    if draw >= rate:
        return None
    return kinds[int.from_bytes(digest[8:], "big") % len(kinds)]


def applicable(kind: str, *, is_create: bool, is_download: bool) -> bool:
    """:return: whether ``kind`` may be injected into a request of this sort."""
    if kind == CREATE_ONLY:
        return is_create
    if kind == DOWNLOAD_ONLY:
        return is_download
    return True


@dataclass
class QueuedFault:
    """
    A one-shot fault for the next matching request.

    :param kind: one of :data:`~esign_sandbox.config.FAULT_KINDS`.
    :param vendor: restrict to one vendor.
    :param path_contains: restrict to paths containing this substring.
    :param method: restrict to one HTTP method.
    """

    kind: str
    vendor: str | None = None
    path_contains: str | None = None
    method: str | None = None

    @classmethod
    def parse(cls, data: Any) -> QueuedFault:
        """
        :param data: ``{"kind", "vendor"?, "path_contains"?, "method"?}``.
        :raises ValueError: when malformed.
        """
        if not isinstance(data, dict) or set(data) - {"kind", "vendor", "path_contains", "method"}:
            raise ValueError("a queued fault is {kind, vendor?, path_contains?, method?}")
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {list(FAULT_KINDS)}")
        vendor = data.get("vendor")
        if vendor is not None and vendor not in VENDORS:
            raise ValueError(f"vendor must be one of {list(VENDORS)}")
        path_contains = data.get("path_contains")
        if path_contains is not None and not isinstance(path_contains, str):
            raise ValueError("path_contains must be a string")
        method = data.get("method")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string")
        return cls(kind, vendor, path_contains, method.upper() if method else None)

    def matches(self, vendor: str, method: str, path: str, *, is_create: bool, is_download: bool) -> bool:
        """:return: whether this queued fault fires for the given request."""
        if self.vendor is not None and self.vendor != vendor:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.path_contains is not None and self.path_contains not in path:
            return False
        return applicable(self.kind, is_create=is_create, is_download=is_download)

    def to_dict(self) -> dict[str, Any]:
        """:return: a JSON-serialisable form."""
        return {
            "kind": self.kind,
            "vendor": self.vendor,
            "path_contains": self.path_contains,
            "method": self.method,
        }


class FaultEngine:
    """Combines the one-shot queue with the seeded random plan."""

    def __init__(self) -> None:
        self.queue: list[QueuedFault] = []
        self.counter = 0
        self.injected: collections.Counter[str] = collections.Counter()
        self.log: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)

    def reset(self) -> None:
        """Forget queued faults, the request counter and the history."""
        self.queue.clear()
        self.counter = 0
        self.injected.clear()
        self.log.clear()

    def decide(
        self,
        plan: dict[str, Any] | None,
        vendor: str,
        method: str,
        path: str,
        *,
        is_create: bool,
        is_download: bool,
    ) -> str | None:
        """
        Pick the fault (if any) for one vendor request and advance the request counter.

        :param plan: the validated random plan or ``None``.
        :return: the fault kind or ``None``.
        """
        n = self.counter
        self.counter += 1
        kind: str | None = None
        for index, queued in enumerate(self.queue):
            if queued.matches(vendor, method, path, is_create=is_create, is_download=is_download):
                kind = self.queue.pop(index).kind
                break
        if kind is None and plan is not None and (plan["vendors"] is None or vendor in plan["vendors"]):
            kinds = [k for k in plan["kinds"] if applicable(k, is_create=is_create, is_download=is_download)]
            kind = fault_for(plan["seed"], n, plan["rate"], kinds)
        if kind is not None:
            self.injected[kind] += 1
            self.log.append({"n": n, "vendor": vendor, "method": method, "path": path, "kind": kind})
        return kind


class RateLimiter:
    """Sliding-window log per vendor, on the sandbox clock."""

    def __init__(self) -> None:
        self._calls: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def reset(self) -> None:
        """Forget every recorded call."""
        self._calls.clear()

    def check(self, vendor: str, limit: dict[str, Any] | None, now: float) -> float | None:
        """
        Record a call unless it exceeds the limit.

        :param vendor: vendor name.
        :param limit: ``{"calls", "window_seconds"}`` or ``None`` for unlimited.
        :param now: current sandbox time.
        :return: ``None`` when allowed, else the seconds until a call would be allowed again.
        """
        if not limit:
            return None
        window = float(limit["window_seconds"])
        calls = self._calls[vendor]
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= int(limit["calls"]):
            return max(calls[0] + window - now, 0.0)
        calls.append(now)
        return None


def retry_after_header(seconds: float) -> str:
    """:return: ``Retry-After`` delta-seconds (ceil, at least 1 when positive)."""
    return str(max(0, math.ceil(seconds)))


def _transport(send: Any) -> asyncio.Transport | None:
    # uvicorn's raw ``send`` is a bound method of its per-request cycle object, which keeps the transport.
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if isinstance(transport, asyncio.BaseTransport) else None  # type: ignore[return-value]


def can_abort(send: Any) -> bool:
    """:return: whether the server exposes the connection so faults can break it."""
    return _transport(send) is not None


async def abort_connection(send: Any, *, reset: bool, drain_timeout: float = 5.0) -> bool:
    """
    Break the client connection.

    :param send: the server's raw ASGI ``send`` callable.
    :param reset: send a TCP RST (SO_LINGER 0) instead of flushing what was written and closing.
    :param drain_timeout: real seconds to wait for already written bytes to leave the process first.
    :return: whether the connection could be reached.
    """
    transport = _transport(send)
    if transport is None:
        return False
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        # Bytes still queued in the transport would be discarded by abort(); wait until the kernel has them.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_timeout
        while transport.get_write_buffer_size() and loop.time() < deadline and not transport.is_closing():
            await asyncio.sleep(0.005)
    transport.abort()
    # connection_lost runs on a later loop iteration; once it has, the server knows the client is gone and
    # does not complain that the application returned without a complete response.
    for _ in range(3):
        await asyncio.sleep(0)
    return True
