"""The effects of the request pipeline: the I/O it asks an executor to perform.

The pipeline (:mod:`~airflow_provider_esign.hooks.pipeline`) and the flows it drives do no I/O
themselves. They yield these values; the executors in :mod:`~airflow_provider_esign.hooks.transport`
perform them (``requests`` and ``time.sleep`` in blocking code, ``httpx`` and ``asyncio`` in
triggers) and send the result back, or throw the failure back in at the ``yield``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse

if TYPE_CHECKING:
    from airflow_provider_esign.ratelimit import RateLimiter

T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """Send ``request`` to ``url`` without following redirects; the result is an :class:`ApiResponse`
    (with ``stream`` set and no ``content`` when ``stream`` is true)."""

    request: ApiRequest
    url: str
    stream: bool = False


@dataclass(frozen=True)
class ReadChunk:
    """Read up to ``size`` bytes of a streamed body; the result is ``b""`` at its end."""

    response: ApiResponse
    size: int


@dataclass(frozen=True)
class Close:
    """Release a streamed response."""

    response: ApiResponse


@dataclass(frozen=True)
class Sleep:
    """Wait ``seconds`` (the hook's injectable sleep, or ``asyncio.sleep``)."""

    seconds: float


@dataclass(frozen=True)
class RateLimitWait:
    """Wait for the client-side rate limiter's next slot."""

    limiter: RateLimiter


@dataclass(frozen=True)
class RateLimitPenalty:
    """Push the client-side rate limiter's shared schedule back by ``seconds`` (a 429's Retry-After)."""

    limiter: RateLimiter
    seconds: float


@dataclass(frozen=True)
class Resolve:
    """Resolve a host name; the result is its addresses (empty when it does not resolve)."""

    host: str


@dataclass(frozen=True)
class Mask:
    """Register runtime secrets with Airflow's secrets masker."""

    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Lock:
    """Take the per-process login lock of a credentials identity (thread or asyncio lock)."""

    key: str


@dataclass(frozen=True)
class Unlock:
    """Release the login lock taken by :class:`Lock`."""

    key: str


@dataclass(frozen=True)
class Offload:
    """Call a blocking ``function`` (a shared store, a cross-host lock): directly in blocking code, in a
    worker thread in async code, so the triggerer's event loop never waits on it."""

    function: Callable[[], Any]


Effect = (
    Send
    | ReadChunk
    | Close
    | Sleep
    | RateLimitWait
    | RateLimitPenalty
    | Resolve
    | Mask
    | Lock
    | Unlock
    | Offload
)
Effects = Generator[Effect, Any, T]
"""A generator of effects returning a ``T``: what an executor runs."""
