from __future__ import annotations

import datetime as dt
import email.utils
import time

import pytest
import requests
from sandbox_helpers import ESIGNBASE_CLIENT, PDF_DELAY, SEND_DELAY, SIGN_DELAY, ESignBase, Receiver, wait_for

from esign_sandbox import Sandbox
from esign_sandbox.pdf import check_pdf


def iso_in(seconds: float, now: float, fmt: str = "colon") -> str:
    moment = dt.datetime.fromtimestamp(now + seconds, dt.timezone.utc).replace(microsecond=0)
    text = moment.isoformat()
    if fmt == "basic":
        return text[:-6] + "+0000"
    if fmt == "z":
        return text[:-6] + "Z"
    if fmt == "naive":
        return text[:-6]
    return text


def test_token_grant(sb: Sandbox, esignbase: ESignBase) -> None:
    response = esignbase.token_response()
    assert response.status_code == 200
    assert list(response.json()) == ["access_token"]
    bad_secret = esignbase.token_response(auth=("sandbox-client", "nope"))
    assert bad_secret.status_code == 401 and bad_secret.json() == {"error": "invalid_client"}
    no_auth = requests.post(esignbase.base + "/oauth2/token", data={"grant_type": "client_credentials", "scope": "all"},
                            timeout=5)  # fmt: skip
    assert no_auth.status_code == 401 and no_auth.json()["error"] == "invalid_client"
    assert esignbase.token_response(scope="all admin").json() == {"error": "invalid_scope"}
    assert esignbase.token_response(scope="").status_code == 400
    wrong_grant = requests.post(esignbase.base + "/oauth2/token", data={"grant_type": "password", "scope": "all"},
                                auth=ESIGNBASE_CLIENT, timeout=5)  # fmt: skip
    assert wrong_grant.status_code == 400 and wrong_grant.json()["error"] == "unsupported_grant_type"
    as_json = requests.post(esignbase.base + "/oauth2/token", json={"grant_type": "client_credentials", "scope": "all"},
                            auth=ESIGNBASE_CLIENT, timeout=5)  # fmt: skip
    assert as_json.status_code == 400
    assert sb.stats()["token_requests"] == 7


def test_token_expiry_with_clock(sb: Sandbox, esignbase: ESignBase) -> None:
    sb.configure(token_ttl=300)
    token = esignbase.token()
    assert esignbase.get(token, "/api/credits").status_code == 200
    sb.advance_clock(299)
    assert esignbase.get(token, "/api/credits").status_code == 200
    sb.advance_clock(2)
    expired = esignbase.get(token, "/api/credits")
    assert expired.status_code == 401 and expired.json() == {"error": "invalid_token"}
    assert "expired" in expired.headers["WWW-Authenticate"]
    assert esignbase.get("made-up", "/api/credits").status_code == 401
    assert requests.get(esignbase.base + "/api/credits", timeout=5).status_code == 401
    assert esignbase.get(esignbase.token(), "/api/credits").status_code == 200


def test_revoke(esignbase: ESignBase) -> None:
    token = esignbase.token()
    response = requests.post(
        esignbase.base + "/oauth2/revoke", data={"token": token}, auth=ESIGNBASE_CLIENT, timeout=5
    )
    assert response.status_code == 200
    assert esignbase.get(token, "/api/credits").status_code == 401


def test_scopes(esignbase: ESignBase) -> None:
    read_only = esignbase.token("read")
    assert esignbase.get(read_only, "/api/templates").status_code == 200
    denied = esignbase.create(read_only)
    assert denied.status_code == 403 and denied.json()["error"] == "insufficient_scope"
    sandbox_only = esignbase.token("sandbox")
    assert esignbase.get(sandbox_only, "/api/templates").status_code == 403
    assert esignbase.create(esignbase.token("create_document sandbox")).status_code == 200


