"""Three real-shaped newsletters nobody here would write for a demo, built end to end with
make as a producer builds them: a software project's weekly (a link digest with
subsections, a 92-item pull-request list, a table, an events calendar, a contributor
guide in an HTML comment), a research digest (numbers, versions, code, a table) and a
community newsletter (handles, dates, emoji, a titles-only event list)."""

from __future__ import annotations

import html
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
import webvtt
from conftest import REPO
from test_make import make

from pipeline.formats import QA, Script, Slides, Timeline

pytestmark = pytest.mark.slow

DATA = Path(__file__).with_name("data") / "newsletters"
ISSUES = {"2024-05-15-rust-weekly-512": "rust-weekly.md",
          "2024-07-26-model-notes-47": "research-digest.md",
          "2024-05-31-fediverse-python-may": "community-news.md"}
RUST, RESEARCH, COMMUNITY = ISSUES
FORBIDDEN = re.compile(r"[0-9*_#\[\]`<>]|https?:|www\.|\.(com|org|io|rs|social)\b")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A show that keeps "Upcoming Events" to the show notes, and the three issues built
    with `make -j2 all` and `make feed`."""
    root = tmp_path_factory.mktemp("newsletters")
    shutil.copytree(REPO / "assets", root / "assets")
    show = root / "assets" / "show.toml"
    show.write_text(show.read_text(encoding="utf-8").replace(
        "rules = {}", 'rules = { "Upcoming Events" = "skip" }'), encoding="utf-8")
    for slug, name in ISSUES.items():
        (root / "episodes" / slug).mkdir(parents=True)
        shutil.copy(DATA / name, root / "episodes" / slug / "issue.md")
    for target in ("all", "feed"):
        result = make(root, "-j2", target)
        assert result.returncode == 0, result.stderr[-3000:]
    return root


def build(project: Path, slug: str) -> Path:
    return project / "episodes" / slug / "build"


def captions(project: Path, slug: str) -> str:
    cues = webvtt.read(str(build(project, slug) / "captions.vtt"))
    return html.unescape(" ".join(cue.text.replace("\n", " ") for cue in cues))


def test_every_spoken_text_means_what_it_says(project: Path) -> None:
    for slug in ISSUES:
        script = Script.read(build(project, slug))
        for segment in script.segments:
            assert not FORBIDDEN.search(segment.spoken), (segment.id, segment.spoken)
            assert segment.narrated or segment.spoken == ""


def test_technical_text_is_read_so_that_it_means_what_it_says(project: Path) -> None:
    spoken = " ".join(s.spoken for s in Script.read(build(project, RUST)).segments)
    for reading in ("minus zero point five percent", "plus twelve percent", "B to B",
                    "r slash rust", "dash dash retries", "i six eighty-six",
                    "twirl at hachyderm dot io", "commits one D five two nine zero zero to",
                    "one point seventy-eight point zero"):
        assert reading in spoken, reading
    assert "fifty-two thousand" not in spoken  # a commit range is no number
    assert "I am stubborn too" in spoken  # a wrapped line is no sentence end


def test_the_weekly_narrates_a_quarter_of_itself_and_loses_nothing(project: Path) -> None:
    script = Script.read(build(project, RUST))
    timeline = Timeline.read(build(project, RUST))
    narrated = {s.id for s in timeline.sections}
    assert "upcoming-events" not in narrated  # the show's rule: show notes only
    prs = next(s for s in script.segments if s.section == "updates-from-the-rust-project"
               and s.kind == "list")
    assert (prs.narration, len(prs.items)) == ("summary", 92)
    assert prs.said == "92 items, listed in the show notes."
    assert "92 items, listed in the show notes." in captions(project, RUST)
    table = next(s for s in script.segments if s.kind == "table")
    assert table.narration == "summary" and len(table.rows) == 4
    heard = captions(project, RUST)
    assert "Berlin" not in heard and "Compiler fix number" not in heard
    assert timeline.duration < 4 * 60  # about two minutes of a nine-minute issue


def test_nothing_of_the_contributor_guide_is_read_or_published(project: Path) -> None:
    script = Script.read(build(project, RUST))
    assert not any("CONTRIBUTING" in s.display + s.spoken for s in script.segments)
    page = (project / "public" / RUST / "index.html").read_text(encoding="utf-8")
    feed = (project / "public" / "feed.xml").read_text(encoding="utf-8")
    for published in (page, feed):
        assert "CONTRIBUTING" not in published and "&lt;!--" not in published
    assert "<table>" in page  # the triage table, as a table on the episode page


def test_the_feed_parses_and_each_item_keeps_to_the_limits(project: Path) -> None:
    parsed = feedparser.parse((project / "public" / "feed.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == 3
    for entry in parsed.entries:
        notes = entry.summary
        assert len(notes.encode("utf-8")) <= 4000
        assert "&lt;" not in notes and not re.search(r"<(small|table|!--)", notes)
    ET.parse(project / "public" / "feed.xml")


def test_slides_show_the_subsections_and_stay_long_enough(project: Path) -> None:
    slides = Slides.read(build(project, RUST)).slides
    subsections = [s for s in slides if any("/heading-" in seg for seg in s.segments)]
    assert len(subsections) >= 3
    short = [s for s in slides[:-1] if s.end - s.start < 4.0]
    assert short == []


def test_captions_keep_the_issues_words_and_the_model_heard_most(project: Path) -> None:
    for slug in ISSUES:
        qa = QA.read(build(project, slug))
        assert qa.corrected_wer <= 0.05, (slug, qa.corrected_wer)
        assert qa.raw_wer <= 0.35, (slug, qa.raw_wer)
        assert qa.cue_rule_violations == []


def test_the_community_issue_reads_its_events_as_titles(project: Path) -> None:
    script = Script.read(build(project, COMMUNITY))
    events = next(s for s in script.segments if s.section == "meetups-and-events"
                  and s.kind == "list")
    assert events.narration == "titles"
    assert events.said.startswith("PyLadies Berlin: June meetup. Python Ireland: Pub Talks.")
    calendar = [s for s in script.segments if s.section == "upcoming-events"]
    assert calendar and all(s.narration == "skip" for s in calendar)


def test_the_research_digest_leaves_code_out_and_reads_numbers(project: Path) -> None:
    script = Script.read(build(project, RESEARCH))
    spoken = " ".join(s.spoken for s in script.segments)
    assert "flash_attn_func" not in spoken and "import torch" not in spoken
    assert "seventy-three point zero" in spoken or "seventy-three" in spoken
    review = (build(project, RESEARCH) / "review.html").read_text(encoding="utf-8")
    assert "min narrated" in review
