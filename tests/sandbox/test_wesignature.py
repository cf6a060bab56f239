from __future__ import annotations

import re
import urllib.parse

import pytest
import requests
from sandbox_helpers import PDF_DELAY, SEND_DELAY, SIGN_DELAY, WESIGNATURE_CREDS, WeSignature

from esign_sandbox import Sandbox
from esign_sandbox.pdf import check_pdf


def test_login(sb: Sandbox, wesignature: WeSignature) -> None:
    body = {"email": "sandbox@wesignature.test", "password": "sandbox-wesignature-password-0001"}
    first = wesignature.call("login_api", body)
    assert first.status_code == 200
    assert first.json() == {
        "status": "authorized",
        "message": "success",
        "data": {"user": "sandbox-user-1", "api_key": "sandbox-wesignature-api-key-0001"},
    }
    assert wesignature.call("login_api", body).json() == first.json()
    bad = wesignature.call("login_api", {**body, "password": "wrong"})
    assert bad.status_code == 401 and bad.json() == {"status": "401", "message": "Unauthorised"}
    missing = wesignature.call("login_api", {"email": body["email"]})
    assert missing.status_code == 400 and missing.json() == {
        "status": "400",
        "message": "Parameters missing: password",
    }
    assert requests.get(wesignature.base + "/login_api", timeout=5).status_code == 405
    stats = sb.stats()
    assert stats["wesignature_logins"] == 2 and stats["wesignature_login_attempts"] == 4


def test_happy_path_send_progress_download(sb: Sandbox, wesignature: WeSignature) -> None:
    data = wesignature.send()
    guid = data["guid"]
    assert re.fullmatch(r"group-[0-9a-f]{23}", guid)
    assert data["document_name"] == "contract.pdf"
    assert data["document_status"] == "draft"
    assert data["signature_type"] == "they-sign"
    assert data["SignerMails"] == [
        [
            {"name": "Jack", "email_address": "jack@demo-mail.com"},
            {"name": "Jill", "email_address": "jill@demo-mail.com"},
        ]
    ]
    for key in ("signing_link", "edit_link", "delete_link", "download_link"):
        assert data[key].startswith(sb.url + "/wesignature/")

    assert wesignature.status(guid) == {"status": "success", "message": "document data", "data": None}
    early = requests.get(data["download_link"], timeout=5)
    assert early.status_code == 404 and early.headers["content-type"].startswith("text/html")

    sb.advance_clock(SEND_DELAY)
    status = wesignature.status(guid)["data"]
    assert status["document_status"] == "1" and status["signature_type"] == "3"
    assert [s["signer_status"] for s in status["signer_data"]] == ["1", "1"]
    assert [s["signer_mail"] for s in status["signer_data"]] == ["jack@demo-mail.com", "jill@demo-mail.com"]
    assert all(isinstance(v, str) for v in status.values() if not isinstance(v, list))
    assert "download_link" not in status

    sb.advance_clock(SIGN_DELAY * 0.5)
    assert [s["signer_status"] for s in wesignature.status(guid)["data"]["signer_data"]] == ["2", "1"]
    sb.advance_clock(SIGN_DELAY * 1.5)
    signed = wesignature.status(guid)["data"]
    # Everyone signed but the final PDF is still being produced: not completed yet.
    assert [s["signer_status"] for s in signed["signer_data"]] == ["3", "3"]
    assert signed["document_status"] == "1"
    assert requests.get(data["download_link"], timeout=5).status_code == 404

    sb.advance_clock(PDF_DELAY)
    assert wesignature.status(guid)["data"]["document_status"] == "3"
    listing = wesignature.call("getsentdocumentsapi", {**WESIGNATURE_CREDS, "guid": guid}).json()
    item = listing["message"]["data"][0]
    assert item["document_status"] == "completed"
    download = requests.get(item["download_link"], timeout=5)
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert download.content.startswith(b"%PDF") and download.content.endswith(b"%%EOF")
    assert check_pdf(download.content) == []
    assert b"Jack" in download.content and b"jill@demo-mail.com" in download.content
    assert download.content == sb.pdf_bytes("wesignature", guid)
    wrong_token = item["download_link"].rsplit("/", 1)[0] + "/guessed"
    assert requests.get(wrong_token, timeout=5).status_code == 404


