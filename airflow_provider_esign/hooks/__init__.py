"""Vendor hooks. Import the vendor module you need; :func:`get_hook` picks one from a connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

#: Connection type → hook class path. Imported lazily so a DAG file pays only for what it uses.
HOOK_CLASSES = {
    "legalesign": "airflow_provider_esign.hooks.legalesign.LegalesignHook",
    "wesignature": "airflow_provider_esign.hooks.wesignature.WeSignatureHook",
    "esignbase": "airflow_provider_esign.hooks.esignbase.ESignBaseHook",
}


def hook_class_for(conn_type: str) -> type[ESignHook]:
    """The hook class registered for a connection type."""
    from importlib import import_module

    from airflow_provider_esign.exceptions import ESignValidationError

    path = HOOK_CLASSES.get((conn_type or "").replace("-", "_"))
    if path is None:
        raise ESignValidationError(
            "conn_type",
            f"{conn_type!r} is not an e-signature connection type; use one of {sorted(HOOK_CLASSES)}",
        )
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)


def get_hook(conn_id: str, **hook_params: Any) -> ESignHook:
    """The vendor hook for a connection, chosen from the connection's type (sync connection access)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    return hook_class_for(conn.conn_type or "")(conn_id, **hook_params)


async def aget_hook(conn_id: str, **hook_params: Any) -> ESignHook:
    """Like :func:`get_hook`, with async connection access (for triggers)."""
    from airflow.providers.common.compat.connection import get_async_connection

    conn = await get_async_connection(conn_id)
    return hook_class_for(conn.conn_type or "")(conn_id, **hook_params)
