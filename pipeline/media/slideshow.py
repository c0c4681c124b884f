"""The slides as H.264 pieces: a still slide does not change between frames, so each slide's
picture is encoded once as one closed GOP and repeated by stream copy (`-stream_loop`), with
one shorter GOP for the frames that do not make a whole GOP, joined after them into one file
a slide: the final mux opens half the files, each of which costs it a decoded picture
(sample: 0.43 s wall and 0.57 s CPU, from 0.57 and 0.70; the same bytes). Every slide change
therefore starts a keyframe, on the frame nearest its time in timeline.json.

The pieces depend on the slides' PNGs and times alone, not on the sound. They are kept in
`build/video-cache/` by content (media/pieces.py): after an edit only the slides whose
picture or frame count changed are encoded again, and the rest is stream copy, so the video
joined from them is the same file a cold build makes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from pipeline.config import VideoSettings
from pipeline.formats import SlideEntry
from pipeline.media.ffmpeg import quiet_argv
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.pieces import Count, Piece, Pieces

CACHE = "video-cache"  # in build/: the encoded GOPs and the slides' files, by content
LOOPED, LISTING = Path("{looped}"), Path("{list}")  # their places in a joined file's key


@dataclass(frozen=True)
class Encoding:
    width: int = 1920
    height: int = 1080
    fps: int = 30
    crf: int = 16
    preset: str = "medium"

    @property
    def gop(self) -> int:
        return max(1, self.fps // 2)

    @classmethod
    def from_settings(cls, video: VideoSettings) -> Encoding:
        return cls(video.width, video.height, video.fps, video.crf, video.preset)


@dataclass(frozen=True)
class Cut:
    """One slide's place in the video, in whole frames."""

    image: Path
    first: int
    frames: int
    gop: int
    fps: int

    @property
    def loops(self) -> int:
        return self.frames // self.gop

    @property
    def tail(self) -> int:
        return self.frames % self.gop


def frame_cuts(slides: list[SlideEntry], duration: float, base: Path,
               enc: Encoding) -> list[Cut]:
    """Each slide from the frame nearest its start to the next one's; the last to the end.
    Slides shorter than half a frame vanish."""
    starts = [round(s.start * enc.fps) for s in slides]
    starts[0] = 0
    ends = [*starts[1:], round(duration * enc.fps)]
    return [Cut(base / s.file, a, b - a, enc.gop, enc.fps)
            for s, a, b in zip(slides, starts, ends, strict=True) if b > a]


# ---------------------------------------------------------------- argument lists


def x264(enc: Encoding, crf: int) -> dict[str, str | int]:
    """libx264 High with closed GOPs of `enc.gop` frames, tagged BT.709."""
    return {"c:v": "libx264", "profile:v": "high", "preset": enc.preset, "crf": crf,
            "tune": "stillimage", "g": enc.gop, "keyint_min": enc.gop, "sc_threshold": 0,
            "bf": 2, "flags": "+cgop", "color_primaries": "bt709", "color_trc": "bt709",
            "colorspace": "bt709"}


def gop_args(image: Path, frames: int, out: Path, enc: Encoding) -> list[str]:
    """Encode `frames` frames of a still as closed GOPs (one when frames <= GOP)."""
    still = ffmpeg.input(str(image), loop=1, framerate=enc.fps)
    picture = (still.filter("scale", enc.width, enc.height, out_color_matrix="bt709",
                            out_range="tv")
               .filter("setsar", 1).filter("format", "yuv420p").filter("fps", enc.fps))
    return quiet_argv(picture.output(str(out), an=None, **{"frames:v": frames},
                                     **x264(enc, enc.crf), **{"x264-params": "open-gop=0"}))


def loop_args(gop: Path, times: int, out: Path) -> list[str]:
    """Repeat a GOP file `times` times by stream copy."""
    return quiet_argv(ffmpeg.input(str(gop), stream_loop=times - 1).output(str(out), c="copy"))


def join_args(listing: Path, out: Path) -> list[str]:
    """Join the files of an ffconcat list by stream copy."""
    return quiet_argv(ffmpeg.input(str(listing), format="concat", safe=0)
                      .output(str(out), c="copy"))


def slide_args(gop: Path, loops: int, out: Path, looped: Path = LOOPED,
               listing: Path = LISTING) -> list[list[str]]:
    """The commands that make a slide's file from its GOP and its tail: the GOP repeated
    `loops` times into `looped` (used as it is when once), then the list at `listing` of it
    and the tail joined into `out`."""
    repeat = [loop_args(gop, loops, looped)] if loops > 1 else []
    return [*repeat, join_args(listing, out)]


def concat_list(entries: list[tuple[str, float]]) -> str:
    """An ffconcat list; each file's exact duration keeps later slides from drifting."""
    lines = ["ffconcat version 1.0"]
    for name, seconds in entries:
        quoted = name.replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- encoding


