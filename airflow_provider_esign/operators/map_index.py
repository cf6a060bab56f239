"""Readable map indexes: what a mapped e-signature task shows in the Airflow UI instead of ``0, 1, 2``.

A task sets a label in its context once it knows the document (``set_map_label``); Airflow renders
``map_index_template`` from that context after the task ran. Until then, or if the task failed
before it knew more, the template falls back to the task's own (rendered) document id.
"""

from __future__ import annotations

from typing import Any

#: Context key holding the label; any task may set it, the templates below read it.
MAP_LABEL_KEY = "esign_map_label"
#: Default for tasks that act on one known document id (sensors, downloads, cancel, reminders).
DOCUMENT_MAP_INDEX_TEMPLATE = "{{ esign_map_label | default(task.document_id) }}"
#: Default for tasks that act on a batch of documents.
BATCH_MAP_INDEX_TEMPLATE = "{{ esign_map_label | default('batch') }}"


def set_map_label(context: Any, label: str) -> None:
    """Record the label Airflow renders as this task instance's map index.

    :param context: The task's execution context.
    :param label: Short, human-readable text (a document's name, say).
    """
    context[MAP_LABEL_KEY] = label


def document_label(document: dict[str, Any] | None, fallback: str) -> str:
    """``<document name>`` of a document dict (XCom shape), else ``fallback``."""
    name = (document or {}).get("name")
    return str(name) if name else fallback
