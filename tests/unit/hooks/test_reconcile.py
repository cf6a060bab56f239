"""Exactly-once sends (``hooks/reconcile.py``), driven directly: a fake vendor whose steps are flows,
and a scripted executor answering each request, so every branch is seen without HTTP or sleeping."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_esign.exceptions import ESignBadRequestError, ESignServerError, ESignTransportError
from airflow_provider_esign.hooks.api import ApiRequest, no_call
from airflow_provider_esign.hooks.effects import Sleep
from airflow_provider_esign.hooks.reconcile import FIRST_ATTEMPT_AT, send_once_flow
from airflow_provider_esign.hooks.retry import RetryPolicy
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest

REQUEST = SendRequest(name="NDA", signers=[{"name": "Ada", "email": "ada@example.com"}], template_id="t-1")
FOUND = DocumentInfo("doc-found", "fake", "NDA", DocumentStatus.SENT, "sent")
CREATED = DocumentInfo("doc-new", "fake", "NDA", DocumentStatus.SENT, "sent")


def lost_answer() -> ESignTransportError:
    """A create whose answer never came (read timeout): it may have been processed."""
    error = ESignTransportError("no usable answer (ReadTimeout)", conn_id="c", operation="send_document")
    error.maybe_processed = True
    return error


class FakeVendor:
    """The vendor steps reconciliation uses, each one request the test answers."""

    log = logging.getLogger("test.reconcile")
    retry_policy = RetryPolicy(max_attempts=3, backoff_base=1.0, backoff_max=4.0)
    create_settle_seconds = 30.0

    def __init__(self) -> None:
        self.now = 0.0
        self.refused: list[str | None] = []

    def clock(self) -> float:
        return self.now

    def prepare_send_flow(self, request):
        return no_call(request)

    def before_create_flow(self, request, checkpoint, idempotency_key=None):
        return no_call(None)

    def find_sent_flow(self, request, idempotency_key, checkpoint):
        response = yield ApiRequest("GET", "documents", operation="find")
        return response

    def create_flow(self, request, idempotency_key):
        response = yield ApiRequest("POST", "documents", operation="send_document", idempotent=False)
        return response

    def create_refused(self, idempotency_key):
        self.refused.append(idempotency_key)


def drive(flow, creates, finds):
    """Run ``flow``: each create answer comes from ``creates`` (an exception is raised at the flow's
    yield, as the pipeline does), each lookup from ``finds``; returns (value, requests, sleeps)."""
    requests, sleeps = [], []
    result, error = None, None
    while True:
        try:
            message = flow.throw(error) if error is not None else flow.send(result)
        except StopIteration as stop:
            return stop.value, requests, sleeps
        result, error = None, None
        if isinstance(message, Sleep):
            sleeps.append(message.seconds)
            continue
        requests.append(message.operation)
        answer = (creates if message.operation == "send_document" else finds).pop(0)
        if isinstance(answer, BaseException):
            error = answer
        else:
            result = answer


def test_an_ambiguous_create_is_looked_up_again_after_the_settle_time_and_adopted():
    vendor = FakeVendor()
    flow = send_once_flow(vendor, REQUEST, "key-1", {}, adopt_existing=False)
    document, requests, sleeps = drive(flow, creates=[lost_answer()], finds=[None, FOUND])
    assert document is FOUND
    assert requests == ["send_document", "find", "find"]  # one create, never a second
    assert len(sleeps) == 2 and sleeps[1] == 30.0  # backoff, then the settle time


def test_an_ambiguous_create_nobody_made_is_sent_again():
    vendor = FakeVendor()
    vendor.create_settle_seconds = 0
    flow = send_once_flow(vendor, REQUEST, "key-1", {}, adopt_existing=False)
    document, requests, _ = drive(
        flow,
        creates=[
            ESignServerError("HTTP 500", conn_id="c", operation="send_document", status_code=500),
            CREATED,
        ],
        finds=[None],
    )
    assert document is CREATED
    assert requests == ["send_document", "find", "send_document"]


def test_without_a_key_an_ambiguous_create_is_raised_not_reconciled():
    flow = send_once_flow(FakeVendor(), REQUEST, None, {}, adopt_existing=False)
    with pytest.raises(ESignTransportError):
        drive(flow, creates=[lost_answer()], finds=[])


def test_an_answered_error_made_no_document_and_is_never_looked_up():
    vendor = FakeVendor()
    flow = send_once_flow(vendor, REQUEST, "key-1", {}, adopt_existing=False)
    with pytest.raises(ESignBadRequestError):
        drive(
            flow,
            creates=[
                ESignBadRequestError("bad signer", conn_id="c", operation="send_document", status_code=400)
            ],
            finds=[],
        )
    assert vendor.refused == ["key-1"]


def test_a_retried_try_adopts_the_earlier_try_s_document_before_creating():
    flow = send_once_flow(FakeVendor(), REQUEST, "key-1", {}, adopt_existing=True)
    document, requests, _ = drive(flow, creates=[], finds=[FOUND])
    assert document is FOUND
    assert requests == ["find"]


def test_the_first_attempt_bound_is_written_before_the_create_and_an_earlier_one_is_kept():
    fresh: dict = {}
    drive(send_once_flow(FakeVendor(), REQUEST, "key-1", fresh, adopt_existing=False), [CREATED], [])
    assert fresh[FIRST_ATTEMPT_AT]  # an ISO time a later lookup starts from
    earlier = {FIRST_ATTEMPT_AT: "2026-01-01T00:00:00+00:00"}  # the DAG run's start, set by the operator
    drive(send_once_flow(FakeVendor(), REQUEST, "key-1", earlier, adopt_existing=False), [CREATED], [])
    assert earlier[FIRST_ATTEMPT_AT] == "2026-01-01T00:00:00+00:00"
