"""Event-driven post-signature ETL: a DAG run as soon as contracts are completed, no sensor waiting.

The DAG is scheduled on ``esign://completed-documents/``, which gets an event per newly completed
document from two sources, each used for **different** connections:

* a watcher: ``DocumentCompletedEventTrigger`` polls one connection's document list in the triggerer
  (``ESIGN_ON_SIGNED_CONN_ID``, default ``wesignature_default``: WeSignature has no webhooks, so
  polling is its only path; every ``ESIGN_ON_SIGNED_POLL_INTERVAL`` seconds, default 60);
* the webhook receiver of this provider's plugin, ``<API server>/esign/webhooks/<conn_id>``, for the
  vendors that call back (eSignBase Document Completed Hook, Legalesign realtime webhook), e.g.
  ``/esign/webhooks/esignbase_default``.

Never point a webhook at the watched connection: the watcher cannot see webhook events, so one
completion would start two runs. The load below upserts, so a repeat would at worst reload a row.

Events that arrive between two scheduler loops share one run, so the task handles a list. For each
completed contract it downloads the signed PDF with the vendor hook (verified: PDF signature, length,
the vendor's SHA-256 where published), stores it under ``ESIGN_SIGNED_DIR`` (default
``$AIRFLOW_HOME/signed``) and loads one row into ``completed_contracts`` in SQLite (``ESIGN_ETL_DB``,
default ``$AIRFLOW_HOME/esign_contracts.db``).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile

import pendulum
from airflow.sdk import AssetWatcher, dag, task

from airflow_provider_esign.assets import completed_documents_asset
from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

#: The watched connection. Webhooks go to the other connections (see the module docstring).
CONN_ID = os.environ.get("ESIGN_ON_SIGNED_CONN_ID", "wesignature_default")
POLL_INTERVAL = float(os.environ.get("ESIGN_ON_SIGNED_POLL_INTERVAL", "60"))

# Declared once, here; other DAGs that schedule on it should import this object (see README).
completed_contracts = completed_documents_asset(
    watchers=[
        AssetWatcher(
            name=f"{CONN_ID}_completed",
            trigger=DocumentCompletedEventTrigger(conn_id=CONN_ID, poll_interval=POLL_INTERVAL),
        )
    ]
)


def _home() -> str:
    return os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))


def _database() -> str:
    return os.environ.get("ESIGN_ETL_DB", os.path.join(_home(), "esign_contracts.db"))


@dag(
    schedule=[completed_contracts],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["esign", "example", "event-driven"],
)
def esign_on_signed():
    @task
    def load_completed_contracts(triggering_asset_events=None) -> list[str]:
        from airflow_provider_esign.hooks import get_hook

        folder = os.environ.get("ESIGN_SIGNED_DIR", os.path.join(_home(), "signed"))
        os.makedirs(folder, exist_ok=True)
        rows = []
        for events in (triggering_asset_events or {}).values():
            for event in events:
                payload = (event.extra or {}).get("payload") or {}
                if "document_id" not in payload:
                    continue  # not an announcement of this provider
                hook = get_hook(payload["conn_id"])
                path = os.path.join(folder, f"{payload['vendor']}-{payload['document_id']}.pdf")
                # Download to a temporary file first: a failed download leaves nothing at `path`.
                with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as handle:
                    try:
                        result = hook.download_document(payload["document_id"], handle)
                    except BaseException:
                        os.unlink(handle.name)
                        raise
                os.replace(handle.name, path)
                rows.append(
                    (
                        payload["vendor"],
                        payload["document_id"],
                        payload.get("name"),
                        ", ".join(s.get("email", "") for s in payload.get("signers") or []),
                        payload.get("completed_at"),
                        payload.get("source"),
                        path,
                        result.size,
                        result.sha256,
                    )
                )
        with sqlite3.connect(_database()) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS completed_contracts (vendor TEXT, document_id TEXT, name TEXT, "
                "signers TEXT, completed_at TEXT, source TEXT, path TEXT, size INTEGER, sha256 TEXT, "
                "PRIMARY KEY (vendor, document_id))"
            )
            db.executemany("INSERT OR REPLACE INTO completed_contracts VALUES (?,?,?,?,?,?,?,?,?)", rows)
        print(f"Loaded {len(rows)} completed contract(s) into {_database()}")
        return [row[1] for row in rows]

    load_completed_contracts()


esign_on_signed()
