from __future__ import annotations

import hashlib
import tracemalloc

import requests
from sandbox_helpers import ESignBase, Legalesign

from esign_sandbox import Sandbox
from esign_sandbox.pdf import check_pdf

SIZE = 20 * 1024 * 1024 + 12345


def test_large_pdf_streams_in_constant_memory(sb: Sandbox, esignbase: ESignBase) -> None:
    doc = sb.create_document("esignbase", name="Big", status="completed", pdf_size=SIZE,
                             signers=[{"name": "Lena Large", "email": "lena@example.com"}])  # fmt: skip
    token = esignbase.token()
    digest = hashlib.sha256()
    received = 0
    tracemalloc.start()
    try:
        # The server runs in this process, so tracemalloc sees its allocations as well as the client's.
        with esignbase.get(token, f"/api/document/{doc['id']}/download", stream=True) as response:
            assert response.status_code == 200
            assert int(response.headers["content-length"]) == SIZE
            for chunk in response.iter_content(256 * 1024):
                digest.update(chunk)
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == SIZE
    assert peak < SIZE // 4, f"peak traced memory {peak} bytes suggests the file was materialised"

    canonical = sb.pdf_bytes("esignbase", doc["id"])
    assert hashlib.sha256(canonical).hexdigest() == digest.hexdigest()
    assert len(canonical) == SIZE
    assert check_pdf(canonical) == []
    assert canonical.startswith(b"%PDF-") and canonical.endswith(b"%%EOF")
    assert b"Lena Large" in canonical[:4096]

    for first, last in [(0, 0), (1, 65536), (65535, 65537), (12345, 67890), (SIZE // 2 - 3, SIZE // 2 + 1000),
                        (10_000_001, 10_262_145), (SIZE - 1001, SIZE - 1)]:  # fmt: skip
        part = esignbase.get(
            token, f"/api/document/{doc['id']}/download", headers={"Range": f"bytes={first}-{last}"}
        )
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
        assert part.content == canonical[first : last + 1], (first, last)
    resume = esignbase.get(
        token, f"/api/document/{doc['id']}/download", headers={"Range": f"bytes={SIZE - 77777}-"}
    )
    assert resume.content == canonical[-77777:]


def test_large_pdf_is_deterministic_and_hash_matches_legalesign(sb: Sandbox, legalesign: Legalesign) -> None:
    sb.configure(legalesign_redirect_ratio=0.0)
    doc = sb.create_document("legalesign", status="completed", pdf_size=3_000_001)
    first = legalesign.get(f"/pdf/{doc['id']}/").content
    second = legalesign.get(f"/pdf/{doc['id']}/").content
    assert first == second and len(first) == 3_000_001
    assert check_pdf(first) == []
    detail = legalesign.get(f"/document/{doc['id']}/").json()
    assert detail["hash_value"] == hashlib.sha256(first).hexdigest()


def test_pdf_size_validation(sb: Sandbox) -> None:
    response = requests.post(sb.url + "/_sandbox/documents/esignbase", json={"pdf_size": 10}, timeout=5)
    assert response.status_code == 400
