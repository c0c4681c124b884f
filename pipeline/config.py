"""Show settings: `assets/show.toml`, typed and frozen, with per-episode overrides.

Unknown keys and wrong types are errors that name the key and the file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from pipeline.errors import PipelineError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ShowInfo(_Section):
    title: str
    author: str
    owner_name: str
    owner_email: str = ""  # the feed stage refuses to publish without one
    language: str = "en"
    category: str = "Technology"
    subcategory: str = ""
    explicit: bool = False
    website: str = ""
    base_url: str = ""  # public URL the feed and audio are served from
    artwork: str = "artwork.png"  # relative to assets/
    copyright: str = ""
    description: str = ""
    listen_on: dict[str, str] = Field(default_factory=dict)  # platform name -> URL
    # jinja2 templates for the words before and after the issue; they see `show`,
    # `episode` (title, number, date, summary) and `listen_on` (the platform names)
    intro: str = (
        "Welcome to {{ show.title }}, episode {{ episode.number }}: {{ episode.title }}. "
        "{{ episode.summary }}"
    )
    outro: str = (
        "Thanks for listening to {{ show.title }}. Every link from this episode is in the "
        "show notes{% if listen_on %}, and you can follow the show on "
        "{{ listen_on | join(' and ') }}{% endif %}."
    )


class VoiceSettings(_Section):
    engine: str = "hibari"  # hibari | piper | espeak
    name: str = ""  # the engine's voice; empty takes the engine's default
    speed: float = 1.0  # 0.5-2.0
    seed: int = 0  # synthesis is seeded so the same input gives the same audio
    paragraph_pause: float = 0.6  # seconds between segments of a section
    section_pause: float = 1.2  # seconds between sections


class AudioSettings(_Section):
    bitrate: str = "128k"
    sample_rate: int = 44100
    channels: Literal[1, 2] = 1
    loudness_lufs: float = -16.0
    true_peak_db: float = -1.0
    music: bool = True  # intro and outro music under the first and last words


class WhisperSettings(_Section):
    backend: Literal["openai-whisper", "faster-whisper"] = "faster-whisper"
    model: str = ""  # a name (tiny.en, base) or a path; empty picks by device
    device: Literal["auto", "cpu", "cuda"] = "auto"
    language: str = "en"


class VideoSettings(_Section):
    width: int = 1920
    height: int = 1080
    fps: int = 30
    burn_captions: bool = False
    font: str = "fonts/DejaVuSans.ttf"  # relative to assets/
    bold_font: str = "fonts/DejaVuSans-Bold.ttf"  # relative to assets/
    crf: int = 16  # x264 quality of the one GOP encoded per slide (lower is better)
    preset: str = "medium"  # x264 preset; only a few frames per slide are encoded
    audio_bitrate: str = "384k"  # AAC-LC, YouTube's recommendation for stereo


class YouTubeSettings(_Section):
    client_secrets: str = ""  # path to the OAuth client-secrets file
    privacy: Literal["private", "unlisted", "public"] = "private"
    category_id: str = "28"  # Science & Technology
    playlist_id: str = ""
    tags: list[str] = Field(default_factory=list)
    made_for_kids: bool = False
    publish_at: str = ""  # ISO 8601; forces private until then
    default_language: str = ""  # language of title and description; empty: show.language
    audio_language: str = ""  # language spoken in the video; empty: show.language
    captions_language: str = ""  # language of captions.vtt; empty: show.language
    captions_name: str = ""  # caption track name shown to viewers; empty: none
    notify_subscribers: bool = True  # let subscribers know about the new video


class FeedSettings(_Section):
    destination: str = ""  # a folder or an rsync target for `make publish`
    episode_type: Literal["full", "trailer", "bonus"] = "full"
    show_type: Literal["episodic", "serial"] = "episodic"  # itunes:type
    locked: bool = False  # podcast:locked: true forbids moving the feed to another host
    pub_time: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # HH:MM
    timezone: str = "UTC"  # IANA name; pubDate is the episode's date at pub_time here
    issue_url: str = ""  # the full issue, "{slug}" replaced; empty: public/<slug>/ page
    more_text: str = "Read the full issue"  # the link closing shortened show notes


NarrationMode = Literal["read", "titles", "summary", "skip"]


class EditorialSettings(_Section):
    """What of every issue is narrated. A section or subsection is read as written, by its
    links' titles, summarised in one line, or skipped (it stays in the show notes); an
    issue's own marks (front matter `narrate:`, `<!-- narrate: ... -->`) come first."""

    # heading text (case ignored, * and ? as wildcards) -> "read", "titles", "summary",
    # "skip", or any other text: the line said instead of the section's content
    rules: dict[str, str] = Field(default_factory=dict)
    long_list: int = 20  # a list of more items than this is narrated as long_list_mode
    long_list_mode: NarrationMode = "summary"
    tables: Literal["read", "summary", "skip"] = "summary"
    # the default summary lines: {count} is the number of items or rows, {items} and {rows}
    # that number with its noun ("1 item", "30 items"), {heading} the section's heading
    summary: str = "{items}, listed in the show notes."
    table_summary: str = "A table of {rows}, in the show notes."
