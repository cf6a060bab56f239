"""End-to-end fixtures: a migrated throw-away Airflow DB and connections pointing at the sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def airflow_db():
    """A fresh metadata database in the session's throw-away AIRFLOW_HOME (see tests/conftest.py)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture
def sandbox(esign_sandbox_clean, monkeypatch, airflow_db):
    """The sandbox, reset, fast-signing, with ``AIRFLOW_CONN_*`` for all three vendors set."""
    esign_sandbox_clean.configure(sign_delay=0.3, send_delay=0.1, pdf_delay=0.1)
    for name, value in esign_sandbox_clean.airflow_connections(rate_limit_per_minute=0).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ESIGN_SANDBOX_URL", esign_sandbox_clean.url)
    return esign_sandbox_clean


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
