"""What Airflow's own runs recorded as sent: the contract record XCom of the send tasks (which
names the send's connection), or their ``document`` XCom where a send left no contract record.

Read through the Task SDK (``RuntimeTaskInstance.get_task_states`` for the task instances, then
``XCom.get_one`` for each successful one not mirrored yet). In Airflow 3 a task has no metadata
database access (the worker blocks the ORM); the Task SDK's execution API is what a task may call,
under every executor, and it is what ``dag.test()`` runs too. Each send task instance is read once:
its record is then kept in the ledger's ``sent`` table.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from airflow_provider_esign.contracts import CONTRACT_XCOM_KEY
from airflow_provider_esign.ledger import schema
from airflow_provider_esign.ledger.rows import now_iso
from airflow_provider_esign.ledger.store import LedgerStore

#: The send operator's XCom key (``SendDocumentOperator``) of its document; its contract record
#: (:data:`CONTRACT_XCOM_KEY`) holds the same document with the send's ``conn_id``.
DOCUMENT_XCOM_KEY = "document"


def parse_send_tasks(send_tasks: Iterable[str]) -> dict[str, list[str]]:
    """``["dag_id.task_id", ...]`` grouped by DAG; a task id may contain dots (task groups)."""
    grouped: dict[str, list[str]] = {}
    for item in send_tasks:
        dag_id, sep, task_id = str(item).partition(".")
        if not sep or not dag_id or not task_id:
            from airflow_provider_esign.exceptions import ESignValidationError

            raise ESignValidationError("send_tasks", f"{item!r} must be 'dag_id.task_id'")
        grouped.setdefault(dag_id, []).append(task_id)
    return grouped


def _split(key: str, task_ids: list[str]) -> tuple[str, int] | None:
    """The task id and map index of a ``get_task_states`` key (``task`` or ``task_<map index>``)."""
    if key in task_ids:
        return key, -1
    base, _, index = key.rpartition("_")
    if base in task_ids and index.isdigit():
        return base, int(index)
    return None


def mirror_send_records(store: LedgerStore, send_tasks: Iterable[str], task_sdk: Any = None) -> int:
    """Copy the document records of successful send task instances not yet in the ``sent`` table.

    :param task_sdk: ``(get_task_states, get_xcom)`` callables, injectable for tests; default the Task SDK.
    :return: How many records were added.
    """
    get_states, get_xcom = task_sdk or _task_sdk()
    known = {
        (r[0], r[1], r[2], int(r[3]))
        for r in store.query(f"SELECT dag_id, run_id, task_id, map_index FROM {store.table(schema.SENT)}")
    }
    added: list[dict[str, Any]] = []
    recorded = now_iso(store.clock())
    for dag_id, task_ids in parse_send_tasks(send_tasks).items():
        states = get_states(dag_id=dag_id, task_ids=task_ids) or {}
        for run_id, tasks in states.items():
            for key, state in (tasks or {}).items():
                parsed = _split(key, task_ids)
                if parsed is None or str(state) != "success" or (dag_id, run_id, *parsed) in known:
                    continue
                task_id, map_index = parsed
                where = {"dag_id": dag_id, "task_id": task_id, "run_id": run_id, "map_index": map_index}
                # The contract record names the send's connection; a send from before it existed
                # left only the document record (its row then has no connection id).
                value = get_xcom(key=CONTRACT_XCOM_KEY, **where)
                if not isinstance(value, dict) or not value.get("document_id"):
                    value = get_xcom(key=DOCUMENT_XCOM_KEY, **where)
                if not isinstance(value, dict) or not value.get("document_id"):
                    continue
                added.append(
                    {
                        "dag_id": dag_id,
                        "run_id": run_id,
                        "task_id": task_id,
                        "map_index": map_index,
                        "vendor": value.get("vendor"),
                        "document_id": str(value["document_id"]),
                        "name": value.get("name"),
                        "recorded_at": recorded,
                        "connection_id": value.get("conn_id"),
                    }
                )
    store.insert_rows(schema.SENT, added)
    return len(added)


def _task_sdk() -> tuple[Any, Any]:
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.sdk.execution_time.xcom import XCom  # the configured XCom backend

    return RuntimeTaskInstance.get_task_states, XCom.get_one


def attribute_senders(store: LedgerStore, connection_id: str, vendor: str) -> int:
    """Fill the documents' ``sent_by_*`` columns from the sent records (where still empty)."""
    p = store.dialect.placeholder
    documents, sent = store.table(schema.DOCUMENTS), store.table(schema.SENT)
    rows = store.query(
        f"SELECT s.document_id, s.dag_id, s.run_id, s.task_id, s.map_index FROM {sent} s JOIN {documents} d "
        f"ON d.connection_id = {p} AND d.document_id = s.document_id WHERE {schema.sent_by_connection('s', p)} "
        f"AND d.sent_by_dag_id IS NULL",
        (connection_id, connection_id, vendor),
    )
    cursor = store.conn.cursor()
    try:
        if rows:
            cursor.executemany(
                f"UPDATE {documents} SET sent_by_dag_id = {p}, sent_by_run_id = {p}, sent_by_task_id = {p}, "
                f"sent_by_map_index = {p} WHERE connection_id = {p} AND document_id = {p}",
                [(r[1], r[2], r[3], r[4], connection_id, r[0]) for r in rows],
            )
        store.conn.commit()
    finally:
        cursor.close()
    return len(rows)
