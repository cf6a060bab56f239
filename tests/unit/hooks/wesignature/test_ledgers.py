"""The send ledgers a process has open: one per account and storage, none inherited by a fork."""

from __future__ import annotations

import os

import pytest

from airflow_provider_esign.hooks.wesignature.ledger import SQLiteLedger
from airflow_provider_esign.hooks.wesignature.ledgers import forget_ledgers, open_ledger


def test_one_ledger_per_account_and_storage_per_process(tmp_path):
    first = open_ledger("wesignature|https://x|u-1", "local", str(tmp_path))
    assert open_ledger("wesignature|https://x|u-1", "local", str(tmp_path)) is first
    assert open_ledger("wesignature|https://x|u-2", "local", str(tmp_path)) is not first
    forget_ledgers()
    assert open_ledger("wesignature|https://x|u-1", "local", str(tmp_path)) is not first


def test_the_local_store_is_a_file_per_account_in_the_given_folder(tmp_path):
    ledger = open_ledger("wesignature|https://x|u-1", "local", str(tmp_path))
    assert isinstance(ledger, SQLiteLedger)
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite3"] == [os.path.basename(ledger.path)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork")
def test_a_forked_child_opens_its_own_ledger(tmp_path):
    """A SQLite connection must not cross a fork: the child's first open makes a new ledger."""
    parent = open_ledger("wesignature|https://x|u-1", "local", str(tmp_path))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it got the parent's object, then leave at once
        same = open_ledger("wesignature|https://x|u-1", "local", str(tmp_path)) is parent
        os.write(write, b"same" if same else b"new")
        os._exit(0)
    os.close(write)
    answer = os.read(read, 16)
    os.waitpid(pid, 0)
    assert answer == b"new"
    assert open_ledger("wesignature|https://x|u-1", "local", str(tmp_path)) is parent
