"""The ledger's reads and writes on one DB-API connection: a page and its cursor in one transaction.

Upserts compare row hashes (see :mod:`~airflow_provider_esign.ledger.dialect`): a page costs one
``SELECT ... IN`` of its ids, then an ``executemany`` insert of the new rows and an ``executemany``
update of the changed ones; unchanged rows are not written at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_esign.ledger import schema
from airflow_provider_esign.ledger.dialect import Dialect, dialect_of
from airflow_provider_esign.ledger.rows import now_iso

#: Normalized statuses of a document still waiting for signatures.
OPEN_STATUSES = ("DRAFT", "SENT", "PARTIALLY_SIGNED", "SIGNED")
_IN_CHUNK = 500  # ids per "IN (...)" list, below every database's parameter limit


@dataclass
class DocumentRow:
    """What a page writes for one document: its vendor-owned values, signers, optional form fields."""

    values: dict[str, Any]
    signers: list[dict[str, Any]]
    row_hash: str
    fields: list[dict[str, Any]] | None = None


@dataclass
class PageCounts:
    """What one committed page changed."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


class LedgerStore:
    """The ledger tables behind one ``DbApiHook``.

    :param db_hook: Any ``common.sql`` DbApiHook (its ``get_conn()`` connection is used directly).
    :param prefix: Table name prefix, checked here against :data:`~.schema.PREFIX_PATTERN` (every
        statement interpolates it into table names).
    :param clock: Wall clock (epoch seconds), injectable for tests.
    """

    def __init__(self, db_hook: Any, prefix: str = "esign_", clock: Callable[[], float] = time.time) -> None:
        self.prefix = schema.validate_prefix(prefix)  # before any connection is opened
        self.db_hook = db_hook
        self.dialect: Dialect = dialect_of(db_hook)
        self.clock = clock
        self.conn = db_hook.get_conn()

    def close(self) -> None:
        self.conn.close()

    def table(self, table: schema.Table) -> str:
        return table.name(self.prefix)

    def ensure_schema(self) -> list[str]:
        return schema.ensure_schema(self.conn, self.prefix, self.dialect)

    # ------------------------------------------------------------------ reads
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def load_state(self, connection_id: str) -> dict[str, Any] | None:
        p = self.dialect.placeholder
        rows = self.query(
            f"SELECT state FROM {self.table(schema.SYNC_STATE)} WHERE connection_id = {p}", (connection_id,)
        )
        if not rows or rows[0][0] is None:
            return None
        value = rows[0][0]
        return value if isinstance(value, dict) else json.loads(value)

    def live_count(self, connection_id: str) -> int:
        p = self.dialect.placeholder
        return int(
            self.query(
                f"SELECT COUNT(*) FROM {self.table(schema.DOCUMENTS)} "
                f"WHERE connection_id = {p} AND deleted_at_vendor IS NULL",
                (connection_id,),
            )[0][0]
        )

    def open_since(self, connection_id: str) -> Any:
        """Creation time of the oldest document still open (a datetime or ISO text), or None."""
        p = self.dialect.placeholder
        marks = self.dialect.marks(len(OPEN_STATUSES))
        return self.query(
            f"SELECT MIN(created_at) FROM {self.table(schema.DOCUMENTS)} WHERE connection_id = {p} "
            f"AND deleted_at_vendor IS NULL AND status IN ({marks})",
            (connection_id, *OPEN_STATUSES),
        )[0][0]

    def counts(self, connection_id: str) -> dict[str, int]:
        """Rows per public table for the connection (the asset event's extra)."""
        p = self.dialect.placeholder
        out = {}
        for table in (schema.DOCUMENTS, schema.SIGNERS, schema.FORM_FIELDS):
            out[self.table(table)] = int(
                self.query(
                    f"SELECT COUNT(*) FROM {self.table(table)} WHERE connection_id = {p}", (connection_id,)
                )[0][0]
            )
        return out

    # ------------------------------------------------------------------ writes
    def _executemany(self, cursor: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            cursor.executemany(sql, rows)

    def _stored_hashes(self, cursor: Any, connection_id: str, ids: list[str]) -> dict[str, tuple[Any, Any]]:
        p = self.dialect.placeholder
        found: dict[str, tuple[Any, Any]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            part = ids[start : start + _IN_CHUNK]
            cursor.execute(
                f"SELECT document_id, row_hash, deleted_at_vendor FROM {self.table(schema.DOCUMENTS)} "
                f"WHERE connection_id = {p} AND document_id IN ({self.dialect.marks(len(part))})",
                (connection_id, *part),
            )
            found.update({row[0]: (row[1], row[2]) for row in cursor.fetchall()})
        return found

    def _classify(
        self, cursor: Any, connection_id: str, unique: dict[str, DocumentRow], assume_new: bool
    ) -> tuple[list[DocumentRow], list[DocumentRow]]:
        """The page's new rows and its changed ones (hash differs, or marked deleted before)."""
        lookup = not (assume_new and self.dialect.skips_conflicts)
        stored = self._stored_hashes(cursor, connection_id, list(unique)) if lookup else {}
        new = [r for i, r in unique.items() if i not in stored]
        changed = [
            r
            for i, r in unique.items()
            if i in stored and (stored[i][0] != r.row_hash or stored[i][1] is not None)
        ]
        return new, changed

    def moved_ids(self, connection_id: str, rows: list[DocumentRow], assume_new: bool = False) -> set[str]:
        """Ids of the rows :meth:`write_page` would insert or update (read only, nothing written):
        what needs extra reads (form fields) before the page is written."""
        unique = {row.values["document_id"]: row for row in rows}
        cursor = self.conn.cursor()
        try:
            new, changed = self._classify(cursor, connection_id, unique, assume_new)
        finally:
            cursor.close()
        return {r.values["document_id"] for r in (*new, *changed)}

    def write_page(
        self,
        connection_id: str,
        vendor: str,
        rows: list[DocumentRow],
        state: dict[str, Any],
        seen_walk: str | None = None,
        documents_total: int | None = None,
        assume_new: bool = False,
    ) -> PageCounts:
        """Upsert a page's documents (and signers, form fields), record its ids as seen by a full
        walk, and store the walk's state: one transaction. A row's ``fields`` are written with it, so
        a new row hash is never committed without the field values read for it.

        :param assume_new: The page comes from the first walk of a connection without rows: where the
            database skips existing keys on insert, the stored-hash lookup is skipped (an id a shifting
            list repeats is then left as first written; the next sync's changes walk corrects it).
        """
        now = now_iso(self.clock())
        unique = {row.values["document_id"]: row for row in rows}
        counts = PageCounts()
        cursor = self.conn.cursor()
        try:
            new, changed = self._classify(cursor, connection_id, unique, assume_new)
            counts.new = [r.values["document_id"] for r in new]
            counts.changed = [r.values["document_id"] for r in changed]
            counts.unchanged = len(unique) - len(new) - len(changed)
            self._insert_documents(cursor, new, now)
            self._update_documents(cursor, changed, now)
            self._replace_children(cursor, connection_id, new, changed)
            if seen_walk is not None:
                self._executemany(
                    cursor,
                    self.dialect.insert(
                        self.table(schema.SEEN), schema.SEEN.column_names, list(schema.SEEN.key)
                    ),
                    [(connection_id, seen_walk, i) for i in unique],
                )
            self._save_state(cursor, connection_id, vendor, state, now, documents_total)
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cursor.close()
        return counts

    def _insert_documents(self, cursor: Any, rows: list[DocumentRow], now: str) -> None:
        columns = [*rows[0].values, "first_seen_at", "last_seen_at", "row_hash"] if rows else []
        sql = self.dialect.insert(self.table(schema.DOCUMENTS), columns, list(schema.DOCUMENTS.key))
        self._executemany(cursor, sql, [(*r.values.values(), now, now, r.row_hash) for r in rows])

    def _update_documents(self, cursor: Any, rows: list[DocumentRow], now: str) -> None:
        if not rows:
            return
        p = self.dialect.placeholder
        names = [c for c in rows[0].values if c not in schema.DOCUMENTS.key]
        sets = ", ".join(f"{c} = {p}" for c in names)
        sql = (
            f"UPDATE {self.table(schema.DOCUMENTS)} SET {sets}, last_seen_at = {p}, row_hash = {p}, "
            f"deleted_at_vendor = NULL WHERE connection_id = {p} AND document_id = {p}"
        )
        self._executemany(
            cursor,
            sql,
            [
                (
                    *(r.values[c] for c in names),
                    now,
                    r.row_hash,
                    r.values["connection_id"],
                    r.values["document_id"],
                )
                for r in rows
            ],
        )

    def _replace_children(
        self, cursor: Any, connection_id: str, new: list[DocumentRow], changed: list[DocumentRow]
    ) -> None:
        p = self.dialect.placeholder
        for table, attr in ((schema.SIGNERS, "signers"), (schema.FORM_FIELDS, "fields")):
            stale = [r.values["document_id"] for r in changed if attr == "signers" or r.fields is not None]
            self._executemany(
                cursor,
                f"DELETE FROM {self.table(table)} WHERE connection_id = {p} AND document_id = {p}",
                [(connection_id, i) for i in stale],
            )
            children = [child for r in (*new, *changed) for child in (getattr(r, attr) or [])]
            if children:
                names = list(children[0])
                self._executemany(
                    cursor,
                    self.dialect.insert(self.table(table), names, list(table.key)),
                    [tuple(c[n] for n in names) for c in children],
                )

    def _save_state(
        self,
        cursor: Any,
        connection_id: str,
        vendor: str,
        state: dict[str, Any],
        now: str,
        documents_total: int | None,
    ) -> None:
        p = self.dialect.placeholder
        table = self.table(schema.SYNC_STATE)
        done = state.get("phase") == "idle"
        # Look first, then update or insert: an UPDATE's rowcount cannot tell "no such row", since
        # MySQL (and MariaDB) count the rows it *changed*, not matched, so an unchanged state counts
        # 0 and an insert would then hit the existing key.
        cursor.execute(f"SELECT 1 FROM {table} WHERE connection_id = {p}", (connection_id,))
        if cursor.fetchall():
            cursor.execute(
                f"UPDATE {table} SET state = {p}, updated_at = {p}, documents = COALESCE({p}, documents), "
                f"last_success_at = CASE WHEN {p} = 1 THEN {p} ELSE last_success_at END WHERE connection_id = {p}",
                (json.dumps(state), now, documents_total, 1 if done else 0, now, connection_id),
            )
        else:
            cursor.execute(
                self.dialect.insert(table, schema.SYNC_STATE.column_names, list(schema.SYNC_STATE.key)),
                (connection_id, vendor, json.dumps(state), documents_total, now, now if done else None),
            )

    def finish_full_walk(self, connection_id: str, walk_id: str | None) -> list[str]:
        """Mark every live document the full walk ``walk_id`` did not list as deleted at the vendor
        (never delete a row); forget the walk's seen ids. Returns the ids marked."""
        p = self.dialect.placeholder
        documents, seen = self.table(schema.DOCUMENTS), self.table(schema.SEEN)
        cursor = self.conn.cursor()
        try:
            gone: list[str] = []
            if walk_id is not None:
                cursor.execute(
                    f"SELECT d.document_id FROM {documents} d WHERE d.connection_id = {p} AND "
                    f"d.deleted_at_vendor IS NULL AND NOT EXISTS (SELECT 1 FROM {seen} s WHERE "
                    f"s.connection_id = d.connection_id AND s.walk_id = {p} AND s.document_id = d.document_id)",
                    (connection_id, walk_id),
                )
                gone = [row[0] for row in cursor.fetchall()]
                now = now_iso(self.clock())
                self._executemany(
                    cursor,
                    f"UPDATE {documents} SET deleted_at_vendor = {p} WHERE connection_id = {p} AND document_id = {p}",
                    [(now, connection_id, i) for i in gone],
                )
            cursor.execute(f"DELETE FROM {seen} WHERE connection_id = {p}", (connection_id,))
            if self.dialect.name == "postgresql":
                # Fresh statistics after a full walk: without them the planner may scan the whole
                # table for each page's id lookup instead of using the primary key.
                cursor.execute(f"ANALYZE {documents}")
            self.conn.commit()
            return gone
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            cursor.close()

    def insert_rows(self, table: schema.Table, rows: list[dict[str, Any]]) -> None:
        """Insert rows (skipping existing keys where the database can), committed; all or none.

        :param rows: Dicts keyed by the table's own column names (written into the SQL: anything else
            is refused).
        """
        if not rows:
            return
        names = list(rows[0])
        unknown = [n for n in names if n not in table.column_names]
        if unknown:
            raise ValueError(f"not columns of the ledger's {table.suffix} table: {unknown}")
        cursor = self.conn.cursor()
        try:
            self._executemany(
                cursor,
                self.dialect.insert(self.table(table), names, list(table.key)),
                [tuple(r[n] for n in names) for r in rows],
            )
            self.conn.commit()
        except BaseException:
            # Without this the rows inserted before the failing one stay in the open transaction
            # and the connection's next commit would keep them.
            self.conn.rollback()
            raise
        finally:
            cursor.close()
