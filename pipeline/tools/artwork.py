"""The show artwork, `assets/artwork.png`: a square RGB PNG with the show title, made once.

Run `make artwork` (`pipeline artwork [--size 1400] [--out assets/artwork.png]`). Podcast apps
want 1400-3000 px square, RGB, JPEG or PNG. Flat colours keep the PNG small.
"""

from __future__ import annotations

from pathlib import Path

import click
from PIL import Image, ImageDraw

from pipeline.config import load_show, project_root
from pipeline.media.textfit import Box, fit_text, line_pitch, load_font
from pipeline.util import fsutil

BACKGROUND = "#0f172a"
ACCENT = "#38bdf8"
TEXT = "#f8fafc"
MIN_SIZE, MAX_SIZE = 1400, 3000


def draw_artwork(title: str, font_path: str, size: int = MIN_SIZE) -> Image.Image:
    """A dark square, an accent ring and bar, the title in bold white beside the bar."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise click.BadParameter(f"size must be {MIN_SIZE}-{MAX_SIZE} px, got {size}")
    image = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = size / 100
    ring = (62 * unit, 62 * unit, 142 * unit, 142 * unit)
    draw.ellipse(ring, outline=ACCENT, width=round(3 * unit))
    draw.rectangle((10 * unit, 12 * unit, 12 * unit, 56 * unit), fill=ACCENT)
    box = Box(round(16 * unit), round(12 * unit), round(74 * unit), round(44 * unit))
    font_size, lines = fit_text(title, font_path, box, round(14 * unit), round(6 * unit))
    font = load_font(font_path, font_size)
    pitch = line_pitch(font)
    top = box.y + (box.h - len(lines) * pitch) // 2
    for i, line in enumerate(lines):
        draw.text((box.x, top + i * pitch), line, font=font, fill=TEXT)
    return image


@click.command("artwork")
@click.option("--size", default=MIN_SIZE, show_default=True, help="Side in pixels, 1400-3000.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write it (default: assets/<show.artwork>).")
def command(size: int, out: Path | None) -> None:
    """Draw the show artwork from the show title in assets/show.toml."""
    root = project_root()
    show = load_show(root)
    font = root / "assets" / show.video.bold_font
    image = draw_artwork(show.show.title, str(font), size)
    target = out or root / "assets" / show.show.artwork
    with fsutil.atomic_path(target) as tmp:
        image.save(tmp, "PNG", optimize=True)
    click.echo(f"artwork: {target} ({size}x{size}, {target.stat().st_size // 1024} KB)")

