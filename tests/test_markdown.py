"""The Markdown walker: blocks in reading order from a real parser's tokens."""

from __future__ import annotations

from pipeline.markdown import blocks


def kinds(markdown: str) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in blocks(markdown)]


def test_sections_paragraphs_lists_quotes() -> None:
    md = (
        "Intro *text*.\n\n## First\n\nA **bold** claim with `code`.\n\n"
        "- one\n- two [link](https://a.example/x)\n\n> A quote\n> continues.\n\n"
        "## Second\n\n1. first\n2. second\n"
    )
    assert kinds(md) == [
        ("paragraph", "Intro text."),
        ("section", "First"),
        ("paragraph", "A bold claim with code."),
        ("list", "one two link"),
        ("quote", "A quote continues."),
        ("section", "Second"),
        ("list", "first second"),
    ]


def test_links_keep_anchor_text_and_urls() -> None:
    [block] = blocks("Read [the paper](https://arxiv.org/abs/1) and https://example.org/a.\n")
    assert block.text == "Read the paper and https://example.org/a."
    assert [(link.text, link.url) for link in block.links] == [
        ("the paper", "https://arxiv.org/abs/1"),
        ("https://example.org/a", "https://example.org/a"),
    ]


def test_subheadings_stay_inside_sections_and_h1_sections_without_h2() -> None:
    assert [b.kind for b in blocks("## S\n\n### Sub\n\nText\n")] == ["section", "heading",
                                                                      "paragraph"]
    assert [b.kind for b in blocks("# One\n\nText\n\n# Two\n\nMore\n")] == [
        "section", "paragraph", "section", "paragraph"]


def test_list_items_fold_nested_lists_and_paragraphs() -> None:
    md = "- Item one\n  - nested a\n  - nested b\n- Item two.\n\n  Second paragraph.\n"
    [block] = blocks(md)
    assert block.items == ["Item one; nested a; nested b", "Item two. Second paragraph."]


def test_code_blocks_rules_and_images_are_not_narrated() -> None:
    md = "Before.\n\n```python\nx = 1\n```\n\n---\n\n![alt](img.png)\n\nAfter.\n"
    assert kinds(md) == [("paragraph", "Before."), ("paragraph", "After.")]


def test_html_and_tables_become_text() -> None:
    md = "<div><p>Hello &amp; <b>bye</b></p></div>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert kinds(md) == [("paragraph", "Hello & bye"), ("table", "a, b. 1, 2")]
    assert blocks(md)[1].rows == [["a", "b"], ["1", "2"]]


def test_comments_are_never_read_and_marks_are_kept_apart() -> None:
    md = ("Before.\n\n<!-- A guide for contributors: use > and [links](https://x.org) -->\n\n"
          "<!-- narrate: skip -->\n\n<!--\nsay: Ninety-two pull\nrequests.\n-->\n\nAfter.\n")
    found = blocks(md)
    assert [(b.kind, b.text, b.verb) for b in found] == [
        ("paragraph", "Before.", ""), ("mark", "skip", "narrate"),
        ("mark", "Ninety-two pull requests.", "say"), ("paragraph", "After.", "")]
    assert "guide" not in " ".join(b.text + b.source for b in found)


def test_the_voice_gets_the_inline_markdown_source() -> None:
    md = ("Run `cargo build --release`, see [the notes](https://x.org/n).\n"
          "Next line <!-- hidden --> <small>small</small>\n\n- `a::b` and [c](https://c)\n")
    paragraph, items = blocks(md)
    assert paragraph.text == "Run cargo build --release, see the notes. Next line small"
    assert paragraph.source == ("Run `cargo build --release`, see [the notes](https://x.org/n)."
                                "\nNext line  <small>small</small>")
    assert items.item_sources == ["`a::b` and [c](https://c)"]


def test_a_leading_title_heading_is_left_out_and_footnotes_read_at_the_end() -> None:
    md = "# My *Issue*\n\nIntro.[^n]\n\n## Section\n\nText.\n\n[^n]: The note.\n"
    assert kinds(md) == [("section", "My Issue"), ("paragraph", "Intro."),
                         ("section", "Section"), ("paragraph", "Text."),
                         ("paragraph", "The note.")]
    assert [b.text for b in blocks(md, title="My Issue")][:2] == ["Intro.", "Section"]
    assert [b.text for b in blocks(md, title="Another title")][0] == "My Issue"


def test_plain_inline_text() -> None:
    from pipeline.markdown import plain

    assert plain("*Odd* title with [a link](https://x.example) & `code`") == (
        "Odd title with a link & code")
