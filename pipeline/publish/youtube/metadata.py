"""What is sent to YouTube for an episode, built from its files and settings (pure parts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict
from zoneinfo import ZoneInfo

from pipeline.config import ShowSettings
from pipeline.episode import Episode, read_utf8
from pipeline.errors import PipelineError
from pipeline.formats import Timeline, VideoBody, VideoStatus, rebuild_hint, target_for
from pipeline.publish.youtube.identity import episode_tag
from pipeline.util.platforms import (
    YOUTUBE_DESCRIPTION_MAX,
    YOUTUBE_TAGS_MAX,
    YOUTUBE_THUMBNAIL_MAX,
    YOUTUBE_TITLE_MAX,
)

PACIFIC = ZoneInfo("America/Los_Angeles")


@dataclass(frozen=True)
class Inputs:
    """The video stage's files this stage sends."""

    video: Path
    thumbnail: Path
    captions: Path
    title: Path
    description: Path

    @classmethod
    def of(cls, build: Path) -> Inputs:
        return cls(video=build / "video.mp4", thumbnail=build / "thumbnail.jpg",
                   captions=build / "captions.vtt", title=build / "youtube-title.txt",
                   description=build / "youtube-description.txt")

    def needed(self, steps: list[str]) -> list[Path]:
        files = {"video": [self.video, self.title, self.description],
                 "thumbnail": [self.thumbnail], "captions": [self.captions]}
        return [path for step in steps for path in files.get(step, [])]

    def check(self, steps: list[str]) -> None:
        """The files the given steps send exist, are not empty and are within limits."""
        for path in self.needed(steps):
            if not path.is_file():
                raise PipelineError("file not found", path, f"build it: {target_for(path)}")
            if path.stat().st_size == 0:
                raise PipelineError("the file is empty", path, rebuild_hint(path))
        if "thumbnail" in steps and self.thumbnail.stat().st_size > YOUTUBE_THUMBNAIL_MAX:
            raise PipelineError("the thumbnail is larger than YouTube's 2 MB", self.thumbnail,
                                "save it as a smaller JPEG (1280x720 is enough)")


def read_title(path: Path) -> str:
    title = " ".join(read_utf8(path).split())
    if not title:
        raise PipelineError("the YouTube title is empty", path, rebuild_hint(path))
    if len(title) > YOUTUBE_TITLE_MAX:
        raise PipelineError(f"the YouTube title has {len(title)} characters, more than "
                            f"{YOUTUBE_TITLE_MAX}", path, "shorten the episode title")
    _no_angle_brackets(title, path)
    return title


def read_description(path: Path) -> str:
    text = read_utf8(path).strip()
    size = len(text.encode("utf-8"))
    if size > YOUTUBE_DESCRIPTION_MAX:
        raise PipelineError(f"the YouTube description has {size} bytes, more than "
                            f"{YOUTUBE_DESCRIPTION_MAX}", path,
                            "shorten the summary or the chapters")
    _no_angle_brackets(text, path)
    return text


def _no_angle_brackets(text: str, path: Path) -> None:
    if "<" in text or ">" in text:
        raise PipelineError("YouTube refuses < and > in titles and descriptions", path,
                            "remove them from the episode's title or summary")


def tags_length(tags: list[str]) -> int:
    """YouTube's count: each tag, plus quotes around one with a space, plus commas."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def check_tags(tags: list[str], source: Path) -> list[str]:
    tags = [t.strip() for t in tags if t.strip()]
    if tags_length(tags) > YOUTUBE_TAGS_MAX:
        raise PipelineError(f"youtube.tags add up to {tags_length(tags)} characters, more "
                            f"than {YOUTUBE_TAGS_MAX}", source, "remove some tags")
    return tags


def parse_publish_at(raw: str, now: dt.datetime, source: Path) -> str:
    """`publish_at` as YouTube wants it (UTC, `Z`); it must name a zone and be ahead."""
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise PipelineError(f"youtube.publish_at {raw!r} is not an ISO 8601 time", source,
                            "write it like 2023-01-06T15:00:00Z") from None
    if when.tzinfo is None:
        raise PipelineError(f"youtube.publish_at {raw!r} has no time zone", source,
                            "add Z or an offset like +01:00")
    if when <= now:
        raise PipelineError(f"youtube.publish_at {raw!r} is in the past", source,
                            "set a later time or remove it")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CaptionSnippet(TypedDict):
    videoId: str
    isDraft: bool
    name: str
    language: str


class CaptionBody(TypedDict):
    """The `captions.insert` body."""

    snippet: CaptionSnippet


class ResourceId(TypedDict):
    kind: str
    videoId: str


class PlaylistItemSnippet(TypedDict):
    playlistId: str
    resourceId: ResourceId


class PlaylistItemBody(TypedDict):
    """The `playlistItems.insert` body."""

    snippet: PlaylistItemSnippet


def video_body(settings: ShowSettings, title: str, description: str, tags: list[str],
               publish_at: str, synthetic: bool) -> VideoBody:
    """The `videos.insert` resource: snippet and status. `synthetic`: the narration is a
    synthetic voice, declared as altered or synthetic media."""
    yt, language = settings.youtube, settings.show.language
    status: VideoStatus = {
        "privacyStatus": "private" if publish_at else yt.privacy,
        "selfDeclaredMadeForKids": yt.made_for_kids,
        "containsSyntheticMedia": synthetic,
    }
    if publish_at:
        status["publishAt"] = publish_at
    return {
        "snippet": {
            "title": title,
            "description": description,
            "tags": tags,
            "categoryId": yt.category_id,
            "defaultLanguage": yt.default_language or language,
            "defaultAudioLanguage": yt.audio_language or language,
        },
        "status": status,
    }


def episode_video_body(episode: Episode, inputs: Inputs, now: dt.datetime) -> VideoBody:
    """Read and check everything the video resource is made of; timeline.json says
    whether the narration is synthetic."""
    yt = episode.settings.youtube
    publish_at = parse_publish_at(yt.publish_at, now, episode.source) if yt.publish_at else ""
    return video_body(episode.settings, read_title(inputs.title),
                      read_description(inputs.description),
                      check_tags([*yt.tags, episode_tag(episode.slug)], episode.source),
                      publish_at, Timeline.read(episode.build).synthetic)


def captions_body(settings: ShowSettings, video_id: str) -> CaptionBody:
    yt = settings.youtube
    return {"snippet": {"videoId": video_id, "isDraft": False, "name": yt.captions_name,
                        "language": yt.captions_language or settings.show.language}}


def playlist_body(playlist_id: str, video_id: str) -> PlaylistItemBody:
    return {"snippet": {"playlistId": playlist_id,
                        "resourceId": {"kind": "youtube#video", "videoId": video_id}}}


def quota_reset(now: dt.datetime) -> dt.datetime:
    """YouTube's daily quota resets at midnight Pacific time: the next one after `now`."""
    local = now.astimezone(PACIFIC)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                   tzinfo=PACIFIC)
    return midnight.astimezone(dt.UTC)


def describe_reset(now: dt.datetime) -> str:
    reset = quota_reset(now)
    minutes = int((reset - now).total_seconds() // 60)
    return (f"midnight Pacific time, {reset:%Y-%m-%d %H:%M} UTC, "
            f"in {minutes // 60} h {minutes % 60:02d} min")
