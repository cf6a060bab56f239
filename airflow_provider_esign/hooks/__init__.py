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
    """The vendor hook for a connection, chosen from the connection's type (sync connection access).

    :raises ESignValidationError: No connection ``conn_id`` exists (a retry cannot fix that).
    """
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except _not_found_errors() as exc:
        raise _no_connection(conn_id) from exc
    # Its settings come from this read, not a second lookup.
    return hook_class_for(conn.conn_type or "")(conn_id, connection=conn, **hook_params)


async def aget_hook(conn_id: str, **hook_params: Any) -> ESignHook:
    """Like :func:`get_hook`, with async connection access (for triggers)."""
    from airflow.providers.common.compat.connection import get_async_connection

    try:
        conn = await get_async_connection(conn_id)
    except _not_found_errors() as exc:
        raise _no_connection(conn_id) from exc
    return hook_class_for(conn.conn_type or "")(conn_id, **hook_params)


def _not_found_errors() -> tuple[type[Exception], ...]:
    """Airflow's "no such connection" exception classes (the Task SDK's and, before 3.2, core's)."""
    from importlib import import_module

    classes: list[type[Exception]] = []
    for module in ("airflow.sdk.exceptions", "airflow.exceptions"):
        try:
            classes.append(import_module(module).AirflowNotFoundException)
        except (ImportError, AttributeError):
            continue
    return tuple(classes)


def _no_connection(conn_id: str) -> Exception:
    from airflow_provider_esign.exceptions import ESignValidationError

    variable = f"AIRFLOW_CONN_{str(conn_id).upper()}"
    return ESignValidationError(
        "conn_id", f"no connection {conn_id!r} exists: define it in Admin → Connections or as {variable}"
    )
