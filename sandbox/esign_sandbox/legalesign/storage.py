"""
The object storage ``GET /pdf/{id}/`` redirects to, and the signing pages links point at.

Legalesign: the 302 ``Location`` is "a short lived location for download, do not use Legalesign
authentication" (https://github.com/legalesign/Legalesign-V1-OpenAPI3), so this storage rejects an
``Authorization`` header the way S3 does.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from esign_sandbox.legalesign.models import VENDOR, download_final
from esign_sandbox.legalesign.routes_documents import STORAGE_PREFIX
from esign_sandbox.responses import html_response, pdf_response
from esign_sandbox.state import SandboxState


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml")


def build_storage_router(state: SandboxState) -> APIRouter:
    """:return: the router for the short-lived download URLs and the signing/editing pages."""
    router = APIRouter()

    @router.get(STORAGE_PREFIX + "/final/{file_name}", name="legalesign.storage_download")
    async def storage_download(request: Request, file_name: str) -> Response:
        if "authorization" in request.headers:
            # Object stores reject a second auth mechanism; Legalesign says never to send its key here.
            return _s3_error(
                400,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query "
                "string parameter or the Authorization header should be specified",
            )
        token = request.query_params.get("X-Amz-Signature", "")
        entry = state.redirects.get(token)
        doc_id = file_name.removesuffix(".pdf")
        if entry is None or entry[0] != doc_id:
            return _s3_error(403, "AccessDenied", "Access Denied")
        if state.now() > entry[1]:
            return _s3_error(403, "AccessDenied", "Request has expired")
        doc = state.get(VENDOR, doc_id)
        if doc is None or not download_final(doc, state.now()):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return pdf_response(doc.final_pdf(), filename=file_name, range_header=request.headers.get("range"))

    @router.get("/legalesign/esign/{signer_id}/", name="legalesign.signing_page")
    @router.get("/legalesign/esign/{signer_id}/{token}/", name="legalesign.signing_link_page")
    async def signing_page(signer_id: str) -> Response:
        return html_response("Legalesign sandbox", "API Test: signing page placeholder.")

    @router.get("/legalesign/edit/{pdf_id}/{token}/", name="legalesign.edit_page")
    async def edit_page(pdf_id: str) -> Response:
        return html_response("Legalesign sandbox", "API Test: template editor placeholder.")

    return router
