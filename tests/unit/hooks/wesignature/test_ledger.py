"""The WeSignature send ledger on its local SQLite file: a shared account snapshot per time window,
a send's intent and its claim (a guid claimed by one key only), what other sends hold.
``LedgerContract`` holds the rules every store follows; test_ledger_redis.py runs them on Redis."""

from __future__ import annotations

import pytest

from airflow_provider_esign.hooks.wesignature.ledger import (
    LedgerError,
    SQLiteLedger,
    fingerprint_key,
)

FP, OTHER_FP = fingerprint_key("nda.pdf", ["a@x.io", "b@x.io"]), fingerprint_key("msa.pdf", ["a@x.io"])


class LedgerContract:
    """The rules of a ledger store; a subclass provides the ``ledger`` fixture."""

    def test_no_snapshot_then_one_shared_for_its_window(self, ledger):
        now = ledger.now()
        assert ledger.baseline([FP], now, 60) is None
        ledger.save_snapshot(now, [(FP, "g-2"), (OTHER_FP, "g-9"), (FP, "g-1"), (FP, "g-1")])
        assert ledger.baseline([FP], now + 30, 60) == ["g-1", "g-2"]
        assert ledger.baseline([FP, OTHER_FP], now, 60) == ["g-1", "g-2", "g-9"]
        assert ledger.baseline([FP], now + 61, 60) is None  # too old
        assert ledger.baseline([FP], now - 1, 60) is None  # stamped in the future: never fresh

    def test_an_older_snapshot_never_replaces_a_newer_one(self, ledger):
        now = ledger.now()
        ledger.save_snapshot(now, [(FP, "new")])
        ledger.save_snapshot(now - 10, [(FP, "old")])
        assert ledger.baseline([FP], now, 60) == ["new"]

    def test_a_writer_reports_matches_and_an_aborted_one_changes_nothing(self, ledger):
        now = ledger.now()
        ledger.save_snapshot(now - 5, [(FP, "kept")])
        writer = ledger.snapshot_writer(now, [FP])
        assert writer.add((FP, "g-1")) == "g-1"
        assert writer.add((OTHER_FP, "g-2")) is None
        assert writer.add(None) is None
        writer.abort()
        assert ledger.baseline([FP], now, 60) == ["kept"]

    def test_a_guid_is_claimed_by_one_key_only(self, ledger):
        now = ledger.now()
        ledger.begin("send-a", FP, ["g-0"], now)
        assert ledger.recorded_baseline("send-a") == ["g-0"]
        assert ledger.owned("send-a") is None
        assert ledger.claim("send-a", FP, "g-1", now) is True
        assert ledger.claim("send-b", FP, "g-1", now) is False
        assert ledger.claim("send-a", FP, "g-1", now) is True  # a retry of the same send
        assert ledger.owned("send-a") == "g-1"
        assert ledger.recorded_baseline("send-unknown") is None

    def test_others_are_the_guids_other_keys_hold_and_their_open_sends(self, ledger):
        now = ledger.now()
        ledger.claim("send-a", FP, "g-1", now)
        ledger.begin("send-b", FP, [], now)  # open: no document claimed yet
        ledger.begin("send-c", OTHER_FP, [], now)
        ledger.begin("me", FP, [], now)
        assert ledger.others([FP], "me", now) == ({"g-1"}, 1)
        ledger.abandon("send-b")  # its create was refused: no longer open
        assert ledger.others([FP], "me", now) == ({"g-1"}, 0)
        ledger.abandon("send-a")  # a claimed send is never abandoned
        assert ledger.owned("send-a") == "g-1"


class TestSQLiteLedger(LedgerContract):
    @pytest.fixture
    def ledger(self, tmp_path):
        return SQLiteLedger(str(tmp_path / "sends.sqlite3"), clock=lambda: 1_800_000_000.0)

    def test_processes_of_a_host_share_the_file(self, tmp_path):
        first = SQLiteLedger(str(tmp_path / "sends.sqlite3"))
        second = SQLiteLedger(str(tmp_path / "sends.sqlite3"))
        first.claim("send-a", FP, "g-1", first.now())
        assert second.claim("send-b", FP, "g-1", second.now()) is False

    def test_an_unusable_file_is_a_ledger_error(self, tmp_path):
        (tmp_path / "a-file").write_text("")
        with pytest.raises(LedgerError, match="local WeSignature send ledger unusable"):
            SQLiteLedger(str(tmp_path / "a-file" / "sends.sqlite3"))


def test_fingerprints_ignore_signer_order_and_tell_documents_apart():
    assert fingerprint_key("nda.pdf", ["b@x.io", "a@x.io"]) == FP
    assert FP != OTHER_FP and len(FP) == 24
