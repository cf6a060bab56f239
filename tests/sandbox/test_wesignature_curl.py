"""
WeSignature has no SDK: its four calls, sent exactly as the vendor documentation's curl examples send them
(https://app.wesignature.com/integrations/api/documentation): the status call as ``GET`` with a JSON body and
``Accept: */*``, the list call with ``content-type: application/json; boundary=----WebKitFormBoundary…``.
"""

from __future__ import annotations

import json

import requests
from sandbox_helpers import WESIGNATURE_CREDS

from esign_sandbox import Sandbox

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}
LIST_HEADERS = {
    "Accept": "*/*",
    "content-type": "application/json; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
}


def _raw(method: str, url: str, body: dict[str, object], headers: dict[str, str]) -> requests.Response:
    # data=bytes: exactly these bytes go on the wire, also as the body of a GET.
    return requests.request(method, url, data=json.dumps(body).encode(), headers=headers, timeout=10)


def test_the_four_documented_calls_as_curl_sends_them(sb: Sandbox) -> None:
    sb.configure(send_delay=0, sign_delay=None, pdf_delay=0)
    base = sb.vendor_url("wesignature")
    config = sb.config()

    login = _raw(
        "POST",
        f"{base}/login_api",
        {"email": config["wesignature_email"], "password": config["wesignature_password"]},
        JSON_HEADERS,
    )
    assert login.status_code == 200 and login.json()["status"] == "authorized"
    credentials = {"user_id": login.json()["data"]["user"], "api_key": login.json()["data"]["api_key"]}
    assert credentials == WESIGNATURE_CREDS

    # The documented example body, with its missing quote fixed; sign_type 3 as in the example.
    send = _raw(
        "POST",
        f"{base}/senddocumentapi",
        {
            **credentials,
            "sign_type": 3,
            "file_list": [{"file_url": "https://www.domain.com/demoimage.png"}],
            "is_for_embedded_signing": 0,
            "signers": [
                {"name": "Jack", "email_address": "jack@demo-mail.com"},
                {"name": "Jill", "email_address": "jill@demo-mail.com"},
            ],
            "mail_data": {
                "mail_subject": "Please Sign the document.",
                "mail_message": "Kindly sign document immediately.",
            },
        },
        JSON_HEADERS,
    )
    data = send.json()["data"]
    assert send.status_code == 200 and data["document_name"] == "demoimage.png"
    assert data["document_status"] == "draft" and data["signature_type"] == "they-sign"
    assert data["SignerMails"] == [
        [
            {"name": "Jack", "email_address": "jack@demo-mail.com"},
            {"name": "Jill", "email_address": "jill@demo-mail.com"},
        ]
    ]
    guid = data["guid"]

    listing = _raw("POST", f"{base}/getsentdocumentsapi", {**credentials, "guid": guid}, LIST_HEADERS)
    items = listing.json()["message"]["data"]
    assert listing.status_code == 200 and [i["guid"] for i in items] == [guid]
    assert [s["email"] for s in items[0]["SignerMails"]] == ["jack@demo-mail.com", "jill@demo-mail.com"]

    status = _raw("GET", f"{base}/documentstatusapi", {**credentials, "guid": guid}, {"Accept": "*/*"})
    body = status.json()["data"]
    assert status.status_code == 200 and body["document_status"] == "1" and body["signature_type"] == "3"
    assert [s["signer_status"] for s in body["signer_data"]] == ["1", "1"]

    sb.sign("wesignature", guid)
    done = _raw("GET", f"{base}/documentstatusapi", {**credentials, "guid": guid}, {"Accept": "*/*"}).json()
    assert done["data"]["document_status"] == "3"
    link = _raw("POST", f"{base}/getsentdocumentsapi", {**credentials, "guid": guid}, LIST_HEADERS).json()
    pdf = requests.get(link["message"]["data"][0]["download_link"], timeout=10)
    assert pdf.content == sb.pdf_bytes("wesignature", guid)

    # What the journal saw: the GET body parsed, the odd content type kept, the api_key redacted.
    journal = sb.requests(vendor="wesignature", path_contains="documentstatusapi", limit=1)[0]
    assert (
        journal["method"] == "GET" and journal["body"]["guid"] == guid and journal["body"]["api_key"] == "***"
    )
    listed = sb.requests(vendor="wesignature", path_contains="getsentdocumentsapi", limit=1)[0]
    assert listed["headers"]["content-type"].startswith("application/json; boundary=")


def test_decline_cancels_switch(sb: Sandbox) -> None:
    sb.configure(send_delay=0, sign_delay=None, wesignature_decline_cancels=True)
    guid = sb.create_document("wesignature", status="sent")["id"]
    sb.decline("wesignature", guid)
    base = sb.vendor_url("wesignature")
    status = _raw("POST", f"{base}/documentstatusapi", {**WESIGNATURE_CREDS, "guid": guid}, JSON_HEADERS)
    assert status.json()["data"]["document_status"] == "2"
    assert status.json()["data"]["signer_data"][0]["signer_status"] == "4"
