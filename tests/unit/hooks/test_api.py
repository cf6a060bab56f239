"""The values flows exchange with the pipeline: requests (timeouts, a repr without secrets),
responses (headers, JSON parsed once, large bodies incrementally), the helpers flows share."""

from __future__ import annotations

import json

import pytest

from airflow_provider_esign.exceptions import ESignMalformedResponseError
from airflow_provider_esign.hooks.api import (
    INCREMENTAL_JSON_BYTES,
    MAX_ERROR_TEXT,
    ApiRequest,
    ApiResponse,
    DownloadSource,
    default_vendor_message,
    malformed,
    parse_incrementally,
    quote_id,
    single_request,
    truthy,
)


def response(content: bytes = b"", **headers: str) -> ApiResponse:
    return ApiResponse(200, dict(headers), content, "https://vendor.test/")


def test_a_request_caps_the_hooks_timeouts_only_when_asked():
    assert ApiRequest("GET", "x", operation="op").timeout((10.0, 60.0)) == (10.0, 60.0)
    assert ApiRequest("GET", "x", operation="op", max_timeout=20).timeout((10.0, 60.0)) == (10.0, 20)


def test_a_requests_repr_shows_names_never_values():
    request = ApiRequest(
        "POST", "document/?token=query-secret", operation="send_document",
        headers={"Authorization": "ApiKey user:header-secret"}, json={"api_key": "body-secret", "name": "NDA"},
    )  # fmt: skip
    text = repr(request)
    assert not [secret for secret in ("query-secret", "header-secret", "body-secret") if secret in text]
    assert "Authorization" in text and "api_key" in text and "'document/'" in text


def test_a_download_sources_repr_drops_the_pre_signed_query():
    source = DownloadSource("https://bucket.example/final.pdf?X-Amz-Signature=sig-secret", auth=False)
    assert "sig-secret" not in repr(source) and "final.pdf" in repr(source)


def test_headers_are_case_insensitive():
    answer = response(**{"Content-Type": "application/pdf"})
    assert answer.header("content-type") == "application/pdf"
    assert answer.header("Retry-After", "none") == "none"


@pytest.mark.parametrize(
    ("content", "parsed"),
    [(b'{"a": 1}', {"a": 1}), (b"", None), (b"<html>proxy</html>", None), (b"[1, 2.5]", [1, 2.5])],
)
def test_json_is_the_body_or_none(content, parsed):
    assert response(content).json() == parsed


def test_a_body_parsed_while_streaming_is_returned_as_parsed():
    assert ApiResponse(200, {}, b"", "u", parsed={"kept": [1]}).json() == {"kept": [1]}
    assert ApiResponse(200, {}, b"", "u", parsed=None).json() is None


def test_a_large_body_parses_incrementally_to_the_same_value():
    items = [{"id": i, "ratio": i / 3, "name": "x" * 50} for i in range(15_000)]
    content = json.dumps({"data": items}).encode()
    assert len(content) > INCREMENTAL_JSON_BYTES
    assert response(content).json() == json.loads(content)
    assert parse_incrementally(b"2.5") == 2.5 and isinstance(parse_incrementally(b"2.5"), float)


def test_text_replaces_what_is_not_utf8():
    assert response(b"caf\xe9").text == "caf\ufffd"


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (None, "not JSON, or null"),
        ({}, "an empty object"),
        ({"x": 1}, "an object without the expected fields"),
        ([], "an empty list"),
        ([1], "a list"),
        ("text", "a JSON str"),
    ],
)
def test_malformed_says_what_arrived_never_its_content(body, kind):
    error = malformed(body, "a document", conn_id="acme", operation="get_document")
    assert isinstance(error, ESignMalformedResponseError)
    assert str(error).endswith(f"the answer is not a document ({kind})")


def test_a_single_request_flow_returns_the_response():
    request = ApiRequest("GET", "x", operation="op")
    flow = single_request(request)
    assert next(flow) is request
    answer = response(b"{}")
    with pytest.raises(StopIteration) as stop:
        flow.send(answer)
    assert stop.value.value is answer


def test_quote_id_encodes_slashes_too():
    assert quote_id("a/b c") == "a%2Fb%20c"
    assert quote_id(42) == "42"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        (" Yes ", True),
        ("1", True),
        ("on", True),
        ("false", False),
        ("", False),
        (0, False),
        (None, False),
    ],
)
def test_truthy_reads_json_and_uri_form_extras(value, expected):
    assert truthy(value) is expected


def test_the_vendors_message_from_common_keys_or_plain_text_never_html():
    def error(content: bytes) -> ApiResponse:
        return ApiResponse(400, {}, content, "u")

    assert default_vendor_message(error(b'{"detail": "bad email"}')) == "bad email"
    assert default_vendor_message(error(b'{"message": 5, "error": "invalid_grant"}')) == "invalid_grant"
    assert default_vendor_message(error(b"  plain words  ")) == "plain words"
    assert default_vendor_message(error(b"<html><body>502</body></html>")) is None
    assert len(default_vendor_message(error(b"x" * 1000))) == MAX_ERROR_TEXT
