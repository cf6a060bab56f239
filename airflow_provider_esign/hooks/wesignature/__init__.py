"""WeSignature: the hook (``hook``), its declaration (``info``), wire format (``wire``) and send rules
(``rules``).

The names below load on first access, so importing the package (as the registry does to read
``info``) imports no hook and no Airflow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.wesignature.hook import WeSignatureHook
    from airflow_provider_esign.hooks.wesignature.wire import (
        BASELINE_KEY,
        SIGNER_STATUS_MAP,
        STATUS_MAP,
        WeSignatureCredentials,
        document_links,
    )

_EXPORTS = {
    "BASELINE_KEY": "wire",
    "SIGNER_STATUS_MAP": "wire",
    "STATUS_MAP": "wire",
    "WeSignatureCredentials": "wire",
    "WeSignatureHook": "hook",
    "document_links": "wire",
}
__all__ = [
    "BASELINE_KEY",
    "SIGNER_STATUS_MAP",
    "STATUS_MAP",
    "WeSignatureCredentials",
    "WeSignatureHook",
    "document_links",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
