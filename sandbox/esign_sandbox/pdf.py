"""
Hand-written, deterministic PDF generator.

Final documents are small text PDFs. Benchmarks need very large ones (hundreds of MB), so a document is
modelled as a list of segments addressed by byte offset: fixed byte strings plus an optional deterministic
binary padding stream whose bytes are computed from their offset. Nothing large is ever materialised; any
byte range can be produced in constant memory, and the cross-reference table still points at the exact
object offsets.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: Chunk size used when streaming a PDF.
CHUNK_SIZE = 256 * 1024
_BLOCK = 64 * 1024
_LINES_PER_PAGE = 48
_MAX_LINE = 110
_PRODUCER = "airflow-provider-esign sandbox"


class PaddingStream:
    """
    Deterministic pseudo-random bytes of a fixed length, computed from their offset.

    One 64 KiB block is drawn from a seeded PRNG; block ``b`` of the stream is that block rotated by an
    offset derived from ``b``, so the stream does not repeat with a short period yet every byte is cheap to
    compute.

    :param length: number of bytes.
    :param seed: PRNG seed; the same seed always yields the same bytes.
    """

    def __init__(self, length: int, seed: int) -> None:
        self.length = length
        block = random.Random(seed).randbytes(_BLOCK)
        # Doubling the block makes every rotation a single slice.
        self._doubled = block + block

    def _block(self, index: int) -> bytes:
        rotation = (index * 9973 + 17) % _BLOCK
        return self._doubled[rotation : rotation + _BLOCK]

    def iter_range(self, start: int, end: int) -> Iterator[bytes]:
        """
        Yield the bytes in ``[start, end)`` in pieces of at most one block.

        :param start: first offset (inclusive).
        :param end: last offset (exclusive).
        """
        pos = max(0, start)
        end = min(end, self.length)
        while pos < end:
            index, inner = divmod(pos, _BLOCK)
            take = min(_BLOCK - inner, end - pos)
            yield self._block(index)[inner : inner + take]
            pos += take


Segment = bytes | PaddingStream


class PdfSource:
    """
    A PDF as a sequence of segments, readable at any offset.

    :param segments: byte strings and padding streams, in file order.
    """

    def __init__(self, segments: list[Segment]) -> None:
        self._segments: list[tuple[int, Segment]] = []
        offset = 0
        for segment in segments:
            length = len(segment) if isinstance(segment, bytes) else segment.length
            if length:
                self._segments.append((offset, segment))
                offset += length
        self.size = offset
        self._sha256: str | None = None

    def iter_range(
        self, start: int = 0, end: int | None = None, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """
        Yield the bytes in ``[start, end)`` in chunks of roughly ``chunk_size``.

        :param start: first offset (inclusive).
        :param end: last offset (exclusive); defaults to the end of the file.
        :param chunk_size: target chunk size; pieces are coalesced up to this size.
        """
        end = self.size if end is None else min(end, self.size)
        pending: list[bytes] = []
        pending_size = 0
        for seg_start, segment in self._segments:
            seg_len = len(segment) if isinstance(segment, bytes) else segment.length
            seg_end = seg_start + seg_len
            if seg_end <= start or seg_start >= end:
                continue
            lo = max(start, seg_start) - seg_start
            hi = min(end, seg_end) - seg_start
            pieces: Iterator[bytes] = (
                iter((segment[lo:hi],)) if isinstance(segment, bytes) else segment.iter_range(lo, hi)
            )
            for piece in pieces:
                pending.append(piece)
                pending_size += len(piece)
                if pending_size >= chunk_size:
                    yield b"".join(pending)
                    pending, pending_size = [], 0
        if pending:
            yield b"".join(pending)

    def read(self, start: int, end: int) -> bytes:
        """
        :param start: first offset (inclusive).
        :param end: last offset (exclusive).
        :return: the bytes in ``[start, end)``; only use for small ranges.
        """
        return b"".join(self.iter_range(start, end))

    def to_bytes(self) -> bytes:
        """:return: the whole file; only use for small documents."""
        return self.read(0, self.size)

    def sha256(self) -> str:
        """:return: the lowercase hex SHA-256 of the whole file (cached, computed in streaming)."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            for chunk in self.iter_range(0, self.size, 1024 * 1024):
                digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256


def pdf_text(value: str) -> bytes:
    """
    Encode ``value`` as a PDF literal string for a WinAnsi-encoded Type 1 font.

    :param value: text; characters outside Windows-1252 become ``?``.
    :return: the literal including the parentheses.
    """
    raw = value.encode("cp1252", errors="replace")
    out = bytearray(b"(")
    for byte in raw:
        if byte in (0x28, 0x29, 0x5C):
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte == 0x7F:
            out += b"?"
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def _clip(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 3] + "..."


