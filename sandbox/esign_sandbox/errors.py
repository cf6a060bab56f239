"""
Vendor-style answers for requests no route serves, instead of FastAPI's ``{"detail": "Not Found"}``.

Each vendor's :class:`~esign_sandbox.emulation.VendorEmulation` shapes the answer (e.g.
Legalesign calls the official SDK can make but the sandbox does not emulate get a 501 "not emulated by the
sandbox"); paths of no vendor get a generic ``{"error": ...}``.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from esign_sandbox.emulation import emulation
from esign_sandbox.middleware import classify
from esign_sandbox.responses import json_response


async def http_exception_handler(request: Any, exc: Exception) -> Response:
    """Answer a routing 404/405 (or any HTTP exception) in the style of the vendor the path belongs to."""
    assert isinstance(exc, HTTPException)
    path, method = request.url.path, request.method
    vendor, _ = classify(path)
    status, headers = exc.status_code, dict(exc.headers or {})
    if vendor is not None:
        answer = emulation(vendor).unknown_route(status, method, path, headers)
        if answer is not None:
            return answer
    what = "method not allowed" if status == 405 else "no such endpoint"
    return json_response({"error": f"{what}: {method} {path}"}, status, headers)
