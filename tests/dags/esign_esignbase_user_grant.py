"""eSignBase on behalf of a user: send → deferrable wait → store, with an Authorization Code grant.

The connection ``esignbase_user_grant`` (``grant_type: authorization_code``) gets its refresh token from
the authorize command (tests/e2e/test_esignbase_consent_browser.py approves it in Chromium).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

CONN_ID = "esignbase_user_grant"

with DAG(
    "e2e_esignbase_user_grant",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    params={"destination": "/tmp"},
):
    send = SendDocumentOperator(
        task_id="send",
        conn_id=CONN_ID,
        document_name="Signed on behalf of a user",
        signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
        template_id="tpl-nda",
    )
    wait = DocumentStatusSensor(
        task_id="wait",
        conn_id=CONN_ID,
        document_id=send.output,
        deferrable=True,
        poke_interval=0.2,
        timeout=120,
    )
    store = DownloadDocumentOperator(
        task_id="store",
        conn_id=CONN_ID,
        destination="{{ params.destination }}",
        document_id="{{ ti.xcom_pull(task_ids='wait')['document_id'] }}",
    )
    send >> wait >> store
