"""Stage `script`: the written issue -> `build/script.json`, segments with display and
spoken text (see docs/FORMATS.md)."""

from __future__ import annotations

import re
import shutil
import textwrap
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jinja2

from pipeline.config import SpokenSettings
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
from pipeline.markdown import blocks
from pipeline.media.recordings import find_recordings
from pipeline.speech.editorial import Editor, Planned, plan
from pipeline.speech.lexicon import Lexicon, load_lexicon
from pipeline.speech.spoken import to_spoken, versions_in
from pipeline.stages import stage_command


def slugify(text: str) -> str:
    """ASCII slug of a heading: 'Aligned AGI vs. AGI' -> 'aligned-agi-vs-agi'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "section"


def render_template(template: str, episode: Episode, setting: str) -> str:
    """Render one of the show's templates (show.intro, show.outro, disclosure.line); a
    broken template names the setting."""
    show = episode.settings.show
    try:
        text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(
            show=show, episode=episode.meta, listen_on=list(show.listen_on)
        )
    except jinja2.TemplateError as exc:
        raise PipelineError(
            f"setting '{setting}' is not a valid template: {exc}",
            episode.assets / "show.toml",
        ) from None
    return " ".join(text.split())


class _Builder:
    """Accumulates sections and segments with stable ids."""

    def __init__(self, lexicon: Lexicon, settings: SpokenSettings, versions: set[str]):
        self.lexicon = lexicon
        self.settings = settings
        self.versions = versions  # two-part versions the issue marks as versions
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

    def segment(self, kind: SegmentKind, display: str, spoken: str,
                section: Section | None = None, at: int | None = None, **fields: Any) -> None:
        """A segment of `section` (the last one begun), appended or put at index `at`."""
        section = section or self.sections[-1]
        key = (section.id, kind)
        self._counts[key] = self._counts.get(key, 0) + 1
        self.segments.insert(len(self.segments) if at is None else at, Segment(
            id=f"{section.id}/{kind}-{self._counts[key]}", kind=kind, section=section.id,
            section_index=section.index, display=display, spoken=spoken, **fields))

    def say(self, text: str) -> str:
        return to_spoken(text, self.lexicon, self.settings, self.versions)

    def spoken(self, planned: Planned) -> str:
        """What the voice says for a planned block: nothing, the line said instead, or the
        block's Markdown source (a list's items each a sentence)."""
        if planned.narration == "skip":
            return ""
        if planned.said is not None:
            return self.say(planned.said)
        block = planned.block
        if block.kind != "list":
            return self.say(block.source)
        parts = [self.say(item).rstrip(" ;,") for item in block.item_sources]
        return " ".join(p if p.endswith((".", "!", "?")) else p + "." for p in parts if p)

    def add(self, planned: Planned) -> None:
        block = planned.block
        if block.kind == "section":
            self.section(block.text, "body")
        kind = "heading" if block.kind == "section" else block.kind
        self.segment(kind, block.text, self.spoken(planned),
                     links=[Link(text=link.text, url=link.url) for link in block.links],
                     items=block.items, rows=block.rows, narration=planned.narration,
                     said=planned.said)


def disclosure_host(sections: list[Section], voiced: set[str], where: str) -> Section | None:
    """The section the synthetic voice says the disclosure in: `where` (intro or outro) when
    the voice reads it, else the other one, else the first body section it reads; None when
    the producer recorded every narrated section."""
    other = "outro" if where == "intro" else "intro"
    ranked = sorted(sections, key=lambda s: (s.kind != where, s.kind != other, s.index))
    return next((s for s in ranked if s.id in voiced), None)


def disclose(builder: _Builder, episode: Episode) -> None:
    """Add the spoken disclosure (`[disclosure]` in show.toml) when a section is synthesised:
    a `disclosure` segment right after the introduction line, or at the end of its section."""
    settings = episode.settings.disclosure
    recorded = find_recordings(episode.dir / "recordings", builder.sections)
    voiced = {s.section for s in builder.segments if s.narrated} - set(recorded)
    host = disclosure_host(builder.sections, voiced, settings.where)
    line = render_template(settings.line, episode, "disclosure.line")
    if not settings.spoken or host is None or not line:
        return
    own = [i for i, s in enumerate(builder.segments) if s.section == host.id]
    at = own[0] + 1 if host.kind == "intro" else own[-1] + 1
    builder.segment("disclosure", line, builder.say(line), section=host, at=at)


def build_script(episode: Episode, lexicon: Lexicon) -> Script:
    """The script of an episode (docs/FORMATS.md)."""
    show = episode.settings.show
    builder = _Builder(lexicon, episode.settings.spoken, versions_in(episode.body))
    builder.section("Introduction", "intro", "intro")
    intro = render_template(show.intro, episode, "show.intro")
    builder.segment("intro", intro, builder.say(intro))
    editor = Editor(episode.settings.editorial, episode.meta.narrate)
    for planned in plan(blocks(episode.body, episode.meta.title), editor):
        builder.add(planned)
    builder.section("Outro", "outro", "outro")
    outro = render_template(show.outro, episode, "show.outro")
    builder.segment("outro", outro, builder.say(outro))
    disclose(builder, episode)
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


# hibari at speed 1.0 on the first issue: 1,422 spoken words in 9.2 minutes, pauses included
WORDS_PER_MINUTE = 155
SHOWN = {"read": "", "titles": " (titles only)", "summary": " (summarised)",
         "replaced": " (replaced)", "skip": " (show notes only)"}


def minutes(segments: list[Segment], speed: float = 1.0) -> float:
    """About how long the voice takes to say the segments."""
    words = sum(len(s.spoken.split()) for s in segments)
    return words / (WORDS_PER_MINUTE * speed)


def narration_table(script: Script, speed: float = 1.0) -> str:
    """Each section's narrated minutes and how many of its segments are read, summarised
    (or replaced, or read as titles) and left to the show notes."""
    lines = []
    for section in script.sections:
        segs = script.segments_of(section.id)
        skipped = sum(1 for s in segs if s.narration == "skip")
        other = sum(1 for s in segs if s.narration not in ("read", "skip"))
        lines.append(f"{minutes(segs, speed):5.1f} min  {section.title}: {len(segs)} segments"
                     f", {len(segs) - skipped - other} read, {other} summarised or "
                     f"shortened, {skipped} show notes only")
    lines.append(f"{minutes(script.segments, speed):5.1f} min  in all, about")
    return "\n".join(lines)


def side_by_side(script: Script, width: int) -> str:
    """Each segment's display and spoken text in two columns, for proofreading, with how
    it is narrated."""
    col = max(20, (width - 3) // 2)
    lines: list[str] = []
    for seg in script.segments:
        lines.append(f"── {seg.id}{SHOWN[seg.narration]} ".ljust(width, "─"))
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
        click.echo(narration_table(result.script, episode.settings.voice.speed))
    return result
