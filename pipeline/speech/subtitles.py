"""Caption files: one writer class per format, a stream layer (`write_result(cues, file)`)
under a path layer (`writer(cues, path)`, atomic), as in openai-whisper's utils.py."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TextIO

from pipeline.speech.cues import Cue
from pipeline.util.fsutil import atomic_path
from pipeline.util.timecode import timestamp


class SubtitleWriter:
    def write_result(self, cues: list[Cue], file: TextIO) -> None:
        raise NotImplementedError

    def __call__(self, cues: list[Cue], path: Path | str) -> Path:
        """Write the cues to `path` atomically; return the path."""
        path = Path(path)
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as file:
            self.write_result(cues, file)
        return path


class WriteVTT(SubtitleWriter):
    def write_result(self, cues: list[Cue], file: TextIO) -> None:
        file.write("WEBVTT\n\n")
        for cue in cues:
            file.write(f"{timestamp(cue.start)} --> {timestamp(cue.end)}\n")
            file.write("\n".join(html.escape(line, quote=False) for line in cue.lines) + "\n\n")


class WriteSRT(SubtitleWriter):
    def write_result(self, cues: list[Cue], file: TextIO) -> None:
        for index, cue in enumerate(cues, 1):
            file.write(f"{index}\n{timestamp(cue.start, ',')} --> {timestamp(cue.end, ',')}\n")
            file.write("\n".join(cue.lines) + "\n\n")

