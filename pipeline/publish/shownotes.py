"""The issue as published text: the episode page's HTML, and the show notes the feed carries
within the 4,000 bytes Apple and Spotify accept.

Raw HTML written in the issue passes through nh3 (the ammonia sanitiser); HTML comments are
never published, nor are scripts and styles with their content. What each place keeps:

- The episode page: nh3's default tags (headings, tables, `small`, `br`, `sup`, images ...),
  links with rel="noopener noreferrer", and a table column's alignment.
- The show notes: Apple's documented tags (p, ol, ul, li, a with its href; Spotify shows the
  same) and the rich text of Markdown emphasis (strong, em, b, i). Any other tag is unwrapped
  to its text, never shown as escaped tag text; a `<br>` or the end of a block such as a cell
  or a div leaves a line break, so words stay apart. Headings become bold paragraphs. Neither
  app shows HTML tables, so a Markdown table becomes its header as a paragraph and one list
  item a row, cells joined by " · ".

Notes over the limit are cut after the last sentence, list item or block that fits, never
after a heading with no body under it, and end with a line saying what was left out and
where it is: "2 more sections, 12 more items and 40 more links. Read the full issue: <url>".

`episode_notes` puts the issue between what the feed says around it: the disclosure of a
synthetic voice first, and the chapters last as `00:00 Title` lines (Spotify and Apple take
chapters from timestamps in the show notes), one paragraph each, within the same limit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import emoji
import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import escape
from mdit_py_plugins.footnote import footnote_plugin

from pipeline.publish.chapterlist import Chapter
from pipeline.util.platforms import FEED_NOTES_MAX, NOTES_CHAPTER_TITLE_MAX
from pipeline.util.text import shorten

FEED_TAGS = {"p", "ol", "ul", "li", "a", "strong", "em", "b", "i"}
PAGE_ATTRIBUTES = {**nh3.ALLOWED_ATTRIBUTES,
                   "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "style"},
                   "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "style"},
                   # footnotes: a reference and its note link to each other
                   "sup": {*nh3.ALLOWED_ATTRIBUTES.get("sup", set()), "class"},
                   "li": {*nh3.ALLOWED_ATTRIBUTES.get("li", set()), "id"},
                   "a": {*nh3.ALLOWED_ATTRIBUTES.get("a", set()), "id"}}
# Ends of the tags the feed unwraps that stand for a break between words.
BREAKS = ("<br>", *(f"</{tag}>" for tag in (
    "div", "td", "th", "tr", "table", "caption", "blockquote", "pre", "dl", "dt", "dd",
    "figure", "figcaption", "details", "summary", "header", "footer", "article", "aside",
    "h1", "h2", "h3", "h4", "h5", "h6")))


def _table_row(self: Any, tokens: list[Token], idx: int, *_: Any) -> str:
    return "<p>" if tokens[idx - 1].type == "thead_open" else "<li>"


def _table_row_end(self: Any, tokens: list[Token], idx: int, *_: Any) -> str:
    return "</p>\n" if tokens[idx + 1].type == "thead_close" else "</li>\n"


def _table_cell(self: Any, tokens: list[Token], idx: int, *_: Any) -> str:
    return "" if tokens[idx - 1].type == "tr_open" else " · "


def _notes_rules(md: MarkdownIt) -> None:
    """Headings as bold paragraphs, tables as a header line and a list of rows."""
    md.add_render_rule("heading_open", lambda *_: "<p><strong>")
    md.add_render_rule("heading_close", lambda *_: "</strong></p>\n")
    for name in ("table_open", "table_close", "thead_open", "thead_close", "th_close",
                 "td_close"):
        md.add_render_rule(name, lambda *_: "")
    md.add_render_rule("tbody_open", lambda *_: "<ul>\n")
    md.add_render_rule("tbody_close", lambda *_: "</ul>\n")
    md.add_render_rule("tr_open", _table_row)
    md.add_render_rule("tr_close", _table_row_end)
    md.add_render_rule("th_open", _table_cell)
    md.add_render_rule("td_open", _table_cell)


def markdown(notes: bool = True) -> MarkdownIt:
    """CommonMark with raw HTML, tables and strikethrough; bare URLs become links. With
    `notes`, rendered for the show notes (headings and tables rewritten); else for the page.
    Either output goes through `notes_html` or `page_html` before it is published."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": True})
    md.enable(["linkify", "table", "strikethrough"]).use(footnote_plugin)
    if notes:
        _notes_rules(md)
    return md


