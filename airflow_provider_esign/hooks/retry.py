"""The retry policy: which failures are retried, how long to wait, when to give up.

One policy object serves every retry loop of the provider: the request pipeline, downloads, the
exactly-once create and the completion watcher's backoff.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import ClassVar

from airflow_provider_esign.exceptions import (
    ESignMalformedResponseError,
    ESignRateLimitError,
    ESignServerError,
    ESignTransportError,
)
from airflow_provider_esign.hooks.api import ApiRequest
from airflow_provider_esign.hooks.settings import (
    DEFAULT_BACKOFF_BASE,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_RETRY_SECONDS,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How the hook retries transient failures.

    :param max_attempts: Attempts per call, first one included.
    :param max_seconds: Give up once this much time has passed since the first attempt.
    :param backoff_base: First backoff step in seconds (doubles each attempt, jittered).
    :param backoff_max: Longest single wait in seconds (also caps ``Retry-After``).
    :param rate_limited_wait: Wait after a 429 that carries no ``Retry-After``.
    """

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_seconds: float = DEFAULT_MAX_RETRY_SECONDS
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX
    rate_limited_wait: float = 10.0

    RETRY_STATUSES: ClassVar[frozenset[int]] = frozenset({429, 502, 503, 504})

    def is_retryable(self, exc: BaseException, request: ApiRequest) -> bool:
        """Transient failures are retried; for non-idempotent calls only when nothing was processed."""
        if isinstance(exc, ESignRateLimitError):
            return True  # throttled requests are not processed
        if isinstance(exc, ESignTransportError):
            return request.idempotent or not exc.maybe_processed
        if isinstance(exc, ESignMalformedResponseError):
            return request.idempotent  # a proxy page or a cut answer: a read can simply be asked again
        if isinstance(exc, ESignServerError) and request.idempotent:
            return exc.http_status in self.RETRY_STATUSES or exc.http_status == 500
        return False

    def exhausted(self, attempt: int, elapsed: float) -> bool:
        """Whether attempt number ``attempt`` (1-based) was the last one the budget allows."""
        return attempt >= self.max_attempts or elapsed >= self.max_seconds

    def backoff(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt ``attempt``: the vendor's ``Retry-After`` (capped) for a
        429, else exponential backoff with "equal jitter" (never zero, never synchronized)."""
        if isinstance(exc, ESignRateLimitError):
            return self.cap(exc.retry_after if exc.retry_after is not None else self.rate_limited_wait)
        ceiling = self.ceiling(attempt)
        return random.uniform(ceiling / 2, ceiling)

    def cap(self, seconds: float) -> float:
        """A computed wait (a ``Retry-After``, a penalty) within ``[0, backoff_max]``; a value that is
        not a finite number counts as the cap."""
        if not math.isfinite(seconds):
            return self.backoff_max
        return min(max(seconds, 0.0), self.backoff_max)

    def ceiling(self, attempt: int, *, max_doublings: int | None = None) -> float:
        """The un-jittered backoff after failed attempt ``attempt``: ``backoff_base`` doubled per
        attempt (at most ``max_doublings`` times), capped at ``backoff_max``."""
        doublings = attempt - 1 if max_doublings is None else min(attempt - 1, max_doublings)
        return min(self.backoff_max, self.backoff_base * 2**doublings)


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds from now, or None when it is
    missing or not a finite wait (``inf``, ``nan``, garbage). Callers cap the result (``backoff_max``);
    a date centuries ahead is a finite, large number here."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
        seconds = when.timestamp() - time.time()
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def may_still_be_in_flight(exc: BaseException) -> bool:
    """Whether a failed create may still be processed by the vendor after the failure: the request
    left the client and no server answered for it (timeout, reset), or a gateway gave up (502/504)."""
    if isinstance(exc, ESignTransportError):
        return exc.maybe_processed
    return isinstance(exc, ESignServerError) and exc.http_status in (502, 504)
