"""
WeSignature ``apihandler`` emulation: the routes (``/wesignature/apihandler/...``).

Follows the vendor's own examples, inconsistencies included: ``SignerMails`` nested in the send response
but flat (with other key names) in the list; the list under ``message.data``; string values in the status
response; no download link in the status response; ``data: null`` before the document is out.
"""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from esign_sandbox.credentials import same_secret
from esign_sandbox.models import Document, Signer
from esign_sandbox.responses import (
    html_response,
    json_response,
    pdf_response,
)
from esign_sandbox.state import SandboxState
from esign_sandbox.wesignature.models import (
    API_PREFIX,
    PHASE_STATUS,
    PREFIX,
    VENDOR,
    completed,
    decorate,
    document_status,
    is_sent,
    links,
    list_status,
)

_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\"]+")
_SEND_FIELDS = {
    "user_id", "api_key", "sign_type", "file_list", "is_for_embedded_signing", "signers", "mail_data",
}  # fmt: skip


def _missing(names: list[str]) -> Response:
    return json_response({"status": "400", "message": f"Parameters missing: {', '.join(names)}"}, 400)


def _invalid(message: str) -> Response:
    return json_response({"status": "400", "message": message}, 400)


def _unauthorised() -> Response:
    return json_response({"status": "401", "message": "Unauthorised"}, 401)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _origin(request: Request) -> str:
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    return f"{request.url.scheme}://{host}"


