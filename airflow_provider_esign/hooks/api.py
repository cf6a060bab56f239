"""The values vendor flows exchange with the pipeline: requests, responses, pages, download sources.

A *flow* is a generator describing one vendor operation: it yields :class:`ApiRequest` objects and
receives :class:`ApiResponse` objects back, with no I/O of its own, so the same flow runs under the
blocking and the async executor (see :mod:`airflow_provider_esign.hooks.pipeline`). A flow may also
yield an effect (:mod:`airflow_provider_esign.hooks.effects`), e.g. a ``Sleep``, or an ``Offload``
for a blocking call such as reading a file from object storage.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from airflow_provider_esign.exceptions import ESignMalformedResponseError
from airflow_provider_esign.hooks.jsonstream import JsonStream
from airflow_provider_esign.models import DocumentInfo

T = TypeVar("T")

PDF_MAGIC = b"%PDF-"
#: Longest vendor error text copied into an exception message.
MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request a flow wants sent.

    :param method: HTTP method.
    :param path: Path relative to the connection's base URL, or an absolute URL.
    :param operation: Hook operation name, used in errors (``get_document``).
    :param params: Query parameters.
    :param json: JSON body.
    :param data: Form body.
    :param headers: Extra headers.
    :param auth: Whether the vendor's credentials are applied.
    :param idempotent: Whether sending it twice is harmless (reads). Creates are not.
    :param ok_statuses: Statuses handed to the flow instead of raising (e.g. Legalesign's 201 on
        ``/pdf/`` meaning "not ready").
    :param stream_json: Parse a 2xx JSON body while it downloads, keeping only what this asks for
        (a list answer as large as the vendor account); the response's :meth:`ApiResponse.json` is
        then that parsed value and its ``content`` is empty.
    :param check_answer: Checks a 2xx JSON body inside the retry loop, so a junk answer (a proxy
        page, truncated JSON) is retried like a 5xx: called as ``check_answer(body, conn_id=...,
        operation=...)``, it raises :class:`ESignMalformedResponseError` (see :func:`malformed`).
    :param redirect_credentials: Whether a same-origin redirect target gets the credentials again
        (False where the target is a pre-signed link that must be fetched without them). A
        cross-origin target never gets them (see :mod:`~airflow_provider_esign.hooks.redirects`).
    :param max_timeout: Caps the hook's connect and read timeouts (seconds) for this request (a call
        that must end while a lock is held).
    """

    method: str
    path: str
    operation: str
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    idempotent: bool = True
    ok_statuses: frozenset[int] = frozenset()
    stream_json: JsonStream | None = None
    check_answer: Callable[..., Any] | None = None
    redirect_credentials: bool = True
    max_timeout: float | None = None

    def timeout(self, default: tuple[float, float]) -> tuple[float, float]:
        """``(connect, read)`` timeouts: the hook's, each capped at :attr:`max_timeout` when set."""
        if self.max_timeout is None:
            return default
        return min(default[0], self.max_timeout), min(default[1], self.max_timeout)

    def __repr__(self) -> str:
        # A prepared request holds credentials (headers, WeSignature's body) and a pre-signed link
        # its signature (the query): only names are shown.
        body = self.json if self.json is not None else self.data
        return (
            f"ApiRequest({self.method} {self.path.split('?', 1)[0]!r}, operation={self.operation!r}, "
            f"headers={sorted(self.headers)!r}, body_keys="
            f"{sorted(body) if isinstance(body, dict) else type(body).__name__!r})"
        )


#: ``ApiResponse.parsed`` when the body was not parsed while streaming.
NOT_PARSED: Any = object()


@dataclass(frozen=True)
class ApiResponse:
    """The parts of an HTTP response a flow reads.

    :param stream: For a streamed response, the executor's open body (read with the pipeline's
        ``ReadChunk`` effect); ``content`` is then empty.
    :param parsed: The body as parsed while it streamed in (see ``ApiRequest.stream_json``; None when
        it was not JSON), returned by :meth:`json`.
    :param checked: What the request's ``check_answer`` returned for this 2xx body (None when the
        request has no check): flows read it instead of checking the body again.
    """

    status_code: int
    headers: dict[str, str]
    content: bytes
    url: str
    stream: Any = None
    parsed: Any = NOT_PARSED
    checked: Any = None

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    def json(self) -> Any:
        """The body as JSON (None when it is not JSON), parsed once per response."""
        return self._parsed

    @functools.cached_property
    def _parsed(self) -> Any:  # cached_property writes the instance dict: fine on a frozen dataclass
        if self.parsed is not NOT_PARSED:
            return self.parsed
        try:
            if len(self.content) > INCREMENTAL_JSON_BYTES:
                return parse_incrementally(self.content)
            return json.loads(self.content or b"null")
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


