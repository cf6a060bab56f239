"""Remind, then escalate: a contract nobody signs does not wait forever in silence.

Send one contract, wait up to ``ESIGN_REMIND_AFTER_SECONDS`` (default 3 days) for it to be completed; if
nobody has signed by then, remind the signers and wait up to ``ESIGN_ESCALATE_AFTER_SECONDS`` more (default
4 days); if it is still unsigned, escalate: the contract is withdrawn (``cancel_unsigned``, eSignBase and
Legalesign; WeSignature has no cancel API) and the run logs who did not sign, for the owner to follow up.
A contract signed in time skips the reminder and the escalation::

    airflow dags test esign_remind_then_escalate -c '{"signer_email": "you@example.com"}'

Reminders are Legalesign's (the other vendors' APIs have none), so the defaults send the PDF shipped
beside this file with the ``legalesign_default`` connection.

The waits time out into a *skip* (``soft_fail``); after each wait a branch reads the document once and
picks the path: remind (then escalate) while it is still unsigned, nothing more once it is completed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, task

from airflow_provider_esign.operators.manage import SendReminderOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor

REMIND_AFTER = float(os.environ.get("ESIGN_REMIND_AFTER_SECONDS", pendulum.duration(days=3).total_seconds()))
ESCALATE_AFTER = float(
    os.environ.get("ESIGN_ESCALATE_AFTER_SECONDS", pendulum.duration(days=4).total_seconds())
)
PDF = Path(__file__).parent / "data" / "sample_agreement.pdf"
POLL_SECONDS = float(os.environ.get("ESIGN_EXAMPLE_POLL_SECONDS", "60"))


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={
        "conn_id": Param(
            "legalesign_default",
            type="string",
            title="Connection",
            description="A Legalesign connection (the vendor with a reminder API).",
        ),
        "template_id": Param(
            None,
            type=["null", "string"],
            title="Template id",
            description="A Legalesign template PDF id, instead of the file.",
        ),
        "file": Param(
            str(PDF),
            type=["null", "string"],
            title="File",
            description="The PDF to send (default: the sample beside this DAG).",
        ),
        "signer_email": Param(
            "ada@example.com",
            type="string",
            title="Signer email",
            description="Who is asked to sign (and reminded).",
        ),
        "cancel_unsigned": Param(
            True,
            type="boolean",
            title="Withdraw unsigned contracts",
            description="On escalation, cancel the contract where the vendor can.",
        ),
    },
    tags=["esign", "example"],
    doc_md=__doc__,
)
def esign_remind_then_escalate():
    send = SendDocumentOperator(
        task_id="send",
        conn_id="{{ params.conn_id }}",
        document_name="Agreement {{ dag_run.run_after | ds }}",
        signers=[{"name": "Ada Lovelace", "email": "{{ params.signer_email }}"}],
        template_id="{{ params.template_id if not params.file else '' }}",
        file="{{ params.file or '' }}",
    )
    first_wait = DocumentStatusSensor(
        task_id="wait_before_reminding",
        conn_id="{{ params.conn_id }}",
        document_id=send.output,
        mode="reschedule",  # no worker slot held between polls
        poke_interval=POLL_SECONDS,
        timeout=REMIND_AFTER,
        soft_fail=True,  # a timeout skips instead of failing: the branch below decides
    )

    # none_failed: run once the wait is over, whether it succeeded or timed out (skipped). A sensor
    # waiting in reschedule mode is not "done", so this waits for it; "all_skipped" would not (it skips
    # as soon as an upstream task is in any other state, up_for_reschedule included).
    @task.branch(trigger_rule="none_failed")
    def still_unsigned_after_first_wait(document_id: str, params=None):
        return "remind" if _unsigned(params["conn_id"], document_id) else []

    remind = SendReminderOperator(
        task_id="remind",
        conn_id="{{ params.conn_id }}",
        document_id=send.output,
        text="A friendly reminder: your contract is waiting for your signature.",
    )
    last_wait = DocumentStatusSensor(
        task_id="wait_before_escalating",
        conn_id="{{ params.conn_id }}",
        document_id=send.output,
        mode="reschedule",
        poke_interval=POLL_SECONDS,
        timeout=ESCALATE_AFTER,
        soft_fail=True,
    )

    @task.branch(trigger_rule="none_failed")
    def still_unsigned_after_reminder(document_id: str, params=None):
        return "escalate" if _unsigned(params["conn_id"], document_id) else []

    @task
    def escalate(document_id: str, params=None) -> dict:
        """Withdraw the contract where the vendor can, and say who did not sign."""
        from airflow_provider_esign.exceptions import ESignUnsupportedError
        from airflow_provider_esign.hooks import get_hook

        hook = get_hook(params["conn_id"])
        document = hook.get_document(document_id)
        unsigned = [s.email for s in document.signers if s.status.value != "SIGNED"]
        cancelled = False
        if params["cancel_unsigned"]:
            try:
                hook.cancel_document(document_id)
                cancelled = True
            except ESignUnsupportedError as error:
                print(f"Not withdrawn: {error}")
        print(
            f"ESCALATION: document {document_id} ({document.name}) unsigned by {', '.join(unsigned)}; "
            f"withdrawn: {cancelled}"
        )
        return {"document_id": document_id, "unsigned": unsigned, "cancelled": cancelled}

    first_check = still_unsigned_after_first_wait(send.output)
    last_check = still_unsigned_after_reminder(send.output)
    send >> first_wait >> first_check >> remind >> last_wait >> last_check >> escalate(send.output)


def _unsigned(conn_id: str, document_id: str) -> bool:
    """Whether the document still waits for signatures (not completed, not declined or voided)."""
    from airflow_provider_esign.hooks import get_hook

    status = get_hook(conn_id).get_document(document_id).status
    return not (status.value == "COMPLETED" or status.is_failure)


esign_remind_then_escalate()
