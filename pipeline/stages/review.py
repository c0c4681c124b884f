"""Stage `review`: `build/review.html`, the page a producer opens before publishing.

It shows what the other stages built, side by side: the video with its captions, the
chapters (a click seeks), the audio, the QA figures, the script with the words the model
heard differently, a waveform and loudness-over-time picture (`build/review-loudness.png`),
the slides, the YouTube text and the feed item as `pipeline feed` would publish it. Every
URL is relative to `build/` (the captions travel inside the page: see captions_url), so the
page works opened from disk and served over HTTP. A missing or damaged input is named on
the page with the command that builds it.

`pipeline review episodes/<slug>`
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from pipeline.config import AudioSettings
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    QA,
    Chapters,
    HeardDifferently,
    Missed,
    Recording,
    Script,
    Segment,
    Slides,
    StageFile,
    Stretch,
    Timeline,
    target_for,
)
from pipeline.media.loudness import Loudness
from pipeline.media.meter import metered
from pipeline.media.picture import draw_picture
from pipeline.publish import gate
from pipeline.publish.preview import preview
from pipeline.publish.rss import environment
from pipeline.publish.youtube.describe import Chapter, links_left_out
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.platforms import (
    YOUTUBE_DESCRIPTION_MAX,
    YOUTUBE_FORBIDDEN,
    YOUTUBE_TITLE_MAX,
)
from pipeline.util.progress import note
from pipeline.util.timecode import clock

PAGE = "review.html"
PICTURE = "review-loudness.png"
TEMPLATE = "review.html.j2"
REVIEWED = ("script.json", "timeline.json", "episode.mp3", "chapters.json", "captions.vtt",
            "qa.json", "slides.json", "thumbnail.jpg", "video.mp4", "youtube-title.txt",
            "youtube-description.txt")
READ: dict[str, type[StageFile]] = {"script": Script, "timeline": Timeline,
                                     "chapters": Chapters, "qa": QA, "slides": Slides}
NARRATION_LABELS = {"titles": "titles only", "summary": "summarised", "replaced": "replaced",
                    "skip": "show notes only"}
LOUDNESS_SLACK = 1.0  # LU either side of the target that still passes
GATE_CLASSES = {"ok": "ok", "error": "bad", "warning": "warn", "not checked": "muted"}


# ---------------------------------------------------------------- reading the build


@dataclass(frozen=True)
class Missing:
    file: str
    command: str


@dataclass
class Inputs:
    """What the build folder holds: the stage files that read cleanly, and what is missing
    or broken (each named with the make target that rebuilds it)."""

    build: Path
    slug: str
    script: Script | None = None
    timeline: Timeline | None = None
    chapters: Chapters | None = None
    qa: QA | None = None
    slides: Slides | None = None
    missing: list[Missing] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def has(self, name: str) -> bool:
        return (self.build / name).is_file()

    def fix(self, name: str) -> str:
        return target_for(self.build / name)

    def broken(self, name: str, what: str) -> None:
        self.problems.append(f"{name}: {what} (rebuild it: {self.fix(name)})")


def read_inputs(build: Path, slug: str) -> Inputs:
    """Note every missing build file and read the stage files; nothing here raises."""
    inputs = Inputs(build, slug)
    inputs.missing = [Missing(name, inputs.fix(name)) for name in REVIEWED
                      if not inputs.has(name)]
    for attribute, model in READ.items():
        if inputs.has(model.FILE):
            try:
                setattr(inputs, attribute, model.read(build))
            except PipelineError as exc:
                inputs.broken(model.FILE, exc.message)
    return inputs


def read_text(inputs: Inputs, name: str) -> str | None:
    path = inputs.build / name
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        inputs.broken(name, "not UTF-8")
        return None


def url(name: str) -> str:
    """A build file's URL relative to review.html."""
    return quote(name)


# ---------------------------------------------------------------- page parts


