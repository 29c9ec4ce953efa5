"""The PDF renderer: every page has the record's identity, "page X of Y" and the data hash;
tables split across pages with their column titles repeated; fonts are embedded; the text
(µ, °, ±, ≤) survives extraction; PDF/A-2b identification is present. No database."""

from __future__ import annotations

import io
import re

import pypdf
from hypothesis import given, settings
from hypothesis import strategies as st

from galenic.exports.pdf import (
    Column,
    Fields,
    Heading,
    Report,
    Row,
    SignatureLine,
    Signatures,
    Table,
    Text,
    render,
)

HASH = "0123456789abcdef" * 4


def report(rows: int = 400, *, tall: bool = False) -> Report:
    cells = [
        Row(
            [
                f"entry-{i}",
                "Granule temperature",
                f"{20 + i % 9}.5 °C",
                "18\u201325 °C ± 0.5",
                "µ-probe",
            ]
        )
        for i in range(rows)
    ]
    if tall:
        cells.append(Row(["tall", "\n".join(f"line {n}" for n in range(200)), "", "", ""]))
    return Report(
        title="Batch record B-TEST-1",
        identity="Batch B-TEST-1 · MBR-X v2",
        record_sha256=HASH,
        generated="Exported 2026-01-01 by Test",
        blocks=[
            Heading("Cover", 1),
            Fields([("Product", "Test tablets 5 µg"), ("Storage", "≤ 25 °C")]),
            Text("Instructions " * 80),
            Table(
                [
                    Column("Entry"),
                    Column("Name", 2),
                    Column("Value"),
                    Column("Limits", 1.5),
                    Column("Source"),
                ],
                cells,
                caption="Entries",
            ),
            Signatures(
                [SignatureLine("Signed by Olivia Operator (user ID olivia); meaning: Performed")]
            ),
        ],
        subject="test",
    )


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_every_page_has_identity_page_x_of_y_and_hash() -> None:
    out = render(report())
    texts = pages_text(out.pdf)
    assert out.pages == len(texts) > 3
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {out.pages}" in text
        assert HASH in text
        assert "Batch B-TEST-1 · MBR-X v2" in text


def test_table_rows_all_present_and_header_repeats_on_each_page() -> None:
    out = render(report())
    texts = pages_text(out.pdf)
    joined = "\n".join(texts)
    found = [int(n) for n in re.findall(r"entry-(\d+)", joined)]
    assert found == list(range(400))  # every row once, in order, across pages
    pages_with_rows = [t for t in texts if "entry-" in t]
    assert len(pages_with_rows) > 2
    assert all("Limits" in t for t in pages_with_rows)  # column titles repeated


def test_row_taller_than_a_page_is_split_not_lost() -> None:
    joined = "\n".join(pages_text(render(report(rows=3, tall=True)).pdf))
    assert all(f"line {n}" in joined for n in range(200))


def test_special_characters_survive_extraction() -> None:
    text = pages_text(render(report(rows=2)).pdf)[0]
    for needle in ("5 µg", "≤ 25 °C", "18\u201325 °C ± 0.5", "µ-probe"):
        assert needle in text


def test_fonts_are_embedded_and_no_base14_font_is_used() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render(report(rows=5)).pdf))
    seen = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]
            assert "Helvetica" not in str(font["/BaseFont"])
            seen += 1
    assert seen


def test_pdfa_identification() -> None:
    data = render(report(rows=5)).pdf
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in xmp
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3
    assert reader.metadata is not None
    assert reader.metadata.title == "Batch record B-TEST-1"


def test_outline_lists_headings() -> None:
    reader = pypdf.PdfReader(io.BytesIO(render(report(rows=5)).pdf))
    assert reader.outline[0]["/Title"] == "Cover"


@settings(max_examples=25, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=300)
)
def test_any_text_renders_without_error(value: str) -> None:
    out = render(
        Report(
            "t",
            "id",
            HASH,
            "g",
            [Text(value), Table([Column("a"), Column("b")], [Row([value, value])])],
        ),
        pdfa=False,
    )
    assert out.pdf.startswith(b"%PDF")
    assert out.pages >= 1
