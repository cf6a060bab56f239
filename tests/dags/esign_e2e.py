"""DAGs for the end-to-end tests: every vendor x sensor mode, plus failure paths.

Each run reads its destination from the run conf; the vendor and mode are fixed per DAG id:
``e2e_<vendor>_<mode>`` (send 2 mapped documents → wait → store) and ``e2e_<vendor>_<outcome>``
(send → the sandbox's control API declines/voids it → the sensor must fail without retry).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

PDF = str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
SOURCES = {
    "esignbase": {"template_id": "tpl-nda"},
    "legalesign": {"file": PDF},
    "wesignature": {"file": "https://files.example.com/contracts/sample_agreement.pdf"},
}
ROWS = [
    {"document_name": "Contract A", "signers": [{"name": "Ada Lovelace", "email": "ada@example.com"}]},
    {"document_name": "Contract B", "signers": [{"name": "Alan Turing", "email": "alan@example.com"}]},
]
START = pendulum.datetime(2026, 1, 1, tz="UTC")

for vendor, source in SOURCES.items():
    conn_id = f"{vendor}_default"
    for mode in ("poke", "reschedule", "deferrable"):
        with DAG(f"e2e_{vendor}_{mode}", schedule=None, start_date=START, params={"destination": "/tmp"}):
            send = SendDocumentOperator.partial(task_id="send", conn_id=conn_id, **source).expand_kwargs(ROWS)
            wait = DocumentStatusSensor.partial(
                task_id="wait",
                conn_id=conn_id,
                mode="poke" if mode == "deferrable" else mode,
                deferrable=mode == "deferrable",
                poke_interval=0.2,
                timeout=120,
            ).expand(document_id=send.output)
            DownloadDocumentOperator.partial(
                task_id="store", conn_id=conn_id, destination="{{ params.destination }}"
            ).expand(document_id=wait.output.map(lambda document: document["document_id"]))

    for outcome in ("decline", "void"):
        with DAG(f"e2e_{vendor}_{outcome}", schedule=None, start_date=START):
            send = SendDocumentOperator(
                task_id="send",
                conn_id=conn_id,
                document_name=f"To {outcome}",
                signers=ROWS[0]["signers"],
                **source,
            )

            @task(task_id=outcome)
            def drive(document_id: str, vendor: str = vendor, outcome: str = outcome) -> None:
                from esign_sandbox import SandboxClient

                getattr(SandboxClient(os.environ["ESIGN_SANDBOX_URL"]), outcome)(vendor, document_id)

            wait = DocumentStatusSensor(
                task_id="wait",
                conn_id=conn_id,
                document_id=send.output,
                poke_interval=0.2,
                timeout=60,
                retries=3,
                retry_delay=timedelta(seconds=0),
            )
            drive(send.output) >> wait

    with DAG(f"e2e_{vendor}_cancel", schedule=None, start_date=START):
        send = SendDocumentOperator(
            task_id="send", conn_id=conn_id, document_name="To cancel", signers=ROWS[0]["signers"], **source
        )
        send >> CancelDocumentOperator(
            task_id="cancel", conn_id=conn_id, document_id=send.output, notify=True, retries=2
        )

with DAG("e2e_legalesign_remind", schedule=None, start_date=START):
    send = SendDocumentOperator(
        task_id="send",
        conn_id="legalesign_default",
        document_name="Reminded",
        signers=ROWS[0]["signers"] + ROWS[1]["signers"],
        file=PDF,
    )
    send >> SendReminderOperator(
        task_id="remind", conn_id="legalesign_default", document_id=send.output, text="Friendly reminder"
    )
