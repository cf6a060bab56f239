"""eSignBase: the hook (``hook``), its declaration (``info``), wire format (``wire``) and send rules
(``rules``).

The names below load on first access, so importing the package (as the registry does to read
``info``) imports no hook and no Airflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.esignbase.hook import TEMPLATE_ROLES, ESignBaseHook
    from airflow_provider_esign.hooks.esignbase.wire import (
        IDEMPOTENCY_METADATA_KEY,
        STATUS_MAP,
        TEMPLATE_ROLES_TTL,
    )

_EXPORTS = {
    "ESignBaseHook": "hook",
    "IDEMPOTENCY_METADATA_KEY": "wire",
    "STATUS_MAP": "wire",
    "TEMPLATE_ROLES": "hook",
    "TEMPLATE_ROLES_TTL": "wire",
}
__all__ = [
    "IDEMPOTENCY_METADATA_KEY",
    "STATUS_MAP",
    "TEMPLATE_ROLES",
    "TEMPLATE_ROLES_TTL",
    "ESignBaseHook",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