def test_status_accepts_get_with_json_body(wesignature: WeSignature) -> None:
    guid = wesignature.send()["guid"]
    response = requests.get(
        wesignature.base + "/documentstatusapi", json={**WESIGNATURE_CREDS, "guid": guid}, timeout=5
    )
    assert response.status_code == 200 and response.json()["message"] == "document data"


@pytest.mark.parametrize(
    ("table", "sign_type", "label"),
    [
        # The vendor's table (0 i sign, 1 we-sign, 2 they-sign) plus its own example's 3 -> they-sign.
        ("documented", 0, "i-sign"),
        ("documented", 1, "we-sign"),
        ("documented", 2, "they-sign"),
        ("documented", 3, "they-sign"),
        # The off-by-one reading, switchable because the vendor's docs contradict themselves.
        ("shifted", 1, "i-sign"),
        ("shifted", 2, "we-sign"),
        ("shifted", 3, "they-sign"),
    ],
)
def test_signature_type_labels(
    sb: Sandbox, wesignature: WeSignature, table: str, sign_type: int, label: str
) -> None:
    sb.configure(wesignature_sign_type_table=table)
    assert wesignature.send(sign_type=sign_type)["signature_type"] == label


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        ({"api_key": None}, 400, "Parameters missing: api_key"),
        ({"user_id": None, "api_key": None}, 400, "Parameters missing: user_id, api_key"),
        ({"api_key": "wrong"}, 401, "Unauthorised"),
        ({"sign_type": None}, 400, "Parameters missing: sign_type"),
        ({"signers": None, "file_list": None}, 400, "Parameters missing: file_list, signers"),
        ({"sign_type": 4}, 400, "sign_type"),
        ({"sign_type": "3"}, 400, "sign_type"),
        ({"is_for_embedded_signing": 3}, 400, "is_for_embedded_signing"),
        ({"file_list": []}, 400, "file_list"),
        ({"file_list": "https://x.example/a.pdf"}, 400, "file_list"),
        ({"file_list": [{"file_url": "ftp://x.example/a.pdf"}]}, 400, "file_list"),
        ({"file_list": [{"url": "https://x.example/a.pdf"}]}, 400, "file_list"),
        ({"signers": []}, 400, "signers"),
        ({"signers": [{"name": "Jack", "email_address": "jack"}]}, 400, "signers"),
        ({"signers": [{"name": "Jack", "email": "jack@x.io"}]}, 400, "signers"),
        ({"mail_data": {"subject": "x"}}, 400, "mail_data"),
        ({"mail_subject": "top-level"}, 400, "mail_subject"),
    ],
)
def test_send_validation(
    sb: Sandbox, wesignature: WeSignature, overrides: dict, status: int, message: str
) -> None:
    body = wesignature.send_body()
    for key, value in overrides.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = wesignature.call("senddocumentapi", body)
    assert response.status_code == status
    assert response.json()["status"] == str(status)
    assert message in response.json()["message"]
    assert sb.documents("wesignature") == []


def test_non_json_body_means_missing_parameters(wesignature: WeSignature) -> None:
    response = requests.post(wesignature.base + "/login_api", data={"email": "a", "password": "b"}, timeout=5)
    assert response.status_code == 400
    assert response.json()["message"] == "Parameters missing: email, password"


