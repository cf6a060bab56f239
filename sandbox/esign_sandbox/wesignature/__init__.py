"""
WeSignature ``apihandler`` emulation, split the way moto splits a service: :mod:`.models` (statuses,
``sign_type`` labels, links, list index, seeded history) and :mod:`.routes` (the four documented calls and
the web links).
"""

from __future__ import annotations

from esign_sandbox.wesignature.models import (
    API_PREFIX,
    COMPLETE_STEPS,
    INDEX_SPEC,
    PREFIX,
    SIGN_TYPE_TABLES,
    VENDOR,
    completed,
    decorate,
    decorate_control_document,
    document_status,
    history_document,
    is_sent,
    raw_status,
)
from esign_sandbox.wesignature.routes import build_router

__all__ = [
    "API_PREFIX",
    "COMPLETE_STEPS",
    "INDEX_SPEC",
    "PREFIX",
    "SIGN_TYPE_TABLES",
    "VENDOR",
    "build_router",
    "completed",
    "decorate",
    "decorate_control_document",
    "document_status",
    "history_document",
    "is_sent",
    "raw_status",
]
