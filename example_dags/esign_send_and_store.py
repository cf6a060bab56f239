"""One contract, one vendor: send, wait without holding a worker (deferrable), store the signed PDF.

Switch vendor by switching ``conn_id`` and the document source (a template id for eSignBase, a
PDF path for Legalesign such as ``example_dags/data/sample_agreement.pdf``, a public URL for
WeSignature)::

    airflow dags test esign_send_and_store -c '{"conn_id": "legalesign_default",
        "file": "example_dags/data/sample_agreement.pdf", "signer_email": "you@example.com"}'

The templates use ``dag_run.run_after`` and params only, never ``ds``: a run triggered by hand
(``airflow dags trigger``, the UI's Trigger button) has no logical date on Airflow 3.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import Param, dag

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

POLL_SECONDS = float(os.environ.get("ESIGN_EXAMPLE_POLL_SECONDS", "60"))


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "conn_id": Param(
            "esignbase_default",
            type="string",
            title="Connection",
            description="The e-signature connection; its type picks the vendor.",
            examples=["esignbase_default", "legalesign_default", "wesignature_default"],
        ),
        "template_id": Param(
            "tpl-nda",
            type=["null", "string"],
            title="Template id",
            description="eSignBase template id or Legalesign template PDF id. Ignored when a file is given. "
            "The local sandbox knows tpl-nda (one signer) and tpl-employment (two).",
        ),
        "file": Param(
            "",
            type=["null", "string"],
            title="File",
            description="Instead of a template: a PDF path or object-storage URL (Legalesign), "
            "or a public https URL (WeSignature).",
        ),
        "signer_name": Param(
            "Ada Lovelace",
            type="string",
            minLength=3,
            title="Signer name",
            description="First and last name.",
        ),
        "signer_email": Param(
            "ada@example.com",
            type="string",
            title="Signer email",
            description="Where the signing request goes.",
        ),
        "destination": Param(
            os.environ.get("ESIGN_EXAMPLE_DESTINATION", "/tmp/esign/signed"),
            type="string",
            title="Destination",
            description="Folder or object-storage URL (s3://bucket/signed/) for the signed PDF.",
        ),
    },
    tags=["esign", "example"],
    doc_md=__doc__,
)
def esign_send_and_store():
    send = SendDocumentOperator(
        task_id="send_contract",
        conn_id="{{ params.conn_id }}",
        document_name="Agreement {{ dag_run.run_after | ds }}",
        signers=[{"name": "{{ params.signer_name }}", "email": "{{ params.signer_email }}"}],
        template_id="{{ params.template_id if not params.file else '' }}",
        file="{{ params.file }}",
        subject="Please sign: agreement {{ dag_run.run_after | ds }}",
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