class SpokenSettings(_Section):
    """Readings of the spoken text that are the producer's choice (see speech/spoken.py)."""

    emoji: Literal["drop", "name"] = "drop"  # drop: silent; name: said by name ("rocket")
    slash: Literal["or", "and", "slash"] = "or"  # said between alternatives: AI/ML, f16/f32
    # what a link named "here" becomes ("Full report here" -> "Full report in the show
    # notes"), and what follows one named "this" or "link"; "{site}" is the link's site
    link_here: str = "in the show notes"
    hash_length: int = Field(default=7, ge=1, le=40)  # characters of a commit hash said


class DisclosureSettings(_Section):
    """Saying that the voice is synthetic, as Apple Podcasts and YouTube ask: in the audio,
    the show notes and the metadata. An episode with any section synthesised says it; one
    the producer recorded whole says nothing and is marked as not synthetic."""

    spoken: bool = True  # say `line` in the episode (false: only the notes and metadata say it)
    # the section the line is said in, right after the introduction or at the end of the
    # outro; when that section is recorded, the other one, else the first synthesised one
    where: Literal["intro", "outro"] = "intro"
    # a jinja2 template like show.intro, said by the synthetic voice
    line: str = ("This episode uses a synthetic, computer-generated voice to read the "
                 "written issue.")
    # the show notes' first paragraph (plain text); empty: none, the feed's tag still says it
    notes: str = "Narrated with a synthetic (computer-generated) voice from the written issue."


class ShowSettings(_Section):
    show: ShowInfo
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    whisper: WhisperSettings = Field(default_factory=WhisperSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    feed: FeedSettings = Field(default_factory=FeedSettings)
    editorial: EditorialSettings = Field(default_factory=EditorialSettings)
    spoken: SpokenSettings = Field(default_factory=SpokenSettings)
    disclosure: DisclosureSettings = Field(default_factory=DisclosureSettings)


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(p) for p in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown setting '{key}' (remove it or correct its spelling)"
    if kind == "missing":
        return f"missing setting '{key}' (add it)"
    return f"setting '{key}': {error['msg'].lower()} (got {error.get('input')!r})"


def validate_settings(data: dict[str, Any], source: Path | str) -> ShowSettings:
    """Build settings from a mapping; the first problem becomes a one-line error."""
    try:
        return ShowSettings.model_validate(data)
    except ValidationError as exc:
        raise PipelineError(_describe(exc.errors()[0]), source) from None


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, turning every failure into a one-line error naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError("file not found", path, "create it or pass --show") from None
    except UnicodeDecodeError as exc:
        raise PipelineError(
            f"not UTF-8 at byte {exc.start}", path, "save the file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise PipelineError(f"invalid TOML: {exc}", path) from None


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `override` into a copy of `base` (tables merge, values replace)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def project_root(episode_dir: Path | None = None) -> Path:
    """The folder holding `assets/`: $PIPELINE_ROOT, else the episode's grandparent."""
    if env := os.environ.get("PIPELINE_ROOT"):
        return Path(env)
    if episode_dir is not None:
        return Path(episode_dir).resolve().parent.parent
    return Path.cwd()


def load_show(root: Path, overrides: dict[str, Any] | None = None,
              override_source: Path | None = None) -> ShowSettings:
    """Load `root/assets/show.toml`, then apply an episode's overrides."""
    path = root / "assets" / "show.toml"
    data = read_toml(path)
    validate_settings(data, path)
    if not overrides:
        return validate_settings(data, path)
    return validate_settings(merge(data, overrides), override_source or path)


# the default templates: a link to assets/templates in the repository, a folder in a wheel
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"


def template_dirs(root: Path) -> list[Path]:
    """Where templates are looked up: the project's assets/templates, then the package's."""
    return [root / "assets" / "templates", PACKAGE_TEMPLATES]


def template_path(root: Path, name: str) -> Path:
    """The project's template `name`, else the package's; the project's path (for the
    error) when neither has it."""
    found = [folder / name for folder in template_dirs(root) if (folder / name).is_file()]
    return found[0] if found else root / "assets" / "templates" / name


def cache_dir() -> Path:
    """Where caches live (voice cache, converted models): $PIPELINE_CACHE_DIR or XDG."""
    if env := os.environ.get("PIPELINE_CACHE_DIR"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "episode-pipeline"
