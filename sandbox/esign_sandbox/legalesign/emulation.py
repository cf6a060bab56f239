"""Legalesign's :class:`~esign_sandbox.emulation.VendorEmulation`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from esign_sandbox.config import SandboxConfig
from esign_sandbox.emulation import VendorEmulation, uuid_id
from esign_sandbox.legalesign import models, unemulated
from esign_sandbox.models import Document
from esign_sandbox.responses import json_response
from esign_sandbox.state import SandboxState


def _unknown_route(status: int, method: str, path: str, headers: dict[str, str]) -> Response | None:
    # SDK calls the sandbox does not emulate get a 501 saying so; other unknown paths get Django's pages.
    if status in (404, 405) and unemulated.is_not_emulated(method, path):
        return unemulated.not_emulated_response(method, path)
    if status in (404, 405):
        return unemulated.unknown_response(status, headers)
    return None


def _throttled(headers: dict[str, str] | None) -> Response:
    return json_response({"detail": "throttled"}, 429, headers)


def _server_error() -> Response:
    return Response("<h1>Server Error (500)</h1>", status_code=500, media_type="text/html")


def _retry_after(limit: dict[str, Any], wait: float, config: SandboxConfig) -> float | None:
    # Legalesign documents no Retry-After; send one only when configured.
    if limit.get("retry_after"):
        return wait
    return config.legalesign_retry_after


def _tags(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data.get(k, "") for k in ("tag", "tag1", "tag2")}


def _on_add(state: SandboxState, document: Document) -> None:
    # Webhook subscriptions (``POST /subscribe/``) get this document's events as it moves on.
    state.legalesign_events_pending.add(document.id)


EMULATION = VendorEmulation(
    key=models.VENDOR,
    index_spec=models.INDEX_SPEC,
    raw_status=models.raw_status,
    history_document=models.history_document,
    decorate_control_document=models.decorate_control_document,
    new_document_id=uuid_id,
    new_signer_id=uuid_id,
    control_tags=_tags,
    on_add=_on_add,
    unknown_route=_unknown_route,
    throttled=_throttled,
    server_error=_server_error,
    retry_after=_retry_after,
)
