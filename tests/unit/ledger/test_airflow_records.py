"""Which send tasks the ledger mirrors: ``dag_id.task_id`` entries, a task id may hold dots."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.ledger.airflow_records import _split, parse_send_tasks


def test_send_tasks_are_grouped_by_dag_and_task_ids_keep_their_dots():
    assert parse_send_tasks(["onboarding.send", "onboarding.group.send", "renewals.send"]) == {
        "onboarding": ["send", "group.send"],
        "renewals": ["send"],
    }


@pytest.mark.parametrize("entry", ["send", ".send", "dag.", ""])
def test_an_entry_without_dag_and_task_names_the_field(entry):
    with pytest.raises(ESignValidationError) as excinfo:
        parse_send_tasks([entry])
    assert excinfo.value.field == "send_tasks" and repr(entry) in excinfo.value.rule


@pytest.mark.parametrize(
    ("key", "split"),
    [
        ("send", ("send", -1)),
        ("send_3", ("send", 3)),
        ("group.send_12", ("group.send", 12)),
        ("other_1", None),
        ("send_x", None),
    ],
)
def test_task_state_keys_give_the_task_and_map_index(key, split):
    assert _split(key, ["send", "group.send"]) == split
