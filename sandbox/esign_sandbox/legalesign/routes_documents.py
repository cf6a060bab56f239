"""Legalesign document, status and PDF endpoints (``/document/``, ``/status/``, ``/pdf/``)."""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from esign_sandbox.legalesign import models, responses, validation
from esign_sandbox.legalesign.deps import Deps
from esign_sandbox.legalesign.models import VENDOR, download_final
from esign_sandbox.legalesign.responses import error
from esign_sandbox.models import Document, iso_utc
from esign_sandbox.pdf import build_pdf
from esign_sandbox.responses import json_list_response, json_response, pdf_response
from esign_sandbox.state import SandboxState

STORAGE_PREFIX = "/legalesign-storage"


def _audit_pdf(doc: Document) -> bytes:
    lines = [f"Document: {doc.name}", f"Document id: {doc.id}", "", f"{iso_utc(doc.created_at)}  created"]
    if doc.sent_at is not None:
        lines.append(f"{iso_utc(doc.sent_at)}  sent to {len(doc.signers)} signer(s)")
    for signer in doc.signers:
        if signer.signed_at is not None:
            lines.append(f"{iso_utc(signer.signed_at)}  signed by {signer.name} <{signer.email}>")
        if signer.declined_at is not None:
            lines.append(f"{iso_utc(signer.declined_at)}  rejected by {signer.name} <{signer.email}>")
    if doc.voided_at is not None:
        lines.append(f"{iso_utc(doc.voided_at)}  removed ({doc.void_reason})")
    return build_pdf(f"Audit log: {doc.name}", lines).to_bytes()


def _archived_key(value: str | None, name: str) -> str | bool | Response:
    archived = (value or "false").lower()
    if archived in ("false", "0"):
        return False
    if archived in ("true", "1"):
        return True
    if archived == "all":
        return "all"
    return error("document", {name: ["Must be true, false or all."]})


