"""The page's JSON: the send records joined with the vendors' last known state.

Every value that came from a DAG author or a vendor (names, emails, ids, links) is returned as data,
never as markup: the page puts them into the DOM as text. Vendor links are kept only when they are
plain ``http(s)`` URLs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_esign.contracts.records import Filters, Record, RecordStore, Stub
from airflow_provider_esign.contracts.status import Known, Snapshot, StatusCache
from airflow_provider_esign.models import DocumentStatus

_FAILED = {DocumentStatus.DECLINED.value, DocumentStatus.VOIDED.value}
_TERMINAL = {s.value for s in DocumentStatus if s.is_terminal}
_DONE = {DocumentStatus.SIGNED.value, DocumentStatus.COMPLETED.value}
_ORDER = {s.value: i for i, s in enumerate(DocumentStatus)}


def _matches_status(status: str, wanted: str) -> bool:
    if wanted == "IN_FLIGHT":
        return status not in _TERMINAL
    if wanted == "FAILED":
        return status in _FAILED
    return status == wanted


def safe_url(url: Any) -> str | None:
    """``url`` if it is an absolute http(s) URL (no ``javascript:``, no ``data:``), else None."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def ui_base() -> str:
    """The Airflow UI's path prefix (``[api] base_url``), for links to DAG runs and tasks."""
    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="") or ""
    return urlsplit(base).path.rstrip("/")


def capabilities(vendor: str) -> tuple[bool, bool]:
    """(reminders, cancel) the vendor's API offers."""
    from airflow_provider_esign.hooks import hook_class_for

    try:
        cls = hook_class_for(vendor)
    except Exception:
        return False, False
    return bool(cls.supports_reminders), bool(cls.supports_cancel)


