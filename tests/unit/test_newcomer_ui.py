"""What a newcomer reads: validation messages, readable map indexes, the extra link.

The messages must name the argument the DAG author wrote and say what to do; mapped tasks must
show more than ``0, 1, 2``; a send without a vendor page must not produce a link (or a misleading
"XCom not found" log line while computing one).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.models import SendRequest, Signer
from airflow_provider_esign.validation import (
    require_signers,
    require_single_source,
    require_split_names,
    require_string_metadata,
)

ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


# ------------------------------------------------------------------------------------------ messages
@pytest.mark.parametrize(
    ("signer", "field"),
    [({"name": "Ada Lovelace"}, "signers[0].email"), ({"email": "ada@example.com"}, "signers[0].name")],
)
def test_a_signer_missing_a_required_field_names_it(signer, field):
    with pytest.raises(ESignValidationError) as excinfo:
        require_signers([signer])
    assert excinfo.value.field == field
    assert str(excinfo.value) == f"Invalid {field}: is required: each signer needs a 'name' and an 'email'"
    assert "__init__" not in str(excinfo.value)


def test_first_and_last_name_alone_make_a_name():
    (signer,) = require_signers([{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}])
    assert signer.name == "Ada Lovelace"


def request(**fields) -> SendRequest:
    return SendRequest(name="Contract", signers=(Signer(**ADA),), **fields)


def test_no_document_source_says_what_the_vendor_sends_from():
    with pytest.raises(ESignValidationError) as excinfo:
        require_single_source(request(), allowed={"template_id", "file"}, vendor="Legalesign")
    assert excinfo.value.field == "template_id/file"
    assert excinfo.value.rule == (
        "no document source given; Legalesign sends from a template (template_id) or a file (file)"
    )


def test_two_document_sources_say_give_one():
    with pytest.raises(ESignValidationError) as excinfo:
        require_single_source(
            request(template_id="tpl-1", file="https://x.example/a.pdf"),
            allowed={"file"},
            vendor="WeSignature",
        )
    assert excinfo.value.rule.startswith("give one document source, not both template_id and file")
    assert excinfo.value.rule.endswith("WeSignature sends from a file (file)")


def test_metadata_limit_explains_the_reserved_key():
    metadata = {f"k{i}": "v" for i in range(10)}
    with pytest.raises(ESignValidationError) as excinfo:
        require_string_metadata(
            metadata,
            max_keys=9,
            max_key_length=25,
            max_value_length=500,
            reserved_keys=("airflow_idempotency_key",),
        )
    assert excinfo.value.rule == (
        "at most 9 keys allowed, got 10 (the vendor stores 10 keys; this provider reserves "
        "'airflow_idempotency_key' for its idempotency key)"
    )
    with pytest.raises(ESignValidationError) as plain:  # callers that reserve nothing: no aside
        require_string_metadata(metadata, max_keys=9, max_key_length=25, max_value_length=500)
    assert plain.value.rule == "at most 9 keys allowed, got 10"


def test_split_name_rule_names_the_vendor():
    with pytest.raises(ESignValidationError) as excinfo:
        require_split_names(
            [Signer(name="Ada", email="ada@example.com")], pattern=None, max_length=60, vendor="eSignBase"
        )
    assert excinfo.value.rule.startswith("eSignBase needs a first and a last name")


def test_send_operator_names_document_name_not_the_request_field(monkeypatch):
    from airflow_provider_esign.operators.send import SendDocumentOperator

    def reject_name(request):
        raise ESignValidationError("name", "must be at most 60 characters, got 61")

    operator = SendDocumentOperator(
        task_id="send", conn_id="x", document_name="N" * 61, signers=[ADA], template_id="t"
    )
    monkeypatch.setattr(operator, "get_hook", lambda: SimpleNamespace(validate_send_request=reject_name))
    with pytest.raises(ESignValidationError) as excinfo:
        operator.execute({"ti": SimpleNamespace()})
    assert str(excinfo.value) == "Invalid document_name: must be at most 60 characters, got 61"


# --------------------------------------------------------------------------------------- map indexes
def test_every_mapped_document_task_has_a_readable_map_index():
    from airflow.sdk import DAG

    from airflow_provider_esign.operators.download import DownloadDocumentOperator
    from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator
    from airflow_provider_esign.operators.map_index import DOCUMENT_MAP_INDEX_TEMPLATE
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    with DAG("map_index_defaults", schedule=None):
        tasks = [
            DocumentStatusSensor.partial(task_id="wait", conn_id="c").expand(document_id=["a"]),
            DownloadDocumentOperator.partial(task_id="store", conn_id="c", destination="/tmp").expand(
                document_id=["a"]
            ),
            CancelDocumentOperator.partial(task_id="cancel", conn_id="c").expand(document_id=["a"]),
            SendReminderOperator.partial(task_id="remind", conn_id="c").expand(document_id=["a"]),
        ]
    for mapped in tasks:
        assert mapped.partial_kwargs["map_index_template"] == DOCUMENT_MAP_INDEX_TEMPLATE, mapped.task_id


def test_mapped_batch_sensor_and_own_templates():
    from airflow.sdk import DAG

    from airflow_provider_esign.operators.map_index import BATCH_MAP_INDEX_TEMPLATE
    from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    with DAG("map_index_batch", schedule=None):
        batch = BatchDocumentStatusSensor.partial(task_id="batch", conn_id="c").expand(document_ids=[["a"]])
        own = DocumentStatusSensor.partial(
            task_id="own", conn_id="c", map_index_template="{{ task.conn_id }}"
        )
        own = own.expand(document_id=["a"])
    assert batch.partial_kwargs["map_index_template"] == BATCH_MAP_INDEX_TEMPLATE
    assert own.partial_kwargs["map_index_template"] == "{{ task.conn_id }}"  # the author's wins


def render(template: str, **context) -> str:
    import jinja2

    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(**context)


def test_the_label_falls_back_to_the_document_id_until_the_task_knows_the_name():
    from airflow_provider_esign.operators.map_index import DOCUMENT_MAP_INDEX_TEMPLATE, set_map_label

    task = SimpleNamespace(document_id="doc-17")
    assert render(DOCUMENT_MAP_INDEX_TEMPLATE, task=task) == "doc-17"
    context: dict = {"task": task}
    set_map_label(context, "NDA Acme")
    assert render(DOCUMENT_MAP_INDEX_TEMPLATE, **context) == "NDA Acme"


def test_the_sensor_labels_its_map_index_with_the_document_name(monkeypatch):
    from airflow_provider_esign.models import DocumentInfo, DocumentStatus
    from airflow_provider_esign.operators.map_index import MAP_LABEL_KEY
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    document = DocumentInfo("doc-17", "esignbase", "NDA Acme", DocumentStatus.SENT, "SENT")
    sensor = DocumentStatusSensor(task_id="wait", conn_id="c", document_id="doc-17")
    monkeypatch.setattr(sensor, "get_hook", lambda: SimpleNamespace(get_document=lambda _id: document))
    context: dict = {}
    assert sensor.poke(context).is_done is False
    assert context[MAP_LABEL_KEY] == "NDA Acme"


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
