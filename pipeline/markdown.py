"""The issue's Markdown as a list of blocks: sections, headings, paragraphs, lists, quotes.

markdown-it-py does the parsing; this module only walks its token stream and flattens
inline content into plain display text (links as their anchor text) plus the links.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin


@dataclass
class Link:
    text: str
    url: str


@dataclass
class Block:
    kind: str  # section | heading | paragraph | list | quote
    text: str = ""
    items: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    level: int = 0


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


def _collect_inline(tokens: list[Token], start: int, close: str) -> tuple[list[Token], int]:
    """Inline tokens of every paragraph/cell between tokens[start] and its closing token."""
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


def _list_items(tokens: list[Token], start: int, links: list[Link]) -> tuple[list[str], int]:
    """Each top-level item's text; nested lists and paragraphs folded into their item."""
    close = tokens[start].type.replace("_open", "_close")
    items: list[str] = []
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
            items.append("")
        elif tok.type == "inline" and items:
            text = inline_text(tok, links)
            items[-1] = _join_sentences(items[-1], text)
        i += 1
    return items, i


def _join_sentences(first: str, second: str) -> str:
    if not first:
        return second
    if not second:
        return first
    sep = " " if first[-1] in ".!?:;…" else "; "
    return first + sep + second


def _container(tokens: list[Token], i: int, kind: str) -> tuple[Block | None, int]:
    links: list[Link] = []
    if kind == "list":
        items, end = _list_items(tokens, i, links)
        items = [item for item in items if item]
        return (Block("list", " ".join(items), items, links) if items else None), end
    close = tokens[i].type.replace("_open", "_close")
    inlines, end = _collect_inline(tokens, i, close)
    texts = [inline_text(tok, links) for tok in inlines]
    text = ""
    for part in texts:
        text = _join_sentences(text, part)
    return (Block(kind, text, [], links) if text else None), end


def _heading(tokens: list[Token], i: int, section_level: int) -> Block:
    level = int(tokens[i].tag[1])
    links: list[Link] = []
    text = inline_text(tokens[i + 1], links)
    kind = "section" if level <= section_level else "heading"
    return Block(kind, text, [], links, level)


def _html_text(content: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


CONTAINERS = {
    "bullet_list_open": "list",
    "ordered_list_open": "list",
    "blockquote_open": "quote",
    "table_open": "paragraph",
}


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


def blocks(markdown: str, title: str | None = None) -> list[Block]:
    """The document's blocks in reading order (a first `# heading` equal to `title` is
    left out)."""
    tokens = parser().parse(markdown)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    section_level = 2 if 2 in levels else min(levels, default=2)
    out: list[Block] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        block: Block | None = None
        if tok.type == "heading_open" and _is_title(tokens, i, title):
            i += 2
        elif tok.type == "heading_open":
            block = _heading(tokens, i, section_level)
            i += 2
        elif tok.type in CONTAINERS:
            block, i = _container(tokens, i, CONTAINERS[tok.type])
        elif tok.type == "paragraph_open":
            links: list[Link] = []
            text = inline_text(tokens[i + 1], links)
            block = Block("paragraph", text, [], links) if text else None
            i += 2
        elif tok.type == "html_block":
            text = _html_text(tok.content)
            block = Block("paragraph", text) if text else None
        if block is not None:
            out.append(block)
        i += 1
    return out
