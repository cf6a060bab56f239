"""Every example DAG imports into a DagBag without errors, and has the shape its README promises."""

from __future__ import annotations

import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "example_dags"


@pytest.fixture(scope="module")
def dagbag():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))  # LOAD_EXAMPLES is off in conftest


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert len(list(EXAMPLES.glob("*.py"))) == len(dagbag.dags)


def test_expected_dags(dagbag):
    assert {"esign_batch_contracts", "esign_send_and_store", "esign_post_signature_etl"} <= set(dagbag.dags)


def test_batch_is_mapped_send_wait_store_summary(dagbag):
    dag = dagbag.dags["esign_batch_contracts"]
    assert type(dag.timetable).__name__ != "NullTimetable"  # scheduled, not manual only
    assert set(dag.task_dict) >= {"read_recipients", "send", "wait_signed", "store", "summary"}
    assert dag.task_dict["store"].downstream_task_ids == {"summary"}
    assert dag.task_dict["wait_signed"].partial_kwargs["deferrable"] is True


def test_etl_is_scheduled_on_the_signed_documents_asset(dagbag):
    from airflow_provider_esign.assets import SIGNED_DOCUMENTS_URI

    dag = dagbag.dags["esign_post_signature_etl"]
    assert SIGNED_DOCUMENTS_URI in str(dag.timetable.asset_condition)


def test_on_signed_is_scheduled_on_the_watched_completed_documents_asset(dagbag):
    from airflow_provider_esign.assets import COMPLETED_DOCUMENTS_URI
    from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

    dag = dagbag.dags["esign_on_signed"]
    (asset,) = dag.timetable.asset_condition.objects
    assert asset.uri == COMPLETED_DOCUMENTS_URI
    (watcher,) = asset.watchers
    assert isinstance(watcher.trigger, DocumentCompletedEventTrigger)
    assert watcher.trigger.conn_id == "wesignature_default"  # no webhooks there: one path per connection
    assert set(dag.task_dict) == {"load_completed_contracts"}


def test_contract_ledger_syncs_hourly_then_reports(dagbag):
    from airflow_provider_esign.operators.sync import SyncDocumentsOperator

    dag = dagbag.dags["esign_contract_ledger"]
    assert dag.schedule == "@hourly"
    assert isinstance(dag.task_dict["sync"], SyncDocumentsOperator)
    assert dag.task_dict["sync"].downstream_task_ids == {"pending_report"}
    assert [o.uri for o in dag.task_dict["sync"].outlets] == ["esign://ledger/embedded/esign_documents"]


def test_templates_read_only_declared_params(dagbag):
    import re

    for dag in dagbag.dags.values():
        used = set(re.findall(r"\bparams\.(\w+)\b(?!\s*\()", pathlib.Path(dag.fileloc).read_text()))
        assert used <= set(dag.params), f"{dag.dag_id}: undeclared params {used - set(dag.params)}"


def test_params_explain_themselves_in_the_trigger_form(dagbag):
    """Every param of a manually runnable example has a title and a description for the UI form."""
    for dag_id in ("esign_send_and_store", "esign_batch_contracts"):
        params = dagbag.dags[dag_id].params
        assert params
        for name in params:
            param = params.get_param(name)
            assert param.schema.get("title") and param.description, f"{dag_id}.{name}"
        assert "legalesign_default" in params.get_param("conn_id").schema["examples"]
