"""Stage `script`: the written issue -> `build/script.json`, segments with display and
spoken text (see docs/FORMATS.md)."""

from __future__ import annotations

import re
import shutil
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import click
import jinja2

from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    EpisodeInfo,
    Link,
    Script,
    Section,
    SectionKind,
    Segment,
    SegmentKind,
    ShowInfo,
)
from pipeline.markdown import Block, blocks
from pipeline.speech.lexicon import Lexicon, load_lexicon
from pipeline.speech.spoken import to_spoken
from pipeline.stages import stage_command


def slugify(text: str) -> str:
    """ASCII slug of a heading: 'Aligned AGI vs. AGI' -> 'aligned-agi-vs-agi'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def render_template(template: str, episode: Episode, field: str) -> str:
    """Render the show's intro/outro template; a broken template names the setting."""
    show = episode.settings.show
    try:
        text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
            show=show, episode=episode.meta, listen_on=list(show.listen_on)
        )
    except jinja2.TemplateError as exc:
        raise PipelineError(
            f"setting 'show.{field}' is not a valid template: {exc}",
            episode.assets / "show.toml",
        ) from None
    return " ".join(text.split())


class _Builder:
    """Accumulates sections and segments with stable ids."""

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        self.sections: list[Section] = []
        self.segments: list[Segment] = []
        self._counts: dict[tuple[str, str], int] = {}

    def section(self, title: str, kind: SectionKind, sid: str | None = None) -> None:
        base = sid or slugify(title)
        taken = {s.id for s in self.sections} | ({"intro", "outro"} if kind == "body" else set())
        sid, n = base, 2
        while sid in taken:
            sid, n = f"{base}-{n}", n + 1
        self.sections.append(Section(index=len(self.sections), id=sid, title=title, kind=kind))

    def segment(self, kind: SegmentKind, display: str, links: list[Link],
                items: list[str] | None = None) -> None:
        section = self.sections[-1]
        key = (section.id, kind)
        self._counts[key] = self._counts.get(key, 0) + 1
        self.segments.append(Segment(
            id=f"{section.id}/{kind}-{self._counts[key]}", kind=kind, section=section.id,
            section_index=section.index, display=display, spoken=self.spoken(display, items),
            links=links, items=items or []))

    def spoken(self, display: str, items: list[str] | None) -> str:
        if not items:
            return to_spoken(display, self.lexicon)
        # each list item is its own sentence to the voice
        parts = [to_spoken(item, self.lexicon).rstrip(" ;,") for item in items]
        return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts if p)


def _add_block(builder: _Builder, block: Block) -> None:
    links = [Link(text=link.text, url=link.url) for link in block.links]
    if block.kind == "section":
        builder.section(block.text, "body")
        builder.segment("heading", block.text, links)
    elif block.kind == "list":
        builder.segment("list", block.text, links, block.items)
    else:
        builder.segment(block.kind, block.text, links)


def build_script(episode: Episode, lexicon: Lexicon) -> Script:
    """The script of an episode (docs/FORMATS.md)."""
    show = episode.settings.show
    builder = _Builder(lexicon)
    builder.section("Introduction", "intro", "intro")
    builder.segment("intro", render_template(show.intro, episode, "intro"), [])
    for block in blocks(episode.body, episode.meta.title):
        _add_block(builder, block)
    builder.section("Outro", "outro", "outro")
    builder.segment("outro", render_template(show.outro, episode, "outro"), [])
    meta = episode.meta
    return Script(
        episode=EpisodeInfo(slug=episode.slug, title=meta.title, number=meta.number,
                            date=meta.date, summary=meta.summary),
        show=ShowInfo(title=show.title, author=show.author, language=show.language),
        sections=builder.sections, segments=builder.segments)


@dataclass(frozen=True)
class ScriptResult:
    path: Path
    script: Script

    def summary(self) -> str:
        script = self.script
        sections = sum(1 for s in script.sections if s.kind == "body")
        words = sum(len(s.spoken.split()) for s in script.segments)
        return (f"script: {len(script.segments)} segments in {sections} sections, "
                f"{words} spoken words -> {self.path}")


def run(episode: Episode) -> ScriptResult:
    """Build the episode's script and write `build/script.json` atomically."""
    lexicon = load_lexicon(episode.assets / "pronunciations.toml")
    script = build_script(episode, lexicon)
    return ScriptResult(script.write(episode.build), script)


def side_by_side(script: Script, width: int) -> str:
    """Each segment's display and spoken text in two columns, for proofreading."""
    col = max(20, (width - 3) // 2)
    lines: list[str] = []
    for seg in script.segments:
        lines.append(f"── {seg.id} ".ljust(width, "─"))
        left = textwrap.wrap(seg.display, col) or [""]
        right = textwrap.wrap(seg.spoken, col) or [""]
        for i in range(max(len(left), len(right))):
            a = left[i] if i < len(left) else ""
            b = right[i] if i < len(right) else ""
            lines.append(f"{a.ljust(col)} │ {b}")
    return "\n".join(lines)


@stage_command("script")
@click.option("--show", "show_text", is_flag=True,
              help="Print each segment's display and spoken text side by side.")
def command(episode: Episode, show_text: bool) -> ScriptResult:
    """Write build/script.json: the issue as segments with display and spoken text."""
    result = run(episode)
    if show_text:
        width = shutil.get_terminal_size((120, 24)).columns
        click.echo(side_by_side(result.script, width))
    return result
