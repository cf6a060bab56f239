"""Control API under ``/_sandbox/`` (not vendor-faithful; for tests, demos and benchmarks)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from esign_sandbox import esignbase
from esign_sandbox.config import VENDORS
from esign_sandbox.emulation import emulation
from esign_sandbox.faults import QueuedFault
from esign_sandbox.index import describe
from esign_sandbox.models import Document, InvalidTransition, Signer, iso_utc
from esign_sandbox.responses import json_response, pdf_response
from esign_sandbox.state import SandboxState
from esign_sandbox.webhooks import WebhookDispatcher

PREFIX = "/_sandbox"
_TARGETS = ("created", "sent", "partially_signed", "signed", "completed", "declined", "voided", "expired")


def _error(status: int, message: str) -> Response:
    return json_response({"error": message}, status)


async def _body(request: Request) -> dict[str, Any] | Response:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return _error(400, "body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    return body


def summary(state: SandboxState, doc: Document) -> dict[str, Any]:
    """:return: the vendor-neutral view of a document used by the control API."""
    now = state.now()
    data = doc.data
    return {
        "vendor": doc.vendor,
        "id": doc.id,
        "name": doc.name,
        "status": emulation(doc.vendor).raw_status(doc, now),
        "created": iso_utc(doc.created_at),
        "created_at": doc.created_at,
        "sent_at": doc.sent_at,
        "completed_at": doc.all_signed_at,
        "voided_at": doc.voided_at,
        "void_reason": doc.void_reason,
        "archived": doc.archived,
        "deleted": doc.deleted,
        "pdf_size": doc.pdf_size,
        "seq": doc.seq,
        "signers": [
            {
                "name": s.name,
                "first_name": s.first_name,
                "last_name": s.last_name,
                "email": s.email,
                "role": s.role,
                "phase": doc.signer_phase(i, now),
                "signed_at": s.signed_at,
                "declined_at": s.declined_at,
            }
            for i, s in enumerate(doc.signers)
        ],
        "tags": emulation(doc.vendor).control_tags(data),
        "group": data.get("group"),
        "metadata": data.get("metadata"),
        "template_id": data.get("template_id"),
        "templatepdf": data.get("templatepdf"),
        "file_urls": data.get("file_urls"),
        "mail_data": data.get("mail_data"),
        "sign_type": data.get("sign_type"),
        "sandbox_mode": data.get("sandbox"),
    }


def _parse_signers(raw: Any) -> list[Signer]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("signers must be a non-empty list of {name | first_name/last_name, email}")
    signers = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("email"), str):
            raise ValueError(f"signers[{index}] needs an email")
        first, last = item.get("first_name"), item.get("last_name")
        if first is None and last is None:
            first, _, last = str(item.get("name") or f"Signer {index + 1}").partition(" ")
        signers.append(
            Signer(
                id="",
                first_name=str(first or ""),
                last_name=str(last or ""),
                email=item["email"],
                order=index,
            )
        )
    return signers


def build_router(state: SandboxState, dispatcher: WebhookDispatcher) -> APIRouter:
    """:return: the control API router."""
    router = APIRouter(prefix=PREFIX)

    def lookup(vendor: str, doc_id: str) -> Document | Response:
        if vendor not in VENDORS:
            return _error(404, f"unknown vendor {vendor!r}")
        doc = state.get(vendor, doc_id, include_deleted=True)
        if doc is None:
            return _error(404, "document not found")
        return doc

    @router.get("/health")
    async def health() -> Response:
        return json_response({"status": "ok", "now": state.now(), "vendors": list(VENDORS)})

    @router.post("/reset")
    async def reset(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        dispatcher.cancel_all()
        state.reset(config=bool(body.get("config", False)))
        return json_response({"status": "reset", "config": state.config.to_dict()})

    @router.get("/config")
    async def get_config() -> Response:
        return json_response(state.config.to_dict())

    @router.post("/config")
    async def set_config(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            config = state.configure(body)
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        return json_response(config.to_dict())

    @router.get("/documents")
    async def list_documents(request: Request) -> Response:
        vendor = request.query_params.get("vendor")
        if vendor is not None and vendor not in VENDORS:
            return _error(400, f"vendor must be one of {list(VENDORS)}")
        vendors = [vendor] if vendor else list(VENDORS)
        docs = [summary(state, d) for v in vendors for d in state.all(v, include_deleted=True)]
        docs.sort(key=lambda d: d["seq"])
        return json_response({"documents": docs, "count": len(docs)})

    @router.get("/documents/{vendor}/{doc_id}")
    async def get_document(vendor: str, doc_id: str) -> Response:
        doc = lookup(vendor, doc_id)
        return doc if isinstance(doc, Response) else json_response(summary(state, doc))

    def action(name: str, run: Callable[[Document, float, dict[str, Any]], None]) -> None:
        async def endpoint(request: Request, vendor: str, doc_id: str) -> Response:
            doc = lookup(vendor, doc_id)
            if isinstance(doc, Response):
                return doc
            body = await _body(request)
            if isinstance(body, Response):
                return body
            try:
                run(doc, state.now(), body)
            except InvalidTransition as exc:
                return _error(409, str(exc))
            state.touch(doc)
            dispatcher.check()
            return json_response(summary(state, doc))

        router.add_api_route(
            f"/documents/{{vendor}}/{{doc_id}}/{name}", endpoint, methods=["POST"], name=name
        )

    action("sign", lambda doc, now, body: doc.sign(now, body.get("email")))
    action("decline", lambda doc, now, body: doc.decline(now, body.get("email"), body.get("reason")))
    action("void", lambda doc, now, body: doc.void(now))
    action("expire", lambda doc, now, body: doc.expire(now))

    @router.post("/documents/{vendor}")
    async def create_document(request: Request, vendor: str) -> Response:
        if vendor not in VENDORS:
            return _error(404, f"unknown vendor {vendor!r}")
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            doc = _control_create(state, vendor, body)
        except (ValueError, TypeError) as exc:
            return _error(400, str(exc))
        except InvalidTransition as exc:
            return _error(409, str(exc))
        if doc.pdf_size and doc.all_signed_at is not None:
            # Hash large files off the event loop once, so later reads (hash_value) are instant.
            await asyncio.to_thread(doc.final_pdf().sha256)
        dispatcher.check()
        return json_response(summary(state, doc), 201)

    @router.get("/documents/{vendor}/{doc_id}/pdf")
    async def canonical_pdf(request: Request, vendor: str, doc_id: str) -> Response:
        doc = lookup(vendor, doc_id)
        if isinstance(doc, Response):
            return doc
        if doc.all_signed_at is None:
            return _error(409, "the document is not fully signed")
        return pdf_response(
            doc.final_pdf(), filename=f"{doc.id}.pdf", range_header=request.headers.get("range")
        )

    @router.get("/stats")
    async def stats() -> Response:
        body = state.stats.to_dict()
        body["webhook_deliveries"] = list(state.webhook_deliveries)
        body["faults_injected"] = dict(state.faults.injected)
        body["fault_log"] = list(state.faults.log)
        body["documents"] = {v: len(state.documents[v]) for v in VENDORS}
        body["list_index"] = {v: describe(state.index(v)) for v in VENDORS}
        body["esignbase_credits"] = state.credits
        return json_response(body)

    @router.get("/webhooks")
    async def webhooks() -> Response:
        return json_response({"deliveries": list(state.webhook_deliveries)})

    @router.get("/faults")
    async def get_faults() -> Response:
        return json_response(
            {
                "plan": state.config.faults,
                "queue": [q.to_dict() for q in state.faults.queue],
                "counter": state.faults.counter,
                "injected": dict(state.faults.injected),
            }
        )

    @router.post("/faults")
    async def set_faults(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            state.configure({"faults": body or None})
        except ValueError as exc:
            return _error(400, str(exc))
        return json_response({"plan": state.config.faults})

    @router.delete("/faults")
    async def clear_faults() -> Response:
        state.configure({"faults": None})
        state.faults.queue.clear()
        return json_response({"plan": None})

    @router.post("/faults/next")
    async def queue_fault(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            queued = QueuedFault.parse(body)
        except ValueError as exc:
            return _error(400, str(exc))
        state.faults.queue.append(queued)
        return json_response({"queue": [q.to_dict() for q in state.faults.queue]}, 201)

    @router.post("/seed")
    async def seed(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        try:
            count, vendors, years = _seed_options(body)
        except ValueError as exc:
            return _error(400, str(exc))
        # On the event loop like every state change (the state needs no locks); it blocks other requests.
        created = state.seed_history(count, vendors, years)
        return json_response(
            {"created": created, "total": {v: len(state.documents[v]) for v in VENDORS}}, 201
        )

    @router.get("/requests")
    async def requests(request: Request) -> Response:
        try:
            entries = state.journal.query(dict(request.query_params))
        except ValueError as exc:
            return _error(400, str(exc))
        return json_response({"requests": entries, "count": len(entries)})

    @router.delete("/requests")
    async def clear_requests() -> Response:
        state.journal.clear()
        return json_response({"requests": [], "count": 0})

    @router.get("/clock")
    async def clock() -> Response:
        return json_response({"now": state.now(), "iso": iso_utc(state.now())})

    @router.post("/clock/advance")
    async def advance(request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        seconds = body.get("seconds")
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            return _error(400, "seconds must be a non-negative number")
        state.clock.advance(float(seconds))
        dispatcher.check()
        return json_response({"now": state.now(), "iso": iso_utc(state.now())})

    @router.get("/")
    async def index() -> Response:
        # The URL the command line prints as "control": a newcomer opening it sees what is there.
        endpoints = sorted(
            (
                f"{method} {getattr(route, 'path', '')}"
                for route in router.routes
                for method in getattr(route, "methods", ())
            ),
            key=lambda line: (line.split(" ", 1)[1], line),
        )
        return json_response(
            {
                "sandbox": "airflow-provider-esign vendor emulator: control API (not part of any vendor's API)",
                "seed": state.seed,
                "vendors": list(VENDORS),
                "endpoints": [line for line in endpoints if not line.endswith(f"{PREFIX}/")],
            }
        )

    return router


def _seed_options(body: dict[str, Any]) -> tuple[int, list[str], float]:
    unknown = sorted(set(body) - {"count", "vendors", "years"})
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1_000_000:
        raise ValueError("count must be an integer between 0 and 1000000 (documents per vendor)")
    vendors = body.get("vendors") or list(VENDORS)
    if not isinstance(vendors, list) or any(v not in VENDORS for v in vendors):
        raise ValueError(f"vendors must be a list drawn from {list(VENDORS)}")
    years = body.get("years", 5)
    if not isinstance(years, (int, float)) or isinstance(years, bool) or not 0 < years <= 50:
        raise ValueError("years must be a number of years between 0 and 50")
    return count, list(vendors), float(years)


def _control_create(state: SandboxState, vendor: str, body: dict[str, Any]) -> Document:
    allowed = {
        "name", "signers", "status", "pdf_size", "sign_delay", "tag", "tag1", "tag2", "metadata",
        "template_id", "file_url", "sign_type", "is_for_embedded_signing", "mail_data",
    }  # fmt: skip
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    target = body.get("status", "created")
    if target not in _TARGETS:
        raise ValueError(f"status must be one of {list(_TARGETS)}")
    pdf_size = body.get("pdf_size")
    if pdf_size is not None and (
        not isinstance(pdf_size, int) or isinstance(pdf_size, bool) or pdf_size < 4096
    ):
        raise ValueError("pdf_size must be an integer of at least 4096 bytes")
    sign_delay = body.get("sign_delay", state.config.sign_delay)
    if sign_delay is not None and (not isinstance(sign_delay, (int, float)) or sign_delay < 0):
        raise ValueError("sign_delay must be a non-negative number or null")
    signers = _parse_signers(body.get("signers", [{"name": "Sandbox Signer", "email": "signer@example.com"}]))
    now = state.now()
    pdf_delay = state.config.pdf_delay
    # A document asked for in a late state is backdated so that all of its history lies in the past.
    created = now - (4 * pdf_delay if target in ("signed", "completed") else 0.0)
    vendor_emulation = emulation(vendor)
    doc = Document(
        vendor=vendor,
        id=vendor_emulation.new_document_id(state),
        name=str(body.get("name") or "Sandbox document"),
        created_at=created,
        signers=signers,
        send_delay=state.config.send_delay,
        sign_delay=sign_delay,
        pdf_delay=pdf_delay,
        pdf_size=pdf_size,
    )
    for index, signer in enumerate(doc.signers):
        signer.id = vendor_emulation.new_signer_id(state, index)
    vendor_emulation.decorate_control_document(state, doc, body)
    if target != "created":
        doc.sent_at = created
    if target == "partially_signed":
        if len(doc.signers) < 2:
            raise ValueError("partially_signed needs at least two signers")
        doc.signers[0].signed_at = now
    elif target == "signed":
        for signer in doc.signers:
            signer.signed_at = now
    elif target == "completed":
        done = now - (esignbase.COMPLETED_STEPS * pdf_delay)
        for signer in doc.signers:
            signer.signed_at = done
    elif target == "declined":
        doc.signers[0].declined_at = now
    elif target in ("voided", "expired"):
        doc.voided_at, doc.void_reason = now, "voided" if target == "voided" else "expired"
        if target == "expired":
            doc.expires_at = now
    state.add(doc)
    return doc
