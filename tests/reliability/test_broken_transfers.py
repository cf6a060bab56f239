"""Broken transfers never pass as a stored PDF, and a publish never replaces someone else's file.

Each case fails on the code before this change: a resumed ``206`` from the wrong offset was appended,
a body without ``Content-Length`` cut halfway was stored, ``overwrite=False`` replaced a file written
while the download ran, and a long target name failed from its temporary name.
"""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from airflow_provider_esign.exceptions import ESignError, ESignPermanentError
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.models import DownloadResult
from airflow_provider_esign.storage import store_verified

BASE = "https://esignbase.test"
DOC = {"id": "doc-1", "name": "Employee Contract", "status": "COMPLETED", "recipients": []}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 400 + b"\n%%EOF\n"  # ~100 kB
N = len(PDF)
CUT = N // 2


@pytest.fixture
def hook(make_connection, clock, requests_mock):
    make_connection(
        "esignbase_default", "esignbase", host=BASE, login="client-id", password="client-secret", scopes="all"
    )
    requests_mock.post(f"{BASE}/oauth2/token", json={"access_token": "token"})
    requests_mock.get(f"{BASE}/api/document/doc-1", json=DOC)
    return ESignBaseHook(sleep=clock.sleep, clock=clock, max_attempts=3)


def serve(requests_mock, answer):
    return requests_mock.get(f"{BASE}/api/document/doc-1/download", content=answer)


def cut_first_then(range_answer):
    """The first (plain) GET is cut after CUT bytes; Range requests go to ``range_answer(start)``."""

    def answer(request, context):
        wanted = request.headers.get("Range")
        if wanted is None:
            context.headers["Content-Length"] = str(N)
            return PDF[:CUT]
        start = int(wanted.removeprefix("bytes=").rstrip("-"))
        status, content_range, body = range_answer(start)
        context.status_code = status
        if content_range:
            context.headers["Content-Range"] = content_range
        context.headers["Content-Length"] = str(len(body))
        return body

    return answer


# ------------------------------------------------------------------ 206 from the wrong offset
def test_206_from_byte_zero_with_the_whole_file_replaces_the_partial_one(hook, requests_mock):
    download = serve(requests_mock, cut_first_then(lambda start: (206, f"bytes 0-{N - 1}/{N}", PDF)))
    out = io.BytesIO()
    result = hook.download_document("doc-1", out)
    assert out.getvalue() == PDF  # not PDF[:CUT] + PDF
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()
    assert download.request_history[1].headers["Range"] == f"bytes={CUT}-"


def test_206_from_byte_zero_is_never_spliced_into_a_verified_pdf(hook, requests_mock, tmp_path):
    # A server that answers every Range with the file's *start*, sized like the requested rest: the
    # splice PDF[:CUT] + PDF[:N-CUT] has exactly the announced length and the PDF magic.
    serve(
        requests_mock, cut_first_then(lambda start: (206, f"bytes 0-{N - start - 1}/{N}", PDF[: N - start]))
    )
    target = tmp_path / "out" / "doc-1.pdf"
    from airflow.sdk import ObjectStoragePath

    with pytest.raises(ESignError):
        store_verified(ObjectStoragePath(str(target)), lambda out: hook.download_document("doc-1", out))
    assert list(target.parent.iterdir()) == []


def test_206_from_another_offset_restarts_the_transfer(hook, requests_mock):
    calls = []

    def answer(request, context):
        calls.append(request.headers.get("Range"))
        if len(calls) == 1:
            context.headers["Content-Length"] = str(N)
            return PDF[:CUT]
        if len(calls) == 2:  # asked for CUT-, answers from 100
            context.status_code = 206
            context.headers["Content-Range"] = f"bytes 100-{N - 1}/{N}"
            return PDF[100:]
        context.headers["Content-Length"] = str(N)
        return PDF

    serve(requests_mock, answer)
    out = io.BytesIO()
    result = hook.download_document("doc-1", out)
    assert out.getvalue() == PDF
    assert calls == [None, f"bytes={CUT}-", None]  # the third attempt starts over
    assert result.restarted == 1 and result.resumed == 0


# ------------------------------------------------------------------ no Content-Length
def test_body_without_length_cut_halfway_is_never_stored(hook, requests_mock, tmp_path):
    from airflow.sdk import ObjectStoragePath

    download = serve(requests_mock, lambda request, context: PDF[:CUT])
    target = ObjectStoragePath(str(tmp_path / "doc-1.pdf"))
    with pytest.raises(ESignError):
        store_verified(target, lambda out: hook.download_document("doc-1", out))
    assert list(tmp_path.iterdir()) == []
    assert download.call_count == 3  # a cut transfer is retried like any truncated one
    assert "Content-Length" not in download.last_request.headers  # (request side: nothing announced)


