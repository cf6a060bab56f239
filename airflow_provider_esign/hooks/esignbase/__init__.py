"""eSignBase: ``hook`` (the hook class and its template cache), ``info``, ``wire`` and ``rules``.

Public names load on first access (see :func:`~airflow_provider_esign.hooks.registry.lazy_exports`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_esign.hooks.registry import lazy_exports

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


__getattr__ = lazy_exports(__name__, _EXPORTS)
