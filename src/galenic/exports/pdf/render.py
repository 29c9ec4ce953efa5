"""Lay a ``layout.Report`` out on A4 pages and write the PDF (ReportLab canvas; no Django).

Why a small layout engine of our own rather than ReportLab's platypus: a batch record has
tens of thousands of table rows, and laying them out directly on the canvas (widths from a
cached per-character table, one text object per page) keeps the export within a small factor
of drawing plain text pages. It is done in two passes: the first lays every block out into
pages of drawing operations, so the total page count is known; the second draws each page
with its header ("identity"), footer ("page X of Y", the record's data hash) and outline.

Every page carries the SHA-256 of the record's data, so a printout can be matched to the
system (21 CFR 11.10(b)). Fonts are embedded (``fonts.py``). The file carries PDF/A-2b
identification (XMP metadata, sRGB output intent, only embedded fonts, no transparency); it
is not checked here with a conformance validator.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString
from reportlab.pdfgen.canvas import Canvas

import galenic
from galenic.exports.pdf import fonts
from galenic.exports.pdf.layout import (
    Block,
    Fields,
    Heading,
    PageBreak,
    Report,
    Row,
    Signatures,
    Spacer,
    Table,
    Text,
)

# Page streams are Flate-compressed binary; ASCII85 on top only makes them bigger and slower.
rl_config.useA85 = 0

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 40.0
CONTENT_TOP = PAGE_HEIGHT - 54.0
CONTENT_BOTTOM = 58.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
PRODUCER = f"Galenic {galenic.__version__} (ReportLab)"

RGB = tuple[float, float, float]
BLACK: RGB = (0.0, 0.0, 0.0)
GREY: RGB = (0.38, 0.38, 0.38)
RULE: RGB = (0.72, 0.72, 0.72)
HEADER_FILL: RGB = (0.90, 0.92, 0.95)
FLAG_TEXT: RGB = (0.62, 0.05, 0.05)
FLAG_FILL: dict[str, RGB] = {
    "excursion": (1.0, 0.87, 0.87),
    "invalid": (1.0, 0.84, 0.84),
    "changed": (1.0, 0.94, 0.78),
    "exception": (1.0, 0.94, 0.78),
    "ok": (0.89, 0.96, 0.89),
}


@dataclass(frozen=True)
class _Font:
    name: str
    size: float
    leading: float
    color: RGB = BLACK


STYLES: dict[str, _Font] = {
    "body": _Font(fonts.SANS, 9.0, 11.6),
    "bold": _Font(fonts.SANS_BOLD, 9.0, 11.6),
    "small": _Font(fonts.SANS, 7.5, 9.6),
    "muted": _Font(fonts.SANS_OBLIQUE, 8.0, 10.2, GREY),
    "mono": _Font(fonts.MONO, 7.5, 9.6),
    "flag": _Font(fonts.SANS_BOLD, 8.5, 10.8, FLAG_TEXT),
}
HEADINGS = {
    1: _Font(fonts.SANS_BOLD, 14.0, 18.0),
    2: _Font(fonts.SANS_BOLD, 11.5, 15.0),
    3: _Font(fonts.SANS_BOLD, 9.5, 12.5),
    4: _Font(fonts.SANS_BOLD, 9.0, 12.0),
}
CELL = _Font(fonts.SANS, 7.5, 9.3)
CELL_MONO = _Font(fonts.MONO, 7.0, 9.3)
CELL_HEAD = _Font(fonts.SANS_BOLD, 7.5, 9.3)
CELL_PAD = 2.2
FIELD_LABEL = _Font(fonts.SANS_BOLD, 8.0, 10.6, GREY)
FIELD_VALUE = _Font(fonts.SANS, 8.5, 10.6)
FIELD_HASH = _Font(fonts.MONO, 7.2, 10.6)

# Drawing operations (tuples, for speed): text, line, filled rectangle, outline entry.
T_TEXT, T_LINE, T_RECT, T_MARK = 0, 1, 2, 3
Op = tuple[Any, ...]


_BREAKS = re.compile(r"(?<=[._/:-])")
_HASH = re.compile(r"^(sha256:)?[0-9a-f]{64}$")


class _Measure:
    """String widths from cached per-font character tables."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[dict[int, int], int]] = {}
        self._cache: dict[tuple[str, str], float] = {}

    def width(self, text: str, font: str, size: float) -> float:
        key = (font, text)
        units = self._cache.get(key)
        if units is None:
            table = self._tables.get(font)
            if table is None:
                table = self._tables[font] = fonts.char_widths(font)
            widths, default = table
            get = widths.get
            units = float(sum([get(ord(ch), default) for ch in text]))
            if len(text) <= 40:
                self._cache[key] = units
        return units * size / 1000.0

    def wrap(self, text: str, font: _Font, width: float) -> list[str]:
        """Greedy word wrap; explicit newlines kept; over-long words broken by character."""
        name, size = font.name, font.size
        lines: list[str] = []
        for para in text.split("\n"):
            if self.width(para, name, size) <= width:
                lines.append(para)
                continue
            space = self.width(" ", name, size)
            current, current_w = "", 0.0
            for word in para.split(" "):
                word_w = self.width(word, name, size)
                if word_w > width:
                    if current:
                        lines.append(current)
                    current, current_w = self._break_word(word, name, size, width, lines)
                elif current and current_w + space + word_w > width:
                    lines.append(current)
                    current, current_w = word, word_w
                elif current:
                    current += " " + word
                    current_w += space + word_w
                else:
                    current, current_w = word, word_w
            lines.append(current)
        return lines or [""]

    def _break_word(
        self, word: str, name: str, size: float, width: float, lines: list[str]
    ) -> tuple[str, float]:
        """Break a word wider than the column: after '.', '_', '/', '-' or ':' where possible
        (identifiers stay readable), else between characters. Returns the unfinished last line."""
        pieces = [p for p in _BREAKS.split(word) if p]
        chunk, chunk_w = "", 0.0
        for piece in pieces:
            piece_w = self.width(piece, name, size)
            if chunk and chunk_w + piece_w > width:
                lines.append(chunk)
                chunk, chunk_w = "", 0.0
            if piece_w <= width:
                chunk += piece
                chunk_w += piece_w
                continue
            for ch in piece:
                ch_w = self.width(ch, name, size)
                if chunk and chunk_w + ch_w > width:
                    lines.append(chunk)
                    chunk, chunk_w = "", 0.0
                chunk += ch
                chunk_w += ch_w
        return chunk, chunk_w

    def fit(self, text: str, font: _Font, width: float) -> str:
        """``text`` shortened with an ellipsis to fit one line (running header/footer only)."""
        if self.width(text, font.name, font.size) <= width:
            return text
        while text and self.width(text + "…", font.name, font.size) > width:
            text = text[:-1]
        return text + "…"


