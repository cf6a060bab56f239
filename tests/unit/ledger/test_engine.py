"""The sync engine with form fields: a killed sync loses no field values."""

from __future__ import annotations

import pytest

from airflow_provider_esign.hooks.sync import SyncPage
from airflow_provider_esign.ledger import engine
from airflow_provider_esign.ledger.store import LedgerStore
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, FormField
from tests.unit.ledger.test_store import Hook


class Killed(BaseException):
    """The worker dying (not an error the engine could handle)."""


class FieldsHook:
    """One full walk of two pages (page 1 holds a completed document, page 2 ends the walk); resumes
    after page 1 when the stored cursor says so. ``kill_reads`` form field reads die."""

    conn_id = "c"
    vendor = "fake"
    supports_form_data = True

    def __init__(self, kill_reads: int = 0) -> None:
        self.kill_reads = kill_reads
        self.reads: list[str] = []
        self.doc = DocumentInfo(
            "d1", "fake", "Lease", DocumentStatus.COMPLETED, 30, created_at="2026-01-01T00:00:00Z"
        )

    def document_expires_at(self, doc):
        return None

    def idempotency_key_of(self, doc):
        return None

    def get_form_data(self, document_id, document=None):
        self.reads.append(document_id)
        if self.kill_reads:
            self.kill_reads -= 1
            raise Killed()
        return [FormField("Rent", "1200", "text")]

    def sync_account(self, ctx):
        state = ctx.state or {}
        if state.get("cursor") != 1:
            ctx.emit(SyncPage([self.doc], {"phase": "full", "cursor": 1}, True, "full-1"))
        ctx.emit(SyncPage([], {"phase": "idle", "finished_at": 1.0}, True, "full-1", last=True))
        return 2


@pytest.fixture
def store(tmp_path):
    s = LedgerStore(Hook(tmp_path / "l.db"), clock=lambda: 1_800_000_000.0)
    s.ensure_schema()
    yield s
    s.close()


def test_a_sync_killed_while_reading_form_fields_reads_them_when_resumed(store):
    hook = FieldsHook(kill_reads=1)
    with pytest.raises(Killed):
        engine.sync(hook, store, form_fields=True, clock=lambda: 0.0)
    # nothing of the page is committed without its fields: the resumed sync reads the page again
    assert store.query("SELECT COUNT(*) FROM esign_documents") == [(0,)]
    result = engine.sync(hook, store, form_fields=True, clock=lambda: 0.0)
    assert hook.reads == ["d1", "d1"]
    assert store.query("SELECT document_id, label, value FROM esign_form_fields") == [("d1", "Rent", "1200")]
    assert result.new == ["d1"]


def test_unchanged_documents_are_not_read_again(store):
    hook = FieldsHook()
    engine.sync(hook, store, form_fields=True, clock=lambda: 0.0)
    engine.sync(hook, store, form_fields=True, full_refresh=True, clock=lambda: 0.0)
    assert hook.reads == ["d1"]  # the second walk finds d1 unchanged: no second field read
    assert store.query("SELECT COUNT(*) FROM esign_form_fields") == [(1,)]
