"""The contract ledger against the sandbox with history, into SQLite (the embedded default) and a real
PostgreSQL started on loopback. Every vendor call is counted from the sandbox's request journal."""

from __future__ import annotations

import contextlib
import math
import time
from datetime import timedelta

import pytest

from airflow_provider_esign.hooks import get_hook
from airflow_provider_esign.ledger import engine, reconcile
from airflow_provider_esign.ledger.store import LedgerStore
from airflow_provider_esign.operators.sync import embedded_hook

pytestmark = pytest.mark.e2e
HISTORY = 450
SIGNER = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Bob Byron", "email": "bob@example.com"},
]
CONN = {
    "esignbase": "esignbase_default",
    "legalesign": "legalesign_default",
    "wesignature": "wesignature_default",
}


def list_calls(sandbox, vendor: str, since: int) -> list[dict]:
    return [r for r in sandbox.requests(vendor=vendor, since_seq=since) if "token" not in r["path"]]


def last_seq(sandbox) -> int:
    entries = sandbox.requests(limit=1)
    return entries[-1]["seq"] if entries else 0


@pytest.fixture(scope="module")
def postgres():
    from tests.deployment.services import postgres_server

    with postgres_server() as server:
        yield server


@contextlib.contextmanager
def _postgres_hook(server, monkeypatch):
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", dbname="airflow")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    conn.close()
    monkeypatch.setenv("AIRFLOW_CONN_LEDGER_PG", f"postgresql://postgres@127.0.0.1:{server.port}/airflow")
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    yield PostgresHook(postgres_conn_id="ledger_pg")


