"""
Legalesign response bodies, shaped like the official OpenAPI 3 spec's schemas
(https://github.com/legalesign/Legalesign-V1-OpenAPI3): Tastypie ``{"meta", "objects"}`` lists with relative
``next`` links, ``DocumentResponseDetail``, ``StatusResponse``, ``TemplatePdf`` and the error shapes.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from fastapi import Request
from starlette.responses import Response

from esign_sandbox.legalesign import models
from esign_sandbox.legalesign.models import download_final, naive
from esign_sandbox.models import Document, Signer
from esign_sandbox.responses import json_response

API_PREFIXES = ("/legalesign/api/v1", "/api/v1")


def error(obj: str, errors: dict[str, list[str]], status: int = 400) -> Response:
    """:return: the spec's 400 shape, keyed by object then field."""
    return json_response({obj: errors}, status)


def server_error() -> Response:
    """:return: Django's stock 500 page: Legalesign documents 500 as "usually json parsing error"."""
    return Response("<h1>Server Error (500)</h1>", status_code=500, media_type="text/html")


def not_found() -> Response:
    """:return: Tastypie's empty 404."""
    return Response(status_code=404)


def unauthorised() -> Response:
    """:return: Tastypie's 401 with an empty body."""
    return Response(status_code=401)


def origin(request: Request) -> str:
    """:return: ``scheme://host[:port]`` the client used."""
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


def api_base(request: Request) -> str:
    """:return: the absolute API root the request came in on (for ``Location`` headers)."""
    path = request.url.path
    prefix = next((p for p in API_PREFIXES if path.startswith(p + "/")), API_PREFIXES[0])
    return origin(request) + prefix


def location(request: Request, path: str, form: str = "absolute") -> str:
    """
    :param path: the new resource's path below ``/api/v1``, e.g. ``/document/<uuid>/``.
    :param form: ``absolute`` (an absolute URL on the API root the request used) or ``path``
        (``/api/v1/...``): the spec does not say which ``Location`` Legalesign sends.
    :return: the ``Location`` header value of a 201.
    """
    return f"/api/v1{path}" if form == "path" else api_base(request) + path


def signer_uri(signer: Signer) -> str:
    """:return: the signer's resource URI."""
    return f"/api/v1/signer/{signer.id}/"


def document_uri(doc: Document) -> str:
    """:return: the document's resource URI."""
    return f"/api/v1/document/{doc.id}/"


def signer_rows(doc: Document, now: float, values: str = "strings") -> list[list[Any]]:
    """
    :param values: ``strings`` (the spec and SDK type every item as a string) or ``native`` (the spec's
        examples: a boolean ``has_fields`` and integer status and order).
    :return: the 8-element ``signers`` arrays.
    """
    rows = []
    for i, s in enumerate(doc.signers):
        row: list[Any] = [signer_uri(s), s.first_name, s.last_name, s.email, s.data.get("sms", "")]
        row += [True, models.signer_status(doc, i, now), s.order]
        if values == "strings":
            row = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in row]
        rows.append(row)
    return rows


def signer_objects(doc: Document, now: float) -> list[dict[str, Any]]:
    """:return: the ``signer_objects`` list."""
    return [
        {
            "uuid": s.id,
            "resource_uri": signer_uri(s),
            "firstname": s.first_name,
            "lastname": s.last_name,
            "email": s.email,
            "order": s.order,
            "role": s.role or "signer",
            "tel": s.data.get("sms", ""),
            "status": models.signer_status(doc, i, now),
        }
        for i, s in enumerate(doc.signers)
    ]


def _common(doc: Document, now: float) -> dict[str, Any]:
    data, options = doc.data, doc.data["options"]
    return {
        "uuid": doc.id,
        "resource_uri": document_uri(doc),
        "name": doc.name,
        "group": f"/api/v1/group/{data['group']}/",
        "user": data["user"],
        "templatepdf": data.get("templatepdf"),
        "template": None,
        "text": None,
        "status": models.document_status(doc, now),
        "archived": models.is_archived(doc, now),
        "auto_archive": options["auto_archive"],
        "do_email": options["do_email"],
        "download_final": download_final(doc, now),
        "return_signer_links": options["return_signer_links"],
        "cc_emails": options["cc_emails"],
        # The spec types pdftext in responses as a string: the sent object, JSON-encoded.
        "pdftext": None
        if options["pdftext"] is None
        else json.dumps(options["pdftext"], separators=(",", ":")),
        "redirect": options["redirect"],
        "tag": data.get("tag", ""),
        "tag1": data.get("tag1", ""),
        "tag2": data.get("tag2", ""),
        "created": naive(doc.created_at),
        "modified": naive(models.modified(doc, now)),
    }


