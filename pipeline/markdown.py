"""The issue's Markdown as a list of blocks: sections, headings, paragraphs, lists, quotes,
tables, and the producer's editorial marks.

markdown-it-py does the parsing; this module only walks its token stream. Each block keeps
two texts: `text`, plain display text (links as their anchor text, markers and HTML
dropped), and `source`, the inline Markdown as the voice's reader takes it (code in
backticks, links as [text](url), a line break as a newline, HTML comments left out).

HTML comments are never read; one that starts with `narrate:` or `say:` is an editorial
mark (see speech/editorial.py). Raw HTML blocks are read as their text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

MARK = re.compile(r"^\s*(narrate|say)\s*:\s*(.*?)\s*$", re.S | re.I)


@dataclass
class Link:
    text: str
    url: str


@dataclass
class Block:
    kind: str  # section | heading | paragraph | list | quote | table | mark
    text: str = ""
    items: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    level: int = 0  # a heading's level
    source: str = ""  # the inline Markdown for the voice (a list: its items')
    item_sources: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # a table's cells, header first
    verb: str = ""  # a mark's: "narrate" (a mode or a line) or "say" (a line)


def parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True, "html": True})
    # footnote references vanish from the text; their definitions end the issue as paragraphs
    return md.enable(["linkify", "table", "strikethrough"]).use(footnote_plugin)


def inline_text(token: Token, links: list[Link], keep_html: bool = False) -> str:
    """Plain text of an inline token: markers dropped, links kept as anchor text (and
    inline HTML dropped, or kept as the characters written with `keep_html`)."""
    kept = ("text", "code_inline", "html_inline") if keep_html else ("text", "code_inline")
    out: list[str] = []
    anchor_start: int | None = None
    href = ""
    for child in token.children or []:
        if child.type in kept:
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "link_open":
            anchor_start, href = len(out), str(child.attrs.get("href", ""))
        elif child.type == "link_close" and anchor_start is not None:
            anchor = "".join(out[anchor_start:]).strip()
            links.append(Link(text=anchor or href, url=href))
            if not anchor:
                out.append(href)
            anchor_start = None
    return " ".join("".join(out).split())


def _source_piece(child: Token) -> str:
    if child.type == "text":
        return child.content
    if child.type == "code_inline":
        return f"`{child.content}`"
    if child.type in ("softbreak", "hardbreak"):
        return "\n"
    if child.type == "link_open":
        return "["
    if child.type == "html_inline" and not child.content.startswith("<!--"):
        return child.content
    return ""


def inline_source(token: Token) -> str:
    """An inline token as Markdown for the voice: code in backticks, links as
    [text](url), line breaks as newlines; emphasis, images and HTML comments left out."""
    out: list[str] = []
    hrefs: list[str] = []
    for child in token.children or []:
        piece = _source_piece(child)
        if child.type == "link_open":
            hrefs.append(str(child.attrs.get("href", "")))
        elif child.type == "link_close":
            piece = f"]({hrefs.pop()})"
        out.append(piece)
    return "".join(out).strip()


def _collect_inline(tokens: list[Token], start: int, close: str) -> tuple[list[Token], int]:
    """Inline tokens of every paragraph between tokens[start] and its closing token."""
    texts: list[Token] = []
    depth, i = 0, start
    opener = tokens[start].type
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == opener:
            depth += 1
        elif tok.type == close:
            depth -= 1
            if depth == 0:
                return texts, i
        elif tok.type == "inline":
            texts.append(tok)
        i += 1
    return texts, i


@dataclass
class _Items:
    texts: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.texts.append("")
        self.sources.append("")

    def add(self, token: Token, links: list[Link]) -> None:
        self.texts[-1] = _join_sentences(self.texts[-1], inline_text(token, links))
        self.sources[-1] = _join_sentences(self.sources[-1], inline_source(token))


def _list_items(tokens: list[Token], start: int, links: list[Link]) -> tuple[_Items, int]:
    """Each top-level item's text; nested lists and paragraphs folded into their item."""
    close = tokens[start].type.replace("_open", "_close")
    items = _Items()
    depth, i = 0, start
    while i < len(tokens):
        tok = tokens[i]
        if tok.type.endswith("list_open"):
            depth += 1
        elif tok.type.endswith("list_close"):
            depth -= 1
            if depth == 0 and tok.type == close:
                return items, i
        elif tok.type == "list_item_open" and depth == 1:
            items.start()
        elif tok.type == "inline" and items.texts:
            items.add(tok, links)
        i += 1
    return items, i


