"""
What the sandbox reads from an uploaded PDF: its page count and Legalesign text tags (stdlib only).

Real PDFs from word processors are often PDF 1.5+ with *compressed object streams*: the page objects and
the page tree live inside Flate-compressed ``/Type /ObjStm`` streams and are invisible to a plain byte
search. Both readers therefore also look inside every Flate stream (up to a size cap, so a huge upload
cannot make the sandbox inflate gigabytes).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator

#: Most bytes inflated per stream, and in total, while inspecting one upload.
MAX_INFLATE = 32 * 1024 * 1024
_STREAM = re.compile(rb"stream\r?\n")
_PAGES_COUNT = re.compile(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)|/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", re.S)
_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
#: Legalesign text tags, e.g. ``<<t=signature;s=1>>`` or ``<<t=text;s=2;l=Company>>``.
_TAG = re.compile(rb"<<\s*t\s*=\s*(signature|initials|text|admin)\s*((?:;[^<>;]*)*)>>", re.I)


def _inflated_streams(data: bytes) -> Iterator[bytes]:
    """Yield the inflated content of every Flate stream, within the inflate budget."""
    budget = MAX_INFLATE
    for match in _STREAM.finditer(data):
        if budget <= 0:
            return
        head = data[max(0, match.start() - 512) : match.start()]
        if b"FlateDecode" not in head[head.rfind(b"<<") :]:
            continue
        inflater = zlib.decompressobj()
        try:
            chunk = inflater.decompress(data[match.end() : match.end() + MAX_INFLATE], budget)
        except zlib.error:
            continue
        budget -= len(chunk)
        yield chunk


def _views(data: bytes) -> Iterator[bytes]:
    yield data
    yield from _inflated_streams(data)


def count_pages(data: bytes) -> int:
    """
    :param data: the PDF bytes.
    :return: the page count: the largest ``/Count`` of a ``/Type /Pages`` node (the root of the page tree),
        else the number of ``/Type /Page`` objects, at least 1.
    """
    best = 0
    pages = 0
    for view in _views(data):
        for match in _PAGES_COUNT.finditer(view):
            best = max(best, int(match.group(1) or match.group(2)))
        pages += len(_PAGE.findall(view))
    return max(1, best or pages)


def text_tags(data: bytes) -> list[dict[str, object]]:
    """
    Legalesign text tags found in the PDF (``process_tags``), in file order.

    :return: ``[{"element_type", "signer", "label"}]``; ``signer`` is 1-based (``None`` for sender fields).
    """
    found: list[dict[str, object]] = []
    for view in _views(data):
        for match in _TAG.finditer(view):
            options: dict[str, str] = {}
            for part in match.group(2).decode("latin-1").split(";"):
                key, _, value = part.partition("=")
                if key.strip():
                    options[key.strip().lower()] = value.strip()
            element_type = match.group(1).decode().lower()
            signer = None if element_type == "admin" else int(options.get("s", "1") or 1)
            found.append({"element_type": element_type, "signer": signer, "label": options.get("l", "")})
    return found
