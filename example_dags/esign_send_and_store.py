"""One contract, one vendor: send, wait without holding a worker (deferrable), store the signed PDF.

Switch vendor by switching ``conn_id`` and the document source (a template id for eSignBase, a
PDF path for Legalesign such as ``example_dags/data/sample_agreement.pdf``, a public URL for
WeSignature)::

    airflow dags test esign_send_and_store -c '{"conn_id": "legalesign_default",
        "file": "example_dags/data/sample_agreement.pdf", "signer_email": "you@example.com"}'
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import dag

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

POLL_SECONDS = float(os.environ.get("ESIGN_EXAMPLE_POLL_SECONDS", "60"))


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "conn_id": "esignbase_default",
        "template_id": "tpl-nda",
        "file": "",
        "signer_name": "Ada Lovelace",
        "signer_email": "ada@example.com",
        "destination": os.environ.get("ESIGN_EXAMPLE_DESTINATION", "/tmp/esign/signed"),
    },
    tags=["esign", "example"],
    doc_md=__doc__,
)
def esign_send_and_store():
    send = SendDocumentOperator(
        task_id="send_contract",
        conn_id="{{ params.conn_id }}",
        document_name="Agreement {{ ds }}",
        signers=[{"name": "{{ params.signer_name }}", "email": "{{ params.signer_email }}"}],
        template_id="{{ params.template_id if not params.file else '' }}",
        file="{{ params.file }}",
        subject="Please sign: agreement {{ ds }}",
    )
    wait = DocumentStatusSensor(
        task_id="wait_until_completed",
        conn_id="{{ params.conn_id }}",
        document_id=send.output,
        deferrable=True,  # the triggerer waits: no worker slot held for days
        poke_interval=POLL_SECONDS,
    )
    store = DownloadDocumentOperator(
        task_id="store_signed_pdf",
        conn_id="{{ params.conn_id }}",
        document_id=send.output,
        destination="{{ params.destination }}",
    )
    wait >> store


esign_send_and_store()
