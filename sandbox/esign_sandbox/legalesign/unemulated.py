"""
Legalesign v1 routes the official SDK (PyPI ``legalesign`` 1.1.1) can call but the sandbox does not emulate.

They answer 501 with a Legalesign-style JSON body saying "not emulated by the sandbox" (and
``x-should-retry: false``, which the Stainless-generated SDK honours, so it does not retry), so a DAG author
never mistakes a missing emulation for "the resource does not exist".
"""

from __future__ import annotations

import re

from starlette.responses import Response

from esign_sandbox.responses import json_response

_ID = r"[^/]+"
#: ``(method, path pattern below /api/v1)`` of every SDK call the sandbox does not emulate.
NOT_EMULATED: tuple[tuple[str, str], ...] = (
    ("POST", "/document/preview/"),
    ("POST", "/pdf/preview/"),
    ("POST", f"/signer/{_ID}/reset/"),
    ("POST", f"/templatepdf/{_ID}/tags/"),
    ("GET", "/template/"),
    ("POST", "/template/"),
    ("GET", f"/template/{_ID}/"),
    ("PATCH", f"/template/{_ID}/"),
    ("DELETE", f"/template/{_ID}/"),
    ("POST", "/group/"),
    ("PATCH", f"/group/{_ID}/"),
    ("GET", "/member/"),
    ("POST", "/member/"),
    ("GET", f"/member/{_ID}/"),
    ("DELETE", f"/member/{_ID}/"),
    ("GET", "/invited/"),
    ("DELETE", f"/invited/{_ID}/"),
    ("POST", "/user/"),
    ("GET", f"/user/{_ID}/"),
    ("PATCH", f"/user/{_ID}/"),
)
#: Calls the vendor's OpenAPI document declares but the SDK does not make, answered the same way.
SPEC_ONLY_NOT_EMULATED: tuple[tuple[str, str], ...] = (("DELETE", f"/templatepdf/{_ID}/delete/"),)
_COMPILED = tuple((method, re.compile(pattern)) for method, pattern in NOT_EMULATED + SPEC_ONLY_NOT_EMULATED)
_PREFIX = re.compile(r"^(?:/legalesign)?/api/v1(?=/)")


def api_path(path: str) -> str:
    """:return: ``path`` below ``/api/v1`` (``/legalesign/api/v1/x/`` and ``/api/v1/x/`` give ``/x/``)."""
    return _PREFIX.sub("", path, count=1)


def is_not_emulated(method: str, path: str) -> bool:
    """:return: whether ``method path`` is a Legalesign v1 SDK call the sandbox does not emulate."""
    below = api_path(path)
    return any(m == method and pattern.fullmatch(below) for m, pattern in _COMPILED)


def not_emulated_response(method: str, path: str) -> Response:
    """:return: the 501 answer for a Legalesign call the sandbox does not emulate."""
    message = f"{method} /api/v1{api_path(path)} is not emulated by the sandbox"
    return json_response({"error": message, "not_emulated": True}, 501, headers={"x-should-retry": "false"})


def unknown_response(status: int, headers: dict[str, str] | None) -> Response:
    """:return: Django's stock 404 page, or Tastypie's empty 405 with ``Allow``."""
    if status == 405:
        return Response(status_code=405, headers=headers)
    body = "<h1>Not Found</h1><p>The requested resource was not found on this server.</p>"
    return Response(body, status_code=404, media_type="text/html")
