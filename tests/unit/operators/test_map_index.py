"""Mapped-task naming: one mixin gives every document task a readable map index (not 0, 1, 2)."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
)
from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor


def test_one_mixin_names_mapped_tasks():
    from airflow_provider_esign.operators.download import DownloadDocumentOperator
    from airflow_provider_esign.operators.manage import CancelDocumentOperator, SendReminderOperator
    from airflow_provider_esign.operators.map_index import MappedTaskNaming
    from airflow_provider_esign.operators.send import SendDocumentOperator
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    for cls in (SendDocumentOperator, DocumentStatusSensor, BatchDocumentStatusSensor, DownloadDocumentOperator,
                CancelDocumentOperator, SendReminderOperator):  # fmt: skip
        assert issubclass(cls, MappedTaskNaming), cls
        assert "map_index_template" not in inspect.getsource(cls), f"{cls.__name__} sets its own default"


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
    from airflow_provider_esign.operators.map_index import MAP_LABEL_KEY
    from airflow_provider_esign.sensors.status import DocumentStatusSensor

    document = DocumentInfo("doc-17", "esignbase", "NDA Acme", DocumentStatus.SENT, "SENT")
    sensor = DocumentStatusSensor(task_id="wait", conn_id="c", document_id="doc-17")
    monkeypatch.setattr(sensor, "get_hook", lambda: SimpleNamespace(get_document=lambda _id: document))
    context: dict = {}
    assert sensor.poke(context).is_done is False
    assert context[MAP_LABEL_KEY] == "NDA Acme"
