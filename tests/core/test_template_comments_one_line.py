"""Django's ``{# #}`` comments end at the line's end: one spread over two lines is shown to the
user as text. Longer notes use ``{% comment %}``."""

from __future__ import annotations

from pathlib import Path

import galenic

ROOT = Path(galenic.__file__).parent


def test_no_template_comment_spans_lines():
    broken = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted(ROOT.rglob("templates/**/*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert broken == []
