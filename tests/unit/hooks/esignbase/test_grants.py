"""eSignBase Authorization Code grant: authorize command, rotation through the shared store, gone grants.

Real parts: the sandbox (HTTP), a real redis-server, Airflow's Fernet. The consent page is clicked with
plain HTTP here; tests/e2e/test_esignbase_consent_browser.py clicks it in Chromium.
"""

from __future__ import annotations

import json

import airflow
import pytest
import requests
from packaging.version import Version

from airflow_provider_esign import esignbase_auth
from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.esignbase.grant_store import GrantStoreError
from airflow_provider_esign.hooks.esignbase.grants import ESignGrantGoneError, Grant
from tests.deployment.services import free_port, redis_server
from tests.unit.hooks.esignbase.grant_helpers import (
    AuthorizeRun,
    clear_fernet_cache,
    consent,
    grant_connection,
    use_fernet_key,
)

CONN = "esignbase_user"


@pytest.fixture(scope="module")
def redis_url():
    with redis_server() as server:
        yield server.url


@pytest.fixture
def grant_env(esign_sandbox_clean, redis_url, monkeypatch):
    """An authorization_code connection to the reset sandbox, an empty Redis and a Fernet key."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    use_fernet_key(monkeypatch)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    esign_sandbox_clean.configure(
        esignbase_redirect_uris=[redirect_uri], sign_delay=0.2, send_delay=0.05, pdf_delay=0.05
    )
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN.upper()}", grant_connection(esign_sandbox_clean.url, redis_url, redirect_uri)
    )
    yield esign_sandbox_clean
    clear_fernet_cache()


def authorized(sandbox) -> AuthorizeRun:
    run = AuthorizeRun(CONN)
    answer = consent(run.url, "approve")
    assert answer.status_code == 200 and "Authorization received" in answer.text
    run.join()
    assert run.error is None, run.error
    return run


def grant_events(sandbox) -> dict:
    return requests.get(sandbox.url + "/_sandbox/esignbase/oauth/events", timeout=10).json()


def expire_access_tokens(sandbox) -> None:
    requests.post(
        sandbox.url + "/_sandbox/esignbase/oauth/expire-access-tokens", timeout=10
    ).raise_for_status()


def stored_record(redis_url) -> dict:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = [k for k in client.keys("airflow-esign:esignbase-grant:*") if not k.endswith(b":lock")]
    assert len(keys) == 1
    return json.loads(client.get(keys[0]))


def test_authorize_stores_an_encrypted_grant_the_hook_uses(grant_env, redis_url):
    run = authorized(grant_env)
    assert run.generation == 1
    record = stored_record(redis_url)
    assert record["status"] == "active" and record["generation"] == 1
    # Only the sealed form is stored: no token value in the clear, nothing printed.
    raw = json.dumps(record)
    hook = ESignBaseHook(CONN)
    assert hook.get_credits() >= 0
    token = hook.credentials().values["access_token"]
    assert token not in raw and token not in "\n".join(run.lines)
    events = [e["event"] for e in grant_events(grant_env)["events"]]
    assert events == ["consent_approved", "code_exchanged"]


def test_expired_access_token_rotates_once_and_stores_the_new_refresh_token_first(grant_env, redis_url):
    authorized(grant_env)
    hook = ESignBaseHook(CONN)
    hook.get_credits()
    before = stored_record(redis_url)
    expire_access_tokens(grant_env)
    hook.get_credits()  # 401 -> one refresh under the lock -> retried with the new token
    after = stored_record(redis_url)
    assert after["generation"] == before["generation"] + 1
    assert after["sealed"] != before["sealed"] and after["access_digest"] != before["access_digest"]
    state = grant_events(grant_env)
    assert [e["event"] for e in state["events"]].count("rotated") == 1
    assert all(not f["revoked"] for f in state["families"].values())
    # A second hook (another process would read the same record) uses the stored token: no new refresh.
    from airflow_provider_esign.hooks.credentials import CREDENTIALS

    CREDENTIALS.clear()
    ESignBaseHook(CONN).get_credits()
    assert [e["event"] for e in grant_events(grant_env)["events"]].count("rotated") == 1


def test_journal_holds_no_token_or_code(grant_env, redis_url):
    run = authorized(grant_env)
    hook = ESignBaseHook(CONN)
    grant = Grant.from_settings(hook.settings)
    refresh_tokens = [grant.sealer.open(stored_record(redis_url)["sealed"])["refresh_token"]]
    hook.get_credits()
    expire_access_tokens(grant_env)
    hook.get_credits()
    refresh_tokens.append(grant.sealer.open(stored_record(redis_url)["sealed"])["refresh_token"])
    journal = json.dumps(grant_env.requests(vendor="esignbase"))
    token = hook.credentials().values["access_token"]
    code = None
    for entry in grant_env.requests(vendor="esignbase"):
        body = entry.get("body") or {}
        if isinstance(body, dict) and body.get("grant_type") == "authorization_code":
            code = body.get("code")
    assert code == "***"
    assert token not in journal
    assert refresh_tokens[0] != refresh_tokens[1]
    assert not [t for t in refresh_tokens if t in journal]
    assert '"refresh_token": "***"' in journal  # the refresh call was journaled, redacted
    assert run.generation == 1


def test_revoked_grant_fails_at_once_with_the_reauthorize_command(grant_env, redis_url):
    authorized(grant_env)
    esignbase_auth.revoke(CONN, out=lambda _line: None)
    assert stored_record(redis_url)["status"] == "revoked"
    assert any(f["revoked"] for f in grant_events(grant_env)["families"].values())
    grant_env.clear_requests()
    with pytest.raises(
        ESignGrantGoneError,
        match="re-authorize it: `airflow esign esignbase-authorize --conn-id esignbase_user`",
    ):
        ESignBaseHook(CONN, max_attempts=5).get_credits()
    assert grant_env.requests(vendor="esignbase") == []  # failed from the store, without a call


def test_invalid_grant_from_the_vendor_is_permanent_and_recorded(grant_env, redis_url):
    from airflow.providers.common.compat.sdk import AirflowFailException

    authorized(grant_env)
    # Revoke the family at the vendor only (as a user would in eSignBase's settings).
    families = list(grant_events(grant_env)["families"])
    grant = Grant.from_settings(ESignBaseHook(CONN).settings)
    refresh_token = grant.sealer.open(stored_record(redis_url)["sealed"])["refresh_token"]
    requests.post(
        grant_env.url + "/esignbase/oauth2/revoke", data={"token": refresh_token}, timeout=10
    ).raise_for_status()
    assert grant_events(grant_env)["families"][families[0]]["revoked"]
    grant_env.clear_requests()
    with pytest.raises(ESignGrantGoneError, match="invalid_grant") as caught:
        ESignBaseHook(CONN, max_attempts=5).get_credits()
    assert isinstance(caught.value, AirflowFailException)  # no task retries
    token_calls = [r for r in grant_env.requests(vendor="esignbase") if r["path"].endswith("/oauth2/token")]
    assert len(token_calls) == 1  # refused once, never retried
    assert stored_record(redis_url)["status"] == "invalid_grant"
    assert "sealed" not in stored_record(redis_url)  # the dead token is not kept


def test_sandbox_revokes_the_family_when_a_rotated_refresh_token_is_reused(grant_env, redis_url):
    authorized(grant_env)
    grant = Grant.from_settings(ESignBaseHook(CONN).settings)
    old = grant.sealer.open(stored_record(redis_url)["sealed"])["refresh_token"]
    expire_access_tokens(grant_env)
    ESignBaseHook(CONN).get_credits()  # rotates: `old` is now spent
    auth = (
        grant_env._config_for_connections().esignbase_client_id,
        grant_env._config_for_connections().esignbase_client_secret,
    )
    reuse = requests.post(
        grant_env.url + "/esignbase/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": old},
        auth=auth,
        timeout=10,
    )
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    events = [e["event"] for e in grant_events(grant_env)["events"]]
    assert events[-2:] == ["reuse_detected", "family_revoked"]
    # The current token died with its family: the hook's next refresh reports the grant gone.
    expire_access_tokens(grant_env)
    from airflow_provider_esign.hooks.credentials import CREDENTIALS

    CREDENTIALS.clear()
    with pytest.raises(ESignGrantGoneError):
        ESignBaseHook(CONN).get_credits()


def test_denied_consent_fails_clearly_and_stores_nothing(grant_env, redis_url):
    import redis

    run = AuthorizeRun(CONN)
    answer = consent(run.url, "deny")
    assert answer.status_code == 400 and "not granted" in answer.text
    run.join()
    assert isinstance(run.error, esignbase_auth.AuthorizationFailed)
    assert "access_denied" in str(run.error) and "nothing was stored" in str(run.error)
    assert redis.Redis.from_url(redis_url).keys("airflow-esign:*") == []


def test_a_forged_state_is_refused_and_the_command_keeps_waiting_for_the_real_redirect(grant_env, redis_url):
    """Anyone who can reach the loopback port can send a callback: it must not abort the command."""
    import redis

    run = AuthorizeRun(CONN)
    url = run.url
    redirect = json.loads(__import__("os").environ[f"AIRFLOW_CONN_{CONN.upper()}"])["extra"]["redirect_uri"]
    forged = requests.get(redirect, params={"code": "attacker-code", "state": "forged"}, timeout=10)
    assert forged.status_code == 400 and "state mismatch" in forged.text
    # A non-ASCII state is refused the same way (compare_digest on str raised TypeError: no answer).
    odd = requests.get(redirect, params={"code": "attacker-code", "state": "\u00e9t\u00e9"}, timeout=10)
    assert odd.status_code == 400 and "state mismatch" in odd.text
    assert run.thread.is_alive() and redis.Redis.from_url(redis_url).keys("airflow-esign:*") == []
    # The attacker's code never reached the token endpoint.
    assert not [r for r in grant_env.requests(vendor="esignbase") if r["path"].endswith("/oauth2/token")]
    answer = consent(url, "approve")
    assert answer.status_code == 200 and "Authorization received" in answer.text
    run.join()
    assert run.error is None and run.generation == 1
    assert stored_record(redis_url)["status"] == "active"


def test_a_forged_state_alone_ends_in_the_timeout_naming_it(grant_env, redis_url):
    import redis

    run = AuthorizeRun(CONN, timeout=3.0)
    run.url  # noqa: B018 - waits until the command listens
    redirect = json.loads(__import__("os").environ[f"AIRFLOW_CONN_{CONN.upper()}"])["extra"]["redirect_uri"]
    assert requests.get(redirect, params={"code": "x", "state": "forged"}, timeout=10).status_code == 400
    run.join()
    assert isinstance(run.error, esignbase_auth.AuthorizationFailed)
    assert "wrong state" in str(run.error) and "CSRF" in str(run.error)
    assert redis.Redis.from_url(redis_url).keys("airflow-esign:*") == []


def test_revoke_marks_the_grant_revoked_even_when_the_access_token_revocation_fails(
    grant_env, redis_url, monkeypatch
):
    authorized(grant_env)
    real_post = requests.post
    calls: list[str] = []

    def post(url, **kwargs):
        calls.append(url)
        if len(calls) == 2:  # the access token's revocation
            answer = requests.Response()
            answer.status_code = 503
            return answer
        return real_post(url, **kwargs)

    monkeypatch.setattr(requests, "post", post)
    with pytest.raises(esignbase_auth.AuthorizationFailed, match="access token"):
        esignbase_auth.revoke(CONN, out=lambda _line: None)
    assert stored_record(redis_url)["status"] == "revoked"  # the refresh token is dead: never "active"


def test_sandbox_refuses_a_non_ascii_client_id_as_unknown(grant_env):
    cfg = grant_env._config_for_connections()
    answer = requests.get(
        grant_env.url + "/esignbase/oauth2/authorize",
        params={
            "client_id": "cl\u00efent",
            "response_type": "code",
            "redirect_uri": cfg.esignbase_redirect_uris[0],
            "state": "s",
        },
        timeout=10,
    )
    assert answer.status_code == 400 and "unknown client_id" in answer.text
    # The token endpoint's Basic client credentials too: refused, not a server error.
    basic = requests.post(
        grant_env.url + "/esignbase/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("cl\u00efent".encode(), b"s\xc3\xa9cret"),
        timeout=10,
    )
    assert basic.status_code in (400, 401), basic.text


def test_code_is_single_use_and_bound_to_its_redirect_uri(grant_env):
    cfg = grant_env._config_for_connections()
    auth = (cfg.esignbase_client_id, cfg.esignbase_client_secret)
    redirect_uri = cfg.esignbase_redirect_uris[0]
    page = requests.get(
        grant_env.url + "/esignbase/oauth2/authorize",
        params={
            "client_id": cfg.esignbase_client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri + "/other",
            "scope": "all",
            "state": "s",
        },
        timeout=10,
    )
    assert page.status_code == 400 and "exact match" in page.text  # never redirected to an unregistered URI

    def new_code() -> str:
        import re
        import urllib.parse

        with requests.Session() as browser:
            page = browser.get(
                grant_env.url + "/esignbase/oauth2/authorize",
                params={
                    "client_id": cfg.esignbase_client_id,
                    "response_type": "code",
                    "redirect_uri": redirect_uri,
                    "scope": "all",
                    "state": "s",
                },
                timeout=10,
            )
            ticket = re.search(r"value='([^']+)'", page.text).group(1)
            answer = browser.post(
                grant_env.url + "/esignbase/oauth2/authorize",
                data={"consent_token": ticket, "decision": "approve"},
                allow_redirects=False,
                timeout=10,
            )
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.headers["location"]).query)
            assert query["state"] == ["s"]
            return query["code"][0]

    def exchange(code: str, uri: str) -> requests.Response:
        return requests.post(
            grant_env.url + "/esignbase/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": uri},
            auth=auth,
            timeout=10,
        )

    mismatched = exchange(new_code(), redirect_uri + "?x=1")
    assert mismatched.status_code == 400 and mismatched.json()["error"] == "invalid_grant"
    code = new_code()
    first = exchange(code, redirect_uri)
    assert first.status_code == 200 and {"access_token", "refresh_token", "token_type", "expires_in"} <= set(
        first.json()
    )
    second = exchange(code, redirect_uri)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: the reused code revoked what it had issued.
    assert (
        requests.get(
            grant_env.url + "/esignbase/api/credits",
            headers={"Authorization": "Bearer " + first.json()["access_token"]},
            timeout=10,
        ).status_code
        == 401
    )
    # Codes are short-lived.
    late = new_code()
    grant_env.advance_clock(cfg.esignbase_code_ttl + 1)
    assert exchange(late, redirect_uri).json()["error"] == "invalid_grant"


def test_connection_errors_come_before_any_http_call(grant_env, make_connection, monkeypatch):
    monkeypatch.delenv("AIRFLOW_ESIGN_GRANT_STORE", raising=False)
    conn = make_connection(
        "esignbase_nostore",
        "esignbase",
        host=grant_env.url + "/esignbase/",
        login="c",
        password="s",
        grant_type="authorization_code",
    )
    with pytest.raises(ESignValidationError, match="refresh_token_store"):
        ESignBaseHook(conn).get_credits()
    bad = make_connection(
        "esignbase_badgrant", "esignbase", host=grant_env.url, login="c", password="s", grant_type="password"
    )
    with pytest.raises(ESignValidationError, match="grant_type"):
        ESignBaseHook(bad).get_credits()
    assert grant_env.requests(vendor="esignbase") == []


def test_no_fernet_key_refuses_to_store_tokens_in_the_clear(grant_env, monkeypatch):
    use_fernet_key(monkeypatch, "")
    with pytest.raises(GrantStoreError, match="fernet_key"):
        esignbase_auth.authorize(CONN, timeout=1, out=lambda _line: None)


def test_a_grant_sealed_for_another_connection_does_not_open(grant_env, redis_url):
    from airflow_provider_esign.hooks.esignbase.grant_store import Sealer

    sealed = Sealer("airflow-esign:esignbase-grant:tenant-a").seal({"refresh_token": "rt"})
    with pytest.raises(GrantStoreError, match="another grant"):
        Sealer("airflow-esign:esignbase-grant:tenant-b").open(sealed)


def test_a_dead_holders_lease_lapses_and_a_live_one_is_renewed(redis_url):
    import time

    import redis

    from airflow_provider_esign.hooks.esignbase.grant_store import RedisGrantStore

    client = redis.Redis.from_url(redis_url)
    store = RedisGrantStore(redis_url, "airflow-esign:esignbase-grant:lease-test")
    live = store.try_acquire("live", 5000)
    assert live is not None and store.try_acquire("other", 5000) is None
    # The holder's renewer pushes the expiry out again (every third of the lease): watch the TTL rise.
    previous, renewed = client.pttl(store.lock_key), False
    deadline = time.monotonic() + 30
    while not renewed and time.monotonic() < deadline:
        current = client.pttl(store.lock_key)
        renewed, previous = current > previous, current
        time.sleep(0.01)
    assert renewed and client.get(store.lock_key) == b"live"
    live.release()
    assert client.get(store.lock_key) is None
    dead = store.try_acquire("dead", 300)
    assert dead is not None
    dead._stop.set()  # its process died: nobody renews it
    other = None
    deadline = time.monotonic() + 30
    while other is None and time.monotonic() < deadline:
        other = store.try_acquire("other", 300)
        time.sleep(0.02)
    assert other is not None
    other.release()


@pytest.mark.skipif(
    Version(airflow.__version__) < Version("3.2"), reason="provider CLI commands exist from Airflow 3.2"
)
def test_airflow_cli_shows_the_grant_without_its_tokens(grant_env, redis_url):
    """The provider's ``cli`` entry (Airflow 3.2+) makes ``airflow esign ...`` work."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.unit.hooks.esignbase.grant_helpers import FERNET_KEY

    authorized(grant_env)
    record = stored_record(redis_url)
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "esign", "esignbase-status", "--conn-id", CONN],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, AIRFLOW__CORE__FERNET_KEY=FERNET_KEY),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "status=active" in result.stdout and f"generation={record['generation']}" in result.stdout
    assert record["sealed"] not in result.stdout + result.stderr


