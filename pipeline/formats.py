"""The files the stages hand each other, as typed models: what each holds, which make target
makes it, one read and one atomic write.

A read names the file, what is wrong with it and the make target that rebuilds it, in one
line. docs/FORMATS.md describes the same fields, and a test fails when the two disagree.
Times are seconds from the start of the final `episode.mp3`.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any, ClassVar, Literal, NotRequired, Self

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import ErrorDetails
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from pipeline.config import read_toml
from pipeline.errors import PipelineError
from pipeline.util import fsutil

# Which make target makes each file. The one table: messages, the review page and the
# feed take their "rebuild it" hints from here, and a test checks each is a real target.
MADE_BY: dict[str, str] = {
    "script.json": "script",
    "narration.wav": "narrate",
    "timeline.json": "narrate",
    "episode.mp3": "master",
    "episode.m4a": "master",
    "chapters.json": "master",
    "transcript.json": "captions",
    "captions.vtt": "captions",
    "captions.srt": "captions",
    "qa.json": "captions",
    "slides.json": "slides",
    "slides": "slides",
    "thumbnail.jpg": "slides",
    "video.mp4": "video",
    "youtube-title.txt": "video",
    "youtube-description.txt": "video",
    "review.html": "review",
    "review-loudness.png": "review",
    "youtube.json": "upload",
    "feed.xml": "feed",
    ".ledger.toml": "feed",
    "published.toml": "publish",
    "youtube.toml": "upload",
}


def target_for(path: Path | str) -> str:
    """`make <target> EP=<slug>` for a file in an episode's build folder, `make <target>`
    for the feed's files."""
    path = Path(path)
    target = MADE_BY.get(path.name) or MADE_BY.get(path.parent.name, "episode")
    build = next((p for p in path.parents if p.name == "build"), None)
    return f"make {target} EP={build.parent.name}" if build else f"make {target}"


def rebuild_hint(path: Path | str) -> str:
    return f"rebuild it: {target_for(path)}"


def require(path: Path) -> Path:
    """A file another stage makes, or a one-line error saying which target builds it."""
    if not path.exists():
        raise PipelineError("not found", path, f"build it: {target_for(path)}")
    return path


class Model(BaseModel):
    """A part of a stage file: unknown fields are errors, values do not change once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _where(error: ErrorDetails) -> str:
    """`segments[3].start` from pydantic's location tuple."""
    out = ""
    for part in error["loc"]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = _where(error)
    if error["type"] == "extra_forbidden":
        message = "an unknown field"
    elif not where and error["type"] in ("model_type", "dict_type"):
        message = "not a JSON object"
    elif error["type"] == "value_error":
        message = str(error["ctx"]["error"])
    else:
        message = error["msg"].lower()
    return f"{where}: {message}" if where else message


