"""The ledger store on SQLite: additive DDL that leaves user columns alone, hash-compared upserts,
cursor and page in one transaction, deletions marked (never removed)."""

from __future__ import annotations

import sqlite3

import pytest

from airflow_provider_esign.ledger import rows as rowmod
from airflow_provider_esign.ledger import schema
from airflow_provider_esign.ledger.dialect import Dialect
from airflow_provider_esign.ledger.store import DocumentRow, LedgerStore
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus


class Hook:
    """The two DbApiHook attributes the store uses, on a SQLite file."""

    dialect_name = "sqlite"
    placeholder = "?"

    def __init__(self, path):
        self.path = path

    def get_conn(self):
        return sqlite3.connect(self.path)


@pytest.fixture
def store(tmp_path):
    s = LedgerStore(Hook(tmp_path / "l.db"), clock=lambda: 1_800_000_000.0)
    s.ensure_schema()
    yield s
    s.close()


def row(i: int, status=DocumentStatus.SENT, signed=False) -> DocumentRow:
    doc = DocumentInfo(
        f"d{i}",
        "fake",
        f"Doc {i}",
        status,
        20,
        created_at="2026-01-01T00:00:00Z",
        signers=[SignerInfo("a@x.io", status=SignerStatus.SIGNED if signed else SignerStatus.SENT)],
    )
    values = rowmod.document_values(doc, "c", None, f"af-{i}")
    signers = rowmod.signer_rows(doc, "c")
    return DocumentRow(values, signers, rowmod.row_hash(values, signers))


def test_schema_is_created_then_only_added_to(store):
    conn = store.conn
    conn.execute("ALTER TABLE esign_documents ADD COLUMN team TEXT")  # the user's own column
    conn.execute("UPDATE esign_documents SET team = 'x'")
    conn.execute("CREATE TABLE esign_old_signers (connection_id TEXT)")
    conn.commit()
    # a column this version needs is missing (as after an upgrade): it is added, nothing else changes
    conn.execute("ALTER TABLE esign_form_fields DROP COLUMN signer_email")
    conn.commit()
    ran = store.ensure_schema()
    assert ran == ["ALTER TABLE esign_form_fields ADD COLUMN signer_email TEXT"]
    assert "team" in schema.existing_columns(conn, "esign_documents")
    assert store.ensure_schema() == []


def test_a_rerun_of_the_same_page_writes_nothing(store):
    first = store.write_page("c", "fake", [row(1), row(2)], {"phase": "full", "cursor": 2})
    assert first.new == ["d1", "d2"]
    before = store.query("SELECT * FROM esign_documents ORDER BY document_id")
    again = store.write_page("c", "fake", [row(1), row(2)], {"phase": "full", "cursor": 2})
    assert again.new == [] and again.changed == [] and again.unchanged == 2
    assert store.query("SELECT * FROM esign_documents ORDER BY document_id") == before
    assert store.load_state("c") == {"phase": "full", "cursor": 2}


def test_a_changed_document_updates_its_row_and_replaces_its_signers(store):
    store.write_page("c", "fake", [row(1)], {})
    counts = store.write_page("c", "fake", [row(1, DocumentStatus.COMPLETED, signed=True)], {})
    assert counts.changed == ["d1"]
    assert store.query("SELECT status, idempotency_key FROM esign_documents") == [("COMPLETED", "af-1")]
    assert store.query("SELECT position, status FROM esign_signers") == [(0, "SIGNED")]


def test_a_page_and_its_cursor_commit_together_or_not_at_all(store, monkeypatch):
    store.write_page("c", "fake", [row(1)], {"cursor": 1})

    def broken(*args, **kwargs):
        raise RuntimeError("killed while saving the cursor")

    monkeypatch.setattr(store, "_save_state", broken)
    with pytest.raises(RuntimeError):
        store.write_page("c", "fake", [row(2)], {"cursor": 2})
    assert store.query("SELECT document_id FROM esign_documents") == [("d1",)]
    assert store.load_state("c") == {"cursor": 1}


def test_a_full_walk_marks_what_it_did_not_list_and_never_deletes(store):
    store.write_page("c", "fake", [row(1), row(2), row(3)], {}, seen_walk="w1")
    assert store.finish_full_walk("c", "w1") == []
    store.write_page("c", "fake", [row(1), row(3)], {}, seen_walk="w2")
    assert store.finish_full_walk("c", "w2") == ["d2"]
    assert store.live_count("c") == 2
    assert store.query("SELECT COUNT(*) FROM esign_documents") == [(3,)]
    assert store.query("SELECT COUNT(*) FROM esign_seen") == [(0,)]
    back = store.write_page("c", "fake", [row(2)], {})  # listed again: no longer deleted
    assert back.changed == ["d2"] and store.live_count("c") == 3


def test_postgres_dialect_uses_its_types_and_skips_conflicts():
    d = Dialect("postgresql", "%s")
    assert schema.create_sql(schema.SYNC_STATE, "x_", d).startswith(
        "CREATE TABLE x_sync_state (connection_id TEXT"
    )
    assert (
        d.insert("t", ["a", "b"], ["a"]) == "INSERT INTO t (a, b) VALUES (%s, %s) ON CONFLICT (a) DO NOTHING"
    )
    assert Dialect("mysql", "%s").insert("t", ["a"], ["a"]) == "INSERT INTO t (a) VALUES (%s)"


