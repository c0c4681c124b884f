"""The script stage on the sample issue and on Markdown it has never seen."""

from __future__ import annotations

import re

import pytest
from conftest import SEED

from pipeline.cli import main
from pipeline.episode import load_episode
from pipeline.formats import Script
from pipeline.stages.script import run, side_by_side
from tests import builders as build

FORBIDDEN = re.compile(r"[0-9*_#\[\]`]|https?:|www\.|\.(com|org|ai|net)\b")
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")


def test_sample_sections_in_order(project) -> None:
    script = run(load_episode(project.sample())).script
    body = [s.title for s in script.sections if s.kind == "body"]
    assert body == [
        "Mechanistic interpretability",
        "ML improving ML",
        "Aligned AGI vs. unaligned AGI",
        "Deep learning research and other news",
        "Opportunities",
    ]
    assert script.sections[0].kind == "intro"
    assert script.sections[-1].kind == "outro"
    assert [s.index for s in script.sections] == list(range(len(script.sections)))


def seed_sentences() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    out: list[str] = []
    for line in text.splitlines():
        out += [s for s in re.split(r"(?<=[.!?…])\s+", line.strip()) if s]
    return out


def test_every_sentence_of_the_issue_is_in_a_display_text(project) -> None:
    script = run(load_episode(project.sample())).script
    display = " ".join(seg.display for seg in script.segments)
    missing = [s for s in seed_sentences() if s not in display]
    assert len(seed_sentences()) > 60
    assert missing == []


def test_spoken_text_has_no_digits_urls_markers_or_emoji(project) -> None:
    script = run(load_episode(project.sample())).script
    for seg in script.segments:
        assert seg.spoken.strip(), seg.id
        assert not FORBIDDEN.search(seg.spoken), (seg.id, seg.spoken)
        assert not EMOJI.search(seg.spoken), seg.id
    spoken = " ".join(seg.spoken for seg in script.segments)
    assert "fifty thousand dollars" in spoken
    assert "two hundred open and concrete problems" in spoken


def test_segments_carry_links_and_list_items(project) -> None:
    script = run(load_episode(project.sample())).script
    news = [s for s in script.segments if s.section == "deep-learning-research-and-other-news"
            and s.kind == "list"]
    assert len(news) == 1 and len(news[0].items) == 8
    urls = [link.url for seg in script.segments for link in seg.links]
    assert "https://arxiv.org/abs/2202.05262" in urls
    rome = next(link for seg in script.segments for link in seg.links
                if link.url.endswith("2202.05262"))
    assert rome.text == "ROME paper"


def test_ids_unique_and_stable_across_an_edit(project) -> None:
    episode = project.sample()
    before = run(load_episode(episode)).script
    ids = [s.id for s in before.segments]
    assert len(ids) == len(set(ids))
    issue = episode / "issue.md"
    issue.write_text(issue.read_text().replace("massive list", "huge list"))
    after = run(load_episode(episode)).script
    assert [s.id for s in after.segments] == ids
    changed = [a.id for a, b in zip(after.segments, before.segments, strict=True)
               if a.spoken != b.spoken]
    assert changed == ["mechanistic-interpretability/paragraph-1"]


def test_intro_and_outro_from_the_show_templates(project) -> None:
    script = run(load_episode(project.sample())).script
    intro, outro = script.segments[0], script.segments[-1]
    assert intro.display.startswith("Welcome to ML & AI Safety Updates, episode 1: AI "
                                       "Improving Itself.")
    assert "YouTube and Spotify" in outro.display


def test_unseen_markdown(project) -> None:
    episode = project.episode("""\
        # Test Issue

        Quick notes 🚀 from the week — see https://www.lesswrong.com/posts/abc/x.

        ## Funding & jobs

        > “We raised $1.5M”, said the CEO.

        ### Deadlines

        1. Apply by March 3rd, 2024.
        2. Up to 40% off.

        ## Funding & jobs

        The *second* section has the same title (it happens).
        """)
    script = run(load_episode(episode)).script
    ids = [s.id for s in script.sections]
    assert ids == ["intro", "funding-jobs", "funding-jobs-2", "outro"]  # "# Test Issue": title
    kinds = [s.kind for s in script.segments]
    assert kinds.count("quote") == 1 and kinds.count("list") == 1
    for seg in script.segments:
        assert not FORBIDDEN.search(seg.spoken), seg.spoken
        assert not EMOJI.search(seg.spoken), seg.spoken


