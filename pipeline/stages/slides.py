"""Slides: a title card, pages of key points per section and an outro, drawn with Pillow from
the layout in `assets/templates/slides.toml`, timed by `timeline.json`; plus the thumbnail,
and the video's slide pieces (media/slideshow.py). Those depend on the pictures and times
alone, so they are encoded here, while master makes the sound, rather than by the video
stage, which waits for the sound and the captions and then only joins them.

Every text box is filled by `fit_text`: wrap, shrink towards the minimum size, and only then
cut with an ellipsis, so text never leaves its box. Bullet lists are paged instead of shrunk.
A `###` subsection starts a page under its subheading, and no page stays on screen for less
than the layout's minimum: `Pager` says how the two are weighed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import json
import math
import re
import shutil
from dataclasses import dataclass, field, replace
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
from pipeline.media import slideshow, textfit
from pipeline.media.pieces import Count
from pipeline.media.textfit import (
    Box,
    EmojiFont,
    Placed,
    draw_line,
    fit_text,
    line_pitch,
    load_font,
    truncate,
    visible,
    wrap,
)
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.hashing import file_identity
from pipeline.util.platforms import YOUTUBE_THUMBNAIL_MAX
from pipeline.util.progress import task
from pipeline.util.text import shorten

BASE_WIDTH = 1920
THUMB_SIZE = (1280, 720)
KEY_POINT_CHARS = 150
LAYOUT = "slides.toml"
PNG_LEVEL = 6  # zlib level of the slides' PNGs
PNG_CACHE = "slides-cache"  # in build/: the last build's PNGs by their pixels
DRAWN = "drawn"  # in it: which PNG each drawing (by what it draws) made
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
    emoji: EmojiFont | None = None

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

    @property
    def min_seconds(self) -> float:
        return float(self.layout.get("timing", {}).get("min_seconds", 0.0))


def font_paths(episode: Episode) -> dict[str, str]:
    video = episode.settings.video
    fonts = {"regular": episode.assets / video.font, "bold": episode.assets / video.bold_font}
    for path in fonts.values():
        if not path.is_file():
            raise PipelineError("font file not found", path,
                                "restore it from git or set [video] font/bold_font in show.toml")
    return {name: str(path) for name, path in fonts.items()}


def emoji_font(layout: dict[str, Any], assets: Path) -> EmojiFont | None:
    """The layout's colour emoji font that works here, or None (emoji are left out)."""
    paths = layout.get("fonts", {}).get("emoji", [])
    return EmojiFont.find([str(assets / path) for path in paths])


def load_theme(episode: Episode, width: int, height: int, base_width: int = BASE_WIDTH) -> Theme:
    path = template_path(episode.root, LAYOUT)
    if not path.is_file():
        raise PipelineError("slide layout template not found", path, "restore it from git")
    layout = read_toml(path)
    if "subheading" not in layout.get("section", {}):
        raise PipelineError("has no [section] subheading", path,
                            "copy it from pipeline/templates/slides.toml")
    return Theme(layout, font_paths(episode), width / base_width, width, height,
                 emoji_font(layout, episode.assets))


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class Group:
    """Where a unit is read: its section and the `###` subheading over it (None before the
    section's first)."""

    section: str
    section_title: str
    subheading: str | None = None
    key: str = ""  # the subheading's segment id

    def header(self, shown_in: str) -> str | None:
        """The line over this group's bullets on a slide of section `shown_in`."""
        if self.section == shown_in:
            return self.subheading
        return " · ".join(t for t in (self.section_title, self.subheading) if t)


@dataclass
class Unit:
    """One thing shown: a key point or list item, or nothing (a heading), from a segment."""

    segment: str
    start: float
    text: str | None
    sites: list[str] = field(default_factory=list)
    group: Group | None = None


@dataclass
class Block:
    """Bullets drawn together under one header (a subheading) or none."""

    header: str | None
    bullets: list[str]


