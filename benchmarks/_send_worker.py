"""A worker of the rate-limited batch: ``python -m benchmarks._send_worker '<json spec>'``.

Plays the part of an Airflow worker process running mapped ``SendDocumentOperator`` task instances one
after another: a real operator per map index, ``execute(context)`` with a task-instance stand-in that has
what the operator reads (dag/task/run ids, map index, try number, ``xcom_push``). Every worker shares the
client-side rate limiter (its schedule file) with the others, as workers on one host do.

Protocol: prints ``ready`` once imported and built, waits for a line on stdin, runs, prints one JSON line
``{"sends": [[map_index, started, finished, document_id], ...], "errors": [...]}`` (monotonic clock,
comparable across processes on Linux).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any


class TaskInstanceStandIn:
    """What ``SendDocumentOperator.execute`` reads from ``context["ti"]``."""

    def __init__(self, dag_id: str, run_id: str, map_index: int) -> None:
        self.dag_id = dag_id
        self.task_id = "send"
        self.run_id = run_id
        self.map_index = map_index
        self.try_number = 1
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    from airflow_provider_esign.operators.send import SendDocumentOperator
    from benchmarks.common import quiet_logging

    quiet_logging()
    started_run = datetime.now(timezone.utc)
    tasks = []
    for index in spec["map_indexes"]:
        operator = SendDocumentOperator(
            task_id="send",
            conn_id=spec["conn_id"],
            document_name=f"Contract {index}",
            signers=[{"name": f"Signer Number{index % 97}", "email": f"signer{index}@example.com"}],
            template_id=spec["template_id"],
        )
        ti = TaskInstanceStandIn(spec["dag_id"], spec["run_id"], index)
        context: Any = {"ti": ti, "dag_run": SimpleNamespace(start_date=started_run), "map_index": index}
        tasks.append((index, operator, context))
    print("ready", flush=True)
    sys.stdin.readline()
    sends, errors = [], []
    for index, operator, context in tasks:
        started = time.monotonic()
        try:
            document_id = operator.execute(context)
        except Exception as exc:
            errors.append(f"map index {index}: {type(exc).__name__}: {exc}")
            continue
        sends.append([index, started, time.monotonic(), document_id])
    print(json.dumps({"sends": sends, "errors": errors}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