def document_detail(doc: Document, now: float, values: str = "strings") -> dict[str, Any]:
    """:return: the ``DocumentResponseDetail`` body."""
    options = doc.data["options"]
    body = _common(doc, now)
    body.update(
        {
            "hash_value": doc.final_pdf().sha256() if body["download_final"] else None,
            "sign_time": naive(doc.all_signed_at),
            "signers_in_order": options["signers_in_order"],
            "append_pdf": options["append_pdf"],
            "append_history": options["append_history"],
            "signature_type": options["signature_type"],
            "has_fields": True,
            "pdf_password": options["pdf_password"],
            "pdf_password_type": options["pdf_password_type"],
            "footer": options["footer"],
            "footer_height": options["footer_height"],
            "header": options["header"],
            "header_height": options["header_height"],
            "sign_mouse": True,
            "sign_type": True,
            "sign_upload": True,
            "signature_placement": 2,
            "signers": signer_rows(doc, now, values),
            "signer_objects": signer_objects(doc, now),
        }
    )
    return body


def document_list_item(
    doc: Document, now: float, *, with_signers: bool, values: str = "strings"
) -> dict[str, Any]:
    """:return: a ``DocumentListResponse`` item (``signers_in_order`` is 0/1 there)."""
    body = _common(doc, now)
    body["signers_in_order"] = 1 if doc.data["options"]["signers_in_order"] else 0
    if with_signers:
        body["signers"] = signer_rows(doc, now, values)
    return body


def status_body(doc: Document, now: float) -> dict[str, Any]:
    """:return: the ``StatusResponse`` of ``GET /status/{id}/`` and ``GET /status/``."""
    return {
        "archived": models.is_archived(doc, now),
        "download_final": download_final(doc, now),
        "resource_uri": document_uri(doc),
        "status": models.document_status(doc, now),
        "tag": doc.data.get("tag", ""),
        "tag1": doc.data.get("tag1", ""),
        "tag2": doc.data.get("tag2", ""),
    }


def list_envelope(
    objects: list[Any], total: int, limit: int, offset: int, path: str, params: dict[str, str]
) -> dict[str, Any]:
    """:return: the Tastypie list envelope with relative ``next``/``previous`` links."""

    def link(new_offset: int) -> str:
        query = dict(params)
        query["limit"] = str(limit)
        query["offset"] = str(new_offset)
        return f"{path}?{urllib.parse.urlencode(sorted(query.items()))}"

    return {
        "meta": {
            "limit": limit,
            "offset": offset,
            "total_count": total,
            "next": link(offset + limit) if offset + limit < total else None,
            "previous": link(max(0, offset - limit)) if offset > 0 else None,
        },
        "objects": objects,
    }


def template_detail(template: dict[str, Any]) -> dict[str, Any]:
    """:return: the ``TemplatePdf`` body; ``parties`` is a string holding JSON, as the spec types it."""
    return {
        "uuid": template["uuid"],
        "title": template["title"],
        "group": f"/api/v1/group/{template['group']}/",
        "user": template["user"],
        "created": naive(template["created"]),
        "modified": naive(template["modified"]),
        "page_count": template["page_count"],
        "signer_count": len([n for n in models.signer_numbers(template) if n < 100]),
        "parties": models.parties(template),
        "valid": bool(template["fields"]) and not template["archived"],
        "resource_uri": f"/api/v1/templatepdf/{template['uuid']}/",
    }


def field_objects(template: dict[str, Any]) -> list[dict[str, Any]]:
    """:return: the template's fields as ``GET /templatepdf/{id}/fields/`` objects."""
    return [
        {**field, "label_extra": field.get("label_extra", ""), "value": ""} for field in template["fields"]
    ]


def attachment_body(attachment: dict[str, Any]) -> dict[str, Any]:
    """:return: the ``AttachmentResponse`` body."""
    return {
        "uuid": attachment["uuid"],
        "resource_uri": f"/api/v1/attachment/{attachment['uuid']}/",
        "filename": attachment["filename"],
        "description": attachment["description"],
        "group": f"/api/v1/group/{attachment['group']}/",
        "user": attachment["user"],
        "created": naive(attachment["created"]),
    }
