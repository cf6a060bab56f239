"""The connection form and its Test button in a real Airflow UI, in a real browser (issue 19, item 3).

An Airflow 3 API server (simple auth manager, every user admin, connection testing enabled) runs on
loopback with two eSignBase connections to the sandbox, one with the right secret and one with a wrong
one; headless Chromium (the Debian package, driven by Playwright) opens the connections list, presses
each row's Test button and the edit form, and saves screenshots under docs/img/ for the docs.

What it pins down about Airflow 3.3.2 (read in airflow/api_fastapi/core_api/routes/public/connections.py
and the UI bundle): the list's Test button posts ``port: Number(connection.port)``, which is ``0`` for a
connection stored without a port, and the test route then refuses with 400 "The host or port to test
differs from the stored connection" before any hook runs, for right and wrong credentials alike. A
connection stored with a port (443; the provider ignores it when the host is a full URL, and the CLI
drops a port of 0) is tested for real: success for the right secret, the vendor's rejection for the
wrong one.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.deployment.services import CHROMIUM_ARGS, chromium_path, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # a real browser and API server: once per CI run
IMG = pathlib.Path(__file__).parents[2] / "docs" / "img"
AIRFLOW = str(pathlib.Path(sys.executable).with_name("airflow"))


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory, esign_sandbox):
    """``(base url, env)`` of a running API server whose database holds the test connections."""
    home = tmp_path_factory.mktemp("airflow-ui-home")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home),
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager."
            "SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        }
    )
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    good = json.loads(esign_sandbox.airflow_connections()["AIRFLOW_CONN_ESIGNBASE_DEFAULT"])
    connections = {
        "esign_no_port": good,  # as the form or the CLI stores it: port NULL
        "esign_right": {**good, "port": 443},
        "esign_wrong": {**good, "port": 443, "password": "not-the-secret"},
    }
    for conn_id, value in connections.items():
        subprocess.run([AIRFLOW, "connections", "add", conn_id, "--conn-json", json.dumps(value)],
                       env=env, check=True, capture_output=True, timeout=300)  # fmt: skip
    port = free_port()
    log = (home / "api-server.log").open("w")
    server = subprocess.Popen([AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, (home / "api-server.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "the API server did not answer"
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its workers: its own process group
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = chromium_path()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


#: An open tooltip of the connection list (Chakra/Ark UI marks it ``data-state="open"``).
OPEN_TOOLTIP = '[data-scope="tooltip"][data-part="content"][data-state="open"]'


def close_tooltips(page) -> None:
    """Close every open tooltip and wait until none is open: the previous row's tooltip, opened by the
    hover or by the focus its click leaves on the button, lies over the next row's Test button."""
    page.mouse.move(5, 5)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Escape")
    page.wait_for_function(f"!document.querySelector({OPEN_TOOLTIP!r})")


def press_test(page, conn_id: str) -> tuple[int, dict]:
    """Press the row's Test button; ``(HTTP status, request body)`` of the test call it made."""
    close_tooltips(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as info:
        page.get_by_role("row", name=conn_id).get_by_label("Test Connection").click()
    response = info.value
    return response.status, json.loads(response.request.post_data or "{}")


def test_the_test_button_in_the_real_ui(airflow_ui, browser):
    IMG.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{airflow_ui}/connections")
    page.get_by_role("row", name="esign_right").wait_for()

    # Airflow 3.3.2: a connection without a port is refused before any hook runs (its UI sends port 0).
    status, body = press_test(page, "esign_no_port")
    assert status == 400 and body["port"] == 0
    # With a port stored, the test really runs: the right secret connects ...
    status, body = press_test(page, "esign_right")
    assert status == 200, body
    page.wait_for_timeout(500)
    page.screenshot(path=str(IMG / "connection-form-test-right.png"))
    # ... and the wrong one fails with the vendor's answer (the row's icon turns red, the tooltip says why).
    close_tooltips(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as info:
        page.get_by_role("row", name="esign_wrong").get_by_label("Test Connection").click()
    result = info.value.json()
    assert info.value.status == 200 and result["status"] is False
    assert "401" in result["message"] or "invalid" in result["message"].lower(), result
    assert "not-the-secret" not in result["message"]
    page.get_by_role("row", name="esign_wrong").get_by_label("Test Connection").hover()
    page.wait_for_timeout(500)
    page.screenshot(path=str(IMG / "connection-form-test-wrong.png"))


def test_the_form_shows_required_marks_and_the_defaults(airflow_ui, browser):
    """The Add Connection form of an eSignBase connection: login and secret marked required, every tuning
    extra labelled with its default (the edit form lists only the extras a connection already has)."""
    page = browser.new_page(viewport={"width": 1400, "height": 2200})
    page.goto(f"{airflow_ui}/connections")
    page.get_by_role("button", name="Add Connection").click()
    page.get_by_role("combobox").first.click()
    page.keyboard.type("eSignBase")
    page.keyboard.press("Enter")
    page.get_by_text("OAuth2 client id (required)").wait_for()
    assert page.get_by_text("Client secret (required)").is_visible()
    assert page.get_by_placeholder("https://app.esignbase.com").is_visible()
    page.wait_for_timeout(300)
    page.screenshot(path=str(IMG / "connection-form-esignbase.png"))
    page.get_by_text("Extra Fields", exact=True).click()
    page.get_by_text("Attempts per API call (default 5)").wait_for()
    for label in ("Attempts per API call (default 5)", "Read timeout (seconds) (default 60)",
                  "Rate-limit store (default local)"):  # fmt: skip
        assert page.get_by_text(label).is_visible(), label
    page.wait_for_timeout(300)
    page.screenshot(path=str(IMG / "connection-form-esignbase-extras.png"), full_page=True)
