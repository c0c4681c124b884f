"""Slides: fitted text, paging, timing from timeline.json, the files written, the errors."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import cli
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import EpisodeInfo, Script, Slides, Timeline
from pipeline.media.textfit import line_bbox
from pipeline.stages import slides
from pipeline.tools.artwork import draw_artwork
from pipeline.util.text import ELLIPSIS
from tests.slide_fixtures import (
    DURATION,
    REPO,
    SEGMENTS,
    make_episode,
    script_file,
    timeline_file,
)

REGULAR = str(REPO / "assets/fonts/DejaVuSans.ttf")
BOLD = str(REPO / "assets/fonts/DejaVuSans-Bold.ttf")
HARD_TEXTS = [
    "Supercalifragilisticexpialidociousandevenlongerwordsthatneverendinanyway" * 2,
    "Søren Mindermann, Łukasz Kaiser, Zoë Ng, Ἀλέξανδρος and Юрий Бурда on ßtraße",
    "A very long episode title that goes on and on about interpretability, alignment, "
    "governance, evaluations, scalable oversight and everything else this week " * 3,
    "x",
]


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_ROOT", str(REPO))
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def episode(tmp_path: Path):
    return load_episode(make_episode(tmp_path))


@pytest.fixture
def theme(episode) -> slides.Theme:
    return slides.load_theme(episode, 1920, 1080)


def assert_inside(image: Image.Image, placed: list[slides.Placed]) -> None:
    """Every drawn line's real ink box (emoji pictures included) lies inside its text box
    and the picture."""
    for item in placed:
        font = slides.load_font(item.font, item.size)
        for line, x, y in item.lines:
            left, top, right, bottom = line_bbox(line, (x, y), font, item.emoji)
            assert item.box.x <= left and right <= item.box.right, (line, item.box)
            assert item.box.y <= top and bottom <= item.box.bottom, (line, item.box)
            assert right <= image.width and bottom <= image.height


@pytest.mark.parametrize("text", HARD_TEXTS)
@pytest.mark.parametrize("box", [slides.Box(0, 0, 300, 120), slides.Box(0, 0, 1600, 150)])
def test_fit_text_keeps_every_line_inside_the_box(text: str, box: slides.Box) -> None:
    size, lines = slides.fit_text(text, BOLD, box, 96, 24)
    font = slides.load_font(BOLD, size)
    assert 24 <= size <= 96 and lines
    assert all(font.getlength(line) <= box.w for line in lines)
    assert len(lines) * slides.line_pitch(font) <= box.h


def test_fit_text_shrinks_before_cutting_and_cuts_with_an_ellipsis() -> None:
    box = slides.Box(0, 0, 800, 300)
    size, lines = slides.fit_text("Short title", BOLD, box, 96, 24)
    assert size == 96 and lines == ["Short title"]
    size, lines = slides.fit_text("word " * 400, BOLD, box, 96, 24)
    assert size == 24 and lines[-1].endswith(ELLIPSIS)


def test_long_word_is_cut_into_pieces_that_fit() -> None:
    font = slides.load_font(REGULAR, 40)
    lines = slides.wrap("a " + "ж" * 200 + " b", font, 500)
    assert "".join(lines).replace(" ", "").count("ж") == 200
    assert all(font.getlength(line) <= 500 for line in lines)


def test_key_point_is_the_first_sentence_shortened() -> None:
    assert slides.key_point("First one. Second one.") == "First one."
    long = "Word " * 60 + "end. Next."
    point = slides.key_point(long)
    assert point.endswith(ELLIPSIS) and len(point) <= slides.KEY_POINT_CHARS + 1


def without_minimum(theme: slides.Theme) -> slides.Theme:
    return replace(theme, layout={**theme.layout, "timing": {"min_seconds": 0.0}})


def test_plan_times_each_slide_by_its_segments(theme: slides.Theme, tmp_path: Path) -> None:
    # this fixture's sections last 3-6 s: without a minimum each has its own slide
    planned = slides.plan_slides(script_file(), timeline_file(), without_minimum(theme))
    starts = {s.id: s.start for s in SEGMENTS}
    assert [s.kind for s in planned] == ["title", "section", "section", "outro"]
    assert planned[0].start == 0.0 and planned[-1].end == DURATION
    for before, after in zip(planned, planned[1:], strict=False):
        assert before.end == after.start == starts[after.segments[0]]
    shown = [sid for s in planned for sid in s.segments]
    assert shown == [s.id for s in SEGMENTS]


def long_list_script(items: int) -> tuple[Script, Timeline]:
    script, timeline = script_file(), timeline_file()
    texts = [f"Item {n}: Zoë Ñandú Łukasz wrote a long piece about evaluations, "
             f"oversight and interpretability of large models number {n}." for n in range(items)]
    segments = [s.model_copy(update={"items": texts}) if s.id == "in-other-news/list-1" else s
                for s in script.segments]
    return script.model_copy(update={"segments": segments}), timeline


def test_long_lists_are_paged_and_every_page_fits(theme: slides.Theme, tmp_path: Path) -> None:
    script, timeline = long_list_script(14)
    planned = slides.plan_slides(script, timeline, theme)
    news = [s for s in planned if s.section == "in-other-news"]
    assert len(news) >= 2
    assert sum(len(s.bullets) for s in news) == 14
    segment = next(s for s in SEGMENTS if s.id == "in-other-news/list-1")
    for page in news:
        assert page.pages == len(news)
        image, placed = slides.render_section(theme, page, "ML & AI Safety Updates")
        assert_inside(image, placed)
        drawn = [p for p in placed if p.size == theme.spec("section", "bullets").max]
        assert len(drawn) == len(page.bullets)
    for page in news[1:]:
        assert segment.start < page.start < segment.end
        assert page.segments == ["in-other-news/list-1"]


def test_hard_text_fits_on_every_kind_of_slide(theme: slides.Theme) -> None:
    art = Image.new("RGB", (1400, 1400), "red")
    info = EpisodeInfo(slug="2023-01-06-x", title=HARD_TEXTS[2], number=123,
                       date=dt.date(2023, 1, 6), summary="")
    image, placed = slides.render_title(theme, info, HARD_TEXTS[1], art)
    assert_inside(image, placed)
    slide = slides.Slide("section", "s", HARD_TEXTS[0],
                         [slides.Unit("s/p", 0.0, t, ["ætt.example", "xn--bcher.example"])
                          for t in HARD_TEXTS[:2]])
    image, placed = slides.render_section(theme, slide, HARD_TEXTS[1])
    assert_inside(image, placed)
    image, placed = slides.render_outro(theme, {"Spotify": "https://open.spotify.com/" + "x" * 300,
                                                 "Søren's Pod": "https://example.org"},
                                        "https://example.org/" + "y" * 200)
    assert_inside(image, placed)
    thumb_theme = slides.Theme(theme.layout, theme.fonts, 1.0, 1280, 720)
    image, placed = slides.render_thumbnail(thumb_theme, info, HARD_TEXTS[1])
    assert_inside(image, placed)


def test_build_writes_slides_manifest_and_thumbnail(episode) -> None:
    manifest = slides.run(episode).manifest
    build = episode.build
    assert Slides.read(build) == manifest
    assert sorted(p.name for p in (build / "slides").iterdir()) == [
        f"{n:03d}.png" for n in range(1, len(manifest.slides) + 1)]
    for entry in manifest.slides:
        with Image.open(build / entry.file) as image:
            assert image.size == (1920, 1080) and image.mode == "RGB"
    thumb = build / "thumbnail.jpg"
    with Image.open(thumb) as image:
        assert image.format == "JPEG" and image.size == (1280, 720)
    assert 10_000 < thumb.stat().st_size <= 2_000_000


def test_rebuild_replaces_stale_slides(episode) -> None:
    stale = episode.build / "slides" / "099.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    slides.run(episode)
    assert not stale.exists()


def test_a_slide_drawn_before_is_not_drawn_again_and_a_changed_one_is(
        episode, monkeypatch: pytest.MonkeyPatch) -> None:
    slides.run(episode)
    pictures = {p.name: p.read_bytes() for p in (episode.build / "slides").iterdir()}
    drawn: list[str] = []
    draw = slides.render_section
    monkeypatch.setattr(slides, "render_section",
                        lambda theme, slide, show: drawn.append(slide.heading) or draw(
                            theme, slide, show))
    slides.run(episode)
    assert drawn == []
    assert {p.name: p.read_bytes() for p in (episode.build / "slides").iterdir()} == pictures
    first = next(s.title for s in Slides.read(episode.build).slides if s.kind == "section")
    key = slides.drawing_key
    monkeypatch.setattr(slides, "drawing_key", lambda theme, slide, show: key(
        theme, slide, show) + ("new" if (slide.heading, slide.page) == (first, 1) else ""))
    slides.run(episode)
    assert drawn == [first]  # its key is new, the others' as they were
    cache = episode.build / slides.PNG_CACHE
    for index in (cache / slides.DRAWN).iterdir():
        assert (cache / index.read_text()).is_file()


def test_the_drawing_key_changes_with_what_a_section_slide_draws(
        theme: slides.Theme) -> None:
    slide = slides.Slide("section", "news", "News", [], start=1.0, end=2.0)
    key = slides.drawing_key(theme, slide, "Show")
    assert slides.drawing_key(theme, slides.Slide("section", "news", "News", [], start=5.0,
                                                  end=9.0), "Show") == key  # times: no
    assert slides.drawing_key(theme, slide, "Other show") != key
    assert slides.drawing_key(theme, slides.Slide("section", "news", "Views", []),
                              "Show") != key
    assert slides.drawing_key(theme, slides.Slide("section", "news", "News", [], page=2,
                                                  pages=2), "Show") != key


def test_missing_font_names_the_file(tmp_path: Path) -> None:
    folder = make_episode(tmp_path)
    issue = folder / "issue.md"
    issue.write_text(issue.read_text().replace(
        "summary:", "settings:\n  video:\n    font: fonts/Nope.ttf\nsummary:"), encoding="utf-8")
    with pytest.raises(PipelineError, match=r"fonts/Nope\.ttf"):
        slides.run(load_episode(folder))


def test_missing_timeline_names_the_file_and_stage(episode) -> None:
    (episode.build / "timeline.json").unlink()
    with pytest.raises(PipelineError, match=r"timeline\.json.*make narrate EP="):
        slides.run(episode)
    assert not (episode.build / "slides.json").exists()


def test_segment_missing_from_timeline_is_an_error(episode) -> None:
    timeline = timeline_file()
    timeline.model_copy(update={"segments": timeline.segments[:-1]}).write(episode.build)
    with pytest.raises(PipelineError, match="outro/outro-1"):
        slides.run(episode)


def test_artwork_is_square_rgb_and_within_podcast_limits() -> None:
    image = draw_artwork("ML & AI Safety Updates", BOLD, 1400)
    assert image.size == (1400, 1400) and image.mode == "RGB"
    assert len(set(image.resize((50, 50)).getdata())) > 2  # the title is drawn
    with Image.open(REPO / "assets/artwork.png") as shipped:
        assert shipped.format == "PNG" and shipped.mode == "RGB"
        assert shipped.width == shipped.height and 1400 <= shipped.width <= 3000
    assert (REPO / "assets/artwork.png").stat().st_size < 300_000


def test_missing_artwork_names_the_file_and_the_generator(tmp_path: Path) -> None:
    folder = make_episode(tmp_path)
    issue = folder / "issue.md"
    issue.write_text(issue.read_text().replace(
        "summary:", "settings:\n  show:\n    artwork: nope.png\nsummary:"), encoding="utf-8")
    with pytest.raises(PipelineError, match=r"nope\.png.*make artwork"):
        slides.run(load_episode(folder))


def test_cli_draws_the_slides_and_says_what_it_wrote(tmp_path: Path) -> None:
    folder = make_episode(tmp_path)
    result = CliRunner().invoke(cli, ["slides", str(folder)])
    assert result.exit_code == 0, result.output
    summary = result.output.splitlines()[-1]
    assert summary.startswith("slides: 4 slides (2 section pages)")
    assert summary.endswith(", and 7 of 7 GOPs of the video encoded, the rest kept")
    assert (folder / "build/slides/004.png").is_file()
    kept = [p.name for p in (folder / "build/video-cache").iterdir()]
    assert 7 < len(kept) <= 7 + 4  # the GOPs, and at most one more file a slide
    assert all(re.fullmatch(r"[0-9a-f]{64}\.mp4", name) for name in kept)  # no scratch
    again = CliRunner().invoke(cli, ["slides", str(folder)]).output.splitlines()[-1]
    assert again.endswith(", and 0 of 7 GOPs of the video encoded, the rest kept")


def test_burned_captions_leave_the_video_to_the_video_stage(tmp_path: Path) -> None:
    folder = make_episode(tmp_path)
    issue = folder / "issue.md"
    issue.write_text(issue.read_text().replace(
        "summary:", "settings:\n  video:\n    burn_captions: true\nsummary:"), encoding="utf-8")
    result = slides.run(load_episode(folder))
    assert result.gops is None and not (folder / "build/video-cache").exists()
    assert result.summary().endswith(
        "; the video's GOPs are left to the video stage (captions burned in)")
