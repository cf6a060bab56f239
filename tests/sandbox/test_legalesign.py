from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse

import pytest
import requests
from sandbox_helpers import GROUP_URI, LEGALESIGN_AUTH, PDF_DELAY, SEND_DELAY, SIGN_DELAY, Legalesign

from esign_sandbox import Sandbox
from esign_sandbox.pdf import check_pdf


def statuses(detail: dict) -> list[int]:
    # The spec and the official SDK type every item of a signer row as a string (the default).
    assert all(isinstance(value, str) for row in detail["signers"] for value in row)
    return [int(row[6]) for row in detail["signers"]]


def test_happy_path_create_progress_download(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_redirect_ratio=0.0)
    template = legalesign.upload_template()
    response = legalesign.post(legalesign.body(template))
    assert response.status_code == 201
    # ``{}``: what the official SDK's DocumentCreateResponse parses (switchable to an empty body).
    assert response.headers["content-type"] == "application/json" and response.json() == {}
    location = response.headers["Location"]
    assert location.startswith(sb.url + "/legalesign/api/v1/document/") and location.endswith("/")
    doc_id = location.rstrip("/").rsplit("/", 1)[-1]

    detail = legalesign.get(f"/document/{doc_id}/").json()
    assert detail["uuid"] == doc_id
    assert detail["resource_uri"] == f"/api/v1/document/{doc_id}/"
    assert detail["group"] == GROUP_URI
    assert detail["templatepdf"] == template
    assert detail["status"] == 10 and detail["download_final"] is False and detail["hash_value"] is None
    assert statuses(detail) == [4, 4]
    assert len(detail["signers"][0]) == 8
    assert detail["signers"][0][1:4] == ["Joe", "Biggins", "joe.biggins@example.com"]
    assert detail["signer_objects"][1]["email"] == "betty.maclean@example.com"
    assert len(detail["created"]) == 19 and "+" not in detail["created"]

    sb.advance_clock(SEND_DELAY)
    assert statuses(legalesign.get(f"/document/{doc_id}/").json()) == [10, 10]
    sb.advance_clock(SIGN_DELAY / 3)
    assert statuses(legalesign.get(f"/document/{doc_id}/").json()) == [15, 10]
    sb.advance_clock(SIGN_DELAY / 3)
    assert statuses(legalesign.get(f"/document/{doc_id}/").json()) == [20, 10]
    sb.advance_clock(SIGN_DELAY / 3)
    assert statuses(legalesign.get(f"/document/{doc_id}/").json()) == [40, 10]
    assert legalesign.get(f"/status/{doc_id}/").json()["status"] == 10

    sb.advance_clock(SIGN_DELAY)
    detail = legalesign.get(f"/document/{doc_id}/").json()
    assert detail["status"] == 30 and statuses(detail) == [40, 40]
    assert detail["download_final"] is False
    not_ready = legalesign.get(f"/pdf/{doc_id}/")
    assert not_ready.status_code == 404
    assert not_ready.headers["content-type"].startswith("application/json")

    sb.advance_clock(PDF_DELAY)
    status = legalesign.get(f"/status/{doc_id}/").json()
    assert status == {
        "archived": False,
        "download_final": True,
        "resource_uri": f"/api/v1/document/{doc_id}/",
        "status": 30,
        "tag": "airflow:run_1",
        "tag1": "",
        "tag2": "",
    }
    detail = legalesign.get(f"/document/{doc_id}/").json()
    pdf = legalesign.get(f"/pdf/{doc_id}/")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf.content.endswith(b"%%EOF")
    assert check_pdf(pdf.content) == []
    assert b"Joe Biggins" in pdf.content and b"betty.maclean@example.com" in pdf.content
    assert detail["hash_value"] == hashlib.sha256(pdf.content).hexdigest()
    assert pdf.content == sb.pdf_bytes("legalesign", doc_id)
    assert legalesign.get(f"/pdf/{doc_id}/").content == pdf.content