def test_templates(esignbase: ESignBase) -> None:
    token = esignbase.token()
    templates = esignbase.get(token, "/api/templates").json()
    assert isinstance(templates, list)
    by_id = {t["id"]: t for t in templates}
    assert by_id["tpl-nda"]["form_role_names"] == ["signee_1"] and by_id["tpl-nda"]["filename"] == "nda.pdf"
    assert by_id["tpl-employment"]["form_role_names"] == ["employee", "employer"]
    assert by_id["tpl-employment"]["num_of_pages"] == 2 and by_id["tpl-employment"]["page_standard"] == "a4"
    assert esignbase.get(token, "/api/template/tpl-nda").json() == by_id["tpl-nda"]
    assert esignbase.get(token, "/api/template/nope").status_code == 404


def test_happy_path_status_ladder_and_download(sb: Sandbox, esignbase: ESignBase) -> None:
    token = esignbase.token()
    created = esignbase.create(token)
    assert created.status_code == 200
    body = created.json()
    assert set(body) == {"document_id", "status"} and body["status"] == "DRAFT"
    doc_id = body["document_id"]

    def status() -> str:
        return esignbase.get(token, f"/api/document/{doc_id}").json()["status"]

    early = esignbase.get(token, f"/api/document/{doc_id}/download")
    assert early.status_code == 409 and early.json()["error"] == "document_not_completed"
    sb.advance_clock(SEND_DELAY)
    assert status() == "SENT"
    sb.advance_clock(SIGN_DELAY)
    assert status() == "PARTIALLY_SIGNED"
    sb.advance_clock(SIGN_DELAY)
    assert status() == "WAITING_FOR_PREPARATION"
    sb.advance_clock(PDF_DELAY)
    assert status() == "WAITING_FOR_DIGITAL_SIGNATURE"
    assert esignbase.get(token, f"/api/document/{doc_id}/download").status_code == 409
    sb.advance_clock(PDF_DELAY)
    assert status() == "DIGITAL_SIGNATURE_CREATED"
    assert esignbase.get(token, f"/api/document/{doc_id}/download").status_code == 200
    sb.advance_clock(PDF_DELAY)
    document = esignbase.get(token, f"/api/document/{doc_id}").json()
    assert document["status"] == "COMPLETED" and document["completed_date"].endswith("+00:00")
    assert document["template_id"] == "tpl-employment" and document["num_of_pages"] == 2
    assert [r["form_role"] for r in document["recipients"]] == ["employee", "employer"]
    assert [r["locale"] for r in document["recipients"]] == ["en", "de"]
    assert document["user_defined_metadata"] == {"run_id": "manual__1"}
    assert document["expiration_date"] is None

    download = esignbase.get(token, f"/api/document/{doc_id}/download")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["accept-ranges"] == "bytes"
    assert download.headers["content-disposition"] == 'attachment; filename="employment.pdf"'
    assert int(download.headers["content-length"]) == len(download.content)
    assert email.utils.parsedate_to_datetime(download.headers["last-modified"]).tzinfo is not None
    assert check_pdf(download.content) == []
    assert b"Erin Employee" in download.content and b"boss@example.com" in download.content
    assert download.content == sb.pdf_bytes("esignbase", doc_id)

    size = len(download.content)
    partial = esignbase.get(token, f"/api/document/{doc_id}/download", headers={"Range": "bytes=10-99"})
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes 10-99/{size}"
    assert partial.content == download.content[10:100]
    tail = esignbase.get(token, f"/api/document/{doc_id}/download", headers={"Range": f"bytes={size - 7}-"})
    assert tail.status_code == 206 and tail.content == download.content[-7:]
    suffix = esignbase.get(token, f"/api/document/{doc_id}/download", headers={"Range": "bytes=-5"})
    assert suffix.content == b"%%EOF"
    beyond = esignbase.get(token, f"/api/document/{doc_id}/download", headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"recipients": [{"email": "a@b.co", "first_name": "A", "last_name": "B", "role_name": "employee"}]},
         "employer"),
        ({"recipients": [
            {"email": "a@b.co", "first_name": "A", "last_name": "B", "role_name": "employee"},
            {"email": "c@b.co", "first_name": "C", "last_name": "D", "role_name": "employee"},
        ]}, "more than once"),
        ({"template_id": "tpl-nda"}, "not a role"),
        ({"template_id": "tpl-missing"}, "does not exist"),
        ({"recipients": []}, "recipients"),
        ({"name": ""}, "name"),
        ({"user_defined_metadata": {f"k{i}": "v" for i in range(11)}}, "10"),
        ({"user_defined_metadata": {"k" * 26: "v"}}, "25"),
        ({"user_defined_metadata": {"count": 3}}, "string"),
        ({"user_defined_metadata": {"k": "v" * 501}}, "500"),
        ({"expiration_date": "2001-01-01T00:00:00+00:00"}, "future"),
        ({"expiration_date": "next week"}, "ISO 8601"),
        ({"owner": "me"}, "owner"),
    ],
)  # fmt: skip
def test_create_validation(sb: Sandbox, esignbase: ESignBase, change: dict, needle: str) -> None:
    response = esignbase.create(esignbase.token(), **change)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "validation_error"
    assert needle in response.json()["message"]
    assert sb.documents("esignbase") == []


