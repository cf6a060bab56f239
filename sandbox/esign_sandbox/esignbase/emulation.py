"""eSignBase's :class:`~esign_sandbox.emulation.VendorEmulation`."""

from __future__ import annotations

from starlette.responses import Response

from esign_sandbox.emulation import (
    VendorEmulation,
    configured_retry_after,
    no_tags,
    position_id,
    uuid_id,
)
from esign_sandbox.esignbase import models
from esign_sandbox.models import Document
from esign_sandbox.responses import json_response
from esign_sandbox.state import SandboxState


def _on_add(state: SandboxState, document: Document) -> None:
    # The "Document Completed" hook fires once for this document when it completes.
    state.hooks_pending.add(document.id)


def _unknown_route(status: int, method: str, path: str, headers: dict[str, str]) -> Response:
    what = "method not allowed" if status == 405 else "no such endpoint"
    code = "method_not_allowed" if status == 405 else "not_found"
    return json_response({"error": code, "message": f"{what}: {method} {path}"}, status, headers)


def _throttled(headers: dict[str, str] | None) -> Response:
    return json_response({"error": "rate_limited", "message": "Too many requests"}, 429, headers)


def _server_error() -> Response:
    return json_response({"error": "internal_server_error"}, 500)


EMULATION = VendorEmulation(
    key=models.VENDOR,
    index_spec=models.INDEX_SPEC,
    raw_status=models.raw_status,
    history_document=models.history_document,
    decorate_control_document=models.decorate_control_document,
    new_document_id=uuid_id,
    new_signer_id=position_id,
    control_tags=no_tags,
    on_add=_on_add,
    unknown_route=_unknown_route,
    throttled=_throttled,
    server_error=_server_error,
    retry_after=configured_retry_after,
)
