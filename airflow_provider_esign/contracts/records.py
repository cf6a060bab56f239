"""What this Airflow sent: the send tasks' contract records in Airflow's XCom table.

``SendDocumentOperator`` pushes one small record per sent document under the XCom key
``esign_contract`` (connection, vendor, document id, name, signers, status at send time, sent and
expiry times, vendor link). The page reads only those rows, with the DAG, run, task and map index
Airflow stores beside every XCom. Records live and die with their task instance: clearing a send task
removes its record until the retry pushes it again, deleting a DAG run removes its records.

Per page view the database answers one ``count``/``max`` over the ``idx_xcom_key`` index (has
anything changed?) and one read of the page's 50 records. A narrow in-memory index of every record
(key, DAG, connection, document id, status at send, sent time, name), reloaded only when that
signature changes, serves the header counts, the status cache's ids and every view without a
database filter (any order, any page). Views with filters the database answers (connection, DAG,
age, text search) are filtered, ordered and paged in SQL, the total coming with the page (a window
count); a status filter or order, which only the status cache knows, filters the matching index
entries in Python.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from airflow_provider_esign.contracts import CONTRACT_XCOM_KEY

#: Sort keys the database can order by; ``status`` is ordered in Python (live state).
SQL_SORTS = ("sent", "name", "dag", "connection")
SORTS = (*SQL_SORTS, "status")
MAX_PER_PAGE = 200


class Stub(NamedTuple):
    """One sent document, without its name and signers (what counts and status filters need)."""

    key: tuple[int, str, int]  # the XCom row: (dag_run_id, task_id, map_index)
    dag_id: str
    conn_id: str
    document_id: str
    send_status: str
    sent_at: dt.datetime
    name: str = ""


@dataclass(frozen=True)
class Record:
    """One sent document, as its send task recorded it."""

    key: tuple[int, str, int]
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    sent_at: dt.datetime
    value: dict[str, Any] = field(default_factory=dict)

    @property
    def conn_id(self) -> str:
        return str(self.value.get("conn_id") or "")

    @property
    def document_id(self) -> str:
        return str(self.value.get("document_id") or "")


@dataclass(frozen=True)
class Filters:
    """The page's filters, validated (see :func:`parse_filters`)."""

    conn_id: str | None = None
    status: str | None = None
    older_than_days: float | None = None
    search: str | None = None
    dag_id: str | None = None
    sort: str = "sent"
    descending: bool = True
    page: int = 1
    per_page: int = 50

    @property
    def needs_live_status(self) -> bool:
        return self.status is not None or self.sort == "status"

    @property
    def sql_filtered(self) -> bool:
        """Whether a filter the database answers is set (besides the user's DAG permissions)."""
        return any(v is not None for v in (self.conn_id, self.older_than_days, self.search, self.dag_id))


#: In-memory orders of the index for :data:`SQL_SORTS` other than ``sent`` (ties: newest first).
_INDEX_SORTS: dict[str, Any] = {
    "name": lambda stub: stub.name.lower(),
    "dag": lambda stub: stub.dag_id,
    "connection": lambda stub: stub.conn_id,
}


