"""Step instructions: a safe Markdown subset, checked and rendered without any HTML passthrough.

Allowed: paragraphs, ``#``/``##``/``###`` headings, ``-``/``*`` and ``1.`` lists, ``**bold**``,
``*italic*``, ``` `code` ```, links to ``https:``/``http:`` or ``attachment:``, and images that are
attachments of the master record: ``![Granulator set-up](attachment:hsg_setup)``.
Refused: raw HTML, images from anywhere else, other link schemes (``javascript:``, ``data:``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?]")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)\)")
_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]*)\)")
_ATTACHMENT = re.compile(r"^attachment:([a-z][a-z0-9_]{0,63})$")


def problems(text: str, attachment_ids: Iterable[str]) -> list[str]:
    """Every reason the text is not acceptable (empty list: fine)."""
    known = set(attachment_ids)
    found: list[str] = []
    if _HTML.search(text):
        found.append("raw HTML is not allowed in instructions; use Markdown")
    for _alt, target in _IMAGE.findall(text):
        match = _ATTACHMENT.match(target)
        if not match:
            found.append(f"image {target!r} must be an attachment of this record (attachment:id)")
        elif match.group(1) not in known:
            found.append(f"image refers to unknown attachment {match.group(1)!r}")
    for _label, target in _LINK.findall(text):
        match = _ATTACHMENT.match(target)
        if match:
            if match.group(1) not in known:
                found.append(f"link refers to unknown attachment {match.group(1)!r}")
        elif not re.match(r"^https?://[^\s<>\"']+$", target):
            found.append(f"link {target!r} must be https:, http: or attachment:")
    return found


def attachments_used(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"\]\(attachment:([a-z][a-z0-9_]{0,63})\)", text)]


def _inline(text: str, attachment_url: Callable[[str], str]) -> str:
    """Escape first, then turn the few Markdown constructs into tags."""
    out = html.escape(text, quote=True)

    def image(m: re.Match[str]) -> str:
        target = _ATTACHMENT.match(html.unescape(m.group(2)))
        if not target:
            return ""
        src = html.escape(attachment_url(target.group(1)), quote=True)
        return f'<img src="{src}" alt="{m.group(1)}">'

    def link(m: re.Match[str]) -> str:
        raw = html.unescape(m.group(2))
        target = _ATTACHMENT.match(raw)
        if target:
            href = attachment_url(target.group(1))
        elif re.match(r"^https?://[^\s<>\"']+$", raw):
            href = raw
        else:
            return m.group(1)
        return f'<a href="{html.escape(href, quote=True)}" rel="noopener">{m.group(1)}</a>'

    out = _IMAGE.sub(image, out)
    out = _LINK.sub(link, out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)", r"<em>\1</em>", out)
    return out


def to_html(text: str, attachment_url: Callable[[str], str] = lambda i: f"attachment:{i}") -> str:
    """Render the subset to HTML. Everything the author wrote is escaped; only our own tags
    are emitted, so the result is safe to mark as safe in a template."""
    blocks: list[str] = []
    list_kind = ""
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append(f"<p>{' '.join(paragraph)}</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_kind
        if list_kind:
            blocks.append(f"</{list_kind}>")
            list_kind = ""

    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            flush_paragraph()
            close_list()
            continue
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        bullet = re.match(r"^[-*]\s+(.*)$", line)
        numbered = re.match(r"^\d+[.)]\s+(.*)$", line)
        if heading:
            flush_paragraph()
            close_list()
            level = len(heading.group(1)) + 2  # h3..h5 inside a step card
            blocks.append(f"<h{level}>{_inline(heading.group(2), attachment_url)}</h{level}>")
        elif bullet or numbered:
            flush_paragraph()
            kind = "ul" if bullet else "ol"
            if list_kind != kind:
                close_list()
                blocks.append(f"<{kind}>")
                list_kind = kind
            item = (bullet or numbered).group(1)  # type: ignore[union-attr]
            blocks.append(f"<li>{_inline(item, attachment_url)}</li>")
        else:
            close_list()
            paragraph.append(_inline(line, attachment_url))
    flush_paragraph()
    close_list()
    return "\n".join(blocks)