def _join_sentences(first: str, second: str) -> str:
    if not first:
        return second
    if not second:
        return first
    sep = " " if first[-1] in ".!?:;…" else "; "
    return first + sep + second


def _list(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    links: list[Link] = []
    found, end = _list_items(tokens, i, links)
    kept = [(t, s) for t, s in zip(found.texts, found.sources, strict=True) if t]
    if not kept:
        return None, end
    texts, sources = [t for t, _ in kept], [s for _, s in kept]
    return Block("list", " ".join(texts), texts, links, source=" ".join(sources),
                 item_sources=sources), end


def _quote(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    links: list[Link] = []
    inlines, end = _collect_inline(tokens, i, "blockquote_close")
    text = source = ""
    for tok in inlines:
        text = _join_sentences(text, inline_text(tok, links))
        source = _join_sentences(source, inline_source(tok))
    return (Block("quote", text, [], links, source=source) if text else None), end


def _table(tokens: list[Token], i: int) -> tuple[Block | None, int]:
    """A table's rows of cells (the header row first), read row by row."""
    links: list[Link] = []
    rows: list[list[str]] = []
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline" and rows:
            rows[-1].append(inline_text(tokens[i], links))
        i += 1
    text = ". ".join(", ".join(c for c in row if c) for row in rows if any(row))
    return (Block("table", text, [], links, source=text, rows=rows) if text else None), i


def _heading(tokens: list[Token], i: int, section_level: int) -> Block:
    level = int(tokens[i].tag[1])
    links: list[Link] = []
    text = inline_text(tokens[i + 1], links)
    kind = "section" if level <= section_level else "heading"
    return Block(kind, text, [], links, level, source=inline_source(tokens[i + 1]))


class _HtmlText(HTMLParser):
    """The text of raw HTML, and its comments kept apart."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.comments: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def html_blocks(content: str) -> list[Block]:
    """A raw HTML block as blocks: its editorial marks, then its text as a paragraph.
    Other comments are dropped: they are notes to whoever edits the issue."""
    reader = _HtmlText()
    reader.feed(content)
    reader.close()
    out = [Block("mark", " ".join(m.group(2).split()), verb=m.group(1).lower())
           for comment in reader.comments if (m := MARK.match(comment))]
    text = " ".join("".join(reader.parts).split())
    return out + ([Block("paragraph", text, source=text)] if text else [])


def plain(markdown: str) -> str:
    """One line of inline Markdown as plain text: '*Odd* [x](u)' -> 'Odd x'; a '<b>'
    written in it stays as written, since titles are not HTML."""
    inline = parser().parseInline(markdown)
    return inline_text(inline[0], [], keep_html=True) if inline else markdown


def _is_title(tokens: list[Token], i: int, title: str | None) -> bool:
    """A leading `# Title` that repeats the issue's title: the intro already says it."""
    if title is None or tokens[i].tag != "h1" or i != 0:
        return False
    return plain(tokens[i + 1].content).casefold() == plain(title).casefold()


def _paragraph(tokens: list[Token], i: int) -> Block | None:
    links: list[Link] = []
    text = inline_text(tokens[i + 1], links)
    return Block("paragraph", text, [], links, source=inline_source(tokens[i + 1])) \
        if text else None


CONTAINERS = {"bullet_list_open": _list, "ordered_list_open": _list,
              "blockquote_open": _quote, "table_open": _table}


def _block_at(tokens: list[Token], i: int, section_level: int,
              title: str | None) -> tuple[list[Block], int]:
    """The blocks starting at tokens[i], and the index of their last token."""
    tok = tokens[i]
    if tok.type == "heading_open":
        return ([] if _is_title(tokens, i, title)
                else [_heading(tokens, i, section_level)]), i + 2
    if tok.type in CONTAINERS:
        block, end = CONTAINERS[tok.type](tokens, i)
        return ([block] if block else []), end
    if tok.type == "paragraph_open":
        block = _paragraph(tokens, i)
        return ([block] if block else []), i + 2
    if tok.type == "html_block":
        return html_blocks(tok.content), i
    return [], i


def blocks(markdown: str, title: str | None = None) -> list[Block]:
    """The document's blocks in reading order (a first `# heading` equal to `title` is
    left out)."""
    tokens = parser().parse(markdown)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    section_level = 2 if 2 in levels else min(levels, default=2)
    out: list[Block] = []
    i = 0
    while i < len(tokens):
        found, i = _block_at(tokens, i, section_level, title)
        out.extend(found)
        i += 1
    return out
