"""The YouTube package read as videos.insert, thumbnails.set and captions.insert read it:
the title, description and tags sent, the thumbnail, the caption file and the video."""

from __future__ import annotations

from collections.abc import Iterator

from PIL import Image, UnidentifiedImageError

from pipeline.publish.gate.core import NotChecked, Problem, error, rule, warning
from pipeline.publish.gate.package import YOUTUBE_FILES, Package
from pipeline.publish.gate.timestamps import broken_rules, long_titles, read_stamps
from pipeline.publish.placeholders import SHOW_FILE
from pipeline.publish.youtube.metadata import tags_length
from pipeline.util.platforms import (
    ASPECT_16_9,
    CHAPTER_TITLE_MAX,
    YOUTUBE_DESCRIPTION_MAX,
    YOUTUBE_FORBIDDEN,
    YOUTUBE_TAGS_MAX,
    YOUTUBE_THUMBNAIL_MAX,
    YOUTUBE_THUMBNAIL_MIN_WIDTH,
    YOUTUBE_TITLE_MAX,
)


def _text(pkg: Package, name: str) -> str:
    try:
        return pkg.built(name).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotChecked(f"{name} is not UTF-8") from None


def _fix_video(pkg: Package) -> str:
    return f"rebuild it: make video EP={pkg.episode.slug}"


@rule("Package", "YouTube files", "youtube")
def files_built(pkg: Package) -> Iterator[Problem]:
    for path in pkg.missing(YOUTUBE_FILES):
        yield error(f"no {path.name}", f"build it: make video EP={pkg.episode.slug}",
                    pkg.rel(path))


@rule("YouTube", "title", "youtube")
def title(pkg: Package) -> Iterator[Problem]:
    text = " ".join(_text(pkg, "youtube-title.txt").split())
    where = pkg.rel(pkg.built("youtube-title.txt"))
    fix = f"edit the title in episodes/{pkg.episode.slug}/issue.md, then make video"
    if not text:
        yield error("the YouTube title is empty", fix, where)
    if len(text) > YOUTUBE_TITLE_MAX:
        yield error(f"the YouTube title has {len(text)} characters, more than "
                    f"{YOUTUBE_TITLE_MAX}", fix, where)
    if any(c in text for c in YOUTUBE_FORBIDDEN):
        yield error("the YouTube title has < or >, which YouTube refuses", fix, where)


@rule("YouTube", "description", "youtube")
def description(pkg: Package) -> Iterator[Problem]:
    text = _text(pkg, "youtube-description.txt").strip()
    where = pkg.rel(pkg.built("youtube-description.txt"))
    fix = (f"shorten the summary in episodes/{pkg.episode.slug}/issue.md or the "
           "youtube-description template, then make video")
    size = len(text.encode("utf-8"))
    if size > YOUTUBE_DESCRIPTION_MAX:
        yield error(f"the YouTube description has {size} bytes, more than "
                    f"{YOUTUBE_DESCRIPTION_MAX}", fix, where)
    if any(c in text for c in YOUTUBE_FORBIDDEN):
        yield error("the YouTube description has < or >, which YouTube refuses", fix, where)


@rule("YouTube", "tags", "youtube")
def tags(pkg: Package) -> Iterator[Problem]:
    sent = [t.strip() for t in pkg.episode.settings.youtube.tags if t.strip()]
    if (length := tags_length(sent)) > YOUTUBE_TAGS_MAX:
        yield error(f"the tags add up to {length} characters, more than {YOUTUBE_TAGS_MAX}",
                    f"remove some of youtube.tags in {SHOW_FILE}", SHOW_FILE)


@rule("YouTube", "chapters in the description", "youtube")
def chapters(pkg: Package) -> Iterator[Problem]:
    stamps = read_stamps(_text(pkg, "youtube-description.txt"))
    where = pkg.rel(pkg.built("youtube-description.txt"))
    fix = "give the episode at least three sections of 10 s or more, then make video"
    duration = float(pkg.probe("video.mp4").get("format", {}).get("duration", 0))
    for broken in broken_rules(stamps, duration):
        yield warning(f"YouTube shows no chapters: {broken}", fix, where)
    for stamp in long_titles(stamps):
        yield warning(f"the chapter title at {stamp.text} has {len(stamp.title)} characters, "
                      f"more than {CHAPTER_TITLE_MAX}", "shorten the section's heading", where)


@rule("YouTube", "thumbnail", "youtube")
def thumbnail(pkg: Package) -> Iterator[Problem]:
    path = pkg.built("thumbnail.jpg")
    where, fix = pkg.rel(path), f"rebuild it: make slides EP={pkg.episode.slug}"
    if (size := path.stat().st_size) > YOUTUBE_THUMBNAIL_MAX:
        yield error(f"the thumbnail is {size / 2**20:.1f} MB, more than 2 MB", fix, where)
    try:
        with Image.open(path) as image:
            kind, (width, height) = image.format or "", image.size
    except (UnidentifiedImageError, OSError):
        yield error("the thumbnail is not a readable image", fix, where)
        return
    if kind not in ("JPEG", "PNG"):
        yield error(f"the thumbnail is {kind}, not JPEG or PNG", fix, where)
    if abs(width / height - ASPECT_16_9) > 0.01:
        yield error(f"the thumbnail is {width}x{height}, not 16:9", fix, where)
    if width < YOUTUBE_THUMBNAIL_MIN_WIDTH:
        yield error(f"the thumbnail is {width} px wide, less than "
                    f"{YOUTUBE_THUMBNAIL_MIN_WIDTH}", fix, where)


@rule("YouTube", "caption file", "youtube")
def caption_file(pkg: Package) -> Iterator[Problem]:
    path = pkg.built("captions.vtt")
    where, fix = pkg.rel(path), f"rebuild it: make captions EP={pkg.episode.slug}"
    cues = pkg.cues(path)
    if not cues:
        yield error("the captions do not parse as WebVTT or have no cue", fix, where)
        return
    duration = float(pkg.probe("video.mp4").get("format", {}).get("duration", 0))
    if duration and cues[-1].end > duration + 1:
        yield error(f"the last caption ends at {cues[-1].end:.1f} s, after the "
                    f"video ({duration:.1f} s)", fix, where)


@rule("YouTube", "video", "youtube")
def video(pkg: Package) -> Iterator[Problem]:
    info = pkg.probe("video.mp4")
    where, fix = pkg.rel(pkg.built("video.mp4")), _fix_video(pkg)
    streams = {s.get("codec_type"): s for s in info.get("streams", [])}
    if "video" not in streams or "audio" not in streams:
        yield error("the video lacks a picture or a sound track", fix, where)
        return
    container = float(info.get("format", {}).get("duration", 0))
    sound = float(streams["audio"].get("duration", 0))
    frame = 1 / _rate(streams["video"].get("avg_frame_rate", "30/1"))
    if abs(container - sound) > frame + 0.05:
        yield error(f"the container says {container:.1f} s but the audio lasts {sound:.1f} s: "
                    "players and YouTube show the wrong length", fix, where)


def _rate(text: str) -> float:
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1) or 30.0
    except (ValueError, ZeroDivisionError):
        return 30.0
