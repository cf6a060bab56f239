"""Every computed wait has a cap, and every connection its own timeout.

* A 429's ``Retry-After`` (seconds, an HTTP date far ahead, ``inf``, garbage) never makes the hook
  sleep longer than ``backoff_max``, neither for the retry nor for the next call through the shared
  rate-limit schedule (injected clock: no real sleeping).
* In one event loop (the triggerer's), a ``timeout=1`` connection after a ``timeout=60`` one gives
  up on a slow server with a timeout, against a real loopback HTTP server.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_provider_esign.exceptions import ESignTransportError
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.retry import RetryPolicy, retry_after_seconds

DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"
DOCUMENT = {"uuid": DOC_ID, "status": 10, "signers": []}
INTERVAL = 60 / 60 * 1.01  # 60 calls a minute, with the limiter's 1% margin


@pytest.mark.parametrize(
    "header",
    ["3600", "Fri, 01 Jan 2100 00:00:00 GMT", "inf", "Infinity", "nan", "soon", "1e400", "-5"],
)
def test_retry_after_never_makes_the_hook_wait_beyond_backoff_max(
    make_connection, clock, requests_mock, header
):
    """The retry sleep and the next call's rate-limit wait both stay within ``backoff_max``: the
    limiter's shared schedule is pushed back by the capped wait, not by the vendor's number."""
    base = f"https://legalesign-{uuid.uuid4().hex[:8]}.test/api/v1/"  # a schedule of its own
    make_connection(
        "leg_cap",
        "legalesign",
        host=base,
        login="u",
        password="secret",
        group="acme",
        rate_limit_per_minute=60,
    )
    hook = LegalesignHook("leg_cap", sleep=clock.sleep, clock=clock, backoff_max=2)
    requests_mock.get(
        f"{base}document/{DOC_ID}/",
        [{"status_code": 429, "headers": {"Retry-After": header}}, {"json": DOCUMENT}, {"json": DOCUMENT}],
    )

    hook.get_document(DOC_ID)  # 429, one capped retry
    hook.get_document(DOC_ID)  # the next call on the connection

    assert clock.sleeps, "the 429 was retried after a wait"
    assert max(clock.sleeps) <= 2.0 + INTERVAL
    assert sum(clock.sleeps) <= 2.0 + 2 * INTERVAL


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("inf", None), ("nan", None), ("1e400", None), ("later", None), ("-3", 0.0)],
)
def test_retry_after_is_a_finite_number_or_none(header, expected):
    assert retry_after_seconds(header) == expected


def test_a_far_future_date_is_capped_by_the_policy():
    seconds = retry_after_seconds("Fri, 01 Jan 2100 00:00:00 GMT")
    assert seconds is not None and seconds > 1e9
    assert RetryPolicy(backoff_max=2).cap(seconds) == 2
    assert RetryPolicy(backoff_max=2).cap(float("inf")) == 2


# ------------------------------------------------------------------------- one timeout per hook
class _SlowServer:
    """A loopback HTTP server: ``/api/v1/document/slow/`` answers after ``delay`` seconds (or when the
    test ends), every other document at once."""

    def __init__(self, delay: float) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if "/slow/" in self.path:
                    release.wait(delay)
                body = json.dumps(DOCUMENT).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (its timeout)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _SlowServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


async def test_each_connection_keeps_its_own_timeout_in_one_event_loop(make_connection):
    """One httpx client serves the whole loop; a ``timeout=1`` connection used after a ``timeout=60``
    one must still give up on a server that answers after 8 s (before, the first timeout won and the
    slow answer arrived as a success)."""
    with _SlowServer(delay=8) as server:
        make_connection(
            "leg_patient",
            "legalesign",
            host=server.url,
            login="u",
            password="s",
            group="acme",
            timeout=60,
            max_attempts=1,
        )
        make_connection(
            "leg_hasty",
            "legalesign",
            host=server.url,
            login="u",
            password="s",
            group="acme",
            timeout=1,
            max_attempts=1,
        )
        patient = LegalesignHook("leg_patient")
        hasty = LegalesignHook("leg_hasty")

        assert (await patient.aget_document("fast")).document_id == DOC_ID  # the loop's client exists now
        with pytest.raises(ESignTransportError) as err:
            await asyncio.wait_for(hasty.aget_document("slow"), timeout=7)

    assert "Timeout" in str(err.value)  # httpx's ReadTimeout, not a cancellation or another failure
