from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import requests
from sandbox_helpers import LEGALESIGN_AUTH, WESIGNATURE_CREDS, ESignBase, Legalesign, WeSignature

from esign_sandbox import (
    ManualClock,
    Sandbox,
    SandboxClient,
    SandboxConfig,
    SandboxError,
    connections_env,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRETS = (
    "sandbox-legalesign-secret-0001",
    "sandbox-wesignature-password-0001",
    "sandbox-wesignature-api-key-0001",
    "sandbox-esignbase-client-secret-0001",
    "sandbox-webhook-secret-0001",
)


def test_airflow_connections(sb: Sandbox) -> None:
    env = sb.airflow_connections()
    assert sorted(env) == ["AIRFLOW_CONN_ESIGNBASE_DEFAULT", "AIRFLOW_CONN_LEGALESIGN_DEFAULT",
                           "AIRFLOW_CONN_WESIGNATURE_DEFAULT"]  # fmt: skip
    legalesign = json.loads(env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"])
    assert legalesign == {
        "conn_type": "legalesign",
        "host": sb.url + "/legalesign/api/v1",
        "login": "sandbox-api-user",
        "password": "sandbox-legalesign-secret-0001",
        "extra": {
            "group": "sandbox-team",
            "webhooks_enabled": True,  # the sandbox's connections opt in to the webhook endpoint
            "webhook_secret": "sandbox-legalesign-webhook-token-0001",
        },
    }
    wesignature = json.loads(env["AIRFLOW_CONN_WESIGNATURE_DEFAULT"])
    assert wesignature["host"] == sb.url + "/wesignature/apihandler" and wesignature["extra"] == {}
    assert wesignature["login"] == "sandbox@wesignature.test"
    esignbase = json.loads(env["AIRFLOW_CONN_ESIGNBASE_DEFAULT"])
    assert esignbase["host"] == sb.url + "/esignbase" and esignbase["login"] == "sandbox-client"
    assert esignbase["extra"] == {
        "scopes": "all",
        "sandbox": True,
        "webhooks_enabled": True,
        "webhook_secret": "sandbox-webhook-secret-0001",
    }

    more = sb.airflow_connections(suffix="_2", rate_limit_per_minute=30)
    assert "AIRFLOW_CONN_LEGALESIGN_DEFAULT_2" in more
    assert json.loads(more["AIRFLOW_CONN_ESIGNBASE_DEFAULT_2"])["extra"]["rate_limit_per_minute"] == 30
    named = sb.airflow_connections(conn_ids={"legalesign": "ls_bench"}, vendors=["legalesign"])
    assert list(named) == ["AIRFLOW_CONN_LS_BENCH"]
    custom = connections_env(
        "http://h:1/", SandboxConfig(legalesign_group="other-team"), vendors=["legalesign"]
    )
    assert json.loads(custom["AIRFLOW_CONN_LEGALESIGN_DEFAULT"])["extra"]["group"] == "other-team"


def test_connection_hosts_are_the_vendor_roots(sb: Sandbox) -> None:
    env = {k: json.loads(v) for k, v in sb.airflow_connections().items()}
    ls = env["AIRFLOW_CONN_LEGALESIGN_DEFAULT"]
    auth = {"Authorization": f"ApiKey {ls['login']}:{ls['password']}"}
    assert requests.get(ls["host"] + "/group/", headers=auth, timeout=5).status_code == 200
    ws = env["AIRFLOW_CONN_WESIGNATURE_DEFAULT"]
    login = requests.post(
        ws["host"] + "/login_api", json={"email": ws["login"], "password": ws["password"]}, timeout=5
    )
    assert login.json()["status"] == "authorized"
    eb = env["AIRFLOW_CONN_ESIGNBASE_DEFAULT"]
    token = requests.post(eb["host"] + "/oauth2/token", data={"grant_type": "client_credentials", "scope": "all sandbox"},
                          auth=(eb["login"], eb["password"]), timeout=5)  # fmt: skip
    assert token.status_code == 200


def test_control_documents_and_actions(sb: Sandbox, wesignature: WeSignature) -> None:
    guid = wesignature.send()["guid"]
    listed = sb.documents()
    assert [d["id"] for d in listed] == [guid]
    assert listed[0]["vendor"] == "wesignature" and listed[0]["status"] == "draft"
    assert listed[0]["file_urls"] == ["https://files.example.com/contracts/contract.pdf"]
    sb.sign("wesignature", guid, email="jack@demo-mail.com")
    doc = sb.document("wesignature", guid)
    assert [s["phase"] for s in doc["signers"]] == ["signed", "sent"] and doc["status"] == "1"
    with pytest.raises(SandboxError) as info:
        sb.sign("wesignature", guid, email="nobody@example.com")
    assert info.value.status == 409
    sb.sign("wesignature", guid)
    with pytest.raises(SandboxError) as info:
        sb.void("wesignature", guid)
    assert info.value.status == 409
    with pytest.raises(SandboxError) as info:
        sb.document("wesignature", "group-nope")
    assert info.value.status == 404
    assert sb.documents("legalesign") == []


def test_control_create_states(sb: Sandbox, esignbase: ESignBase) -> None:
    token = esignbase.token()
    for target, expected in [("created", "DRAFT"), ("sent", "SENT"), ("signed", "WAITING_FOR_PREPARATION"),
                             ("completed", "COMPLETED"), ("voided", "VOIDED"), ("expired", "VOIDED"),
                             ("declined", "VOIDED")]:  # fmt: skip
        doc = sb.create_document("esignbase", status=target, metadata={"k": "v"})
        body = esignbase.get(token, f"/api/document/{doc['id']}").json()
        assert body["status"] == expected, target
        assert body["user_defined_metadata"] == {"k": "v"} and body["template_id"] == "tpl-nda"
    two = sb.create_document("esignbase", status="partially_signed",
                             signers=[{"name": "A B", "email": "a@b.co"}, {"name": "C D", "email": "c@d.co"}])  # fmt: skip
    assert esignbase.get(token, f"/api/document/{two['id']}").json()["status"] == "PARTIALLY_SIGNED"
    assert two["template_id"] == "tpl-employment"
    with pytest.raises(SandboxError):
        sb.create_document("esignbase", status="finished")
    with pytest.raises(SandboxError):
        sb.create_document("esignbase", signers=[{"email": f"{i}@x.io"} for i in range(3)])


def test_clock_and_config(sb: Sandbox) -> None:
    before = sb.now()
    after = sb.advance_clock(3600)
    assert after - before >= 3600
    assert sb.configure(sign_delay=None)["sign_delay"] is None
    with pytest.raises(SandboxError) as info:
        sb.configure(sign_delay=-1)
    assert info.value.status == 400
    with pytest.raises(SandboxError):
        sb.configure(no_such_option=1)
    sb.reset(config=True)
    assert sb.config()["sign_delay"] == 2.0
    assert sb.now() < after


def test_reset_clears_state_but_keeps_config(sb: Sandbox, legalesign: Legalesign) -> None:
    legalesign.create()
    sb.configure(legalesign_redirect_ratio=0.25)
    assert sb.stats()["requests"]["legalesign"] == 2
    sb.reset()
    assert sb.documents() == [] and sb.stats()["requests"] == {}
    assert sb.config()["legalesign_redirect_ratio"] == 0.25


def test_manual_clock_sandbox_is_deterministic() -> None:
    clock = ManualClock(start=1_700_000_000)
    config = SandboxConfig(send_delay=1, sign_delay=10, pdf_delay=1)
    ids = []
    for _ in range(2):
        clock.reset()
        with Sandbox(seed=42, config=config, clock=clock) as sandbox:
            doc = sandbox.create_document("legalesign", signers=[{"name": "A B", "email": "a@b.co"}])
            assert sandbox.now() == 1_700_000_000
            sandbox.advance_clock(11)
            assert sandbox.document("legalesign", doc["id"])["signers"][0]["signed_at"] == 1_700_000_011
            ids.append((doc["id"], sandbox.pdf_bytes("legalesign", doc["id"])))
        assert not sandbox.running
    assert ids[0] == ids[1]


def test_fixture_is_shared(esign_sandbox: Sandbox, sb: Sandbox) -> None:
    assert esign_sandbox is sb and sb.running
    assert sb.documents() == []


def test_import_is_cheap_and_airflow_free() -> None:
    code = (
        "import sys; import airflow_provider_esign; before = set(sys.modules);"
        "import esign_sandbox, esign_sandbox.pytest_plugin;"
        "new = set(sys.modules) - before;"
        "bad = sorted(m for m in new if m.split('.')[0] in ('fastapi', 'uvicorn', 'starlette', 'airflow'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "PYTHONPATH": REPO},
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_cli_runs_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "esign_sandbox",
            "--port",
            "0",
            "--sign-delay",
            "0",
            "--seed",
            "3",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": REPO},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("e-signature sandbox listening on http://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[-1].strip()
        lines = [process.stdout.readline() for _ in range(12)]
        assert any("AIRFLOW_CONN_LEGALESIGN_DEFAULT" in line for line in lines)
        # What the README's hand run needs: a short poll interval and the seeded template ids.
        assert "export ESIGN_EXAMPLE_POLL_SECONDS=2" in "".join(lines)
        assert "  tpl-nda: signee_1\n" in lines and "  tpl-employment: employee, employer\n" in lines
        with urllib.request.urlopen(url + "/_sandbox/config", timeout=5) as response:
            assert json.loads(response.read())["sign_delay"] == 0
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_rejects_bad_config() -> None:
    result = subprocess.run([sys.executable, "-m", "esign_sandbox", "--config", '{"bogus": 1}'],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, capture_output=True, text=True,
                            timeout=60)  # fmt: skip
    assert result.returncode == 2 and "bogus" in result.stderr


def test_no_credentials_in_logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    with Sandbox(log_level="debug", config=SandboxConfig(sign_delay=0, send_delay=0, pdf_delay=0)) as sandbox:
        ls, ws, eb = Legalesign(sandbox), WeSignature(sandbox), ESignBase(sandbox)
        ls.create()
        requests.get(
            ls.base + "/document/?group=sandbox-team", headers={"Authorization": "ApiKey x:wrong"}, timeout=5
        )
        ws.call(
            "login_api",
            {"email": "sandbox@wesignature.test", "password": "sandbox-wesignature-password-0001"},
        )
        ws.call("getsentdocumentsapi", {**WESIGNATURE_CREDS, "api_key": "wrong"})
        token = eb.token()
        eb.create(token)
        sandbox.queue_fault("500", vendor="legalesign")
        ls.get("/group/")
        sandbox.queue_fault("reset", vendor="esignbase")
        with pytest.raises(requests.ConnectionError):
            eb.get(token, "/api/templates")
        requests.get(ls.base + "/group/", headers=LEGALESIGN_AUTH, timeout=5)
        time.sleep(0.1)
        captured_tokens = [token]
    out, err = capfd.readouterr()
    text = caplog.text + out + err
    for secret in (*SECRETS, *captured_tokens):
        assert secret not in text


def test_pytest_plugin_is_opt_in() -> None:
    from importlib.metadata import entry_points

    # No always-on pytest11 entry point: the plugin loads only where a conftest or -p asks for it.
    assert not [ep for ep in entry_points(group="pytest11") if ep.value.startswith("airflow_provider_esign")]


def test_cli_seeds_history_and_logs_requests() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "esign_sandbox", "--port", "0", "--seed-history", "30",
         "--log-requests", "--list-order", "newest_first"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": REPO}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
        assert "seeded historical documents" in lines[0]
        url = lines[1].rsplit(" ", 1)[-1].strip()
        client = SandboxClient(url)
        assert client.config()["list_order"] == "newest_first"
        assert len(client.documents("esignbase")) == 30
        requests.get(url + "/legalesign/api/v1/group/", headers=LEGALESIGN_AUTH, timeout=10)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert '"GET /legalesign/api/v1/group/" 200' in stderr and "sandbox-legalesign-secret" not in stderr


def test_the_printed_control_url_answers_with_its_endpoints(sb: Sandbox) -> None:
    """The command line prints ``<url>/_sandbox/`` as "control": it must answer, not 404."""
    with urllib.request.urlopen(sb.url + "/_sandbox/", timeout=5) as response:
        assert response.status == 200
        index = json.loads(response.read())
    assert "GET /_sandbox/documents" in index["endpoints"]
    assert "POST /_sandbox/reset" in index["endpoints"]
    assert set(index["vendors"]) == {"legalesign", "wesignature", "esignbase"}