def test_return_signer_links_body(legalesign: Legalesign) -> None:
    response = legalesign.post(legalesign.body(legalesign.upload_template(), return_signer_links=True))
    assert response.status_code == 201
    assert sorted(response.json()) == ["signer_1", "signer_2"]
    assert "Location" in response.headers


@pytest.mark.parametrize(
    "header",
    [
        None,
        "ApiKey sandbox-api-user:wrong",
        "Apikey sandbox-api-user:sandbox-legalesign-secret-0001",
        "Bearer sandbox-legalesign-secret-0001",
        "ApiKey sandbox-legalesign-secret-0001",
    ],
)
def test_auth_failures(legalesign: Legalesign, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = legalesign.get("/document/?group=sandbox-team", headers=headers)
    assert response.status_code == 401
    assert response.content == b""


def test_trailing_slash_required(legalesign: Legalesign) -> None:
    assert legalesign.get("/document?group=sandbox-team").status_code == 404
    assert (
        requests.post(legalesign.base + "/document", json={}, headers=LEGALESIGN_AUTH, timeout=5).status_code
        == 404
    )
    assert legalesign.get("/group/").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": None}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": ""}, "name"),
        ({"group": "sandbox-team"}, "group"),
        ({"group": "/api/v1/group/Other-Team/"}, "group"),
        ({"templatepdf": "/api/v1/templatepdf/00000000-0000-4000-8000-000000000000/"}, "templatepdf"),
        ({"templatepdf": None, "text": "<p>hi</p>"}, "text"),
        ({"template": "/api/v1/template/abc/"}, "template"),
        ({"signers": []}, "signers"),
        ({"signers": {"firstname": "A", "lastname": "B", "email": "a@b.co"}}, "signers"),
        ({"signers": [{"firstname": "Jo<script>", "lastname": "B", "email": "a@b.co"}]}, "signers"),
        ({"signers": [{"firstname": "Jo", "lastname": "B", "email": "not-an-email"}]}, "signers"),
        ({"signers": [{"firstname": "Jo", "lastname": "B", "email": "a" * 70 + "@b.com"}]}, "signers"),
        ({"signers": [{"firstname": "Jo", "lastname": "B"}]}, "signers"),
        ({"signers": [{"firstname": "Jo", "lastname": "B", "email": "a@b.co", "phone": "1"}]}, "signers"),
        ({"tag": "run #1"}, "tag"),
        ({"tag2": "x" * 251}, "tag2"),
        ({"do_email": "true"}, "do_email"),
        ({"signers_in_order": 1}, "signers_in_order"),
        ({"signature_type": 2}, "signature_type"),
        ({"redirect": "http://insecure.example.com"}, "redirect"),
        ({"cc_emails": "a@b.co, nope"}, "cc_emails"),
        ({"user": "/api/v1/user/someone-else/"}, "user"),
        ({"pdf_password": "pw", "pdf_password_type": 3}, "pdf_password_type"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_document_validation_errors(sb: Sandbox, legalesign: Legalesign, overrides: dict, field: str) -> None:
    body = legalesign.body(legalesign.upload_template())
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    response = legalesign.post(body)
    assert response.status_code == 400, response.text
    errors = response.json()["document"]
    assert field in errors
    assert all(isinstance(message, str) for message in errors[field])
    assert sb.documents("legalesign") == []


def test_document_valid_optional_fields_accepted(legalesign: Legalesign) -> None:
    body = legalesign.body(
        legalesign.upload_template(),
        do_email=True,
        signers_in_order=True,
        signature_type=4,
        auto_archive=False,
        pdftext={"Contract ref": "SUP-1"},
        cc_emails="audit@example.com,legal@example.com",
        redirect="https://example.com/done",
        tag1="a:b;c/d.e,f_[g]",
        user="/api/v1/user/5a4d8c1e-0b7f-4c6a-9d3e-2f1b0a9c8d7e/",
    )
    body["signers"][0].update({"order": 0, "sms": "+447700900000", "message": "default", "subject": "Sign"})
    response = legalesign.post(body)
    assert response.status_code == 201, response.text
    doc_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    detail = legalesign.get(f"/document/{doc_id}/").json()
    assert detail["signers_in_order"] is True and detail["auto_archive"] is False
    # The spec types pdftext in responses as a string: the sent object, JSON-encoded.
    assert json.loads(detail["pdftext"]) == {"Contract ref": "SUP-1"}
    assert detail["signers"][0][4] == "+447700900000"


def test_malformed_json_is_a_500_and_wrong_content_type_a_400(legalesign: Legalesign) -> None:
    headers = {**LEGALESIGN_AUTH, "Content-Type": "application/json"}
    broken = requests.post(legalesign.base + "/document/", data=b"{not json", headers=headers, timeout=5)
    assert broken.status_code == 500
    form = requests.post(
        legalesign.base + "/document/", data={"name": "x"}, headers=LEGALESIGN_AUTH, timeout=5
    )
    assert form.status_code == 400 and "document" in form.json()


def test_templatepdf_validation_and_reads(legalesign: Legalesign) -> None:
    def upload(**body: object) -> requests.Response:
        return requests.post(legalesign.base + "/templatepdf/", json=body, headers=LEGALESIGN_AUTH, timeout=5)

    not_pdf = upload(group=GROUP_URI, pdf_file=base64.b64encode(b"hello").decode())
    assert not_pdf.status_code == 400 and "pdf_file" in not_pdf.json()["templatepdf"]
    bad_b64 = upload(group=GROUP_URI, pdf_file="%%%not base64")
    assert bad_b64.status_code == 400 and "pdf_file" in bad_b64.json()["templatepdf"]
    long_title = upload(group=GROUP_URI, pdf_file=base64.b64encode(b"%PDF-1.4").decode(), title="t" * 121)
    assert "title" in long_title.json()["templatepdf"]
    assert "group" in upload(pdf_file=base64.b64encode(b"%PDF-1.4").decode()).json()["templatepdf"]

    template = legalesign.upload_template()
    template_id = template.rstrip("/").rsplit("/", 1)[-1]
    detail = legalesign.get(f"/templatepdf/{template_id}/").json()
    assert detail["resource_uri"] == template and detail["title"] == "Template" and detail["valid"] is True
    listing = legalesign.get("/templatepdf/?group=sandbox-team").json()
    assert listing["meta"]["total_count"] == 1 and listing["objects"][0]["uuid"] == template_id
    fields = legalesign.get(f"/templatepdf/{template_id}/fields/").json()
    # The spec's (and SDK's) envelope, not a bare array.
    assert fields["meta"]["total_count"] == 1 and fields["objects"][0]["element_type"] == "signature"
    assert isinstance(detail["parties"], str) and json.loads(detail["parties"])[0]["signer_index"] == 1
    assert detail["signer_count"] == 1


def test_list_requires_group_and_paginates_with_relative_links(sb: Sandbox, legalesign: Legalesign) -> None:
    missing = legalesign.get("/document/")
    assert missing.status_code == 400 and "group" in missing.json()["document"]
    ids = [sb.create_document("legalesign", name=f"Doc {i}", tag=f"t{i}")["id"] for i in range(5)]

    page = legalesign.get("/document/?group=sandbox-team&limit=2").json()
    assert (
        page["meta"]["total_count"] == 5 and page["meta"]["limit"] == 2 and page["meta"]["previous"] is None
    )
    assert [o["uuid"] for o in page["objects"]] == ids[:2]
    next_url = page["meta"]["next"]
    assert next_url.startswith("/api/v1/document/?")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(next_url).query)["offset"] == ["2"]
    seen = [o["uuid"] for o in page["objects"]]
    while next_url:
        # Relative links resolve against the server root, as they do against eu-api.legalesign.com.
        page = requests.get(urllib.parse.urljoin(sb.url, next_url), headers=LEGALESIGN_AUTH, timeout=5).json()
        seen += [o["uuid"] for o in page["objects"]]
        next_url = page["meta"]["next"]
    assert seen == ids
    assert page["meta"]["previous"] is not None

    assert legalesign.get("/document/?group=sandbox-team&limit=500").json()["meta"]["limit"] == 100
    by_uri = legalesign.get("/document/?group=/api/v1/group/sandbox-team/&nosigners=1").json()
    assert by_uri["meta"]["total_count"] == 5 and "signers" not in by_uri["objects"][0]
    assert legalesign.get("/document/?group=sandbox-team&limit=x").status_code == 400
    assert legalesign.get("/document/?group=nope").status_code == 400


