"""The document link: from the send that just ran (never an XCom lookup), registered only when asked for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_esign.exceptions import ESignValidationError

ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


# ------------------------------------------------------------------------------------------ the link
def test_the_link_comes_from_the_send_that_just_ran_never_from_an_xcom_lookup(monkeypatch):
    from airflow.providers.common.compat import sdk

    from airflow_provider_esign.links import DOCUMENT_URL_ATTRIBUTE, ESignDocumentLink
    from airflow_provider_esign.operators.send import SendDocumentOperator

    def no_lookup(**_):
        raise AssertionError("the link must not query XCom (a failed send logs 'XCom not found')")

    monkeypatch.setattr(sdk.XCom, "get_value", no_lookup, raising=False)
    operator = SendDocumentOperator(task_id="send", conn_id="x", document_name="n", signers=[ADA])
    link = ESignDocumentLink()
    assert link.get_link(operator, ti_key=None) == ""  # never ran: no link, hidden in the UI
    setattr(operator, DOCUMENT_URL_ATTRIBUTE, "")  # ran, the vendor has no page
    assert link.get_link(operator, ti_key=None) == ""
    setattr(operator, DOCUMENT_URL_ATTRIBUTE, "https://app.wesignature.com/edit/1")
    assert link.get_link(operator, ti_key=None) == "https://app.wesignature.com/edit/1"


def test_a_failed_send_resets_the_link_first(monkeypatch):
    from airflow_provider_esign.links import DOCUMENT_URL_ATTRIBUTE
    from airflow_provider_esign.operators.send import SendDocumentOperator

    operator = SendDocumentOperator(task_id="send", conn_id="x", document_name="n", signers=[{"name": "Ada"}])
    setattr(operator, DOCUMENT_URL_ATTRIBUTE, "https://stale.example/")
    with pytest.raises(ESignValidationError):
        operator.execute({"ti": SimpleNamespace()})
    assert getattr(operator, DOCUMENT_URL_ATTRIBUTE) == ""


def test_the_link_is_registered_only_when_asked_for():
    """The UI shows an "Extra Links" heading for every registered link, empty or not: Legalesign and
    eSignBase have no per-document page, so a send registers the link only with document_link=True."""
    from airflow.sdk import DAG

    try:
        from airflow.serialization.serialized_objects import DagSerialization as serializer
    except ImportError:  # Airflow < 3.2
        from airflow.serialization.serialized_objects import SerializedDAG as serializer  # type: ignore

    from airflow_provider_esign.operators.send import SendDocumentOperator

    with DAG("links", schedule=None) as dag:
        common = {"conn_id": "c", "document_name": "NDA", "signers": [ADA], "template_id": "t"}
        SendDocumentOperator(task_id="plain", **common)
        SendDocumentOperator(task_id="linked", document_link=True, **common)
    tasks = {t["__var"]["task_id"]: t["__var"] for t in serializer.to_dict(dag)["dag"]["tasks"]}
    assert not tasks["plain"].get("_operator_extra_links")
    assert tasks["linked"]["_operator_extra_links"] == {"E-Signature document": "_link_ESignDocumentLink"}
