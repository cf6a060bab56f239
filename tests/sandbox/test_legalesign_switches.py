"""Switches for Legalesign behaviour its documentation leaves open (see the sandbox README)."""

from __future__ import annotations

import requests
from sandbox_helpers import LEGALESIGN_AUTH, Legalesign

from esign_sandbox import Sandbox


def test_location_as_path(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_location="path")
    response = legalesign.post(legalesign.body(legalesign.upload_template()))
    assert response.status_code == 201 and response.headers["Location"].startswith("/api/v1/document/")


def test_native_signer_values(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_signer_values="native")
    row = legalesign.get(f"/document/{legalesign.create()}/").json()["signers"][0]
    assert row[5] is True and isinstance(row[6], int) and row[7] == 0


def test_archived_pdf_is_first_being_dearchived(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(
        legalesign_dearchive_delay=600, legalesign_dearchive_status=202, legalesign_redirect_ratio=0.0
    )
    doc_id = sb.create_document("legalesign", status="completed")["id"]
    assert legalesign.get(f"/pdf/{doc_id}/").content.startswith(b"%PDF")  # not archived: served at once
    requests.delete(f"{legalesign.base}/document/{doc_id}/", headers=LEGALESIGN_AUTH, timeout=10)
    waiting = legalesign.get(f"/pdf/{doc_id}/")
    assert waiting.status_code == 202 and "de-archived" in waiting.json()["message"]
    sb.advance_clock(599)
    assert legalesign.get(f"/pdf/{doc_id}/").status_code == 202
    sb.advance_clock(2)
    ready = legalesign.get(f"/pdf/{doc_id}/")
    assert ready.status_code == 200 and ready.content == sb.pdf_bytes("legalesign", doc_id)