class StageFile(Model):
    """A JSON file in an episode's build folder."""

    FILE: ClassVar[str]
    FIX: ClassVar[str | None] = None  # what to do about a damaged file, if not to rebuild it

    @classmethod
    def fix(cls, path: Path) -> str:
        return cls.FIX or rebuild_hint(path)

    @classmethod
    def path(cls, build: Path) -> Path:
        return build / cls.FILE

    @classmethod
    def read(cls, build: Path) -> Self:
        """The file in `build`; a missing, damaged or out-of-date file is one PipelineError."""
        path = cls.path(build)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineError("not found", path, f"build it: {target_for(path)}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise PipelineError(f"not valid JSON ({exc})", path, cls.fix(path)) from None
        return cls.parse(data, path)

    @classmethod
    def parse(cls, data: Any, path: Path) -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PipelineError(_problem(exc), path, cls.fix(path)) from None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    def write(self, build: Path) -> Path:
        """Write the file into `build` atomically; returns its path."""
        path = self.path(build)
        fsutil.write_json(path, self.dump())
        return path


# ---------------------------------------------------------------- script.json (script)

SectionKind = Literal["intro", "body", "outro"]
SegmentKind = Literal["intro", "heading", "paragraph", "list", "quote", "table", "outro",
                      "disclosure"]
# how a segment is narrated: as written, its links' titles only, summarised in one line, by
# the producer's replacement line, or not at all (it stays in the show notes)
Narration = Literal["read", "titles", "summary", "replaced", "skip"]


class Link(Model):
    text: str
    url: str


class EpisodeInfo(Model):
    slug: str
    title: str
    number: int
    date: dt.date
    summary: str


class ShowInfo(Model):
    title: str
    author: str
    language: str


class Section(Model):
    index: int
    id: str
    title: str
    kind: SectionKind


class Segment(Model):
    id: str  # <section id>/<kind>-<n>: stays when the text changes
    kind: SegmentKind
    section: str
    section_index: int
    display: str  # as written, Markdown markers gone: slides and captions
    spoken: str  # what the voice says ("" when the segment is not narrated)
    links: list[Link] = []
    items: list[str] = []  # a list segment's items, as displayed
    rows: list[list[str]] = []  # a table's rows of cells, the header row first
    narration: Narration = "read"
    said: str | None = None  # what is narrated instead of `display`, as written

    @property
    def narrated(self) -> bool:
        return self.narration != "skip"

    @property
    def caption(self) -> str:
        """What the listener hears, as written: the captions and slides show it."""
        return self.display if self.said is None else self.said


class Script(StageFile):
    FILE = "script.json"

    version: Literal[1] = 1
    episode: EpisodeInfo
    show: ShowInfo
    sections: list[Section]
    segments: list[Segment]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.sections or not self.segments:
            raise ValueError("the script has no sections or segments")
        ids = {section.id for section in self.sections}
        for segment in self.segments:
            if segment.section not in ids:
                raise ValueError(f"segment {segment.id} names an unknown section "
                                 f"'{segment.section}'")
        return self

    def segments_of(self, section: str) -> list[Segment]:
        return [s for s in self.segments if s.section == section]

    def narrated(self) -> list[Segment]:
        return [s for s in self.segments if s.narrated]


# ---------------------------------------------------------------- timeline.json (narrate)


class TimedSegment(Model):
    id: str
    section: str
    section_index: int
    kind: SegmentKind
    start: float  # when its speech starts in episode.mp3
    end: float
    cached: bool  # every chunk came from the voice cache in the run that wrote the file
    source: str  # the voice engine, or "recording"


class TimedSection(Model):
    id: str
    index: int  # the section's index in script.json
    title: str
    start: float  # its first segment's start (0 for the first section)
    end: float  # the next section's start (the episode's end for the last)


class Recording(Model):
    """A section the producer recorded, as the producer should hear of it."""

    file: str  # the file's name in recordings/
    section: str  # the id of the section it reads
    seconds: float  # its length as recorded
    kept_seconds: float  # its length once the silent edges are trimmed
    trimmed_start: float  # seconds of silence cut from the start
    trimmed_end: float  # seconds of silence cut from the end
    peak_dbfs: float  # the loudest sample of any channel
    clipped_samples: int  # samples in clipped runs, every channel counted
    clipped_runs: int  # runs of consecutive samples at full scale
    longest_run: int  # samples in the longest run
    first_clips: list[float]  # seconds into the file where the first runs start
    verdict: str  # one line for a human

    @property
    def clipped(self) -> bool:
        return self.clipped_runs > 0


class Timeline(StageFile):
    FILE = "timeline.json"

    version: Literal[1] = 1
    duration: float  # the length of episode.mp3
    narration_offset: float  # where narration.wav starts in the episode
    segments: list[TimedSegment]
    sections: list[TimedSection]
    recordings: list[Recording] = []  # the producer's recordings used, in section order

    def times(self) -> dict[str, tuple[float, float]]:
        return {s.id: (s.start, s.end) for s in self.segments}

    @property
    def synthetic(self) -> bool:
        """A segment is the voice's, not a recording's: the episode discloses it."""
        return any(s.source != "recording" for s in self.segments)

    def check_covers(self, script: Script, build: Path) -> None:
        """Every narrated segment of the script has its times: the narration is not older
        than the script."""
        timed = {s.id for s in self.segments}
        absent = [s.id for s in script.narrated() if s.id not in timed]
        if absent:
            path = self.path(build)
            raise PipelineError(f"has no times for segment '{absent[0]}' of script.json",
                                path, f"the narration is older than the script: "
                                      f"{target_for(path)}")


# ---------------------------------------------------------------- chapters.json (master)


class Chapter(Model):
    startTime: float  # the Podcasting 2.0 names
    endTime: float
    title: str


class Chapters(StageFile):
    FILE = "chapters.json"

    version: str = "1.2.0"
    chapters: list[Chapter]

    @classmethod
    def of(cls, timeline: Timeline) -> Chapters:
        """One chapter per section, times as in the timeline."""
        return cls(chapters=[Chapter(startTime=s.start, endTime=s.end, title=s.title)
                             for s in timeline.sections])


# ---------------------------------------------------------------- captions' files (captions)


class HeardWord(Model):
    text: str  # the model's spelling with punctuation, word pieces joined
    start: float
    end: float
    probability: float


class Transcript(StageFile):
    FILE = "transcript.json"

    version: Literal[1] = 1
    backend: str
    model: str
    device: str
    audio_seconds: float
    words: list[HeardWord]


class SegmentQA(Model):
    id: str
    raw_wer: float
    words: int
    errors: int
    heard: str


class LexiconCandidate(Model):
    word: str
    heard: str
    count: int


class Missed(Model):
    segment: str
    display: str
    expected: str
    index: int | None = None  # the word's index in display.split(), when known


class HeardDifferently(Missed):
    heard: str
    start: float


class Dropped(Model):
    segment: str
    word: str
    start: float


class Stretch(Model):
    segment: str
    start: float
    end: float
    text: str


class Sound(Model):
    text: str
    start: float


class QA(StageFile):
    FILE = "qa.json"

    version: Literal[1] = 1
    model: str
    backend: str
    device: str
    seconds_per_audio_second: float
    raw_wer: float
    corrected_wer: float
    segments: list[SegmentQA]
    lexicon_candidates: list[LexiconCandidate]
    heard_differently: list[HeardDifferently]
    missed: list[Missed]
    dropped_count: int
    dropped: list[Dropped]
    flagged_stretches: list[Stretch]
    non_speech: list[Sound]
    cues: int
    cue_rule_violations: list[str]
    notes: list[str]
    recordings: list[Recording] = []  # as timeline.json has them: trimming and clipping
    pieces: int = 0  # pieces of the narration Whisper heard on their own
    pieces_from_cache: int = 0  # of those, the ones heard in an earlier run
    seconds_transcribed: float = 0.0  # audio run through the model in this run


# ---------------------------------------------------------------- slides.json (slides)


class SlideEntry(Model):
    index: int
    file: str  # relative to build/
    kind: Literal["title", "section", "outro"]
    section: str
    title: str
    segments: list[str]
    start: float
    end: float


class Slides(StageFile):
    FILE = "slides.json"

    version: Literal[1] = 1
    width: int
    height: int
    duration: float
    slides: list[SlideEntry]


# ---------------------------------------------------------------- youtube.json (upload)

# The `videos.insert` body: plain JSON on the wire and in the file, its keys named here.

@with_config(ConfigDict(extra="forbid"))
class VideoSnippet(TypedDict):
    title: str
    description: str
    tags: list[str]
    categoryId: str
    defaultLanguage: str
    defaultAudioLanguage: str


@with_config(ConfigDict(extra="forbid"))
class VideoStatus(TypedDict):
    privacyStatus: Literal["private", "unlisted", "public"]
    selfDeclaredMadeForKids: bool
    containsSyntheticMedia: NotRequired[bool]  # narration synthesised; absent in older records
    publishAt: NotRequired[str]  # UTC, `Z`; only when scheduled, which forces private


@with_config(ConfigDict(extra="forbid"))
class VideoBody(TypedDict):
    snippet: VideoSnippet
    status: VideoStatus


class FileStamp(Model):
    name: str
    bytes: int
    sha256: str


class UploadStep(Model):
    status: Literal["started", "done", "skipped"]
    session_uri: str | None = None  # an open resumable session, never with a token in it
    file: FileStamp | None = None
    id: str | None = None
    url: str | None = None
    privacy_asked: str | None = None
    privacy: str | None = None
    playlist_id: str | None = None
    reason: str | None = None
    found_in: str | None = None  # an earlier upload found: "channel" or "episodes/youtube.toml"
    at: str


class YouTubeRecord(StageFile):
    """What was sent to YouTube and what came back, saved after every step."""

    FILE = "youtube.json"
    FIX = "restore it; delete it only if the video is not on YouTube"

    version: Literal[1] = 1
    steps: dict[str, UploadStep] = {}
    video_file: FileStamp | None = None
    request: VideoBody | None = None  # the videos.insert body, as sent
    previous: list[YouTubeRecord] = []  # earlier records, when --force uploaded again


# ---------------------------------------------------------------- the ledgers (feed, publish)


class LedgerShow(Model):
    feed_url: str
    guid: str  # podcast:guid, made once from the first feed URL and kept when the URL moves

    @field_validator("guid")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))


