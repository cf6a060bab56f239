"""The retry policy: what is retried (reads vs creates), the backoff, the budget, ``Retry-After``."""

from __future__ import annotations

import email.utils
import time

import pytest

from airflow_provider_esign.exceptions import (
    ESignBadRequestError,
    ESignMalformedResponseError,
    ESignRateLimitError,
    ESignServerError,
    ESignTransportError,
)
from airflow_provider_esign.hooks.api import ApiRequest
from airflow_provider_esign.hooks.retry import RetryPolicy, may_still_be_in_flight, retry_after_seconds

READ = ApiRequest("GET", "documents", operation="get_document")
CREATE = ApiRequest("POST", "documents", operation="send_document", idempotent=False)


def transport(maybe_processed: bool) -> ESignTransportError:
    error = ESignTransportError("no usable answer", conn_id="c", operation="op")
    error.maybe_processed = maybe_processed
    return error


def server(status: int) -> ESignServerError:
    return ESignServerError("boom", status_code=status, conn_id="c", operation="op")


@pytest.mark.parametrize(
    ("error", "read", "create"),
    [
        (ESignRateLimitError("slow down", status_code=429, conn_id="c", operation="op"), True, True),
        (transport(maybe_processed=False), True, True),  # never left the client: safe to resend a create
        (transport(maybe_processed=True), True, False),  # may have arrived: a create is not resent
        (ESignMalformedResponseError("junk", conn_id="c", operation="op"), True, False),
        (server(500), True, False),
        (server(503), True, False),
        (server(501), False, False),
        (ESignBadRequestError("bad", status_code=400, conn_id="c", operation="op"), False, False),
        (ValueError("a bug"), False, False),
    ],
)
def test_what_is_retried_for_reads_and_creates(error, read, create):
    policy = RetryPolicy()
    assert policy.is_retryable(error, READ) is read
    assert policy.is_retryable(error, CREATE) is create


def test_the_budget_ends_at_the_attempt_count_or_the_time_limit():
    policy = RetryPolicy(max_attempts=3, max_seconds=60)
    assert not policy.exhausted(2, elapsed=59.9)
    assert policy.exhausted(3, elapsed=0)
    assert policy.exhausted(1, elapsed=60)


def test_backoff_doubles_with_equal_jitter_up_to_the_cap(monkeypatch):
    policy = RetryPolicy(backoff_base=1.0, backoff_max=5.0)
    bounds: list[tuple[float, float]] = []
    monkeypatch.setattr("random.uniform", lambda low, high: bounds.append((low, high)) or high)
    waits = [policy.backoff(attempt, server(503)) for attempt in (1, 2, 3, 4)]
    assert waits == [1.0, 2.0, 4.0, 5.0]
    assert bounds == [(0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (2.5, 5.0)]  # never zero, never all alike


def test_a_429_waits_its_retry_after_capped_or_the_default_wait():
    policy = RetryPolicy(backoff_max=60.0, rate_limited_wait=10.0)
    limited = ESignRateLimitError("slow down", status_code=429, conn_id="c", operation="op")
    assert policy.backoff(1, limited) == 10.0
    limited.retry_after = 7.0
    assert policy.backoff(1, limited) == 7.0
    limited.retry_after = 3600.0
    assert policy.backoff(1, limited) == 60.0


@pytest.mark.parametrize(
    ("seconds", "capped"), [(-5, 0.0), (12.5, 12.5), (1e9, 60.0), (float("inf"), 60.0), (float("nan"), 60.0)]
)
def test_cap_keeps_a_computed_wait_within_zero_and_the_maximum(seconds, capped):
    assert RetryPolicy(backoff_max=60.0).cap(seconds) == capped


def test_ceiling_stops_doubling_when_asked():
    policy = RetryPolicy(backoff_base=2.0, backoff_max=1000.0)
    assert policy.ceiling(5) == 32.0
    assert policy.ceiling(5, max_doublings=2) == 8.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("30", 30.0), ("-4", 0.0), ("inf", None), ("nan", None), ("soon", None)],
)
def test_retry_after_in_seconds(header, seconds):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date():
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    assert 55 <= retry_after_seconds(in_a_minute) <= 61
    assert retry_after_seconds(email.utils.formatdate(time.time() - 600, usegmt=True)) == 0.0


def test_a_create_may_still_be_in_flight_after_a_timeout_or_a_gateway_error():
    assert may_still_be_in_flight(transport(maybe_processed=True))
    assert not may_still_be_in_flight(transport(maybe_processed=False))
    assert may_still_be_in_flight(server(502)) and may_still_be_in_flight(server(504))
    assert not may_still_be_in_flight(server(500))
    assert not may_still_be_in_flight(ValueError("bug"))
