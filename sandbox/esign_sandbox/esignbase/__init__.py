"""
eSignBase REST API emulation, split the way moto splits a service: :mod:`.models` (status ladder, bodies,
list index, seeded history) and :mod:`.routes` (OAuth2 and ``/api`` endpoints with scope checks as FastAPI
dependencies).
"""

from __future__ import annotations

from esign_sandbox.esignbase.models import (
    COMPLETED_STEPS,
    DOWNLOADABLE,
    INDEX_SPEC,
    PREFIX,
    SCOPES,
    VENDOR,
    decorate_control_document,
    document_body,
    document_status,
    history_document,
    iso,
    new_document,
    parse_expiration,
    raw_status,
    template_body,
)
from esign_sandbox.esignbase.routes import build_router, validate_create

__all__ = [
    "COMPLETED_STEPS",
    "DOWNLOADABLE",
    "INDEX_SPEC",
    "PREFIX",
    "SCOPES",
    "VENDOR",
    "build_router",
    "decorate_control_document",
    "document_body",
    "document_status",
    "history_document",
    "iso",
    "new_document",
    "parse_expiration",
    "raw_status",
    "template_body",
    "validate_create",
]
