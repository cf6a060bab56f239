"""A DAG file using every operator and sensor of the provider: the import-cost figure parses it.

Nothing here runs; ``python -X importtime`` of this file measures what a DAG processor pays to parse a
DAG that uses the whole provider.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor
from airflow_provider_esign.sensors.status import DocumentStatusSensor

ROWS = [
    {"document_name": "Contract A", "signers": [{"name": "Ada Lovelace", "email": "ada@example.com"}]},
    {"document_name": "Contract B", "signers": [{"name": "Alan Turing", "email": "alan@example.com"}]},
]

with DAG("bench_every_operator", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    send = SendDocumentOperator.partial(
        task_id="send", conn_id="esignbase_default", template_id="tpl-nda"
    ).expand_kwargs(ROWS)
    wait_all = BatchDocumentStatusSensor(
        task_id="wait_all", conn_id="esignbase_default", document_ids=send.output, deferrable=True
    )
    wait_one = DocumentStatusSensor(
        task_id="wait_one", conn_id="esignbase_default", document_id="doc-1", deferrable=True
    )
    store = DownloadDocumentOperator.partial(
        task_id="store", conn_id="esignbase_default", destination="signed/"
    ).expand(document_id=send.output)
    remind = SendReminderOperator(task_id="remind", conn_id="legalesign_default", document_id="doc-2")
    cancel = CancelDocumentOperator(task_id="cancel", conn_id="legalesign_default", document_id="doc-2")
    send >> [wait_all, wait_one] >> store
    remind >> cancel
