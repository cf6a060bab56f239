"""Response helpers shared by the vendor emulations (imported only when the server starts)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from esign_sandbox.pdf import CHUNK_SIZE, PdfSource

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """:return: a compact JSON response (no trailing whitespace, UTF-8)."""
    return Response(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def json_list_response(
    head: dict[str, Any], key: str, items: list[bytes], tail: dict[str, Any] | None = None
) -> Response:
    """
    A JSON object ``{**head, key: [items...], **tail}`` whose list items are already encoded, so cached
    items of a large list are not encoded again for every page.
    """
    parts = [json.dumps(head, separators=(",", ":"), ensure_ascii=False)[:-1]]
    if head:
        parts.append(",")
    parts.append(json.dumps(key) + ":[")
    body = "".join(parts).encode() + b",".join(items) + b"]"
    if tail:
        body += b"," + json.dumps(tail, separators=(",", ":"), ensure_ascii=False)[1:-1].encode()
    return Response(body + b"}", media_type="application/json")


def http_date(timestamp: float) -> str:
    """:return: an RFC 7231 date, e.g. ``Tue, 18 Feb 2026 12:34:56 GMT``."""
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """
    Interpret a single-range ``Range`` header.

    :param header: the header value.
    :param size: the representation size.
    :return: ``None`` to serve the whole body (no header, multi-range or syntactically invalid, which RFC
        9110 says to ignore), ``"unsatisfiable"``, or the inclusive ``(first, last)`` byte positions.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first_s, last_s = match.groups()
    if not first_s:
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - suffix), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if first >= size:
        return "unsatisfiable"
    if last < first:
        return None
    return first, min(last, size - 1)


class PdfStreamResponse(Response):
    """
    Stream a byte range of a :class:`PdfSource` in chunks, with constant memory.

    Unlike Starlette's streaming response under ASGI spec 2.4+, this stops generating as soon as the client
    disconnects, so an abandoned 200 MB download does not keep producing bytes.

    :param source: the PDF.
    :param status_code: 200 or 206.
    :param first: first byte offset (inclusive).
    :param last: last byte offset (inclusive).
    :param headers: response headers (``Content-Length`` is added).
    """

    media_type = "application/pdf"

    def __init__(
        self,
        source: PdfSource,
        *,
        status_code: int = 200,
        first: int = 0,
        last: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.source = source
        self.first = first
        self.last = source.size - 1 if last is None else last
        self.status_code = status_code
        self.background = None
        all_headers = dict(headers or {})
        all_headers["content-length"] = str(max(0, self.last - self.first + 1))
        self.init_headers(all_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        disconnected = asyncio.Event()

        async def listen() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    disconnected.set()
                    return

        listener = asyncio.ensure_future(listen())
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            if scope.get("method") != "HEAD":
                for chunk in self.source.iter_range(self.first, self.last + 1, CHUNK_SIZE):
                    if disconnected.is_set():
                        return
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            listener.cancel()


def pdf_response(
    source: PdfSource,
    *,
    filename: str,
    range_header: str | None = None,
    last_modified: float | None = None,
    ranges: bool = True,
) -> Response:
    """
    Build a download response, honouring a single ``Range`` when ``ranges`` is true.

    :param source: the PDF.
    :param filename: for ``Content-Disposition``.
    :param range_header: the request's ``Range`` header.
    :param last_modified: sandbox time for ``Last-Modified``.
    :param ranges: whether this endpoint supports range requests (and advertises ``Accept-Ranges``).
    """
    safe_name = re.sub(r"[^\w.\- ]", "_", filename) or "document.pdf"
    headers = {"content-disposition": f'attachment; filename="{safe_name}"'}
    if last_modified is not None:
        headers["last-modified"] = http_date(last_modified)
    if not ranges:
        return PdfStreamResponse(source, headers=headers)
    headers["accept-ranges"] = "bytes"
    wanted = parse_range(range_header, source.size)
    if wanted == "unsatisfiable":
        return Response(
            status_code=416, headers={"content-range": f"bytes */{source.size}", "accept-ranges": "bytes"}
        )
    if isinstance(wanted, tuple):
        first, last = wanted
        headers["content-range"] = f"bytes {first}-{last}/{source.size}"
        return PdfStreamResponse(source, status_code=206, first=first, last=last, headers=headers)
    return PdfStreamResponse(source, headers=headers)


def html_response(title: str, message: str, status: int = 200) -> Response:
    """:return: a minimal HTML page, as web front-ends answer."""
    body = (
        f"<!DOCTYPE html><html><head><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>{message}</p></body></html>"
    )
    return Response(body, status_code=status, media_type="text/html; charset=utf-8")


class Rejected(Exception):
    """
    Raised by a FastAPI dependency (authorise, find the resource) to answer with ``response`` at once.

    :param response: the vendor-shaped answer (401, 404 ...).
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def rejected_handler(request: Any, exc: Exception) -> Response:
    """FastAPI exception handler turning :class:`Rejected` into its response."""
    assert isinstance(exc, Rejected)
    return exc.response
