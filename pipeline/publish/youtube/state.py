"""`build/youtube.json`: each step of the upload, saved atomically as soon as it happens.

{"version": 1,
 "video_file": {"name": "video.mp4", "bytes": N, "sha256": "..."},
 "request": {snippet, status sent to videos.insert},
 "steps": {"video": {"status": "started" | "done", "session_uri": ..., "id": ..., ...},
           "thumbnail": {...}, "captions": {...}, "playlist": {...}},
 "previous": [older records, kept when --force uploaded the episode again]}

A step is `started` (a resumable session URI is saved), `done` or `skipped` (with the
reason). No credential is ever stored here.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from pipeline.errors import PipelineError
from pipeline.util.fsutil import write_json

VERSION = 1
FINISHED = ("done", "skipped")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class UploadState:
    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.data = data

    @classmethod
    def load(cls, path: Path) -> UploadState:
        if not path.exists():
            return cls(path, cls.fresh())
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise PipelineError("not a valid upload record", path,
                                "restore it; delete it only if the video is not on YouTube"
                                ) from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise PipelineError(f"upload record version is not {VERSION}", path,
                                "restore it or delete it if the video is not on YouTube")
        data.setdefault("steps", {})
        return cls(path, data)

    @staticmethod
    def fresh() -> dict[str, Any]:
        return {"version": VERSION, "steps": {}}

    @property
    def steps(self) -> dict[str, dict[str, Any]]:
        return self.data["steps"]

    def step(self, name: str) -> dict[str, Any]:
        return self.steps.get(name, {})

    def finished(self, name: str) -> bool:
        return self.step(name).get("status") in FINISHED

    def mark(self, name: str, status: str, **fields: Any) -> None:
        """Record a step and save at once, before anything else is sent."""
        self.steps[name] = {"status": status, **fields, "at": now_iso()}
        self.save()

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.save()

    def start_over(self) -> None:
        """Forget the finished upload (kept under `previous`) so it can be sent again."""
        previous = self.data.pop("previous", [])
        old = dict(self.data)
        self.data = self.fresh()
        self.data["previous"] = [*previous, old]
        self.save()

    def save(self) -> None:
        write_json(self.path, self.data)