class LedgerEpisode(Model):
    slug: str
    number: int
    guid: str
    enclosure_url: str
    sha256: str
    first_published: dt.datetime  # when `pipeline publish` first delivered a feed with it


class PendingEpisode(LedgerEpisode):
    first_published: dt.datetime | None = None  # None: never published yet


LEDGER_HEADER = (
    "# What the feed has published: written by `pipeline publish` once the feed is\n"
    "# delivered; commit it. A published episode keeps its guid and enclosure URL for\n"
    "# ever: `pipeline feed` refuses a build that would change them unless given\n"
    "# --allow-changed-guid.\n\n"
)
PENDING_HEADER = (
    "# The ledger as it will be once this public/ is published: written by `pipeline feed`,\n"
    "# copied to episodes/published.toml by `pipeline publish` after it delivered the feed.\n"
    "# Not delivered (a dot-file). first_published is absent for episodes never published.\n\n"
)


class TomlFile(Model):
    HEADER: ClassVar[str]
    FIX: ClassVar[str]

    @classmethod
    def read_toml(cls, path: Path) -> Self:
        try:
            return cls.model_validate(read_toml(path))
        except ValidationError as exc:
            raise PipelineError(f"ledger entry {_problem(exc)}", path, cls.FIX) from None

    def text(self) -> str:
        return self.HEADER + tomli_w.dumps(self.model_dump(exclude_none=True))

    def write_toml(self, path: Path) -> bool:
        """Write the file atomically when it changed; say whether it did."""
        text = self.text()
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return False
        fsutil.write_text(path, text)
        return True


