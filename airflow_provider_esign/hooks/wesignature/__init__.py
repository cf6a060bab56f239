"""WeSignature: :class:`WeSignatureHook` (``hook``), its wire format (``wire``) and send rules (``rules``)."""

from __future__ import annotations

from airflow_provider_esign.hooks.wesignature.hook import WeSignatureHook
from airflow_provider_esign.hooks.wesignature.wire import (
    BASELINE_KEY,
    SIGNER_STATUS_MAP,
    STATUS_MAP,
    WeSignatureCredentials,
    document_links,
)

__all__ = [
    "BASELINE_KEY",
    "SIGNER_STATUS_MAP",
    "STATUS_MAP",
    "WeSignatureCredentials",
    "WeSignatureHook",
    "document_links",
]