def blocks(units: list[Unit], shown_in: str) -> list[Block]:
    """The units' bullets under their groups' headers, in order; a group with neither a
    header nor a bullet is not drawn."""
    out: list[tuple[Group | None, Block]] = []
    for unit in units:
        if not out or unit.group != out[-1][0]:
            header = unit.group.header(shown_in) if unit.group else None
            out.append((unit.group, Block(header, [])))
        if unit.text:
            out[-1][1].bullets.append(unit.text)
    return [block for _, block in out if block.header or block.bullets]


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
    def blocks(self) -> list[Block]:
        return blocks(self.units, self.section)

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


def table_units(seg: Segment, start: float) -> list[Unit]:
    """A table (a `table` segment, rows of cells): left off the slides for now, its time
    kept with the slide it is read on. Draw it here as its own block when tables come."""
    return [Unit(seg.id, start, None)]


def segment_units(seg: Segment, times: dict[str, tuple[float, float]]) -> list[Unit]:
    start, end = times[seg.id]
    if seg.narration in ("summary", "replaced"):  # the slide shows what is said
        return [Unit(seg.id, start, key_point(seg.caption))]
    if seg.kind == "list" and seg.items:
        return item_units(seg, start, end)
    if seg.kind == "table":
        return table_units(seg, start)
    text = None
    if seg.kind == "paragraph":
        text = key_point(seg.display)
    elif seg.kind == "quote":
        text = f"“{key_point(seg.display, KEY_POINT_CHARS - 2)}”"
    return [Unit(seg.id, start, text, [site(link.url) for link in seg.links])]


def is_subheading(seg: Segment, section: Section, position: int) -> bool:
    """A heading other than the section's own title, read first: a `###` under the `##`."""
    if seg.kind != "heading":
        return False
    return position > 0 or seg.display.casefold() != section.title.casefold()


def section_units(section: Section, segments: list[Segment],
                  times: dict[str, tuple[float, float]]) -> list[Unit]:
    """The section's units, each in the group of the subheading it is read under. The
    section's title, when nothing is shown before the first subheading, goes with it."""
    group = Group(section.id, section.title)
    units: list[Unit] = []
    for position, seg in enumerate(s for s in segments if s.id in times):
        if is_subheading(seg, section, position):
            group = Group(section.id, section.title, seg.display, seg.id)
        for unit in segment_units(seg, times):
            unit.group = group
            units.append(unit)
    lead = [u for u in units if u.group and not u.group.key]
    if lead and len(lead) < len(units) and not any(u.text for u in lead):
        for unit in lead:
            unit.group = units[len(lead)].group
    return units


def kind_units(script: Script, kind: str, times: dict[str, tuple[float, float]]) -> list[Unit]:
    return [u for section in script.sections if section.kind == kind
            for u in section_units(section, script.segments_of(section.id), times)]


# ---------------------------------------------------------------- paging

# What a way of cutting the body into pages costs: a slide shorter than the minimum is the
# worst, then one that shows two sections, then one that shows two subsections; then each
# page, so that among equals the fewest pages win.
SHORT, TWO_SECTIONS, TWO_GROUPS, PAGE = 10_000, 1_000, 100, 1


