"""Slides: a title card, pages of key points per section and an outro, drawn with Pillow from
the layout in `assets/templates/slides.toml`, timed by `timeline.json`; plus the thumbnail.

Every text box is filled by `fit_text`: wrap, shrink towards the minimum size, and only then
cut with an ellipsis, so text never leaves its box. Bullet lists are paged instead of shrunk.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from PIL import Image, ImageDraw

from pipeline.config import read_toml, template_path
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    EpisodeInfo,
    Script,
    Section,
    Segment,
    SlideEntry,
    Slides,
    Timeline,
)
from pipeline.media.textfit import (
    Box,
    Placed,
    fit_text,
    line_pitch,
    load_font,
    truncate,
    wrap,
)
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.platforms import YOUTUBE_THUMBNAIL_MAX
from pipeline.util.text import shorten

BASE_WIDTH = 1920
THUMB_SIZE = (1280, 720)
KEY_POINT_CHARS = 150
LAYOUT = "slides.toml"
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"“'(\[A-Z0-9])")


# ---------------------------------------------------------------- theme


@dataclass(frozen=True)
class TextSpec:
    box: Box
    max: int
    min: int
    font: str
    color: str
    max_lines: int | None = None
    gap: int = 0


@dataclass(frozen=True)
class Theme:
    """The layout file scaled to the output size, with the font files resolved."""

    layout: dict[str, Any]
    fonts: dict[str, str]
    scale: float
    width: int
    height: int

    def box(self, raw: list[int]) -> Box:
        x, y, w, h = (round(v * self.scale) for v in raw)
        return Box(x, y, w, h)

    def color(self, name: str) -> str:
        return self.layout["colors"].get(name, name)

    def spec(self, part: str, name: str) -> TextSpec:
        raw = self.layout[part][name]
        size = raw.get("size")
        return TextSpec(
            box=self.box(raw["box"]),
            max=round((size or raw["max"]) * self.scale),
            min=round((size or raw["min"]) * self.scale),
            font=self.fonts[raw.get("font", "regular")],
            color=self.color(raw.get("color", "text")),
            max_lines=raw.get("max_lines"),
            gap=round(raw.get("gap", 0) * self.scale),
        )

    def text(self, key: str, default: str) -> str:
        return self.layout.get("text", {}).get(key, default)


def font_paths(episode: Episode) -> dict[str, str]:
    video = episode.settings.video
    fonts = {"regular": episode.assets / video.font, "bold": episode.assets / video.bold_font}
    for path in fonts.values():
        if not path.is_file():
            raise PipelineError("font file not found", path,
                                "restore it from git or set [video] font/bold_font in show.toml")
    return {name: str(path) for name, path in fonts.items()}


def load_theme(episode: Episode, width: int, height: int, base_width: int = BASE_WIDTH) -> Theme:
    path = template_path(episode.root, LAYOUT)
    if not path.is_file():
        raise PipelineError("slide layout template not found", path, "restore it from git")
    return Theme(read_toml(path), font_paths(episode), width / base_width, width, height)


# ---------------------------------------------------------------- planning


@dataclass
class Unit:
    """One thing shown: a key point or list item, or nothing (a heading), from a segment."""

    segment: str
    start: float
    text: str | None
    sites: list[str] = field(default_factory=list)


@dataclass
class Slide:
    kind: str  # title | section | outro
    section: str
    heading: str
    units: list[Unit]
    page: int = 1
    pages: int = 1
    start: float = 0.0
    end: float = 0.0

    @property
    def bullets(self) -> list[str]:
        return [u.text for u in self.units if u.text]

    @property
    def sites(self) -> list[str]:
        return list(dict.fromkeys(s for u in self.units for s in u.sites))

    @property
    def segments(self) -> list[str]:
        return list(dict.fromkeys(u.segment for u in self.units))


def key_point(text: str, limit: int = KEY_POINT_CHARS) -> str:
    """The first sentence, shortened."""
    return shorten(SENTENCE_END.split(text.strip(), maxsplit=1)[0], limit)


def site(url: str) -> str:
    host = urlparse(url).hostname or url
    return host.removeprefix("www.")


def item_units(seg: Segment, start: float, end: float) -> list[Unit]:
    """A list's items, each starting in proportion to the text read before it."""
    items = [key_point(i) for i in seg.items]
    weights = [max(1, len(i)) for i in seg.items]
    total, done, units = sum(weights), 0, []
    for text, weight in zip(items, weights, strict=True):
        units.append(Unit(seg.id, start + (end - start) * done / total, text))
        done += weight
    for link in seg.links:
        owner = next((u for u, i in zip(units, seg.items, strict=True)
                      if link.text and link.text in i), units[0])
        owner.sites.append(site(link.url))
    return units


