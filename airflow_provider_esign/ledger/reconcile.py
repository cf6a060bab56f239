"""The summary after each sync: what Airflow sent that the vendor does not list, what has waited too
long for signatures (and for whom), and what failed since the last sync.

Written to the reconciliation table (one row per finding, keyed by the sync) and returned for the
task log and XCom.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_esign.ledger import schema
from airflow_provider_esign.ledger.rows import now_iso
from airflow_provider_esign.ledger.store import LedgerStore

MISSING = "missing_at_vendor"
PENDING = "pending_too_long"
FAILED = "failed_since_last_sync"
#: Statuses of a document still waiting for a signer (SIGNED waits only for the vendor's final PDF).
AWAITING = ("SENT", "PARTIALLY_SIGNED")
#: Findings per kind listed in the XCom summary (the table holds them all).
XCOM_LIST_LIMIT = 50


def reconcile(
    store: LedgerStore,
    connection_id: str,
    vendor: str,
    sync_id: str,
    *,
    pending_after: timedelta,
    failed_ids: list[str],
) -> dict[str, Any]:
    """Compute, store and return the summary.

    :param pending_after: A document open longer than this (since its creation) is reported.
    :param failed_ids: Documents that reached a failure status in this sync (new or changed rows).
    """
    now = store.clock()
    cutoff = (datetime.fromtimestamp(now, timezone.utc) - pending_after).isoformat(timespec="seconds")
    findings = {
        MISSING: _missing(store, connection_id, vendor),
        PENDING: _pending(store, connection_id, cutoff),
        FAILED: _failed(store, connection_id, failed_ids),
    }
    recorded = now_iso(now)
    store.insert_rows(
        schema.RECONCILIATION,
        [
            {
                "connection_id": connection_id,
                "sync_id": sync_id,
                "kind": kind,
                "document_id": f["document_id"],
                "vendor": vendor,
                "name": f.get("name"),
                "status": f.get("status"),
                "since": f.get("since"),
                "detail": json.dumps(f.get("detail") or {}, sort_keys=True, default=str),
                "recorded_at": recorded,
            }
            for kind, items in findings.items()
            for f in items
        ],
    )
    return {
        "sync_id": sync_id,
        **{f"{kind}_count": len(items) for kind, items in findings.items()},
        **{kind: items[:XCOM_LIST_LIMIT] for kind, items in findings.items()},
    }


def _text(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _missing(store: LedgerStore, connection_id: str, vendor: str) -> list[dict[str, Any]]:
    """Sent by an Airflow task through this connection (the sent table) but not listed by the vendor
    (absent, or marked deleted). Another connection's sends are that connection's ledger's business."""
    p = store.dialect.placeholder
    sent, documents = store.table(schema.SENT), store.table(schema.DOCUMENTS)
    rows = store.query(
        f"SELECT s.document_id, s.name, s.dag_id, s.run_id, s.task_id, s.map_index, d.deleted_at_vendor "
        f"FROM {sent} s LEFT JOIN {documents} d ON d.connection_id = {p} AND d.document_id = s.document_id "
        f"WHERE {schema.sent_by_connection('s', p)} AND (d.document_id IS NULL OR d.deleted_at_vendor IS NOT NULL) "
        f"ORDER BY s.dag_id, s.run_id, s.task_id",
        (connection_id, connection_id, vendor),
    )
    return [
        {
            "document_id": r[0],
            "name": r[1],
            "status": None,
            "since": _text(r[6]),
            "detail": {
                "dag_id": r[2],
                "run_id": r[3],
                "task_id": r[4],
                "map_index": r[5],
                "deleted_at_vendor": _text(r[6]),
            },
        }
        for r in rows
    ]


def _pending(store: LedgerStore, connection_id: str, cutoff: str) -> list[dict[str, Any]]:
    p = store.dialect.placeholder
    documents, signers = store.table(schema.DOCUMENTS), store.table(schema.SIGNERS)
    rows = store.query(
        f"SELECT d.document_id, d.name, d.status, COALESCE(d.created_at, d.first_seen_at), s.email "
        f"FROM {documents} d "
        f"LEFT JOIN {signers} s ON s.connection_id = d.connection_id AND s.document_id = d.document_id "
        f"AND s.status NOT IN ('SIGNED') WHERE d.connection_id = {p} AND d.deleted_at_vendor IS NULL "
        f"AND d.status IN ({store.dialect.marks(len(AWAITING))}) AND COALESCE(d.created_at, d.first_seen_at) <= {p} "
        f"ORDER BY COALESCE(d.created_at, d.first_seen_at), d.document_id, s.position",
        (connection_id, *AWAITING, cutoff),
    )
    found: dict[str, dict[str, Any]] = {}
    for doc_id, name, status, created, email in rows:
        item = found.setdefault(
            doc_id,
            {
                "document_id": doc_id,
                "name": name,
                "status": status,
                "since": _text(created),
                "detail": {"pending_signers": []},
            },
        )
        if email:
            item["detail"]["pending_signers"].append(email)
    return list(found.values())


def _failed(store: LedgerStore, connection_id: str, ids: list[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    p = store.dialect.placeholder
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        rows = store.query(
            f"SELECT document_id, name, status, vendor_status, modified_at FROM {store.table(schema.DOCUMENTS)} "
            f"WHERE connection_id = {p} AND status IN ('DECLINED', 'VOIDED') "
            f"AND document_id IN ({store.dialect.marks(len(part))})",
            (connection_id, *part),
        )
        out += [
            {
                "document_id": r[0],
                "name": r[1],
                "status": r[2],
                "since": _text(r[4]),
                "detail": {"vendor_status": r[3]},
            }
            for r in rows
        ]
    return out