#: Bodies larger than this, when read whole, are parsed incrementally (the largest answers are
#: instead parsed while they stream in: ``ApiRequest.stream_json``). ``json.loads`` holds the GIL
#: for the whole body (about 0.5 s at 35 MB), which stalls the triggerer's event loop even from a
#: worker thread; ijson parses 64 kB at a time through a Python-level ``read``, so the interpreter
#: can switch threads between chunks.
INCREMENTAL_JSON_BYTES = 1024 * 1024


class _Chunks:
    """A Python-level reader over bytes: each ``read`` is a point where other threads may run."""

    def __init__(self, content: bytes) -> None:
        self._view = memoryview(content)
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._offset + size
        chunk = bytes(self._view[self._offset : end])
        self._offset += len(chunk)
        return chunk


def parse_incrementally(content: bytes) -> Any:
    """``json.loads(content)`` built 64 kB at a time (ijson), letting other threads run meanwhile."""
    try:
        import ijson
    except ImportError:  # pragma: no cover - a declared dependency; never fail a read without it
        return json.loads(content)
    from decimal import Decimal

    value = next(iter(ijson.items(_Chunks(content), "", use_float=True, buf_size=64 * 1024)))
    return float(value) if isinstance(value, Decimal) else value


Flow = Generator[Any, Any, T]
"""A vendor operation: yields requests (:class:`ApiRequest`, answered with an :class:`ApiResponse`)
and, rarely, effects (``Sleep``, ``Offload``: answered with their result); returns a value."""


@dataclass(frozen=True)
class Page:
    """One page of a document list; ``next_cursor`` is None on the last page.

    :param total: How many documents the whole list holds, where the vendor says (eSignBase
        ``count``, Legalesign ``meta.total_count``).
    """

    items: list[DocumentInfo]
    next_cursor: Any = None
    total: int | None = None


@dataclass(frozen=True)
class DownloadSource:
    """Where and how to fetch a final PDF, as worked out by a vendor flow.

    :param url: Path relative to the base URL, or an absolute URL.
    :param auth: Whether to send the vendor's credentials (False for pre-signed links).
    :param supports_range: Whether a broken transfer can resume with ``Range``.
    :param sha256: The vendor-published checksum (hex or base64), if any.
    :param not_ready_statuses: 2xx statuses meaning "not ready yet" (Legalesign 201/202).
    :param document: The document, when the flow read it to find the source.
    :param redirect_credentials: Whether a same-origin redirect keeps the credentials (False when the
        vendor redirects to a pre-signed link).
    """

    url: str
    auth: bool = True
    supports_range: bool = False
    sha256: str | None = None
    not_ready_statuses: frozenset[int] = frozenset()
    document: DocumentInfo | None = None
    redirect_credentials: bool = True

    def __repr__(self) -> str:
        # A pre-signed link's query is its credential.
        return f"DownloadSource(url={self.url.split('?', 1)[0]!r}, auth={self.auth})"


def malformed(body: Any, what: str, *, conn_id: str, operation: str) -> ESignMalformedResponseError:
    """The error for a success answer that is not ``what`` the API documents (retried like a 5xx).

    The message says what arrived (its kind, never its content: a proxy page may echo headers).
    """
    if body is None:
        kind = "not JSON, or null"
    elif isinstance(body, dict):
        kind = "an object without the expected fields" if body else "an empty object"
    elif isinstance(body, list):
        kind = "a list" if body else "an empty list"
    else:
        kind = f"a JSON {type(body).__name__}"
    return ESignMalformedResponseError(
        f"the answer is not {what} ({kind})", conn_id=conn_id, operation=operation
    )


def no_call(value: T) -> Flow[T]:
    """A flow that makes no call and returns ``value``: the default of an optional vendor step."""
    return value
    yield  # the one flow without a request: a generator all the same, so callers ``yield from`` it


def single_request(request: ApiRequest) -> Flow[ApiResponse]:
    """A flow of one request whose response is returned as is."""
    response = yield request
    return response


def quote_id(value: str) -> str:
    """Percent-encode an opaque vendor id for a URL path (including ``/``)."""
    return quote(str(value), safe="")


def truthy(value: Any) -> bool:
    """Connection extras arrive as JSON booleans or as strings from URI-form connections."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def default_vendor_message(response: ApiResponse) -> str | None:
    """The vendor's error text from an error response (common JSON keys, else plain text), truncated."""
    body = response.json()
    if isinstance(body, dict):
        for key in ("message", "detail", "error_description", "error", "text"):
            if isinstance(body.get(key), str):
                return body[key][:MAX_ERROR_TEXT]
    text = response.text.strip()
    return text[:MAX_ERROR_TEXT] if text and not text.lstrip().startswith("<") else None