class PageBuilder:
    """Builds one page view.

    :param store: The records' SQL access.
    :param cache: The vendors' last known states.
    :param may_edit: ``(user, dag_id) -> bool``: whether the user may act on the DAG's documents.
    :param wall: Wall clock (epoch seconds), injectable.
    """

    def __init__(
        self,
        store: RecordStore,
        cache: StatusCache,
        may_edit: Callable[[Any, str], bool],
        wall: Callable[[], float],
    ) -> None:
        self.store = store
        self.cache = cache
        self.may_edit = may_edit
        self.wall = wall

    def snapshots(self, stubs: list[Stub], *, refresh: bool = True) -> dict[str, Snapshot]:
        """One snapshot per connection, covering every document of it this Airflow sent."""
        by_conn: dict[str, dict[str, str]] = {}
        for stub in stubs:
            if stub.conn_id and stub.document_id:
                by_conn.setdefault(stub.conn_id, {})[stub.document_id] = stub.send_status
        return {c: self.cache.snapshot(c, docs, refresh=refresh) for c, docs in sorted(by_conn.items())}

    @staticmethod
    def _known(snapshots: dict[str, Snapshot], conn_id: str, document_id: str) -> Known | None:
        snapshot = snapshots.get(conn_id)
        return snapshot.documents.get(document_id) if snapshot else None

    def _status(self, snapshots: dict[str, Snapshot], stub: Stub | Record, sent_status: str) -> str:
        known = self._known(snapshots, stub.conn_id, stub.document_id)
        return known.status if known else sent_status

    def _counts(self, visible: list[Stub], snapshots: dict[str, Snapshot]) -> dict[str, int]:
        now = self.wall()
        midnight = dt.datetime.fromtimestamp(now, dt.timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        today, week_ago = midnight.timestamp(), now - 7 * 86400
        counts = Counter({"in_flight": 0, "signed_today": 0, "failed_this_week": 0})
        empty: dict[str, Known] = {}
        documents = {conn: snapshot.documents for conn, snapshot in snapshots.items()}
        for stub in visible:
            known = documents.get(stub.conn_id, empty).get(stub.document_id)
            status = known.status if known else stub.send_status
            if status not in _TERMINAL:
                counts["in_flight"] += 1
            elif known and status in _DONE and known.changed_at >= today:
                counts["signed_today"] += 1
            elif known and status in _FAILED and known.changed_at >= week_ago:
                counts["failed_this_week"] += 1
        counts["total"] = len(visible)
        return dict(counts)

    def build(
        self, user: Any, filters: Filters, dag_ids: Collection[str] | None, session: Any
    ) -> dict[str, Any]:
        everything = self.store.all_stubs(session)  # the cache covers every document sent
        snapshots = self.snapshots(everything)
        allowed = None if dag_ids is None else set(dag_ids)
        visible = everything if allowed is None else [s for s in everything if s.dag_id in allowed]
        total, stubs = self.store.page_keys(filters, dag_ids, session)
        if filters.needs_live_status:
            if filters.status:
                wanted = filters.status
                stubs = [
                    s for s in stubs if _matches_status(self._status(snapshots, s, s.send_status), wanted)
                ]
            if filters.sort == "status":
                stubs = sorted(  # stable: newest first within a status
                    stubs,
                    key=lambda s: _ORDER.get(self._status(snapshots, s, s.send_status), 99),
                    reverse=filters.descending,
                )
            total = len(stubs)
            start = (filters.page - 1) * filters.per_page
            stubs = stubs[start : start + filters.per_page]
        records = self.store.records([s.key for s in stubs], session)
        editable = {dag: self.may_edit(user, dag) for dag in {r.dag_id for r in records}}
        return {
            "counts": self._counts(visible, snapshots),
            "connections": [self._freshness(s) for s in snapshots.values() if self._has(visible, s.conn_id)],
            "total": total,
            "page": filters.page,
            "per_page": filters.per_page,
            "rows": [self.row(r, snapshots, editable[r.dag_id]) for r in records],
        }

    @staticmethod
    def _has(visible: list[Stub], conn_id: str) -> bool:
        return any(s.conn_id == conn_id for s in visible)

    @staticmethod
    def _freshness(snapshot: Snapshot) -> dict[str, Any]:
        return {
            "conn_id": snapshot.conn_id,
            "age_seconds": None if snapshot.age is None else round(snapshot.age, 1),
            "error": snapshot.error,
            "refreshing": snapshot.refreshing,
        }

    def row(self, record: Record, snapshots: dict[str, Snapshot], editable: bool) -> dict[str, Any]:
        value = record.value
        known = self._known(snapshots, record.conn_id, record.document_id)
        status = known.status if known else str(value.get("status") or "")
        reported = {str(s.get("email") or "").lower(): s for s in (known.signers if known else ())}
        signers = []
        for signer in value.get("signers") or []:
            email = str(signer.get("email") or "")
            live = reported.pop(email.lower(), None)
            signers.append(_signer(signer.get("name"), email, live, status in _DONE))
        signers += [
            _signer(s.get("name"), str(s.get("email") or ""), s, status in _DONE) for s in reported.values()
        ]
        reminders, cancel = capabilities(str(value.get("vendor") or ""))
        open_ = status not in _TERMINAL
        base = ui_base()
        run = f"{base}/dags/{quote(record.dag_id, safe='')}/runs/{quote(record.run_id, safe='')}"
        task = f"{run}/tasks/{quote(record.task_id, safe='')}"
        if record.map_index >= 0:
            task += f"/mapped/{record.map_index}"
        return {
            "document_id": record.document_id,
            "name": value.get("name"),
            "vendor": value.get("vendor"),
            "conn_id": record.conn_id,
            "dag_id": record.dag_id,
            "run_id": record.run_id,
            "task_id": record.task_id,
            "map_index": record.map_index,
            "status": status,
            "status_source": "vendor" if known else "send",
            "signers": signers,
            "sent_at": record.sent_at.isoformat(timespec="seconds"),
            "age_seconds": max(0, int(self.wall() - record.sent_at.timestamp())),
            "expires_at": value.get("expires_at"),
            "links": {"run": run, "task": task, "vendor": safe_url(value.get("url"))},
            "actions": {
                "remind": open_ and reminders and editable,
                "cancel": open_ and cancel and editable,
                "allowed": editable,
            },
        }


def _signer(name: Any, email: str, live: dict[str, Any] | None, all_signed: bool) -> dict[str, Any]:
    # A signed or completed document was signed by everyone, whatever the signer list says.
    status = "SIGNED" if all_signed else (str(live.get("status")) if live else "UNKNOWN")
    return {
        "name": name if name is not None else (live or {}).get("name"),
        "email": email,
        "status": status,
        "signed": status == "SIGNED",
        "signed_at": (live or {}).get("signed_at"),
    }
