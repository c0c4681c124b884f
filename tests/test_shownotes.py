"""Show notes and the episode page from an issue as real ones come: what each place keeps of
raw HTML and tables, that comments never get out, and how cut notes end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import warm
from pipeline.publish import shownotes
from tests.digest_issue import (
    GUIDE,
    HIDDEN_URLS,
    PROSE_URLS,
    SUBSECTIONS,
    Html,
    digest_body,
    digest_urls,
    item_title,
    tag_text,
)

MORE = "https://example.org/issue/"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def notes() -> str:
    return shownotes.show_notes(digest_body(), MORE, "Read the full issue")


@pytest.fixture(scope="module")
def page() -> Html:
    return Html(shownotes.page_html(digest_body()))


def published(html: str) -> Html:
    parsed = Html(html)
    assert not tag_text(parsed.text), tag_text(parsed.text)
    assert not parsed.comments
    assert GUIDE not in html and not any(url in html for url in HIDDEN_URLS)
    return parsed


def test_notes_keep_only_the_tags_apple_documents(notes: str) -> None:
    parsed = published(notes)
    assert parsed.tags <= {"p", "ol", "ul", "li", "a", "strong", "em", "b", "i"}
    assert {key for a in parsed.find("a") for key in a.attrs} == {"href"}
    assert "Brought to you by\nSponsor Lab.\nReply to unsubscribe." in parsed.text
    assert "https://sponsor.example/" in parsed.hrefs()


def test_a_table_in_the_notes_is_its_header_and_a_list_of_rows(notes: str) -> None:
    parsed = published(notes)
    header = [p for p in parsed.find("p") if "Paper" in p.text]
    assert [p.text for p in header] == ["Paper · Lab · Link"]
    rows = [li.text for li in parsed.find("li") if "Anthropic" in li.text or "Berkeley" in li.text]
    assert rows == ["Toy models of superposition · Anthropic · paper",
                    "Discovering latent knowledge · Berkeley · https://example.org/ccs"]
    assert {"https://example.org/toy-models", "https://example.org/ccs"} <= parsed.hrefs()


def test_the_page_keeps_tables_small_print_and_headings(page: Html) -> None:
    assert not tag_text(page.text) and not page.comments
    assert GUIDE not in page.text and not page.hrefs() & set(HIDDEN_URLS)
    [table] = page.find("table")
    assert [th.text for th in page.find("th")] == ["Paper", "Lab", "Link"]
    assert [th.attrs.get("style") for th in page.find("th")] == [
        "text-align:left", "text-align:left", "text-align:right"]
    assert len(page.find("tr")) == 3 and "Toy models of superposition" in table.text
    [small] = page.find("small")
    assert [child.tag for child in small.children] == ["a", "br"]
    assert [h.text for h in page.find("h3")] == list(SUBSECTIONS)
    assert page.hrefs() == digest_urls()
    assert {a.attrs.get("rel") for a in page.find("a")} == {"noopener noreferrer"}


def test_cut_notes_end_with_what_was_left_out_and_where(notes: str) -> None:
    assert len(notes.encode()) <= 4000
    parsed = published(notes)
    closing = parsed.root.children[-1]
    kept = Html(notes[:notes.rindex("<p>")])
    shown = {li.text.split(":")[0] for li in kept.find("li")}
    headings = {strong.text for strong in kept.find("strong")}
    items = sum(item_title(s, n) not in shown
                for s, count in SUBSECTIONS.items() for n in range(1, count + 1))
    sections = sum(s not in headings for s in SUBSECTIONS) + 1  # and ## Opportunities
    links = len(digest_urls() - kept.hrefs())
    assert closing.tag == "p" and closing.text == (
        f"{sections} more sections, {items + 1} more items and {links} more links. "
        f"Read the full issue: {MORE}")
    assert [a.attrs["href"] for a in closing.children] == [MORE]
    assert items > 200 and sections >= 5 and links > 200
    assert set(PROSE_URLS) - {"https://example.org/hackathon"} <= kept.hrefs()
    assert kept.root.children[-1].tag == "ul"  # ends on digest items, not on a heading


LONG = "It keeps going without a full stop " * 120  # cannot be cut inside


@pytest.mark.parametrize("between", ["", "<!-- Contributor guide: fill > this in -->\n\n",
                                     "---\n\n"])
def test_cut_notes_never_end_on_a_heading_without_its_body(between: str) -> None:
    body = (f"## First\n\n{'Short and done. ' * 60}\n\n## Second\n\n{between}"
            f"### Second, part one\n\n{between}{LONG}\n\n## Third\n\nEnd.\n")
    notes = shownotes.show_notes(body, MORE, "More")
    parsed = published(notes)
    assert len(notes.encode()) <= 4000
    assert [p.text for p in parsed.find("strong")] == ["First"]
    assert parsed.root.children[-1].text == (
        f"3 more sections and 2 more items. More: {MORE}")


def test_a_cut_never_falls_inside_inline_html() -> None:
    guide = "Contributor guide sentence, keep it > short. " * 100
    body = (f"Lead sentence. <!-- {guide}--> After the comment. "
            f"<small>Small print. More small print.</small> {'More words here. ' * 300}\n")
    notes = shownotes.show_notes(body, MORE, "More")
    parsed = published(notes)
    assert len(notes.encode()) <= 4000
    assert parsed.text.startswith("Lead sentence.  After the comment. Small print.")


def test_whole_notes_of_a_short_issue_are_published_without_a_closing_line() -> None:
    body = ("<!-- Contributor guide: https://example.org/contributor-guide -->\n\n"
            "Hello <small>world</small>.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    notes = shownotes.show_notes(body, MORE, "More")
    assert notes == "<p>Hello world.</p>\n<p>a · b</p>\n<ul>\n<li>1 · 2</li>\n</ul>\n"
    published(notes)


def test_footnotes_are_notes_not_literal_marks() -> None:
    body = "Text with a note.[^1] More.\n\n[^1]: The note, with [a link](https://x.org).\n"
    page = shownotes.page_html(body)
    assert "[^1]" not in page and 'id="fn1"' in page and 'href="#fnref1"' in page
    notes = shownotes.show_notes(body, "https://example.org/issue/", "Read the full issue")
    assert "[^1]" not in notes and "The note, with" in notes


def test_the_warm_process_builds_what_the_first_notes_would() -> None:
    """In a fresh interpreter, as the warm process starts: its forks find emoji's search tree
    built (each review and script stage built it again otherwise)."""
    assert "pipeline.publish.shownotes" in warm.WARM_UPS
    code = ("import emoji.tokenizer as t\nfrom pipeline.publish import shownotes\n"
            "assert not t._SEARCH_TREE\nshownotes.warm()\nassert t._SEARCH_TREE")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
