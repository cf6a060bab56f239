"""eSignBase: :class:`ESignBaseHook` (``hook``), its wire format (``wire``) and send rules (``rules``)."""

from __future__ import annotations

from airflow_provider_esign.hooks.esignbase.hook import TEMPLATE_ROLES, ESignBaseHook
from airflow_provider_esign.hooks.esignbase.wire import (
    IDEMPOTENCY_METADATA_KEY,
    STATUS_MAP,
    TEMPLATE_ROLES_TTL,
)

__all__ = ["IDEMPOTENCY_METADATA_KEY", "STATUS_MAP", "TEMPLATE_ROLES", "TEMPLATE_ROLES_TTL", "ESignBaseHook"]
