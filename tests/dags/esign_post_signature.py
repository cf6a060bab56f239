"""DAGs for the post-signature data tests: send → wait → store with everything the vendor offers.

``e2e_post_signature_<vendor>`` stores each signed PDF with ``include_form_data`` and ``audit_log``
where the vendor's API offers them (the hook says so), so the example ETL can load complete rows.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.hooks import hook_class_for
from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

SOURCES = {
    "esignbase": {"template_id": "tpl-nda"},
    "legalesign": {"file": str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")},
    "wesignature": {"file": "https://files.example.com/contracts/sample_agreement.pdf"},
}
ROWS = [
    {"document_name": "Contract A", "signers": [{"name": "Ada Lovelace", "email": "ada@example.com"}]},
    {"document_name": "Contract B", "signers": [{"name": "Alan Turing", "email": "alan@example.com"}]},
]

for vendor, source in SOURCES.items():
    conn_id = f"{vendor}_default"
    hook_class = hook_class_for(vendor)
    with DAG(
        f"e2e_post_signature_{vendor}",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        params={"destination": "/tmp"},
    ):
        send = SendDocumentOperator.partial(task_id="send", conn_id=conn_id, **source).expand_kwargs(ROWS)
        wait = DocumentStatusSensor.partial(
            task_id="wait", conn_id=conn_id, poke_interval=0.2, timeout=120
        ).expand(document_id=send.output)
        DownloadDocumentOperator.partial(
            task_id="store",
            conn_id=conn_id,
            destination="{{ params.destination }}",
            include_form_data=hook_class.supports_form_data,
            audit_log=hook_class.supports_audit_log,
        ).expand(document_id=wait.output.map(lambda document: document["document_id"]))
