"""Vendor hooks, one package per vendor (``hooks/<conn_type>/``); :func:`get_hook` picks the one a
connection needs. The vendors are listed by :mod:`airflow_provider_esign.hooks.registry`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook


def hook_class_for(conn_type: str) -> type[ESignHook]:
    """The hook class registered for a connection type (or a vendor key: they are the same)."""
    from airflow_provider_esign.exceptions import ESignValidationError
    from airflow_provider_esign.hooks import registry

    try:
        return registry.hook_class(conn_type or "")
    except KeyError:
        raise ESignValidationError(
            "conn_type",
            f"{conn_type!r} is not an e-signature connection type; use one of {list(registry.conn_types())}",
        ) from None


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
