"""Legalesign: ``hook`` (the hook class), ``flows`` (its vendor interface), ``info`` (declaration),
``wire`` (wire format) and ``rules`` (send validation).

Public names load on first access (see :func:`~airflow_provider_esign.hooks.registry.lazy_exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_esign.hooks.registry import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