@dataclass
class Pager:
    """Cuts the body's units into pages that fit the bullet box: every subsection on pages
    of its own, and no page on screen for less than the minimum, unless that cannot be
    had otherwise; then a short page shares a slide with its neighbour, each part under
    its own header, so the slide still shows what is being read."""

    theme: Theme
    end: float  # when the body's last page leaves the screen
    heights: dict[str, int] = field(default_factory=dict)

    def height(self, page: list[Unit]) -> int:
        """The page's blocks' height in the bullet box."""
        total = 0
        for block in blocks(page, section_of(page)):
            total += header_height(self.theme) if block.header else 0
            total += sum(self.bullet(text) for text in block.bullets)
        return total - self.theme.spec("section", "bullets").gap

    def bullet(self, text: str) -> int:
        if text not in self.heights:
            self.heights[text] = bullet_height(text, self.theme)
        return self.heights[text]

    def cost(self, units: list[Unit], i: int, j: int) -> int | None:
        """What the page units[i:j] costs; None when it does not fit."""
        page = units[i:j]
        room = self.theme.spec("section", "bullets").box.h
        if sum(1 for u in page if u.text) > 1 and self.height(page) > room:
            return None
        until = units[j].start if j < len(units) else self.end
        groups = len(blocks(page, section_of(page)))
        sections = len({u.group.section for u in page if u.group})
        return (PAGE + SHORT * (until - page[0].start < self.theme.min_seconds)
                + TWO_SECTIONS * max(0, sections - 1) + TWO_GROUPS * max(0, groups - 1))

    def pages(self, units: list[Unit]) -> list[list[Unit]]:
        """The cheapest cut (fewest pages among equals, the earlier ones fuller)."""
        best: list[float] = [0.0] + [math.inf] * len(units)
        cut = [0] * (len(units) + 1)
        for j in range(1, len(units) + 1):
            for i in range(j - 1, -1, -1):
                cost = self.cost(units, i, j)
                if cost is None:
                    break
                if best[i] + cost < best[j]:
                    best[j], cut[j] = best[i] + cost, i
        pages, j = [], len(units)
        while j:
            pages.append(units[cut[j]:j])
            j = cut[j]
        return pages[::-1]


def section_of(units: list[Unit]) -> str:
    return next((u.group.section for u in units if u.group), "")


def header_height(theme: Theme) -> int:
    """A subheading's line and the gap under it."""
    head = theme.spec("section", "subheading")
    return line_pitch(load_font(head.font, head.max)) + head.gap


def bullet_height(text: str, theme: Theme) -> int:
    spec = theme.spec("section", "bullets")
    font = load_font(spec.font, spec.max)
    lines = wrap(visible(text, theme.emoji), font, bullet_width(spec), theme.emoji)
    return min(len(lines), spec.max_lines or 10**6) * line_pitch(font) + spec.gap


def bullet_width(spec: TextSpec) -> int:
    return spec.box.w - round(spec.max * 1.2)


def section_slides(pages: list[list[Unit]], titles: dict[str, str]) -> list[Slide]:
    """A slide per page, numbered within its section."""
    slides = [Slide("section", section_of(p), titles.get(section_of(p), ""), p) for p in pages]
    for section in {s.section for s in slides}:
        own = [s for s in slides if s.section == section]
        for n, slide in enumerate(own, 1):
            slide.page, slide.pages = n, len(own)
    return slides


def plan_slides(script: Script, timeline: Timeline, theme: Theme) -> list[Slide]:
    """Slides in order: the title card (with the intro), section pages, the outro."""
    times = timeline.times()
    outro = kind_units(script, "outro", times)
    end = outro[0].start if outro else timeline.duration
    body = kind_units(script, "body", times)
    titles = {s.id: s.title for s in script.sections}
    slides = [Slide("title", "intro", script.episode.title, kind_units(script, "intro", times)),
              *section_slides(Pager(theme, end).pages(body), titles)]
    if outro:
        section = outro[0].group.section if outro[0].group else "outro"
        slides.append(Slide("outro", section, titles.get(section, ""), outro))
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


def draw_text(image: Image.Image, spec: TextSpec, text: str,
              emoji: EmojiFont | None = None) -> Placed:
    size, lines = fit_text(text, spec.font, spec.box, spec.max, spec.min, spec.max_lines,
                           emoji)
    font = load_font(spec.font, size)
    pitch = line_pitch(font)
    placed = []
    for i, line in enumerate(lines):
        y = spec.box.y + i * pitch
        draw_line(image, (spec.box.x, y), line, font, spec.color, emoji)
        placed.append((line, spec.box.x, y))
    return Placed(spec.box, spec.font, size, tuple(placed), emoji)


