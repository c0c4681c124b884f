"""Text that never leaves its box: wrap by measured width, shrink towards a minimum size,
and only then cut with an ellipsis. Slides, the thumbnail and the artwork draw with it.

Emoji are drawn in colour from a bitmap emoji font (Noto Color Emoji: one 109 px strike,
scaled to the text) when one is given, and left out of the text when none is, so a text font
without them never draws an empty box."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageFont

from pipeline.util.text import ELLIPSIS

# Emoji by default (Emoji_Presentation), outside the flags, keycaps and sequences below
_PICTURE = ("\U0001F300-\U0001F64F\U0001F680-\U0001F6FF\U0001F7E0-\U0001F7EB"
            "\U0001F90C-\U0001F9FF\U0001FA70-\U0001FAFF\U0001F004\U0001F0CF\U0001F18E"
            "\U0001F191-\U0001F19A\U0001F201\U0001F21A\U0001F22F\U0001F232-\U0001F236"
            "\U0001F238-\U0001F23A\U0001F250\U0001F251\u231A\u231B\u23E9-\u23EC\u23F0\u23F3"
            "\u25FD\u25FE\u2614\u2615\u2648-\u2653\u267F\u2693\u26A1\u26AA\u26AB\u26BD\u26BE"
            "\u26C4\u26C5\u26CE\u26D4\u26EA\u26F2\u26F3\u26F5\u26FA\u26FD\u2705\u270A\u270B"
            "\u2728\u274C\u274E\u2753-\u2755\u2757\u2795-\u2797\u27B0\u27BF\u2B1B\u2B1C"
            "\u2B50\u2B55")
# Symbols a text font draws, unless variation selector 16 asks for the emoji (❤️, ☀️, ™️)
_SYMBOL = "\u00A9\u00AE\u203C-\u3299\U0001F000-\U0001FAFF"
_MODIFIERS = "\uFE0F\U0001F3FB-\U0001F3FF"  # variation selector 16, skin tones
_ONE = rf"(?:[{_PICTURE}][{_MODIFIERS}]*|[{_SYMBOL}]\uFE0F[{_MODIFIERS}]*)"
EMOJI = re.compile(
    r"[\U0001F1E6-\U0001F1FF]{2}"  # a flag: two regional indicators
    r"|[0-9#*]\uFE0F?\u20E3"  # a keycap
    rf"|{_ONE}(?:\u200D(?:{_ONE}|[{_SYMBOL}][{_MODIFIERS}]*))*[\U000E0020-\U000E007F]*")
EMOJI_STRIKE = 109  # the pixel size of Noto Color Emoji's only bitmap strike


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
class EmojiFont:
    """A colour bitmap emoji font; each emoji is drawn at its strike and scaled to the
    text's size, no taller than a line."""

    path: str

    @classmethod
    def find(cls, paths: list[str]) -> EmojiFont | None:
        """The first of `paths` that draws an emoji in colour here, or None. (A path is
        checked first: Pillow would look a missing file's name up in the system's fonts.)"""
        found = (path for path in paths if os.path.isfile(path) and draws_in_colour(path))
        return next((cls(path) for path in found), None)

    def glyph(self, emoji: str, font: ImageFont.FreeTypeFont) -> Image.Image:
        """The emoji as an RGBA picture sized for `font`."""
        height = min(round(font.size * 128 / EMOJI_STRIKE), line_pitch(font))
        return _emoji_picture(self.path, emoji, height)


def draws_in_colour(path: str) -> bool:
    """Whether the font at `path` loads at the strike size and draws 🔥 with colour."""
    try:
        picture = _emoji_picture(path, "\U0001F525", EMOJI_STRIKE)
    except OSError:
        return False
    saturation = picture.convert("RGB").convert("HSV").getchannel("S")
    inked = ImageChops.multiply(saturation, picture.getchannel("A"))
    return inked.getextrema()[1] > 128


@functools.lru_cache(maxsize=1024)
def _emoji_picture(path: str, emoji: str, height: int) -> Image.Image:
    font = load_font(path, EMOJI_STRIKE)
    _, _, right, bottom = font.getbbox(emoji)
    picture = Image.new("RGBA", (max(1, right), max(1, bottom)), (0, 0, 0, 0))
    ImageDraw.Draw(picture).text((0, 0), emoji, font=font, embedded_color=True)
    width = max(1, round(picture.width * height / picture.height))
    return picture.resize((width, height), Image.Resampling.LANCZOS)


@dataclass(frozen=True)
class Placed:
    """Text as drawn: its box, font, size and each line with the point it was drawn at."""

    box: Box
    font: str
    size: int
    lines: tuple[tuple[str, int, int], ...]
    emoji: EmojiFont | None = None


