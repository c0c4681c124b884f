"""A newsletter issue as real ones come: a contributor guide in an HTML comment, raw `<small>`
and `<br>`, a Markdown table, and a link digest of 300 links under ### subsections; and an
HTML reader for what the feed and the episode page publish."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

GUIDE = "Contributor guide"  # words of the comments, which must never be published
HIDDEN_URLS = ("https://example.org/contributor-guide", "https://example.org/hidden-note")
SUBSECTIONS = {"Interpretability": 12, "Evaluations": 60, "Governance": 80,
               "Forecasting": 48, "Robustness": 40, "Community": 60}  # 300 links
PROSE_URLS = ("https://sponsor.example/", "https://example.org/200-problems",
              "https://example.org/toy-models", "https://example.org/ccs",
              "https://example.org/hackathon")

HEAD = """\
<!--
Contributor guide (not for publication): add items as "- [Title](https://...): a sentence."
> Quote with > at the start of a line, like this.
Ask first: https://example.org/contributor-guide
-->

Welcome to this week's ML & AI Safety Updates! <small>Brought to you by
<a href="https://sponsor.example/">Sponsor Lab</a>.<br>Reply to unsubscribe.</small>

## Research

Neel Nanda has published [200 open problems](https://example.org/200-problems) in \
mechanistic interpretability. <!-- Contributor guide: is it > 200? See \
https://example.org/hidden-note --> The papers behind them:

| Paper | Lab | Link |
|:--|:--|--:|
| Toy models of superposition | Anthropic | [paper](https://example.org/toy-models) |
| Discovering latent knowledge | Berkeley | <https://example.org/ccs> |

## Link digest
"""

TAIL = """
## Opportunities

Apply to the [hackathon](https://example.org/hackathon) by Friday.
"""


def item_title(section: str, n: int) -> str:
    return f"{section} paper {n}"


def item_url(section: str, n: int) -> str:
    return f"https://digest.example/{section.lower()}/{n}"


def digest_body() -> str:
    parts = [HEAD]
    for section, count in SUBSECTIONS.items():
        parts.append(f"\n### {section}\n\n")
        parts += [f"- [{item_title(section, n)}]({item_url(section, n)}): what it found, "
                  "in one sentence.\n" for n in range(1, count + 1)]
    parts.append(TAIL)
    return "".join(parts)


def digest_urls() -> set[str]:
    return {item_url(s, n) for s, count in SUBSECTIONS.items()
            for n in range(1, count + 1)} | set(PROSE_URLS)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    text: str = ""
    children: list[Element] = field(default_factory=list)


VOID = {"br", "img", "hr", "meta", "link", "track", "source", "input", "wbr"}


class Html(HTMLParser):
    """Published HTML as a tree of elements, its visible text, and its comments."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Element("", {})
        self.elements: list[Element] = []
        self.comments: list[str] = []
        self.text = ""
        self._open = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while len(self._open) > 1:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text += data
        for element in self._open:
            element.text += data

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def find(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]

    def hrefs(self) -> set[str]:
        return {str(e.attrs["href"]) for e in self.find("a") if e.attrs.get("href")}

    @property
    def tags(self) -> set[str]:
        return {e.tag for e in self.elements}


TAG_TEXT = re.compile(r"<\s*/?\s*[a-zA-Z!]|&lt;|&gt;")


def tag_text(text: str) -> list[str]:
    """Pieces of visible text that look like HTML markup: escaped tags shown to a reader."""
    return TAG_TEXT.findall(text)
