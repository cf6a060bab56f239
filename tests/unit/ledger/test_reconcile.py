"""Reconciliation on SQLite: Airflow's send records are compared with their own connection's documents."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_esign.ledger import airflow_records, reconcile, schema
from airflow_provider_esign.ledger.store import LedgerStore
from tests.unit.ledger.test_store import Hook, row


@pytest.fixture
def store(tmp_path):
    s = LedgerStore(Hook(tmp_path / "l.db"), clock=lambda: 1_800_000_000.0)
    s.ensure_schema()
    yield s
    s.close()


def sdk(records):
    """(get_task_states, get_xcom) over ``{(run_id, key): value}``: every run's ``send`` succeeded."""

    def states(dag_id, task_ids):
        return {run_id: {"send": "success"} for run_id, _ in records}

    def xcom(key, dag_id, task_id, run_id, map_index):
        return records.get((run_id, key))

    return states, xcom


def test_another_connections_sends_are_not_missing_from_this_one(store):
    """Two connections of one vendor are two accounts: ledger "c" (see test_store.row) holds d1;
    the document connection "other" sent is not in it, and is no finding of "c"."""
    store.write_page("c", "fake", [row(1)], {})
    records = {
        ("r1", "esign_contract"): {"conn_id": "c", "vendor": "fake", "document_id": "d1", "name": "ours"},
        ("r2", "esign_contract"): {"conn_id": "c", "vendor": "fake", "document_id": "lost", "name": "ours"},
        ("r3", "esign_contract"): {"conn_id": "other", "vendor": "fake", "document_id": "o1", "name": "x"},
    }
    assert airflow_records.mirror_send_records(store, ["contracts.send"], sdk(records)) == 3
    assert sorted(store.query("SELECT run_id, connection_id FROM esign_sent")) == [
        ("r1", "c"),
        ("r2", "c"),
        ("r3", "other"),
    ]
    summary = reconcile.reconcile(
        store, "c", "fake", "sync-1", pending_after=timedelta(days=1e5), failed_ids=[]
    )
    assert [f["document_id"] for f in summary["missing_at_vendor"]] == ["lost"]
    assert airflow_records.attribute_senders(store, "c", "fake") == 1
    assert store.query("SELECT sent_by_run_id FROM esign_documents") == [("r1",)]


def test_a_send_without_a_contract_record_is_read_from_its_document_record(store):
    records = {("r1", "document"): {"vendor": "fake", "document_id": "d9", "name": "old"}}
    assert airflow_records.mirror_send_records(store, ["contracts.send"], sdk(records)) == 1
    assert store.query("SELECT document_id, connection_id FROM esign_sent") == [("d9", None)]


def test_the_sent_table_of_an_earlier_version_gains_the_connection_column(store):
    """Rows mirrored before the column existed keep matching on their vendor (the old behaviour)."""
    conn = store.conn
    conn.execute("ALTER TABLE esign_sent DROP COLUMN connection_id")
    conn.execute(
        "INSERT INTO esign_sent (dag_id, run_id, task_id, map_index, vendor, document_id) "
        "VALUES ('d', 'r', 'send', -1, 'fake', 'gone')"
    )
    conn.commit()
    assert store.ensure_schema() == ["ALTER TABLE esign_sent ADD COLUMN connection_id TEXT"]
    found = reconcile.reconcile(store, "c", "fake", "s", pending_after=timedelta(days=1), failed_ids=[])
    assert [f["document_id"] for f in found["missing_at_vendor"]] == ["gone"]
    assert (
        reconcile.reconcile(store, "c", "another", "s2", pending_after=timedelta(days=1), failed_ids=[])[
            "missing_at_vendor_count"
        ]
        == 0
    )
    assert schema.SENT.column_names[-1] == "connection_id"
