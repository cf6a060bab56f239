"""Real DAG runs (dag.test on a migrated SQLite home) against the sandbox: send → wait → store."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import run_dag, signed_document_events

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
    sends = sorted(ti.rendered_map_index for ti in run.get_task_instances() if ti.task_id == "send")
    assert sends == ["Contract A: ada@example.com", "Contract B: alan@example.com"]
    events = asset_events(run)
    assert sorted(e["path"] for e in events) == sorted(str(p) for p in stored)
    assert {e["vendor"] for e in events} == {vendor}
    assert {e["document_id"] for e in events} == {d["id"] for d in documents}


def asset_events(run) -> list[dict]:
    """The extras of the signed-documents asset events this run recorded."""
    return [dict(event.extra) for event in signed_document_events(run)]


@pytest.mark.parametrize("outcome", ["decline", "void"])
@pytest.mark.parametrize("vendor", VENDORS)
def test_declined_or_voided_fails_the_sensor_without_retry(sandbox, vendor, outcome):
    sandbox.configure(sign_delay=None)  # nobody signs by themselves
    run = run_dag(f"e2e_{vendor}_{outcome}")
    assert run.state == "failed"
    (wait,) = [ti for ti in run.get_task_instances() if ti.task_id == "wait"]
    assert wait.state == "failed"
    assert wait.try_number == 1  # retries=3 configured, none used: the failure is permanent


@pytest.mark.parametrize("vendor", VENDORS)
def test_cancel(sandbox, vendor):
    sandbox.configure(sign_delay=None)
    run = run_dag(f"e2e_{vendor}_cancel")
    (document,) = sandbox.documents(vendor)
    (cancel,) = [ti for ti in run.get_task_instances() if ti.task_id == "cancel"]
    if vendor == "wesignature":  # no cancel API: the task fails at once and explains why
        assert run.state == "failed" and cancel.try_number == 1
        assert document["voided_at"] is None
    else:
        assert run.state == "success", task_states(run)
        assert document["voided_at"] is not None or document["deleted"]


def return_value(run, task_id: str):
    """A task's XCom return value, as Airflow stored it."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(XComModel.value).where(
                XComModel.dag_id == run.dag_id,
                XComModel.run_id == run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == "return_value",
            )
        ).first()
    assert row is not None, f"{task_id} returned nothing"
    return XComModel.deserialize_value(row)


def test_reminder(sandbox):
    # send_delay=0: the sandbox marks the signers sent in the same instant the document is created, so
    # the reminder finds them waiting however late the machine runs it (no race with a send timer).
    sandbox.configure(sign_delay=None, send_delay=0)
    before = sandbox.stats()
    run = run_dag("e2e_legalesign_remind")
    assert run.state == "success", task_states(run)
    reminded = _route_count(sandbox.stats(), "send-reminder") - _route_count(before, "send-reminder")
    assert reminded == 2  # both unsigned signers
    result = return_value(run, "remind")
    assert len(result["reminded"]) == 2 and result["reason"] is None


def test_a_reminder_before_anyone_is_sent_says_so(sandbox, capfd):
    sandbox.configure(sign_delay=None, send_delay=3600)  # Legalesign still sending: nobody waits yet
    before = sandbox.stats()
    run = run_dag("e2e_legalesign_remind")
    assert run.state == "success", task_states(run)
    assert _route_count(sandbox.stats(), "send-reminder") == _route_count(before, "send-reminder")
    result = return_value(run, "remind")
    assert result["reminded"] == []
    assert result["reason"].startswith("nobody is waiting to sign yet: 2 signer(s) not sent the document yet")
    out = capfd.readouterr()
    assert "Reminded nobody of document" in out.out + out.err  # the task log says why


def _route_count(stats: dict, fragment: str) -> int:
    """Requests to routes whose ``"<vendor> <METHOD> <path template>"`` key contains ``fragment``."""
    return sum(count for route, count in stats["routes"].items() if fragment in route)
