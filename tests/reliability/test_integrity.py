"""Downloads: resumed (eSignBase, Range) or restarted after a truncated transfer, verified, and never a
partial file at the destination, on a local disk or an object store."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from airflow_provider_esign.exceptions import DocumentNotReadyError, ESignError, ESignIntegrityError
from airflow_provider_esign.hooks import get_hook
from airflow_provider_esign.operators.download import DownloadDocumentOperator
from tests.reliability.conftest import fake_context

SIGNERS = [{"name": "Ada Lovelace", "email": "ada@example.com"}]
SIZE = 300_000  # several chunks: the truncation lands mid-stream
FAST = {"max_attempts": 2, "backoff_base": 0.01, "backoff_max": 0.05}


def completed(sandbox, vendor: str) -> str:
    return sandbox.create_document(vendor, name="Signed", signers=SIGNERS, status="completed", pdf_size=SIZE)[
        "id"
    ]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("vendor", "redirect", "path", "resumed", "restarted"),
    [
        ("esignbase", None, "/download", 1, 0),  # Range: only the missing half is fetched again
        ("legalesign", 0.0, "/pdf/", 0, 1),  # served directly
        ("legalesign", 1.0, "/legalesign-storage/", 0, 1),  # served by a redirect to storage
        ("wesignature", None, "/download", 0, 1),
    ],
)
def test_truncated_download_resumes_or_restarts(sandbox, vendor, redirect, path, resumed, restarted):
    if redirect is not None:
        sandbox.configure(legalesign_redirect_ratio=redirect)
    document_id = completed(sandbox, vendor)
    sandbox.queue_fault("truncate", vendor=vendor, path_contains=path)
    out = io.BytesIO()
    result = get_hook(f"{vendor}_default", **FAST).download_document(document_id, out, chunk_size=16 * 1024)

    assert sandbox.stats()["aborted_connections"] == {"truncate": 1}  # the transfer really broke
    expected = sandbox.pdf_bytes(vendor, document_id)
    assert out.getvalue() == expected
    assert (result.resumed, result.restarted) == (resumed, restarted)
    assert result.size == SIZE and result.sha256 == hashlib.sha256(expected).hexdigest()
    assert "content-length" in result.verified_against


def store(document_id: str, vendor: str, destination: str, **kwargs) -> str:
    operator = DownloadDocumentOperator(
        task_id="store",
        conn_id=f"{vendor}_default",
        document_id=document_id,
        destination=destination,
        hook_params=FAST,
        **kwargs,
    )
    return operator.execute(fake_context())


@pytest.fixture
def memory_store():
    """A ``memory://`` object store registered with Airflow's ObjectStoragePath."""
    import fsspec
    from airflow.sdk.io import store as io_store

    fs = fsspec.filesystem("memory")
    io_store.attach("memory", None, fs=fs)
    fs.mkdir("/signed")
    yield fs
    fs.rm("/signed", recursive=True)


def memory_objects(fs) -> list[str]:
    return sorted(fs.find("/signed"))


@pytest.mark.e2e
@pytest.mark.parametrize("vendor", ["esignbase", "legalesign", "wesignature"])
def test_failed_download_leaves_nothing_at_a_local_destination(sandbox, tmp_path, vendor):
    sandbox.configure(legalesign_redirect_ratio=0.0)
    document_id = completed(sandbox, vendor)
    for _ in range(FAST["max_attempts"]):  # every attempt breaks (eSignBase: the resumed one too)
        sandbox.queue_fault("truncate", vendor=vendor)
    with pytest.raises(ESignError):
        store(document_id, vendor, str(tmp_path / "out"))
    assert sandbox.stats()["aborted_connections"] == {"truncate": 2}
    assert list((tmp_path / "out").iterdir()) == []  # no target, no temporary file

    path = store(document_id, vendor, str(tmp_path / "out"))  # the task's retry
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"{document_id}.pdf"]
    assert Path(path).read_bytes() == sandbox.pdf_bytes(vendor, document_id)


@pytest.mark.e2e
def test_failed_download_leaves_nothing_in_an_object_store(sandbox, memory_store):
    document_id = completed(sandbox, "esignbase")
    for _ in range(FAST["max_attempts"]):
        sandbox.queue_fault("truncate", vendor="esignbase")
    with pytest.raises(ESignError):
        store(document_id, "esignbase", "memory://signed/contracts")
    assert [o for o in memory_objects(memory_store) if o.endswith((".pdf", ".part"))] == []

    stale = f"/signed/contracts/.{document_id}.pdf.0123abcd.part"  # a killed try's staging object
    memory_store.pipe(stale, b"%PDF- partial")
    path = store(document_id, "esignbase", "memory://signed/contracts")
    assert memory_objects(memory_store) == [f"/signed/contracts/{document_id}.pdf"]  # no staging left
    assert path == f"memory:///signed/contracts/{document_id}.pdf" or path.endswith(f"/{document_id}.pdf")
    assert memory_store.cat(f"/signed/contracts/{document_id}.pdf") == sandbox.pdf_bytes(
        "esignbase", document_id
    )


@pytest.mark.e2e
def test_leftover_temp_file_of_a_killed_try_is_cleaned_up(sandbox, tmp_path):
    """A worker killed mid-download leaves its hidden temporary file; the retry removes it."""
    document_id = completed(sandbox, "esignbase")
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".{document_id}.pdf.k1ll3d.part"
    stale.write_bytes(b"%PDF-1.7 half of a download")
    unrelated = out / ".other.pdf.k1ll3d.part"
    unrelated.write_bytes(b"another task's download")
    store(document_id, "esignbase", str(out))
    assert sorted(p.name for p in out.iterdir()) == [".other.pdf.k1ll3d.part", f"{document_id}.pdf"]


LEGALESIGN = "https://legalesign.invalid/api/v1"
PDF = b"%PDF-1.7\n" + b"x" * 5000 + b"\n%%EOF\n"


@pytest.fixture
def legalesign_mock(make_connection, requests_mock):
    make_connection(
        "legalesign_default", "legalesign", host=LEGALESIGN, login="u", password="secret", group="acme"
    )

    def serve(body: bytes, hash_value: str):
        requests_mock.get(
            f"{LEGALESIGN}/document/doc-1/",
            json={"uuid": "doc-1", "status": 30, "download_final": True, "hash_value": hash_value},
        )
        requests_mock.get(
            f"{LEGALESIGN}/pdf/doc-1/", content=body, headers={"Content-Type": "application/pdf"}
        )

    return serve


@pytest.mark.parametrize(
    ("body", "hash_value", "error", "message"),
    [
        (PDF, hashlib.sha256(b"something else").hexdigest(), ESignIntegrityError, "SHA-256 mismatch"),
        # Legalesign signals "not ready" with a non-PDF body: retried later, never stored.
        (b"<html>Please log in</html>" + b" " * 100, "", DocumentNotReadyError, "instead of a PDF"),
    ],
)
def test_unverifiable_download_is_never_published(
    legalesign_mock, tmp_path, body, hash_value, error, message
):
    legalesign_mock(body, hash_value)
    with pytest.raises(error, match=message):
        store("doc-1", "legalesign", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_verified_download_is_published(legalesign_mock, tmp_path):
    legalesign_mock(PDF, hashlib.sha256(PDF).hexdigest())
    path = store("doc-1", "legalesign", str(tmp_path))
    assert [p.name for p in tmp_path.iterdir()] == ["doc-1.pdf"]
    assert Path(path).read_bytes() == PDF