def segment_units(seg: Segment, times: dict[str, tuple[float, float]]) -> list[Unit]:
    start, end = times[seg.id]
    if seg.narration in ("summary", "replaced"):  # the slide shows what is said
        return [Unit(seg.id, start, key_point(seg.caption))]
    if seg.kind == "list" and seg.items:
        return item_units(seg, start, end)
    text = None
    if seg.kind in ("paragraph", "table"):
        text = key_point(seg.display)
    elif seg.kind == "quote":
        text = f"“{key_point(seg.display, KEY_POINT_CHARS - 2)}”"
    return [Unit(seg.id, start, text, [site(link.url) for link in seg.links])]


def bullet_height(text: str, spec: TextSpec) -> int:
    font = load_font(spec.font, spec.max)
    lines = min(len(wrap(text, font, bullet_width(spec))), spec.max_lines or 10**6)
    return lines * line_pitch(font) + spec.gap


def bullet_width(spec: TextSpec) -> int:
    return spec.box.w - round(spec.max * 1.2)


def paginate(units: list[Unit], spec: TextSpec) -> list[list[Unit]]:
    """Split units into pages whose bullets fit the box; units without text ride along."""
    pages: list[list[Unit]] = [[]]
    used = 0
    for unit in units:
        height = bullet_height(unit.text, spec) if unit.text else 0
        if unit.text and used + height - spec.gap > spec.box.h and any(u.text for u in pages[-1]):
            pages.append([])
            used = 0
        pages[-1].append(unit)
        used += height
    return pages


def section_slides(section: Section, units: list[Unit], theme: Theme) -> list[Slide]:
    pages = paginate(units, theme.spec("section", "bullets"))
    return [Slide("section", section.id, section.title, page, n, len(pages))
            for n, page in enumerate(pages, 1)]


def plan_slides(script: Script, timeline: Timeline, theme: Theme) -> list[Slide]:
    """Slides in order: the title card (with the intro), section pages, the outro."""
    times = timeline.times()
    slides = [Slide("title", "intro", script.episode.title, [])]
    for section in script.sections:
        units = [u for s in script.segments_of(section.id) if s.narrated
                 for u in segment_units(s, times)]
        if not units:
            continue
        if section.kind == "intro":
            slides[0].units.extend(units)
        elif section.kind == "outro":
            slides.append(Slide("outro", section.id, section.title, units))
        else:
            slides.extend(section_slides(section, units, theme))
    return set_times(slides, timeline.duration)


def set_times(slides: list[Slide], duration: float) -> list[Slide]:
    """Each slide runs from its first segment's start to the next slide's; the first from
    0, the last to the end."""
    slides = [s for i, s in enumerate(slides) if i == 0 or s.units]
    for i, slide in enumerate(slides):
        slide.start = 0.0 if i == 0 else max(slide.units[0].start, slides[i - 1].start)
    for slide, after in zip(slides, [*slides[1:], None], strict=True):
        slide.end = after.start if after else duration
    return slides


# ---------------------------------------------------------------- drawing


def draw_text(draw: ImageDraw.ImageDraw, spec: TextSpec, text: str) -> Placed:
    size, lines = fit_text(text, spec.font, spec.box, spec.max, spec.min, spec.max_lines)
    font = load_font(spec.font, size)
    pitch = line_pitch(font)
    placed = []
    for i, line in enumerate(lines):
        y = spec.box.y + i * pitch
        draw.text((spec.box.x, y), line, font=font, fill=spec.color)
        placed.append((line, spec.box.x, y))
    return Placed(spec.box, spec.font, size, tuple(placed))