class Ledger(TomlFile):
    """episodes/published.toml: what has been published. Only `pipeline publish` writes it."""

    HEADER = LEDGER_HEADER
    FIX = "restore the file from git"

    show: LedgerShow | None = None
    episodes: list[LedgerEpisode] = []

    @classmethod
    def read(cls, path: Path) -> Ledger:
        """The ledger; an empty one when the file does not exist yet."""
        return cls.read_toml(path) if path.is_file() else cls()

    def entry(self, slug: str) -> LedgerEpisode | None:
        return next((e for e in self.episodes if e.slug == slug), None)


class PendingLedger(TomlFile):
    """public/.ledger.toml: the ledger as it will be once public/ is published."""

    HEADER = PENDING_HEADER
    FIX = "rebuild it: make feed"

    built_against: str  # sha256 of the episodes/published.toml public/ was built from, or ""
    show: LedgerShow
    episodes: list[PendingEpisode]

    def published(self, ledger: Ledger, now: dt.datetime) -> Ledger:
        """`ledger` after publishing this at `now`: an episode first published now gets `now`;
        one `ledger` already has (this very public/ published before) keeps its time."""
        episodes = []
        for pending in self.episodes:
            old = ledger.entry(pending.slug)
            when = pending.first_published or (old.first_published if old else now)
            episodes.append(LedgerEpisode(**{**pending.model_dump(), "first_published": when}))
        return Ledger(show=self.show, episodes=episodes)

    def changes(self, ledger: Ledger) -> bool:
        """Whether publishing this would change `ledger`."""
        return self.published(ledger, dt.datetime.now(dt.UTC)) != ledger


# ---------------------------------------------------------------- episodes/youtube.toml (upload)

YouTubeStep = Literal["thumbnail", "captions", "playlist"]
YOUTUBE_VIDEOS_HEADER = (
    "# Each episode's video on YouTube: written by `pipeline upload` as each step is done;\n"
    "# commit it. A clone without build/ (or another machine) reads it and carries on with\n"
    "# the same video, never a second one.\n\n"
)


class YouTubeVideo(Model):
    video_id: str
    uploaded: dt.datetime  # when the video was recorded as this episode's (UTC)
    done: list[YouTubeStep] = []  # the steps after the video that are done
    previous: list[str] = []  # earlier videos of the episode, replaced with --force


class YouTubeVideos(TomlFile):
    """episodes/youtube.toml: each episode's YouTube video. Only `pipeline upload` writes it."""

    HEADER = YOUTUBE_VIDEOS_HEADER
    FIX = "restore the file from git"

    episodes: dict[str, YouTubeVideo] = {}

    @classmethod
    def read(cls, path: Path) -> YouTubeVideos:
        """The file; an empty one when it does not exist yet."""
        return cls.read_toml(path) if path.is_file() else cls()


STAGE_FILES: tuple[type[StageFile], ...] = (Script, Timeline, Chapters, Transcript, QA, Slides,
                                             YouTubeRecord)