def test_list_filters(sb: Sandbox, legalesign: Legalesign) -> None:
    first = sb.create_document("legalesign", name="Signed", status="completed",
                               signers=[{"name": "Ann Lee", "email": "ann@example.com"}])["id"]  # fmt: skip
    second = sb.create_document(
        "legalesign", name="Open", signers=[{"name": "Bo Ng", "email": "bo@example.com"}]
    )["id"]
    assert [
        o["uuid"] for o in legalesign.get("/document/?group=sandbox-team&status=30").json()["objects"]
    ] == [first]
    assert [
        o["uuid"]
        for o in legalesign.get("/document/?group=sandbox-team&email=BO@example.com").json()["objects"]
    ] == [second]
    assert (
        requests.delete(
            f"{legalesign.base}/document/{second}/", headers=LEGALESIGN_AUTH, timeout=5
        ).status_code
        == 204
    )
    assert [o["uuid"] for o in legalesign.get("/document/?group=sandbox-team").json()["objects"]] == [first]
    assert len(legalesign.get("/document/?group=sandbox-team&archived=all").json()["objects"]) == 2
    assert [
        o["uuid"] for o in legalesign.get("/document/?group=sandbox-team&archived=true").json()["objects"]
    ] == [second]
    future = "2999-01-01T00:00:00"
    assert (
        legalesign.get(f"/document/?group=sandbox-team&created_gt={future}").json()["meta"]["total_count"]
        == 0
    )