def test_an_unreachable_store_is_a_retryable_error_without_its_password(grant_env, monkeypatch):
    from airflow_provider_esign.exceptions import ESignPermanentError
    from tests.deployment.services import free_port as port

    url = f"redis://:hunter2@127.0.0.1:{port()}/0"
    cfg = grant_env._config_for_connections()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ESIGNBASE_NOREDIS", grant_connection(grant_env.url, url, cfg.esignbase_redirect_uris[0])
    )
    with pytest.raises(GrantStoreError) as caught:
        ESignBaseHook("esignbase_noredis", max_attempts=1).get_credits()
    assert "hunter2" not in str(caught.value) and "read failed" in str(caught.value)
    assert not isinstance(caught.value, ESignPermanentError)  # Redis may come back: task retries apply


def test_a_leaked_lease_stops_being_renewed(redis_url, monkeypatch):
    """A holder that never releases (a bug, a hung thread) keeps the lock at most MAX_HOLD_SECONDS."""
    import time

    from airflow_provider_esign.hooks.esignbase import grant_store

    monkeypatch.setattr(grant_store, "MAX_HOLD_SECONDS", 0.3)
    store = grant_store.RedisGrantStore(redis_url, "airflow-esign:esignbase-grant:leak-test")
    leaked = store.try_acquire("leaked", 300)
    assert leaked is not None
    leaked._thread.join(10)  # the renewer gives up after MAX_HOLD_SECONDS ...
    assert not leaked._thread.is_alive()
    taken = None
    deadline = time.monotonic() + 10
    while taken is None and time.monotonic() < deadline:  # ... and the lease then lapses
        taken = store.try_acquire("next", 300)
        time.sleep(0.02)
    assert taken is not None
    taken.release()