def chapter_list(inputs: Inputs) -> list[Chapter]:
    """Chapters from chapters.json, else the timeline's sections."""
    if inputs.chapters and inputs.chapters.chapters:
        rows = [Chapter(c.startTime, c.title) for c in inputs.chapters.chapters]
    else:
        rows = [Chapter(s.start, s.title)
                for s in (inputs.timeline.sections if inputs.timeline else [])]
    return sorted(rows, key=lambda c: c.start)


@dataclass
class WordSpan:
    """A word of a segment's display text, or the space between two words."""

    text: str
    word: bool
    kind: str = "plain"  # plain | heard | missed
    at: float | None = None  # estimated time, from the segment's times
    heard: str = ""
    expected: str = ""


def _word_spans(display: str, start: float | None, end: float | None) -> list[WordSpan]:
    """The display text cut into words and the space between them, as the captions stage
    cuts it (str.split), so its word indices count the same words. With the segment's
    times, each word gets an estimated time: its share of the characters before it."""
    spans = [WordSpan(piece, not piece.isspace()) for piece in re.split(r"(\s+)", display)
             if piece]
    if start is not None and end is not None and display:
        offset = len(display) - len(display.lstrip())
        for span in spans:
            span.at = start + (end - start) * offset / len(display)
            offset += len(span.text)
    return spans


def _find(words: list[WordSpan], entry: Missed, cursor: int) -> int | None:
    """The entry's word: at its `index` when given; else among the words with its text from
    `cursor` on, the one whose estimated time is nearest the time it was heard (the first
    without times). Entries come in the segment's word order."""
    if entry.index is not None:
        return entry.index if 0 <= entry.index < len(words) else None
    candidates = [i for i in range(cursor, len(words)) if words[i].text == entry.display]
    heard_at = getattr(entry, "start", None)
    if not candidates or heard_at is None or words[0].at is None:
        return candidates[0] if candidates else None
    return min(candidates, key=lambda i: abs((words[i].at or 0.0) - heard_at))


def _place(words: list[WordSpan], entries: Sequence[Missed], kind: str) -> None:
    cursor = 0
    for entry in entries:
        index = _find(words, entry, cursor)
        if index is None:
            continue
        word = words[index]
        word.kind, word.expected = kind, entry.expected
        word.heard = entry.heard if isinstance(entry, HeardDifferently) else ""
        cursor = index + 1


def mark_words(display: str, heard: Sequence[HeardDifferently], missed: Sequence[Missed],
               start: float | None = None, end: float | None = None) -> list[WordSpan]:
    """The display text as spans; words the model heard differently or missed are marked."""
    spans = _word_spans(display, start, end)
    words = [span for span in spans if span.word]
    _place(words, heard, "heard")
    _place(words, missed, "missed")
    return spans


@dataclass(frozen=True)
class SegmentView:
    id: str
    kind: str
    narration: str  # as script.json's: read, titles, summary, replaced, skip
    start: float | None
    spans: list[WordSpan]  # what is said, with the words heard differently marked
    written: str  # the text as the issue has it, when something else is said
    raw_wer: float | None
    model_heard: str
    stretches: list[Stretch]

    @property
    def clock(self) -> str:
        return clock(self.start) if self.start is not None else ""


@dataclass
class SectionView:
    id: str
    title: str
    minutes: float | None  # narrated, from the timeline (None: not narrated or not yet)
    segments: list[SegmentView] = field(default_factory=list)


def _segment_view(segment: Segment, times: dict[str, tuple[float, float]],
                  qa: QA | None) -> SegmentView:
    heard = [e for e in (qa.heard_differently if qa else []) if e.segment == segment.id]
    missed = [e for e in (qa.missed if qa else []) if e.segment == segment.id]
    report = next((s for s in (qa.segments if qa else []) if s.id == segment.id), None)
    start, end = times.get(segment.id, (None, None))
    return SegmentView(
        id=segment.id, kind=segment.kind, narration=segment.narration, start=start,
        spans=mark_words(segment.caption, heard, missed, start, end),
        written=segment.display if segment.said is not None else "",
        raw_wer=report.raw_wer if report else None, model_heard=report.heard if report else "",
        stretches=[s for s in (qa.flagged_stretches if qa else []) if s.segment == segment.id])


