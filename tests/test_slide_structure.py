"""Slides keep the issue's structure: a `###` subsection starts a slide under its
subheading, no slide flashes by, and what is on screen is what is being read."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pipeline.episode import load_episode
from pipeline.formats import Segment, Slides, TimedSegment
from pipeline.stages import slides
from tests import structure_fixtures as digest
from tests.test_slides import assert_inside

MIN = 4.0
SHOW = "ML & AI Safety Updates"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_ROOT", str(digest.REPO))
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def theme(tmp_path: Path) -> slides.Theme:
    return slides.load_theme(load_episode(digest.make_episode(tmp_path)), 1920, 1080)


def minimum(theme: slides.Theme, seconds: float) -> slides.Theme:
    return replace(theme, layout={**theme.layout, "timing": {"min_seconds": seconds}})


def plan(pairs: list[tuple[Segment, TimedSegment]], theme: slides.Theme,
         duration: float = digest.DURATION) -> list[slides.Slide]:
    return slides.plan_slides(digest.script_file(pairs), digest.timeline_file(pairs, duration),
                              theme)


def assert_truthful(planned: list[slides.Slide], pairs) -> None:
    """Every slide on screen while a segment is read lists that segment."""
    for _, timed in pairs:
        on_screen = [s for s in planned if s.start < timed.end and timed.start < s.end]
        assert on_screen, timed.id
        for slide in on_screen:
            assert timed.id in slide.segments, (timed.id, slide.segments)


def assert_gapless(planned: list[slides.Slide], duration: float) -> None:
    assert planned[0].start == 0.0 and planned[-1].end == duration
    assert all(a.end == b.start for a, b in zip(planned, planned[1:], strict=False))


def test_theme_has_the_minimum_the_layout_sets(theme: slides.Theme) -> None:
    assert theme.min_seconds == MIN


def test_each_subsection_starts_a_slide_under_its_subheading(theme: slides.Theme) -> None:
    planned = plan(digest.PAIRS, theme)
    starts = {t.id: t.start for _, t in digest.PAIRS}
    body = [s for s in planned if s.kind == "section" and s.section == "research-digest"]
    for heading, subheading in digest.SUBSECTIONS.items():
        showing = [s for s in body if any(u.group.key == heading for u in s.units)]
        assert showing[0].start in (starts[heading], starts["research-digest/heading-1"])
        for slide in showing:
            assert [b.header for b in slide.blocks] == [subheading]  # nothing else on it
    interpretability = [s for s in body
                        if s.units[-1].group.key == "research-digest/heading-2"]
    assert len(interpretability) == 2  # a long subsection pages as before
    shown = [b for s in interpretability for block in s.blocks for b in block.bullets]
    assert shown == [slides.key_point(i) for i in digest.INTERPRETABILITY]
    assert [(s.page, s.pages) for s in body] == [(n, len(body)) for n in range(1, len(body) + 1)]
    assert_truthful(planned, digest.PAIRS)
    assert_gapless(planned, digest.DURATION)


def test_slides_json_and_images_keep_the_structure(tmp_path: Path) -> None:
    episode = load_episode(digest.make_episode(tmp_path / "ep"))
    manifest = slides.run(episode).manifest
    assert Slides.read(episode.build) == manifest
    entries = manifest.slides
    assert entries[0].start == 0.0 and entries[-1].end == digest.DURATION
    assert all(a.end == b.start for a, b in zip(entries, entries[1:], strict=False))
    assert all(e.end - e.start >= MIN for e in entries)
    subsections = [[sid for sid in e.segments if sid in digest.SUBSECTIONS] for e in entries]
    assert all(len(found) <= 1 for found in subsections)
    assert [e.segments for e in entries if "research-digest/heading-3" in e.segments] == [
        ["research-digest/heading-3", "research-digest/list-2"]]
    for entry in entries:
        with Image.open(episode.build / entry.file) as image:
            assert image.size == (1920, 1080)


def test_a_subheading_is_drawn_in_the_accent_colour_inside_its_box(
        theme: slides.Theme) -> None:
    slide = next(s for s in plan(digest.PAIRS, theme)
                 if "research-digest/heading-3" in s.segments)
    image, placed = slides.render_section(theme, slide, SHOW)
    assert_inside(image, placed)
    head = next(p for p in placed if p.lines and p.lines[0][0] == "Governance")
    top = theme.spec("section", "bullets").box.y
    assert head.lines[0][2] == top and head.size == theme.spec("section", "subheading").max
    strip = image.crop((head.box.x, head.box.y, head.box.right, head.box.bottom))
    accent = tuple(int(theme.color("accent")[i:i + 2], 16) for i in (1, 3, 5))
    assert sum(1 for px in strip.getdata() if px == accent) > 200
    bullets = [p for p in placed if p.size == theme.spec("section", "bullets").max]
    assert len(bullets) == len(digest.GOVERNANCE)
    assert all(b.box.y > head.box.bottom for b in bullets)


LONG = ["Researchers at three labs compared how often frontier models refuse harmless "
        "requests and found that refusals fell by half over the last year of releases.",
        "A survey of two thousand machine learning researchers puts the median forecast "
        "for human-level performance on most tasks about thirteen years earlier than before.",
        "The new open-weights model matches last year's frontier on coding benchmarks while "
        "using a fifth of the compute during training and a tenth at inference time.",
        "Regulators in three countries asked developers to report training runs above a "
        "compute threshold, and two of the largest developers agreed to do so voluntarily."]


def short_paragraph_episode() -> list[tuple[Segment, TimedSegment]]:
    """A section whose page is full when a 1.2 s paragraph comes, then a long one in the
    next section: paged by height alone, that paragraph would be a slide of its own."""
    return [
        digest.PAIRS[0],
        digest.seg("research-digest/heading-1", "Research digest 🚀", 8.7, 10.0),
        digest.seg("research-digest/paragraph-1", LONG[0], 10.6, 22.0),
        digest.seg("research-digest/paragraph-2", LONG[1], 22.6, 34.0),
        digest.seg("research-digest/paragraph-3", LONG[2], 34.6, 46.0),
        digest.seg("research-digest/paragraph-4", "That is all for research.", 46.6, 47.8),
        digest.seg("opportunities/heading-1", "Opportunities", 49.0, 50.0),
        digest.seg("opportunities/paragraph-1", LONG[3], 50.6, 62.0),
        digest.seg("outro/outro-1", "See you next week!", 63.2, 65.0),
    ]


def test_a_short_paragraph_shares_a_page_with_what_is_read_before_it(
        theme: slides.Theme) -> None:
    pairs = short_paragraph_episode()
    by_height = plan(pairs, minimum(theme, 0.0), 68.0)
    alone = next(s for s in by_height if s.segments == ["research-digest/paragraph-4"])
    assert alone.end - alone.start < MIN  # the flash this rule is for
    planned = plan(pairs, theme, 68.0)
    assert all(s.end - s.start >= MIN for s in planned)
    page = next(s for s in planned if "research-digest/paragraph-4" in s.segments)
    assert page.segments == ["research-digest/paragraph-3", "research-digest/paragraph-4"]
    assert [b.header for b in page.blocks] == [None]
    assert_truthful(planned, pairs)
    assert_gapless(planned, 68.0)
    for slide in planned[1:-1]:
        assert_inside(*slides.render_section(theme, slide, SHOW))


def short_subsection_episode() -> list[tuple[Segment, TimedSegment]]:
    """A 1.2 s subsection between two long ones."""
    return [
        *digest.PAIRS[:6],
        digest.seg("research-digest/heading-5", "Quick note", 76.6, 77.4),
        digest.seg("research-digest/paragraph-1", "Our hackathon moved to June.", 78.0, 79.2),
        *[digest.seg(s.id, s.display, t.start + 3.0, t.end + 3.0, s.items)
          for s, t in digest.PAIRS[6:]],
    ]


def test_a_short_subsection_joins_a_neighbour_under_its_own_subheading(
        theme: slides.Theme) -> None:
    pairs = short_subsection_episode()
    planned = plan(pairs, theme, digest.DURATION + 3.0)
    assert all(s.end - s.start >= MIN for s in planned)
    shared = next(s for s in planned if "research-digest/heading-5" in s.segments)
    headers = [b.header for b in shared.blocks]
    assert "Quick note" in headers and len(headers) == 2
    note = shared.blocks[headers.index("Quick note")]
    assert note.bullets == ["Our hackathon moved to June."]
    assert_truthful(planned, pairs)
    assert_gapless(planned, digest.DURATION + 3.0)
    assert_inside(*slides.render_section(theme, shared, SHOW))


def test_a_section_too_short_for_a_slide_shows_under_its_own_title(
        theme: slides.Theme) -> None:
    pairs = [*digest.PAIRS[:8],
             digest.seg("opportunities/heading-1", "Opportunities", 90.2, 91.0),
             digest.seg("opportunities/paragraph-1", "MATS is hiring.", 91.6, 92.8),
             digest.seg("outro/outro-1", "See you next week!", 94.0, 100.0)]
    planned = plan(pairs, theme, 101.0)
    assert all(s.end - s.start >= MIN for s in planned)
    shared = next(s for s in planned if "opportunities/paragraph-1" in s.segments)
    assert shared.section == "research-digest"
    assert [b.header for b in shared.blocks] == ["Benchmarks 📊", "Opportunities"]
    assert_truthful(planned, pairs)


def test_a_table_is_left_off_the_slides_but_keeps_its_time(theme: slides.Theme) -> None:
    table = Segment.model_construct(
        id="research-digest/table-1", kind="table", section="research-digest",
        section_index=1, display="Model Score GPT 1", spoken="", links=[], items=[])
    units = slides.segment_units(table, {table.id: (20.0, 25.0)})
    assert [(u.segment, u.start, u.text) for u in units] == [(table.id, 20.0, None)]