def draw_bullets(draw: ImageDraw.ImageDraw, spec: TextSpec, bullets: list[str],
                 accent: str) -> list[Placed]:
    """Bullets at a fixed size, each at most max_lines; those that no longer fit are left
    out (pagination keeps that from happening on section slides)."""
    font = load_font(spec.font, spec.max)
    pitch, indent = line_pitch(font), round(spec.max * 1.2)
    y, placed = spec.box.y, []
    for text in bullets:
        lines = truncate(wrap(text, font, bullet_width(spec)), spec.max_lines or 10**6,
                         font, bullet_width(spec))
        if y + len(lines) * pitch > spec.box.bottom:
            break
        dot = round(spec.max * 0.18)
        cy = y + pitch // 2
        draw.ellipse((spec.box.x, cy - dot, spec.box.x + 2 * dot, cy + dot), fill=accent)
        box = Box(spec.box.x + indent, y, spec.box.w - indent, len(lines) * pitch)
        rows = tuple((line, box.x, y + i * pitch) for i, line in enumerate(lines))
        for line, x, row_y in rows:
            draw.text((x, row_y), line, font=font, fill=spec.color)
        placed.append(Placed(box, spec.font, spec.max, rows))
        y += len(lines) * pitch + spec.gap
    return placed


def canvas(theme: Theme) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (theme.width, theme.height), theme.color("background"))
    return image, ImageDraw.Draw(image)


def bar(draw: ImageDraw.ImageDraw, theme: Theme, part: str) -> None:
    box = theme.box(theme.layout[part]["accent_bar"])
    draw.rectangle((box.x, box.y, box.right, box.bottom), fill=theme.color("accent"))


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def episode_line(info: EpisodeInfo) -> str:
    return f"Episode {info.number} · {long_date(info.date)}"


def render_title(theme: Theme, info: EpisodeInfo, show: str,
                 artwork: Image.Image) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    box = theme.box(theme.layout["title"]["artwork"])
    image.paste(artwork.resize((box.w, box.h), Image.Resampling.LANCZOS), (box.x, box.y))
    edge = max(2, round(4 * theme.scale))
    draw.rectangle((box.x - edge, box.y - edge, box.right + edge - 1, box.bottom + edge - 1),
                   outline=theme.color("panel"), width=edge)
    placed = [draw_text(draw, theme.spec("title", "show"), show),
              draw_text(draw, theme.spec("title", "title"), info.title),
              draw_text(draw, theme.spec("title", "meta"), episode_line(info))]
    return image, placed


def render_section(theme: Theme, slide: Slide, show: str) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    bar(draw, theme, "section")
    placed = [draw_text(draw, theme.spec("section", "show"), show),
              draw_text(draw, theme.spec("section", "heading"), slide.heading)]
    placed += draw_bullets(draw, theme.spec("section", "bullets"), slide.bullets,
                           theme.color("accent"))
    if slide.sites:
        placed.append(draw_text(draw, theme.spec("section", "links"),
                                "Links: " + " · ".join(slide.sites)))
    if slide.pages > 1:
        placed.append(draw_text(draw, theme.spec("section", "page"),
                                f"{slide.page}/{slide.pages}"))
    return image, placed


def render_outro(theme: Theme, listen_on: dict[str, str],
                 website: str) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    placed = [draw_text(draw, theme.spec("outro", "heading"),
                        theme.text("outro_heading", "Thanks for listening")),
              draw_text(draw, theme.spec("outro", "subheading"),
                        theme.text("outro_subheading", "Listen and subscribe"))]
    platforms = [f"{name}: {url}" for name, url in listen_on.items()]
    placed += draw_bullets(draw, theme.spec("outro", "platforms"), platforms,
                           theme.color("accent"))
    if website:
        placed.append(draw_text(draw, theme.spec("outro", "website"), website))
    return image, placed


