"""Post-signature ETL: runs whenever a signed contract has been stored.

Scheduled on the Asset the download operator emits (``esign://signed-documents/``). For each event
it reads the stored PDF (size, SHA-256 check, PDF version, page count) and loads one row per signed
contract into a SQLite table (``ESIGN_ETL_DB``, default ``$AIRFLOW_HOME/esign_contracts.db``).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3

import pendulum
from airflow.sdk import ObjectStoragePath, dag, task

from airflow_provider_esign.assets import signed_documents_asset


def _database() -> str:
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    return os.environ.get("ESIGN_ETL_DB", os.path.join(home, "esign_contracts.db"))


@dag(
    schedule=[signed_documents_asset()],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["esign", "example"],
)
def esign_post_signature_etl():
    @task
    def load_signed_contracts(triggering_asset_events=None) -> int:
        rows = []
        for events in (triggering_asset_events or {}).values():
            for event in events:
                extra = event.extra or {}
                if "path" not in extra:
                    continue
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
                signers = ", ".join(s.get("email", "") for s in extra.get("signers") or [])
                rows.append(
                    (
                        extra["vendor"],
                        extra["document_id"],
                        extra.get("name"),
                        signers,
                        str(pdf),
                        size,
                        digest.hexdigest(),
                        version,
                        pages,
                        extra.get("completed_at"),
                    )
                )
        with sqlite3.connect(_database()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS signed_contracts (vendor TEXT, document_id TEXT, name TEXT, "
                "signers TEXT, path TEXT, size INTEGER, sha256 TEXT, pdf_version TEXT, pages INTEGER, "
                "completed_at TEXT, PRIMARY KEY (vendor, document_id))"
            )
            db.executemany("INSERT OR REPLACE INTO signed_contracts VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        print(f"Loaded {len(rows)} signed contract(s) into {_database()}")
        return len(rows)

    load_signed_contracts()


esign_post_signature_etl()