def test_recipient_field_validation(esignbase: ESignBase) -> None:
    token = esignbase.token()
    base = esignbase.create_body()["recipients"]
    for bad in ({**base[0], "locale": "fr"}, {**base[0], "email": "nope"}, {**base[0], "role": "x"}):
        response = esignbase.create(token, recipients=[bad, base[1]])
        assert response.status_code == 400, bad


@pytest.mark.parametrize("fmt", ["colon", "basic", "z"])
def test_expiration_formats_accepted_and_expiry_voids(sb: Sandbox, esignbase: ESignBase, fmt: str) -> None:
    sb.configure(sign_delay=None)  # nobody signs, so the expiry wins
    token = esignbase.token()
    response = esignbase.create(token, expiration_date=iso_in(3600, sb.now(), fmt))
    assert response.status_code == 200, response.text
    doc_id = response.json()["document_id"]
    document = esignbase.get(token, f"/api/document/{doc_id}").json()
    assert document["recipients"][0]["days_before_voided"] == 1
    sb.advance_clock(3601)
    assert esignbase.get(esignbase.token(), f"/api/document/{doc_id}").json()["status"] == "VOIDED"


def test_expiration_without_offset_rejected(sb: Sandbox, esignbase: ESignBase) -> None:
    response = esignbase.create(esignbase.token(), expiration_date=iso_in(3600, sb.now(), "naive"))
    assert response.status_code == 400


def test_credits(sb: Sandbox, esignbase: ESignBase) -> None:
    sandbox_token = esignbase.token("all sandbox")
    live_token = esignbase.token("all")
    assert esignbase.get(live_token, "/api/credits").json() == {"credits": 1000}
    assert esignbase.create(sandbox_token).status_code == 200
    assert esignbase.get(live_token, "/api/credits").json() == {"credits": 1000}
    assert esignbase.create(live_token).status_code == 200
    assert esignbase.get(live_token, "/api/credits").json() == {"credits": 999}
    sb.configure(esignbase_initial_credits=0)
    sb.reset()
    out = esignbase.create(esignbase.token("all"))
    assert out.status_code == 402 and sb.documents("esignbase") == []


def test_list_pagination_and_delete(sb: Sandbox, esignbase: ESignBase) -> None:
    token = esignbase.token()
    ids = [esignbase.create(token, name=f"Doc {i}").json()["document_id"] for i in range(5)]
    page = esignbase.get(token, "/api/documents?limit=2&offset=0").json()
    assert page["count"] == 5 and [d["id"] for d in page["documents"]] == ids[:2]
    collected: list[str] = []
    offset = 0
    while True:
        page = esignbase.get(token, f"/api/documents?limit=2&offset={offset}").json()
        if not page["documents"]:
            break
        collected += [d["id"] for d in page["documents"]]
        offset += len(page["documents"])
    assert collected == ids
    for bad in ("limit=0", "limit=101", "limit=x", "offset=-1"):
        assert esignbase.get(token, f"/api/documents?{bad}").status_code == 400
    assert esignbase.get(token, "/api/documents?limit=100").json()["count"] == 5

    assert requests.delete(esignbase.base + f"/api/document/{ids[0]}", headers=esignbase.headers(token),
                           timeout=5).status_code == 200  # fmt: skip
    assert esignbase.get(token, f"/api/document/{ids[0]}").status_code == 404
    assert esignbase.get(token, "/api/documents").json()["count"] == 4
    read_only = esignbase.token("read")
    denied = requests.delete(
        esignbase.base + f"/api/document/{ids[1]}", headers=esignbase.headers(read_only), timeout=5
    )
    assert denied.status_code == 403