@dataclass(frozen=True)
class Encoded:
    """Slides' concat entries (file, seconds) in order, and their GOPs."""

    entries: list[tuple[str, float]]
    gops: Count


def _gop(cut: Cut, frames: int, enc: Encoding, cache: Pieces) -> Piece:
    return cache.get(lambda out: gop_args(cut.image, frames, out, enc), [cut.image], ".mp4",
                     f"encoding slide {cut.image.name} failed")


def encode_cut(cut: Cut, enc: Encoding, cache: Pieces, join: bool = True) -> Encoded:
    """One slide: its whole GOPs (one GOP, looped) and its shorter last GOP, joined into one
    file when `join`."""
    gop = _gop(cut, cut.gop, enc, cache) if cut.loops else None
    tail = _gop(cut, cut.tail, enc, cache) if cut.tail else None
    pieces = [p for p in (gop, tail) if p]
    gops = Count(sum(p.made for p in pieces), len(pieces))
    if gop and tail and join:
        return Encoded([(str(_joined(cut, gop.path, tail.path, cache)), _seconds(cut))], gops)
    entries = []
    if gop:
        entries.append((str(_repeated(cut, gop.path, cache)), cut.loops * cut.gop / cut.fps))
    if tail:
        entries.append((str(tail.path), cut.tail / cut.fps))
    return Encoded(entries, gops)


def _repeated(cut: Cut, gop: Path, cache: Pieces) -> Path:
    """The slide's whole GOPs: its GOP file, repeated by stream copy when more than once."""
    if cut.loops == 1:
        return gop
    return cache.get(lambda out: loop_args(gop, cut.loops, out), [gop], ".mp4",
                     f"repeating slide {cut.image.name} failed").path


def _parts(cut: Cut, first: Path, tail: Path) -> list[tuple[str, float]]:
    return [(str(first), cut.loops * cut.gop / cut.fps), (str(tail), cut.tail / cut.fps)]


def _seconds(cut: Cut) -> float:
    """The slide's length as the concat list had its two parts before they were joined:
    each rounded to the list's microseconds, so the video's timestamps stay the same."""
    return round(cut.loops * cut.gop / cut.fps, 6) + round(cut.tail / cut.fps, 6)


def _joined(cut: Cut, gop: Path, tail: Path, cache: Pieces) -> Path:
    """The slide's file of its GOP repeated and its tail joined, from the cache or made now;
    the repeated GOP and the list are scratch files beside it (pruned should a crash leave
    them)."""
    first = LOOPED if cut.loops > 1 else gop
    key = [e for name, seconds in _parts(cut, first, tail) for e in (name, f"{seconds:.6f}")]
    piece = cache.entry(lambda out: [*sum(slide_args(gop, cut.loops, out), []), *key],
                        [gop, tail], ".mp4")
    if piece.made:
        with cache.making(piece.path) as out:
            looped, listing = out.with_suffix(".looped.mp4"), out.with_suffix(".ffconcat")
            try:
                parts = _parts(cut, looped if cut.loops > 1 else gop, tail)
                listing.write_text(concat_list(parts), encoding="utf-8")
                for argv in slide_args(gop, cut.loops, out, looped, listing):
                    run_ffmpeg(argv, f"joining slide {cut.image.name} failed")
            finally:
                looped.unlink(missing_ok=True)
                listing.unlink(missing_ok=True)
    return piece.path


def encode(cuts: list[Cut], enc: Encoding, cache: Pieces,
           on_done: Callable[[float], None] = lambda fraction: None) -> Encoded:
    """The slides' GOPs, in parallel, each from the cache where it can be; `on_done` hears
    the fraction of the slides done. The first slide's parts stay two files: the concat
    demuxer gives the video the first file's stream properties, and a joined file's bit
    rate would change the MP4's (its btrt box)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        jobs = [pool.submit(encode_cut, cut, enc, cache, join=n > 0)
                for n, cut in enumerate(cuts)]
        done = []
        for job in jobs:
            done.append(job.result())
            on_done(len(done) / len(jobs))
    return Encoded([e for d in done for e in d.entries],
                   Count(sum(d.gops.made for d in done), sum(d.gops.total for d in done)))


@dataclass(frozen=True)
class Plan:
    """An episode's slides as pieces to encode into its build's cache."""

    enc: Encoding
    cuts: list[Cut]
    cache: Pieces

    def encode(self, on_done: Callable[[float], None] = lambda fraction: None) -> Encoded:
        """The pieces (encode), each from the cache where it is; the cache then keeps this
        build's pieces and nothing else."""
        shown = encode(self.cuts, self.enc, self.cache, on_done)
        self.cache.prune()
        return shown


def plan(build: Path, video: VideoSettings, slides: list[SlideEntry], duration: float) -> Plan:
    """The pieces of the slides of the build folder `build`, kept in its CACHE."""
    enc = Encoding.from_settings(video)
    return Plan(enc, frame_cuts(slides, duration, build, enc), Pieces(build / CACHE))
