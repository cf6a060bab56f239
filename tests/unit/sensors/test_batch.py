"""Batch tracking: one list call per poll for many documents, and the partial-failure policy."""

from __future__ import annotations

from unittest import mock

import pytest

from airflow_provider_esign.exceptions import DocumentFailedError, ESignValidationError
from airflow_provider_esign.models import DocumentInfo, DocumentStatus
from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor
from airflow_provider_esign.triggers.batch import BatchDocumentStatusTrigger


def doc(document_id, status):
    return DocumentInfo(document_id, "esignbase", f"Contract {document_id}", status, status.value)


class ListingHook:
    """Answers get_documents from a scripted sequence of account states, counting calls."""

    def __init__(self, *states):
        self.states = list(states)
        self.calls = 0

    def get_documents(self, ids, **filters):
        self.calls += 1
        self.asked = [*getattr(self, "asked", []), list(ids)]
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {i: d for i, d in state.items() if i in ids}

    async def aget_documents(self, ids, **filters):
        return self.get_documents(ids, **filters)


IDS = [f"d{i}" for i in range(5)]


def states(*rows):
    return [{f"d{i}": doc(f"d{i}", s) for i, s in enumerate(row) if s is not None} for row in rows]


S, C, V, D = DocumentStatus.SENT, DocumentStatus.COMPLETED, DocumentStatus.VOIDED, DocumentStatus.DECLINED


def sensor(**overrides):
    values = {"task_id": "wait_batch", "conn_id": "esignbase_default", "document_ids": IDS, **overrides}
    return BatchDocumentStatusSensor(**values)


def test_poke_is_one_list_call_per_poll_and_logs_progress(caplog):
    hook = ListingHook(*states([S, S, S, S, S], [C, C, S, S, S], [C, C, C, C, C]))
    op = sensor()
    with mock.patch.object(BatchDocumentStatusSensor, "get_hook", return_value=hook):
        assert not op.poke({}).is_done
        assert not op.poke({}).is_done
        result = op.poke({})
    assert result.is_done and result.xcom_value["completed"] == IDS
    assert hook.calls == 3


def test_each_poke_reads_only_the_documents_still_pending():
    """Settled documents (done or failed) are not read again: a poll costs O(pending)."""
    hook = ListingHook(*states([C, S, S, S, S], [C, C, V, S, S], [C, C, V, C, C]))
    op = sensor(on_failure="continue")
    with mock.patch.object(BatchDocumentStatusSensor, "get_hook", return_value=hook):
        assert not op.poke({}).is_done
        assert not op.poke({}).is_done
        result = op.poke({})
    assert hook.asked == [IDS, ["d1", "d2", "d3", "d4"], ["d3", "d4"]]
    assert result.is_done and result.xcom_value["completed"] == ["d0", "d1", "d3", "d4"]
    assert [f["document_id"] for f in result.xcom_value["failed"]] == ["d2"]
    assert set(result.xcom_value["documents"]) == set(IDS)


def test_fail_policy_fails_at_first_decline():
    hook = ListingHook(*states([C, D, S, S, S]))
    with (
        mock.patch.object(BatchDocumentStatusSensor, "get_hook", return_value=hook),
        pytest.raises(DocumentFailedError, match="1 document"),
    ):
        sensor().poke({})


def test_continue_policy_reports_failures_in_xcom():
    hook = ListingHook(*states([C, D, S, V, C], [C, D, C, V, C]))
    op = sensor(on_failure="continue")
    with mock.patch.object(BatchDocumentStatusSensor, "get_hook", return_value=hook):
        assert not op.poke({}).is_done
        result = op.poke({}).xcom_value
    assert result["completed"] == ["d0", "d2", "d4"]
    assert [f["document_id"] for f in result["failed"]] == ["d1", "d3"]
    assert result["documents"]["d1"]["status"] == "DECLINED"


def test_bad_arguments_named():
    with pytest.raises(ESignValidationError, match="on_failure"):
        sensor(on_failure="ignore")
    with pytest.raises(ESignValidationError, match="document_ids"):
        _ = sensor(document_ids=[]).ids


def test_deferrable_trigger_round_trip_and_events():
    from airflow.providers.common.compat.sdk import TaskDeferred

    hook = ListingHook(*states([S, S, S, S, S]))
    op = sensor(deferrable=True, poke_interval=1, timeout=100)
    with (
        mock.patch.object(BatchDocumentStatusSensor, "get_hook", return_value=hook),
        pytest.raises(TaskDeferred) as exc,
    ):
        op.execute({})
    trigger = exc.value.trigger
    classpath, kwargs = trigger.serialize()
    assert kwargs["document_ids"] == IDS and kwargs["fail_fast"] is True
    assert BatchDocumentStatusTrigger(**kwargs).serialize() == (classpath, kwargs)
    assert (
        op.execute_complete(
            {}, {"status": "success", "message": "", "result": {"completed": IDS, "failed": []}}
        )["completed"]
        == IDS
    )