# ---------------------------------------------------------------- table prefix (SQL identifiers)
@pytest.mark.parametrize(
    "prefix",
    [
        "x; DROP TABLE y; --",
        "\uff45sign_",  # a Unicode letter: str.isalnum() accepts it
        "x\u0663_",  # an Arabic-Indic digit: isalnum() again
        "1esign_",  # a leading digit is no unquoted identifier
        "",
        "a" * 42,
        "esign-",
        5,
        None,
    ],
)
def test_a_prefix_outside_the_rule_is_refused_before_a_connection_opens(prefix):
    from airflow_provider_esign.exceptions import ESignValidationError

    class NoConnection(Hook):
        def get_conn(self):
            pytest.fail("opened a connection")

    with pytest.raises(ESignValidationError, match=r"table_prefix.*\^\[A-Za-z_\]\[A-Za-z0-9_\]\{0,40\}\$"):
        LedgerStore(NoConnection("unused"), prefix)


def test_prefixes_inside_the_rule_are_used(tmp_path):
    for prefix in ("_", "A", "esign_", "x" + "_9" * 20):
        s = LedgerStore(Hook(tmp_path / "p.db"), prefix)
        try:
            s.ensure_schema()
            assert s.table(schema.DOCUMENTS) == f"{prefix}documents"
        finally:
            s.close()


def test_insert_rows_refuses_names_that_are_not_the_tables_columns(store):
    with pytest.raises(ValueError, match="not columns"):
        store.insert_rows(schema.SENT, [{"dag_id": "d", "run_id) VALUES (1); --": "x"}])


# ---------------------------------------------------------------- MySQL's rowcount
class _MySQLCursor:
    """A sqlite3 cursor whose UPDATE rowcount counts the rows it *changed*, as MySQL's does
    (matched rows whose values stay the same count 0)."""

    def __init__(self, conn):
        self._conn = conn
        self._cursor = conn.cursor()
        self.rowcount = -1

    def _rows(self, table):
        return sorted(map(repr, self._conn.execute(f"SELECT * FROM {table}").fetchall()))

    def execute(self, sql, params=()):
        if sql.startswith("UPDATE "):
            table = sql.split()[1]
            before = self._rows(table)
            self._cursor.execute(sql, params)
            after = self._rows(table)
            self.rowcount = len([r for r in after if r not in before])
        else:
            self._cursor.execute(sql, params)
            self.rowcount = self._cursor.rowcount
        return self

    def executemany(self, sql, rows):
        self._cursor.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class _MySQLConnection:
    def __init__(self, path):
        self._conn = sqlite3.connect(path)

    def cursor(self):
        return _MySQLCursor(self._conn)

    def __getattr__(self, name):
        return getattr(self._conn, name)


class MySQLLikeHook(Hook):
    """A MySQL DbApiHook as the store sees it: dialect "mysql" (no ON CONFLICT), changed-row counts."""

    dialect_name = "mysql"

    def get_conn(self):
        return _MySQLConnection(self.path)


def test_the_double_counts_changed_rows_like_mysql(tmp_path):
    conn = _MySQLConnection(tmp_path / "m.db")
    conn.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)")
    conn.execute("INSERT INTO t VALUES ('a', '1')")
    cursor = conn.cursor()
    assert cursor.execute("UPDATE t SET v = '1' WHERE k = 'a'").rowcount == 0  # matched, unchanged
    assert cursor.execute("UPDATE t SET v = '2' WHERE k = 'a'").rowcount == 1


def test_an_unchanged_state_is_saved_again_on_mysql(tmp_path):
    """A rerun of a page (same state, same clock) leaves the state row unchanged: MySQL counts 0
    rows, which must not be taken for "no row yet" (a duplicate-key insert)."""
    s = LedgerStore(MySQLLikeHook(tmp_path / "m.db"), clock=lambda: 1_800_000_000.0)
    s.ensure_schema()
    try:
        s.write_page("c", "fake", [row(1)], {"phase": "full", "cursor": 1})
        again = s.write_page("c", "fake", [row(1)], {"phase": "full", "cursor": 1})
        assert again.unchanged == 1
        s.write_page("c", "fake", [row(2)], {"phase": "full", "cursor": 2})
        assert s.load_state("c") == {"phase": "full", "cursor": 2}
        assert s.query("SELECT COUNT(*) FROM esign_sync_state") == [(1,)]
    finally:
        s.close()


def test_a_failed_insert_rows_leaves_nothing_for_a_later_commit(tmp_path):
    """Two rows with one key on a database without ON CONFLICT: the second fails; the first must not
    be committed by the connection's next commit."""
    s = LedgerStore(MySQLLikeHook(tmp_path / "m.db"), clock=lambda: 1_800_000_000.0)
    s.ensure_schema()
    try:
        record = {"dag_id": "d", "run_id": "r", "task_id": "t", "map_index": -1, "document_id": "x"}
        with pytest.raises(sqlite3.IntegrityError):
            s.insert_rows(schema.SENT, [record, record])
        s.write_page("c", "fake", [row(1)], {})  # commits the connection
        assert s.query("SELECT COUNT(*) FROM esign_sent") == [(0,)]
    finally:
        s.close()
