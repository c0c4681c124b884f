"""The loudness picture of an episode: its waveform above, momentary and short-term
loudness over time below, the targets and the chapter starts drawn in, from what the MP3
measured (media/meter.py). x is time over the whole width, so x / width x duration is the
second under a point."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from pipeline.media.loudness import Loudness
from pipeline.media.meter import Meter
from pipeline.util.timecode import clock

ABSOLUTE_GATE = -70.0  # LUFS: BS.1770's absolute gate; quieter is silence


@dataclass(frozen=True)
class Layout:
    width: int = 1200
    wave: int = 150  # waveform panel height
    plot: int = 150  # loudness panel height
    axis: int = 20  # time labels under the panels
    top_lufs: float = -6.0
    bottom_lufs: float = -46.0

    @property
    def height(self) -> int:
        return self.wave + self.plot + self.axis


INK = {"bg": (250, 250, 247), "wave": (52, 101, 164), "ceiling": (204, 0, 0),
       "momentary": (170, 190, 215), "short": (32, 74, 135), "target": (46, 139, 87),
       "chapter": (150, 150, 150), "text": (40, 40, 40), "rule": (200, 200, 200)}


def tick_step(duration: float, most: int = 12) -> int:
    """Seconds between time labels: the smallest round step giving at most `most` labels."""
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
    return next((s for s in steps if duration / s <= most), steps[-1])


def _draw_wave(draw: ImageDraw.ImageDraw, meter: Meter, lay: Layout, ceiling_db: float) -> None:
    mid, half = lay.wave / 2, lay.wave / 2 - 4
    step = lay.width / max(1, len(meter.lows))
    for n, (low, high) in enumerate(zip(meter.lows, meter.highs, strict=True)):
        x = n * step
        draw.line([(x, mid - high * half), (x, mid - low * half)], fill=INK["wave"])
    level = 10 ** (ceiling_db / 20) * half
    for y in (mid - level, mid + level):
        draw.line([(0, y), (lay.width, y)], fill=INK["ceiling"])
    draw.text((4, 2), f"waveform; red: the {ceiling_db:g} dBTP ceiling", fill=INK["text"])


def _lufs_y(value: float, lay: Layout) -> float:
    value = min(max(value, lay.bottom_lufs), lay.top_lufs)
    share = (lay.top_lufs - value) / (lay.top_lufs - lay.bottom_lufs)
    return lay.wave + 2 + share * (lay.plot - 4)


def _audible_runs(times: list[float], values: list[float]) -> list[list[tuple[float, float]]]:
    """Stretches of (time, LUFS) above the absolute gate; ebur128 prints -120.7 and the like
    for silence and for a window it has not filled yet, which are no loudness to draw."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, value in zip(times, values, strict=True):
        if value > ABSOLUTE_GATE:
            runs[-1].append((t, value))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _draw_loudness(draw: ImageDraw.ImageDraw, loud: Loudness, duration: float, lay: Layout,
                   target: float) -> None:
    draw.line([(0, lay.wave), (lay.width, lay.wave)], fill=INK["rule"])
    scale = lay.width / duration if duration > 0 else 0
    for values, ink in ((loud.momentary, "momentary"), (loud.short_term, "short")):
        for run in _audible_runs(loud.times, values):
            points = [(t * scale, _lufs_y(v, lay)) for t, v in run]
            if len(points) > 1:
                draw.line(points, fill=INK[ink], width=2 if ink == "short" else 1)
    y = _lufs_y(target, lay)
    for x in range(0, lay.width, 12):
        draw.line([(x, y), (x + 6, y)], fill=INK["target"])
    draw.text((4, lay.wave + 2), f"loudness (LUFS): short-term dark, momentary light, "
              f"target {target:g} green; {lay.top_lufs:g} at top, {lay.bottom_lufs:g} "
              "at bottom", fill=INK["text"])


def _draw_time(draw: ImageDraw.ImageDraw, duration: float, chapters: list[float],
               lay: Layout) -> None:
    if duration <= 0:
        return
    scale = lay.width / duration
    for start in chapters:
        if 0 < start < duration:
            draw.line([(start * scale, 0), (start * scale, lay.wave + lay.plot)],
                      fill=INK["chapter"])
    step = tick_step(duration)
    for second in range(0, int(duration) + 1, step):
        x = second * scale
        draw.line([(x, lay.wave + lay.plot), (x, lay.wave + lay.plot + 4)], fill=INK["text"])
        draw.text((min(x + 2, lay.width - 40), lay.wave + lay.plot + 5), clock(second),
                  fill=INK["text"])


def draw_picture(meter: Meter, chapters: list[float], target_lufs: float, ceiling_db: float,
                 lay: Layout | None = None) -> Image.Image:
    """Waveform above, loudness over time below, chapter starts as grey lines, a time axis;
    x is proportional to time over the whole width."""
    lay = lay or Layout()
    image = Image.new("RGB", (lay.width, lay.height), INK["bg"])
    draw = ImageDraw.Draw(image)
    draw.font = ImageFont.load_default()
    _draw_time(draw, meter.duration, chapters, lay)
    _draw_wave(draw, meter, lay, ceiling_db)
    _draw_loudness(draw, meter.loud, meter.duration, lay, target_lufs)
    return image
