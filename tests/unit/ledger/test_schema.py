"""The ledger's tables: a safe table prefix, CREATE for missing tables, ADD COLUMN for missing columns
(user columns left alone), nothing to do on a current schema."""

from __future__ import annotations

import sqlite3

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.ledger.dialect import Dialect
from airflow_provider_esign.ledger.schema import (
    DOCUMENTS,
    TABLES,
    create_sql,
    ensure_schema,
    existing_columns,
    sent_by_connection,
    validate_prefix,
)

SQLITE = Dialect("sqlite", "?")


@pytest.mark.parametrize("prefix", ["esign_", "_x", "A1_"])
def test_a_plain_identifier_is_a_prefix(prefix):
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["", "1x_", "esign-", "é_", "x" * 42, "x; DROP TABLE y", None, 5])
def test_anything_else_is_refused_naming_the_field(prefix):
    with pytest.raises(ESignValidationError) as excinfo:
        validate_prefix(prefix)
    assert excinfo.value.field == "table_prefix"


def test_create_sql_has_the_tables_key():
    sql = create_sql(DOCUMENTS, "esign_", SQLITE)
    assert sql.startswith("CREATE TABLE esign_documents (connection_id TEXT, document_id TEXT")
    assert sql.endswith(f"PRIMARY KEY ({', '.join(DOCUMENTS.key)}))")


def test_a_new_database_gets_every_table_then_nothing_more(tmp_path):
    conn = sqlite3.connect(tmp_path / "ledger.db")
    ran = ensure_schema(conn, "esign_", SQLITE)
    assert [s.split("(")[0].split()[-1] for s in ran] == [t.name("esign_") for t in TABLES]
    assert ensure_schema(conn, "esign_", SQLITE) == []


def test_missing_columns_are_added_and_user_columns_kept(tmp_path):
    conn = sqlite3.connect(tmp_path / "ledger.db")
    conn.execute("CREATE TABLE esign_documents (connection_id TEXT, document_id TEXT, my_note TEXT)")
    ran = ensure_schema(conn, "esign_", SQLITE)
    added = [s for s in ran if s.startswith("ALTER TABLE esign_documents")]
    assert len(added) == len(DOCUMENTS.columns) - 2
    assert "my_note" in existing_columns(conn, "esign_documents")
    assert existing_columns(conn, "no_such_table") is None


def test_records_of_a_connection_include_those_mirrored_before_it_had_an_id():
    assert (
        sent_by_connection("s", "?") == "(s.connection_id = ? OR (s.connection_id IS NULL AND s.vendor = ?))"
    )
