"""Every example DAG runs once as a manual run without a logical date, against the sandbox.

``airflow dags trigger`` and the UI's Trigger button create Airflow 3 runs with no logical date, so
``{{ ds }}`` and friends are undefined there. ``dag.test(logical_date=None)`` creates exactly such a
run (run type manual, ``logical_date`` None) on Airflow 3.1.8 and 3.3.x alike, then executes every
task for real: templates render, operators talk HTTP to the sandbox, PDFs are stored.
"""

from __future__ import annotations

import csv
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


CSV_NAMES = {
    f"{row['contract']} - {row['company']}"
    for row in csv.DictReader((EXAMPLES / "data" / "contracts.csv").open(newline=""))
}


@pytest.mark.parametrize("conn_id", sorted(SOURCES))
def test_batch_without_a_logical_date_names_every_document_by_its_row(
    examples, sandbox, tmp_path, capfd, conn_id
):
    """Every mapped task of a finished batch names its document after its CSV row, for every vendor
    (not ``<uuid>.pdf``, not the file name WeSignature titles every document with, not ``group-...``);
    each stored file is named after its row; the summary counts signatures and names every row."""
    run = manual_run(examples, "esign_batch_contracts", conn_id=conn_id, destination=str(tmp_path))
    assert run.state == "success", states(run)
    out = capfd.readouterr().out
    assert "XCom not found" not in out  # the summary reads its lists in one go
    vendor = conn_id.removesuffix("_default")
    documents = sandbox.documents(vendor)
    assert len(documents) == 5 and len(list(tmp_path.glob("*.pdf"))) == 5
    labels = {}
    for ti in run.get_task_instances():
        if ti.map_index >= 0:
            labels.setdefault(ti.task_id, []).append(ti.rendered_map_index)
    assert len(CSV_NAMES) == 5
    assert set(labels["wait_signed"]) == CSV_NAMES, labels["wait_signed"]
    assert set(labels["store"]) == CSV_NAMES, labels["store"]
    assert {label.split(": ")[0] for label in labels["send"]} == CSV_NAMES  # "<name>: <signer emails>"
    # Each stored file is named after its row, then the id: "supplier-agreement-analytical-...-<id>.pdf".
    stored = sorted(path.name for path in tmp_path.glob("*.pdf"))
    for document in documents:
        assert sum(name.endswith(f"-{document['id']}.pdf") for name in stored) == 1, (document["id"], stored)
    assert any(name.startswith("supplier-agreement-analytical-engines-ltd-") for name in stored), stored
    # The summary: one signature per contract (one signer each), every row named.
    assert "'signatures': 5" in out, out[-3000:]
    for name in CSV_NAMES:
        assert name[:40] in out
    assert "Grace Hopper" in out


@pytest.mark.parametrize("dag_id", ["esign_post_signature_etl", "esign_on_signed"])
def test_asset_scheduled_examples_also_run_by_hand(examples, tmp_path, dag_id):
    """Triggered by hand there are no asset events: the run succeeds and loads nothing."""
    run = manual_run(examples, dag_id)
    assert run.state == "success", states(run)
    assert (tmp_path / "contracts.db").exists()


def test_remind_then_escalate_when_nobody_signs(examples, sandbox, monkeypatch, capfd):
    """Nobody signs: the first wait times out into a skip, the signers are reminded, the second wait
    times out too, and the escalation withdraws the contract and names who did not sign."""
    monkeypatch.setenv("ESIGN_REMIND_AFTER_SECONDS", "1")
    monkeypatch.setenv("ESIGN_ESCALATE_AFTER_SECONDS", "1")
    sandbox.configure(sign_delay=3600)  # nobody signs during the test
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import DagBag
    bag = DagBag(dag_folder=str(EXAMPLES / "esign_remind_then_escalate.py"))  # parsed with the short waits
    run = manual_run(bag, "esign_remind_then_escalate", signer_email="nobody@example.com")
    assert run.state == "success", states(run)
    assert states(run) == {
        ("send", -1): "success",
        ("wait_before_reminding", -1): "skipped",
        ("still_unsigned_after_first_wait", -1): "success",
        ("remind", -1): "success",
        ("wait_before_escalating", -1): "skipped",
        ("still_unsigned_after_reminder", -1): "success",
        ("escalate", -1): "success",
    }
    (document,) = sandbox.documents("legalesign")
    assert document["voided_at"] is not None  # withdrawn
    assert any("remind" in r["path"] for r in sandbox.requests(vendor="legalesign", method="POST"))
    assert f"ESCALATION: document {document['id']}" in capfd.readouterr().out


def test_a_contract_signed_in_time_is_neither_reminded_nor_escalated(examples, sandbox):
    run = manual_run(examples, "esign_remind_then_escalate")
    assert states(run) == {
        ("send", -1): "success",
        ("wait_before_reminding", -1): "success",
        ("still_unsigned_after_first_wait", -1): "success",
        ("remind", -1): "skipped",
        ("wait_before_escalating", -1): "skipped",
        ("still_unsigned_after_reminder", -1): "success",
        ("escalate", -1): "skipped",
    }


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
        "esign_remind_then_escalate",
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
