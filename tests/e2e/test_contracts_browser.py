"""The Contracts page in a real browser: ``airflow api-server`` with the simple auth manager, Chromium
from the OS packages driven by Playwright, the sandbox as the vendors.

The test logs in as a user with the ``user`` role (may edit DAGs), runs two send batches with
``dag.test()`` into the same metadata DB the API server reads, signs one signer at the sandbox, opens
Browse → Contracts from Airflow's nav, checks the rows and the signer states, sends a reminder through
the confirmation dialog and checks the vendor got it. Screenshots go to ``test-artifacts/contracts-page/``
(``ESIGN_TEST_ARTIFACTS`` overrides the folder); ``docs/img/contracts-page*.png`` are copies of them.
Every process started here is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.dags.esign_contracts_page import XSS_NAME
from tests.deployment.services import CHROMIUM_ARGS, chromium_path, free_port, stop
from tests.e2e.conftest import (
    airflow_31_fernet_workaround,
    clear_contract_records,
    leave_task_context,
    run_dag,
)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("ESIGN_TEST_ARTIFACTS", REPO / "test-artifacts")) / "contracts-page"
PASSWORD = "contracts-e2e-password"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real browser and API server: once per CI run


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"airflow api-server exited: {log.read_text()[-3000:]}")
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise AssertionError(f"airflow api-server did not answer in {timeout}s: {log.read_text()[-3000:]}")


@pytest.fixture
def api_server(esign_sandbox, airflow_db, tmp_path, monkeypatch):
    """``airflow api-server`` on a free loopback port, reading this session's metadata DB."""
    esign_sandbox.reset(config=True)
    esign_sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    port = free_port()
    passwords = tmp_path / "passwords.json"
    passwords.write_text(json.dumps({"ops": PASSWORD, "watcher": PASSWORD}))
    env = {
        **esign_sandbox.airflow_connections(rate_limit_per_minute=0),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "ops:user,watcher:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": "contracts-browser-test-secret-" + "0" * 40,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    env.update(airflow_31_fernet_workaround(monkeypatch))
    for name, value in env.items():
        monkeypatch.setenv(name, value)  # the DAG runs in this process use the same sandbox
    log = tmp_path / "api-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow",
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env={**os.environ, **env, "NO_PROXY": "127.0.0.1,localhost"},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v2/monitor/health", process, log)
        yield f"http://127.0.0.1:{port}", esign_sandbox
    finally:
        stop(process)


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=False)
    return path


def test_contracts_page_in_chromium(api_server):
    base, sandbox = api_server
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    # Two batches sent by real DAG runs into the metadata DB the API server reads.
    clear_contract_records()
    for dag_id in ("contracts_legalesign", "contracts_esignbase"):
        assert run_dag(dag_id).state == "success"
    leave_task_context()
    acme_id = next(d["id"] for d in sandbox.documents("legalesign") if d["name"] == "MSA - Acme")
    sandbox.sign("legalesign", acme_id, "ada@acme.example")  # one of two signers has signed

    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(base + "/")
            page.get_by_label("Username").fill("ops")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()

            # Browse → Contracts, from Airflow's own nav.
            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="Contracts").click()
            frame = page.frame_locator("iframe")
            table = frame.locator("#rows")
            expect(table.locator("tr")).to_have_count(5, timeout=60_000)

            acme = table.locator("tr", has_text="MSA - Acme")
            expect(acme.locator('li[data-signed="yes"]')).to_have_text("✓Ada Lovelace <ada@acme.example>")
            expect(acme.locator('li[data-signed="no"]')).to_have_text("○Alan Turing <alan@acme.example>")
            expect(acme.locator(".status")).to_have_text("PARTIALLY SIGNED")
            expect(frame.locator("#count-in-flight")).to_have_text("5")

            # The markup-looking name is text: no <img> element, no script ran.
            xss = table.locator("tr", has_text=XSS_NAME)
            expect(xss.locator(".name")).to_have_text(XSS_NAME)
            assert table.locator("img").count() == 0
            expect(
                table.locator("tr", has_text="NDA - Hooli").get_by_role("button", name="Remind")
            ).to_have_count(0)
            overview = _shot(page, "contracts-page.png")

            # Remind the signer who has not signed, through the confirmation dialog.
            since = sandbox.requests(limit=1)[-1]["seq"]
            acme.get_by_role("button", name="Remind").click()
            confirm = frame.locator("#confirm")
            expect(confirm).to_be_visible()
            expect(frame.locator("#confirm-text")).to_contain_text("MSA - Acme")
            dialog_shot = _shot(page, "contracts-page-confirm.png")
            frame.locator("#confirm-ok").click()
            expect(frame.locator("#toast")).to_have_text(
                "Reminder sent to 1 signer(s) of “MSA - Acme”", timeout=30_000
            )
            reminded = [
                r
                for r in sandbox.requests(vendor="legalesign", since_seq=since)
                if "send-reminder" in r["path"]
            ]
            assert len(reminded) == 1
            done_shot = _shot(page, "contracts-page-reminded.png")

            # Filters: only the Legalesign documents whose signer is at initech.
            frame.locator("#f-q").fill("initech")
            frame.locator("#filters button[type=submit]").click()
            expect(table.locator("tr")).to_have_count(1)
            expect(table.locator("tr .name")).to_have_text("NDA - Initech")
        finally:
            browser.close()
    assert dialogs == []  # nothing on the page opened an alert
    for shot in (overview, dialog_shot, done_shot):
        assert shot.stat().st_size > 10_000
