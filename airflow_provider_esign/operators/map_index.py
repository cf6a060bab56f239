"""Readable map indexes: what a mapped e-signature task shows in the Airflow UI instead of ``0, 1, 2``.

A task sets a label in its context once it knows the document (``set_map_label``); Airflow renders
``map_index_template`` from that context after the task ran. Until then, or if the task failed
before it knew more, the template falls back to the task's own (rendered) document id.
"""

from __future__ import annotations

from typing import Any, ClassVar

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


class MappedTaskNaming:
    """Mixin: a mapped instance of the operator shows what it acts on, not ``0, 1, 2``.

    Sets ``map_index_template`` to :attr:`map_index_default` unless the DAG gives its own, both for a
    plain task (``__init__``) and for a mapped one: Airflow reads a mapped task's template from the
    ``partial()`` keyword arguments at parse time, never from ``__init__``. Put it first in the bases.
    """

    #: The template used when the DAG sets none.
    map_index_default: ClassVar[str] = DOCUMENT_MAP_INDEX_TEMPLATE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("map_index_template", self.map_index_default)
        super().__init__(*args, **kwargs)

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        kwargs.setdefault("map_index_template", cls.map_index_default)
        return super().partial(**kwargs)  # type: ignore[misc]  # BaseOperator.partial, after this mixin

    def label_map_index(self, context: Any, label: str | None) -> None:
        """Name this task instance in the UI (see :func:`set_map_label`): the ``document_name`` the DAG
        gave, when the operator has one (the source row's name; WeSignature documents carry only
        their file name), else ``label``.
        """
        chosen = getattr(self, "document_name", None) or label
        if chosen:
            set_map_label(context, str(chosen))
