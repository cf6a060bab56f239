"""What differs between SQL databases for the ledger: column types, placeholders, "insert if new".

The ledger writes through any ``common.sql`` :class:`~airflow.providers.common.sql.hooks.sql.DbApiHook`.
Upserts are portable on purpose: each page reads the stored row hashes of its ids (one ``SELECT ...
IN``), inserts the new rows and updates only the changed ones (``executemany`` each), so a rerun
writes nothing and every database with a DB-API driver works. Only two things depend on the
database: the column types below, and an ``INSERT`` that skips a row another writer added
meanwhile (``ON CONFLICT DO NOTHING`` where the database has it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Logical column types of the ledger's tables.
ID, TEXT, TIME, INT, JSON = "id", "text", "time", "int", "json"

_DEFAULT_TYPES = {ID: "VARCHAR(255)", TEXT: "VARCHAR(4000)", TIME: "TIMESTAMP", INT: "BIGINT", JSON: "TEXT"}
_TYPES: dict[str, dict[str, str]] = {
    # SQLite: times as ISO 8601 text (its own date functions read that form), JSON as text.
    "sqlite": {ID: "TEXT", TEXT: "TEXT", TIME: "TEXT", INT: "INTEGER", JSON: "TEXT"},
    "postgresql": {ID: "TEXT", TEXT: "TEXT", TIME: "TIMESTAMPTZ", INT: "BIGINT", JSON: "JSONB"},
    "duckdb": {ID: "VARCHAR", TEXT: "VARCHAR", TIME: "TIMESTAMPTZ", INT: "BIGINT", JSON: "JSON"},
    "mysql": {ID: "VARCHAR(255)", TEXT: "TEXT", TIME: "DATETIME(6)", INT: "BIGINT", JSON: "JSON"},
    "snowflake": {ID: "VARCHAR", TEXT: "VARCHAR", TIME: "TIMESTAMP_TZ", INT: "NUMBER", JSON: "VARCHAR"},
}
#: Databases whose ``INSERT ... ON CONFLICT DO NOTHING`` skips rows already there.
_ON_CONFLICT = {"sqlite", "postgresql", "duckdb"}


@dataclass(frozen=True)
class Dialect:
    """The database-specific parts of the ledger's SQL.

    :param name: SQLAlchemy dialect name (``sqlite``, ``postgresql``, ...).
    :param placeholder: The DB-API driver's parameter marker (``?`` or ``%s``).
    """

    name: str
    placeholder: str

    @property
    def skips_conflicts(self) -> bool:
        """Whether its inserts skip an existing key (``ON CONFLICT DO NOTHING``)."""
        return self.name in _ON_CONFLICT

    def type(self, logical: str) -> str:
        return _TYPES.get(self.name, _DEFAULT_TYPES)[logical]

    def marks(self, count: int) -> str:
        return ", ".join([self.placeholder] * count)

    def insert(self, table: str, columns: list[str], key: list[str]) -> str:
        """An insert of one row (for ``executemany``) that skips an existing key where it can."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({self.marks(len(columns))})"
        if self.name in _ON_CONFLICT:
            sql += f" ON CONFLICT ({', '.join(key)}) DO NOTHING"
        return sql

    def time_value(self, value: str | None) -> Any:
        """A time for this database: ISO 8601 text everywhere (every driver and database above
        reads it; SQLite keeps it as text)."""
        return value


def dialect_of(hook: Any) -> Dialect:
    """The dialect of a ``DbApiHook`` (its SQLAlchemy dialect name and its placeholder)."""
    name = "default"
    try:
        name = str(hook.dialect_name)
    except Exception:  # no SQLAlchemy URI for this hook: fall back to the connection type
        name = str(getattr(getattr(hook, "connection", None), "conn_type", "") or "default")
    if name in ("postgres", "redshift"):
        name = "postgresql"
    placeholder = getattr(hook, "placeholder", None) or "%s"
    return Dialect(name, str(placeholder))