def test_body_without_length_ending_in_the_trailer_is_verified(hook, requests_mock, tmp_path):
    from airflow.sdk import ObjectStoragePath

    answer = serve(requests_mock, lambda request, context: PDF)
    target = ObjectStoragePath(str(tmp_path / "doc-1.pdf"))
    result = store_verified(target, lambda out: hook.download_document("doc-1", out))
    assert "Content-Length" not in answer.last_request.headers
    assert (tmp_path / "doc-1.pdf").read_bytes() == PDF
    assert "pdf-trailer" in result.verified_against and "content-length" not in result.verified_against


# ------------------------------------------------------------------ overwrite=False at publish time
def _writing_download(target_path, other: bytes | None):
    """A download during which another writer puts ``other`` at the target."""

    def download(out) -> DownloadResult:
        if other is not None:
            with open(target_path, "wb") as elsewhere:
                elsewhere.write(other)
        out.write(PDF)
        return DownloadResult(N, hashlib.sha256(PDF).hexdigest(), ("pdf-magic",))

    return download


def test_file_written_at_the_target_during_the_download_is_not_replaced(tmp_path):
    from airflow.sdk import ObjectStoragePath

    path = tmp_path / "doc-1.pdf"
    other = b"%PDF-1.7 someone else's contract %%EOF"
    with pytest.raises(ESignPermanentError, match="already exists with different content"):
        store_verified(ObjectStoragePath(str(path)), _writing_download(path, other))
    assert path.read_bytes() == other
    assert [p.name for p in tmp_path.iterdir()] == ["doc-1.pdf"]  # no temporary file left


def test_identical_file_written_during_the_download_is_kept(tmp_path):
    from airflow.sdk import ObjectStoragePath

    path = tmp_path / "doc-1.pdf"
    result = store_verified(ObjectStoragePath(str(path)), _writing_download(path, PDF))
    assert path.read_bytes() == PDF and result.size == N


def test_overwrite_still_replaces(tmp_path):
    from airflow.sdk import ObjectStoragePath

    path = tmp_path / "doc-1.pdf"
    store_verified(ObjectStoragePath(str(path)), _writing_download(path, b"old"), overwrite=True)
    assert path.read_bytes() == PDF


@pytest.fixture
def memory_fs():
    import fsspec
    from airflow.sdk.io import store as io_store

    fs = fsspec.filesystem("memory")
    io_store.attach("memory", None, fs=fs)
    fs.mkdir("/race")
    yield fs
    fs.rm("/race", recursive=True)


def test_object_store_target_written_during_the_download_is_not_replaced(memory_fs):
    from airflow.sdk import ObjectStoragePath

    other = b"%PDF-1.7 another writer %%EOF"

    def download(out) -> DownloadResult:
        memory_fs.pipe("/race/doc-1.pdf", other)
        out.write(PDF)
        return DownloadResult(N, hashlib.sha256(PDF).hexdigest(), ("pdf-magic",))

    with pytest.raises(ESignPermanentError):
        store_verified(ObjectStoragePath("memory://race/doc-1.pdf"), download)
    assert memory_fs.cat("/race/doc-1.pdf") == other
    assert memory_fs.find("/race") == ["/race/doc-1.pdf"]  # the staging object is gone


# ------------------------------------------------------------------ long names
def test_250_character_file_name_is_stored(tmp_path):
    from airflow.sdk import ObjectStoragePath

    name = "c" * 246 + ".pdf"
    assert len(name) == 250
    path = tmp_path / name
    store_verified(ObjectStoragePath(str(path)), _writing_download(path, None))
    assert path.read_bytes() == PDF
    assert os.listdir(tmp_path) == [name]


def test_cleanup_of_a_long_name_leaves_other_targets_temporary_files_alone(tmp_path):
    from airflow.sdk import ObjectStoragePath

    from airflow_provider_esign.storage import temp_prefix

    mine, theirs = (
        "contract-of-customer-number-0000000000-" + "a.pdf",
        "contract-of-customer-number-0000000000-" + "b.pdf",
    )
    running = tmp_path / f"{temp_prefix(theirs)}k1ll3d.part"  # another task's download in progress
    running.write_bytes(b"%PDF-1.7 half")
    stale = tmp_path / f"{temp_prefix(mine)}k1ll3d.part"
    stale.write_bytes(b"%PDF-1.7 half")
    store_verified(ObjectStoragePath(str(tmp_path / mine)), _writing_download(tmp_path / mine, None))
    assert sorted(os.listdir(tmp_path)) == sorted([mine, running.name])
