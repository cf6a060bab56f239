"""Signed PDFs stored to ``s3://`` through ``ObjectStoragePath`` and the Amazon provider, against a
real S3 API server (moto in server mode) that the test starts on loopback and stops by process id."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest

from tests.e2e.conftest import run_dag

pytestmark = pytest.mark.e2e
BUCKET = "esign-signed"
CONN_ID = "s3_local"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on 127.0.0.1, as its own process; yields the endpoint URL."""
    pytest.importorskip("moto.server", reason="install the test extras: pip install -e '.[test]'")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto S3 server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """An empty bucket, an Airflow ``aws`` connection pointing at the server, and a boto3 client."""
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # Every S3 client of the test process goes to the local server, whatever connection it resolves
    # (botocore reads AWS_ENDPOINT_URL_S3): no request can leave for AWS.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    connection = {
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": s3_server, "region_name": "us-east-1"},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    _reset_object_store_cache()
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _reset_object_store_cache() -> None:
    """Airflow caches one filesystem per connection id; each test's connection is new."""
    from airflow.sdk.io import store

    store._STORE_CACHE.clear()


def keys(client) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_signed_pdfs_are_stored_to_s3_byte_identical(sandbox, s3):
    run = run_dag("e2e_esignbase_poke", destination=f"s3://{CONN_ID}@{BUCKET}/signed")
    assert run.state == "success"
    documents = sandbox.documents("esignbase")
    assert len(documents) == 2
    assert keys(s3) == sorted(f"signed/{d['id']}.pdf" for d in documents)  # no staging objects left
    for document in documents:
        body = s3.get_object(Bucket=BUCKET, Key=f"signed/{document['id']}.pdf")["Body"].read()
        assert body == sandbox.pdf_bytes("esignbase", document["id"])


PDF = b"%PDF-1.7\n" + b"x" * 20_000 + b"\n%%EOF\n"


class _Hook:
    """A hook that serves one fixed, verified PDF (the S3 side is what these tests exercise)."""

    vendor = "esignbase"

    def __init__(self, pdf: bytes = PDF) -> None:
        self.pdf = pdf

    def download_document(self, document_id, out, chunk_size=1024):
        from airflow_provider_esign.models import DownloadResult

        out.write(self.pdf)
        return DownloadResult(len(self.pdf), hashlib.sha256(self.pdf).hexdigest(), ("pdf-magic",))

    def get_document_details(self, document_id):
        from airflow_provider_esign.models import DocumentInfo, DocumentStatus

        return DocumentInfo(document_id, "esignbase", "Contract", DocumentStatus.COMPLETED, "COMPLETED")


def _execute(destination: str, hook: _Hook, **kwargs) -> str:
    from airflow_provider_esign.operators.download import DownloadDocumentOperator

    op = DownloadDocumentOperator(
        task_id="store", conn_id="esignbase_default", document_id="doc-1", destination=destination, **kwargs
    )
    context = {"ti": mock.MagicMock(), "outlet_events": mock.MagicMock()}
    with mock.patch.object(DownloadDocumentOperator, "get_hook", return_value=hook):
        return op.execute(context)


def test_an_interrupted_upload_never_shows_an_object_at_the_target(s3):
    from airflow_provider_esign import storage

    seen_during_upload: list[list[str]] = []

    def broken_copy(source, sink, chunk_size=8 * 1024 * 1024):
        sink.write(source.read(4096))
        sink.flush()
        seen_during_upload.append(keys(s3))
        raise OSError("connection to the object store lost")

    with mock.patch.object(storage, "copy_stream", broken_copy), pytest.raises(OSError, match="lost"):
        _execute(f"s3://{CONN_ID}@{BUCKET}/signed", _Hook())
    assert seen_during_upload and "signed/doc-1.pdf" not in seen_during_upload[0]
    assert keys(s3) == []  # neither the target nor the staging object remains


def test_upload_becomes_visible_only_when_complete(s3):
    from airflow_provider_esign import storage

    real_copy = storage.copy_stream
    observed: list[bool] = []

    def watching_copy(source, sink, chunk_size=8 * 1024 * 1024):
        real_copy(source, sink, chunk_size=4096)
        observed.append("signed/doc-1.pdf" in keys(s3))  # written, not yet published

    with mock.patch.object(storage, "copy_stream", watching_copy):
        path = _execute(f"s3://{CONN_ID}@{BUCKET}/signed", _Hook())
    assert observed == [False]
    assert path.endswith("signed/doc-1.pdf")
    assert s3.get_object(Bucket=BUCKET, Key="signed/doc-1.pdf")["Body"].read() == PDF
    assert keys(s3) == ["signed/doc-1.pdf"]


def test_no_overwrite_and_an_idempotent_retry_on_s3(s3):
    from airflow_provider_esign.exceptions import ESignPermanentError

    destination = f"s3://{CONN_ID}@{BUCKET}/signed"
    s3.put_object(Bucket=BUCKET, Key="signed/doc-1.pdf", Body=b"%PDF-1.4 someone else's file")
    with pytest.raises(ESignPermanentError, match="different content"):
        _execute(destination, _Hook())
    assert s3.get_object(Bucket=BUCKET, Key="signed/doc-1.pdf")["Body"].read().endswith(b"else's file")

    s3.put_object(Bucket=BUCKET, Key="signed/doc-1.pdf", Body=PDF)  # an earlier try's upload
    assert _execute(destination, _Hook()).endswith("signed/doc-1.pdf")
    assert keys(s3) == ["signed/doc-1.pdf"]

    _execute(destination, _Hook(PDF.replace(b"x", b"y")), overwrite=True)
    assert s3.get_object(Bucket=BUCKET, Key="signed/doc-1.pdf")["Body"].read() == PDF.replace(b"x", b"y")


def test_s3_lineage_names_bucket_and_key():
    pytest.importorskip("airflow.providers.openlineage")
    from airflow_provider_esign.lineage import storage_dataset

    dataset = storage_dataset(f"s3://{CONN_ID}@{BUCKET}/signed/doc-1.pdf")
    assert (dataset.namespace, dataset.name) == (f"s3://{BUCKET}", "signed/doc-1.pdf")
