"""WeSignature: ``hook``, ``flows`` (auth, errors, parsing), ``info``, ``wire`` and ``rules``.

Public names load on first access (see :func:`~airflow_provider_esign.hooks.registry.lazy_exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_esign.hooks.registry import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