def _utc(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, (str, bytes)):  # some backends hand JSON columns back as text
        import json

        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class RecordStore:
    """SQL access to the contract records (Airflow's own session and models)."""

    def __init__(self, now: Any = None) -> None:
        self._now = now or (lambda: dt.datetime.now(dt.timezone.utc))
        self._lock = threading.Lock()
        self._signature: tuple[Any, ...] | None = None
        self._all: list[Stub] = []

    # ------------------------------------------------------------------ query pieces
    @staticmethod
    def _columns() -> Any:
        from airflow.models.xcom import XComModel

        value = XComModel.value
        return XComModel, value

    def _visible(self, query: Any, dag_ids: Collection[str] | None) -> Any:
        from airflow.models.xcom import XComModel

        query = query.where(XComModel.key == CONTRACT_XCOM_KEY)
        if dag_ids is not None:
            query = query.where(XComModel.dag_id.in_(sorted(dag_ids)))
        return query

    def _filtered(self, query: Any, filters: Filters) -> Any:
        from sqlalchemy import String, cast, func, or_

        x, value = self._columns()
        if filters.conn_id:
            query = query.where(value["conn_id"].as_string() == filters.conn_id)
        if filters.dag_id:
            query = query.where(x.dag_id == filters.dag_id)
        if filters.older_than_days is not None:
            bound = self._now() - dt.timedelta(days=filters.older_than_days)
            query = query.where(x.timestamp < bound)
        if filters.search:
            pattern = _like(filters.search)
            query = query.where(
                or_(
                    func.lower(value["name"].as_string()).like(pattern, escape="\\"),
                    func.lower(cast(value["signers"], String)).like(pattern, escape="\\"),
                    func.lower(value["document_id"].as_string()).like(pattern, escape="\\"),
                )
            )
        return query

    def _order(self, query: Any, filters: Filters) -> Any:
        from sqlalchemy import func

        x, value = self._columns()
        column = {
            "sent": x.timestamp,
            "name": func.lower(value["name"].as_string()),
            "dag": x.dag_id,
            "connection": value["conn_id"].as_string(),
        }.get(filters.sort, x.timestamp)
        primary = column.desc() if filters.descending else column.asc()
        # A total order, so paging never shows a row twice or skips one.
        return query.order_by(primary, x.dag_run_id.desc(), x.task_id, x.map_index)

    def _stub_query(self) -> Any:
        from sqlalchemy import select

        x, value = self._columns()
        return select(
            x.dag_run_id,
            x.task_id,
            x.map_index,
            x.dag_id,
            value["conn_id"].as_string(),
            value["document_id"].as_string(),
            value["status"].as_string(),
            x.timestamp,
            value["name"].as_string(),
        )

    @staticmethod
    def _stubs(rows: Iterable[Any]) -> list[Stub]:
        return [
            Stub((run, task, index), dag, conn or "", doc or "", status or "", _utc(sent), name or "")
            for run, task, index, dag, conn, doc, status, sent, name in rows
        ]

    # ------------------------------------------------------------------ public reads
    def all_stubs(self, session: Any) -> list[Stub]:
        """Every sent document, newest first (for the header counts and the status cache).

        Kept in memory while the records do not change: each call costs one ``count``/``max`` over the
        ``idx_xcom_key`` index, and the rows are read again only when a send added, or a clear or run
        deletion removed, a record (either changes the count or the newest timestamp).
        """
        from airflow.models.xcom import XComModel as x
        from sqlalchemy import func, select

        signature = tuple(
            session.execute(
                select(func.count(), func.max(x.timestamp)).where(x.key == CONTRACT_XCOM_KEY)
            ).one()
        )
        with self._lock:
            if signature != self._signature:
                query = self._stub_query().where(x.key == CONTRACT_XCOM_KEY)
                self._all = self._stubs(session.execute(query.order_by(x.timestamp.desc())))
                self._signature = signature
            return self._all

    def _visible_stubs(self, dag_ids: Collection[str] | None, session: Any) -> list[Stub]:
        everything = self.all_stubs(session)
        if dag_ids is None:
            return everything
        allowed = set(dag_ids)
        return [stub for stub in everything if stub.dag_id in allowed]

    def page_keys(
        self, filters: Filters, dag_ids: Collection[str] | None, session: Any
    ) -> tuple[int, list[Stub]]:
        """The total matching ``filters`` and the stubs of the page, paged in SQL, when neither the
        filters nor the order need the live status; else (total -1) every stub matching the filters
        the database can answer, newest first, for the caller to filter by status, sort and page."""
        from airflow.models.xcom import XComModel as x
        from sqlalchemy import func, select

        if not filters.needs_live_status and not filters.sql_filtered:
            # No filter for the database: the in-memory index (newest first) orders and pages.
            visible = self._visible_stubs(dag_ids, session)
            if filters.sort != "sent":
                visible = sorted(visible, key=_INDEX_SORTS[filters.sort])
            if filters.descending == (filters.sort != "sent"):
                visible = visible[::-1]
            offset = (filters.page - 1) * filters.per_page
            return len(visible), visible[offset : offset + filters.per_page]
        if filters.needs_live_status:
            if filters.sql_filtered:
                keyed = {stub.key: stub for stub in self.all_stubs(session)}
                query = self._filtered(
                    self._visible(select(x.dag_run_id, x.task_id, x.map_index), dag_ids), filters
                )
                found = {tuple(row) for row in session.execute(query)}
                return -1, [keyed[k] for k in keyed if k in found]
            return -1, list(self._visible_stubs(dag_ids, session))
        query = self._filtered(self._visible(self._stub_query(), dag_ids), filters)
        offset = (filters.page - 1) * filters.per_page
        # One pass: the total comes with the page (a window count), not from a second query.
        counted = query.add_columns(func.count().over())
        rows = list(session.execute(self._order(counted, filters).limit(filters.per_page).offset(offset)))
        if rows:
            return int(rows[0][-1]), self._stubs(row[:-1] for row in rows)
        total = session.scalar(select(func.count()).select_from(query.subquery()))  # past the last page
        return int(total or 0), []

    def records(self, keys: list[tuple[int, str, int]], session: Any) -> list[Record]:
        """The full records of ``keys``, in that order."""
        from airflow.models.xcom import XComModel as x
        from sqlalchemy import and_, or_, select

        if not keys:
            return []
        query = select(x.dag_run_id, x.task_id, x.map_index, x.dag_id, x.run_id, x.timestamp, x.value).where(
            x.key == CONTRACT_XCOM_KEY,
            or_(*(and_(x.dag_run_id == r, x.task_id == t, x.map_index == m) for r, t, m in keys)),
        )
        found = {
            (r, t, m): Record((r, t, m), dag_id, run_id, t, m, _utc(ts), _json(value))
            for r, t, m, dag_id, run_id, ts, value in session.execute(query)
        }
        return [found[k] for k in keys if k in found]

    def find(self, conn_id: str, document_id: str, session: Any) -> list[Record]:
        """The records of one document (normally one; a document re-adopted by another run: more)."""
        from sqlalchemy import select

        x, value = self._columns()
        query = self._visible(select(x.dag_run_id, x.task_id, x.map_index), None).where(
            value["document_id"].as_string() == document_id, value["conn_id"].as_string() == conn_id
        )
        return self.records([tuple(row) for row in session.execute(query)], session)  # type: ignore[misc]


