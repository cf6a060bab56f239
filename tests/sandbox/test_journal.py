"""The request journal: what clients sent, with every credential redacted, filterable and cleared by reset."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests
from sandbox_helpers import ESIGNBASE_CLIENT, GROUP_URI, LEGALESIGN_AUTH, WESIGNATURE_CREDS, Legalesign

from esign_sandbox import Sandbox, SandboxError
from esign_sandbox.journal import redact, redact_query


def test_entries_record_what_was_sent_without_secrets(sb: Sandbox, legalesign: Legalesign) -> None:
    pdf = base64.b64encode(b"%PDF-1.4\n" + b"x" * 2000).decode()
    response = requests.post(
        legalesign.base + "/templatepdf/",
        json={"group": GROUP_URI, "pdf_file": pdf, "title": "T"},
        headers={**LEGALESIGN_AUTH, "X-Api-Key": "k"},
        timeout=10,
    )
    assert response.status_code == 201
    [entry] = sb.requests(vendor="legalesign")
    assert entry["method"] == "POST" and entry["path"] == "/legalesign/api/v1/templatepdf/"
    assert (
        entry["status"] == 201 and entry["fault"] is None and entry["time"] == pytest.approx(sb.now(), abs=5)
    )
    assert entry["headers"]["authorization"] == "***" and entry["headers"]["x-api-key"] == "***"
    assert entry["body"]["group"] == GROUP_URI and entry["body"]["title"] == "T"
    assert entry["body"]["pdf_file"].endswith(f"({len(pdf)} characters)")
    # Not one credential anywhere in the journal's JSON.
    assert LEGALESIGN_AUTH["Authorization"].split(":")[1] not in json.dumps(sb.requests())


def test_form_bodies_and_query_credentials_are_redacted(sb: Sandbox) -> None:
    base = sb.vendor_url("esignbase")
    token = requests.post(
        base + "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "all"},
        auth=ESIGNBASE_CLIENT,
        timeout=10,
    ).json()["access_token"]
    requests.post(base + "/oauth2/revoke", data={"token": token}, timeout=10)
    requests.post(
        sb.vendor_url("wesignature") + "/documentstatusapi",
        json={**WESIGNATURE_CREDS, "guid": "nope"},
        timeout=10,
    )
    dump = json.dumps(sb.requests())
    for secret in (token, ESIGNBASE_CLIENT[1], WESIGNATURE_CREDS["api_key"]):
        assert secret not in dump
    revoke = sb.requests(path_contains="/oauth2/revoke")[0]
    assert revoke["body"] == {"token": "***"}
    wesig = sb.requests(vendor="wesignature")[0]
    assert wesig["body"] == {"user_id": "sandbox-user-1", "api_key": "***", "guid": "nope"}
    assert redact_query("X-Amz-Signature=abc&X-Amz-Expires=300") == {
        "X-Amz-Signature": "***",
        "X-Amz-Expires": "300",
    }
    assert redact({"client_secret": "s", "pdf_password": "p", "signature_type": 4, "nested": [{"refresh_token": "r"}]}) == {
        "client_secret": "***", "pdf_password": "***", "signature_type": 4, "nested": [{"refresh_token": "***"}]
    }  # fmt: skip


def test_filters_faults_reset_and_clear(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.queue_fault("500", vendor="legalesign", path_contains="/group/")
    assert legalesign.get("/group/").status_code == 500
    assert legalesign.get("/group/").status_code == 200
    assert legalesign.get("/group/", headers={}).status_code == 401
    assert [e["status"] for e in sb.requests(path="/legalesign/api/v1/group/")] == [500, 200, 401]
    assert [e["fault"] for e in sb.requests(fault="any")] == ["500"]
    assert len(sb.requests(fault="none")) == 2 and len(sb.requests(status=401)) == 1
    assert sb.requests(method="get", limit=1)[0]["status"] == 401
    first = sb.requests()[0]["seq"]
    assert [e["status"] for e in sb.requests(since_seq=first)] == [200, 401]
    assert sb.requests(vendor="esignbase") == []
    with pytest.raises(SandboxError) as bad:
        sb._json("GET", "/requests?colour=red")
    assert bad.value.status == 400
    sb.clear_requests()
    assert sb.requests() == []
    legalesign.get("/group/")
    sb.reset()
    assert sb.requests() == []


def test_rate_limited_requests_are_marked(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(rate_limits={"legalesign": {"calls": 1, "window_seconds": 60}})
    legalesign.get("/group/")
    assert legalesign.get("/group/").status_code == 429
    assert [e["fault"] for e in sb.requests()] == [None, "rate_limited"]


def test_access_log_is_optional_and_redacted(
    sb: Sandbox, legalesign: Legalesign, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="esign_sandbox.access")
    legalesign.get("/group/")
    assert not [r for r in caplog.records if r.name == "esign_sandbox.access"]
    sb.configure(log_requests=True)
    legalesign.get("/group/?limit=5")
    lines = [r.getMessage() for r in caplog.records if r.name == "esign_sandbox.access"]
    assert len(lines) == 1 and lines[0].startswith('legalesign "GET /legalesign/api/v1/group/?limit=5" 200')
    assert "sandbox-legalesign-secret" not in caplog.text


def test_body_recorded_even_when_rejected_before_reading(sb: Sandbox, legalesign: Legalesign) -> None:
    response = requests.post(legalesign.base + "/document/", json={"name": "x"}, timeout=10)
    assert response.status_code == 401
    assert sb.requests()[0]["body"] == {"name": "x"}


def test_uvicorn_access_log_stays_off(
    sb: Sandbox, legalesign: Legalesign, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    legalesign.get("/group/?limit=5")
    sb.health()
    assert not [r for r in caplog.records if r.name == "uvicorn.access"]


def test_journal_keeps_the_newest_entries(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(journal_size=2)
    for limit in (1, 2, 3):
        legalesign.get(f"/group/?limit={limit}")
    assert [e["query"]["limit"] for e in sb.requests()] == ["2", "3"]
