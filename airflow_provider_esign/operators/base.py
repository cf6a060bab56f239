"""What every e-signature operator and sensor shares: the connection's hook, built once and closed.

The hook (and its HTTP session) is created on first use and reused for the rest of the task: a
sensor in ``poke`` mode polls through one connection pool instead of opening one per poke. It is
closed when ``execute`` ends, however it ends (success, failure, deferral, reschedule).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

F = TypeVar("F", bound=Callable[..., Any])


class ESignHookMixin:
    """The ``hook`` of an operator or sensor with ``conn_id`` and ``hook_params`` attributes.

    Imports no hook module at DAG-parse time: the hook is built on first use.
    """

    conn_id: str
    hook_params: dict[str, Any]

    def get_hook(self) -> ESignHook:
        """A new hook for ``conn_id`` (the connection's type picks the vendor)."""
        from airflow_provider_esign.hooks import get_hook

        return get_hook(self.conn_id, **self.hook_params)

    @functools.cached_property
    def hook(self) -> ESignHook:
        """The task's hook, built once by :meth:`get_hook`."""
        return self.get_hook()

    def close_hook(self) -> None:
        """Close the hook's HTTP session, if a hook was built (a later use builds a new one)."""
        hook = self.__dict__.pop("hook", None)
        close = getattr(hook, "close", None)
        if close is not None:
            close()


def closes_hook(method: F) -> F:
    """Decorate ``execute``: the hook is closed when it returns or raises."""

    @functools.wraps(method)
    def wrapper(self: ESignHookMixin, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.close_hook()

    return wrapper  # type: ignore[return-value]