def draw_bullets(image: Image.Image, spec: TextSpec, bullets: list[str], accent: str,
                 emoji: EmojiFont | None = None) -> tuple[list[Placed], int]:
    """Bullets at a fixed size from the top of the box, each at most max_lines; those that
    no longer fit are left out (paging keeps that from happening on section slides).
    Returns them and the y below the last one's gap."""
    font = load_font(spec.font, spec.max)
    pitch, indent, width = line_pitch(font), round(spec.max * 1.2), bullet_width(spec)
    y, placed = spec.box.y, []
    draw = ImageDraw.Draw(image)
    for text in bullets:
        lines = truncate(wrap(visible(text, emoji), font, width, emoji),
                         spec.max_lines or 10**6, font, width, emoji)
        if y + len(lines) * pitch > spec.box.bottom:
            break
        dot = round(spec.max * 0.18)
        cy = y + pitch // 2
        draw.ellipse((spec.box.x, cy - dot, spec.box.x + 2 * dot, cy + dot), fill=accent)
        box = Box(spec.box.x + indent, y, spec.box.w - indent, len(lines) * pitch)
        rows = tuple((line, box.x, y + i * pitch) for i, line in enumerate(lines))
        for line, x, row_y in rows:
            draw_line(image, (x, row_y), line, font, spec.color, emoji)
        placed.append(Placed(box, spec.font, spec.max, rows, emoji))
        y += len(lines) * pitch + spec.gap
    return placed, y


def draw_blocks(image: Image.Image, theme: Theme, found: list[Block]) -> list[Placed]:
    """Each block's header line, then its bullets, down the bullet box."""
    spec, head = theme.spec("section", "bullets"), theme.spec("section", "subheading")
    accent, placed, y = theme.color("accent"), [], spec.box.y
    for block in found:
        if block.header:
            box = Box(spec.box.x, y, head.box.w, header_height(theme) - head.gap)
            placed.append(draw_text(image, replace(head, box=box), block.header, theme.emoji))
            y += header_height(theme)
        room = Box(spec.box.x, y, spec.box.w, max(0, spec.box.bottom - y))
        drawn, y = draw_bullets(image, replace(spec, box=room), block.bullets, accent,
                                theme.emoji)
        placed += drawn
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
    placed = [draw_text(image, theme.spec("title", "show"), show, theme.emoji),
              draw_text(image, theme.spec("title", "title"), info.title, theme.emoji),
              draw_text(image, theme.spec("title", "meta"), episode_line(info))]
    return image, placed


def render_section(theme: Theme, slide: Slide, show: str) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    bar(draw, theme, "section")
    placed = [draw_text(image, theme.spec("section", "show"), show, theme.emoji),
              draw_text(image, theme.spec("section", "heading"), slide.heading, theme.emoji)]
    placed += draw_blocks(image, theme, slide.blocks)
    if slide.sites:
        placed.append(draw_text(image, theme.spec("section", "links"),
                                "Links: " + " · ".join(slide.sites)))
    if slide.pages > 1:
        placed.append(draw_text(image, theme.spec("section", "page"),
                                f"{slide.page}/{slide.pages}"))
    return image, placed


def render_outro(theme: Theme, listen_on: dict[str, str],
                 website: str) -> tuple[Image.Image, list[Placed]]:
    image, _ = canvas(theme)
    placed = [draw_text(image, theme.spec("outro", "heading"),
                        theme.text("outro_heading", "Thanks for listening"), theme.emoji),
              draw_text(image, theme.spec("outro", "subheading"),
                        theme.text("outro_subheading", "Listen and subscribe"), theme.emoji)]
    platforms = [f"{name}: {url}" for name, url in listen_on.items()]
    placed += draw_bullets(image, theme.spec("outro", "platforms"), platforms,
                           theme.color("accent"), theme.emoji)[0]
    if website:
        placed.append(draw_text(image, theme.spec("outro", "website"), website))
    return image, placed