async def _body(request: Request) -> dict[str, Any]:
    # The vendor's PHP back end decodes the raw body as JSON; anything else looks like missing parameters.
    raw = await request.body()
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def build_router(state: SandboxState) -> APIRouter:
    """:return: the WeSignature router (API under ``/wesignature/apihandler``, links under ``/wesignature``)."""
    router = APIRouter()

    def authenticate(body: dict[str, Any]) -> Response | None:
        missing = [k for k in ("user_id", "api_key") if body.get(k) in (None, "")]
        if missing:
            return _missing(missing)
        user_ok = same_secret(str(body["user_id"]), state.config.wesignature_user_id)
        key_ok = same_secret(str(body["api_key"]), state.config.wesignature_api_key)
        return None if user_ok and key_ok else _unauthorised()

    @router.post(API_PREFIX + "/login_api", name="wesignature.login")
    async def login(request: Request) -> Response:
        body = await _body(request)
        state.stats.wesignature_login_attempts += 1
        missing = [k for k in ("email", "password") if body.get(k) in (None, "")]
        if missing:
            return _missing(missing)
        email_ok = same_secret(str(body["email"]).lower(), state.config.wesignature_email.lower())
        password_ok = same_secret(str(body["password"]), state.config.wesignature_password)
        if not (email_ok and password_ok):
            return _unauthorised()
        state.stats.wesignature_logins += 1
        return json_response(
            {
                "status": "authorized",
                "message": "success",
                "data": {
                    "user": state.config.wesignature_user_id,
                    "api_key": state.config.wesignature_api_key,
                },
            }
        )

    @router.post(API_PREFIX + "/senddocumentapi", name="wesignature.send_document")
    async def send_document(request: Request) -> Response:
        body = await _body(request)
        denied = authenticate(body)
        if denied is not None:
            return denied
        required = ("sign_type", "file_list", "is_for_embedded_signing", "signers")
        missing = [k for k in required if k not in body or body[k] in (None, "")]
        if missing:
            return _missing(missing)
        unknown = sorted(set(body) - _SEND_FIELDS)
        if unknown:
            return _invalid(f"Invalid parameters: {', '.join(unknown)}")
        if not _is_int(body["sign_type"], 0, 3):
            return _invalid("Invalid parameter: sign_type")
        if not _is_int(body["is_for_embedded_signing"], 0, 2):
            return _invalid("Invalid parameter: is_for_embedded_signing")
        file_list = body["file_list"]
        if not isinstance(file_list, list) or not file_list:
            return _invalid("Invalid parameter: file_list")
        files: list[str] = []
        for item in file_list:
            url = item.get("file_url") if isinstance(item, dict) else None
            if not isinstance(item, dict) or set(item) != {"file_url"} or not isinstance(url, str):
                return _invalid("Invalid parameter: file_list")
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return _invalid("Invalid parameter: file_list (file_url must be an http(s) URL)")
            files.append(url)
        signers = body["signers"]
        if not isinstance(signers, list) or not signers:
            return _invalid("Invalid parameter: signers")
        for raw in signers:
            if (
                not isinstance(raw, dict)
                or set(raw) != {"name", "email_address"}
                or not isinstance(raw["name"], str)
                or not raw["name"].strip()
                or not isinstance(raw["email_address"], str)
                or not _EMAIL.fullmatch(raw["email_address"])
            ):
                return _invalid("Invalid parameter: signers")
        mail_data = body.get("mail_data")
        if mail_data is not None and (
            not isinstance(mail_data, dict)
            or set(mail_data) - {"mail_subject", "mail_message"}
            or not all(isinstance(v, str) for v in mail_data.values())
        ):
            return _invalid("Invalid parameter: mail_data")

        doc = Document(
            vendor=VENDOR,
            id="group-" + state.new_hex(23),
            name="",
            created_at=state.now(),
            signers=[
                Signer(
                    id=str(i),
                    first_name=raw["name"].strip(),
                    last_name="",
                    email=raw["email_address"],
                    order=i,
                )
                for i, raw in enumerate(signers)
            ],
            send_delay=state.config.send_delay,
            sign_delay=state.config.sign_delay,
            pdf_delay=state.config.pdf_delay,
        )
        decorate(
            state, doc, sign_type=body["sign_type"], embedded=body["is_for_embedded_signing"], files=files
        )
        doc.name = doc.data["document_name"]
        doc.data["mail_data"] = mail_data
        state.add(doc)
        data: dict[str, Any] = {
            "guid": doc.id,
            "document_name": doc.data["document_name"],
            "document_status": "draft",
            "signature_type": doc.data["label"],
        }
        data.update(links(_origin(request), doc))
        data["SignerMails"] = [[{"name": s.first_name, "email_address": s.email} for s in doc.signers]]
        return json_response({"status": "success", "message": "Document Details", "data": data})

    @router.api_route(API_PREFIX + "/documentstatusapi", methods=["GET", "POST"], name="wesignature.status")
    async def document_status_api(request: Request) -> Response:
        body = await _body(request)
        denied = authenticate(body)
        if denied is not None:
            return denied
        if body.get("guid") in (None, ""):
            return _missing(["guid"])
        doc = state.get(VENDOR, str(body["guid"]))
        if doc is None:
            return _invalid("Invalid guid")
        if not is_sent(doc):
            return json_response({"status": "success", "message": "document data", "data": None})
        now = state.now()
        data = {
            "signature_request_id": doc.data["signature_request_id"],
            "request_type": "1",
            "is_embedded": "1" if doc.data["is_for_embedded_signing"] in (0, 1) else "0",
            "document_status": document_status(doc, now),
            "signature_type": str(doc.data["sign_type"]),
            "client_id": "1001",
            "userid": state.config.wesignature_user_id,
            "signer_data": [
                {
                    "signer_status": PHASE_STATUS[doc.signer_phase(i, now)],
                    "signer_mail": s.email,
                    "signer_id": s.data.get("signer_id", ""),
                }
                for i, s in enumerate(doc.signers)
            ],
        }
        return json_response({"status": "success", "message": "document data", "data": data})

    @router.post(API_PREFIX + "/getsentdocumentsapi", name="wesignature.list")
    async def sent_documents(request: Request) -> Response:
        body = await _body(request)
        denied = authenticate(body)
        if denied is not None:
            return denied
        now = state.now()
        origin = _origin(request)
        guid = body.get("guid")
        if guid not in (None, ""):
            # The documented filter: one document by guid (a dictionary lookup, not a scan).
            found = state.get(VENDOR, str(guid))
            docs = [found] if found is not None else []
        else:
            # No pagination is documented: the whole account, in the configured order.
            _, docs = state.index(VENDOR).query(
                ("all",), now, order=state.config.order_for(VENDOR), limit=state.config.wesignature_list_max
            )

        def item(doc: Document) -> dict[str, Any]:
            body: dict[str, Any] = {
                "guid": doc.id,
                "document_name": doc.data["document_name"],
                "document_status": list_status(doc, now),
                "signature_type": doc.data["label"],
            }
            body.update(links(origin, doc))
            body["SignerMails"] = [
                {
                    "email": s.email,
                    "signaturestatus": PHASE_STATUS[doc.signer_phase(i, now)] if is_sent(doc) else "0",
                    "name": s.first_name,
                }
                for i, s in enumerate(doc.signers)
            ]
            return body

        # The whole account on every call: a settled document's item (its links hold the request's
        # origin) is encoded once per origin and reused.
        index = state.index(VENDOR)
        encoded = [index.encoded(d, ("list", origin), lambda d=d: item(d)) for d in docs]  # type: ignore[misc]
        # The vendor's example nests the list under message.data.
        listing = b'{"status":"success","message":{"data":[' + b",".join(encoded) + b"]}}"
        return Response(listing, media_type="application/json")

    @router.get(PREFIX + "/document/download/{guid}/{token}", name="wesignature.download")
    async def download(guid: str, token: str) -> Response:
        doc = state.get(VENDOR, guid)
        if doc is None or not same_secret(token, doc.data["download_token"]):
            return html_response("404 Page Not Found", "The page you requested was not found.", 404)
        if not completed(doc, state.now()):
            return html_response("404 Page Not Found", "The page you requested was not found.", 404)
        name = posixpath.splitext(doc.data["document_name"])[0] or "document"
        return pdf_response(doc.final_pdf(), filename=f"{name}.pdf", ranges=False)

    @router.get(PREFIX + "/sign/{guid}/{token}", name="wesignature.signing_page")
    async def signing_page(guid: str, token: str) -> Response:
        return html_response("WeSignature", "Sandbox signing page placeholder.")

    @router.get(PREFIX + "/doc_prepare/", name="wesignature.prepare_page")
    async def prepare_page() -> Response:
        return html_response("WeSignature - Login", "Please log in to prepare this document.")

    @router.get(PREFIX + "/document/delete/{guid}", name="wesignature.delete_page")
    async def delete_page(guid: str) -> Response:
        # A web-UI link needing a browser session; it deliberately changes nothing.
        return html_response("WeSignature - Login", "Please log in to continue.")

    return router