def test_completed_hook_delivered_once_with_secret(
    sb: Sandbox, esignbase: ESignBase, receiver: Receiver
) -> None:
    sb.configure(webhook_url=receiver.url)
    token = esignbase.token()
    doc_id = esignbase.create(token).json()["document_id"]
    other = esignbase.create(token).json()["document_id"]
    sb.sign("esignbase", doc_id)
    sb.void("esignbase", other)
    sb.advance_clock(2 * PDF_DELAY)
    time.sleep(0.3)
    assert receiver.calls == []  # DIGITAL_SIGNATURE_CREATED is not COMPLETED
    sb.advance_clock(PDF_DELAY)
    assert receiver.event.wait(10)
    call = receiver.calls[0]
    assert call["headers"]["X-Signature-Secret"] == "sandbox-webhook-secret-0001"
    assert call["headers"]["Content-Type"] == "application/json"
    assert call["body"] == {"document_id": doc_id, "status": "COMPLETED"}
    sb.advance_clock(3600)
    time.sleep(0.3)
    assert [c["body"]["document_id"] for c in receiver.calls] == [doc_id]
    assert other not in {c["body"]["document_id"] for c in receiver.calls}
    deliveries = sb.stats()["webhook_deliveries"]
    assert [(d["document_id"], d["ok"], d["status_code"]) for d in deliveries] == [(doc_id, True, 204)]


def test_completed_hook_fires_without_polling(sb: Sandbox, esignbase: ESignBase, receiver: Receiver) -> None:
    sb.configure(webhook_url=receiver.url, send_delay=0, sign_delay=0.05, pdf_delay=0.05)
    doc_id = esignbase.create(esignbase.token()).json()["document_id"]
    # Nobody reads the document: the background check alone must notice the completion.
    assert receiver.event.wait(10)
    assert receiver.calls[0]["body"]["document_id"] == doc_id


def test_completed_hook_retries(sb: Sandbox, esignbase: ESignBase) -> None:
    with Receiver(fail_first=2) as failing:
        sb.configure(webhook_url=failing.url, webhook_retry_delay=0.05)
        doc = sb.create_document(
            "esignbase", status="completed", signers=[{"name": "A B", "email": "a@b.co"}]
        )
        assert failing.event.wait(10)
        assert wait_for(lambda: len(sb.webhook_deliveries()) == 3)
        deliveries = sb.webhook_deliveries()
        assert [d["status_code"] for d in deliveries] == [500, 500, 204]
        assert [d["attempt"] for d in deliveries] == [1, 2, 3]
        assert {d["document_id"] for d in deliveries} == {doc["id"]}


def test_hook_not_sent_without_url_or_for_voided(
    sb: Sandbox, esignbase: ESignBase, receiver: Receiver
) -> None:
    token = esignbase.token()
    before = esignbase.create(token).json()["document_id"]
    sb.sign("esignbase", before)
    sb.advance_clock(3 * PDF_DELAY)
    assert esignbase.get(token, f"/api/document/{before}").json()["status"] == "COMPLETED"
    sb.configure(webhook_url=receiver.url)
    voided = esignbase.create(token).json()["document_id"]
    sb.void("esignbase", voided)
    sb.advance_clock(3600)
    time.sleep(0.3)
    assert receiver.calls == []
    assert esignbase.get(esignbase.token(), f"/api/document/{voided}").json()["status"] == "VOIDED"
