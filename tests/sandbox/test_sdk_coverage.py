"""
Every call of the official Legalesign SDK (PyPI ``legalesign`` 1.1.1) is either emulated (it succeeds) or
answers 501 "not emulated by the sandbox"; none gets FastAPI's default ``{"detail": ...}`` 404/405.

The SDK's resources are enumerated by introspection, so a new SDK release with new calls fails this test
until the sandbox emulates them or lists them as not emulated.
"""

from __future__ import annotations

import base64
import inspect
import re
from collections.abc import Iterator
from typing import Any

import httpx
import legalesign
import pytest
from legalesign._resource import SyncAPIResource
from sandbox_helpers import GROUP_URI, LEGALESIGN_AUTH

from esign_sandbox import Sandbox
from esign_sandbox.legalesign.unemulated import NOT_EMULATED, api_path, is_not_emulated
from esign_sandbox.pdf import build_pdf

PDF_B64 = base64.b64encode(build_pdf("Contract", ["Please sign."]).to_bytes()).decode()


def sdk_methods(client: legalesign.Legalesign) -> Iterator[tuple[str, Any]]:
    """Yield ``(dotted name, bound method)`` for every public call of every (nested) resource."""

    def walk(resource: SyncAPIResource, prefix: str) -> Iterator[tuple[str, Any]]:
        for name in sorted(dir(type(resource))):
            if name.startswith(("_", "with_")):
                continue
            value = getattr(resource, name)
            if isinstance(value, SyncAPIResource):
                yield from walk(value, f"{prefix}{name}.")
            elif inspect.ismethod(value):
                yield f"{prefix}{name}", value

    for name in sorted(dir(client)):
        if name.startswith(("_", "with_")):
            continue
        value = getattr(client, name, None)
        if isinstance(value, SyncAPIResource):
            yield from walk(value, f"{name}.")


def test_every_sdk_call_is_emulated_or_says_so(sb: Sandbox) -> None:
    sb.configure(send_delay=0, sign_delay=None, pdf_delay=0, legalesign_redirect_ratio=0.0)
    seen: list[tuple[str, str, int, bytes]] = []

    def record(response: httpx.Response) -> None:
        response.read()
        seen.append(
            (response.request.method, response.request.url.path, response.status_code, response.content)
        )

    http = httpx.Client(event_hooks={"response": [record]})
    client = legalesign.Legalesign(api_key=LEGALESIGN_AUTH["Authorization"], base_url=sb.vendor_url("legalesign"),
                                   http_client=http, max_retries=0, _strict_response_validation=True)  # fmt: skip
    # Real resources, so that emulated calls succeed.
    upload = client.templatepdf.with_raw_response.create(group=GROUP_URI, pdf_file=PDF_B64)
    pdf_id = upload.headers["location"].rstrip("/").rsplit("/", 1)[-1]
    completed = sb.create_document("legalesign", status="completed")["id"]
    pending = sb.create_document("legalesign", status="sent")["id"]
    signer_row = client.document.retrieve(pending).signers[0]  # type: ignore[index]
    client.attachment.upload(group=GROUP_URI, pdf_file=PDF_B64, filename="terms.pdf")
    attachment_id = client.attachment.list().objects[0].uuid  # type: ignore[index]
    values: dict[str, Any] = {
        "doc_id": completed, "pdf_id": pdf_id, "signer_id": signer_row[0].rstrip("/").rsplit("/", 1)[-1],
        "attachment_id": attachment_id, "group_id": "sandbox-team", "group": GROUP_URI, "name": "Agreement",
        "signers": [{"firstname": "Ann", "lastname": "Lee", "email": "ann@example.com"}],
        "filename": "terms.pdf", "pdf_file": PDF_B64, "notify": "realtime", "url": "https://hooks.example.com/x",
        "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "title": "T", "text": "<p>x</p>",
        "latest_text": "<p>x</p>", "is_signature_per_page": 0, "signature_type": 4, "signee_count": 1,
        "body": [{"ax": 0.1, "ay": 0.1, "bx": 0.3, "by": 0.2, "element_type": "signature", "page": 1, "signer": 1}],
        "member_id": "m1", "invited_id": "i1", "template_id": "t1", "user_id": "u1",
    }  # fmt: skip
    # The SDK predates the spec making templatepdf required on POST /document/.
    optional = {"document.create": {"templatepdf": f"/api/v1/templatepdf/{pdf_id}/"}}
    methods = list(sdk_methods(client))
    assert len(methods) >= 50, [m for m, _ in methods]
    # Destructive calls last, so the resources exist for every other call.
    methods.sort(key=lambda item: any(w in item[0] for w in ("delete", "archive")))
    called = []
    for name, method in methods:
        required = [
            p.name for p in inspect.signature(method).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD
        ]  # fmt: skip
        before = len(seen)
        try:
            result = method(**{p: values[p] for p in required}, **optional.get(name, {}))
            if hasattr(result, "read"):
                result.read()
        except legalesign.APIStatusError:
            pass
        assert len(seen) > before, f"{name} sent no request"
        called.append(name)

    problems = []
    for method, path, status, body in seen:
        if re.search(rb'"detail"\s*:', body):
            problems.append(f"{method} {path}: FastAPI default body {body[:80]!r}")
        if is_not_emulated(method, path):
            if status != 501 or b"not emulated by the sandbox" not in body:
                problems.append(f"{method} {path}: {status} {body[:80]!r}, expected 501 not emulated")
        elif status >= 400:
            problems.append(f"{method} {path}: emulated call failed with {status} {body[:120]!r}")
    assert not problems, "\n".join(problems)
    # Every entry of the not-emulated table is a real SDK call (the table holds nothing stale).
    for table_method, pattern in NOT_EMULATED:
        assert any(m == table_method and re.fullmatch(pattern, api_path(p)) for m, p, _, _ in seen), pattern


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/legalesign/api/v1/nothing-here/", 404),
        ("PUT", "/legalesign/api/v1/document/", 405),
        ("GET", "/esignbase/api/nothing", 404),
        ("GET", "/wesignature/apihandler/nothing", 404),
    ],
)
def test_unknown_routes_answer_in_vendor_style(sb: Sandbox, method: str, path: str, status: int) -> None:
    response = httpx.request(method, sb.url + path, headers=LEGALESIGN_AUTH)
    assert response.status_code == status
    assert b'"detail"' not in response.content
    if path.startswith("/esignbase"):
        assert response.json()["error"] == "not_found"
    if path.startswith("/wesignature"):
        assert response.json()["status"] == "404"
