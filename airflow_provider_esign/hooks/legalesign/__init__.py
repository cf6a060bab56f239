"""Legalesign: :class:`LegalesignHook` (``hook``), its flows (``flows``), wire format (``wire``) and
send rules (``rules``)."""

from __future__ import annotations

from airflow_provider_esign.hooks.legalesign.hook import LegalesignHook
from airflow_provider_esign.hooks.legalesign.wire import (
    IDEMPOTENCY_TAG,
    SIGNER_STATUS_MAP,
    STATUS_MAP,
    id_from_uri,
    map_document_status,
    map_signer_status,
)

__all__ = [
    "IDEMPOTENCY_TAG",
    "SIGNER_STATUS_MAP",
    "STATUS_MAP",
    "LegalesignHook",
    "id_from_uri",
    "map_document_status",
    "map_signer_status",
]
