"""The slides' H.264 pieces: one file a slide, joined from its GOPs, giving the final mux the
same packets and times as the GOP files listed one by one."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import ffmpeg as graph
import pytest
from PIL import Image

from pipeline.media import slideshow
from pipeline.media.ffmpeg import quiet_argv
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.pieces import Pieces

SMALL = slideshow.Encoding(width=320, height=180, preset="ultrafast")
START = ["ffmpeg", "-nostdin", "-hide_banner"]
QUIET = ["-v", "error", "-y"]


def test_a_slide_file_is_its_gop_repeated_then_joined_with_its_tail() -> None:
    looped, listing = Path("l.mp4"), Path("s.ffconcat")
    join = [*START, "-f", "concat", "-safe", "0", "-i", "s.ffconcat", "-c", "copy", "o.mp4",
            *QUIET]
    assert slideshow.slide_args(Path("g.mp4"), 3, Path("o.mp4"), looped, listing) == [
        slideshow.loop_args(Path("g.mp4"), 3, looped), join]
    assert slideshow.slide_args(Path("g.mp4"), 1, Path("o.mp4"), looped, listing) == [join]


def stills(folder: Path, count: int) -> list[Path]:
    paths = []
    for n in range(count):
        path = folder / f"{n:03d}.png"
        Image.new("RGB", (320, 180), (40 * n, 90, 200 - 40 * n)).save(path)
        paths.append(path)
    return paths


def cuts(images: list[Path], frames: list[int]) -> list[slideshow.Cut]:
    starts = [sum(frames[:n]) for n in range(len(frames))]
    return [slideshow.Cut(image, first, count, SMALL.gop, SMALL.fps)
            for image, first, count in zip(images, starts, frames, strict=True)]


def muxed(folder: Path, entries: list[tuple[str, float]], name: str) -> bytes:
    """The entries joined by the concat demuxer into an MP4, as the final mux reads them."""
    listing = folder / f"{name}.ffconcat"
    listing.write_text(slideshow.concat_list(entries), encoding="utf-8")
    out = folder / f"{name}.mp4"
    run_ffmpeg(quiet_argv(graph.input(str(listing), format="concat", safe=0)
                          .output(str(out), c="copy")), "muxing")
    return out.read_bytes()


def separately(cut: slideshow.Cut, cache: Pieces) -> list[tuple[str, float]]:
    """The slide's entries as the concat list had them before: whole GOPs, then the tail."""
    entries = []
    if cut.loops:
        gop = Path(slideshow.encode_cut(slideshow.Cut(cut.image, 0, cut.gop, cut.gop, cut.fps),
                                        SMALL, cache).entries[0][0])
        if cut.loops > 1:
            looped = gop.with_name(f"looped-{cut.image.stem}.mp4")
            run_ffmpeg(slideshow.loop_args(gop, cut.loops, looped), "looping")
            gop = looped
        entries.append((str(gop), cut.loops * cut.gop / cut.fps))
    if cut.tail:
        tail = slideshow.encode_cut(slideshow.Cut(cut.image, 0, cut.tail, cut.gop, cut.fps),
                                    SMALL, cache).entries[0][0]
        entries.append((tail, cut.tail / cut.fps))
    return entries


def frames_and_keys(path: Path) -> tuple[int, list[int]]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "packet=flags", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    flags = [p["flags"] for p in json.loads(out)["packets"]]
    return len(flags), [n for n, f in enumerate(flags) if "K" in f]


@pytest.mark.slow
def test_one_file_a_slide_muxes_to_the_same_bytes_as_its_gop_files(tmp_path: Path) -> None:
    """The first slide, the brightest and so the densest, keeps its two files: the MP4
    takes its stream's bit rate from the first file."""
    # 52: three whole GOPs and a tail; 22: one and a tail; 7: a tail; 30 and 15: no tail
    plan = cuts(stills(tmp_path, 5), [52, 22, 7, 30, 15])
    cache = Pieces(tmp_path / "cache")
    shown = slideshow.encode(plan, SMALL, cache)
    assert shown.gops.made == shown.gops.total == 7  # 3 slides with a tail, 4 with GOPs
    seconds = [52 // 15 * 0.5, 7 / 30, 22 / 30, 7 / 30, 1.0, 0.5]
    assert [s for _, s in shown.entries] == pytest.approx(seconds, abs=1e-6)
    assert frames_and_keys(Path(shown.entries[2][0])) == (22, [0, 15])  # joined
    before = [e for cut in plan for e in separately(cut, Pieces(tmp_path / "one by one"))]
    assert len(before) == 7
    assert (hashlib.sha256(muxed(tmp_path, shown.entries, "joined")).hexdigest()
            == hashlib.sha256(muxed(tmp_path, before, "separate")).hexdigest())
    assert not [p for p in cache.root.iterdir() if p.name.startswith(".")]  # no scratch


@pytest.mark.slow
def test_a_slide_file_is_kept_and_made_again_only_when_its_frames_change(
        tmp_path: Path) -> None:
    images = stills(tmp_path, 2)
    cache = Pieces(tmp_path / "cache")
    first = slideshow.encode(cuts(images, [15, 52]), SMALL, cache).entries[-1][0]
    made = Path(first).stat().st_mtime_ns
    again = slideshow.encode(cuts(images, [15, 52]), SMALL, Pieces(cache.root))
    assert again.entries[-1][0] == first and again.gops.made == 0
    assert Path(first).stat().st_mtime_ns == made
    longer = slideshow.encode(cuts(images, [15, 53]), SMALL, Pieces(cache.root))
    assert longer.entries[-1][0] != first and longer.gops.made == 1  # the tail; the GOP kept
    assert frames_and_keys(Path(longer.entries[-1][0])) == (53, [0, 15, 30, 45])
