"""The ledger's tables: columns, keys, and DDL created on first use and evolved additively.

Evolution only ever adds: a table that is missing is created, a column this version needs and the
table lacks is added (``ALTER TABLE ... ADD COLUMN``). Nothing is dropped, renamed or retyped, and a
column a user added to a ledger table is left alone (the ledger names its columns in every statement,
so extra columns just keep their values or defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.ledger.dialect import ID, INT, JSON, TEXT, TIME, Dialect

#: A table prefix: an ASCII letter or underscore, then up to 40 ASCII letters, digits or underscores.
#: The prefix is written into SQL as part of table names (identifiers cannot be bound parameters), so
#: it must be a plain unquoted identifier in every database: no Unicode letters or digits (which
#: ``str.isalnum`` accepts), no leading digit, and short enough that prefix + the longest suffix
#: (``reconciliation``) stays under the 63-character limit of PostgreSQL.
PREFIX_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")
PREFIX_RULE = (
    "must match ^[A-Za-z_][A-Za-z0-9_]{0,40}$ (an ASCII letter or underscore, then up to 40 ASCII "
    "letters, digits or underscores)"
)


def validate_prefix(prefix: Any) -> str:
    """The table prefix, checked; raises :class:`ESignValidationError` naming ``table_prefix``.

    :param prefix: The prefix (a rendered template field arrives here as whatever it rendered to).
    """
    if not isinstance(prefix, str) or PREFIX_PATTERN.fullmatch(prefix) is None:
        raise ESignValidationError("table_prefix", PREFIX_RULE)
    return prefix


@dataclass(frozen=True)
class Table:
    """One ledger table: ``suffix`` after the prefix, ``columns`` (name, logical type) and its key."""

    suffix: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]

    def name(self, prefix: str) -> str:
        return f"{prefix}{self.suffix}"

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


DOCUMENTS = Table(
    "documents",
    (
        ("connection_id", ID),
        ("document_id", ID),
        ("vendor", ID),
        ("name", TEXT),
        ("status", ID),
        ("vendor_status", TEXT),
        ("created_at", TIME),
        ("modified_at", TIME),
        ("completed_at", TIME),
        ("expires_at", TIME),
        ("metadata", JSON),
        ("idempotency_key", TEXT),
        ("sent_by_dag_id", ID),
        ("sent_by_run_id", TEXT),
        ("sent_by_task_id", ID),
        ("sent_by_map_index", INT),
        ("first_seen_at", TIME),
        ("last_seen_at", TIME),
        ("deleted_at_vendor", TIME),
        ("row_hash", ID),
    ),
    ("connection_id", "document_id"),
)
SIGNERS = Table(
    "signers",
    (
        ("connection_id", ID),
        ("document_id", ID),
        ("position", INT),
        ("email", TEXT),
        ("name", TEXT),
        ("role", TEXT),
        ("status", ID),
        ("vendor_status", TEXT),
        ("signed_at", TIME),
    ),
    ("connection_id", "document_id", "position"),
)
FORM_FIELDS = Table(
    "form_fields",
    (
        ("connection_id", ID),
        ("document_id", ID),
        ("position", INT),
        ("label", TEXT),
        ("value", TEXT),
        ("field_type", ID),
        ("signer_email", TEXT),
    ),
    ("connection_id", "document_id", "position"),
)
SYNC_STATE = Table(
    "sync_state",
    (
        ("connection_id", ID),
        ("vendor", ID),
        ("state", JSON),
        ("documents", INT),
        ("updated_at", TIME),
        ("last_success_at", TIME),
    ),
    ("connection_id",),
)
#: The ids a full walk listed, kept until the walk ends (a resumed walk keeps its earlier pages').
SEEN = Table(
    "seen",
    (("connection_id", ID), ("walk_id", ID), ("document_id", ID)),
    ("connection_id", "walk_id", "document_id"),
)
#: What Airflow's send tasks recorded (their ``document`` XCom), mirrored once per task instance.
SENT = Table(
    "sent",
    (
        ("dag_id", ID),
        ("run_id", ID),
        ("task_id", ID),
        ("map_index", INT),
        ("vendor", ID),
        ("document_id", ID),
        ("name", TEXT),
        ("recorded_at", TIME),
        # The send task's e-signature connection: two connections of one vendor are two accounts,
        # so reconciliation compares a record only with its own connection's documents. Added after
        # the first release (ensure_schema adds it; rows mirrored before have it NULL).
        ("connection_id", ID),
    ),
    ("dag_id", "run_id", "task_id", "map_index"),
)
RECONCILIATION = Table(
    "reconciliation",
    (
        ("connection_id", ID),
        ("sync_id", ID),
        ("kind", ID),
        ("document_id", ID),
        ("vendor", ID),
        ("name", TEXT),
        ("status", ID),
        ("since", TIME),
        ("detail", JSON),
        ("recorded_at", TIME),
    ),
    ("connection_id", "sync_id", "kind", "document_id"),
)


def sent_by_connection(alias: str, placeholder: str) -> str:
    """SQL condition (two parameters: connection id, vendor) on the ``sent`` table aliased ``alias``:
    the records of that connection; a record mirrored before ``connection_id`` existed (NULL) is
    matched on its vendor, as then."""
    return (
        f"({alias}.connection_id = {placeholder} OR "
        f"({alias}.connection_id IS NULL AND {alias}.vendor = {placeholder}))"
    )


TABLES = (DOCUMENTS, SIGNERS, FORM_FIELDS, SYNC_STATE, SEEN, SENT, RECONCILIATION)
#: The tables downstream users read (announced as the ledger's datasets).
PUBLIC_TABLES = (DOCUMENTS, SIGNERS, FORM_FIELDS, SYNC_STATE, RECONCILIATION)


def existing_columns(conn: Any, table: str) -> list[str] | None:
    """The table's columns, or None when it does not exist (the failed probe is rolled back)."""
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        return [str(d[0]).lower() for d in cursor.description or ()]
    except Exception:
        conn.rollback()
        return None
    finally:
        cursor.close()


def create_sql(table: Table, prefix: str, dialect: Dialect) -> str:
    columns = ", ".join(f"{name} {dialect.type(kind)}" for name, kind in table.columns)
    return f"CREATE TABLE {table.name(prefix)} ({columns}, PRIMARY KEY ({', '.join(table.key)}))"


def ensure_schema(conn: Any, prefix: str, dialect: Dialect) -> list[str]:
    """Create missing tables and add missing columns; returns the statements run (committed)."""
    ran: list[str] = []
    for table in TABLES:
        name = table.name(prefix)
        have = existing_columns(conn, name)
        if have is None:
            # The primary key is the only index on purpose: a second one led by connection_id (say
            # for status reports) lured PostgreSQL's planner, before its first ANALYZE, away from the
            # key for the per-page id lookups, making each a scan of all the connection's rows.
            statements = [create_sql(table, prefix, dialect)]
        else:
            statements = [
                f"ALTER TABLE {name} ADD COLUMN {column} {dialect.type(kind)}"
                for column, kind in table.columns
                if column not in have
            ]
        cursor = conn.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
                ran.append(statement)
        finally:
            cursor.close()
        conn.commit()
    return ran