def test_status_errors(wesignature: WeSignature) -> None:
    missing = wesignature.call("documentstatusapi", dict(WESIGNATURE_CREDS))
    assert missing.status_code == 400 and missing.json()["message"] == "Parameters missing: guid"
    unknown = wesignature.call("documentstatusapi", {**WESIGNATURE_CREDS, "guid": "group-" + "0" * 23})
    assert unknown.status_code == 400


def test_list_shape_and_filter(sb: Sandbox, wesignature: WeSignature) -> None:
    first = wesignature.send()["guid"]
    second = wesignature.send(file_list=[{"file_url": "https://files.example.com/a%20b/offer.png?x=1"}])[
        "guid"
    ]
    listing = wesignature.call("getsentdocumentsapi", dict(WESIGNATURE_CREDS)).json()
    assert listing["status"] == "success"
    items = listing["message"]["data"]
    assert [i["guid"] for i in items] == [first, second]
    assert items[1]["document_name"] == "offer.png"
    assert items[0]["document_status"] == "draft"
    assert items[0]["SignerMails"] == [
        {"email": "jack@demo-mail.com", "signaturestatus": "0", "name": "Jack"},
        {"email": "jill@demo-mail.com", "signaturestatus": "0", "name": "Jill"},
    ]
    assert all(i["download_link"].startswith(sb.url) for i in items)
    only = wesignature.call("getsentdocumentsapi", {**WESIGNATURE_CREDS, "guid": second}).json()
    assert [i["guid"] for i in only["message"]["data"]] == [second]
    sb.advance_clock(SEND_DELAY)
    items = wesignature.call("getsentdocumentsapi", dict(WESIGNATURE_CREDS)).json()["message"]["data"]
    assert items[0]["SignerMails"][0]["signaturestatus"] == "1"


def test_decline_keeps_document_out_for_signature(sb: Sandbox, wesignature: WeSignature) -> None:
    guid = wesignature.send()["guid"]
    sb.advance_clock(SEND_DELAY)
    sb.decline("wesignature", guid, email="jill@demo-mail.com")
    data = wesignature.status(guid)["data"]
    assert data["document_status"] == "1"
    assert [s["signer_status"] for s in data["signer_data"]] == ["1", "4"]
    sb.advance_clock(SIGN_DELAY * 10)
    assert wesignature.status(guid)["data"]["document_status"] == "1"


def test_void_cancels(sb: Sandbox, wesignature: WeSignature) -> None:
    guid = wesignature.send()["guid"]
    sb.advance_clock(SEND_DELAY)
    sb.void("wesignature", guid)
    assert wesignature.status(guid)["data"]["document_status"] == "2"


def test_void_before_sending_still_reports_cancelled(sb: Sandbox, wesignature: WeSignature) -> None:
    guid = wesignature.send()["guid"]
    sb.void("wesignature", guid)
    assert wesignature.status(guid)["data"]["document_status"] == "2"
    sb.advance_clock(SEND_DELAY + SIGN_DELAY * 5)
    assert wesignature.status(guid)["data"]["document_status"] == "2"


def test_embedded_signing_creates_signer_ids(sb: Sandbox, wesignature: WeSignature) -> None:
    embedded = wesignature.send(is_for_embedded_signing=1)["guid"]
    mail_only = wesignature.send(is_for_embedded_signing=2)["guid"]
    sb.advance_clock(SEND_DELAY)
    assert all(s["signer_id"] for s in wesignature.status(embedded)["data"]["signer_data"])
    assert all(s["signer_id"] == "" for s in wesignature.status(mail_only)["data"]["signer_data"])


def test_links_are_harmless_pages(sb: Sandbox, wesignature: WeSignature) -> None:
    data = wesignature.send()
    assert requests.get(data["delete_link"], timeout=5).status_code == 200
    assert requests.get(data["edit_link"], timeout=5).headers["content-type"].startswith("text/html")
    assert urllib.parse.urlsplit(data["edit_link"]).query == f"guid={data['guid']}"
    assert sb.documents("wesignature")[0]["deleted"] is False
