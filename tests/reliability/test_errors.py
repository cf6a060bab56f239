"""Errors survive being pickled (process pools, executors) with message, details and permanence."""

from __future__ import annotations

import pickle

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_esign import exceptions as e

ERRORS = [
    e.ESignValidationError("signers[0].email", "'x' is not a valid email address"),
    e.DocumentFailedError("doc-1", "DECLINED", 60, "rejected by ada@example.com"),
    e.ESignAuthError("credentials rejected", conn_id="c", operation="get_document", status_code=401),
    e.ESignRateLimitError("throttled", conn_id="c", operation="op", status_code=429, retry_after=3.0),
    e.ESignServerError("vendor error", conn_id="c", operation="op", status_code=503, vendor_message="busy"),
    e.ESignTransportError("no usable answer", conn_id="c", operation="send_document"),
    e.ESignUnsupportedError("no cancel API"),
    e.DocumentNotReadyError("not ready"),
    e.ESignIntegrityError("SHA-256 mismatch"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: type(error).__name__)
def test_errors_pickle_round_trip(error):
    error.maybe_processed = False  # an attribute set after construction (transport errors)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
    assert isinstance(copy, AirflowFailException) == isinstance(error, AirflowFailException)
