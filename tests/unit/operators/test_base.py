"""The hook of an operator or sensor: built on first use from conn_id and hook_params, closed after
``execute`` whether it returned or raised."""

from __future__ import annotations

import pytest

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook


class Hook:
    def __init__(self) -> None:
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class Task(ESignHookMixin):
    conn_id = "acme"
    hook_params = {"max_attempts": 2}

    def __init__(self) -> None:
        self.built: list[Hook] = []

    def get_hook(self):
        self.built.append(Hook())
        return self.built[-1]

    @closes_hook
    def execute(self, fail: bool = False):
        self.hook.closed  # noqa: B018 (uses the hook)
        if fail:
            raise RuntimeError("vendor down")
        return "done"


def test_get_hook_builds_the_connections_hook_with_the_hook_params(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "airflow_provider_esign.hooks.get_hook",
        lambda conn_id, **params: calls.append((conn_id, params)) or "hook",
    )
    assert ESignHookMixin.get_hook(Task()) == "hook"
    assert calls == [("acme", {"max_attempts": 2})]


def test_the_hook_is_built_once_and_closed_after_execute():
    task = Task()
    assert task.hook is task.hook
    assert task.execute() == "done"
    assert len(task.built) == 1 and task.built[0].closed == 1
    task.execute()
    assert len(task.built) == 2  # a later use builds a new one


def test_the_hook_is_closed_when_execute_raises():
    task = Task()
    with pytest.raises(RuntimeError):
        task.execute(fail=True)
    assert task.built[0].closed == 1


def test_closing_without_a_hook_builds_none():
    task = Task()
    task.close_hook()
    assert task.built == []
