"""The contract ledger: every document of the vendor account as rows in a database, synced hourly,
then a report of the contracts pending for more than 7 days (and who still has to sign).

The first run walks the whole account; every later run reads only what changed. Without a
``destination_conn_id`` the ledger is the embedded SQLite file (here ``ESIGN_LEDGER_DB``, default
``$AIRFLOW_HOME/esign_ledger.db``); name any SQL connection (PostgreSQL, MySQL, Snowflake, ...) to
write there instead. ETL DAGs can schedule on ``ledger_asset(...)``: each sync emits an event with
the row counts and the cursor.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_esign.operators.sync import SyncDocumentsOperator

LEDGER_DB = os.environ.get("ESIGN_LEDGER_DB") or None  # None: $AIRFLOW_HOME/esign_ledger.db
DESTINATION_CONN_ID = None  # e.g. "postgres_default" for a warehouse


@dag(
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one writer per ledger: a sync resumes where the last one stopped
    params={
        "conn_id": Param(
            "esignbase_default",
            type="string",
            title="Connection",
            description="The e-signature connection whose account is synced.",
            examples=["esignbase_default", "legalesign_default", "wesignature_default"],
        ),
        "pending_days": Param(
            7,
            type="number",
            minimum=0,
            title="Pending after (days)",
            description="Report contracts still waiting for signatures this many days after they were sent.",
        ),
    },
)
def esign_contract_ledger():
    sync = SyncDocumentsOperator(
        task_id="sync",
        conn_id="{{ params.conn_id }}",
        destination_conn_id=DESTINATION_CONN_ID,
        ledger_path=LEDGER_DB,
        # Reconcile what these send tasks recorded against what the vendor lists.
        send_tasks=["esign_batch_contracts.send", "esign_send_and_store.send_contract"],
        pending_after_days="{{ params.pending_days }}",
    )

    @task
    def pending_report(summary: dict, params: dict | None = None) -> list[dict]:
        """Contracts open for more than ``pending_days``, oldest first, with the signers still to sign."""
        from datetime import datetime, timedelta, timezone

        from airflow_provider_esign.operators.sync import embedded_hook

        hook = embedded_hook(LEDGER_DB)  # or BaseHook.get_connection(DESTINATION_CONN_ID).get_hook()
        params = params or {}
        days = float(params["pending_days"])
        cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        # Aged by the vendor's creation time, or by the first sync that saw it where the vendor's
        # list gives none (WeSignature).
        rows = hook.get_records(
            "SELECT d.document_id, d.name, COALESCE(d.created_at, d.first_seen_at) AS sent_at, s.email "
            "FROM esign_documents d JOIN esign_signers s "
            "ON s.connection_id = d.connection_id AND s.document_id = d.document_id "
            "WHERE d.connection_id = ? AND d.deleted_at_vendor IS NULL AND s.status <> 'SIGNED' "
            "AND d.status IN ('SENT', 'PARTIALLY_SIGNED') AND COALESCE(d.created_at, d.first_seen_at) <= ? "
            "ORDER BY sent_at, d.document_id, s.position",
            parameters=(params["conn_id"], cutoff),
        )
        report: dict[str, dict] = {}
        for document_id, name, created_at, email in rows:
            entry = report.setdefault(
                document_id,
                {"document_id": document_id, "name": name, "sent_at": created_at, "waiting_for": []},
            )
            entry["waiting_for"].append(email)
        print(
            f"{len(report)} contract(s) pending for more than {days:g} days "
            f"({summary['reconciliation']['missing_at_vendor_count']} sent by Airflow but not at the vendor)"
        )
        for entry in report.values():
            print(f"  {entry['sent_at']}  {entry['name']}: waiting for {', '.join(entry['waiting_for'])}")
        return list(report.values())

    pending_report(sync.output)


esign_contract_ledger()
