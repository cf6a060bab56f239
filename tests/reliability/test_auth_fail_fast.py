"""Rejected credentials fail fast: no task retry, a message naming the connection, no retry storm."""

from __future__ import annotations

import io
import json

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_esign.exceptions import ESignAuthError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.wesignature import WeSignatureHook
from tests.reliability.conftest import run_dag, task_states

VENDORS = ("legalesign", "wesignature", "esignbase")


def vendor_requests(stats: dict, vendor: str) -> int:
    return stats["requests"].get(vendor, 0)


@pytest.fixture
def wrong_connections(sandbox, monkeypatch):
    """``<vendor>_wrong``: the sandbox connections with a wrong secret / password."""
    for name, value in sandbox.airflow_connections(rate_limit_per_minute=0).items():
        connection = json.loads(value)
        connection["password"] = "not-the-right-secret"
        monkeypatch.setenv(name.replace("_DEFAULT", "_WRONG"), json.dumps(connection))
    return sandbox


@pytest.mark.e2e
def test_wrong_credentials_fail_the_task_once_with_one_request(wrong_connections, capfd):
    """``dag.test`` of three sends with ``retries=3``: each fails on try 1 after one vendor request."""
    sandbox = wrong_connections
    run = run_dag("reliability_unauthorized")
    assert run.state == "failed"
    assert task_states(run) == {(f"send_{vendor}", -1): ("failed", 1) for vendor in VENDORS}
    logs = capfd.readouterr()
    text = logs.out + logs.err
    for vendor in VENDORS:
        assert f"on connection '{vendor}_wrong' failed: HTTP 401, credentials rejected" in text

    stats = sandbox.stats()
    assert vendor_requests(stats, "legalesign") == 1  # the template-PDF upload, answered 401
    assert vendor_requests(stats, "esignbase") == stats["token_requests"] == 1
    assert vendor_requests(stats, "wesignature") == stats["wesignature_login_attempts"] == 1
    assert stats["wesignature_logins"] == 0


@pytest.mark.e2e
class TestWeSignatureStoredKey:
    """Extra ``user_id``/``api_key``: a rejected key is replaced by one login, never more."""

    @staticmethod
    def connect(sandbox, monkeypatch, *, password: str | None) -> WeSignatureHook:
        connection = json.loads(sandbox.airflow_connections()["AIRFLOW_CONN_WESIGNATURE_DEFAULT"])
        connection["extra"] = {
            "user_id": "sandbox-user-1",
            "api_key": "stale-api-key-000",
            "rate_limit_per_minute": 0,
        }
        if password is None:
            connection["login"] = connection["password"] = ""
        else:
            connection["password"] = password
        monkeypatch.setenv("AIRFLOW_CONN_WESIGNATURE_KEYED", json.dumps(connection))
        return WeSignatureHook("wesignature_keyed")

    def test_rejected_key_without_login_fails_after_one_request(self, sandbox, monkeypatch):
        hook = self.connect(sandbox, monkeypatch, password=None)
        with pytest.raises(ESignAuthError, match=r"'wesignature_keyed'.*renew the api_key"):
            hook.list_sent_documents()
        assert vendor_requests(sandbox.stats(), "wesignature") == 1

    def test_rejected_key_is_replaced_by_exactly_one_login(self, sandbox, monkeypatch):
        hook = self.connect(sandbox, monkeypatch, password=sandbox.config()["wesignature_password"])
        assert hook.list_sent_documents() == []
        stats = sandbox.stats()
        assert stats["wesignature_login_attempts"] == 1
        assert vendor_requests(stats, "wesignature") == 3  # rejected call, login, call again
        hook.list_sent_documents()
        assert sandbox.stats()["wesignature_login_attempts"] == 1  # the new key is kept

    def test_rejected_key_and_wrong_password_fail_after_two_requests(self, sandbox, monkeypatch):
        hook = self.connect(sandbox, monkeypatch, password="wrong-password-123")
        with pytest.raises(ESignAuthError, match="login on connection 'wesignature_keyed'"):
            hook.list_sent_documents()
        assert vendor_requests(sandbox.stats(), "wesignature") == 2


BASE = "https://esignbase.invalid"


@pytest.fixture
def esignbase(make_connection):
    make_connection("esignbase_revoked", "esignbase", host=BASE, login="id", password="secret-value")
    return ESignBaseHook("esignbase_revoked", sleep=lambda s: pytest.fail(f"slept {s}s: retried a 401"))


def test_esignbase_token_rejected_by_the_api_relogs_in_once(esignbase, requests_mock):
    """A token the API keeps rejecting: one fresh token, then a permanent failure; 4 requests."""
    token = requests_mock.post(
        f"{BASE}/oauth2/token", [{"json": {"access_token": f"t-{i}"}} for i in range(9)]
    )
    document = requests_mock.get(
        f"{BASE}/api/document/doc-1", status_code=401, json={"error": "invalid_token"}
    )
    with pytest.raises(ESignAuthError, match="get_document on connection 'esignbase_revoked'") as excinfo:
        esignbase.get_document("doc-1")
    assert isinstance(excinfo.value, AirflowFailException)  # permanent: Airflow does not retry it
    assert token.call_count == 2 and document.call_count == 2


def test_esignbase_download_token_rejected_relogs_in_once(esignbase, requests_mock):
    token = requests_mock.post(
        f"{BASE}/oauth2/token", [{"json": {"access_token": f"t-{i}"}} for i in range(9)]
    )
    requests_mock.get(f"{BASE}/api/document/doc-1", json={"id": "doc-1", "status": "COMPLETED"})
    download = requests_mock.get(f"{BASE}/api/document/doc-1/download", status_code=401, json={})
    with pytest.raises(ESignAuthError, match="on connection 'esignbase_revoked'"):
        esignbase.download_document("doc-1", io.BytesIO())
    assert token.call_count == 2 and download.call_count == 2


def test_legalesign_401_is_one_request(make_connection, requests_mock):
    make_connection(
        "legalesign_bad",
        "legalesign",
        host="https://legalesign.invalid/api/v1",
        login="u",
        password="x" * 20,
        group="acme",
    )
    document = requests_mock.get(
        "https://legalesign.invalid/api/v1/document/doc-1/", status_code=401, text=""
    )
    hook = LegalesignHook("legalesign_bad", sleep=lambda s: pytest.fail(f"slept {s}s: retried a 401"))
    with pytest.raises(ESignAuthError, match="get_document on connection 'legalesign_bad' failed: HTTP 401"):
        hook.get_document("doc-1")
    assert document.call_count == 1