def test_redirect_download_rejects_authorization(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_redirect_ratio=1.0)
    doc_id = sb.create_document(
        "legalesign", status="completed", signers=[{"name": "Ann Lee", "email": "a@x.io"}]
    )["id"]
    response = legalesign.get(f"/pdf/{doc_id}/", allow_redirects=False)
    assert response.status_code == 302
    location = response.headers["Location"]
    target = urllib.parse.urlsplit(location)
    assert target.hostname == "localhost" and target.port == urllib.parse.urlsplit(sb.url).port
    with_auth = requests.get(location, headers=LEGALESIGN_AUTH, timeout=5)
    assert with_auth.status_code == 400 and b"InvalidArgument" in with_auth.content
    plain = requests.get(location, timeout=5)
    assert plain.status_code == 200 and plain.content == sb.pdf_bytes("legalesign", doc_id)
    # requests drops Authorization on a cross-host redirect, so following it normally works.
    assert legalesign.get(f"/pdf/{doc_id}/").content == plain.content
    # Reached through the other host name, the redirect points back at 127.0.0.1.
    via_localhost = sb.url.replace("127.0.0.1", "localhost") + f"/legalesign/api/v1/pdf/{doc_id}/"
    other = requests.get(via_localhost, headers=LEGALESIGN_AUTH, allow_redirects=False, timeout=5)
    assert urllib.parse.urlsplit(other.headers["Location"]).hostname == "127.0.0.1"
    assert (
        requests.get(location.replace("X-Amz-Signature=", "X-Amz-Signature=x"), timeout=5).status_code == 403
    )
    sb.advance_clock(301)
    assert requests.get(location, timeout=5).status_code == 403


def test_redirect_choice_is_seeded_per_document(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_redirect_ratio=0.5)
    codes = []
    for _ in range(12):
        doc_id = sb.create_document("legalesign", status="completed")["id"]
        first = legalesign.get(f"/pdf/{doc_id}/", allow_redirects=False).status_code
        assert legalesign.get(f"/pdf/{doc_id}/", allow_redirects=False).status_code == first
        codes.append(first)
    assert set(codes) == {200, 302}


