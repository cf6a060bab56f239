"""Page counts and text tags from real-world PDFs, including PDF 1.5 compressed object streams."""

from __future__ import annotations

import base64
import zlib

import requests
from sandbox_helpers import GROUP_URI, LEGALESIGN_AUTH, Legalesign

from esign_sandbox.pdf import build_pdf
from esign_sandbox.pdfinfo import count_pages, text_tags


def object_stream_pdf(pages: int, tags: tuple[str, ...] = ()) -> bytes:
    """
    A PDF 1.5 as modern writers produce it: the catalog, the page tree and every page object live inside
    one Flate-compressed ``/Type /ObjStm`` and the page text in a Flate-compressed content stream (the
    cross-reference stream is left out: the sandbox does not need it).
    """
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", f"<</Type/Pages/Kids[{kids}]/Count {pages}>>".encode()]
    content_number = 3 + pages + 1
    objects += [
        f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents {content_number} 0 R>>".encode()
        for _ in range(pages)
    ]
    numbers = list(range(1, len(objects) + 1))
    header, offset = [], 0
    for number, body in zip(numbers, objects, strict=True):
        header.append(f"{number} {offset}")
        offset += len(body) + 1
    head = " ".join(header).encode() + b"\n"
    packed = zlib.compress(head + b"\n".join(objects) + b"\n")
    objstm_number = content_number - 1
    text = " ".join(f"({t}) Tj" for t in tags).encode()
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td " + text + b" ET")
    return (
        b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
        + f"{objstm_number} 0 obj\n<</Type/ObjStm/N {len(objects)}/First {len(head)}/Filter/FlateDecode/Length {len(packed)}>>\nstream\n".encode()
        + packed
        + b"\nendstream\nendobj\n"
        + f"{content_number} 0 obj\n<</Filter/FlateDecode/Length {len(content)}>>\nstream\n".encode()
        + content
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def test_counts_pages_inside_compressed_object_streams() -> None:
    data = object_stream_pdf(17)
    assert b"/Type/Page" not in data  # invisible to a plain byte search
    assert count_pages(data) == 17
    assert count_pages(build_pdf("T", [f"line {i}" for i in range(200)]).to_bytes()) == 5
    assert count_pages(b"%PDF-1.4\n") == 1


def test_text_tags_in_compressed_content() -> None:
    data = object_stream_pdf(2, ("<<t=signature;s=1>>", "<<t=text;s=2;l=Company>>", "<<t=admin;l=Ref>>"))
    assert text_tags(data) == [
        {"element_type": "signature", "signer": 1, "label": ""},
        {"element_type": "text", "signer": 2, "label": "Company"},
        {"element_type": "admin", "signer": None, "label": "Ref"},
    ]


def test_templatepdf_reports_real_page_and_signer_counts(legalesign: Legalesign) -> None:
    pdf = object_stream_pdf(17, ("<<t=signature;s=1>>", "<<t=signature;s=2>>", "<<t=signature;s=3>>"))
    body = {"group": GROUP_URI, "pdf_file": base64.b64encode(pdf).decode(), "process_tags": True}
    created = requests.post(legalesign.base + "/templatepdf/", json=body, headers=LEGALESIGN_AUTH, timeout=10)
    template_id = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    detail = legalesign.get(f"/templatepdf/{template_id}/").json()
    assert detail["page_count"] == 17 and detail["signer_count"] == 3
    fields = legalesign.get(f"/templatepdf/{template_id}/fields/").json()["objects"]
    assert [f["signer"] for f in fields] == [1, 2, 3] and {f["page"] for f in fields} == {17}