def script_view(inputs: Inputs) -> list[SectionView]:
    """The script section by section, each segment with its start time and marked words."""
    if inputs.script is None:
        return []
    times = inputs.timeline.times() if inputs.timeline else {}
    spans = {s.id: (s.end - s.start) / 60 for s in inputs.timeline.sections} \
        if inputs.timeline else {}
    sections = {s.id: SectionView(s.id, s.title, spans.get(s.id))
                for s in inputs.script.sections}
    for segment in inputs.script.segments:
        sections[segment.section].segments.append(_segment_view(segment, times, inputs.qa))
    return [s for s in sections.values() if s.segments]


@dataclass(frozen=True)
class SlideView:
    url: str
    title: str
    start: float | None
    clock: str


def slide_list(inputs: Inputs) -> list[SlideView]:
    """The slides that exist on disk, from slides.json, else every slides/*.png."""
    if inputs.slides is None:
        return [SlideView(url(f"slides/{p.name}"), "", None, f"slides/{p.name}")
                for p in sorted(inputs.build.glob("slides/*.png"))]
    slides = []
    for slide in inputs.slides.slides:
        if not (inputs.build / slide.file).is_file():
            inputs.problems.append(f"slides.json lists {slide.file}, which is not there "
                                   f"(rebuild: {inputs.fix('slides.json')})")
            continue
        slides.append(SlideView(url(slide.file), slide.title, slide.start,
                                f"{clock(slide.start)}–{clock(slide.end or slide.start)}"))
    return slides


@dataclass(frozen=True)
class Check:
    """A row of a table of checks: what was measured against what is wanted."""

    label: str
    value: str | int
    target: str = ""
    ok: bool | None = None  # None: a figure to read, not a check

    @property
    def status(self) -> str:
        return "" if self.ok is None else ("ok" if self.ok else "bad")


def loudness_checks(loud: Loudness, audio: AudioSettings) -> list[Check]:
    level, peak = loud.integrated, loud.true_peak
    return [
        Check("Integrated loudness", f"{level:.1f} LUFS" if level is not None else "–",
              f"{audio.loudness_lufs:g} ± {LOUDNESS_SLACK:g} LU",
              None if level is None else abs(level - audio.loudness_lufs) <= LOUDNESS_SLACK),
        Check("True peak", f"{peak:.1f} dBTP" if peak is not None else "–",
              f"at most {audio.true_peak_db:g} dBTP",
              None if peak is None else peak <= audio.true_peak_db),
        Check("Loudness range", f"{loud.range:.1f} LU" if loud.range is not None else "–"),
    ]


def transcription_checks(qa: QA) -> list[Check]:
    return [
        Check("Word error rate, raw (Whisper against the script)", f"{qa.raw_wer:.1%}"),
        Check("Word error rate, corrected (captions against the script)",
              f"{qa.corrected_wer:.1%}"),
        Check("Words heard differently", len(qa.heard_differently)),
        Check("Words not heard", len(qa.missed)),
        Check("Stretches heard but not in the script", len(qa.flagged_stretches), "none",
              not qa.flagged_stretches),
        Check("Caption cues", qa.cues),
        Check("Cue rule violations", len(qa.cue_rule_violations), "none",
              not qa.cue_rule_violations),
    ]


def recording_checks(recordings: list[Recording]) -> list[Check]:
    """One row a recording: what was trimmed, and whether it clips."""
    return [Check(f"Recording {r.file} (section {r.section}), {r.trimmed_start:.2f} s and "
                  f"{r.trimmed_end:.2f} s of silence trimmed", r.verdict, "no clipping",
                  not r.clipped) for r in recordings]


