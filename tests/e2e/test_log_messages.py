"""What a DAG author reads in the logs and errors, against the sandbox.

* Right after a send the log says the document was sent, not "is DRAFT" (which reads as "not sent").
* A finished wait does not say "waiting for"; an unfinished one says how many signers have signed.
* A template id that does not exist names ``template_id`` and its value.
"""

from __future__ import annotations

import pathlib
from types import SimpleNamespace

import pytest

from airflow_provider_esign.exceptions import ESignNotFoundError

pytestmark = pytest.mark.e2e
PDF = str(pathlib.Path(__file__).parents[2] / "example_dags" / "data" / "sample_agreement.pdf")
TWO_SIGNERS = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Grace Hopper", "email": "grace@example.com"},
]


def fake_context() -> dict:
    pushed: dict = {}
    ti = SimpleNamespace(
        dag_id="d", task_id="send", run_id="r", map_index=-1, try_number=1,
        xcom_push=lambda key, value: pushed.__setitem__(key, value),
    )  # fmt: skip
    return {"ti": ti, "dag_run": None}


def test_a_template_id_that_does_not_exist_is_named_with_its_value(sandbox):
    from airflow_provider_esign.hooks.esignbase.hook import ESignBaseHook
    from airflow_provider_esign.models import SendRequest, Signer

    hook = ESignBaseHook(conn_id="esignbase_default")
    request = SendRequest(name="NDA", signers=(Signer(name="Ada Lovelace", email="ada@example.com"),),
                          template_id="tpl-does-not-exist")  # fmt: skip
    with pytest.raises(ESignNotFoundError) as excinfo:
        hook.send_document(request, idempotency_key="af-test")
    assert "template_id 'tpl-does-not-exist'" in str(excinfo.value)
    assert sandbox.documents("esignbase") == []  # nothing was created


def test_the_send_log_says_sent_and_the_waits_say_how_far_signing_got(sandbox, capfd):
    from airflow_provider_esign.operators.send import SendDocumentOperator
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    sandbox.configure(sign_delay=3600, send_delay=0)  # nobody signs until the test says so
    send = SendDocumentOperator(task_id="send", conn_id="legalesign_default", document_name="Employment",
                                signers=TWO_SIGNERS, file=PDF)  # fmt: skip
    capfd.readouterr()
    document_id = send.execute(fake_context())
    out = capfd.readouterr().out  # Airflow's task logger writes to stdout
    assert f"Sent document {document_id} (Employment) with legalesign" in out
    assert f"Document {document_id} (Employment) is " not in out

    wait = DocumentStatusSensor(task_id="wait", conn_id="legalesign_default", document_id=document_id,
                                document_name="Employment - Acme")  # fmt: skip
    sandbox.sign("legalesign", document_id, "ada@example.com")  # the first signer signs
    context: dict = {}
    assert wait.poke(context).is_done is False
    out = capfd.readouterr().out
    assert "1 of 2 signed; waiting for status COMPLETED" in out, out
    assert context["esign_map_label"] == "Employment - Acme"

    sandbox.sign("legalesign", document_id, "grace@example.com")
    sandbox.advance_clock(60)  # the signed PDF is built
    assert wait.poke({}).is_done is True
    out = capfd.readouterr().out
    assert "2 of 2 signed: status COMPLETED reached" in out
    assert "waiting for" not in out
