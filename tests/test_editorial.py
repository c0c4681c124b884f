"""What of an issue is narrated: the issue's marks, its front matter, the show's rules and
the defaults for long lists and tables, on issues written the way real newsletters are."""

from __future__ import annotations

import pytest

from pipeline.config import EditorialSettings
from pipeline.errors import PipelineError
from pipeline.markdown import blocks
from pipeline.speech.editorial import Editor, plan

DIGEST = """\
Hello and welcome.

## Crates of the week

<!-- narrate: titles -->

- [serde 1.0](https://serde.rs) is fast: a long note about it.
- A crate without a link: the item itself.

Some commentary nobody needs to hear.

## Merged pull requests

""" + "\n".join(f"- [PR #{n}](https://github.com/x/y/pull/{n}) fixes a thing" for n in range(30)) \
    + """

## Upcoming Events

### Europe

- Berlin meetup, 2024-05-17

### Asia

- Tokyo meetup

## Jobs

<!-- narrate: Three jobs this week, all in the show notes. -->

- job a
- job b

### Remote

More text under a subsection.

## Table

| Name | Stars |
|---|---|
| serde | 9k |
| tokio | 20k |

<!-- say: A short line instead. -->
A long paragraph that the producer replaced.
"""


def planned(markdown: str, settings: EditorialSettings | None = None,
            front: dict[str, str] | None = None) -> list[tuple[str, str, str, str | None]]:
    editor = Editor(settings or EditorialSettings(), front or {})
    return [(p.block.kind, p.block.text[:24], p.narration, p.said)
            for p in plan(blocks(markdown), editor)]


def test_a_digest_with_marks_rules_and_defaults() -> None:
    rules = EditorialSettings(rules={"upcoming *": "skip"})
    assert planned(DIGEST, rules) == [
        ("paragraph", "Hello and welcome.", "read", None),
        ("section", "Crates of the week", "read", None),
        ("list", "serde 1.0 is fast: a lon", "titles",
         "serde 1.0. A crate without a link: the item itself."),
        ("paragraph", "Some commentary nobody n", "skip", None),
        ("section", "Merged pull requests", "read", None),
        ("list", "PR #0 fixes a thing PR #", "summary", "30 items, listed in the show notes."),
        ("section", "Upcoming Events", "skip", None),
        ("heading", "Europe", "skip", None),
        ("list", "Berlin meetup, 2024-05-1", "skip", None),
        ("heading", "Asia", "skip", None),
        ("list", "Tokyo meetup", "skip", None),
        ("section", "Jobs", "read", None),
        ("list", "job a job b", "summary", "Three jobs this week, all in the show notes."),
        ("heading", "Remote", "skip", None),
        ("paragraph", "More text under a subsec", "skip", None),
        ("section", "Table", "read", None),
        ("table", "Name, Stars. serde, 9k. ", "summary", "A table of 2 rows, in the show notes."),
        ("paragraph", "A long paragraph that th", "replaced", "A short line instead."),
    ]


def test_without_rules_only_the_defaults_apply() -> None:
    found = {(kind, text): narration for kind, text, narration, _ in planned(DIGEST)}
    assert found[("section", "Upcoming Events")] == "read"
    assert found[("list", "Berlin meetup, 2024-05-1")] == "read"
    assert found[("list", "PR #0 fixes a thing PR #")] == "summary"  # 30 > long_list 20


def test_the_front_matter_comes_before_the_show_rules_and_a_mark_before_both() -> None:
    md = "## Jobs\n\n- a\n- b\n\n## Events\n\n<!-- narrate: read -->\n\n- x\n"
    show = EditorialSettings(rules={"Jobs": "skip", "Events": "skip"})
    result = planned(md, show, front={"jobs": "titles"})
    assert [(text, narration) for _, text, narration, _ in result] == [
        ("Jobs", "read"), ("a b", "titles"), ("Events", "read"), ("x", "read")]


def test_a_mark_just_before_a_heading_governs_its_section() -> None:
    md = ("Intro.\n\n<!-- narrate: skip -->\n\n## Events\n\n- x\n\n### More\n\nText.\n\n"
          "## Next\n\nRead.\n")
    assert [(text, narration) for _, text, narration, _ in planned(md)] == [
        ("Intro.", "read"), ("Events", "skip"), ("x", "skip"), ("More", "skip"),
        ("Text.", "skip"), ("Next", "read"), ("Read.", "read")]


def test_a_summarised_section_says_one_line_counting_everything_under_it() -> None:
    md = ("## Releases\n\n<!-- narrate: summary -->\n\nTwo paragraphs.\n\nOf text.\n\n"
          "### Patch\n\n- a\n- b\n- c\n")
    settings = EditorialSettings(summary="{heading}: {count} more items in the notes.")
    assert planned(md, settings) == [
        ("section", "Releases", "read", None),
        ("paragraph", "Two paragraphs.", "summary", "Releases: 5 more items in the notes."),
        ("paragraph", "Of text.", "skip", None), ("heading", "Patch", "skip", None),
        ("list", "a b c", "skip", None)]


@pytest.mark.parametrize(("mode", "expected"), [
    ("read", "read"), ("titles", "titles"), ("skip", "skip"), ("summary", "summary")])
def test_long_lists_follow_the_show_setting(mode: str, expected: str) -> None:
    md = "## Links\n\n" + "".join(f"- [link {n}](https://x.org/{n})\n" for n in range(5))
    settings = EditorialSettings(long_list=4, long_list_mode=mode)
    assert planned(md, settings)[1][2] == expected
    assert planned(md, EditorialSettings(long_list=5, long_list_mode=mode))[1][2] == "read"


def test_tables_can_be_read_or_left_to_the_show_notes() -> None:
    md = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert planned(md, EditorialSettings(tables="read"))[0][2] == "read"
    assert planned(md, EditorialSettings(tables="skip"))[0][2] == "skip"


def test_a_summary_template_with_an_unknown_name_is_one_line() -> None:
    md = "## A\n\n<!-- narrate: summary -->\n\nText.\n"
    with pytest.raises(PipelineError, match=r"editorial.summary.*\{items\}, \{rows\} and"):
        planned(md, EditorialSettings(summary="{total} items"))


def test_a_mark_no_block_follows_changes_nothing() -> None:
    assert planned("Text.\n\n<!-- narrate: skip -->\n") == [
        ("paragraph", "Text.", "read", None)]
