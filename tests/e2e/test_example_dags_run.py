"""Every example DAG runs once as a manual run without a logical date, against the sandbox.

``airflow dags trigger`` and the UI's Trigger button create Airflow 3 runs with no logical date, so
``{{ ds }}`` and friends are undefined there. ``dag.test(logical_date=None)`` creates exactly such a
run (run type manual, ``logical_date`` None) on Airflow 3.1.8 and 3.3.x alike, then executes every
task for real: templates render, operators talk HTTP to the sandbox, PDFs are stored.
"""

from __future__ import annotations

import pathlib

import pytest

pytestmark = pytest.mark.e2e
EXAMPLES = pathlib.Path(__file__).parents[2] / "example_dags"
PDF = str(EXAMPLES / "data" / "sample_agreement.pdf")
SOURCES = {
    "esignbase_default": {"template_id": "tpl-nda", "file": ""},
    "legalesign_default": {"template_id": "", "file": PDF},
    "wesignature_default": {"template_id": "", "file": "https://example.com/contracts/sample_agreement.pdf"},
}


@pytest.fixture
def examples(sandbox, monkeypatch, tmp_path):
    """The example DagBag, parsed with a short poll interval and a throw-away ETL database."""
    monkeypatch.setenv("ESIGN_EXAMPLE_POLL_SECONDS", "0.2")
    monkeypatch.setenv("ESIGN_ETL_DB", str(tmp_path / "contracts.db"))
    monkeypatch.setenv("ESIGN_SIGNED_DIR", str(tmp_path / "signed-by-event"))
    monkeypatch.setenv("ESIGN_LEDGER_DB", str(tmp_path / "ledger.db"))
    # dag.test() serializes the DAG from the dags-folder bundle first: make that the examples.
    from airflow import settings

    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(EXAMPLES))
    monkeypatch.setattr(settings, "DAGS_FOLDER", str(EXAMPLES))
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert not bag.import_errors, bag.import_errors
    return bag


def manual_run(bag, dag_id: str, **conf):
    run = bag.dags[dag_id].test(logical_date=None, run_conf=conf or None)
    assert run.logical_date is None  # what `airflow dags trigger` creates on Airflow 3
    return run


def states(run) -> dict:
    return {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}


@pytest.mark.parametrize("conn_id", sorted(SOURCES))
def test_send_and_store_without_a_logical_date(examples, sandbox, tmp_path, conn_id):
    run = manual_run(
        examples, "esign_send_and_store", conn_id=conn_id, destination=str(tmp_path), **SOURCES[conn_id]
    )
    assert run.state == "success", states(run)
    vendor = conn_id.removesuffix("_default")
    (document,) = sandbox.documents(vendor)
    stored = tmp_path / f"{document['id']}.pdf"
    assert stored.read_bytes() == sandbox.pdf_bytes(vendor, document["id"])
    # The name carries the run's date, taken from run_after (manual runs have no logical date);
    # the send's map index shows the rendered name and the signer.
    name = f"Agreement {run.run_after:%Y-%m-%d}"
    (send,) = [ti for ti in run.get_task_instances() if ti.task_id == "send_contract"]
    assert send.rendered_map_index == f"{name}: ada@example.com"
    if vendor != "wesignature":  # WeSignature titles a document after its file name (for now)
        assert document["name"] == name


def test_batch_without_a_logical_date_has_readable_map_indexes(examples, sandbox, tmp_path, capfd):
    run = manual_run(
        examples, "esign_batch_contracts", conn_id="legalesign_default", destination=str(tmp_path)
    )
    assert run.state == "success", states(run)
    assert "XCom not found" not in capfd.readouterr().out  # the summary reads its lists in one go
    documents = sandbox.documents("legalesign")
    assert len(documents) == 5 and len(list(tmp_path.glob("*.pdf"))) == 5
    labels = {}
    for ti in run.get_task_instances():
        if ti.map_index >= 0:
            labels.setdefault(ti.task_id, set()).add(ti.rendered_map_index)
    names = {d["name"] for d in documents}
    assert labels["wait_signed"] == names  # the document's name, not 0..4
    # The stored file's name where the download did not need to read the document's name.
    assert len(labels["store"]) == 5
    assert labels["store"] <= names | {f"{d['id']}.pdf" for d in documents}
    assert all(label and "@" in label for label in labels["send"])  # "<name>: <signer emails>"


@pytest.mark.parametrize("dag_id", ["esign_post_signature_etl", "esign_on_signed"])
def test_asset_scheduled_examples_also_run_by_hand(examples, tmp_path, dag_id):
    """Triggered by hand there are no asset events: the run succeeds and loads nothing."""
    run = manual_run(examples, dag_id)
    assert run.state == "success", states(run)
    assert (tmp_path / "contracts.db").exists()


def test_contract_ledger_syncs_and_reports_pending_contracts(examples, sandbox, tmp_path):
    """The hourly ledger example, run for real: the account lands in the embedded SQLite file and the
    report names each contract pending longer than the threshold and who still has to sign it."""
    import sqlite3

    sandbox.configure(sign_delay=None, pdf_delay=0)
    sandbox.seed_history(120, vendors=["legalesign"])
    two = [
        {"name": "Ada Lovelace", "email": "ada@example.com"},
        {"name": "Bob Byron", "email": "bob@example.com"},
    ]
    pending = sandbox.create_document("legalesign", name="Lease", signers=two, status="partially_signed")[
        "id"
    ]
    sandbox.create_document("legalesign", name="Signed NDA", signers=two, status="completed")
    # Threshold 0 days: every open contract is "pending too long"; the report still leaves out the
    # signed ones, the history and the signer who already signed.
    run = manual_run(examples, "esign_contract_ledger", conn_id="legalesign_default", pending_days=0)
    assert run.state == "success", states(run)
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT COUNT(*) FROM esign_documents").fetchone()[0] == 122
    (report,) = [ti for ti in run.get_task_instances() if ti.task_id == "pending_report"]
    found = report.xcom_pull(task_ids="pending_report")
    assert [(p["document_id"], p["waiting_for"]) for p in found] == [(pending, ["bob@example.com"])]


def test_every_example_dag_is_covered(examples):
    covered = {
        "esign_send_and_store",
        "esign_batch_contracts",
        "esign_post_signature_etl",
        "esign_on_signed",
        "esign_contract_ledger",
    }
    assert set(examples.dags) == covered


def test_a_failed_send_logs_no_missing_xcom(sandbox, capfd):
    """A send rejected for bad input fails cleanly: its extra link does not look up an XCom."""
    from tests.e2e.conftest import run_dag

    run = run_dag("reliability_bad_input")
    assert run.state == "failed"
    out = capfd.readouterr().out
    assert "Invalid signers[0].email" in out
    assert "XCom not found" not in out
