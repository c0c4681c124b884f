"""Text that never leaves its box: wrap by measured width, shrink towards a minimum size,
and only then cut with an ellipsis. Slides, the thumbnail and the artwork draw with it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import ImageFont

from pipeline.util.text import ELLIPSIS


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h


@dataclass(frozen=True)
class Placed:
    """Text as drawn: its box, font, size and each line with the point it was drawn at."""

    box: Box
    font: str
    size: int
    lines: tuple[tuple[str, int, int], ...]


@functools.lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def line_pitch(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


def break_word(word: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Cut a word wider than `width` into pieces that each fit."""
    pieces, current = [], ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap by measured width; over-long words are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        *whole, current = break_word(word, font, width)
        lines.extend(whole)
    if current:
        lines.append(current)
    return lines


def ellipsize(line: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    while line and font.getlength(line.rstrip() + ELLIPSIS) > width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def truncate(lines: list[str], keep: int, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    if len(lines) <= keep:
        return lines
    return lines[: keep - 1] + [ellipsize(lines[keep - 1], font, width)]


def fit_text(text: str, font_path: str, box: Box, max_size: int, min_size: int,
             max_lines: int | None = None) -> tuple[int, list[str]]:
    """The largest size from max_size down to min_size at which the wrapped text fits the
    box; at min_size what does not fit is cut with an ellipsis."""
    for size in range(max_size, min_size - 1, -2):
        font = load_font(font_path, size)
        lines = wrap(text, font, box.w)
        if len(lines) * line_pitch(font) <= box.h and len(lines) <= (max_lines or len(lines)):
            return size, lines
    font = load_font(font_path, min_size)
    keep = max(1, min(box.h // line_pitch(font), max_lines or 10**6))
    return min_size, truncate(wrap(text, font, box.w), keep, font, box.w)
