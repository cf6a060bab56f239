"""Storing a verified download: atomic publish, an existing file never replaced by other bytes unless
asked, no partial file left behind, temporary names that never collide between targets."""

from __future__ import annotations

import hashlib
import os

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_esign.exceptions import ESignIntegrityError, ESignPermanentError
from airflow_provider_esign.models import DownloadResult
from airflow_provider_esign.storage import (
    TEMP_NAME_CHARS,
    remove_stale_parts,
    store_verified,
    temp_prefix,
    umask_file_mode,
)

PDF = b"%PDF-1.7\nsigned\n%%EOF\n"


def writer(body: bytes = PDF, fail: bool = False):
    def download(out) -> DownloadResult:
        out.write(body)
        if fail:
            raise ESignIntegrityError("SHA-256 mismatch")
        return DownloadResult(len(body), hashlib.sha256(body).hexdigest(), ("pdf-magic",))

    return download


def leftovers(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".part"))


def test_a_verified_file_appears_whole_with_the_umask_mode(tmp_path):
    target = ObjectStoragePath(f"file://{tmp_path}/signed/doc.pdf")
    result = store_verified(target, writer())
    assert (tmp_path / "signed" / "doc.pdf").read_bytes() == PDF
    assert result.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (tmp_path / "signed" / "doc.pdf").stat().st_mode & 0o777 == umask_file_mode()
    assert leftovers(tmp_path / "signed") == []


def test_a_failed_download_leaves_neither_the_file_nor_its_temporary(tmp_path):
    target = ObjectStoragePath(f"file://{tmp_path}/doc.pdf")
    with pytest.raises(ESignIntegrityError):
        store_verified(target, writer(fail=True))
    assert os.listdir(tmp_path) == []


def test_an_existing_file_with_other_bytes_is_kept_unless_overwrite(tmp_path):
    (tmp_path / "doc.pdf").write_bytes(b"%PDF-1.7\nsomeone else's\n")
    target = ObjectStoragePath(f"file://{tmp_path}/doc.pdf")
    with pytest.raises(ESignPermanentError, match="already exists with different content"):
        store_verified(target, writer())
    assert (tmp_path / "doc.pdf").read_bytes() == b"%PDF-1.7\nsomeone else's\n"
    store_verified(target, writer(), overwrite=True)
    assert (tmp_path / "doc.pdf").read_bytes() == PDF


def test_an_existing_file_with_the_same_bytes_is_an_earlier_try_and_kept(tmp_path):
    (tmp_path / "doc.pdf").write_bytes(PDF)
    store_verified(ObjectStoragePath(f"file://{tmp_path}/doc.pdf"), writer())
    assert (tmp_path / "doc.pdf").read_bytes() == PDF
    assert leftovers(tmp_path) == []


def test_stale_temporaries_of_this_target_only_are_removed(tmp_path):
    (tmp_path / ".doc.pdf.abc.part").write_bytes(b"half")
    (tmp_path / ".other.pdf.abc.part").write_bytes(b"half")
    remove_stale_parts(ObjectStoragePath(f"file://{tmp_path}/doc.pdf"))
    assert leftovers(tmp_path) == [".other.pdf.abc.part"]


def test_a_long_name_gets_a_short_prefix_that_still_tells_targets_apart():
    first, second = "a" * 200 + "1.pdf", "a" * 200 + "2.pdf"
    assert temp_prefix("doc.pdf") == ".doc.pdf."
    assert len(temp_prefix(first)) <= TEMP_NAME_CHARS + 2
    assert temp_prefix(first) != temp_prefix(second)
