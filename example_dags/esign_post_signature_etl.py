"""Post-signature ETL: runs whenever a signed contract has been stored.

Scheduled on the Asset the download operator emits (``esign://signed-documents/``). For each event
it reads the stored PDF (size, SHA-256 check, PDF version, page count) and loads one row per signed
contract into a SQLite table (``ESIGN_ETL_DB``, default ``$AIRFLOW_HOME/esign_contracts.db``), with
the signers in a child table and, where the vendor offers them (Legalesign, with
``include_form_data=True`` on the download), the values entered in the form fields in another.

``completed_at`` is the vendor's completion time; for a vendor that reports none (WeSignature) the
download record carries the time the provider observed the document completed, and
``completed_at_source`` says which (``vendor`` or ``observed``; ``stored``, the event's time, for
records written before the provider recorded observations).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3

import pendulum
from airflow.sdk import ObjectStoragePath, dag, task

from airflow_provider_esign.assets import signed_documents_asset


def _database() -> str:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return os.environ.get("ESIGN_ETL_DB", os.path.join(home, "esign_contracts.db"))


SCHEMA = """
CREATE TABLE IF NOT EXISTS signed_contracts (
    vendor TEXT, document_id TEXT, name TEXT, conn_id TEXT, path TEXT, size INTEGER, sha256 TEXT,
    pdf_version TEXT, pages INTEGER, created_at TEXT, completed_at TEXT, completed_at_source TEXT,
    metadata TEXT, PRIMARY KEY (vendor, document_id));
CREATE TABLE IF NOT EXISTS contract_signers (
    vendor TEXT, document_id TEXT, email TEXT, name TEXT, role TEXT, status TEXT, signed_at TEXT);
CREATE TABLE IF NOT EXISTS contract_form_fields (
    vendor TEXT, document_id TEXT, label TEXT, value TEXT, field_type TEXT, signer_email TEXT);
"""


def _text(value):
    return None if value is None else str(value)


def _contract_row(extra: dict, event) -> tuple:
    """The stored PDF re-read and checked, plus the contract's own fields."""
    pdf = ObjectStoragePath(extra["path"])
    digest, size, head, pages = hashlib.sha256(), 0, b"", 0
    with pdf.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            head = head or chunk[:16]
            digest.update(chunk)
            size += len(chunk)
            pages += len(re.findall(rb"/Type\s*/Page\b", chunk))
    if extra.get("sha256") and digest.hexdigest() != extra["sha256"]:
        raise ValueError(f"{pdf} changed since it was stored")
    version = head[5:8].decode(errors="replace") if head.startswith(b"%PDF-") else None
    stored_at = getattr(event, "timestamp", None)
    completed, source = extra.get("completed_at"), extra.get("completed_at_source") or "vendor"
    if not completed and stored_at is not None:  # a record from before observations were recorded
        completed, source = str(stored_at), "stored"
    return (
        extra.get("name"),
        extra.get("conn_id"),
        str(pdf),
        size,
        digest.hexdigest(),
        version,
        pages,
        extra.get("created_at"),
        completed,
        source if completed else None,
        json.dumps(extra.get("metadata") or {}, sort_keys=True),
    )


@dag(
    schedule=[signed_documents_asset()],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["esign", "example"],
)
def esign_post_signature_etl():
    @task
    def load_signed_contracts(triggering_asset_events=None) -> int:
        contracts, signers, fields = [], [], []
        for events in (triggering_asset_events or {}).values():
            for event in events:
                extra = event.extra or {}
                if "path" not in extra:
                    continue
                key = (extra["vendor"], extra["document_id"])
                contracts.append((*key, *_contract_row(extra, event)))
                signers.extend(
                    (*key, s.get("email"), s.get("name"), s.get("role"), s.get("status"), s.get("signed_at"))
                    for s in extra.get("signers") or []
                )
                fields.extend(
                    (*key, f.get("label"), _text(f.get("value")), f.get("field_type"), f.get("signer_email"))
                    for f in extra.get("form_data") or []
                )
        with sqlite3.connect(_database()) as db:
            db.executescript(SCHEMA)
            for table, rows in (
                ("signed_contracts", contracts),
                ("contract_signers", signers),
                ("contract_form_fields", fields),
            ):
                db.executemany(
                    f"DELETE FROM {table} WHERE vendor = ? AND document_id = ?",
                    {row[:2] for row in contracts},
                )
                if rows:
                    marks = ",".join("?" * len(rows[0]))
                    db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        print(f"Loaded {len(contracts)} signed contract(s) into {_database()}")
        return len(contracts)

    load_signed_contracts()


esign_post_signature_etl()