def _page_content(title: str | None, lines: list[str]) -> bytes:
    ops = [b"BT"]
    y = 800
    if title is not None:
        ops += [b"/F1 16 Tf", b"1 0 0 1 50 %d Tm" % y, pdf_text(_clip(title)) + b" Tj"]
        y -= 34
    ops += [b"/F1 10 Tf", b"14 TL", b"1 0 0 1 50 %d Tm" % y]
    for index, line in enumerate(lines):
        if index:
            ops.append(b"T*")
        ops.append(pdf_text(_clip(line)) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


@dataclass
class _Obj:
    number: int
    body: bytes


def _serialise(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def build_pdf(
    title: str,
    lines: list[str],
    *,
    pad_to: int | None = None,
    pad_seed: int = 0,
    page_size: tuple[int, int] = (595, 842),
) -> PdfSource:
    """
    Build a valid PDF with Helvetica text pages.

    :param title: heading of the first page, also the ``/Title`` of the document information dictionary.
    :param lines: text lines; more than fit on one page spill onto further pages.
    :param pad_to: when set, the exact total size in bytes. The file is padded with a deterministic binary
        stream object (generated lazily) so that the result is exactly this large.
    :param pad_seed: seed of the padding bytes.
    :param page_size: media box width and height in points.
    :return: the PDF as a :class:`PdfSource`.
    :raises ValueError: when ``pad_to`` is smaller than the unpadded document plus the padding object.
    """
    pages = [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)] or [[]]
    first_page_obj = 5
    kids = b" ".join(b"%d 0 R" % (first_page_obj + 2 * i) for i in range(len(pages)))
    objects = [
        _Obj(1, b"<< /Type /Catalog /Pages 2 0 R >>"),
        _Obj(2, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages)),
        _Obj(3, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
        _Obj(4, b"<< /Title " + pdf_text(_clip(title)) + b" /Producer " + pdf_text(_PRODUCER) + b" >>"),
    ]
    width, height = page_size
    for index, page_lines in enumerate(pages):
        page_no = first_page_obj + 2 * index
        objects.append(
            _Obj(
                page_no,
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (width, height)
                + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_no + 1),
            )
        )
        content = _page_content(title if index == 0 else None, page_lines)
        objects.append(_Obj(page_no + 1, _stream(content)))

    # The second line is the customary binary marker so transfer tools treat the file as binary.
    head = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for obj in objects:
        offsets[obj.number] = len(head)
        head += _serialise(obj.number, obj.body)

    if pad_to is None:
        return PdfSource([bytes(head) + _xref_and_trailer(offsets, len(head))])
    return _padded(bytes(head), offsets, pad_to, pad_seed)


def _xref_and_trailer(offsets: dict[int, int], xref_offset: int) -> bytes:
    size = max(offsets) + 1
    rows = [b"xref\n0 %d\n" % size, b"0000000000 65535 f\r\n"]
    for number in range(1, size):
        # Every in-use entry is exactly 20 bytes, as the format requires.
        rows.append(b"%010d 00000 n\r\n" % offsets[number])
    rows.append(b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % size)
    rows.append(b"startxref\n%d\n%%%%EOF" % xref_offset)
    return b"".join(rows)


def _padded(head: bytes, offsets: dict[int, int], pad_to: int, pad_seed: int) -> PdfSource:
    pad_number = max(offsets) + 1
    obj_start = len(head)
    all_offsets = {**offsets, pad_number: obj_start}
    stream_end = b"\nendstream\nendobj\n"
    # The padding length appears in the object's /Length and the xref offset after it appears in the
    # trailer; both change length with their digit counts, so search for a consistent combination.
    for extra in range(3):
        for length_digits in range(1, 16):
            opener_len = len(b"%d 0 obj\n<< /Length " % pad_number) + length_digits + extra
            opener_len += len(b" >>\nstream\n")
            for xref_digits in range(1, 16):
                trailer_len = len(_xref_and_trailer(all_offsets, 10**xref_digits - 1))
                pad_len = pad_to - obj_start - opener_len - len(stream_end) - trailer_len
                if pad_len < 0 or len(str(pad_len)) != length_digits:
                    continue
                xref_offset = obj_start + opener_len + pad_len + len(stream_end)
                if len(str(xref_offset)) != xref_digits:
                    continue
                opener = b"%d 0 obj\n<< /Length %d%s >>\nstream\n" % (pad_number, pad_len, b" " * extra)
                tail = stream_end + _xref_and_trailer(all_offsets, xref_offset)
                source = PdfSource([head + opener, PaddingStream(pad_len, pad_seed), tail])
                if source.size == pad_to:
                    return source
    raise ValueError(f"pdf_size {pad_to} is too small; the document needs more than {obj_start + 200} bytes")


_XREF_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])\r?\n?")


def check_pdf(data: bytes) -> list[str]:
    """
    Structural self-check used by the tests: header, trailer and cross-reference offsets.

    :param data: a whole PDF file.
    :return: a list of problems; empty when the file is consistent.
    """
    problems: list[str] = []
    if not data.startswith(b"%PDF-"):
        problems.append("missing %PDF- header")
    if not data.rstrip().endswith(b"%%EOF"):
        problems.append("missing %%EOF trailer")
    match = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", data)
    if not match:
        return [*problems, "missing startxref"]
    xref_at = int(match.group(1))
    if data[xref_at : xref_at + 4] != b"xref":
        return [*problems, f"startxref {xref_at} does not point at 'xref'"]
    header = re.match(rb"xref\s+(\d+)\s+(\d+)\s+", data[xref_at:])
    if not header:
        return [*problems, "malformed xref header"]
    first, count = int(header.group(1)), int(header.group(2))
    pos = xref_at + header.end()
    for index in range(count):
        entry = data[pos : pos + 20]
        parsed = _XREF_ENTRY.match(entry)
        if not parsed or len(entry) != 20:
            problems.append(f"xref entry {first + index} is not 20 bytes")
            break
        pos += 20
        if parsed.group(3) == b"n":
            offset = int(parsed.group(1))
            expected = b"%d 0 obj" % (first + index)
            if data[offset : offset + len(expected)] != expected:
                problems.append(f"object {first + index} not at offset {offset}")
    return problems