@pytest.fixture(params=["sqlite", "postgres"])
def db(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        yield embedded_hook(str(tmp_path / "ledger.db"))
    else:
        with _postgres_hook(request.getfixturevalue("postgres"), monkeypatch) as hook:
            yield hook


def store_for(db) -> LedgerStore:
    store = LedgerStore(db)
    store.ensure_schema()
    return store


def count(store: LedgerStore, sql: str, *params) -> int:
    return int(store.query(sql.replace("?", store.dialect.placeholder), params)[0][0])


@pytest.mark.parametrize("vendor", ["legalesign", "esignbase", "wesignature"])
def test_first_sync_mirrors_the_account_and_a_rerun_changes_nothing(sandbox, db, vendor):
    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    sandbox.seed_history(HISTORY, vendors=[vendor])
    open_ids = [sandbox.create_document(vendor, signers=SIGNER, status="sent")["id"] for _ in range(5)]
    hook = get_hook(CONN[vendor])
    store = store_for(db)
    first = engine.sync(hook, store)
    total = HISTORY + 5
    assert first.walks == ["full"]
    assert count(store, "SELECT COUNT(*) FROM esign_documents WHERE connection_id = ?", hook.conn_id) == total
    assert first.new_count == total and first.changed_count == 0
    if vendor != "wesignature":  # its list is one streamed answer
        assert first.calls == math.ceil(total / 100)
    assert count(store, "SELECT COUNT(*) FROM esign_signers WHERE document_id = ?", open_ids[0]) == 2

    sandbox.sign(vendor, open_ids[1])
    sandbox.decline(vendor, open_ids[2])
    since = last_seq(sandbox)
    second = engine.sync(hook, store)
    assert sorted(second.changed) == sorted(open_ids[1:3]) and not second.new and not second.deleted
    assert second.failed == [open_ids[2]] and second.synced_before and not first.failed
    store.clock = lambda: time.time() + 3600  # an hour later: every open document is an hour old
    summary = reconcile.reconcile(
        store, hook.conn_id, vendor, "s2", pending_after=timedelta(minutes=30), failed_ids=second.failed
    )
    assert [f["document_id"] for f in summary["failed_since_last_sync"]] == [open_ids[2]]
    pending = {f["document_id"]: f["detail"]["pending_signers"] for f in summary["pending_too_long"]}
    assert set(pending) == {open_ids[0], open_ids[3], open_ids[4]}  # signed and declined ones are not
    assert pending[open_ids[0]] == ["ada@example.com", "bob@example.com"]
    made = list_calls(sandbox, vendor, since)
    if vendor != "wesignature":
        assert len(made) <= 3, [(r["path"], r["query"]) for r in made]  # ceil(1/100) + 2
    third = engine.sync(hook, store)
    assert not third.changed and not third.new and not third.deleted  # a rerun writes nothing


def test_a_sync_killed_mid_walk_resumes_without_duplicates_or_gaps(sandbox, db):
    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    sandbox.seed_history(HISTORY, vendors=["legalesign"])
    hook = get_hook("legalesign_default")
    store = store_for(db)

    def die_after_two(result):
        if result.pages == 2:
            raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        engine.sync(hook, store, after_page=die_after_two)
    assert count(store, "SELECT COUNT(*) FROM esign_documents") == 200  # two committed pages
    since = last_seq(sandbox)
    resumed = engine.sync(hook, store)
    assert resumed.new_count == HISTORY - 200 and resumed.calls == math.ceil((HISTORY - 200) / 100)
    assert len(list_calls(sandbox, "legalesign", since)) == resumed.calls  # no page read twice
    assert count(store, "SELECT COUNT(*) FROM esign_documents") == HISTORY
    assert count(store, "SELECT COUNT(DISTINCT document_id) FROM esign_documents") == HISTORY
    vendor_ids = {d["id"] for d in sandbox.documents("legalesign")}
    stored = {r[0] for r in store.query("SELECT document_id FROM esign_documents")}
    assert stored == vendor_ids


def test_a_document_deleted_at_the_vendor_is_marked_not_removed(sandbox, db):
    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    sandbox.seed_history(200, vendors=["esignbase"])
    ids = [sandbox.create_document("esignbase", signers=SIGNER, status="sent")["id"] for _ in range(3)]
    hook = get_hook("esignbase_default")
    store = store_for(db)
    engine.sync(hook, store)
    hook.cancel_document(ids[1])  # eSignBase's DELETE: the document leaves the list
    result = engine.sync(hook, store)
    assert result.deleted == [ids[1]]
    assert result.walks == ["horizon", "full"]  # the count told; a full walk found which one
    rows = store.query(
        "SELECT document_id, deleted_at_vendor FROM esign_documents WHERE deleted_at_vendor IS NOT NULL"
    )
    assert [r[0] for r in rows] == [ids[1]]
    assert count(store, "SELECT COUNT(*) FROM esign_documents") == 203  # marked, never deleted
    again = engine.sync(hook, store)
    assert not again.deleted and again.walks == ["horizon"]


def test_a_document_airflow_sent_and_the_vendor_lost_is_reconciled(sandbox, db):
    from datetime import timedelta

    from airflow_provider_esign.ledger import airflow_records, reconcile

    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    kept = sandbox.create_document("esignbase", signers=SIGNER, status="sent")["id"]
    lost = "doc-the-vendor-lost"
    hook = get_hook("esignbase_default")
    store = store_for(db)
    engine.sync(hook, store)
    conn = hook.conn_id
    xcoms = {  # the send operator's contract records
        ("run1", "send"): {"conn_id": conn, "document_id": kept, "vendor": "esignbase", "name": "kept"},
        ("run2", "send"): {"conn_id": conn, "document_id": lost, "vendor": "esignbase", "name": "lost"},
        # another eSignBase account's send: not this ledger's to report
        ("run4", "send"): {"conn_id": "esignbase_other", "document_id": "x", "vendor": "esignbase"},
    }

    def states(dag_id, task_ids):
        return {
            "run1": {"send": "success"},
            "run2": {"send": "success"},
            "run3": {"send": "failed"},
            "run4": {"send": "success"},
        }

    def xcom(key, dag_id, task_id, run_id, map_index):
        assert key == "esign_contract"
        return xcoms[(run_id, task_id)]

    assert airflow_records.mirror_send_records(store, ["contracts.send"], (states, xcom)) == 3
    assert airflow_records.mirror_send_records(store, ["contracts.send"], (states, xcom)) == 0  # read once
    airflow_records.attribute_senders(store, hook.conn_id, hook.vendor)
    summary = reconcile.reconcile(
        store, hook.conn_id, hook.vendor, "sync-1", pending_after=timedelta(days=7), failed_ids=[]
    )
    assert [f["document_id"] for f in summary["missing_at_vendor"]] == [lost]
    assert summary["missing_at_vendor"][0]["detail"]["run_id"] == "run2"
    sender = store.query("SELECT sent_by_dag_id, sent_by_run_id FROM esign_documents")
    assert sender == [("contracts", "run1")]
    stored = store.query("SELECT kind, document_id FROM esign_reconciliation")
    assert stored == [("missing_at_vendor", lost)]


def test_the_operator_in_a_dag_run_reconciles_what_an_airflow_run_sent(sandbox, tmp_path, monkeypatch):
    """Real runs: one DAG sends a document and cancels it (eSignBase deletes it), then the sync DAG
    reads that send task's XCom through the Task SDK and reports the document as lost at the vendor;
    the sync's asset event carries the row counts and the cursor."""
    import sqlite3

    from tests.e2e.conftest import run_dag

    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    sandbox.seed_history(150, vendors=["esignbase"])
    monkeypatch.setenv("ESIGN_LEDGER_DB", str(tmp_path / "ledger.db"))
    sent_run = run_dag("e2e_esignbase_cancel")
    assert sent_run.state == "success"
    (send,) = [ti for ti in sent_run.get_task_instances() if ti.task_id == "send"]
    lost = send.xcom_pull(task_ids="send")

    run = run_dag("ledger_sync")
    assert run.state == "success"
    (sync,) = run.get_task_instances()
    out = sync.xcom_pull(task_ids="sync")
    assert out["sync"]["rows"]["esign_documents"] == 150 and out["sync"]["walks"] == ["full"]
    missing = out["reconciliation"]["missing_at_vendor"]
    assert [(m["document_id"], m["detail"]["dag_id"], m["detail"]["run_id"]) for m in missing] == [
        (lost, "e2e_esignbase_cancel", sent_run.run_id)
    ]
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT kind, document_id FROM esign_reconciliation").fetchall() == [
            ("missing_at_vendor", lost)
        ]
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        (event,) = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(
                AssetModel.uri == "esign://ledger/embedded/esign_documents",
                AssetEvent.source_run_id == run.run_id,
            )
        ).all()
        assert event.extra["rows"]["esign_documents"] == 150
        assert event.extra["cursor"]["phase"] == "idle"

    again = run_dag("ledger_sync")  # the send record is mirrored once; the rerun changes nothing
    (again_sync,) = again.get_task_instances()
    out = again_sync.xcom_pull(task_ids="sync")
    assert out["sync"]["new"] == 0 and out["sync"]["changed"] == 0 and out["sync"]["walks"] == ["horizon"]
    assert out["reconciliation"]["missing_at_vendor_count"] == 1


