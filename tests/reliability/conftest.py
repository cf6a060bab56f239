"""Reliability fixtures: the sandbox (tests/conftest.py) with faster timing, plus scanning helpers."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import run_dag  # noqa: F401 (helper re-exported)


@pytest.fixture
def sandbox_delays() -> dict[str, float | None]:
    """Faster than the end-to-end default: these tests run many sends and waits each."""
    return {"sign_delay": 0.1, "send_delay": 0.05, "pdf_delay": 0.05}


def task_states(run) -> dict[tuple[str, int], tuple[str, int]]:
    """``(task_id, map_index) -> (state, try_number)`` of a finished DagRun."""
    return {(ti.task_id, ti.map_index): (ti.state, ti.try_number) for ti in run.get_task_instances()}


class FakeTI:
    """The task-instance surface the operators use: identity, try number and XCom pushes."""

    def __init__(self, task_id: str = "task", map_index: int = -1, try_number: int = 1) -> None:
        self.dag_id, self.task_id, self.run_id = "reliability", task_id, "manual__2026-01-01"
        self.map_index = map_index
        self.try_number = try_number
        self.xcom: dict = {}

    def xcom_push(self, key, value) -> None:
        self.xcom[key] = value


class FakeOutletEvents:
    """``context["outlet_events"]``: one event per outlet (Assets are not hashable on Airflow 3.1)."""

    def __init__(self) -> None:
        self.events: list = []

    def __getitem__(self, outlet):
        from types import SimpleNamespace

        event = SimpleNamespace(outlet=outlet, extra={})
        self.events.append(event)
        return event


def fake_context(ti: FakeTI | None = None, **extra) -> dict:
    """A minimal execution context for calling ``operator.execute`` directly."""
    from types import SimpleNamespace

    return {
        "ti": ti or FakeTI(),
        "dag_run": SimpleNamespace(start_date=None),
        "outlet_events": FakeOutletEvents(),
        **extra,
    }
