"""`build/youtube.json` (formats.YouTubeRecord): each step of the upload, saved atomically
as soon as it happens. A step is `started` (a resumable session URI is saved), `done` or
`skipped` (with the reason). No credential is ever stored here.

A video found elsewhere (episodes/youtube.toml, or the channel) is recorded as `done` with
`found_in` saying where, so the steps after it know the video was not sent from here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pipeline.formats import FileStamp, UploadStep, VideoBody, YouTubeRecord, YouTubeStep

FINISHED = ("done", "skipped")
AFTER_VIDEO: tuple[YouTubeStep, ...] = ("thumbnail", "captions", "playlist")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UploadState:
    """The record of one episode's upload, written through to its file on every change."""

    def __init__(self, path: Path, record: YouTubeRecord | None = None, keep: bool = True):
        self.path = path
        self.record = record or YouTubeRecord()
        self.keep = keep  # False: a dry run, which changes nothing on disk

    @classmethod
    def load(cls, path: Path) -> UploadState:
        if not path.exists():
            return cls(path)
        return cls(path, YouTubeRecord.read(path.parent))

    def step(self, name: str) -> UploadStep | None:
        return self.record.steps.get(name)

    def finished(self, name: str) -> bool:
        step = self.step(name)
        return step is not None and step.status in FINISHED

    def mark(self, name: str, status: str, **fields: Any) -> None:
        """Record a step and save at once, before anything else is sent."""
        step = UploadStep(status=status, **fields, at=now_iso())
        self._update(steps={**self.record.steps, name: step})

    def video_id(self) -> str | None:
        """The episode's video, once the video step is done."""
        step = self.step("video")
        return step.id if step and step.status == "done" else None

    def done_after_video(self) -> list[YouTubeStep]:
        return [name for name in AFTER_VIDEO
                if (step := self.step(name)) is not None and step.status == "done"]

    def found(self, video_id: str, url: str, where: str, done: list[YouTubeStep]) -> None:
        """The episode's video (and the steps `done` after it) found in `where`."""
        steps = dict(self.record.steps)
        if self.video_id() != video_id:
            steps["video"] = UploadStep(status="done", id=video_id, url=url, found_in=where,
                                        at=now_iso())
        for name in done:
            if not self.finished(name):
                steps[name] = UploadStep(status="done", found_in=where, at=now_iso())
        if steps != self.record.steps:
            self._update(steps=steps)

    def sending(self, video: FileStamp, request: VideoBody) -> None:
        """Record which file and which metadata the video upload sends."""
        self._update(video_file=video, request=request)

    def start_over(self) -> None:
        """Forget the finished upload (kept under `previous`) so it can be sent again."""
        old = self.record.model_copy(update={"previous": []})
        self.record = YouTubeRecord(previous=[*self.record.previous, old])
        self.save()

    def _update(self, **fields: Any) -> None:
        self.record = self.record.model_copy(update=fields)
        self.save()

    def save(self) -> None:
        if self.keep:
            self.record.write(self.path.parent)
