"""Verified, resumable streaming downloads, run through the request pipeline.

Memory stays constant (one chunk). A transfer that breaks resumes with ``Range`` where the vendor
supports it, guarded by ``If-Range`` with the validator (``ETag``, else ``Last-Modified``) of the
first response: if the file changed at the vendor in between, the server answers with the whole new
file and the transfer restarts, so the result is never spliced from two versions (RFC 9110 §13.1.5).
A ``206`` is appended only when its ``Content-Range`` starts exactly at the requested offset; one that
starts at byte 0 replaces what was received, any other start restarts the transfer. The result is
checked for the PDF signature, the announced length and the vendor's SHA-256; an answer that announces
no length must end with the PDF trailer (``%%EOF`` within the last 1,024 bytes, where PDF readers look
for it, ISO 32000-1 §7.5.5 and its implementation note), so a transfer cut halfway is never taken for
the whole file.
"""

from __future__ import annotations

import base64
import hashlib
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any

from airflow_provider_esign.exceptions import DocumentNotReadyError, ESignApiError, ESignIntegrityError
from airflow_provider_esign.hooks.api import PDF_MAGIC, ApiRequest, ApiResponse, DownloadSource
from airflow_provider_esign.hooks.effects import Close, Effects, ReadChunk, Sleep
from airflow_provider_esign.hooks.transport import transport_error
from airflow_provider_esign.models import DownloadResult

#: The end-of-file marker a complete PDF carries near its end (ISO 32000-1 §7.5.5).
PDF_EOF = b"%%EOF"
#: How far from the end the marker may sit (what PDF readers accept: trailing junk up to 1 KiB).
EOF_WINDOW = 1024

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.pipeline import RequestPipeline


def sha256_matches(expected: str, digest: bytes) -> bool:
    """Compare a vendor checksum given as hex or base64 (Legalesign does not say which)."""
    expected = expected.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        return expected.lower() == digest.hex()
    try:
        return base64.b64decode(expected, validate=True) == digest
    except ValueError:
        return False


@dataclass
class _Transfer:
    """What a download has received so far, across attempts."""

    out: IO[bytes]
    hasher: Any = field(default_factory=hashlib.sha256)
    written: int = 0
    total: int | None = None
    validator: str | None = None
    resumed: int = 0
    restarted: int = 0
    #: The last :data:`EOF_WINDOW` bytes received (for the trailer check).
    tail: bytes = b""
    #: The write and the hash of the previous chunk, running while the next one is read.
    _pending: tuple[Future[Any], ...] = ()
    _workers: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None

    def take(self, chunk: bytes) -> None:
        """Write and hash ``chunk`` on two worker threads while the next chunk is read from the socket
        (file writes and SHA-256 over large buffers release the GIL, so the three overlap). One chunk
        in flight at most: memory stays at two chunks."""
        self.drain()
        if self._workers is None:
            self._workers = (
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="esign-download-write"),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="esign-download-hash"),
            )
        writer, hasher = self._workers
        self._pending = (writer.submit(self.out.write, chunk), hasher.submit(self.hasher.update, chunk))
        self.written += len(chunk)
        self.tail = (self.tail + chunk[-EOF_WINDOW:])[-EOF_WINDOW:]

    def drain(self) -> None:
        """Wait for the chunk in flight (raises what writing or hashing it raised)."""
        pending, self._pending = self._pending, ()
        for future in pending:
            future.result()

    def close(self) -> None:
        try:
            self.drain()
        finally:
            for worker in self._workers or ():
                worker.shutdown(wait=True)
            self._workers = None

    def restart(self) -> None:
        self.drain()
        self.out.seek(0)
        self.out.truncate()
        self.hasher, self.written, self.tail = hashlib.sha256(), 0, b""
        self.restarted += 1

    def has_trailer(self) -> bool:
        return PDF_EOF in self.tail


def download(
    pipeline: RequestPipeline, source: DownloadSource, out: IO[bytes], chunk_size: int, operation: str
) -> Effects[DownloadResult]:
    """Stream ``source`` into the seekable ``out`` and verify it; retried as the hook's policy allows.

    Each attempt is one :meth:`~.pipeline.RequestPipeline.call` without retries of its own (so one
    budget covers opening the response and reading its body) and resumes where the last one broke.
    """
    request = ApiRequest(
        "GET",
        source.url,
        operation=operation,
        auth=source.auth,
        headers={"Accept": "application/pdf"},
        ok_statuses=source.not_ready_statuses,
        redirect_credentials=source.redirect_credentials,
    )
    transfer = _Transfer(out)
    started, number = pipeline.hook.clock(), 0
    try:
        while True:
            number += 1
            try:
                yield from _attempt(pipeline, source, request, transfer, chunk_size)
                break
            except ESignApiError as exc:
                yield Sleep(pipeline.retry_wait(request, exc, number, started))
    finally:
        transfer.close()
    return _verify(source, transfer, transfer.hasher.digest())


