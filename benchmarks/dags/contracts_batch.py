"""A small send batch whose rows the Contracts page benchmark clones to 10,000 tracked documents."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.operators.send import SendDocumentOperator

with DAG("contracts_bench", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    SendDocumentOperator.partial(
        task_id="send", conn_id="esignbase_default", template_id="tpl-nda"
    ).expand_kwargs(
        [
            {
                "document_name": f"Contract {i}",
                "signers": [{"name": "Ada Lovelace", "email": f"ada{i}@example.com"}],
            }
            for i in range(2)
        ]
    )