class _Layout:
    def __init__(self, measure: _Measure) -> None:
        self.m = measure
        self.pages: list[list[Op]] = []
        self.ops: list[Op] = []
        self.y = CONTENT_TOP
        self.outline_level = -1
        self.marks = 0
        self.new_page()

    # -- pages -----------------------------------------------------------------------------
    def new_page(self) -> None:
        self.ops = []
        self.pages.append(self.ops)
        self.y = CONTENT_TOP

    @property
    def at_top(self) -> bool:
        return self.y >= CONTENT_TOP - 0.01

    def room(self) -> float:
        return self.y - CONTENT_BOTTOM

    def need(self, height: float) -> None:
        if height > self.room() and not self.at_top:
            self.new_page()

    def gap(self, height: float) -> None:
        if not self.at_top:
            self.y -= height
            if self.y < CONTENT_BOTTOM:
                self.new_page()

    def text(self, x: float, y: float, text: str, font: _Font, color: RGB | None = None) -> None:
        if text:
            self.ops.append((T_TEXT, font.name, font.size, x, y, text, color or font.color))

    # -- blocks ----------------------------------------------------------------------------
    def block(self, block: Block) -> None:
        if isinstance(block, Heading):
            self.heading(block)
        elif isinstance(block, Text):
            self.paragraph(block)
        elif isinstance(block, Fields):
            self.fields(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Signatures):
            self.signatures(block)
        elif isinstance(block, PageBreak):
            if not self.at_top:
                self.new_page()
        elif isinstance(block, Spacer):
            self.gap(block.height)
        else:  # pragma: no cover - the Block union is closed
            raise TypeError(f"unknown block {block!r}")

    def heading(self, block: Heading) -> None:
        font = HEADINGS.get(block.level, HEADINGS[4])
        if block.new_page and not self.at_top:
            self.new_page()
        self.gap(font.leading * 0.6)
        lines = self.m.wrap(block.text, font, CONTENT_WIDTH)
        # Keep a heading with at least a few lines of what follows it.
        self.need(font.leading * len(lines) + 4 * CELL.leading)
        level = min(max(block.level - 1, 0), self.outline_level + 1)
        self.outline_level = level
        self.marks += 1
        key = block.anchor or f"h{self.marks}"
        self.ops.append((T_MARK, key, block.text, level, self.y + 2))
        for line in lines:
            self.y -= font.leading
            self.text(MARGIN_X, self.y + (font.leading - font.size) * 0.5, line, font)
        if block.level == 1:
            self.y -= 3
            self.ops.append((T_LINE, MARGIN_X, self.y, PAGE_WIDTH - MARGIN_X, self.y, 0.8, BLACK))
        self.y -= 4

    def paragraph(self, block: Text) -> None:
        font = STYLES.get(block.style, STYLES["body"])
        for line in self.m.wrap(block.text, font, CONTENT_WIDTH):
            self.need(font.leading)
            self.y -= font.leading
            self.text(MARGIN_X, self.y + 2.2, line, font)
        self.y -= 3

    def fields(self, block: Fields) -> None:
        label_w = CONTENT_WIDTH * 0.30
        value_w = CONTENT_WIDTH - label_w - 6
        flags = list(block.flags) + [""] * (len(block.rows) - len(block.flags))
        for (label, value), flag in zip(block.rows, flags, strict=False):
            value_font = FIELD_HASH if _HASH.match(value) else FIELD_VALUE
            cells = [
                self.m.wrap(label, FIELD_LABEL, label_w),
                self.m.wrap(value, value_font, value_w),
            ]
            self._row(
                cells,
                [MARGIN_X, MARGIN_X + label_w + 6],
                [label_w, value_w],
                [FIELD_LABEL, value_font],
                FIELD_VALUE.leading,
                flag,
                pad=1.2,
                rule=False,
                repeat=None,
            )
        self.y -= 4

    def table(self, block: Table) -> None:
        total = sum(c.weight for c in block.columns) or 1.0
        widths = [CONTENT_WIDTH * c.weight / total for c in block.columns]
        xs = [MARGIN_X]
        for w in widths[:-1]:
            xs.append(xs[-1] + w)
        inner = [w - 2 * CELL_PAD for w in widths]
        fonts_ = [CELL_MONO if c.mono else CELL for c in block.columns]
        head_cells = [
            self.m.wrap(c.title, CELL_HEAD, w) for c, w in zip(block.columns, inner, strict=True)
        ]
        head_h = max(len(c) for c in head_cells) * CELL.leading + 2 * CELL_PAD

        def header() -> None:
            self.ops.append((T_RECT, MARGIN_X, self.y - head_h, CONTENT_WIDTH, head_h, HEADER_FILL))
            self._cells(
                head_cells,
                [x + CELL_PAD for x in xs],
                [CELL_HEAD] * len(xs),
                CELL.leading,
                CELL_PAD,
            )
            self.y -= head_h
            self.ops.append((T_LINE, MARGIN_X, self.y, PAGE_WIDTH - MARGIN_X, self.y, 0.6, GREY))

        wrap = self.m.wrap

        def wrapped(row: Row) -> list[list[str]]:
            return [
                wrap(str(text), font, w)
                for text, font, w in zip(row.cells, fonts_, inner, strict=False)
            ]

        rows = iter(block.rows)
        first = next(rows, None)
        first_cells = wrapped(first) if first is not None else [[""]]
        # Keep caption, column titles and the first row (or a few lines of it) together.
        first_h = min(max(len(c) for c in first_cells), 3) * CELL.leading + 2 * CELL_PAD
        caption = STYLES["bold"]
        self.need((caption.leading if block.caption else 0) + head_h + first_h)
        if block.caption:
            self.y -= caption.leading
            self.text(MARGIN_X, self.y + 2.2, block.caption, caption)
        header()
        if first is not None:
            self._row(
                first_cells,
                xs,
                inner,
                fonts_,
                CELL.leading,
                first.flag,
                pad=CELL_PAD,
                rule=True,
                repeat=header,
            )
        for row in rows:
            self._row(
                wrapped(row),
                xs,
                inner,
                fonts_,
                CELL.leading,
                row.flag,
                pad=CELL_PAD,
                rule=True,
                repeat=header,
            )
        self.y -= 6

    def _row(
        self,
        cells: list[list[str]],
        xs: Sequence[float],
        widths: Sequence[float],
        cell_fonts: Sequence[_Font],
        leading: float,
        flag: str,
        *,
        pad: float,
        rule: bool,
        repeat: Callable[[], None] | None,
    ) -> None:
        """One table row; split line by line across pages when it is taller than the room left."""
        lines = max(len(c) for c in cells)
        height = lines * leading + 2 * pad
        if height > self.room() and not self.at_top:
            fresh_room = CONTENT_TOP - CONTENT_BOTTOM - (0 if repeat is None else 30)
            if height <= fresh_room or self.room() < leading * 3 + 2 * pad:
                self.new_page()
                if repeat is not None:
                    repeat()
        start = 0
        while start < lines:
            fit = max(1, int((self.room() - 2 * pad) // leading))
            chunk = [c[start : start + fit] for c in cells]
            count = min(fit, lines - start)
            h = count * leading + 2 * pad
            fill = FLAG_FILL.get(flag)
            if fill is not None:
                self.ops.append((T_RECT, MARGIN_X, self.y - h, CONTENT_WIDTH, h, fill))
            self._cells(chunk, [x + (pad if rule else 0) for x in xs], cell_fonts, leading, pad)
            self.y -= h
            if rule:
                self.ops.append(
                    (T_LINE, MARGIN_X, self.y, PAGE_WIDTH - MARGIN_X, self.y, 0.3, RULE)
                )
            start += count
            if start < lines:
                self.new_page()
                if repeat is not None:
                    repeat()

    def _cells(
        self,
        cells: Sequence[Sequence[str]],
        xs: Sequence[float],
        cell_fonts: Sequence[_Font],
        leading: float,
        pad: float,
    ) -> None:
        top = self.y - pad
        ops = self.ops
        for x, lines, font in zip(xs, cells, cell_fonts, strict=False):
            y = top
            for line in lines:
                y -= leading
                if line:
                    ops.append((T_TEXT, font.name, font.size, x, y + 2.0, line, font.color))

    def signatures(self, block: Signatures) -> None:
        title = STYLES["bold"]
        body = STYLES["body"]
        flag = STYLES["flag"]
        indent = 10.0
        self.need(title.leading + body.leading * 2)
        self.y -= title.leading
        self.text(MARGIN_X, self.y + 2.2, block.title, title)
        if not block.lines:
            self.y -= body.leading
            self.text(MARGIN_X + indent, self.y + 2.2, "No signatures.", STYLES["muted"])
        for sig in block.lines:
            lines = [(line, body) for line in self.m.wrap(sig.text, body, CONTENT_WIDTH - indent)]
            if sig.status:
                lines += [
                    (line, flag) for line in self.m.wrap(sig.status, flag, CONTENT_WIDTH - indent)
                ]
            height = sum(f.leading for _, f in lines) + 3
            self.need(height)
            top = self.y
            for line, font in lines:
                self.need(font.leading)
                self.y -= font.leading
                self.text(MARGIN_X + indent, self.y + 2.2, line, font)
            self.ops.append((T_LINE, MARGIN_X + 3, top - 1, MARGIN_X + 3, self.y + 1, 1.6, GREY))
            self.y -= 3
        self.y -= 4


# ---------------------------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------------------------

HEAD_TITLE = _Font(fonts.SANS_BOLD, 8.0, 10.0)
HEAD_ID = _Font(fonts.SANS, 8.0, 10.0)
FOOT_HASH = _Font(fonts.MONO, 6.6, 8.0)
FOOT_TEXT = _Font(fonts.SANS, 6.6, 8.0, GREY)
FOOT_PAGE = _Font(fonts.SANS_BOLD, 8.0, 10.0)


class _Writer:
    """Writes pages as raw content-stream operators.

    Text goes through ReportLab's documented low-level route for embedded TrueType fonts
    (``font.splitString`` → ``font.getSubsetInternalName``, see ``reportlab.pdfbase.ttfonts``);
    the operators for a given string are cached, since batch records repeat the same units,
    sources and evaluations thousands of times.
    """

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.doc = canvas._doc
        self.escape = canvas._escape
        self.cache: dict[tuple[str, float, str], str] = {}

    def shown(self, name: str, size: float, text: str) -> str:
        key = (name, size, text)
        code = self.cache.get(key)
        if code is None:
            font = pdfmetrics.getFont(name)
            code = " ".join(
                f"{font.getSubsetInternalName(subset, self.doc)} {size:g} Tf ({self.escape(chunk)}) Tj"
                for subset, chunk in font.splitString(text, self.doc)
            )
            if len(text) <= 60:
                self.cache[key] = code
        return code

    def page(self, ops: Sequence[Op]) -> None:
        out: list[str] = ["q"]
        fill: RGB | None = None
        for op in ops:
            if op[0] == T_RECT:
                _, x, y, w, h, rgb = op
                if rgb != fill:
                    out.append(f"{rgb[0]:.3f} {rgb[1]:.3f} {rgb[2]:.3f} rg")
                    fill = rgb
                out.append(f"{x:.2f} {y:.2f} {w:.2f} {h:.2f} re f")
        stroke: tuple[RGB, float] | None = None
        for op in ops:
            if op[0] == T_LINE:
                _, x1, y1, x2, y2, width, rgb = op
                if (rgb, width) != stroke:
                    out.append(f"{rgb[0]:.3f} {rgb[1]:.3f} {rgb[2]:.3f} RG {width:g} w")
                    stroke = (rgb, width)
                out.append(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")
        out.append("BT")
        fill = None
        shown = self.shown
        for op in ops:
            if op[0] == T_TEXT:
                _, name, size, x, y, string, rgb = op
                if rgb != fill:
                    out.append(f"{rgb[0]:.3f} {rgb[1]:.3f} {rgb[2]:.3f} rg")
                    fill = rgb
                out.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm {shown(name, size, string)}")
        out.append("ET Q")
        self.c._code.append("\n".join(out))
        for op in ops:
            if op[0] == T_MARK:
                _, key, title, level, top = op
                self.c.bookmarkPage(key, fit="XYZ", top=top, left=0, zoom=0)
                self.c.addOutlineEntry(title, key, level=level, closed=level > 0)


def _furniture(w: _Writer, m: _Measure, report: Report, number: int, total: int) -> None:
    """Running header and footer: identity, page X of Y, the record's data hash."""
    ops: list[Op] = []
    top = PAGE_HEIGHT - 30
    identity_w = m.width(report.identity, HEAD_ID.name, HEAD_ID.size)
    identity_w = min(identity_w, CONTENT_WIDTH * 0.5)
    identity = m.fit(report.identity, HEAD_ID, CONTENT_WIDTH * 0.5)
    title = m.fit(report.title, HEAD_TITLE, CONTENT_WIDTH - identity_w - 12)
    ops.append((T_TEXT, HEAD_TITLE.name, HEAD_TITLE.size, MARGIN_X, top, title, BLACK))
    ops.append(
        (
            T_TEXT,
            HEAD_ID.name,
            HEAD_ID.size,
            PAGE_WIDTH - MARGIN_X - m.width(identity, HEAD_ID.name, HEAD_ID.size),
            top,
            identity,
            BLACK,
        )
    )
    ops.append((T_LINE, MARGIN_X, top - 5, PAGE_WIDTH - MARGIN_X, top - 5, 0.6, GREY))
    bottom = 36.0
    ops.append((T_LINE, MARGIN_X, bottom + 12, PAGE_WIDTH - MARGIN_X, bottom + 12, 0.6, GREY))
    page = f"Page {number} of {total}"
    page_w = m.width(page, FOOT_PAGE.name, FOOT_PAGE.size)
    ops.append(
        (
            T_TEXT,
            FOOT_PAGE.name,
            FOOT_PAGE.size,
            PAGE_WIDTH - MARGIN_X - page_w,
            bottom,
            page,
            BLACK,
        )
    )
    ops.append(
        (
            T_TEXT,
            FOOT_HASH.name,
            FOOT_HASH.size,
            MARGIN_X,
            bottom,
            f"Record data SHA-256 {report.record_sha256}",
            BLACK,
        )
    )
    footer = m.fit(f"{report.identity} · {report.generated}", FOOT_TEXT, CONTENT_WIDTH)
    ops.append((T_TEXT, FOOT_TEXT.name, FOOT_TEXT.size, MARGIN_X, bottom - 10, footer, GREY))
    w.page(ops)


# ---------------------------------------------------------------------------------------------
# PDF/A-2b identification
# ---------------------------------------------------------------------------------------------


class _Stamp:
    """ReportLab's document time stamp, set to the export time in UTC (Info and XMP agree)."""

    def __init__(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        self.t = when.timestamp()
        self.lt = when.timetuple()
        self.YMDhms = tuple(self.lt)[:6]
        self.dhh = 0
        self.dmm = 0
        self.tzname = "UTC"


def _icc_srgb() -> bytes:
    from PIL import ImageCms

    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _xmp(report: Report, created: datetime) -> str:
    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    keywords = ", ".join(report.keywords)
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(report.title)}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{escape(report.author)}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(report.subject)}</rdf:li></rdf:Alt></dc:description>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreateDate>{stamp}</xmp:CreateDate><xmp:ModifyDate>{stamp}</xmp:ModifyDate>
<xmp:MetadataDate>{stamp}</xmp:MetadataDate><xmp:CreatorTool>{escape(PRODUCER)}</xmp:CreatorTool>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>{escape(PRODUCER)}</pdf:Producer><pdf:Keywords>{escape(keywords)}</pdf:Keywords>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def _identify_pdfa(c: Canvas, report: Report, created: datetime) -> None:
    doc = c._doc
    doc._timeStamp = _Stamp(created)
    metadata = PDFStream(
        PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
        _xmp(report, created).encode("utf-8"),
        filters=[],
    )
    icc = PDFStream(PDFDictionary({"N": 3}), _icc_srgb())
    intent = PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString("sRGB IEC61966-2.1"),
            "Info": PDFString("sRGB IEC61966-2.1"),
            "DestOutputProfile": doc.Reference(icc),
        }
    )
    catalog = doc.Catalog
    catalog.Metadata = metadata
    catalog.OutputIntents = PDFArray([intent])
    catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    seconds: float


