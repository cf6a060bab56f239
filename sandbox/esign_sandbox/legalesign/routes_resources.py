"""
Legalesign template PDF, signer, group, attachment and webhook endpoints.

Shapes and codes from the official OpenAPI 3 spec (https://github.com/legalesign/Legalesign-V1-OpenAPI3):
``POST`` answers 201 with the new URI in ``Location``; ``/templatepdf/{id}/archive/`` answers 201;
``/signer/{id}/new-link/`` and ``/templatepdf/{id}/edit-link/`` answer 201 with the link in ``Location``;
``/unsubscribe/`` answers 200 whether or not the URL was subscribed, 400 for a body that is not JSON;
``POST /templatepdf/{id}/fields/`` answers 201; attachment 400s are ``{"text": ...}``. Request schemas that
do not forbid additional properties (``templatepdf``, ``send-reminder``) accept unknown keys.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from esign_sandbox.legalesign import models, responses, validation
from esign_sandbox.legalesign.deps import Deps
from esign_sandbox.legalesign.models import USER_URI
from esign_sandbox.legalesign.responses import error
from esign_sandbox.models import Document
from esign_sandbox.responses import json_response
from esign_sandbox.state import SandboxState

_NOTIFY_WHEN = {"all": 1, "signed": 2, "sent": 3, "rejected": 4, "realtime": 10}


def _paged(request: Request, obj: str, items: list[Any], path: str) -> Response:
    paging = validation.paging(request, obj)
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
    page = items[offset : offset + limit]
    return json_response(responses.list_envelope(page, len(items), limit, offset, path, params))


def _slug(value: str | None) -> str | None:
    if not value:
        return None
    match = validation.GROUP_URI.fullmatch(value)
    return match.group(1) if match else value


def build_router(state: SandboxState, deps: Deps) -> APIRouter:
    """:return: the template PDF, signer, group, attachment and webhook routes."""
    router = APIRouter(dependencies=[deps.auth])

    def created(request: Request, path: str) -> Response:
        """:return: the spec's 201 with the new resource in ``Location`` and no body."""
        location = responses.location(request, path, state.config.legalesign_location)
        return Response(status_code=201, headers={"location": location})

    # -- template PDFs ---------------------------------------------------------------------------------
    @router.post("/templatepdf/", name="legalesign.templatepdf_create")
    async def create_templatepdf(request: Request) -> Response:
        body = await validation.json_body(request, "templatepdf")
        if isinstance(body, Response):
            return body
        errors, pdf_bytes = validation.validate_templatepdf(state, body)
        if errors:
            return error("templatepdf", errors)
        template = models.new_templatepdf(
            state,
            title=body.get("title") or "",
            group=_slug(body["group"]) or "",
            user=body.get("user"),
            pdf_bytes=pdf_bytes,
            process_tags=bool(body.get("process_tags", False)),
        )
        return created(request, f"/templatepdf/{template['uuid']}/")

    @router.get("/templatepdf/", name="legalesign.templatepdf_list")
    async def list_templatepdfs(request: Request) -> Response:
        slug = _slug(request.query_params.get("group"))
        try:
            archived = validation.bool_param(request.query_params.get("archive"))
        except ValueError:
            return error("templatepdf", {"archive": ["Must be true, 1, false or 0."]})
        items = [
            responses.template_detail(t)
            for t in state.templatepdfs.values()
            if (slug is None or t["group"] == slug) and (archived is None or t["archived"] == archived)
        ]
        return _paged(request, "templatepdf", items, "/api/v1/templatepdf/")

    @router.get("/templatepdf/{pdf_id}/", name="legalesign.templatepdf_detail")
    async def get_templatepdf(template: dict[str, Any] = deps.templatepdf) -> Response:
        return json_response(responses.template_detail(template))

    @router.get("/templatepdf/{pdf_id}/fields/", name="legalesign.templatepdf_fields")
    async def get_templatepdf_fields(
        request: Request, template: dict[str, Any] = deps.templatepdf
    ) -> Response:
        objects = responses.field_objects(template)
        path = f"/api/v1/templatepdf/{template['uuid']}/fields/"
        return json_response(
            responses.list_envelope(objects, len(objects), max(1, len(objects)), 0, path, {})
        )

    @router.post("/templatepdf/{pdf_id}/fields/", name="legalesign.templatepdf_fields_create")
    async def set_templatepdf_fields(
        request: Request, template: dict[str, Any] = deps.templatepdf
    ) -> Response:
        try:
            raw = json.loads((await request.body()).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return responses.server_error()
        problems = validation.validate_fields(raw, template["page_count"])
        if problems:
            return error("templatepdf", {"fields": problems})
        models.set_fields(template, raw, state.now())
        return Response(status_code=201)  # the spec's only success code for this POST

    @router.post("/templatepdf/{pdf_id}/archive/", name="legalesign.templatepdf_archive")
    async def archive_templatepdf(template: dict[str, Any] = deps.templatepdf) -> Response:
        template["archived"], template["modified"] = True, state.now()
        return Response(status_code=201)

    @router.get("/templatepdf/{pdf_id}/edit-link/", name="legalesign.templatepdf_edit_link")
    async def templatepdf_edit_link(
        request: Request, template: dict[str, Any] = deps.templatepdf
    ) -> Response:
        link = f"{responses.origin(request)}/legalesign/edit/{template['uuid']}/{secrets.token_urlsafe(12)}/"
        # The spec puts the link in Location and declares the body a JSON string holding it too.
        return json_response(link, 201, headers={"location": link})

    # -- signers -----------------------------------------------------------------------------------------
    @router.get("/signer/{signer_id}/", name="legalesign.signer_detail")
    async def get_signer(found: tuple[Document, int] = deps.signer) -> Response:
        doc, index = found
        signer = doc.signers[index]
        return json_response(
            {
                "document": responses.document_uri(doc),
                "email": signer.email,
                "first_name": signer.first_name,
                "last_name": signer.last_name,
                "has_fields": True,
                "order": signer.order,
                "resource_uri": responses.signer_uri(signer),
                "status": models.signer_status(doc, index, state.now()),
            }
        )

    @router.get("/signer/{signer_id}/new-link/", name="legalesign.signer_new_link")
    async def signer_new_link(request: Request, found: tuple[Document, int] = deps.signer) -> Response:
        doc, index = found
        link = f"{responses.origin(request)}/legalesign/esign/{doc.signers[index].id}/{secrets.token_urlsafe(12)}/"
        return Response(status_code=201, headers={"location": link})

    @router.get("/signer/{signer_id}/rejection/", name="legalesign.signer_rejection")
    async def signer_rejection(found: tuple[Document, int] = deps.signer) -> Response:
        doc, index = found
        signer = doc.signers[index]
        reason = signer.data.get("reject_reason") if signer.declined_at is not None else None
        return json_response(
            {"status": models.signer_status(doc, index, state.now()), "reason": reason or ""}
        )

    @router.get("/signer/{signer_id}/fields1/", name="legalesign.signer_fields")
    async def signer_fields(found: tuple[Document, int] = deps.signer) -> Response:
        doc, index = found
        keys = ("fieldorder", "label", "label_extra", "state", "value")
        values = models.field_values(state, doc, state.now())
        mine = [f for f in values if f["signer"] is not None and f["signer"] % 100 == index + 1]
        return json_response([{k: f[k] for k in keys} for f in mine])

    @router.post("/signer/{signer_id}/send-reminder/", name="legalesign.signer_reminder")
    async def send_reminder(request: Request, found: tuple[Document, int] = deps.signer) -> Response:
        body = await validation.json_body(request, "signer")
        if isinstance(body, Response):
            return body
        # The spec's reminder schema allows additional properties: unknown keys are ignored.
        errors: dict[str, list[str]] = {}
        text = body.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > 10000):
            errors["text"] = ["Ensure this field has no more than 10000 characters."]
        if errors:
            return error("signer", errors)
        doc, index = found
        closed = doc.voided_at is not None or doc.declined_signer is not None
        if doc.signers[index].signed_at is not None or doc.sent_at is None or closed:
            # Documented meaning of 401 here: the reminder was not sent.
            return Response(status_code=401)
        return Response(status_code=200)

    # -- groups ------------------------------------------------------------------------------------------
    def group_body() -> dict[str, Any]:
        slug = state.config.legalesign_group
        return {
            "slug": slug, "name": "Sandbox team", "public_name": "Sandbox team",
            "resource_uri": f"/api/v1/group/{slug}/", "is_active": True,
            "created": "2025-01-01T00:00:00", "modified": "2025-01-01T00:00:00", "user": USER_URI,
            "xframe_allow": False, "xframe_allow_pdf_edit": False,
        }  # fmt: skip

    @router.get("/group/", name="legalesign.group_list")
    async def list_groups(request: Request) -> Response:
        return _paged(request, "group", [group_body()], "/api/v1/group/")

    @router.get("/group/{slug}/", name="legalesign.group_detail")
    async def get_group(slug: str) -> Response:
        return json_response(group_body()) if slug == state.config.legalesign_group else responses.not_found()

    # -- attachments -------------------------------------------------------------------------------------
    @router.post("/attachment/", name="legalesign.attachment_upload")
    async def upload_attachment(request: Request) -> Response:
        body = await validation.json_body(request, "attachment")
        if isinstance(body, Response):
            return body
        problems, pdf_bytes = validation.validate_attachment(state, body)
        if problems:
            return json_response({"text": " ".join(problems)}, 400)
        attachment_id = state.new_uuid()
        state.attachments[attachment_id] = {
            "uuid": attachment_id, "filename": body["filename"], "description": body.get("description") or "",
            "group": _slug(body["group"]), "user": body.get("user") or USER_URI, "created": state.now(),
            "size": len(pdf_bytes),
        }  # fmt: skip
        return created(request, f"/attachment/{attachment_id}/")

    @router.get("/attachment/", name="legalesign.attachment_list")
    async def list_attachments(request: Request) -> Response:
        slug = _slug(request.query_params.get("group"))
        items = [
            responses.attachment_body(a) for a in state.attachments.values() if slug in (None, a["group"])
        ]
        return _paged(request, "attachment", items, "/api/v1/attachment/")

    @router.get("/attachment/{attachment_id}/", name="legalesign.attachment_detail")
    async def get_attachment(attachment: dict[str, Any] = deps.attachment) -> Response:
        return json_response(responses.attachment_body(attachment))

    @router.delete("/attachment/{attachment_id}/", name="legalesign.attachment_delete")
    async def delete_attachment(attachment: dict[str, Any] = deps.attachment) -> Response:
        del state.attachments[attachment["uuid"]]
        return Response(status_code=204)

    # -- webhooks ----------------------------------------------------------------------------------------
    async def webhook_body(request: Request, subscribe: bool) -> dict[str, Any] | Response:
        # The spec answers a body that is not JSON with 400 here (elsewhere Legalesign answers 500).
        body = await validation.json_body(request, "webhook", invalid_json_status=400)
        if isinstance(body, Response):
            return body
        errors = validation.validate_webhook(body, subscribe=subscribe)
        return error("webhook", errors) if errors else body

    @router.post("/subscribe/", name="legalesign.subscribe")
    async def subscribe(request: Request) -> Response:
        body = await webhook_body(request, subscribe=True)
        if isinstance(body, Response):
            return body
        webhook_id = state.new_uuid()
        state.webhook_subscriptions.append(
            {
                "id": webhook_id,
                "url": body["url"],
                "notify_when": _NOTIFY_WHEN[body["notify"]],
                "event_filter": body.get("eventFilter") or "",
                "group": _slug(body.get("group")),
                "active": True,
                "created": state.now(),
            }
        )
        return created(request, f"/unsubscribe/{webhook_id}/")

    @router.post("/unsubscribe/", name="legalesign.unsubscribe")
    async def unsubscribe(request: Request) -> Response:
        body = await webhook_body(request, subscribe=False)
        if isinstance(body, Response):
            return body
        group, event_filter = _slug(body.get("group")), body.get("eventFilter") or ""
        state.webhook_subscriptions[:] = [
            w
            for w in state.webhook_subscriptions
            if not (w["url"] == body["url"] and w["event_filter"] == event_filter and w["group"] == group)
        ]
        return Response(status_code=200)

    @router.delete("/unsubscribe/{webhook_id}/", name="legalesign.unsubscribe_by_id")
    async def unsubscribe_by_id(webhook_id: str) -> Response:
        # The Location a subscribe answers with ("URL to delete this webhook", Power Automate spec).
        before = len(state.webhook_subscriptions)
        state.webhook_subscriptions[:] = [w for w in state.webhook_subscriptions if w["id"] != webhook_id]
        return (
            Response(status_code=204) if len(state.webhook_subscriptions) < before else responses.not_found()
        )

    @router.get("/notifications/", name="legalesign.notifications")
    async def notifications() -> Response:
        return json_response(
            [
                {"active": w["active"], "notify_when": w["notify_when"], "url": w["url"], "group_id": 1,
                 "event_filter": w["event_filter"]}
                for w in state.webhook_subscriptions
            ]
        )  # fmt: skip

    return router
