"""DAG for tests/e2e/test_operator_base.py: one poking sensor on a document given in the run conf."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.sensors.status import DocumentStatusSensor

with DAG(
    "e2e_cached_hook",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"document_id": ""},
):
    DocumentStatusSensor(
        task_id="wait",
        conn_id="esignbase_default",
        document_id="{{ params.document_id }}",
        mode="poke",
        poke_interval=0.2,
        timeout=60,
    )