def test_twenty_thousand_words(project) -> None:
    para = ("In 2023, researchers at 12 labs spent $4.2M on 300 GPUs, e.g. for RLHF. " * 10)
    body = "".join(f"## Part {i}\n\n" + (para + "\n\n") * 10 for i in range(1, 16))
    episode = project.episode(body)
    script = run(load_episode(episode)).script
    words = sum(len(s.display.split()) for s in script.segments)
    assert words > 20_000
    assert len([s for s in script.sections if s.kind == "body"]) == 15


def test_cli_show_prints_side_by_side(project, capsys) -> None:
    episode = project.sample()
    main(["script", str(episode), "--show"])
    out = capsys.readouterr()
    assert "│" in out.out and "fifty thousand dollars" in out.out
    assert "segments in 5 sections" in out.out
    script = Script.read(episode / "build")
    assert script.episode.slug == "2023-01-06-ai-improving-itself"


@pytest.mark.parametrize("width", [60, 120])
def test_side_by_side_columns_fit(width: int) -> None:
    script = build.script([build.segment("a/paragraph-1", "word " * 50, "say " * 60)])
    lines = side_by_side(script, width).splitlines()
    assert all(len(line) <= width for line in lines)
    assert sum("│" in line for line in lines) >= 2


def test_the_intro_says_the_title_and_summary_without_markdown(project) -> None:
    front = ("---\ntitle: 'The *big* week'\nnumber: 2\ndate: 2024-05-17\n"
             "summary: 'Read [the paper](https://arxiv.org/abs/1).'\n---\n")
    episode = project.episode("# The big week\n\n## One\n\nText.\n", front=front)
    script = run(load_episode(episode)).script
    assert script.segments[0].display.endswith("episode 2: The big week. Read the paper.")
    assert [s.id for s in script.sections] == ["intro", "one", "outro"]


def test_title_and_summary_are_plain_text_everywhere(project) -> None:
    from pipeline.episode import load_episode

    front = ("---\ntitle: 'Odd: *everything* & <more> 🚀'\nnumber: 2\ndate: 2024-05-17\n"
             "summary: 'Read [the paper](https://arxiv.org/abs/1).'\n---\n")
    episode = load_episode(project.episode("Body.\n", front=front))
    assert episode.meta.title == "Odd: everything & <more> 🚀"
    assert episode.meta.summary == "Read the paper."


EDITED = """\
## Merged pull requests

<!-- narrate: Ninety-two pull requests were merged; they are in the show notes. -->

- [#1234 Fix the parser](https://github.com/x/y/pull/1234)
- [#1235 Faster builds](https://github.com/x/y/pull/1235)

## Upcoming Events

- Berlin, 2024-05-17: the Rust meetup

## Releases

| Crate | Version |
|---|---|
| serde | 1.0.200 |
"""


def test_what_is_narrated_is_in_the_script_and_nothing_is_lost(project, capsys) -> None:
    front = ("---\ntitle: Edited\nnumber: 4\ndate: 2024-05-17\nsummary: A test.\n"
             "narrate:\n  upcoming events: skip\n---\n")
    episode = project.episode(EDITED, front=front)
    script = run(load_episode(episode)).script
    by_id = {s.id: s for s in script.segments}
    merged = by_id["merged-pull-requests/list-1"]
    assert (merged.narration, merged.said) == (
        "summary", "Ninety-two pull requests were merged; they are in the show notes.")
    assert merged.spoken.startswith("Ninety-two pull requests were merged")
    assert merged.items == ["#1234 Fix the parser", "#1235 Faster builds"]  # still all there
    events = [s for s in script.segments if s.section == "upcoming-events"]
    assert [(s.narration, s.spoken) for s in events] == [("skip", ""), ("skip", "")]
    table = by_id["releases/table-1"]
    assert table.rows == [["Crate", "Version"], ["serde", "1.0.200"]]
    assert (table.narration, table.said) == ("summary", "A table of 1 row, in the show notes.")
    main(["script", str(episode), "--show"])
    out = capsys.readouterr().out
    assert "upcoming-events/list-1 (show notes only)" in out
    assert "merged-pull-requests/list-1 (summarised)" in out
    assert "0.0 min  Upcoming Events: 2 segments, 0 read, 0 summarised or shortened, 2 show " \
           "notes only" in out
