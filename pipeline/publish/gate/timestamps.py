"""Chapters written as time codes in a description or show notes, read back the way YouTube
and Spotify read them: a line that starts with `M:SS` or `H:MM:SS` starts a chapter."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from pipeline.util.platforms import CHAPTER_MIN_COUNT, CHAPTER_MIN_SECONDS, CHAPTER_TITLE_MAX

STAMP = re.compile(r"^\s*[(\[]?((?:\d{1,2}:)?\d{1,2}:\d{2})[)\]]?\s*[-–—:|]?\s*(.*)$")
TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Stamp:
    seconds: int
    title: str
    text: str  # the time code as written


def seconds(code: str) -> float:
    """`[[H:]M:]S[.mmm]` in seconds (a ValueError when it is not one)."""
    total = 0.0
    for part in code.split(":"):
        total = total * 60 + float(part)
    return total


def plain_lines(text: str) -> list[str]:
    """Text lines of plain text or of HTML show notes (a tag that breaks a line breaks it)."""
    broken = re.sub(r"(?i)<br\s*/?>|</(p|li|div|h\d)>", "\n", text)
    return html.unescape(TAG.sub("", broken)).splitlines()


def read_stamps(text: str) -> list[Stamp]:
    found = []
    for line in plain_lines(text):
        if match := STAMP.match(line):
            code = match.group(1)
            found.append(Stamp(int(seconds(code)), match.group(2).strip(), code))
    return found


def broken_rules(stamps: list[Stamp], duration: float) -> list[str]:
    """What keeps a platform from showing these chapters (empty when nothing does)."""
    if not stamps:
        return []
    found = []
    if stamps[0].seconds != 0:
        found.append(f"the first time code is {stamps[0].text}, not 0:00")
    if len(stamps) < CHAPTER_MIN_COUNT:
        found.append(f"{len(stamps)} time codes, fewer than {CHAPTER_MIN_COUNT}")
    ends = [s.seconds for s in stamps[1:]] + [int(duration)]
    for stamp, end in zip(stamps, ends, strict=True):
        if end - stamp.seconds < CHAPTER_MIN_SECONDS:
            found.append(f"the chapter at {stamp.text} lasts {end - stamp.seconds} s, "
                         f"less than {CHAPTER_MIN_SECONDS:.0f}")
            break
    return found


def long_titles(stamps: list[Stamp]) -> list[Stamp]:
    return [s for s in stamps if len(s.title) > CHAPTER_TITLE_MAX]
