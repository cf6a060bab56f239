"""
Outermost pure ASGI middleware: request accounting, rate limits and fault injection.

It must sit outside FastAPI so that it sees uvicorn's raw ``send`` (whose owner holds the TCP transport)
and can break connections, and so that faults apply before any routing or validation.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from typing import Any

from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from esign_sandbox import journal
from esign_sandbox.emulation import emulation
from esign_sandbox.faults import abort_connection, can_abort, retry_after_header
from esign_sandbox.state import SandboxState

CREATE_ROUTES = frozenset(
    {"legalesign.document_create", "wesignature.send_document", "esignbase.document_create"}
)
DOWNLOAD_ROUTES = frozenset(
    {"legalesign.pdf_download", "legalesign.storage_download", "wesignature.download", "esignbase.download"}
)


def classify(path: str) -> tuple[str | None, bool]:
    """
    :param path: request path.
    :return: ``(vendor, rate_limited)``; vendor is ``None`` for the control API and unknown paths. Only
        API paths count towards rate limits (not signing pages, download links or object storage).
    """
    if path.startswith(("/legalesign/api/v1/", "/api/v1/")):
        return "legalesign", True
    if path.startswith(("/legalesign/", "/legalesign-storage/")):
        return "legalesign", False
    if path.startswith("/wesignature/apihandler/"):
        return "wesignature", True
    if path.startswith("/wesignature/"):
        return "wesignature", False
    if path.startswith("/esignbase/"):
        return "esignbase", True
    return None, False


def http_date(epoch: float) -> bytes:
    """:return: ``epoch`` as an HTTP ``Date`` value (RFC 9110 IMF-fixdate)."""
    return formatdate(epoch, usegmt=True).encode("latin-1")


def throttled_response(vendor: str, retry_after: float | None) -> Response:
    """:return: the vendor-shaped 429 answer."""
    headers = {"retry-after": retry_after_header(retry_after)} if retry_after is not None else None
    return emulation(vendor).throttled(headers)


def server_error_response(vendor: str, status: int) -> Response:
    """:return: a vendor-shaped 500 or a load-balancer style 503."""
    if status == 503:
        return Response(
            "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
            "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>",
            status_code=503,
            media_type="text/html",
        )
    return emulation(vendor).server_error()


class SandboxMiddleware:
    """
    :param app: the FastAPI application (also used to resolve route names).
    :param state: the sandbox state.
    """

    def __init__(self, app: Any, state: SandboxState) -> None:
        self.app: ASGIApp = app
        self.routes = app.router.routes
        self.state = state

    def _route(self, scope: Scope) -> tuple[str | None, str]:
        path = str(scope["path"])
        partial: tuple[str | None, str] | None = None
        for route in self.routes:
            match, _ = route.matches(scope)
            template = str(getattr(route, "path", path))
            if match == Match.FULL:
                name = getattr(route, "name", None)
                return (str(name) if name else None), template
            if match == Match.PARTIAL and partial is None:
                # Right path, wrong method: the answer will be 405; still count it under the route.
                partial = (None, template)
        return partial or (None, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        vendor, rate_limited = classify(scope["path"])
        if vendor is None:
            await self.app(scope, receive, send)
            return
        entry = self._start_entry(scope, vendor)
        body: list[bytes] = []
        size = [0]

        def keep(message: Message) -> Message:
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                size[0] += len(chunk)
                if size[0] <= journal.MAX_BODY:
                    body.append(chunk)
            return message

        replay: list[Message] = []
        length = entry["headers"].get("content-length", "")
        if length.isdigit() and 0 < int(length) <= journal.MAX_BODY:
            # Read the body up front, so the journal has it even when the app answers without reading it
            # (a 401 before validation); the app then gets the same messages replayed.
            while True:
                replay.append(keep(await receive()))
                if replay[-1]["type"] != "http.request" or not replay[-1].get("more_body", False):
                    break

        async def recording_receive() -> Message:
            return replay.pop(0) if replay else keep(await receive())

        started = time.perf_counter()
        finished = [False]

        def finish() -> None:
            if not finished[0]:
                finished[0] = True
                self._finish_entry(entry, b"".join(body), size[0], started)

        async def status_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                # The vendor's Date header is its own clock: the sandbox's (advanceable) one, not the host's.
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                message = {**message, "headers": [*headers, (b"date", http_date(self.state.now()))]}
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Journal before the last byte leaves, so a client that saw the answer also sees the entry.
                finish()
            await send(message)

        try:
            await self._serve(scope, recording_receive, status_send, send, vendor, rate_limited, entry)
        finally:
            finish()

    def _start_entry(self, scope: Scope, vendor: str) -> dict[str, Any]:
        raw_query = scope.get("query_string", b"").decode("latin-1")
        return {
            "time": self.state.now(),
            "vendor": vendor,
            "method": scope["method"],
            "path": scope["path"],
            "query": journal.redact_query(raw_query),
            "headers": journal.redact_headers(list(scope.get("headers", []))),
            "body": None,
            "status": None,
            "fault": None,
        }

    def _finish_entry(self, entry: dict[str, Any], raw: bytes, size: int, started: float) -> None:
        content_type = entry["headers"].get("content-type", "")
        entry["body"] = journal.parse_body(raw, content_type, truncated=size > journal.MAX_BODY)
        entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self.state.journal.record(entry)
        if self.state.config.log_requests:
            journal.access_log.info(journal.log_line(entry))

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        raw_send: Send,
        vendor: str,
        rate_limited: bool,
        entry: dict[str, Any],
    ) -> None:
        # ``raw_send`` is uvicorn's own callable, which the fault injector needs to reach the socket.
        state = self.state
        method = scope["method"]
        name, template = self._route(scope)
        is_create, is_download = name in CREATE_ROUTES, name in DOWNLOAD_ROUTES
        state.stats.record_request(vendor, f"{method} {template}", scope.get("client"))

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state.stats.record_status(vendor, message["status"])
            await send(message)

        plan = state.config.faults
        kind = state.faults.decide(
            plan, vendor, method, scope["path"], is_create=is_create, is_download=is_download
        )
        if kind in ("reset", "drop_after_commit", "truncate") and not can_abort(raw_send):
            # Without access to the socket (e.g. an in-process test client) the closest stand-in is a 500.
            kind = "500"
        entry["fault"] = kind
        if kind == "reset":
            state.stats.aborted["reset"] += 1
            await abort_connection(raw_send, reset=True)
            return
        if kind == "429":
            retry_after = plan["retry_after"] if plan else 1
            await throttled_response(vendor, retry_after)(scope, receive, recording_send)
            return
        if kind in ("500", "503"):
            await server_error_response(vendor, int(kind))(scope, receive, recording_send)
            return
        if rate_limited:
            limit = state.config.rate_limits.get(vendor)
            wait = state.rate_limiter.check(vendor, limit, state.now())
            if wait is not None:
                assert limit is not None
                entry["fault"] = "rate_limited"
                await throttled_response(vendor, self._retry_after(vendor, limit, wait))(
                    scope, receive, recording_send
                )
                return
        if kind == "slow":
            await asyncio.sleep(plan["slow_seconds"] if plan else 1.0)
        if kind == "drop_after_commit":
            await self._drop_after_commit(scope, receive, raw_send)
            return
        if kind == "truncate":
            await self._truncate(scope, receive, raw_send, recording_send)
            return
        await self.app(scope, receive, recording_send)

    def _retry_after(self, vendor: str, limit: dict[str, Any], wait: float) -> float | None:
        return emulation(vendor).retry_after(limit, wait, self.state.config)

    async def _drop_after_commit(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The handler runs to completion (the document exists); only the answer is lost.
        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        self.state.stats.aborted["drop_after_commit"] += 1
        await abort_connection(send, reset=True)

    async def _truncate(self, scope: Scope, receive: Receive, send: Send, recording_send: Send) -> None:
        progress: dict[str, Any] = {"limit": None, "sent": 0, "aborted": False}

        async def truncating_send(message: Message) -> None:
            if progress["aborted"]:
                raise ConnectionAbortedError("truncated by the sandbox")
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                length = headers.get(b"content-length")
                if message["status"] in (200, 206) and length is not None and int(length) >= 2:
                    progress["limit"] = int(length) // 2
                await recording_send(message)
                return
            limit = progress["limit"]
            if message["type"] == "http.response.body" and limit is not None:
                body = message.get("body", b"")
                remaining = limit - progress["sent"]
                if len(body) >= remaining:
                    await send({"type": "http.response.body", "body": body[:remaining], "more_body": True})
                    progress["aborted"] = True
                    self.state.stats.aborted["truncate"] += 1
                    await abort_connection(send, reset=False)
                    raise ConnectionAbortedError("truncated by the sandbox")
                progress["sent"] += len(body)
            await send(message)

        try:
            await self.app(scope, receive, truncating_send)
        except BaseException:
            if not progress["aborted"]:
                raise
