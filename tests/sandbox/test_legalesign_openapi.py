"""Legalesign emulation against the vendor's OpenAPI document (Legalesign-V1-OpenAPI3,
``legalesign-api-v1.yaml``): status codes, error codes and schemas that allow additional properties."""

from __future__ import annotations

import json

import requests
from sandbox_helpers import GROUP_URI, LEGALESIGN_AUTH, PDF_DELAY, SEND_DELAY, SIGN_DELAY, Legalesign

from esign_sandbox import Sandbox

FIELDS = [{"ax": 0.1, "ay": 0.1, "bx": 0.3, "by": 0.15, "element_type": "signature", "page": 1, "signer": 1}]


def _post(legalesign: Legalesign, path: str, **kwargs) -> requests.Response:
    kwargs.setdefault("headers", LEGALESIGN_AUTH)
    return requests.post(legalesign.base + path, timeout=10, **kwargs)


def _template_id(legalesign: Legalesign) -> str:
    return legalesign.upload_template().rstrip("/").rsplit("/", 1)[-1]


def test_setting_template_fields_answers_201(legalesign: Legalesign) -> None:
    template_id = _template_id(legalesign)
    response = _post(legalesign, f"/templatepdf/{template_id}/fields/", json=FIELDS)
    assert response.status_code == 201
    listed = legalesign.get(f"/templatepdf/{template_id}/fields/").json()["objects"]
    assert [f["element_type"] for f in listed] == ["signature"]


def test_edit_link_is_a_json_string_and_in_location(legalesign: Legalesign) -> None:
    response = legalesign.get(f"/templatepdf/{_template_id(legalesign)}/edit-link/")
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    link = response.json()
    assert isinstance(link, str) and link.startswith("http://") and response.headers["location"] == link


def test_deleting_a_template_is_answered_not_emulated(legalesign: Legalesign) -> None:
    response = requests.delete(
        f"{legalesign.base}/templatepdf/{_template_id(legalesign)}/delete/",
        headers=LEGALESIGN_AUTH,
        timeout=10,
    )
    assert response.status_code == 501
    assert response.json()["not_emulated"] is True and response.headers["x-should-retry"] == "false"


def test_webhook_bodies_that_are_not_json_get_400(legalesign: Legalesign) -> None:
    headers = {**LEGALESIGN_AUTH, "Content-Type": "application/json"}
    for path in ("/subscribe/", "/unsubscribe/"):
        for junk in (b"not json", b"{", b"[" * 100_000):
            response = _post(legalesign, path, data=junk, headers=headers)
            assert response.status_code == 400, (path, junk[:10])
            assert response.headers["content-type"] == "application/json"
            assert "webhook" in response.json()


def test_unknown_keys_in_reminder_and_templatepdf_bodies_are_accepted(
    sb: Sandbox, legalesign: Legalesign
) -> None:
    sb.configure(send_delay=SEND_DELAY, sign_delay=SIGN_DELAY, pdf_delay=PDF_DELAY)
    pdf = "JVBERi0xLjQKJSVFT0YK"  # %PDF-1.4 / %%EOF
    created = _post(
        legalesign,
        "/templatepdf/",
        json={"group": GROUP_URI, "pdf_file": pdf, "title": "T", "future_option": True},
    )
    assert created.status_code == 201, created.text
    doc_id = legalesign.create()
    sb.advance_clock(SEND_DELAY)
    signer_id = legalesign.get(f"/document/{doc_id}/").json()["signer_objects"][0]["uuid"]
    reminded = _post(legalesign, f"/signer/{signer_id}/send-reminder/", json={"text": "Please", "extra": 1})
    assert reminded.status_code == 200, reminded.text
    # Known keys are still checked.
    too_long = _post(legalesign, f"/signer/{signer_id}/send-reminder/", json={"text": "x" * 10001, "x": 1})
    assert too_long.status_code == 400 and list(too_long.json()["signer"]) == ["text"]
    assert json.loads(json.dumps(too_long.json()))  # a JSON error body, not a page
