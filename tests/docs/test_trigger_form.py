"""The Trigger form of an example DAG, in a real browser: the picture in the docs comes from here.

Starts ``airflow api-server`` on loopback (SQLite home, the simple auth manager with every user an
admin, the example DAG ``esign_send_and_store`` serialized by ``airflow dags reserialize``), opens the
DAG in Chromium (the Debian package, driven by Playwright; installed with apt-get where missing,
never downloaded by Playwright), clicks Trigger and checks that the form shows the DAG's params with
their titles and descriptions. The form is saved as ``docs/img/trigger-form.png``, which the docs
show (getting-started.md); the processes are stopped by pid.
"""

from __future__ import annotations

import base64
import os
import pathlib
import shutil

import pytest

from tests.deployment.services import CHROMIUM_ARGS, chromium_path
from tests.e2e.test_event_driven import Deployment, _free_port, wait_for

REPO = pathlib.Path(__file__).parents[2]
EXAMPLE = REPO / "example_dags" / "esign_send_and_store.py"
DAG_ID = "esign_send_and_store"
SCREENSHOT = REPO / "docs" / "img" / "trigger-form.png"
#: What the form must show: every param's title, and the descriptions a newcomer reads.
EXPECTED_TEXT = [
    "Connection",
    "The e-signature connection; its type picks the vendor.",
    "Template id",
    "Signer name",
    "Signer email",
    "Destination",
]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture
def api_server(tmp_path):
    port = _free_port()
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    shutil.copy(EXAMPLE, home / "dags" / EXAMPLE.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": base64.b64encode(os.urandom(24)).decode(),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    deployment = Deployment(home, env, port)
    try:
        deployment.airflow("db", "migrate", timeout=300)
        deployment.airflow("dags", "reserialize", timeout=300)
        deployment.start("api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        wait_for(
            "the API server", lambda: deployment.get_status("/api/v2/monitor/health") == 200, deployment, 180
        )
        yield deployment
    finally:
        deployment.stop()


def test_the_trigger_form_shows_the_example_dags_params(api_server, tmp_path):
    chromium = chromium_path()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        # A fresh profile directory per run (Playwright's way to pass --user-data-dir).
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=chromium,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1600},  # the whole form, unscrolled,
        )
        try:
            page = browser.new_page()
            page.goto(f"{api_server.url}/dags/{DAG_ID}", wait_until="networkidle", timeout=90_000)
            page.get_by_role("button", name="Trigger").first.click(timeout=60_000)
            dialog = page.get_by_role("dialog")
            dialog.wait_for(timeout=60_000)
            # The form renders its params once the DAG's details have loaded (expect waits for it).
            for expected in EXPECTED_TEXT:
                expect(dialog).to_contain_text(expected, timeout=60_000)
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            dialog.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
