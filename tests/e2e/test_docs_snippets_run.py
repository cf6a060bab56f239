"""The docs' DAGs that need nothing but a connection and a document id are run, not only parsed.

tests/docs/test_snippets.py parses every Python block of the docs as a DAG file. The blocks below
also run, with ``dag.test()`` against the sandbox: the block is written to a DAG file as it stands
on its page, a document is created in the sandbox in the state the DAG expects, and the run must
succeed. That catches what parsing cannot: a missing required argument, a wrong hook method, an
event shape the example misreads.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.docs.test_snippets import PYTHON

pytestmark = pytest.mark.e2e
SIGNER = {"name": "Ada Lovelace", "email": "ada@example.com"}
#: dag_id -> the vendor whose sandbox account gets a completed document for the run.
RUNNABLE = {
    "legalesign_document_report": "legalesign",
    "wesignature_document_report": "wesignature",
    "esignbase_document_report": "esignbase",
    "wait_for_one_contract": "legalesign",
    "custom_wait": "esignbase",
}


def block_defining(dag_id: str) -> tuple[str, str]:
    found = [(page, code) for page, _, code in PYTHON if f"def {dag_id}(" in code]
    assert len(found) == 1, f"{dag_id}: expected one docs block defining it, found {len(found)}"
    return found[0]


@pytest.mark.parametrize("dag_id", sorted(RUNNABLE))
def test_docs_dag_runs_against_the_sandbox(sandbox, monkeypatch, tmp_path, dag_id):
    page, code = block_defining(dag_id)
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / f"{dag_id}.py").write_text(code)
    # dag.test() serializes the DAG from the dags-folder bundle first: make that this folder.
    from airflow import settings

    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(folder))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, f"{page}: {bag.import_errors}"
    vendor = RUNNABLE[dag_id]
    document = sandbox.create_document(vendor, name="Docs example", signers=[SIGNER], status="completed")
    run = bag.dags[dag_id].test(logical_date=None, run_conf={"document_id": document["id"]})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", f"{page}: {dag_id} {states}"
    assert set(states.values()) == {"success"}, f"{page}: {dag_id} {states}"


def test_the_runs_cover_pages_the_parse_test_also_checks():
    pages = {block_defining(dag_id)[0] for dag_id in RUNNABLE}
    assert {"docs/howto/wait.md", "docs/vendors/legalesign.md"} <= pages
    assert all(pathlib.Path(__file__).parents[2].joinpath(page).exists() for page in pages)
