"""The provider's exceptions: which fail a task at once, their messages, pickling, the status table."""

from __future__ import annotations

import pickle

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignMalformedResponseError,
    ESignNotFoundError,
    ESignRateLimitError,
    ESignServerError,
    ESignTransportError,
    ESignValidationError,
    error_for_status,
)


@pytest.mark.parametrize(
    ("cls", "permanent"),
    [
        (ESignAuthError, True),
        (ESignBadRequestError, True),
        (ESignNotFoundError, True),
        (ESignRateLimitError, False),
        (ESignServerError, False),
        (ESignMalformedResponseError, False),
        (ESignTransportError, False),
    ],
)
def test_only_failures_a_retry_cannot_fix_fail_the_task_at_once(cls, permanent):
    error = cls("x", conn_id="c", operation="op")
    assert isinstance(error, AirflowFailException) is permanent


def test_an_api_error_names_the_connection_operation_status_and_vendor_text():
    error = ESignApiError(
        "request rejected",
        conn_id="acme",
        operation="send_document",
        status_code=422,
        vendor_message="bad email",
    )
    assert str(error) == (
        "send_document on connection 'acme' failed: HTTP 422, request rejected (vendor says: bad email)"
    )
    assert error.http_status == 422
    assert str(ESignApiError("no answer", conn_id="acme", operation="get_document")) == (
        "get_document on connection 'acme' failed: no answer"
    )


def test_validation_and_document_errors_say_what_and_why():
    assert (
        str(ESignValidationError("signers[0].email", "is required"))
        == "Invalid signers[0].email: is required"
    )
    assert isinstance(ESignValidationError("f", "r"), ValueError)
    failed = DocumentFailedError("doc-1", "DECLINED", 3, detail="by ann@example.com")
    assert str(failed) == "Document doc-1 is DECLINED (vendor status 3): by ann@example.com"


@pytest.mark.parametrize(
    "error",
    [
        ESignValidationError("document_name", "is required"),
        DocumentFailedError("doc-1", "VOIDED", "voided"),
        ESignRateLimitError("throttled", conn_id="c", operation="op", status_code=429, retry_after=12.0),
    ],
)
def test_errors_survive_pickling_with_their_attributes(error):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_a_transport_errors_maybe_processed_survives_pickling():
    error = ESignTransportError("no usable answer", conn_id="c", operation="op")
    error.maybe_processed = False
    assert pickle.loads(pickle.dumps(error)).maybe_processed is False


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, ESignAuthError),
        (403, ESignAuthError),
        (404, ESignNotFoundError),
        (429, ESignRateLimitError),
        (500, ESignServerError),
        (503, ESignServerError),
        (400, ESignBadRequestError),
        (409, ESignBadRequestError),
    ],
)
def test_the_status_table(status, cls):
    assert error_for_status(status)[0] is cls


def test_a_status_from_a_body_says_where_it_came_from():
    assert error_for_status(401, "body code 401") == (
        ESignAuthError,
        "credentials rejected (body code 401); check the connection",
    )
    assert error_for_status(400, "body code 400") == (ESignBadRequestError, "body code 400")