def narration_check(timeline: Timeline, episode: Episode) -> Check:
    """Who narrates, a synthetic voice or the producer, and where that is disclosed."""
    voices = sorted({s.source for s in timeline.segments if s.source != "recording"})
    if not voices:
        return Check("Narration", "recorded: every section is the producer's reading",
                     "no disclosure (feed ai-content false, YouTube containsSyntheticMedia "
                     "false)", True)
    recorded = f", {len(timeline.recordings)} sections recorded" if timeline.recordings else ""
    said = any(s.kind == "disclosure" for s in timeline.segments)
    spoken = episode.settings.disclosure.spoken
    where = "said in the episode, and " if spoken else "not said (disclosure.spoken = false); "
    return Check("Narration", f"synthetic: {', '.join(voices)} voice{recorded}",
                 f"{where}in the show notes, the feed (ai-content true) and YouTube "
                 "(containsSyntheticMedia true)", said or not spoken)


def qa_figures(loud: Loudness | None, inputs: Inputs, episode: Episode) -> list[Check]:
    """Rows of the QA table: who narrates, measured loudness against the show's targets,
    the WERs, the producer's recordings."""
    rows = [narration_check(inputs.timeline, episode)] if inputs.timeline else []
    rows += loudness_checks(loud, episode.settings.audio) if loud is not None else []
    rows += transcription_checks(inputs.qa) if inputs.qa else []
    recorded = inputs.timeline or inputs.qa
    return rows + recording_checks(recorded.recordings if recorded else [])


@dataclass(frozen=True)
class YouTubeView:
    title: str | None
    description: str | None
    checks: list[Check]
    thumbnail: str | None


def youtube_checks(title: str | None, description: str | None) -> list[Check]:
    checks = []
    if title is not None:
        checks.append(Check("Title length", f"{len(title)} characters",
                            f"at most {YOUTUBE_TITLE_MAX}", len(title) <= YOUTUBE_TITLE_MAX))
    if description is not None:
        size = len(description.encode("utf-8"))
        checks.append(Check("Description size", f"{size} bytes",
                            f"at most {YOUTUBE_DESCRIPTION_MAX}",
                            size <= YOUTUBE_DESCRIPTION_MAX))
        if left_out := links_left_out(description):
            checks.append(Check("Links cut to fit", f"{left_out} more links",
                                "counted, with the full issue's URL", None))
    text = (title or "") + (description or "")
    if text:
        clean = not any(c in text for c in YOUTUBE_FORBIDDEN)
        checks.append(Check("Angle brackets (YouTube refuses < and >)",
                            "none" if clean else "found", "none", clean))
    return checks


def youtube_text(inputs: Inputs) -> YouTubeView:
    """The title and description as they will be sent, with YouTube's limits checked."""
    title = read_text(inputs, "youtube-title.txt")
    title = title.strip() if title is not None else None
    description = read_text(inputs, "youtube-description.txt")
    thumbnail = url("thumbnail.jpg") if inputs.has("thumbnail.jpg") else None
    return YouTubeView(title, description, youtube_checks(title, description), thumbnail)


# ---------------------------------------------------------------- the stage


@dataclass(frozen=True)
class Review:
    page: Path
    picture: Path | None
    missing: list[Missing]
    problems: list[str]

    def summary(self) -> str:
        return f"wrote {self.page} (open {self.page.resolve().as_uri()})"


def captions_url(vtt: Path) -> str | None:
    """The captions as a data: URL. Browsers treat every file: URL as its own origin, so a
    page opened from disk may not fetch a <track> beside it (Chromium refuses with "Unsafe
    attempt to load URL"); a data: URL goes to the same WebVTT parser from disk and HTTP."""
    if not vtt.is_file():
        return None
    return "data:text/vtt;charset=utf-8;base64," + base64.b64encode(vtt.read_bytes()).decode()