def _attempt(
    pipeline: RequestPipeline,
    source: DownloadSource,
    request: ApiRequest,
    transfer: _Transfer,
    chunk_size: int,
) -> Effects[None]:
    headers = dict(request.headers)
    resuming = transfer.written > 0 and source.supports_range
    if resuming:
        headers["Range"] = f"bytes={transfer.written}-"
        if transfer.validator:
            headers["If-Range"] = transfer.validator
    elif transfer.written:  # no Range support: start over
        transfer.restart()
    conn_id = pipeline.hook.conn_id
    response = yield from pipeline.call(replace(request, headers=headers), stream=True, retry=False)
    try:
        if response.status_code in source.not_ready_statuses:
            raise DocumentNotReadyError(f"The final PDF is not ready yet (HTTP {response.status_code})")
        if resuming and response.status_code == 206:
            start = _range_start(response)
            if start == transfer.written:
                transfer.resumed += 1
            elif start == 0:  # a 206 holding the file from its first byte: take it as a fresh start
                transfer.restart()
            else:  # not the bytes asked for: never spliced in; the next attempt starts over
                transfer.restart()
                raise transport_error(
                    request.operation,
                    conn_id,
                    ValueError(f"206 answer with Content-Range {response.header('Content-Range')!r}"),
                    maybe_processed=True,
                )
        elif resuming:  # the server ignored Range, or the file changed (If-Range): start over
            transfer.restart()
        if transfer.written == 0:
            transfer.validator = _validator(response)
        transfer.total = _expected_total(response, transfer.written) or transfer.total
        while chunk := (yield ReadChunk(response, chunk_size)):
            if transfer.written == 0 and not chunk.startswith(PDF_MAGIC[: len(chunk)]):
                _not_a_pdf(source, response)
            transfer.take(chunk)
        transfer.drain()
    finally:
        yield Close(response)
    if transfer.total is not None and transfer.written < transfer.total:
        raise transport_error(request.operation, conn_id, EOFError("truncated body"), maybe_processed=True)
    if transfer.total is None and transfer.written and not transfer.has_trailer():
        # No length announced: a connection closed early looks like the end of the body. A PDF ends
        # with %%EOF; without it the body is taken as truncated (retried; never stored).
        raise transport_error(
            request.operation,
            conn_id,
            EOFError(f"body without Content-Length ends without the PDF trailer {PDF_EOF.decode()}"),
            maybe_processed=True,
        )


def _validator(response: ApiResponse) -> str | None:
    """The strong validator ``If-Range`` may carry: a strong ``ETag``, else ``Last-Modified``."""
    etag = response.header("ETag")
    if etag and not etag.startswith("W/"):
        return etag
    return response.header("Last-Modified")


def _range_start(response: ApiResponse) -> int | None:
    """The first byte position of a ``206``'s ``Content-Range: bytes first-last/total``."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(?:\d+|\*)\s*", response.header("Content-Range") or "")
    return int(match.group(1)) if match else None


def _expected_total(response: ApiResponse, written: int) -> int | None:
    content_range = response.header("Content-Range")
    if response.status_code == 206 and content_range and "/" in content_range:
        size = content_range.rsplit("/", 1)[1]
        return int(size) if size.isdigit() else None
    length = response.header("Content-Length")
    if length and length.isdigit():
        return int(length) + (written if response.status_code == 206 else 0)
    return None


def _not_a_pdf(source: DownloadSource, response: ApiResponse) -> None:
    content_type = response.header("Content-Type") or "unknown"
    if source.not_ready_statuses or "html" in content_type:
        raise DocumentNotReadyError(
            f"The vendor answered with {content_type!r} instead of a PDF; the final PDF is not ready"
            " (or the download link needs a browser session)"
        )
    raise ESignIntegrityError(f"The download is not a PDF (Content-Type {content_type!r})")


def _verify(source: DownloadSource, transfer: _Transfer, digest: bytes) -> DownloadResult:
    checks = ["pdf-magic"]
    written, total = transfer.written, transfer.total
    if written < len(PDF_MAGIC):
        raise ESignIntegrityError(f"The download is not a PDF ({written} bytes)")
    if total is not None:
        if written != total:
            raise ESignIntegrityError(f"Length mismatch: got {written} bytes, expected {total}")
        checks.append("content-length")
    elif not transfer.has_trailer():
        raise ESignIntegrityError(
            f"No length was announced and the {written} bytes do not end with the PDF trailer"
        )
    if transfer.has_trailer():
        checks.append("pdf-trailer")
    if source.sha256:
        if not sha256_matches(source.sha256, digest):
            raise ESignIntegrityError("SHA-256 mismatch: the download differs from the vendor's checksum")
        checks.append("vendor-sha256")
    return DownloadResult(
        size=written,
        sha256=digest.hex(),
        verified_against=tuple(checks),
        resumed=transfer.resumed,
        restarted=transfer.restarted,
        document=source.document,
    )
