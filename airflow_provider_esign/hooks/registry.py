"""The one registry of vendors: every ``hooks/<vendor>/`` package whose ``hook`` module defines an
:class:`~airflow_provider_esign.hooks.base.ESignHook` subclass.

A vendor is declared once, on its hook class (``conn_type``, ``hook_name``, ``default_conn_name``,
``external_doc_url``, ``conn_fields``, ``ui_field_behaviour``); the package name is its connection
type. :func:`get_hook`, the provider info (``get_provider_info``) and the connection forms are
derived from here. Looking one vendor up imports only that vendor's package.
"""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

_PACKAGE = "airflow_provider_esign.hooks"


@cache
def conn_types() -> tuple[str, ...]:
    """The connection types of every vendor package, sorted (no vendor module is imported)."""
    folder = Path(__file__).parent
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules([str(folder)])
            if info.ispkg and (folder / info.name / "hook.py").is_file()
        )
    )


def hook_module(conn_type: str) -> str:
    """The module that defines the hook class of ``conn_type``."""
    return f"{_PACKAGE}.{conn_type}.hook"


@cache
def hook_class(conn_type: str) -> type[ESignHook]:
    """The hook class declared for a connection type; ``KeyError`` for an unknown one."""
    from airflow_provider_esign.hooks.base import ESignHook

    normalized = (conn_type or "").replace("-", "_")
    if normalized not in conn_types():
        raise KeyError(conn_type)
    module = import_module(hook_module(normalized))
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ESignHook)
        and value.__module__ == module.__name__
        and getattr(value, "conn_type", None) == normalized
    ]
    if len(found) != 1:
        raise LookupError(f"{module.__name__} must define exactly one hook with conn_type {normalized!r}")
    return found[0]


def hook_classes() -> list[type[ESignHook]]:
    """Every vendor's hook class, in connection-type order."""
    return [hook_class(conn_type) for conn_type in conn_types()]