def _timestamp(query: Any, key: str) -> float | Response | None:
    if not query.get(key):
        return None
    try:
        parsed = dt.datetime.fromisoformat(query[key].replace("Z", "+00:00"))
    except ValueError:
        return error("document", {key: ["Must be an ISO 8601 date-time."]})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def build_router(state: SandboxState, deps: Deps) -> APIRouter:
    """:return: the document, status and PDF routes."""
    router = APIRouter(dependencies=[deps.auth])

    @router.post("/document/", name="legalesign.document_create")
    async def create_document(request: Request) -> Response:
        body = await validation.json_body(request, "document")
        if isinstance(body, Response):
            return body
        errors = validation.validate_document(state, body)
        if errors:
            return error("document", errors)
        allowed = state.config.legalesign_allowed_recipients
        if allowed is not None:
            allowed_lower = {a.lower() for a in allowed}
            if any(s["email"].lower() not in allowed_lower for s in body["signers"]):
                # The Legalesign trial answers 401 for recipients outside its preset list.
                return responses.unauthorised()
        group_match = validation.GROUP_URI.fullmatch(body["group"])
        assert group_match is not None
        doc = state.add(
            models.build_document(
                state,
                name=body["name"],
                signers=body["signers"],
                group=group_match.group(1),
                templatepdf=body["templatepdf"],
                options={k: body[k] for k in models.DEFAULTS if k in body},
                tags={k: body[k] for k in ("tag", "tag1", "tag2") if body.get(k) is not None},
                user=body.get("user"),
            )
        )
        location = responses.location(request, f"/document/{doc.id}/", state.config.legalesign_location)
        if body.get("return_signer_links"):
            links = {
                f"signer_{i + 1}": f"{responses.origin(request)}/legalesign/esign/{s.id}/"
                for i, s in enumerate(doc.signers)
            }
            return json_response(links, 201, headers={"location": location})
        if state.config.legalesign_create_body == "json":
            return json_response({}, 201, headers={"location": location})
        return Response(status_code=201, headers={"location": location})

    @router.get("/document/", name="legalesign.document_list")
    async def list_documents(request: Request) -> Response:
        query = request.query_params
        group = query.get("group")
        if not group:
            return error("document", {"group": ["This parameter is required."]})
        match = validation.GROUP_URI.fullmatch(group)
        slug = match.group(1) if match else group
        if slug != state.config.legalesign_group:
            return error("document", {"group": [f"Group {slug!r} does not exist or you are not a member."]})
        paging = validation.paging(request, "document")
        if isinstance(paging, Response):
            return paging
        archived = _archived_key(query.get("archived"), "archived")
        created_gt, modified_gt = _timestamp(query, "created_gt"), _timestamp(query, "modified_gt")
        for problem in (archived, created_gt, modified_gt):
            if isinstance(problem, Response):
                return problem
        key: tuple[Any, ...] = (slug, archived)
        if query.get("status"):
            try:
                key = (slug, archived, int(query["status"]))
            except ValueError:
                return error("document", {"status": ["Must be an integer."]})
        try:
            nosigners = validation.bool_param(query.get("nosigners")) or False
        except ValueError:
            return error("document", {"nosigners": ["Must be 1 or 0."]})
        email = (query.get("email") or "").lower()
        now = state.now()
        limit, offset = paging
        total, page = state.index(VENDOR).query(
            key,
            now,
            order=state.config.order_for(VENDOR),
            offset=offset,
            limit=limit,
            created_gt=created_gt,  # type: ignore[arg-type]
            modified_gt=modified_gt,  # type: ignore[arg-type]
            predicate=(lambda d: any(s.email.lower() == email for s in d.signers)) if email else None,
        )
        values, index = state.config.legalesign_signer_values, state.index(VENDOR)

        def item(doc: Document) -> bytes:
            # A settled document's item is encoded once and reused by every later page.
            build = lambda: responses.document_list_item(doc, now, with_signers=not nosigners, values=values)  # noqa: E731
            return index.encoded(doc, ("list", nosigners, values), build)

        params = {k: v for k, v in query.items() if k not in ("limit", "offset")}
        envelope = responses.list_envelope([], total, limit, offset, "/api/v1/document/", params)
        return json_list_response({"meta": envelope["meta"]}, "objects", [item(d) for d in page])

    @router.get("/document/{doc_id}/", name="legalesign.document_detail")
    async def get_document(doc: Document = deps.document) -> Response:
        return json_response(
            responses.document_detail(doc, state.now(), state.config.legalesign_signer_values)
        )

    @router.delete("/document/{doc_id}/", name="legalesign.document_void")
    async def void_document(request: Request, doc: Document = deps.document) -> Response:
        try:
            validation.bool_param(request.query_params.get("email"))
        except ValueError:
            return error("document", {"email": ["Must be true, 1, false or 0."]})
        if doc.all_signed_at is None and doc.voided_at is None and doc.declined_signer is None:
            doc.voided_at, doc.void_reason = state.now(), "removed"
        doc.archived = True
        state.touch(doc)
        return Response(status_code=204)

    @router.delete("/document/{doc_id}/delete/", name="legalesign.document_delete")
    async def delete_document(doc: Document = deps.document) -> Response:
        doc.deleted = True
        state.touch(doc)
        return Response(status_code=204)

    @router.get("/document/{doc_id}/auditlog/", name="legalesign.document_auditlog")
    async def audit_log(doc: Document = deps.document) -> Response:
        return Response(_audit_pdf(doc), media_type="application/pdf")

    @router.get("/document/{doc_id}/fields/", name="legalesign.document_fields")
    async def document_fields(doc: Document = deps.document) -> Response:
        return json_response(models.field_values(state, doc, state.now()))

    @router.get("/status/", name="legalesign.status_list")
    async def list_statuses(request: Request) -> Response:
        paging = validation.paging(request, "status")
        if isinstance(paging, Response):
            return paging
        # ``filter``: "Filter on archived status, default is false".
        archived = _archived_key(request.query_params.get("filter"), "filter")
        if isinstance(archived, Response):
            return archived
        limit, offset = paging
        now = state.now()
        total, page = state.index(VENDOR).query(
            (state.config.legalesign_group, archived),
            now,
            order=state.config.order_for(VENDOR),
            offset=offset,
            limit=limit,
        )
        params = {k: v for k, v in request.query_params.items() if k not in ("limit", "offset")}
        objects = [responses.status_body(d, now) for d in page]
        return json_response(
            responses.list_envelope(objects, total, limit, offset, "/api/v1/status/", params)
        )

    @router.get("/status/{doc_id}/", name="legalesign.status_detail")
    async def get_status(doc: Document = deps.document) -> Response:
        return json_response(responses.status_body(doc, state.now()))

    @router.get("/pdf/{doc_id}/", name="legalesign.pdf_download")
    async def get_pdf(request: Request, doc: Document = deps.pdf_document) -> Response:
        now = state.now()
        if not download_final(doc, now):
            return json_response({"error": "The final PDF is not available for this document."}, 404)
        delay = state.config.legalesign_dearchive_delay
        if delay is not None and models.is_archived(doc, now):
            ready_at = doc.data.setdefault("dearchived_at", now + delay)
            if now < ready_at:
                # The spec's 201 for an archived document: "Being de-archived, available in 4 hours".
                body = {"message": "The document is being de-archived; try again later."}
                return json_response(body, state.config.legalesign_dearchive_status)
        if state.choice(f"redirect:{doc.id}", state.config.legalesign_redirect_ratio):
            token = secrets.token_urlsafe(24)
            state.redirects[token] = (doc.id, now + state.config.legalesign_redirect_ttl)
            host = request.url.hostname or "127.0.0.1"
            other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
            port = request.url.port
            netloc = f"{other}:{port}" if port else other
            query = urllib.parse.urlencode(
                {"X-Amz-Expires": int(state.config.legalesign_redirect_ttl), "X-Amz-Signature": token}
            )
            location = f"{request.url.scheme}://{netloc}{STORAGE_PREFIX}/final/{doc.id}.pdf?{query}"
            return Response(status_code=302, headers={"location": location})
        return pdf_response(doc.final_pdf(), filename=f"{doc.id}.pdf", ranges=False)

    return router