def test_void_delete_decline_and_signer_endpoints(sb: Sandbox, legalesign: Legalesign) -> None:
    doc_id = legalesign.create()
    sb.advance_clock(SEND_DELAY)
    detail = legalesign.get(f"/document/{doc_id}/").json()
    signer_id = detail["signer_objects"][0]["uuid"]
    signer = legalesign.get(f"/signer/{signer_id}/").json()
    assert signer["document"] == f"/api/v1/document/{doc_id}/" and signer["status"] == 10
    reminder = f"{legalesign.base}/signer/{signer_id}/send-reminder/"
    assert (
        requests.post(reminder, json={"text": "Please sign"}, headers=LEGALESIGN_AUTH, timeout=5).status_code
        == 200
    )
    too_long = requests.post(reminder, json={"text": "x" * 10001}, headers=LEGALESIGN_AUTH, timeout=5)
    assert too_long.status_code == 400 and "text" in too_long.json()["signer"]
    sb.sign("legalesign", doc_id, email="joe.biggins@example.com")
    assert (
        requests.post(reminder, json={"text": "again"}, headers=LEGALESIGN_AUTH, timeout=5).status_code == 401
    )
    audit = legalesign.get(f"/document/{doc_id}/auditlog/")
    assert audit.headers["content-type"] == "application/pdf" and b"signed by Joe Biggins" in audit.content

    sb.decline("legalesign", doc_id)
    detail = legalesign.get(f"/document/{doc_id}/").json()
    assert detail["status"] == 50 and statuses(detail) == [40, 60]

    other = legalesign.create()
    assert (
        requests.delete(
            f"{legalesign.base}/document/{other}/?email=1", headers=LEGALESIGN_AUTH, timeout=5
        ).status_code
        == 204
    )
    voided = legalesign.get(f"/document/{other}/").json()
    assert voided["status"] == 40 and voided["archived"] is True
    gone = requests.delete(f"{legalesign.base}/document/{other}/delete/", headers=LEGALESIGN_AUTH, timeout=5)
    assert gone.status_code == 204
    assert legalesign.get(f"/document/{other}/").status_code == 404
    assert [d["deleted"] for d in sb.documents("legalesign")] == [False, True]


def test_signers_in_order_keeps_later_signers_unsent(sb: Sandbox, legalesign: Legalesign) -> None:
    ordered = legalesign.create(signers_in_order=True)
    parallel = legalesign.create()
    sb.advance_clock(SEND_DELAY)
    assert statuses(legalesign.get(f"/document/{ordered}/").json()) == [10, 4]
    assert statuses(legalesign.get(f"/document/{parallel}/").json()) == [10, 10]
    sb.sign("legalesign", ordered, email="joe.biggins@example.com")
    assert statuses(legalesign.get(f"/document/{ordered}/").json()) == [40, 10]


def test_manual_signing_only_when_sign_delay_is_none(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(sign_delay=None)
    doc_id = legalesign.create()
    sb.advance_clock(86400)
    assert legalesign.get(f"/status/{doc_id}/").json()["status"] == 10
    sb.sign("legalesign", doc_id)
    assert legalesign.get(f"/status/{doc_id}/").json()["status"] == 30
    sb.advance_clock(PDF_DELAY)
    assert legalesign.get(f"/status/{doc_id}/").json()["download_final"] is True


def test_groups(legalesign: Legalesign) -> None:
    groups = legalesign.get("/group/").json()
    assert groups["meta"]["total_count"] == 1
    assert groups["objects"][0]["resource_uri"] == GROUP_URI
    assert legalesign.get("/group/sandbox-team/").json()["slug"] == "sandbox-team"


def test_trial_recipient_restriction(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_allowed_recipients=["joe.biggins@example.com"])
    response = legalesign.post(legalesign.body(legalesign.upload_template()))
    assert response.status_code == 401
    assert sb.documents("legalesign") == []


def test_create_body_switch(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_create_body="empty")
    response = legalesign.post(legalesign.body(legalesign.upload_template()))
    assert response.status_code == 201 and response.content == b"" and response.headers["Location"]
