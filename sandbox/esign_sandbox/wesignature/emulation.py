"""WeSignature's :class:`~esign_sandbox.emulation.VendorEmulation`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from esign_sandbox.emulation import (
    VendorEmulation,
    configured_retry_after,
    no_tags,
    nothing_on_add,
    position_id,
)
from esign_sandbox.models import Document
from esign_sandbox.responses import json_response
from esign_sandbox.state import SandboxState
from esign_sandbox.wesignature import models


def _decorate(state: SandboxState, doc: Document, body: dict[str, Any]) -> None:
    models.decorate_control_document(state, doc, body)
    if not body.get("name"):
        # Without a name the document is known by its (first) file's name, as ``sendDocument`` does.
        doc.name = doc.data["document_name"]


def _new_document_id(state: SandboxState) -> str:
    return "group-" + state.new_hex(23)


def _unknown_route(status: int, method: str, path: str, headers: dict[str, str]) -> Response:
    what = "method not allowed" if status == 405 else "no such endpoint"
    return json_response({"status": str(status), "message": f"{what}: {path}"}, status, headers)


def _throttled(headers: dict[str, str] | None) -> Response:
    return json_response({"status": "429", "message": "Too many requests"}, 429, headers)


def _server_error() -> Response:
    return json_response({"status": "500", "message": "Internal server error"}, 500)


EMULATION = VendorEmulation(
    key=models.VENDOR,
    index_spec=models.INDEX_SPEC,
    raw_status=models.raw_status,
    history_document=models.history_document,
    decorate_control_document=_decorate,
    new_document_id=_new_document_id,
    new_signer_id=position_id,
    control_tags=no_tags,
    on_add=nothing_on_add,
    unknown_route=_unknown_route,
    throttled=_throttled,
    server_error=_server_error,
    retry_after=configured_retry_after,
)
