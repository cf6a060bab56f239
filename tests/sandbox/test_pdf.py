from __future__ import annotations

import re

import pytest

from esign_sandbox.pdf import PdfSource, build_pdf, check_pdf, pdf_text


def test_small_pdf_structure() -> None:
    pdf = build_pdf("Contract (v2)", ["Signer: Joe <joe@example.com>", "back\\slash"]).to_bytes()
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF")
    assert check_pdf(pdf) == []
    assert b"/BaseFont /Helvetica" in pdf
    assert b"(Contract \\(v2\\)) Tj" in pdf and b"(back\\\\slash) Tj" in pdf
    length = int(re.search(rb"6 0 obj\n<< /Length (\d+) >>\nstream\n", pdf).group(1))  # type: ignore[union-attr]
    start = pdf.index(b"stream\n", pdf.index(b"6 0 obj")) + len(b"stream\n")
    assert pdf[start + length : start + length + len(b"\nendstream")] == b"\nendstream"


def test_many_lines_spill_onto_pages() -> None:
    pdf = build_pdf("Many", [f"line {i}" for i in range(150)]).to_bytes()
    assert check_pdf(pdf) == []
    assert b"/Count 4" in pdf and b"(line 149) Tj" in pdf


def test_non_latin_text_is_replaced_not_crashing() -> None:
    assert pdf_text("Zoë ✓ (x)") == b"(Zo\xeb ? \\(x\\))"


@pytest.mark.parametrize("size", [4096, 9999, 10000, 10001, 99_999, 100_000, 1_000_003])
def test_padded_pdf_exact_size_and_valid(size: int) -> None:
    source = build_pdf("Big", ["x"], pad_to=size, pad_seed=5)
    data = source.to_bytes()
    assert len(data) == size == source.size
    assert check_pdf(data) == []
    assert data == build_pdf("Big", ["x"], pad_to=size, pad_seed=5).to_bytes()
    assert source.read(777, 3333) == data[777:3333]


def test_padding_depends_on_seed_and_ranges_match() -> None:
    a = build_pdf("Big", ["x"], pad_to=300_000, pad_seed=1)
    b = build_pdf("Big", ["x"], pad_to=300_000, pad_seed=2)
    assert a.to_bytes() != b.to_bytes()
    whole = a.to_bytes()
    pieces = b"".join(a.iter_range(65_000, 200_000, chunk_size=1000))
    assert pieces == whole[65_000:200_000]
    assert a.sha256() == PdfSource([whole]).sha256()


def test_too_small_pad_rejected() -> None:
    with pytest.raises(ValueError):
        build_pdf("Big", ["x"], pad_to=500)


def test_check_pdf_detects_corruption() -> None:
    pdf = build_pdf("X", ["y"]).to_bytes()
    assert check_pdf(pdf.replace(b"1 0 obj", b"1 0 ob ", 1)) == ["object 1 not at offset 15"]
    assert check_pdf(pdf[:-5]) != []
    shifted = pdf.replace(b"/Title", b"/Title ", 1)
    assert len(check_pdf(shifted)) == 1 and "does not point at 'xref'" in check_pdf(shifted)[0]
