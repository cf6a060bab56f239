"""The eSignBase Authorization Code grant in a real browser: the authorize command (its own process)
against the sandbox, the consent page approved in Chromium, then a DAG sends, waits (deferrable) and
stores with the stored grant. Denial fails clearly and stores nothing; a forged ``state`` is refused
without ending the command.

Chromium is the OS package (/usr/bin/chromium, apt-installed when missing), driven by Playwright from
PyPI with ``executable_path`` (never ``playwright install``). Screenshots: docs/img/esignbase-consent*.png.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.deployment.services import CHROMIUM_ARGS, chromium_path, free_port, redis_server, stop
from tests.e2e.conftest import run_dag
from tests.unit.hooks.esignbase.grant_helpers import (
    FERNET_KEY,
    clear_fernet_cache,
    grant_connection,
    use_fernet_key,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real browser and API server: once per CI run

CONN = "esignbase_user_grant"  # the DAG's connection (tests/dags/esign_esignbase_user_grant.py)
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "img"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as server:
        yield server.url


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    """A headless Chromium (the OS package) with a fresh profile. Playwright's sync API keeps an event
    loop on this thread while it is open, so a DAG that runs a trigger in-process (dag.test) must run
    after it is closed."""
    executable = chromium_path()
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def user_grant(sandbox, redis_url, monkeypatch):
    """The e2e sandbox plus the authorization_code connection, an empty Redis and a Fernet key."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    use_fernet_key(monkeypatch)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    sandbox.configure(esignbase_redirect_uris=[redirect_uri])
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", grant_connection(sandbox.url, redis_url, redirect_uri))
    yield sandbox, redirect_uri
    clear_fernet_cache()


class AuthorizeCommand:
    """``python -m airflow_provider_esign.esignbase_auth authorize`` as the user would run it."""

    def __init__(self) -> None:
        env = dict(
            os.environ, AIRFLOW__CORE__FERNET_KEY=FERNET_KEY, PYTHONUNBUFFERED="1", PYTHONPATH=str(ROOT)
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_provider_esign.esignbase_auth",
                "authorize",
                "--conn-id",
                CONN,
                "--timeout",
                "120",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("Waiting for the redirect"):
                break
        self.url = next(line.strip() for line in self.lines if "oauth2/authorize?" in line)

    def finish(self) -> tuple[int, str, str]:
        try:
            out, err = self.process.communicate(timeout=120)
        finally:
            stop(self.process)
        return self.process.returncode, "".join(self.lines) + out, err


def grant_events(sandbox) -> list[str]:
    body = requests.get(sandbox.url + "/_sandbox/esignbase/oauth/events", timeout=10).json()
    return [e["event"] for e in body["events"]]


def sign_once_the_trigger_polls(sandbox, done: threading.Event) -> None:
    """Sign the DAG's document only after its second status read: the sensor's own check comes first,
    so the second one is the deferred trigger's (async path, in the triggerer's place), which then
    sees the document complete."""
    while not done.wait(0.05):
        documents = sandbox.documents("esignbase")
        if not documents:
            continue
        doc_id = documents[0]["id"]
        reads = sandbox.requests(vendor="esignbase", method="GET", path=f"/esignbase/api/document/{doc_id}")
        if len(reads) >= 2:
            sandbox.sign("esignbase", doc_id)
            return


def test_approve_in_chromium_then_a_dag_sends_waits_and_stores_with_the_grant(user_grant, tmp_path):
    sandbox, _ = user_grant
    sandbox.configure(sign_delay=None)  # nobody signs until the trigger is polling
    command = AuthorizeCommand()
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(command.url)
        assert "Authorize access to your eSignBase account" in page.inner_text("h1")
        assert page.inner_text("#client") == "sandbox-client"
        assert page.inner_text("#scopes").split() == ["all", "sandbox"]
        page.screenshot(path=str(SHOTS / "esignbase-consent.png"))
        page.click("#approve")
        page.wait_for_selector("#result")
        assert "Authorization received" in page.inner_text("#result")
        page.screenshot(path=str(SHOTS / "esignbase-consent-approved.png"))
    code, out, err = command.finish()
    assert code == 0, err
    assert "Stored the eSignBase grant for connection 'esignbase_user_grant' (generation 1)" in out
    assert grant_events(sandbox) == ["consent_approved", "code_exchanged"]

    # Every access token the command got has expired: the DAG's first call must refresh with the stored grant.
    requests.post(
        sandbox.url + "/_sandbox/esignbase/oauth/expire-access-tokens", timeout=10
    ).raise_for_status()
    done = threading.Event()
    signer = threading.Thread(target=sign_once_the_trigger_polls, args=(sandbox, done), daemon=True)
    signer.start()
    try:
        run = run_dag("e2e_esignbase_user_grant", destination=str(tmp_path / "out"))
    finally:
        done.set()
        signer.join(10)
    assert run.state == "success"
    (pdf,) = list((tmp_path / "out").rglob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF-")
    events = grant_events(sandbox)
    assert events.count("rotated") >= 1 and "reuse_detected" not in events
    token_calls = [r for r in sandbox.requests(vendor="esignbase") if r["path"].endswith("/oauth2/token")]
    assert {(r.get("body") or {}).get("grant_type") for r in token_calls} == {
        "authorization_code",
        "refresh_token",
    }


def test_denied_in_chromium_fails_clearly_and_stores_nothing(user_grant, browser, redis_url):
    import redis

    command = AuthorizeCommand()
    page = browser.new_page()
    page.goto(command.url)
    page.click("#deny")
    page.wait_for_selector("#result")
    assert "not granted" in page.inner_text("#result")
    page.screenshot(path=str(SHOTS / "esignbase-consent-denied.png"))
    page.close()
    code, _, err = command.finish()
    assert code == 1
    assert "error=" in err and "access_denied" in err and "nothing was stored" in err
    assert redis.Redis.from_url(redis_url).keys("airflow-esign:*") == []


def test_a_forged_state_is_refused_and_the_real_consent_still_completes(user_grant, browser, redis_url):
    import redis

    sandbox, redirect_uri = user_grant
    command = AuthorizeCommand()
    page = browser.new_page()
    # A page the attacker controls sends the browser to the loopback redirect with its own code.
    page.goto(f"{redirect_uri}?code=attacker-code&state=forged-state")
    assert "state mismatch" in page.inner_text("#result")
    page.screenshot(path=str(SHOTS / "esignbase-consent-forged-state.png"))
    # Refused, stored nothing, and did not end the command: it still waits for the real redirect.
    assert command.process.poll() is None
    assert redis.Redis.from_url(redis_url).keys("airflow-esign:*") == []
    assert not [r for r in sandbox.requests(vendor="esignbase") if r["path"].endswith("/oauth2/token")]
    page.goto(command.url)
    page.click("#approve")
    page.wait_for_selector("#result")
    assert "Authorization received" in page.inner_text("#result")
    page.close()
    code, out, err = command.finish()
    assert code == 0, err
    assert "(generation 1)" in out
    assert grant_events(sandbox) == ["consent_approved", "code_exchanged"]  # only the real code
