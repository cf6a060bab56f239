"""DAGs for the Contracts page tests: two small batches on two connections, one name built to be
misread as markup. The sandbox is configured not to sign on its own, so the documents stay open."""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_esign.operators.send import SendDocumentOperator

PDF = str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
START = pendulum.datetime(2026, 1, 1, tz="UTC")
XSS_NAME = "<img src=x onerror=alert(1)>"
LEGALESIGN_ROWS = [
    {
        "document_name": "MSA - Acme",
        "signers": [
            {"name": "Ada Lovelace", "email": "ada@acme.example"},
            {"name": "Alan Turing", "email": "alan@acme.example"},
        ],
    },
    {"document_name": XSS_NAME, "signers": [{"name": "Grace Hopper", "email": "grace@globex.example"}]},
    {
        "document_name": "NDA - Initech",
        "signers": [{"name": "Bill Lumbergh", "email": "bill@initech.example"}],
    },
]
ESIGNBASE_ROWS = [
    {
        "document_name": "NDA - Umbrella",
        "signers": [{"name": "Alice Abernathy", "email": "alice@umbrella.example"}],
    },
    {"document_name": "NDA - Hooli", "signers": [{"name": "Gavin Belson", "email": "gavin@hooli.example"}]},
]

with DAG("contracts_legalesign", schedule=None, start_date=START, tags=["esign"]):
    SendDocumentOperator.partial(
        task_id="send", conn_id="legalesign_default", file=PDF, expires_at="2027-03-31T00:00:00+00:00"
    ).expand_kwargs(LEGALESIGN_ROWS)

with DAG("contracts_esignbase", schedule=None, start_date=START, tags=["esign"]):
    SendDocumentOperator.partial(
        task_id="send", conn_id="esignbase_default", template_id="tpl-nda"
    ).expand_kwargs(ESIGNBASE_ROWS)
