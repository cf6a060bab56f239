"""
Legalesign REST API v1 emulation (``/legalesign/api/v1/...``), split the way moto splits a service.

* :mod:`.models`: statuses, archiving, templates, field values (the behaviour and state);
* :mod:`.validation`: request validation with the spec's 400 shape;
* :mod:`.responses`: response bodies;
* :mod:`.deps`: the authorise → find → 404 preamble as FastAPI dependencies;
* :mod:`.routes_documents`, :mod:`.routes_resources`, :mod:`.storage`: the routes;
* :mod:`.unemulated`: SDK calls answered "not emulated by the sandbox".

Modelled on the official OpenAPI spec (https://github.com/legalesign/Legalesign-V1-OpenAPI3): ``ApiKey
user:secret`` auth, trailing slashes everywhere, 201 + absolute ``Location`` on create, Tastypie-style
``{"meta", "objects"}`` lists with relative ``next`` links, and 400 bodies keyed by object then field.
"""

from __future__ import annotations

from fastapi import APIRouter

from esign_sandbox.legalesign import routes_documents, routes_resources
from esign_sandbox.legalesign.deps import Deps
from esign_sandbox.legalesign.models import (
    FINAL_STEPS,
    INDEX_SPEC,
    VENDOR,
    decorate_control_document,
    document_status,
    download_final,
    history_document,
    naive,
    raw_status,
    signer_status,
)
from esign_sandbox.legalesign.responses import API_PREFIXES, document_detail
from esign_sandbox.legalesign.routes_documents import STORAGE_PREFIX
from esign_sandbox.legalesign.storage import build_storage_router
from esign_sandbox.legalesign.validation import validate_document
from esign_sandbox.state import SandboxState

__all__ = [
    "API_PREFIXES",
    "FINAL_STEPS",
    "INDEX_SPEC",
    "STORAGE_PREFIX",
    "VENDOR",
    "build_router",
    "build_storage_router",
    "decorate_control_document",
    "document_detail",
    "document_status",
    "download_final",
    "history_document",
    "naive",
    "raw_status",
    "signer_status",
    "validate_document",
]


def build_router(state: SandboxState) -> APIRouter:
    """:return: the Legalesign API router (mounted under each prefix in :data:`API_PREFIXES`)."""
    deps = Deps(state)
    router = APIRouter()
    router.include_router(routes_documents.build_router(state, deps))
    router.include_router(routes_resources.build_router(state, deps))
    return router
