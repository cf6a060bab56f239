"""DAGs for the reliability tests (tests/reliability): soak, bad input, secrets, 401 fail-fast.

Destinations, sandbox URL and document counts come from the run conf / environment; every vendor
connection is the ``<vendor>_default`` one the tests point at the sandbox (``<vendor>_wrong`` for
the wrong-credentials DAG).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, task

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

PDF = str(Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
START = pendulum.datetime(2026, 1, 1, tz="UTC")
VENDORS = ("legalesign", "wesignature", "esignbase")

# ----------------------------------------------------------------------------------------- soak
#: 200 intended sends over the three vendors.
SOAK_COUNTS = {"legalesign": 67, "wesignature": 67, "esignbase": 66}
#: Small, fast hook retries: at 10% faulted calls, two attempts per call make some calls exhaust the
#: hook's budget, so Airflow's own task retries (and the operator's adopt-on-retry) are exercised too.
SOAK_HOOK_PARAMS = {
    "max_attempts": 2,
    "max_retry_seconds": 20,
    "backoff_base": 0.02,
    "backoff_max": 0.1,
    "create_settle_seconds": 0.2,
}
SOAK_RETRIES = 6


def soak_name(vendor: str, index: int) -> str:
    """The intended send's name as the sandbox stores it (WeSignature names it after the file URL)."""
    return f"soak-{vendor}-{index:03d}" + (".pdf" if vendor == "wesignature" else "")


def soak_rows(vendor: str) -> list[dict]:
    rows = []
    for index in range(SOAK_COUNTS[vendor]):
        signer = {"name": f"Signer Number{index:03d}", "email": f"signer{index:03d}@example.com"}
        row: dict = {"document_name": soak_name(vendor, index).removesuffix(".pdf"), "signers": [signer]}
        if vendor == "wesignature":
            # One file name per intended send: WeSignature's exactly-once fingerprint is file name +
            # signers, so identical sends could not be told apart (README, Reliability).
            row["file"] = f"https://files.example.com/soak/{soak_name(vendor, index)}"
        rows.append(row)
    return rows


SOAK_SOURCES = {
    "esignbase": {"template_id": "tpl-nda"},
    "legalesign": {"file": PDF},
    "wesignature": {},
}

with DAG(
    "reliability_soak",
    schedule=None,
    start_date=START,
    params={"destination": "/tmp"},
    default_args={"retries": SOAK_RETRIES, "retry_delay": timedelta(0)},
    max_active_tasks=1000,
):
    for vendor in VENDORS:
        conn_id = f"{vendor}_default"
        send = SendDocumentOperator.partial(
            task_id=f"send_{vendor}", conn_id=conn_id, hook_params=SOAK_HOOK_PARAMS, **SOAK_SOURCES[vendor]
        ).expand_kwargs(soak_rows(vendor))
        wait = DocumentStatusSensor.partial(
            task_id=f"wait_{vendor}",
            conn_id=conn_id,
            mode="poke",
            poke_interval=0.05,
            timeout=120,
            hook_params=SOAK_HOOK_PARAMS,
        ).expand(document_id=send.output)
        DownloadDocumentOperator.partial(
            task_id=f"store_{vendor}",
            conn_id=conn_id,
            destination="{{ params.destination }}/" + vendor,
            hook_params=SOAK_HOOK_PARAMS,
        ).expand(document_id=wait.output.map(lambda document: document["document_id"]))

# ----------------------------------------------------------------------------------------- bad input
with DAG(
    "reliability_bad_input",
    schedule=None,
    start_date=START,
    default_args={"retries": 3, "retry_delay": timedelta(0)},
):
    # A malformed email: the send must fail on try 1 and never be retried (a permanent error).
    SendDocumentOperator(
        task_id="send",
        conn_id="esignbase_default",
        document_name="Bad input",
        signers=[{"name": "Ada Lovelace", "email": "ada(at)example.com"}],
        template_id="tpl-nda",
    )

# ----------------------------------------------------------------------------------------- secrets
SECRETS_SOURCES = {
    "esignbase": {"template_id": "tpl-nda"},
    "legalesign": {"file": PDF},
    "wesignature": {"file": "https://files.example.com/contracts/secrets_check.pdf"},
}

with DAG(
    "reliability_secrets",
    schedule=None,
    start_date=START,
    params={"destination": "/tmp"},
):
    for vendor in VENDORS:
        conn_id = f"{vendor}_default"
        send = SendDocumentOperator(
            task_id=f"send_{vendor}",
            conn_id=conn_id,
            document_name=f"Secrets {vendor}",
            signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
            **SECRETS_SOURCES[vendor],
        )
        wait = DocumentStatusSensor(
            task_id=f"wait_{vendor}", conn_id=conn_id, document_id=send.output, poke_interval=0.1, timeout=60
        )
        store = DownloadDocumentOperator(
            task_id=f"store_{vendor}",
            conn_id=conn_id,
            document_id="{{ ti.xcom_pull(task_ids='wait_" + vendor + "')['document_id'] }}",
            destination="{{ params.destination }}",
        )
        send >> wait >> store

        # Forced failures, one after the other: rejected credentials (HTTP 401), then a vendor
        # error (HTTP 500) injected into the next document read.
        unauthorized = DocumentStatusSensor(
            task_id=f"unauthorized_{vendor}",
            conn_id=f"{vendor}_wrong",
            document_id="{{ ti.xcom_pull(task_ids='send_" + vendor + "') }}",
            poke_interval=0.1,
            timeout=30,
        )

        @task(task_id=f"arm_500_{vendor}", trigger_rule="all_done")
        def arm_500(vendor: str = vendor) -> None:
            from esign_sandbox import SandboxClient

            path = {
                "legalesign": "/document/",
                "wesignature": "documentstatusapi",
                "esignbase": "/api/document/",
            }
            SandboxClient(os.environ["ESIGN_SANDBOX_URL"]).queue_fault(
                "500", vendor=vendor, path_contains=path[vendor]
            )

        arm = arm_500()
        store >> unauthorized >> arm
        DocumentStatusSensor(
            task_id=f"server_error_{vendor}",
            conn_id=conn_id,
            document_id="{{ ti.xcom_pull(task_ids='send_" + vendor + "') }}",
            poke_interval=0.1,
            timeout=30,
            hook_params={"max_attempts": 1},
        ).set_upstream(arm)

# ----------------------------------------------------------------------------------------- 401
with DAG(
    "reliability_unauthorized",
    schedule=None,
    start_date=START,
    default_args={"retries": 3, "retry_delay": timedelta(0)},
):
    for vendor in VENDORS:
        SendDocumentOperator(
            task_id=f"send_{vendor}",
            conn_id=f"{vendor}_wrong",
            document_name="Wrong credentials",
            signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
            **SECRETS_SOURCES[vendor],
        )
