"""
Vendor-style answers for requests no route serves, instead of FastAPI's ``{"detail": "Not Found"}``.

Legalesign calls the official SDK can make but the sandbox does not emulate get a 501 "not emulated by the
sandbox"; other unknown paths and wrong methods get each vendor's own error shape.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import Response

from airflow_provider_esign.sandbox.legalesign import unemulated
from airflow_provider_esign.sandbox.middleware import classify
from airflow_provider_esign.sandbox.responses import json_response


async def http_exception_handler(request: Any, exc: Exception) -> Response:
    """Answer a routing 404/405 (or any HTTP exception) in the style of the vendor the path belongs to."""
    assert isinstance(exc, HTTPException)
    path, method = request.url.path, request.method
    vendor, _ = classify(path)
    status, headers = exc.status_code, dict(exc.headers or {})
    what = "method not allowed" if status == 405 else "no such endpoint"
    if vendor == "legalesign":
        if status in (404, 405) and unemulated.is_not_emulated(method, path):
            return unemulated.not_emulated_response(method, path)
        if status in (404, 405):
            return unemulated.unknown_response(status, headers)
    if vendor == "wesignature":
        return json_response({"status": str(status), "message": f"{what}: {path}"}, status, headers)
    if vendor == "esignbase":
        code = "method_not_allowed" if status == 405 else "not_found"
        return json_response({"error": code, "message": f"{what}: {method} {path}"}, status, headers)
    return json_response({"error": f"{what}: {method} {path}"}, status, headers)
