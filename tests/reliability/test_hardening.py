"""Issue 18's low items and the provider's configuration section:

* no secret in the ``repr``/``str``/f-string of connection settings, cached credentials, prepared
  requests, download sources or the rate limiter;
* validators match the whole value (a trailing newline fails);
* the local rate-limit folder is private (per user, 0700, foreign or writable folders refused);
* dict signers work for every vendor;
* the ``[esign]`` configuration section (``airflow config get-value``) replaces the raw
  environment variables.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from airflow_provider_esign.config import default_state_dir, ensure_private_dir
from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.api import ApiRequest, DownloadSource
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook
from airflow_provider_esign.models import SendRequest
from airflow_provider_esign.ratelimit import RateLimiter, RateLimitStorageError

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


# ------------------------------------------------------------------------------ whole-value matches
def test_a_webhook_document_id_ending_in_a_newline_is_no_id():
    from airflow_provider_esign.hooks.webhook import document_id_from

    assert document_id_from("abc-123") == "abc-123"
    assert document_id_from("abc-123\n") is None


@pytest.mark.parametrize("key", ["run-1\n", "run-1\r\n"])
def test_a_legalesign_idempotency_key_ending_in_a_newline_fails(make_connection, key):
    make_connection(
        "leg_key", "legalesign", host="https://l.test/api/v1/", login="u", password="p", group="acme"
    )
    hook = LegalesignHook("leg_key")
    hook.validate_idempotency_key("run-1")
    with pytest.raises(ESignValidationError, match="idempotency_key"):
        hook.validate_idempotency_key(key)


def test_a_legalesign_tag_or_group_ending_in_a_newline_fails(make_connection):
    from airflow_provider_esign.hooks.legalesign import wire

    make_connection(
        "leg_tag", "legalesign", host="https://l.test/api/v1/", login="u", password="p", group="acme"
    )
    hook = LegalesignHook("leg_tag")
    request = SendRequest(
        name="NDA",
        signers=({"name": "Ann Lee", "email": "ann@example.com"},),
        template_id="t-1",
        metadata={"tag": "ok\n"},
    )
    with pytest.raises(ESignValidationError, match=r"metadata\['tag'\]|tag"):
        hook.validate_send_request(request)
    with pytest.raises(ESignValidationError, match="group"):
        wire.check_group("group", "acme\n")


# ------------------------------------------------------------------------------ rate-limit folder
def test_the_default_rate_limit_folder_is_per_user_and_private(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    folder = default_state_dir()
    assert str(os.geteuid()) in os.path.basename(folder)

    ensure_private_dir(folder)

    assert stat.S_IMODE(os.stat(folder).st_mode) & 0o077 == 0


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_rate_limit_folder_others_may_write_to_is_refused(tmp_path, clock, mode):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(mode)
    limiter = RateLimiter("k", 60, state_dir=str(folder), clock=clock)
    with pytest.raises(RateLimitStorageError, match="writable by group or others"):
        limiter.reserve()


def test_a_rate_limit_folder_that_is_a_link_is_refused(tmp_path, clock):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(RateLimitStorageError, match="not a folder"):
        RateLimiter("k", 60, state_dir=str(tmp_path / "link"), clock=clock).reserve()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_rate_limit_folder_of_another_user_is_refused(tmp_path, clock):
    folder = tmp_path / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    with pytest.raises(RateLimitStorageError, match="belongs to another user"):
        RateLimiter("k", 60, state_dir=str(folder), clock=clock).reserve()


# ------------------------------------------------------------------------------ dict signers
def test_dict_signers_work_for_esignbase(make_connection, requests_mock):
    base = "https://esignbase.test"
    make_connection("esb_dict", "esignbase", host=base, login="client", password="secret")
    requests_mock.post(f"{base}/oauth2/token", json={"access_token": "tok"})
    requests_mock.get(f"{base}/api/template/t-1", json={"id": "t-1", "form_role_names": ["Signer"]})
    create = requests_mock.post(f"{base}/api/document", json={"document_id": "doc-9", "status": "SENT"})
    request = SendRequest(
        name="NDA", signers=[{"name": "Ann Lee", "email": "ann@example.com"}], template_id="t-1"
    )

    document = ESignBaseHook("esb_dict").send_document(request)

    assert document.document_id == "doc-9"
    (recipient,) = create.last_request.json()["recipients"]
    assert recipient["email"] == "ann@example.com" and recipient["role_name"] == "Signer"


def test_a_dict_signer_without_email_fails_naming_the_field_before_any_call(make_connection, requests_mock):
    make_connection("esb_bad", "esignbase", host="https://esignbase.test", login="client", password="secret")
    request = SendRequest(name="NDA", signers=[{"name": "Ann Lee"}], template_id="t-1")
    with pytest.raises(ESignValidationError, match=r"signers\[0\]\.email"):
        ESignBaseHook("esb_bad").send_document(request)
    assert requests_mock.call_count == 0


# ------------------------------------------------------------------------------ [esign] config
def test_airflow_config_get_value_knows_the_esign_section():
    """The section is declared in get_provider_info's "config": the CLI shows its default."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__ESIGN__")}
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    result = subprocess.run(
        [airflow, "config", "get-value", "esign", "ratelimit_storage"],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "local"  # after any log line of unit-test mode


def test_the_environment_form_sets_the_storage_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_STORAGE", "redis://redis.test:6379/2")
    assert RateLimiter("k", 60).storage == "redis://redis.test:6379/2"
    monkeypatch.setenv("AIRFLOW__ESIGN__RATELIMIT_DIR", "/srv/esign-rl")
    assert RateLimiter("k", 60).path.startswith("/srv/esign-rl/")
