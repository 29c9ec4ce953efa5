"""What an exported record looks like on paper, as plain data (no Django, no ReportLab).

Builders (MBR, batch record, exception report) turn a record into a ``Report``: a title, the
record's identity for the running header, the hash of the record's data printed on every page,
and a sequence of blocks. ``render.render_pdf`` lays the blocks out.

Every text is drawn as given (no markup), so nothing a user typed can change the layout or
hide another value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Style = Literal["body", "small", "muted", "mono", "flag", "bold"]
Flag = Literal["", "excursion", "changed", "exception", "ok", "invalid"]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1 section, 2 subsection, 3 minor
    new_page: bool = False
    anchor: str = ""  # a named destination other parts of the PDF (or a URL #) can link to


@dataclass(frozen=True)
class Text:
    text: str
    style: Style = "body"


@dataclass(frozen=True)
class Fields:
    """Label → value pairs, one per line, labels in a narrow first column."""

    rows: Sequence[tuple[str, str]]
    flags: Sequence[Flag] = ()  # optional, one per row


@dataclass(frozen=True)
class Column:
    title: str
    weight: float = 1.0  # relative width
    mono: bool = False


@dataclass(frozen=True)
class Row:
    cells: Sequence[str]
    flag: Flag = ""


@dataclass(frozen=True)
class Table:
    """Rows split across pages; the column titles repeat at the top of each page."""

    columns: Sequence[Column]
    rows: Sequence[Row]
    caption: str = ""


@dataclass(frozen=True)
class SignatureLine:
    """One signature manifestation (21 CFR 11.50) as the signatures app renders it."""

    text: str
    status: str = ""  # empty when valid; otherwise why it no longer verifies


@dataclass(frozen=True)
class Signatures:
    lines: Sequence[SignatureLine]
    title: str = "Signatures"


@dataclass(frozen=True)
class PageBreak:
    pass


@dataclass(frozen=True)
class Spacer:
    height: float = 6.0  # points


Block = Heading | Text | Fields | Table | Signatures | PageBreak | Spacer


@dataclass(frozen=True)
class Report:
    title: str  # document title, also the PDF's metadata title
    identity: str  # running header: which record this page belongs to
    record_sha256: str  # printed on every page so a printout can be matched to the system
    generated: str  # "Exported <date-time with zone> by <name>"
    blocks: Sequence[Block]
    subject: str = ""
    author: str = "Galenic"
    keywords: Sequence[str] = field(default_factory=tuple)


__all__ = [
    "Block",
    "Column",
    "Fields",
    "Flag",
    "Heading",
    "PageBreak",
    "Report",
    "Row",
    "SignatureLine",
    "Signatures",
    "Spacer",
    "Style",
    "Table",
    "Text",
]