def render_thumbnail(theme: Theme, info: EpisodeInfo,
                     show: str) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    bar(draw, theme, "thumbnail")
    placed = [draw_text(draw, theme.spec("thumbnail", "show"), show),
              draw_text(draw, theme.spec("thumbnail", "title"), info.title),
              draw_text(draw, theme.spec("thumbnail", "meta"), f"Episode {info.number}")]
    return image, placed


def jpeg_bytes(image: Image.Image, limit: int = YOUTUBE_THUMBNAIL_MAX) -> bytes:
    """The best JPEG quality that stays under `limit` bytes."""
    for quality in (92, 85, 75, 60, 45):
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality, optimize=True)
        if buffer.tell() <= limit:
            return buffer.getvalue()
    raise PipelineError(f"thumbnail stays over {limit} bytes even at quality 45")


# ---------------------------------------------------------------- the stage


def load_artwork(episode: Episode) -> Image.Image:
    path = episode.assets / episode.settings.show.artwork
    try:
        return Image.open(path).convert("RGB")
    except FileNotFoundError:
        raise PipelineError("show artwork not found", path,
                            "make it: make artwork") from None


def render_slides(slides: list[Slide], theme: Theme, script: Script,
                  episode: Episode) -> list[Image.Image]:
    show = episode.settings.show
    images = []
    for slide in slides:
        if slide.kind == "title":
            image, _ = render_title(theme, script.episode, show.title, load_artwork(episode))
        elif slide.kind == "outro":
            image, _ = render_outro(theme, show.listen_on, show.website)
        else:
            image, _ = render_section(theme, slide, show.title)
        images.append(image)
    return images


def replace_dir(images: list[Image.Image], target: Path) -> None:
    """Write the PNGs beside `target`, then swap the folder in, so a failure keeps the old."""
    tmp, old = target.with_name(".slides.tmp"), target.with_name(".slides.old")
    for stale in (tmp, old):
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir(parents=True)
    for n, image in enumerate(images, 1):
        image.save(tmp / f"{n:03d}.png", compress_level=6)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def slides_manifest(slides: list[Slide], theme: Theme, duration: float) -> Slides:
    return Slides(width=theme.width, height=theme.height, duration=duration, slides=[
        SlideEntry(index=n, file=f"slides/{n:03d}.png", kind=s.kind, section=s.section,
                   title=s.heading, segments=s.segments, start=round(s.start, 3),
                   end=round(s.end, 3))
        for n, s in enumerate(slides, 1)])


@dataclass(frozen=True)
class SlidesResult:
    manifest: Slides
    build: Path

    def summary(self) -> str:
        pages = sum(1 for s in self.manifest.slides if s.kind == "section")
        return (f"slides: {len(self.manifest.slides)} slides ({pages} section pages), "
                f"thumbnail.jpg, slides.json in {self.build}")


def run(episode: Episode) -> SlidesResult:
    """Write build/slides/NNN.png, build/slides.json and build/thumbnail.jpg."""
    build = episode.build
    script = Script.read(build)
    timeline = Timeline.read(build)
    timeline.check_covers(script, build)
    video = episode.settings.video
    theme = load_theme(episode, video.width, video.height)
    slides = plan_slides(script, timeline, theme)
    images = render_slides(slides, theme, script, episode)
    thumb_theme = load_theme(episode, *THUMB_SIZE, base_width=THUMB_SIZE[0])
    thumb, _ = render_thumbnail(thumb_theme, script.episode, episode.settings.show.title)
    replace_dir(images, build / "slides")
    manifest = slides_manifest(slides, theme, timeline.duration)
    manifest.write(build)
    fsutil.write_bytes(build / "thumbnail.jpg", jpeg_bytes(thumb))
    return SlidesResult(manifest, build)


@stage_command("slides")
def command(episode: Episode) -> SlidesResult:
    """Draw the slides, slides.json and the thumbnail from script.json and timeline.json."""
    return run(episode)