def page_html(body: str) -> str:
    """The whole issue as the episode page shows it."""
    return nh3.clean(markdown(notes=False).render(body), attributes=PAGE_ATTRIBUTES,
                     filter_style_properties={"text-align"}).lstrip()


def notes_html(html: str) -> str:
    """Rendered HTML cut down to the tags the feed's show notes keep."""
    # ammonia writes every tag it keeps in one canonical form (`<br>`, `</td>`), so a line
    # break can follow the ones the second pass unwraps.
    tidy = nh3.clean(html, link_rel=None)
    for tag in BREAKS:
        tidy = tidy.replace(tag, tag + "\n")
    return nh3.clean(tidy, tags=FEED_TAGS, attributes={"a": {"href"}}, link_rel=None).lstrip()


SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*(?=\s|$)")


def _balanced(text: str) -> bool:
    return (text.count("[") == text.count("]") and text.count("(") == text.count(")")
            and text.count("`") % 2 == 0)


def _html_spans(md: MarkdownIt, paragraph: str) -> list[tuple[int, int]]:
    """Where the paragraph's inline HTML (tags, comments) lies: no cut falls inside one."""
    spans, cursor = [], 0
    for child in md.parseInline(paragraph)[0].children or []:
        start = paragraph.find(child.content, cursor) if child.type == "html_inline" else -1
        if start >= 0:
            cursor = start + len(child.content)
            spans.append((start, cursor))
    return spans


def _sentence_prefixes(md: MarkdownIt, head: str, paragraph: str) -> Iterator[str]:
    spans = _html_spans(md, paragraph)
    for match in SENTENCE_END.finditer(paragraph):
        end = match.end()
        piece = paragraph[:end]
        if _balanced(piece) and not any(start < end < stop for start, stop in spans):
            yield head + piece


def _has_text(html: str) -> bool:
    return bool(nh3.clean(html, tags=set()).strip())


def _after(token: Token, on_heading: bool) -> bool:
    """Whether the notes would end on a heading with no body after this top-level block."""
    if token.type == "heading_open":
        return True
    if token.type == "hr" or (token.type == "html_block" and not _has_text(token.content)):
        return on_heading
    return False


def cut_points(md: MarkdownIt, body: str, env: dict[str, Any]) -> Iterator[str]:
    """Prefixes of the Markdown that end at a sentence, a list item or a block, shortest
    first, none ending on a heading without its body. `env` collects the body's link
    reference definitions, for rendering a prefix."""
    lines = body.splitlines(keepends=True)
    on_heading = False
    for token in md.parse(body, env):
        if token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.level == 0:
            on_heading = _after(token, on_heading)
        if token.level == 0 and token.type == "paragraph_open":
            yield from _sentence_prefixes(md, "".join(lines[:start]), "".join(lines[start:end]))
        top_block = token.level == 0 and not token.type.endswith("list_open")
        if not on_heading and (top_block or (token.level == 1
                                             and token.type == "list_item_open")):
            yield "".join(lines[:end])


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.found.add(href)


def hrefs(html: str) -> set[str]:
    """The link targets in HTML."""
    parser = _Hrefs()
    parser.feed(html)
    parser.close()
    return parser.found


def _plural(count: int, noun: str) -> str:
    return f"{count} more {noun}{'' if count == 1 else 's'}"


