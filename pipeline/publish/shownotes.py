"""Show notes: the issue as HTML within the 4,000 bytes Apple and Spotify accept, cut after
the last whole sentence that fits and followed by a link to the full issue."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import escape

from pipeline.util.platforms import FEED_NOTES_MAX


def markdown() -> MarkdownIt:
    """CommonMark without raw HTML; bare URLs become links."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable("linkify")
    # Apple's show notes allow p, ol, ul, li and a: headings become bold paragraphs.
    md.add_render_rule("heading_open", lambda *_: "<p><strong>")
    md.add_render_rule("heading_close", lambda *_: "</strong></p>\n")
    return md


SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*(?=\s|$)")


def _balanced(text: str) -> bool:
    return (text.count("[") == text.count("]") and text.count("(") == text.count(")")
            and text.count("`") % 2 == 0)


def _sentence_prefixes(head: str, paragraph: str) -> Iterator[str]:
    for match in SENTENCE_END.finditer(paragraph):
        piece = paragraph[: match.end()]
        if _balanced(piece):
            yield head + piece


def cut_points(md: MarkdownIt, body: str, env: dict[str, Any]) -> Iterator[str]:
    """Prefixes of the Markdown that end at a sentence, a list item or a block, shortest first.
    `env` collects the body's link reference definitions, for rendering a prefix."""
    lines = body.splitlines(keepends=True)
    for token in md.parse(body, env):
        if token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.level == 0 and token.type == "paragraph_open":
            yield from _sentence_prefixes("".join(lines[:start]), "".join(lines[start:end]))
        top_block = token.level == 0 and not token.type.endswith("list_open")
        if top_block or (token.level == 1 and token.type == "list_item_open"):
            yield "".join(lines[:end])


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def show_notes(body: str, more_url: str, more_text: str, limit: int = FEED_NOTES_MAX) -> str:
    """The issue as HTML within `limit` bytes: whole if it fits, else cut after the last
    sentence that fits, followed by a link to the full issue."""
    md = markdown()
    html = md.render(body)
    if _size(html) <= limit:
        return html
    more = f'<p><a href="{escape(more_url)}">{escape(more_text)}</a></p>\n'
    budget = limit - _size(more)
    best, env = "", {}
    for prefix in cut_points(md, body, env):
        # The body's [text][ref] definitions may lie after the cut: render with them all.
        candidate = md.render(prefix, {"references": dict(env.get("references", {}))})
        if _size(candidate) > budget:
            break
        best = candidate
    return best + more
