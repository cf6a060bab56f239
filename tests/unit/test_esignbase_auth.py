"""The eSignBase authorize command's own pieces: a literal loopback redirect URI, the authorize URL,
the callback (state checked in constant time; a forged one never ends the wait), the code exchange.
The whole command against the sandbox: tests/unit/hooks/esignbase/test_grants.py."""

from __future__ import annotations

import urllib.parse

import pytest

from airflow_provider_esign.esignbase_auth import (
    AuthorizationFailed,
    _Callback,
    authorize_url,
    exchange_code,
    redirect_target,
)
from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.settings import ConnectionSettings

BASE = "https://esignbase.test/"
JSON = {"content-type": "application/json"}


def settings(**extra) -> ConnectionSettings:
    return ConnectionSettings(
        "esb", BASE, "client-id", "client-secret", {"grant_type": "authorization_code", **extra}
    )


@pytest.mark.parametrize(
    ("uri", "target"),
    [
        (
            "http://127.0.0.1:8765/callback",
            ("http://127.0.0.1:8765/callback", "127.0.0.1", 8765, "/callback"),
        ),
        ("http://[::1]:9000", ("http://[::1]:9000", "::1", 9000, "/")),
    ],
)
def test_a_literal_loopback_redirect_uri(uri, target):
    assert redirect_target(settings(redirect_uri=uri)) == target


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8765/cb",
        "https://127.0.0.1:8765/cb",
        "http://127.0.0.1/cb",
        "http://example.com:8765/cb",
    ],
)
def test_anything_else_is_refused_naming_the_extra(uri):
    with pytest.raises(ESignValidationError) as excinfo:
        redirect_target(settings(redirect_uri=uri))
    assert excinfo.value.field == "connection 'esb' extra.redirect_uri"


def test_the_authorize_url():
    url = authorize_url(settings(sandbox=True), "http://127.0.0.1:8765/callback", "state-1")
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == BASE + "oauth2/authorize"
    assert dict(urllib.parse.parse_qsl(parts.query)) == {
        "client_id": "client-id",
        "response_type": "code",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "scope": "all sandbox",
        "state": "state-1",
    }


@pytest.fixture
def callback():
    waiting = _Callback("127.0.0.1", 0, "/callback", "expected-state")
    yield waiting
    waiting.server.server_close()


def test_the_callback_takes_the_code_once(callback):
    assert callback.handle("/callback?state=expected-state&code=c-1") == (
        200,
        "Authorization received. You can close this window.",
    )
    assert callback.result == {"state": "expected-state", "code": "c-1"} and callback.done.is_set()
    assert callback.handle("/callback?state=expected-state&code=c-2")[0] == 409
    assert callback.result["code"] == "c-1"


def test_a_forged_state_is_refused_and_the_wait_goes_on(callback):
    assert callback.handle("/callback?state=guess&code=c-1")[0] == 400
    assert callback.handle("/callback?state=%C3%A9&code=c-1")[0] == 400  # non-ASCII: no TypeError
    assert callback.refused == 2 and not callback.done.is_set() and callback.result is None
    assert callback.handle("/elsewhere?state=expected-state")[0] == 404


def test_a_denied_consent_or_a_missing_code_ends_the_wait_with_the_reason(callback):
    assert (
        callback.handle("/callback?state=expected-state&error=access_denied&error_description=no")[0] == 400
    )
    assert callback.error == "eSignBase returned error='access_denied' no; nothing was stored"
    other = _Callback("127.0.0.1", 0, "/callback", "s")
    try:
        assert other.handle("/callback?state=s")[0] == 400
        assert other.error == "the redirect carried no code; nothing was stored"
    finally:
        other.server.server_close()


def test_the_code_exchange_sends_the_exact_redirect_uri_with_client_auth(requests_mock):
    token = requests_mock.post(
        BASE + "oauth2/token",
        json={"access_token": "a", "refresh_token": "r", "expires_in": 300},
        headers=JSON,
    )
    assert exchange_code(settings(), "c-1", "http://127.0.0.1:8765/callback")["refresh_token"] == "r"
    sent = token.last_request
    assert dict(urllib.parse.parse_qsl(sent.text)) == {
        "grant_type": "authorization_code",
        "code": "c-1",
        "redirect_uri": "http://127.0.0.1:8765/callback",
    }
    assert sent.headers["Authorization"].startswith("Basic ") and sent.timeout == (10, 60)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"status_code": 400, "json": {"error": "invalid_grant"}, "headers": JSON},
            "refused the code exchange (400 invalid_grant)",
        ),
        (
            {"status_code": 200, "json": {"access_token": "a"}, "headers": JSON},
            "refused the code exchange (200 )",
        ),
        ({"status_code": 200, "text": "[1, 2]", "headers": JSON}, "with a body that is not a JSON object"),
        (
            {"status_code": 200, "text": "{truncated", "headers": JSON},
            "with a body that is not a JSON object",
        ),
        (
            {"status_code": 200, "text": "<html>", "headers": {"content-type": "text/html"}},
            "refused the code exchange (200 )",
        ),
    ],
)
def test_a_failed_exchange_stores_nothing_and_says_why(requests_mock, answer, message):
    requests_mock.post(BASE + "oauth2/token", **answer)
    with pytest.raises(AuthorizationFailed, match="nothing was stored") as excinfo:
        exchange_code(settings(), "c-1", "http://127.0.0.1:8765/callback")
    assert message in str(excinfo.value)