def _listed(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class Outline:
    """What the whole issue holds, to say what a cut leaves out."""

    sections: list[int]  # the first line of each heading
    items: list[int]  # ... of each list item and top-level paragraph, table or quote
    links: set[str]  # every link target in the full notes

    @classmethod
    def of(cls, md: MarkdownIt, body: str, html: str) -> Outline:
        sections, items = [], []
        for token in md.parse(body):
            if token.map is None:
                continue
            if token.type == "heading_open":
                sections.append(token.map[0])
            elif token.type == "list_item_open" or (token.level == 0 and token.type in (
                    "paragraph_open", "table_open", "blockquote_open")):
                items.append(token.map[0])
        return cls(sections, items, hrefs(html))

    def left_out(self, prefix: str, kept: str) -> str:
        """'2 more sections, 12 more items and 40 more links', or '' if none is counted."""
        shown = len(prefix.splitlines())
        counts = ((sum(line >= shown for line in self.sections), "section"),
                  (sum(line >= shown for line in self.items), "item"),
                  (len(self.links - hrefs(kept)), "link"))
        parts = [_plural(count, noun) for count, noun in counts if count]
        return _listed(parts) if parts else ""


def closing_line(left_out: str, more_url: str, more_text: str) -> str:
    """The paragraph ending cut notes: what was left out, and the link to all of it."""
    url = escape(more_url)
    lead = f"{escape(left_out)}. " if left_out else ""
    return f'<p>{lead}{escape(more_text)}: <a href="{url}">{url}</a></p>\n'


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def show_notes(body: str, more_url: str, more_text: str, limit: int = FEED_NOTES_MAX) -> str:
    """The issue as the feed's HTML within `limit` bytes: whole if it fits, else cut after
    the last sentence, item or block that fits, then a line saying what was left out, with
    `more_text` and a link to the full issue."""
    md = markdown()
    html = notes_html(md.render(body))
    if _size(html) <= limit:
        return html
    outline = Outline.of(md, body, html)
    best, env = closing_line(outline.left_out("", ""), more_url, more_text), {}
    for prefix in cut_points(md, body, env):
        # The body's [text][ref] definitions may lie after the cut: render with them all.
        kept = notes_html(md.render(prefix, {"references": dict(env.get("references", {}))}))
        if _size(kept) > limit:
            break
        notes = kept + closing_line(outline.left_out(prefix, kept), more_url, more_text)
        if _size(notes) <= limit:
            best = notes
    return best


def notes_chapter_title(title: str) -> str:
    """A chapter title as Spotify wants it in show notes: plain text, no emoji, short."""
    return shorten(emoji.replace_emoji(title, replace=""), NOTES_CHAPTER_TITLE_MAX)


def chapters_html(chapters: list[Chapter], hours: bool) -> str:
    """`00:00 Title` lines, one paragraph each, under a bold "Chapters"; '' without any."""
    if not chapters:
        return ""
    lines = "".join(f"<p>{c.padded(hours)} {escape(c.title)}</p>\n" for c in chapters)
    return "<p><strong>Chapters</strong></p>\n" + lines


def episode_notes(body: str, more_url: str, more_text: str, disclosure: str = "",
                  chapters: str = "", limit: int = FEED_NOTES_MAX) -> str:
    """The show notes of an episode: the `disclosure` as the first paragraph, the issue cut
    to the room left, then the `chapters` HTML; all within `limit` bytes."""
    head = f"<p>{escape(disclosure)}</p>\n" if disclosure.strip() else ""
    room = limit - _size(head) - _size(chapters)
    return head + show_notes(body, more_url, more_text, room) + chapters


WARM_UP = "# A 🎙 heading\n\nA sentence with https://example.org. Another.\n\n| a | b |\n|---|---|\n"


def warm() -> None:
    """What the warm process (pipeline/warm.py) builds for its forks, as their first notes
    would: emoji's search tree and the patterns markdown-it and linkify compile (9 ms)."""
    show_notes(WARM_UP, "https://example.org/", "More", limit=60)
    page_html(WARM_UP)
    notes_chapter_title(WARM_UP)
