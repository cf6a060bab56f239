"""The ledger sync as a DAG for the end-to-end tests (the ledger file comes from ``ESIGN_LEDGER_DB``)."""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.operators.sync import SyncDocumentsOperator

with DAG("ledger_sync", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    SyncDocumentsOperator(
        task_id="sync",
        conn_id="esignbase_default",
        ledger_path=os.environ.get("ESIGN_LEDGER_DB") or None,
        send_tasks=["e2e_esignbase_cancel.send"],
    )

# The table prefix from the run's conf: checked once rendered, before any database or vendor call.
with DAG(
    "ledger_sync_templated_prefix",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"prefix": "esign_"},
    default_args={"retries": 2},
):
    SyncDocumentsOperator(
        task_id="sync",
        conn_id="esignbase_default",
        ledger_path=os.environ.get("ESIGN_LEDGER_DB") or None,
        table_prefix="{{ params.prefix }}",
        send_tasks=[],
    )