@dataclass(frozen=True)
class MediaView:
    video: str | None
    audio: str | None
    captions: str | None
    language: str


def _media(inputs: Inputs, language: str) -> MediaView:
    return MediaView(url("video.mp4") if inputs.has("video.mp4") else None,
                     url("episode.mp3") if inputs.has("episode.mp3") else None,
                     captions_url(inputs.build / "captions.vtt"), language)


@dataclass(frozen=True)
class PictureView:
    url: str
    duration: float


def write_picture(episode: Episode, inputs: Inputs,
                  chapters: list[Chapter]) -> tuple[Loudness | None, PictureView | None]:
    """Measure episode.mp3 and write the picture; (None, None) without an MP3."""
    mp3 = episode.build / "episode.mp3"
    if not mp3.is_file():
        return None, None
    found = metered(mp3, f"rebuild it: {inputs.fix('episode.mp3')}")
    audio = episode.settings.audio
    image = draw_picture(found, [c.start for c in chapters], audio.loudness_lufs,
                         audio.true_peak_db)
    with fsutil.atomic_path(episode.build / PICTURE) as tmp:
        image.save(tmp, format="PNG")
    return found.loud, PictureView(url(PICTURE), found.duration)


@dataclass(frozen=True)
class GateView:
    summary: str
    rows: list[tuple[str, str, str, str]]
    classes: dict[str, str] = field(default_factory=lambda: dict(GATE_CLASSES))


def gate_view(episode: Episode, loud: Loudness | None,
              probes: gate.Probes | None = None) -> GateView:
    """The pre-flight table, with the loudness just measured for the picture."""
    figures = (loud.integrated, loud.true_peak) if loud is not None else (None, None)
    known = None if None in figures else (figures[0], figures[1])
    report = gate.check(episode, gate.SCOPES, loudness=known, probes=probes)
    return GateView(report.summary(), report.table())


def page_context(episode: Episode, inputs: Inputs, env: jinja2.Environment,
                 probes: gate.Probes | None = None) -> dict[str, Any]:
    """What the template shows; `probes`, started before, are the gate's."""
    chapters = chapter_list(inputs)
    loud, picture = write_picture(episode, inputs, chapters)
    has_mp3 = inputs.has("episode.mp3")
    return {
        "show": episode.settings.show, "episode": episode.meta, "slug": episode.slug,
        "media": _media(inputs, episode.settings.show.language),
        "chapters": chapters, "qa": qa_figures(loud, inputs, episode), "qa_info": inputs.qa,
        "picture": picture, "script": script_view(inputs), "slides": slide_list(inputs),
        "narration_labels": NARRATION_LABELS,
        "youtube": youtube_text(inputs),
        "feed": preview(episode, env) if has_mp3 else None,
        "missing": inputs.missing, "problems": inputs.problems,
        "gate": gate_view(episode, loud, probes),
    }


def run(episode: Episode) -> Review:
    """Write build/review.html (and build/review-loudness.png when there is an MP3).
    ffprobe reads the video and the MP3 for the gate meanwhile, both at once."""
    with ThreadPoolExecutor(max_workers=len(gate.PROBED)) as pool:
        probes = gate.start_probes(episode, pool)
        inputs = read_inputs(episode.build, episode.slug)
        env = environment(episode.root)
        context = page_context(episode, inputs, env, probes)
    html = env.get_template(TEMPLATE).render(**context)
    fsutil.write_text(episode.build / PAGE, html)
    picture = episode.build / PICTURE if context["picture"] else None
    problems = inputs.problems + (context["feed"].problems if context["feed"] else [])
    return Review(episode.build / PAGE, picture, inputs.missing, problems)


@stage_command("review")
def command(episode: Episode) -> Review:
    """Write build/review.html: everything to check before publishing, on one page."""
    review = run(episode)
    for item in review.missing:
        note(f"review: not built yet: {item.file} ({item.command})")
    for problem in review.problems:
        note(f"review: warning: {problem}")
    return review
