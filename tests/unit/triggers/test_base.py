"""The polling loop every deferrable wait shares: one event, transient failures tolerated a few times
in a row, permanent ones at once, the deadline, cancellation, the serialized form."""

from __future__ import annotations

import asyncio
import time

import pytest

from airflow_provider_esign.exceptions import DocumentFailedError, ESignAuthError, ESignServerError
from airflow_provider_esign.triggers import base
from airflow_provider_esign.triggers.base import MAX_CONSECUTIVE_ERRORS, PollingTrigger


class Scripted(PollingTrigger):
    """Answers each poll with the next scripted value (an exception is raised)."""

    def __init__(self, answers, **kwargs) -> None:
        super().__init__(conn_id="acme", poll_interval=0, hook_params={"max_attempts": 1}, **kwargs)
        self.answers = list(answers)
        self.hooks: list = []

    def serialize(self):
        return self._classpath(), self._kwargs()

    async def poll(self, hook):
        self.hooks.append(hook)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture(autouse=True)
def hook(monkeypatch):
    built = []

    async def aget_hook(conn_id, **params):
        built.append((conn_id, params))
        return "the hook"

    monkeypatch.setattr("airflow_provider_esign.hooks.aget_hook", aget_hook)
    return built


async def events(trigger) -> list[dict]:
    return [event.payload async for event in trigger.run()]


def server_error() -> ESignServerError:
    return ESignServerError("vendor error", conn_id="acme", operation="get_document", status_code=503)


async def test_polls_until_a_payload_then_yields_it_once(hook):
    trigger = Scripted([None, None, {"status": "success"}], end_time=time.time() + 60)
    assert await events(trigger) == [{"status": "success"}]
    assert hook == [("acme", {"max_attempts": 1})]  # one hook for every poll
    assert trigger.hooks == ["the hook"] * 3


async def test_transient_failures_are_tolerated_until_too_many_in_a_row():
    recovering = Scripted(
        [server_error()] * (MAX_CONSECUTIVE_ERRORS - 1) + [{"status": "success"}], end_time=time.time() + 60
    )
    assert await events(recovering) == [{"status": "success"}]
    failing = Scripted([server_error()] * MAX_CONSECUTIVE_ERRORS, end_time=time.time() + 60)
    (event,) = await events(failing)
    assert event["status"] == "error" and event["permanent"] is False
    assert "HTTP 503" in event["message"]


async def test_a_success_resets_the_count_of_failures_in_a_row():
    answers = (
        [server_error()] * (MAX_CONSECUTIVE_ERRORS - 1)
        + [None]
        + [server_error()] * (MAX_CONSECUTIVE_ERRORS - 1)
    )
    trigger = Scripted([*answers, {"status": "success"}], end_time=time.time() + 60)
    assert await events(trigger) == [{"status": "success"}]


async def test_a_permanent_failure_ends_the_wait_at_once():
    declined = DocumentFailedError("doc-1", "DECLINED", 3)
    trigger = Scripted([declined, {"status": "success"}], end_time=time.time() + 60)
    (event,) = await events(trigger)
    assert event["status"] == "error" and event["permanent"] is True
    assert event["message"] == "Document doc-1 is DECLINED (vendor status 3)"
    assert trigger.answers == [{"status": "success"}]  # never polled again


async def test_the_deadline_ends_the_wait_with_a_timeout_event():
    trigger = Scripted([None, {"status": "success"}], end_time=time.time() - 1)
    assert await events(trigger) == [{"status": "timeout", "message": "not finished in time"}]


def test_the_next_poll_never_lies_past_the_deadline():
    trigger = Scripted([], end_time=time.time() + 3)
    trigger.poll_interval = 60
    assert 0 < trigger.next_delay() <= 3
    trigger.end_time = time.time() - 10
    assert trigger.next_delay() == 0.0


async def test_cancellation_propagates_instead_of_becoming_an_error_event(monkeypatch):
    trigger = Scripted([None] * 10, end_time=time.time() + 60)
    trigger.poll_interval = 3600
    task = asyncio.ensure_future(events(trigger))
    while not trigger.hooks:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_the_serialized_form_rebuilds_the_trigger():
    trigger = Scripted([], end_time=1234.5)
    classpath, kwargs = trigger.serialize()
    assert classpath == f"{__name__}.Scripted"
    assert kwargs == {
        "conn_id": "acme",
        "poll_interval": 0,
        "end_time": 1234.5,
        "hook_params": {"max_attempts": 1},
    }
    assert base.PollingTrigger.timeout_payload(trigger)["status"] == "timeout"


async def test_rejected_credentials_end_the_wait_at_once_as_a_permanent_failure():
    """A 401 the hook's one re-login did not fix is not transient: one poll, not MAX_CONSECUTIVE_ERRORS."""
    rejected = ESignAuthError(
        "credentials rejected", conn_id="acme", operation="get_document", status_code=401
    )
    trigger = Scripted([rejected, {"status": "success"}], end_time=time.time() + 60)
    (event,) = await events(trigger)
    assert event["status"] == "error" and event["permanent"] is True
    assert len(trigger.hooks) == 1