def test_a_templated_prefix_is_checked_once_rendered_in_a_dag_run(sandbox, tmp_path, monkeypatch):
    """A real run with an injection in the rendered prefix fails on try one (retries configured),
    before the ledger file gets a table or the sandbox a request; a good rendered prefix names the
    tables."""
    import sqlite3

    from tests.e2e.conftest import run_dag

    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    monkeypatch.setenv("ESIGN_LEDGER_DB", str(tmp_path / "ledger.db"))
    before = last_seq(sandbox)
    bad = run_dag("ledger_sync_templated_prefix", prefix="x (a TEXT); DROP TABLE esign_documents; --")
    assert bad.state == "failed"
    (ti,) = bad.get_task_instances()
    assert (ti.state, ti.try_number) == ("failed", 1)
    assert list_calls(sandbox, "esignbase", before) == []
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []

    sandbox.create_document("esignbase", signers=SIGNER, status="sent")
    good = run_dag("ledger_sync_templated_prefix", prefix="sig_")
    assert good.state == "success"
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT COUNT(*) FROM sig_documents").fetchone() == (1,)


def test_a_legalesign_deletion_shows_in_the_total_and_a_full_walk_marks_it(sandbox, db):
    """A permanently deleted document leaves no change behind: the one-item total page tells."""
    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    sandbox.seed_history(150, vendors=["legalesign"])
    ids = [sandbox.create_document("legalesign", signers=SIGNER, status="sent")["id"] for _ in range(3)]
    hook = get_hook("legalesign_default")
    store = store_for(db)
    engine.sync(hook, store)
    hook.delete_document_permanently(ids[2])
    result = engine.sync(hook, store)
    assert result.walks == ["changes", "full"] and result.deleted == [ids[2]]
    assert count(store, "SELECT COUNT(*) FROM esign_documents WHERE deleted_at_vendor IS NULL") == 152
    assert engine.sync(hook, store).walks == ["changes"]  # counts agree again: back to the cheap walk


def test_form_field_values_of_signed_legalesign_documents_are_stored(sandbox, tmp_path):
    sandbox.configure(sign_delay=None, pdf_delay=0, send_delay=0)
    from pathlib import Path

    from airflow_provider_esign.models import SendRequest, Signer

    pdf = str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
    hook = get_hook("legalesign_default")
    request = SendRequest("Lease", (Signer("Ada Lovelace", "ada@example.com"),), file=pdf)
    done = hook.send_document(request).document_id  # an uploaded PDF: a template with form fields
    sandbox.sign("legalesign", done)
    sandbox.create_document("legalesign", signers=SIGNER, status="sent")
    store = store_for(embedded_hook(str(tmp_path / "l.db")))
    result = engine.sync(hook, store, form_fields=True)
    fields = hook.get_form_data(done)
    assert fields  # the sandbox template has fields: the check below is not vacuous
    assert result.calls == 1 + 1  # one list page, one field read (only the signed document)
    stored = store.query("SELECT document_id, label FROM esign_form_fields ORDER BY position")
    assert stored == [(done, f.label) for f in fields]
