"""SyncDocumentsOperator: bad input fails before any call, its outlets, lineage and Airflow records."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.ledger.airflow_records import _split, parse_send_tasks
from airflow_provider_esign.operators.sync import SyncDocumentsOperator, _days, ledger_asset


def test_bad_arguments_name_the_field():
    with pytest.raises(ESignValidationError, match="table_prefix"):
        SyncDocumentsOperator(task_id="s", conn_id="c", table_prefix="x; DROP TABLE y")
    with pytest.raises(ESignValidationError, match="pending_after_days"):
        SyncDocumentsOperator(task_id="s", conn_id="c", pending_after_days=-1)
    with pytest.raises(ESignValidationError, match="pending_after_days"):
        _days("soon")
    assert _days("7") == 7.0  # rendered from a template


def test_a_rendered_bad_threshold_fails_before_any_connection_is_opened(monkeypatch):
    op = SyncDocumentsOperator(task_id="s", conn_id="c", pending_after_days="{{ params.days }}")
    op.pending_after_days = "-3"  # as rendered
    monkeypatch.setattr(op, "destination_hook", lambda: pytest.fail("opened a database"))
    with pytest.raises(ESignValidationError, match="pending_after_days"):
        op.execute({"run_id": "r"})


class _Opened(Exception):
    """Raised where the task would open the destination database."""


def _rendered(monkeypatch, prefix, **kwargs):
    """An operator with a templated prefix, as execute sees it once Airflow has rendered it."""
    op = SyncDocumentsOperator(task_id="s", conn_id="c", table_prefix="{{ params.prefix }}", **kwargs)
    op.table_prefix = prefix

    def opened():
        raise _Opened()

    monkeypatch.setattr(op, "destination_hook", opened)
    monkeypatch.setattr(type(op), "hook", property(lambda self: pytest.fail("called the vendor")))
    return op


@pytest.mark.parametrize(
    "prefix",
    ["x; DROP TABLE esign_documents; --", "\uff45sign_", "1esign_", "a" * 42, 7, ["esign_"], None],
)
def test_a_rendered_bad_prefix_fails_before_any_connection_or_call(monkeypatch, prefix):
    op = _rendered(monkeypatch, prefix)
    with pytest.raises(ESignValidationError, match=r"table_prefix.*\^\[A-Za-z_\]"):
        op.execute({"run_id": "r"})


def test_a_rendered_good_prefix_names_the_outlet(monkeypatch):
    op = _rendered(monkeypatch, "sig_", destination_conn_id="warehouse")
    with pytest.raises(_Opened):  # validated, outlet built, then the database would be opened
        op.execute({"run_id": "r"})
    assert [o.uri for o in op.outlets] == ["esign://ledger/warehouse/sig_documents"]


def test_unicode_digits_and_letters_are_refused_at_parse_time():
    for prefix in ("\uff45sign_", "x\u0663", "9x", 5):
        with pytest.raises(ESignValidationError, match="table_prefix"):
            SyncDocumentsOperator(task_id="s", conn_id="c", table_prefix=prefix)


def test_the_outlet_names_the_destination_and_prefix():
    op = SyncDocumentsOperator(task_id="s", conn_id="c", destination_conn_id="warehouse", table_prefix="sig_")
    assert [o.uri for o in op.outlets] == ["esign://ledger/warehouse/sig_documents"]
    assert ledger_asset(None).uri == "esign://ledger/embedded/esign_documents"


def test_a_destination_that_is_not_sql_fails_without_retry(monkeypatch):
    from airflow.providers.common.compat.sdk import AirflowFailException

    monkeypatch.setenv("AIRFLOW_CONN_NOT_SQL", '{"conn_type": "http", "host": "example.com"}')
    op = SyncDocumentsOperator(task_id="s", conn_id="c", destination_conn_id="not_sql")
    with pytest.raises(AirflowFailException, match="not a SQL connection"):
        op.destination_hook()


def test_send_tasks_default_to_the_send_tasks_of_its_dag():
    import pendulum
    from airflow.sdk import DAG

    from airflow_provider_esign.operators.send import SendDocumentOperator

    with DAG("contracts", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        SendDocumentOperator(task_id="send", conn_id="c", document_name="x", signers=[], template_id="t")
        op = SyncDocumentsOperator(task_id="sync", conn_id="c")
    assert op._send_tasks() == ["contracts.send"]


def test_send_task_names_and_mapped_state_keys():
    assert parse_send_tasks(["a.send", "a.group.send", "b.s"]) == {"a": ["send", "group.send"], "b": ["s"]}
    with pytest.raises(ESignValidationError, match="send_tasks"):
        parse_send_tasks(["nodot"])
    assert _split("send", ["send"]) == ("send", -1)
    assert _split("send_3", ["send"]) == ("send", 3)
    assert _split("send_report", ["send"]) is None


def test_lineage_reports_the_account_in_and_the_tables_out(make_connection):
    make_connection("esignbase_default", "esignbase", host="http://127.0.0.1:1", login="u", password="p")
    op = SyncDocumentsOperator(task_id="s", conn_id="esignbase_default", destination_conn_id="wh")
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("esignbase://esignbase_default", "documents")]
    assert ("sqlite://wh", "esign_documents") in [(d.namespace, d.name) for d in lineage.outputs]
    assert len(lineage.outputs) == 5
