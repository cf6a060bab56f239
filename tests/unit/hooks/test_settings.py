"""Connection settings: the base URL from either connection form, the tuning options, a secret-free repr."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_esign.hooks.settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    ConnectionSettings,
    build_settings,
    redact_url,
    resolve_option,
    resolve_timeout,
)

DEFAULT = "https://api.vendor.example/v1/"


def conn(host="", port=None, schema="", login="user", password="pw"):
    return SimpleNamespace(host=host, port=port, schema=schema, login=login, password=password)


@pytest.mark.parametrize(
    ("connection", "extra", "base_url"),
    [
        (conn(), {}, DEFAULT),
        (conn(host="  "), {}, DEFAULT),
        (conn(host="https://eu.vendor.example/api"), {}, "https://eu.vendor.example/api/"),
        (conn(host="eu.vendor.example"), {}, "https://eu.vendor.example/"),
        (
            conn(host="127.0.0.1", port=8765, schema="/api/v1/"),
            {"scheme": "http"},
            "http://127.0.0.1:8765/api/v1/",
        ),
    ],
)
def test_the_base_url_from_the_json_and_the_uri_form(connection, extra, base_url):
    settings = build_settings("c", connection, extra, DEFAULT)
    assert settings.base_url == base_url
    assert "scheme" not in settings.extra  # a URI-form detail, not a vendor option


def test_missing_login_and_password_become_empty_strings():
    settings = build_settings("c", conn(login=None, password=None), None, DEFAULT)
    assert (settings.login, settings.password, settings.extra) == ("", "", {})


def test_the_repr_shows_no_password_no_extra_value_and_no_user_info():
    settings = ConnectionSettings(
        "c", "https://user:url-secret@host.example/", "user", "pw-secret", {"api_key": "key-secret"}
    )
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "pw-secret" not in text and "key-secret" not in text and "url-secret" not in text
        assert "api_key" in text and "host.example" in text


def test_redact_url_only_touches_user_info():
    assert redact_url("https://a:b@host.example:8443/x") == "https://***@host.example:8443/x"
    assert redact_url("https://host.example/x?q=1") == "https://host.example/x?q=1"


def test_an_option_comes_from_the_hook_argument_then_the_extra_then_the_default():
    settings = ConnectionSettings("c", DEFAULT, "", "", {"max_attempts": 7, "blank": ""})
    assert resolve_option({"max_attempts": 2}, settings, "max_attempts", 5) == 2
    assert resolve_option({"max_attempts": None}, settings, "max_attempts", 5) == 7
    assert resolve_option({}, settings, "blank", 5) == 5
    assert resolve_option({}, None, "max_attempts", 5) == 5


def test_timeouts_as_a_pair_a_number_or_the_defaults():
    settings = ConnectionSettings("c", DEFAULT, "", "", {"connect_timeout": "4"})
    assert resolve_timeout({"timeout": [2, 9]}, settings) == (2.0, 9.0)
    assert resolve_timeout({"timeout": 30}, settings) == (4.0, 30.0)
    assert resolve_timeout({}, None) == (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
