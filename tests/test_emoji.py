"""Emoji on the slides: drawn in colour by Debian's Noto Color Emoji (scripts/setup.sh
installs fonts-noto-color-emoji), or left out where no such font is, never an empty box."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.episode import load_episode
from pipeline.formats import EpisodeInfo
from pipeline.media import textfit
from pipeline.stages import slides
from tests import structure_fixtures as digest
from tests.test_slides import BOLD, REGULAR, assert_inside

NOTO = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
FIRE = "Launch day 🔥"
SHOW = "ML & AI Safety Updates"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_ROOT", str(digest.REPO))
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def theme(tmp_path: Path) -> slides.Theme:
    theme = slides.load_theme(load_episode(digest.make_episode(tmp_path)), 1920, 1080)
    assert theme.emoji is not None, "no colour emoji font: make setup installs one"
    return theme


def info(title: str) -> EpisodeInfo:
    return EpisodeInfo(slug="2024-05-17-x", title=title, number=12, date=dt.date(2024, 5, 17),
                       summary="")


def warm(image: Image.Image) -> int:
    """Pixels of a red, orange or yellow no colour of the layout has: a flame's."""
    r, g, b = np.asarray(image.convert("RGB"), dtype=np.int32).transpose(2, 0, 1)
    return int(((r > 200) & (g < 200) & (b < 90)).sum())


@pytest.mark.parametrize(("text", "emoji"), [
    ("Launch 🚀 day", ["🚀"]),
    ("family 👨‍👩‍👧 and 👍🏽", ["👨‍👩‍👧", "👍🏽"]),
    ("EU 🇪🇺, key 1️⃣, love ❤️‍🔥", ["🇪🇺", "1️⃣", "❤️‍🔥"]),
    ("plain ★ ✓ → © ❤ stay text", []),
])
def test_emoji_are_found_whole(text: str, emoji: list[str]) -> None:
    assert [part for part, is_emoji in textfit.runs(text) if is_emoji] == emoji
    assert "".join(part for part, _ in textfit.runs(text)) == text
    left = textfit.without_emoji(text)
    assert not any(e in left for e in emoji) and "\u200d" not in left and "  " not in left


def test_only_a_font_that_draws_in_colour_is_used() -> None:
    assert textfit.EmojiFont.find([REGULAR]) is None
    assert textfit.EmojiFont.find(["/nowhere/NotoColorEmoji.ttf"]) is None
    assert textfit.EmojiFont.find(["/nowhere/x.ttf", NOTO]) == textfit.EmojiFont(NOTO)


def test_a_title_with_emoji_is_drawn_in_colour_not_as_a_box(theme: slides.Theme) -> None:
    art = Image.new("RGB", (600, 600), "#334155")
    image, placed = slides.render_title(theme, info(FIRE), SHOW, art)
    assert_inside(image, placed)
    title = next(p for p in placed if p.lines and p.lines[0][0].startswith("Launch"))
    font = slides.load_font(title.font, title.size)
    line, x, y = title.lines[0]
    start = x + round(textfit.text_length("Launch day ", font, theme.emoji))
    emoji = image.crop((start, y, start + title.size * 2, y + slides.line_pitch(font)))
    assert warm(emoji) > 100
    plain, _ = slides.render_title(theme, info("Launch day"), SHOW, art)
    assert warm(plain) == 0


def test_without_an_emoji_font_emoji_are_left_out(theme: slides.Theme) -> None:
    bare = replace(theme, emoji=None)
    art = Image.new("RGB", (600, 600), "#334155")
    with_emoji, placed = slides.render_title(bare, info("🚀 Launch 🔥 day 🇪🇺"), SHOW, art)
    without, _ = slides.render_title(bare, info("Launch day"), SHOW, art)
    assert with_emoji.tobytes() == without.tobytes()
    assert all("🔥" not in line for p in placed for line, _, _ in p.lines)
    slide = slides.Slide("section", "s", "News 📰", [
        slides.Unit("s/list-1", 0.0, "SB 1047 passed ✅ the Senate 👍🏽", [],
                    slides.Group("s", "News 📰", "Policy 🏛️", "s/heading-2"))])
    plain = slides.Slide("section", "s", "News", [
        slides.Unit("s/list-1", 0.0, "SB 1047 passed the Senate", [],
                    slides.Group("s", "News", "Policy", "s/heading-2"))])
    assert (slides.render_section(bare, slide, SHOW)[0].tobytes()
            == slides.render_section(bare, plain, SHOW)[0].tobytes())


def test_emoji_in_headings_and_bullets_stay_inside_their_boxes(theme: slides.Theme) -> None:
    group = slides.Group("s", "s", "Interpretability 🔬🧠" * 6, "s/heading-2")
    units = [slides.Unit("s/list-1", 0.0, "🚀" * 80, [], group),
             slides.Unit("s/list-1", 1.0, "Anthropic 🧠 scaled sparse autoencoders " * 4, [],
                         group)]
    slide = slides.Slide("section", "s", "Research digest 🚀 " * 8, units)
    image, placed = slides.render_section(theme, slide, SHOW)
    assert_inside(image, placed)
    assert warm(image) > 1000


def test_a_word_of_emoji_is_cut_between_emoji_never_inside_one() -> None:
    font = slides.load_font(BOLD, 48)
    emoji = textfit.EmojiFont(NOTO)
    word = "🇪🇺👨‍👩‍👧" * 10
    lines = textfit.wrap(word, font, 300, emoji)
    assert len(lines) > 1 and "".join(lines) == word
    for line in lines:
        assert all(is_emoji for _, is_emoji in textfit.runs(line))
        assert textfit.text_length(line, font, emoji) <= 300
    cut = textfit.ellipsize(word, font, 200, emoji)
    assert cut.endswith("…") and all(e for _, e in textfit.runs(cut[:-1]))
