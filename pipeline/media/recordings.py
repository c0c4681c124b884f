"""The producer's own readings: `episodes/<slug>/recordings/`, one file per section, named
by the section's number (`1.wav`, `01.m4a`) or id (`mechanistic-interpretability.flac`),
in any format ffmpeg reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError
from pipeline.formats import Section
from pipeline.media.audio import decode, trim

SILENT_DB = -60.0  # a recording whose peak stays below this is taken for silent
RERECORD = "export it again as WAV or FLAC, or remove it to synthesise that section"


def match_section(stem: str, sections: list[Section]) -> str | None:
    """The id of the section a file stem names, by number or id."""
    for section in sections:
        if stem == section.id or (stem.isdigit() and int(stem) == section.index):
            return section.id
    return None


def find_recordings(folder: Path, sections: list[Section]) -> dict[str, Path]:
    """section id -> recording; a file naming no section, or two for one, is an error."""
    if not folder.is_dir():
        return {}
    found: dict[str, Path] = {}
    names = ", ".join(f"{s.index} or {s.id}" for s in sections)
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith("."):
            continue
        section = match_section(path.stem, sections)
        if section is None:
            raise PipelineError("this recording names no section", path,
                                f"name it by a section's number or id: {names}")
        if section in found:
            raise PipelineError(f"two recordings for section '{section}' (also {found[section]})",
                                path, "keep one")
        found[section] = path
    return found


def load_recording(path: Path, rate: int) -> np.ndarray:
    """A recording as mono float32 at `rate`, its silent edges trimmed."""
    audio = decode(path, rate, RERECORD)
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak < 10 ** (SILENT_DB / 20):
        raise PipelineError("the recording is silent", path,
                            "check the microphone level and record it again, or remove it")
    return trim(audio, rate)