def test_reprs_hold_no_secret(grant_env, redis_url):
    authorized(grant_env)
    grant = Grant.from_settings(ESignBaseHook(CONN).settings)
    lease = grant.store.try_acquire("repr-test", 1000)
    try:
        shown = repr(grant) + repr(lease) + repr(grant.store) + repr(grant.sealer)
    finally:
        lease.release()
    cfg = grant_env._config_for_connections()
    assert cfg.esignbase_client_secret not in shown and redis_url not in shown


def test_consent_needs_the_pages_single_use_ticket_and_a_known_client(grant_env):
    """A POST that did not come from the consent page the user saw issues no code."""
    import re

    cfg = grant_env._config_for_connections()
    url = grant_env.url + "/esignbase/oauth2/authorize"
    params = {
        "client_id": cfg.esignbase_client_id,
        "response_type": "code",
        "redirect_uri": cfg.esignbase_redirect_uris[0],
        "scope": "all",
        "state": "s",
    }
    forged = requests.post(url, data={"decision": "approve"}, allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and "location" not in forged.headers
    unknown = requests.get(
        url, params={**params, "client_id": "someone-else"}, allow_redirects=False, timeout=10
    )
    assert unknown.status_code == 400 and "unknown client_id" in unknown.text
    page = requests.get(url, params=params, timeout=10)
    ticket = re.search(r"name='consent_token' value='([^']+)'", page.text).group(1)
    first = requests.post(
        url, data={"consent_token": ticket, "decision": "approve"}, allow_redirects=False, timeout=10
    )
    again = requests.post(
        url, data={"consent_token": ticket, "decision": "approve"}, allow_redirects=False, timeout=10
    )
    assert first.status_code == 302 and "code=" in first.headers["location"]
    assert again.status_code == 400 and "location" not in again.headers
    assert [e["event"] for e in grant_events(grant_env)["events"]] == ["consent_approved"]


@pytest.mark.parametrize("error", [RuntimeError("webhook budget busy"), KeyboardInterrupt()])
def test_the_refresh_lock_is_released_at_once_when_storing_the_new_token_fails(
    grant_env, redis_url, monkeypatch, error
):
    """Through the real hook, executor and Redis: an error that is not a vendor error (here from the
    store write) used to skip the flow's cleanup, leaving the lock held and renewed for 15 minutes."""
    import redis

    from airflow_provider_esign.hooks.esignbase.grant_store import RedisGrantStore

    authorized(grant_env)
    hook = ESignBaseHook(CONN, max_attempts=1)
    hook.get_credits()
    expire_access_tokens(grant_env)

    def failing_write(self, record, expected_generation):
        raise error

    monkeypatch.setattr(RedisGrantStore, "write", failing_write)
    with pytest.raises(type(error)):
        hook.get_credits()
    client = redis.Redis.from_url(redis_url)
    assert client.keys("airflow-esign:esignbase-grant:*:lock") == []
