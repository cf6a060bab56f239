"""Legalesign: the hook (``hook``), its declaration (``info``), wire format (``wire``) and send rules
(``rules``).

The names below load on first access, so importing the package (as the registry does to read
``info``) imports no hook and no Airflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.legalesign.hook import LegalesignHook
    from airflow_provider_esign.hooks.legalesign.wire import (
        IDEMPOTENCY_TAG,
        SIGNER_STATUS_MAP,
        STATUS_MAP,
        id_from_uri,
        map_document_status,
        map_signer_status,
    )

_EXPORTS = {
    "IDEMPOTENCY_TAG": "wire",
    "LegalesignHook": "hook",
    "SIGNER_STATUS_MAP": "wire",
    "STATUS_MAP": "wire",
    "id_from_uri": "wire",
    "map_document_status": "wire",
    "map_signer_status": "wire",
}
__all__ = [
    "IDEMPOTENCY_TAG",
    "SIGNER_STATUS_MAP",
    "STATUS_MAP",
    "LegalesignHook",
    "id_from_uri",
    "map_document_status",
    "map_signer_status",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