def render_thumbnail(theme: Theme, info: EpisodeInfo,
                     show: str) -> tuple[Image.Image, list[Placed]]:
    image, draw = canvas(theme)
    bar(draw, theme, "thumbnail")
    placed = [draw_text(image, theme.spec("thumbnail", "show"), show, theme.emoji),
              draw_text(image, theme.spec("thumbnail", "title"), info.title, theme.emoji),
              draw_text(image, theme.spec("thumbnail", "meta"), f"Episode {info.number}")]
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


@dataclass(frozen=True)
class Drawn:
    """A slide's picture, or the kept PNG of the same drawing (`key` names what it draws)."""

    image: Image.Image | None
    kept: Path | None = None
    key: str | None = None


@functools.cache
def _code() -> str:
    """What draws a section slide: this module, the text fitting and Pillow."""
    digest = hashlib.sha256(Image.__version__.encode())
    for module in (__file__, textfit.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def drawing_key(theme: Theme, slide: Slide, show: str) -> str:
    """Everything render_section reads, fonts by their files' identity."""
    fonts = [theme.emoji.path] if theme.emoji else []
    files = [file_identity(f) for f in [*sorted(theme.fonts.values()), *fonts]]
    return hashlib.sha256(json.dumps([
        _code(), theme.layout, theme.fonts, files, theme.scale, theme.width, theme.height,
        show, slide.heading, [(b.header, b.bullets) for b in slide.blocks], slide.sites,
        slide.page, slide.pages], default=str).encode()).hexdigest()


def render_slides(slides: list[Slide], theme: Theme, script: Script,
                  episode: Episode, kept: Path | None = None) -> list[Drawn]:
    """Each slide drawn; a section slide drawn before with what it draws now (its PNG in
    `kept`, the folder of kept PNGs) is not drawn again."""
    show = episode.settings.show
    images = []
    for slide in slides:
        if slide.kind == "title":
            image, _ = render_title(theme, script.episode, show.title, load_artwork(episode))
        elif slide.kind == "outro":
            image, _ = render_outro(theme, show.listen_on, show.website)
        else:
            key = drawing_key(theme, slide, show.title)
            if kept and (found := _drawn(kept, key)):
                images.append(Drawn(None, found, key))
                continue
            image, _ = render_section(theme, slide, show.title)
            images.append(Drawn(image, None, key))
            continue
        images.append(Drawn(image))
    return images


def _drawn(kept: Path, key: str) -> Path | None:
    """The kept PNG of the drawing `key` names, if both are still there."""
    with contextlib.suppress(OSError):
        found = kept / (kept / DRAWN / key).read_text(encoding="utf-8").strip()
        return found if found.is_file() else None
    return None


def _png(drawn: Drawn, dst: Path, kept: Path) -> Path:
    """A slide as a PNG at `dst`, copied from `kept` (a folder of PNGs named by their
    pixels' hash) when the same pixels, or the same drawing, were made before: encoding
    the PNGs was half of the stage's time, and drawing most of the rest."""
    if drawn.kept is not None:
        shutil.copyfile(drawn.kept, dst)
        return drawn.kept
    image = drawn.image
    assert image is not None
    digest = hashlib.sha256(f"{image.mode}|{image.size}|{PNG_LEVEL}|".encode())
    digest.update(image.tobytes())
    entry = kept / f"{digest.hexdigest()}.png"
    if entry.is_file():
        shutil.copyfile(entry, dst)
    else:
        image.save(dst, compress_level=PNG_LEVEL)
        fsutil.write_bytes(entry, dst.read_bytes())
    if drawn.key:
        fsutil.write_text(kept / DRAWN / drawn.key, entry.name)
    return entry


def replace_dir(images: list[Drawn], target: Path) -> None:
    """Write the PNGs into a scratch folder of a unique name beside `target`, then swap it
    in, so a failure keeps the old. Scratch left by a run that died is removed first: the
    build lock (stage_command) keeps any other run of this episode out meanwhile. The
    folder of kept PNGs beside it keeps this build's."""
    fsutil.clear_scratch(target)
    scratch = fsutil.scratch_dir(target)
    kept = target.with_name(PNG_CACHE)
    try:
        used = {_png(image, scratch / f"{n:03d}.png", kept)
                for n, image in enumerate(images, 1)}
        fsutil.replace_dir(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for stale in set(kept.glob("*.png")) - used:
        stale.unlink(missing_ok=True)
    for index in (kept / DRAWN).glob("*"):
        with contextlib.suppress(OSError):
            if kept / index.read_text(encoding="utf-8").strip() not in used:
                index.unlink()


def slides_manifest(slides: list[Slide], theme: Theme, duration: float) -> Slides:
    return Slides(width=theme.width, height=theme.height, duration=duration, slides=[
        SlideEntry(index=n, file=f"slides/{n:03d}.png", kind=s.kind, section=s.section,
                   title=s.heading, segments=s.segments, start=round(s.start, 3),
                   end=round(s.end, 3))
        for n, s in enumerate(slides, 1)])


def encode_video(episode: Episode, manifest: Slides, duration: float) -> Count | None:
    """The video's slide pieces, each from build/video-cache/ where it is, and nothing else
    left there; None when the captions are burned into the picture, which the video stage
    encodes whole."""
    video = episode.settings.video
    if video.burn_captions:
        return None
    shown = slideshow.plan(episode.build, video, manifest.slides, duration)
    with task("slides: video GOPs", len(shown.cuts), unit="slides") as bar:
        return shown.encode(lambda done: bar.update(done * len(shown.cuts))).gops


@dataclass(frozen=True)
class SlidesResult:
    manifest: Slides
    build: Path
    gops: Count | None = None  # the video's GOPs this run encoded, of all; None: not made

    def summary(self) -> str:
        pages = sum(1 for s in self.manifest.slides if s.kind == "section")
        video = ("; the video's GOPs are left to the video stage (captions burned in)"
                 if self.gops is None else
                 f", and {self.gops} GOPs of the video encoded, the rest kept")
        return (f"slides: {len(self.manifest.slides)} slides ({pages} section pages), "
                f"thumbnail.jpg, slides.json in {self.build}{video}")


def run(episode: Episode) -> SlidesResult:
    """Write build/slides/NNN.png, build/slides.json, build/thumbnail.jpg and the video's
    slide pieces in build/video-cache/."""
    build = episode.build
    script = Script.read(build)
    timeline = Timeline.read(build)
    timeline.check_covers(script, build)
    video = episode.settings.video
    theme = load_theme(episode, video.width, video.height)
    slides = plan_slides(script, timeline, theme)
    images = render_slides(slides, theme, script, episode, build / PNG_CACHE)
    thumb_theme = load_theme(episode, *THUMB_SIZE, base_width=THUMB_SIZE[0])
    thumb, _ = render_thumbnail(thumb_theme, script.episode, episode.settings.show.title)
    replace_dir(images, build / "slides")
    manifest = slides_manifest(slides, theme, timeline.duration)
    gops = encode_video(episode, manifest, timeline.duration)  # a failure leaves slides.json
    manifest.write(build)
    fsutil.write_bytes(build / "thumbnail.jpg", jpeg_bytes(thumb))
    return SlidesResult(manifest, build, gops)


@stage_command("slides")
def command(episode: Episode) -> SlidesResult:
    """Draw the slides, slides.json and the thumbnail from script.json and timeline.json,
    and encode the video's slide pieces."""
    return run(episode)
