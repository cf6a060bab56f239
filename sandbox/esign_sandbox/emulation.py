"""
The per-vendor declaration the shared sandbox modules consult instead of branching on vendor names.

Each vendor package (``sandbox/legalesign``, ``sandbox/wesignature``, ``sandbox/esignbase``) declares one
:class:`VendorEmulation` as ``EMULATION`` in its ``emulation`` module; :func:`emulation` finds it by vendor
key. The lookup imports the vendor package on first use, so importing this module stays cheap (no FastAPI,
no Starlette) and the shared modules never import vendor packages at import time.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.responses import Response

    from esign_sandbox.config import SandboxConfig
    from esign_sandbox.index import IndexSpec
    from esign_sandbox.models import Document
    from esign_sandbox.state import SandboxState


@dataclass(frozen=True)
class VendorEmulation:
    """
    What the shared sandbox code needs to know about one vendor.

    :param key: the vendor key (``"legalesign"``, ...), as in :data:`~.config.VENDORS`.
    :param index_spec: how the vendor's list endpoint orders and caches documents.
    :param raw_status: ``(document, now) -> status`` as the vendor reports it (control API summary).
    :param history_document: ``(state, created_at, outcome, number) -> Document`` for seeded history.
    :param decorate_control_document: ``(state, document, body)`` fills the vendor's own fields of a
        document created through the control API.
    :param new_document_id: ``state -> id`` of a document created through the control API.
    :param new_signer_id: ``(state, index) -> id`` of that document's ``index``-th signer.
    :param control_tags: ``document data -> tags`` shown in the control API summary (``None``: no tags).
    :param on_add: ``(state, document)`` registers a new document for the vendor's event machinery.
    :param unknown_route: ``(status, method, path, headers)`` answers a routing 404/405 in the vendor's
        style, or ``None`` to fall back to the generic ``{"error": ...}`` answer.
    :param throttled: ``headers -> Response`` the vendor-shaped 429.
    :param server_error: ``() -> Response`` the vendor-shaped 500.
    :param retry_after: ``(limit, wait, config) -> seconds or None`` for the ``Retry-After`` of a
        rate-limit 429 (``limit`` is the vendor's entry of ``rate_limits``).
    """

    key: str
    index_spec: IndexSpec
    raw_status: Callable[[Document, float], Any]
    history_document: Callable[[SandboxState, float, str, int], Document]
    decorate_control_document: Callable[[SandboxState, Document, dict[str, Any]], None]
    new_document_id: Callable[[SandboxState], str]
    new_signer_id: Callable[[SandboxState, int], str]
    control_tags: Callable[[dict[str, Any]], dict[str, Any] | None]
    on_add: Callable[[SandboxState, Document], None]
    unknown_route: Callable[[int, str, str, dict[str, str]], Response | None]
    throttled: Callable[[dict[str, str] | None], Response]
    server_error: Callable[[], Response]
    retry_after: Callable[[dict[str, Any], float, SandboxConfig], float | None]


def no_tags(data: dict[str, Any]) -> None:
    """:return: ``None``: the vendor has no document tags."""
    return None


def nothing_on_add(state: SandboxState, document: Document) -> None:
    """A vendor without per-document event machinery."""


def uuid_id(state: SandboxState, *_: Any) -> str:
    """:return: a seeded UUID4 (document or signer id)."""
    return state.new_uuid()


def position_id(state: SandboxState, index: int) -> str:
    """:return: the signer's position as its id."""
    return str(index)


def configured_retry_after(limit: dict[str, Any], wait: float, config: SandboxConfig) -> float | None:
    """:return: the wait as ``Retry-After`` unless the limit says ``"retry_after": false``."""
    return wait if limit.get("retry_after", True) else None


@functools.cache
def emulation(vendor: str) -> VendorEmulation:
    """
    :param vendor: a vendor key from :data:`~.config.VENDORS`.
    :return: that vendor's declaration.
    :raises ModuleNotFoundError: for an unknown vendor.
    """
    module = importlib.import_module(f"esign_sandbox.{vendor}.emulation")
    found: VendorEmulation = module.EMULATION
    assert found.key == vendor, f"{module.__name__} declares {found.key!r}"
    return found