@functools.lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def line_pitch(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return ascent + descent


def without_emoji(text: str) -> str:
    """The text with its emoji (and stray joiners and selectors) left out."""
    text = EMOJI.sub(" ", text).replace("\u200D", "").replace("\uFE0F", "")
    return " ".join(text.split())


def visible(text: str, emoji: EmojiFont | None) -> str:
    """The text as it is drawn: with its emoji when there is an emoji font to draw them."""
    return text if emoji else without_emoji(text)


def runs(text: str) -> Iterator[tuple[str, bool]]:
    """The text in pieces, each plain text (False) or a single emoji (True)."""
    at = 0
    for match in EMOJI.finditer(text):
        if match.start() > at:
            yield text[at:match.start()], False
        yield match.group(), True
        at = match.end()
    if at < len(text):
        yield text[at:], False


def text_length(text: str, font: ImageFont.FreeTypeFont, emoji: EmojiFont | None = None) -> float:
    """The width of the text as `draw_line` draws it."""
    if emoji is None:
        return font.getlength(text)
    return sum(emoji.glyph(part, font).width if is_emoji else font.getlength(part)
               for part, is_emoji in runs(text))


def draw_line(image: Image.Image, xy: tuple[int, int], text: str,
              font: ImageFont.FreeTypeFont, fill: str, emoji: EmojiFont | None = None) -> None:
    """One line of text at `xy`, its emoji in colour (centred on the line) when given."""
    draw = ImageDraw.Draw(image)
    x, y = xy
    for part, is_emoji in runs(text) if emoji else [(text, False)]:
        if is_emoji and emoji:
            picture = emoji.glyph(part, font)
            image.paste(picture, (round(x), y + (line_pitch(font) - picture.height) // 2),
                        picture)
            x += picture.width
        else:
            draw.text((x, y), part, font=font, fill=fill)
            x += font.getlength(part)


def line_bbox(text: str, xy: tuple[int, int], font: ImageFont.FreeTypeFont,
              emoji: EmojiFont | None = None) -> tuple[int, int, int, int]:
    """The box `draw_line` inks (left, top, right, bottom), its emoji pictures included."""
    draw = ImageDraw.Draw(Image.new("1", (1, 1)))
    x, y = xy
    boxes = []
    for part, is_emoji in runs(text) if emoji else [(text, False)]:
        if is_emoji and emoji:
            picture = emoji.glyph(part, font)
            top = y + (line_pitch(font) - picture.height) // 2
            boxes.append((round(x), top, round(x) + picture.width, top + picture.height))
            x += picture.width
        else:
            if part.strip():
                boxes.append(draw.textbbox((x, y), part, font=font))
            x += font.getlength(part)
    if not boxes:
        return (xy[0], xy[1], xy[0], xy[1])
    return (round(min(b[0] for b in boxes)), round(min(b[1] for b in boxes)),
            round(max(b[2] for b in boxes)), round(max(b[3] for b in boxes)))


def characters(word: str) -> list[str]:
    """A word's characters, each emoji (a sequence of code points) as one."""
    return [c for part, is_emoji in runs(word) for c in ([part] if is_emoji else part)]


def break_word(word: str, font: ImageFont.FreeTypeFont, width: float,
               emoji: EmojiFont | None = None) -> list[str]:
    """Cut a word wider than `width` into pieces that each fit."""
    pieces, current = [], ""
    for char in characters(word):
        if current and text_length(current + char, font, emoji) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float,
         emoji: EmojiFont | None = None) -> list[str]:
    """Greedy word wrap by measured width; over-long words are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_length(candidate, font, emoji) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        *whole, current = break_word(word, font, width, emoji)
        lines.extend(whole)
    if current:
        lines.append(current)
    return lines


def ellipsize(line: str, font: ImageFont.FreeTypeFont, width: float,
              emoji: EmojiFont | None = None) -> str:
    chars = characters(line)
    while chars and text_length("".join(chars).rstrip() + ELLIPSIS, font, emoji) > width:
        chars.pop()
    return "".join(chars).rstrip() + ELLIPSIS


def truncate(lines: list[str], keep: int, font: ImageFont.FreeTypeFont, width: float,
             emoji: EmojiFont | None = None) -> list[str]:
    if len(lines) <= keep:
        return lines
    return lines[: keep - 1] + [ellipsize(lines[keep - 1], font, width, emoji)]


def fit_text(text: str, font_path: str, box: Box, max_size: int, min_size: int,
             max_lines: int | None = None,
             emoji: EmojiFont | None = None) -> tuple[int, list[str]]:
    """The largest size from max_size down to min_size at which the wrapped text fits the
    box; at min_size what does not fit is cut with an ellipsis. Emoji are left out unless
    `emoji` draws them."""
    text = visible(text, emoji)
    for size in range(max_size, min_size - 1, -2):
        font = load_font(font_path, size)
        lines = wrap(text, font, box.w, emoji)
        if len(lines) * line_pitch(font) <= box.h and len(lines) <= (max_lines or len(lines)):
            return size, lines
    font = load_font(font_path, min_size)
    keep = max(1, min(box.h // line_pitch(font), max_lines or 10**6))
    return min_size, truncate(wrap(text, font, box.w, emoji), keep, font, box.w, emoji)
