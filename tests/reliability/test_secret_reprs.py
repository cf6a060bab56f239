"""No secret in the ``repr``/``str``/f-string of connection settings, cached credentials, prepared
requests, download sources or the rate limiter."""

from __future__ import annotations

from airflow_provider_esign.hooks.api import ApiRequest, DownloadSource
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook
from airflow_provider_esign.ratelimit import RateLimiter

SECRETS = [
    "client-secret-123",
    "account-pass-456",
    "api-secret-789",
    "api-key-abc",
    "token-def",
    "hook-secret-ghi",
]


def _renderings(obj) -> list[str]:
    return [repr(obj), str(obj), f"{obj}", f"{obj!r}", format(obj)]


def _assert_no_secret(obj) -> None:
    for text in _renderings(obj):
        for secret in SECRETS:
            assert secret not in text, f"{type(obj).__name__} shows {secret!r}: {text}"


def test_no_settings_or_credentials_object_shows_a_secret(make_connection, requests_mock, clock):
    make_connection(
        "esb_repr",
        "esignbase",
        host="https://esignbase.test",
        login="client-id",
        password="client-secret-123",
        webhook_secret="hook-secret-ghi",
    )
    make_connection(
        "wes_repr",
        "wesignature",
        host="https://wesignature.test/apihandler",
        login="me@example.com",
        password="account-pass-456",
        user_id="7",
        api_key="api-key-abc",
    )
    make_connection(
        "leg_repr",
        "legalesign",
        host="https://user:api-secret-789@legalesign.test/api/v1/",
        login="user",
        password="api-secret-789",
        group="acme-dev",
    )
    requests_mock.post("https://esignbase.test/oauth2/token", json={"access_token": "token-def"})
    esb, wes, leg = ESignBaseHook("esb_repr"), WeSignatureHook("wes_repr"), LegalesignHook("leg_repr")
    objects = []
    for hook in (esb, wes, leg):
        settings = hook.settings
        objects.append(settings)
        creds = hook.credentials()
        if creds is not None:
            objects.append(creds)
        request = ApiRequest(
            "POST", "https://x.test/a?X-Amz-Signature=api-key-abc", operation="op", json={"a": 1}
        )
        objects.append(hook.apply_auth(request, creds))
    objects.append(DownloadSource(url="https://files.test/final.pdf?sig=token-def"))
    objects.append(RateLimiter("k", 60, storage="redis://:client-secret-123@redis.test:6379/0"))

    assert any("token-def" in str(getattr(o, "values", {})) for o in objects)  # the token is there...
    for obj in objects:
        _assert_no_secret(obj)  # ...but never shown
