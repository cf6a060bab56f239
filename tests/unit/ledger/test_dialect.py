"""The database-specific parts of the ledger's SQL: column types, placeholders, "insert if new"."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_esign.ledger.dialect import ID, JSON, TIME, Dialect, dialect_of


def test_column_types_per_database_and_a_portable_default():
    assert Dialect("postgresql", "%s").type(TIME) == "TIMESTAMPTZ"
    assert Dialect("sqlite", "?").type(JSON) == "TEXT"
    assert Dialect("oracle", ":1").type(ID) == "VARCHAR(255)"


def test_an_insert_skips_an_existing_key_where_the_database_can():
    assert Dialect("sqlite", "?").insert("t", ["a", "b"], ["a"]) == (
        "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING"
    )
    mysql = Dialect("mysql", "%s")
    assert mysql.insert("t", ["a", "b"], ["a"]) == "INSERT INTO t (a, b) VALUES (%s, %s)"
    assert not mysql.skips_conflicts and Dialect("duckdb", "?").skips_conflicts


class Hook:
    def __init__(self, dialect_name=None, placeholder=None, conn_type=None):
        self._dialect_name = dialect_name
        self.placeholder = placeholder
        self.connection = SimpleNamespace(conn_type=conn_type)

    @property
    def dialect_name(self):
        if self._dialect_name is None:
            raise ValueError("no SQLAlchemy URI")
        return self._dialect_name


@pytest.mark.parametrize(
    ("hook", "dialect"),
    [
        (Hook("sqlite", "?"), Dialect("sqlite", "?")),
        (Hook("postgres"), Dialect("postgresql", "%s")),  # the connection type's name, and %s by default
        (Hook(None, None, conn_type="redshift"), Dialect("postgresql", "%s")),
        (Hook(None, "?", conn_type=None), Dialect("default", "?")),
    ],
)
def test_dialect_of_a_hook(hook, dialect):
    assert dialect_of(hook) == dialect
