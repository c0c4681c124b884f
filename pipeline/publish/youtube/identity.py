"""Which video on YouTube is an episode's, wherever the upload runs.

Two places answer it beyond build/youtube.json (git-ignored, so lost with a fresh clone or
`git clean`): `episodes/youtube.toml` (formats.YouTubeVideos), which the producer commits,
and the channel itself: every video `pipeline upload` sends carries the tag
`episode-<slug>`, and before a video is created the channel's uploads are searched for it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.formats import YouTubeStep, YouTubeVideo, YouTubeVideos

VIDEOS_FILE = Path("episodes") / "youtube.toml"
TAG_PREFIX = "episode-"
PAGE = 50  # the most items a list call returns


def episode_tag(slug: str) -> str:
    """The tag that marks a video as this episode's."""
    return TAG_PREFIX + slug


@contextmanager
def _folder_locked(folder: Path) -> Iterator[None]:
    """Serialise read-modify-write of a file in `folder` between processes (uploads of
    different episodes run at once and share episodes/youtube.toml)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@dataclass(frozen=True)
class CommittedVideos:
    """episodes/youtube.toml of one project, for one episode."""

    path: Path
    slug: str

    def entry(self) -> YouTubeVideo | None:
        return YouTubeVideos.read(self.path).episodes.get(self.slug)

    def update(self, change: Callable[[YouTubeVideo | None], YouTubeVideo]) -> YouTubeVideo:
        """Change this episode's entry; other episodes' entries are kept as they are."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _folder_locked(self.path.parent):
            videos = YouTubeVideos.read(self.path)
            entry = change(videos.episodes.get(self.slug))
            videos.model_copy(update={"episodes": {**videos.episodes, self.slug: entry}}
                              ).write_toml(self.path)
        return entry

    def record(self, video_id: str, done: list[YouTubeStep]) -> YouTubeVideo:
        """The episode's video is `video_id`, with `done` steps after it; an earlier video
        (replaced with --force) is kept under `previous`."""

        def change(old: YouTubeVideo | None) -> YouTubeVideo:
            if old is not None and old.video_id == video_id:
                return old.model_copy(update={"done": sorted(set(done) | set(old.done))})
            previous = [*old.previous, old.video_id] if old else []
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            return YouTubeVideo(video_id=video_id, uploaded=now,
                                done=sorted(set(done)), previous=previous)

        return self.update(change)


@dataclass(frozen=True)
class Found:
    """What the channel search found: the episode's videos (newest first) and the number
    of list calls it made."""

    videos: list[dict[str, Any]]
    same_title: list[dict[str, Any]]  # untagged videos with the episode's exact title
    calls: int


Run = Callable[[Any], dict]  # executes a built request (with retries) and returns its JSON


def _uploads_playlist(service: Any, run: Run) -> str | None:
    channels = run(service.channels().list(part="contentDetails", mine=True))
    items = channels.get("items") or []
    if not items:
        return None
    return items[0]["contentDetails"]["relatedPlaylists"]["uploads"]


def _pages(service: Any, run: Run, playlist: str) -> Iterator[list[str]]:
    """The video ids of the uploads playlist, a page at a time."""
    token = None
    while True:
        page = run(service.playlistItems().list(part="contentDetails", playlistId=playlist,
                                                maxResults=PAGE, pageToken=token))
        yield [item["contentDetails"]["videoId"] for item in page.get("items") or []]
        token = page.get("nextPageToken")
        if not token:
            return


def search_channel(service: Any, run: Run, slug: str, title: str) -> Found:
    """Look through the signed-in channel's uploads for videos tagged with the episode's
    tag: channels.list, then playlistItems.list and videos.list per 50 uploads."""
    playlist = _uploads_playlist(service, run)
    calls, tagged, titled = 1, [], []
    if playlist is None:
        return Found([], [], calls)
    tag = episode_tag(slug)
    for ids in _pages(service, run, playlist):
        calls += 1
        if not ids:
            continue
        videos = run(service.videos().list(part="snippet,status", id=",".join(ids),
                                           maxResults=PAGE))
        calls += 1
        for video in videos.get("items") or []:
            snippet = video.get("snippet") or {}
            if tag in (snippet.get("tags") or []):
                tagged.append(video)
            elif snippet.get("title") == title:
                titled.append(video)
    newest_first = sorted(tagged, key=lambda v: v["snippet"].get("publishedAt", ""),
                          reverse=True)
    return Found(newest_first, titled, calls)
