"""End-to-end helpers: DAG runs and what they record (the ``sandbox`` and ``airflow_db`` fixtures are in
tests/conftest.py)."""

from __future__ import annotations


def run_dag(dag_id: str, **run_conf):
    """``dag.test()`` of a DAG in tests/dags, returning the finished DagRun."""
    from airflow.sdk.definitions.dag import DAG  # noqa: F401 (imported for type clarity)

    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag
    import os

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id].test(run_conf=run_conf or None)


def signed_document_events(run) -> list:
    """The signed-documents asset events a DAG run recorded (detached ORM rows: ``extra``, ``timestamp``)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from airflow_provider_esign.assets import SIGNED_DOCUMENTS_URI

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == SIGNED_DOCUMENTS_URI, AssetEvent.source_run_id == run.run_id)
        ).all()
        session.expunge_all()
        return list(rows)


def clear_contract_records() -> None:
    """Forget the Contracts page's records left by earlier tests of the session (their sandbox documents
    are gone), so a test sees exactly the documents it sends."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    from airflow_provider_esign.contracts import CONTRACT_XCOM_KEY

    with create_session() as session:
        session.execute(delete(XComModel).where(XComModel.key == CONTRACT_XCOM_KEY))


def leave_task_context() -> None:
    """Undo what ``dag.test()`` leaves behind in this process on Airflow 3.1 (its in-process supervisor
    channel, which later connection lookups would go through), so code that runs afterwards looks up
    connections as an API server does."""
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover
        return
    if getattr(task_runner, "SUPERVISOR_COMMS", None) is not None:
        task_runner.SUPERVISOR_COMMS = None


def airflow_31_fernet_workaround(monkeypatch) -> dict[str, str]:
    """On Airflow 3.1, core's ``Connection`` cannot be built while a Fernet key is configured with
    cryptography >= 45 (``get_fernet`` sets an attribute on the now-native ``MultiFernet``), which breaks
    every connection lookup in an API-server context. There, tests run without a Fernet key; newer
    Airflow versions are tested as configured. Returns the environment to give a server subprocess."""
    import airflow
    from packaging.version import Version

    if Version(airflow.__version__) >= Version("3.2"):
        return {}
    from airflow.models import crypto

    monkeypatch.setenv("AIRFLOW__CORE__FERNET_KEY", "")
    monkeypatch.setattr(crypto, "_fernet", None)
    return {"AIRFLOW__CORE__FERNET_KEY": ""}
