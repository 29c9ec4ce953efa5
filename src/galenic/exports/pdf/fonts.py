"""The fonts every exported PDF embeds: DejaVu Sans (Latin incl. µ ° ± ≤ ≥ and more) and DejaVu
Sans Mono for hashes. The TTF files ship with Galenic (``exports/fonts``, licence beside them), so
a clean checkout renders the same PDF on any machine; ReportLab embeds the used subset.

Widths are looked up per character from a table cached once per font, which is what makes
laying out tens of thousands of table cells fast (see ``render._Measure``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"

SANS = "GalenicSans"
SANS_BOLD = "GalenicSans-Bold"
SANS_OBLIQUE = "GalenicSans-Oblique"
MONO = "GalenicMono"

FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    SANS_OBLIQUE: "DejaVuSans-Oblique.ttf",
    MONO: "DejaVuSansMono.ttf",
}

_lock = threading.Lock()
_registered = False


def register() -> None:
    """Register the embedded fonts with ReportLab (once per process)."""
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        for name, filename in FILES.items():
            path = FONT_DIR / filename
            if not path.is_file():
                raise FileNotFoundError(f"font file missing from the installation: {path}")
            pdfmetrics.registerFont(TTFont(name, str(path)))
        pdfmetrics.registerFontFamily(
            SANS, normal=SANS, bold=SANS_BOLD, italic=SANS_OBLIQUE, boldItalic=SANS_BOLD
        )
        _registered = True


def char_widths(name: str) -> tuple[dict[int, int], int]:
    """(code point → advance width in 1/1000 em, default width) for a registered font."""
    register()
    face = pdfmetrics.getFont(name).face
    return dict(face.charWidths), int(face.defaultWidth)


__all__ = [
    "FILES",
    "FONT_DIR",
    "MONO",
    "SANS",
    "SANS_BOLD",
    "SANS_OBLIQUE",
    "char_widths",
    "register",
]