def parse_filters(params: dict[str, str]) -> Filters:
    """Validate the query string; :class:`ESignValidationError` names the field and the rule."""
    from airflow_provider_esign.exceptions import ESignValidationError
    from airflow_provider_esign.models import DocumentStatus

    def text(name: str, limit: int = 200) -> str | None:
        value = (params.get(name) or "").strip()
        if len(value) > limit:
            raise ESignValidationError(name, f"must be at most {limit} characters")
        return value or None

    def number(name: str, default: float | None, low: float, high: float, integer: bool) -> Any:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise ESignValidationError(name, f"must be {kind}") from None
        if not low <= value <= high:
            raise ESignValidationError(name, f"must be between {low:g} and {high:g}")
        return value

    status = text("status")
    if status is not None:
        status = status.upper()
        if status not in {s.value for s in DocumentStatus} | {"IN_FLIGHT", "FAILED"}:
            allowed = ", ".join([*(s.value for s in DocumentStatus), "IN_FLIGHT", "FAILED"])
            raise ESignValidationError("status", f"must be one of {allowed}")
    sort = (params.get("sort") or "-sent").strip()
    descending = sort.startswith("-")
    if sort.lstrip("-") not in SORTS:
        raise ESignValidationError("sort", f"must be one of {', '.join(SORTS)} (prefix - for descending)")
    return Filters(
        conn_id=text("conn_id"),
        status=status,
        older_than_days=number("older_than_days", None, 0, 36_500, integer=False),
        search=text("q"),
        dag_id=text("dag_id"),
        sort=sort.lstrip("-"),
        descending=descending,
        page=number("page", 1, 1, 1_000_000, integer=True),
        per_page=number("per_page", 50, 1, MAX_PER_PAGE, integer=True),
    )
