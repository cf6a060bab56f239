"""Real DAG runs (dag.test on a migrated SQLite home) against the sandbox: send → wait → store."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import run_dag

pytestmark = pytest.mark.e2e
VENDORS = ("esignbase", "legalesign", "wesignature")


def task_states(run):
    return {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}


@pytest.mark.parametrize("mode", ["poke", "reschedule", "deferrable"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_send_wait_store(sandbox, tmp_path, vendor, mode):
    run = run_dag(f"e2e_{vendor}_{mode}", destination=str(tmp_path))
    assert run.state == "success", task_states(run)
    documents = sandbox.documents(vendor)
    assert len(documents) == 2  # one document per intended send, no duplicates
    stored = sorted(tmp_path.iterdir())
    assert len(stored) == 2
    for document in documents:
        path = tmp_path / f"{document['id']}.pdf"
        data = path.read_bytes()
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
        assert data == sandbox.pdf_bytes(vendor, document["id"])  # byte-identical


@pytest.mark.parametrize("outcome", ["decline", "void"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_declined_or_voided_fails_the_sensor_without_retry(sandbox, vendor, outcome):
    sandbox.configure(sign_delay=None)  # nobody signs by themselves
    run = run_dag(f"e2e_{vendor}_{outcome}")
    assert run.state == "failed"
    (wait,) = [ti for ti in run.get_task_instances() if ti.task_id == "wait"]
    assert wait.state == "failed"
    assert wait.try_number == 1  # retries=3 configured, none used: the failure is permanent
