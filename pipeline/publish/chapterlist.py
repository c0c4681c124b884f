"""Chapters written as text, one `time title` line each, where apps look for them: the
YouTube description and the podcast show notes (Spotify and Apple read timestamps there).

One rule for both, the strictest of the platforms': the first at 0:00, each at least
10 s long, at least three, in order. A section shorter than 10 s is joined to the next
one (a short last one to the one before); with fewer than three left, no list at all, since
the platforms then ignore it. Titles are cut to each platform's length."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.util.platforms import CHAPTER_MIN_COUNT, CHAPTER_MIN_SECONDS
from pipeline.util.timecode import clock


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str

    @property
    def time(self) -> str:
        """0:00, 12:34, 1:02:03: YouTube's form."""
        return clock(self.start)

    def padded(self, hours: bool) -> str:
        """00:00 or 00:00:00: Spotify's forms (MM:SS, HH:MM:SS), hours for a long episode."""
        whole = max(0, int(self.start))
        minutes, secs = divmod(whole, 60)
        if hours:
            return f"{minutes // 60:02d}:{minutes % 60:02d}:{secs:02d}"
        return f"{minutes:02d}:{secs:02d}"


def chapter_list(marks: Sequence[tuple[float, str]], duration: float,
                 title: Callable[[str], str], platform: str) -> tuple[list[Chapter], str]:
    """The chapters a text list carries, from (start, title) pairs in order, each title made
    by `title`; fewer than three leaves them all out, and the second value says why (naming
    the `platform` that needs them)."""
    result: list[Chapter] = []
    pending: float | None = None
    for i, (start, name) in enumerate(marks):
        begin = 0.0 if i == 0 else (pending if pending is not None else start)
        end = marks[i + 1][0] if i + 1 < len(marks) else duration
        if end - begin < CHAPTER_MIN_SECONDS:
            if i + 1 < len(marks):
                pending = begin
            continue
        pending = None
        result.append(Chapter(begin, title(name)))
    if len(result) < CHAPTER_MIN_COUNT:
        return [], (f"chapters left out: {len(result)} section(s) of at least "
                    f"{CHAPTER_MIN_SECONDS:.0f} s, {platform} needs {CHAPTER_MIN_COUNT}")
    return result, ""
