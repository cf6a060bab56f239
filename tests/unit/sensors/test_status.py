"""DocumentStatusSensor against a fake hook (no HTTP). Real DAG runs live in tests/e2e."""

from __future__ import annotations

import time
from unittest import mock

import pytest

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    ESignError,
    ESignPermanentError,
    ESignValidationError,
)
from airflow_provider_esign.models import (
    DocumentStatus,
    SignerInfo,
    SignerStatus,
)
from airflow_provider_esign.sensors.status import DocumentStatusSensor
from airflow_provider_esign.triggers.status import DocumentStatusTrigger
from tests.unit.fakes import FakeHook, document


class TestDocumentStatusSensor:
    def sensor(self, **overrides):
        values = {"task_id": "wait", "conn_id": "esignbase_default", "document_id": "doc-1", **overrides}
        return DocumentStatusSensor(**values)

    @pytest.mark.parametrize(
        ("status", "target", "done"),
        [
            (DocumentStatus.SENT, "COMPLETED", False),
            (DocumentStatus.SIGNED, "COMPLETED", False),
            (DocumentStatus.SIGNED, "SIGNED", True),
            (DocumentStatus.COMPLETED, "SIGNED", True),
            (DocumentStatus.COMPLETED, "COMPLETED", True),
        ],
    )
    def test_poke(self, status, target, done):
        with mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook([document(status)])):
            result = self.sensor(target_status=target).poke({})
        assert result.is_done is done
        assert (result.xcom_value or {}).get("status") == (status.value if done else None)

    @pytest.mark.parametrize("status", [DocumentStatus.DECLINED, DocumentStatus.VOIDED])
    def test_failure_states_fail_without_retry(self, status):
        with (
            mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook([document(status)])),
            pytest.raises(DocumentFailedError, match=status.value) as excinfo,
        ):
            self.sensor().poke({})
        assert isinstance(excinfo.value, ESignPermanentError)

    def test_wait_for_one_signer(self):
        signers = [
            SignerInfo("a@x.io", status=SignerStatus.SIGNED),
            SignerInfo("b@x.io", status=SignerStatus.SENT),
        ]
        hook = FakeHook([document(DocumentStatus.PARTIALLY_SIGNED, signers=signers)])
        with mock.patch.object(DocumentStatusSensor, "get_hook", return_value=hook):
            assert self.sensor(signer_email="A@x.io").poke({}).is_done
            assert not self.sensor(signer_email="b@x.io").poke({}).is_done
            with pytest.raises(DocumentFailedError, match="not a signer"):
                self.sensor(signer_email="zed@x.io").poke({})

    def test_invalid_target_named(self):
        with pytest.raises(ESignValidationError, match="target_status"):
            _ = self.sensor(target_status="DECLINED").condition
        with pytest.raises(ESignValidationError, match="target_status"):
            _ = self.sensor(target_status="FINISHED").condition

    def test_deferrable_defers_with_json_native_trigger(self):
        from airflow.providers.common.compat.sdk import TaskDeferred

        sensor = self.sensor(deferrable=True, poke_interval=5, timeout=600)
        with (
            mock.patch.object(DocumentStatusSensor, "get_hook", return_value=FakeHook()),
            pytest.raises(TaskDeferred) as excinfo,
        ):
            sensor.execute({})
        trigger = excinfo.value.trigger
        assert isinstance(trigger, DocumentStatusTrigger)
        classpath, kwargs = trigger.serialize()
        assert classpath == "airflow_provider_esign.triggers.status.DocumentStatusTrigger"
        import json

        assert json.loads(json.dumps(kwargs)) == kwargs
        assert abs(kwargs["end_time"] - (time.time() + 600)) < 5
        assert DocumentStatusTrigger(**kwargs).serialize() == (classpath, kwargs)

    def test_deferrable_returns_at_once_when_already_done(self):
        sensor = self.sensor(deferrable=True)
        with mock.patch.object(
            DocumentStatusSensor, "get_hook", return_value=FakeHook([document(DocumentStatus.COMPLETED)])
        ):
            assert sensor.execute({})["status"] == "COMPLETED"

    def test_execute_complete_validates_events(self):
        from airflow.providers.common.compat.sdk import AirflowFailException, AirflowSensorTimeout

        sensor = self.sensor()
        assert sensor.execute_complete({}, {"status": "success", "document": {"status": "COMPLETED"}}) == {
            "status": "COMPLETED"
        }
        with pytest.raises(DocumentFailedError):
            sensor.execute_complete(
                {}, {"status": "failed", "document": {"status": "DECLINED"}, "message": "x"}
            )
        with pytest.raises(AirflowSensorTimeout):
            sensor.execute_complete({}, {"status": "timeout", "message": "late"})
        with pytest.raises(ESignError) as transient:
            sensor.execute_complete({}, {"status": "error", "message": "boom", "permanent": False})
        assert not isinstance(transient.value, AirflowFailException)
        with pytest.raises(AirflowFailException):
            sensor.execute_complete({}, {"status": "error", "message": "bad key", "permanent": True})
        with pytest.raises(ESignError, match="Unexpected"):
            sensor.execute_complete({}, None)