def render(report: Report, *, created: datetime | None = None, pdfa: bool = True) -> Rendered:
    """Lay ``report`` out and write the PDF; ``created`` is the export time (server clock)."""
    started = time.perf_counter()
    fonts.register()
    created = created or datetime.now(UTC)
    measure = _Measure()
    layout = _Layout(measure)
    for block in report.blocks:
        layout.block(block)
    pages = layout.pages
    if len(pages) > 1 and not pages[-1]:
        pages.pop()
    buffer = io.BytesIO()
    c = Canvas(
        buffer,
        pagesize=A4,
        pageCompression=1,
        initialFontName=fonts.SANS,
        initialFontSize=9,
        initialLeading=11.6,
    )
    c.setTitle(report.title)
    c.setAuthor(report.author)
    c.setSubject(report.subject)
    c.setCreator(PRODUCER)
    c.setProducer(PRODUCER)
    c.setKeywords(", ".join(report.keywords))
    if pdfa:
        _identify_pdfa(c, report, created)
    c.showOutline()
    total = len(pages)
    writer = _Writer(c)
    for number, ops in enumerate(pages, start=1):
        _furniture(writer, measure, report, number, total)
        writer.page(ops)
        c.showPage()
    c.save()
    return Rendered(buffer.getvalue(), total, time.perf_counter() - started)


def render_pdf(report: Report, *, created: datetime | None = None, pdfa: bool = True) -> bytes:
    return render(report, created=created, pdfa=pdfa).pdf


def render_plain_pages(pages: int, *, lines_per_page: int = 62, line: str = "") -> bytes:
    """The benchmark's reference: ReportLab drawing ``pages`` pages of plain text lines in the
    same embedded font, with the same compression, and nothing else."""
    fonts.register()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=fonts.SANS)
    text_line = line or (
        "Plain reference text line drawn with the same embedded font 0123456789 µg ±0.5 °C"
    )
    for page in range(pages):
        c.setFont(fonts.SANS, 8)
        for n in range(lines_per_page):
            c.drawString(MARGIN_X, CONTENT_TOP - n * 11.0, f"{page}.{n} {text_line}")
        c.showPage()
    c.save()
    return buffer.getvalue()


__all__ = ["Rendered", "render", "render_pdf", "render_plain_pages"]
