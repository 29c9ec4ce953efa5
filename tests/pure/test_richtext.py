"""Step instructions: the safe Markdown subset is checked and rendered with everything escaped."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from galenic.recipes.document.richtext import attachments_used, problems, to_html


def url(attachment_id: str) -> str:
    return f"/files/{attachment_id}"


def test_subset_renders() -> None:
    html = to_html(
        "# Set-up\nFit the **impeller** and *chopper*.\n\n- one\n- two\n\n1. first\n2. second\n\n"
        "![HSG](attachment:hsg_setup) see [SOP](https://example.org/sop) and `code`",
        url,
    )
    assert "<h3>Set-up</h3>" in html
    assert "<strong>impeller</strong>" in html
    assert "<em>chopper</em>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html
    assert '<img src="/files/hsg_setup" alt="HSG">' in html
    assert '<a href="https://example.org/sop" rel="noopener">SOP</a>' in html
    assert "<code>code</code>" in html


def test_html_is_refused_by_the_check_and_escaped_by_the_renderer() -> None:
    hostile = 'Stir <script>alert("x")</script> <img src=x onerror=alert(1)>'
    assert problems(hostile, []) == ["raw HTML is not allowed in instructions; use Markdown"]
    html = to_html(hostile, url)
    assert "<script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_only_attachment_images_and_safe_links() -> None:
    assert problems("![x](https://evil.example/x.png)", ["a"]) == [
        "image 'https://evil.example/x.png' must be an attachment of this record (attachment:id)"
    ]
    assert problems("[x](javascript:alert(1))", []) != []
    assert problems("![x](attachment:nope)", ["a"]) == ["image refers to unknown attachment 'nope'"]
    assert problems("![x](attachment:a) [y](attachment:a)", ["a"]) == []
    assert attachments_used("![x](attachment:a) [y](attachment:b)") == ["a", "b"]
    assert "javascript" not in to_html("[x](javascript:alert(1))", url).split(">")[0]


@given(st.text(max_size=200))
def test_rendering_never_emits_foreign_tags_or_unsafe_urls(text: str) -> None:
    html = to_html(text, url)
    allowed = {"p", "h3", "h4", "h5", "ul", "ol", "li", "strong", "em", "code", "a", "img"}
    assert set(re.findall(r"</?([a-zA-Z0-9]+)", html)) <= allowed
    for target in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert target.startswith(("https://", "http://", "/files/"))
