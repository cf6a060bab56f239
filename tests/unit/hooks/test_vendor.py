"""The vendor interface's defaults (``hooks/vendor.py``): the one status table, the optional steps
that make no call, the webhook and watcher defaults, and the HTTP date parser."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import (
    ESignNotFoundError,
    ESignRateLimitError,
    ESignServerError,
    ESignValidationError,
)
from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.vendor import http_date
from airflow_provider_esign.models import SendRequest

REQUEST = ApiRequest("GET", "api/document/d-1", operation="get_document")


def answer(status: int, body: bytes = b"", **headers: str) -> ApiResponse:
    return ApiResponse(status, dict(headers), body, "https://esignbase.test/api/document/d-1")


@pytest.fixture
def hook(make_connection):
    make_connection("esb_vendor", "esignbase", host="https://esignbase.test", login="id", password="secret")
    return ESignBaseHook("esb_vendor")


@pytest.mark.parametrize(
    ("status", "error"), [(404, ESignNotFoundError), (429, ESignRateLimitError), (503, ESignServerError)]
)
def test_an_error_status_raises_the_one_table_s_exception_with_the_vendor_s_text(hook, status, error):
    with pytest.raises(error) as raised:
        hook.raise_for_response(
            REQUEST, answer(status, b'{"message": "the vendor says no"}', **{"Retry-After": "7"})
        )
    assert raised.value.vendor_message == "the vendor says no"
    assert raised.value.operation == "get_document" and raised.value.conn_id == "esb_vendor"
    if status == 429:
        assert raised.value.retry_after == 7.0


def test_a_status_the_request_expects_is_handed_to_the_flow(hook):
    hook.raise_for_response(
        ApiRequest("GET", "x", operation="get_pdf", ok_statuses=frozenset({404})), answer(404)
    )


def test_the_optional_steps_make_no_call_and_return_their_input(hook):
    request = SendRequest(name="NDA", signers=[{"name": "Ada", "email": "ada@example.com"}], template_id="t")
    step = hook.before_create_flow(request, {}, "key-1")
    with pytest.raises(StopIteration) as done:
        next(step)  # a flow that yields no request
    assert done.value.value is None


def test_a_vendor_without_groups_refuses_a_group_for_the_watcher():
    with pytest.raises(ESignValidationError, match="group"):
        ESignBaseHook.completion_filters("sales", None)
    assert ESignBaseHook.completion_filters(None, None) == ({}, True)


def test_a_vendor_without_webhooks_rejects_every_delivery():
    claim = ESignBaseHook.verify_webhook({}, {}, {"document_id": "d-1"})
    assert claim.rejection and not claim.verified_sender


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Dec 2026 16:00:00 GMT", 1796572800.0),
        ("Sunday, 06-Dec-26 16:00:00 GMT", 1796572800.0),  # RFC 850, which RFC 9110 still accepts
        ("not a date", None),
        (None, None),
        ("", None),
    ],
)
def test_http_date(value, expected):
    assert http_date(value) == expected
