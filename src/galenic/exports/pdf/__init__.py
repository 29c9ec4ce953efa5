"""PDF rendering of exported records: a pure layout model (``layout``) and its ReportLab
renderer (``render``). No Django import here; builders in ``galenic.exports`` feed it."""

from galenic.exports.pdf.layout import (
    Block,
    Column,
    Fields,
    Heading,
    PageBreak,
    Report,
    Row,
    SignatureLine,
    Signatures,
    Spacer,
    Table,
    Text,
)
from galenic.exports.pdf.render import Rendered, render, render_pdf, render_plain_pages

__all__ = [
    "Block",
    "Column",
    "Fields",
    "Heading",
    "PageBreak",
    "Rendered",
    "Report",
    "Row",
    "SignatureLine",
    "Signatures",
    "Spacer",
    "Table",
    "Text",
    "render",
    "render_pdf",
    "render_plain_pages",
]
