"""The slides as H.264 pieces: a still slide does not change between frames, so each slide's
picture is encoded once as one closed GOP and repeated by stream copy (`-stream_loop`), with
one shorter GOP for the frames that do not make a whole GOP. Every slide change therefore
starts a keyframe, on the frame nearest its time in timeline.json.

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
from pipeline.media.pieces import Count, Piece, Pieces

CACHE = "video-cache"  # in build/: the encoded GOPs, by content


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


def encode_cut(cut: Cut, enc: Encoding, cache: Pieces) -> Encoded:
    """One slide: its whole GOPs (one GOP, looped) and its shorter last GOP."""
    entries, pieces = [], []
    if cut.loops:
        gop = _gop(cut, cut.gop, enc, cache)
        path = gop.path
        if cut.loops > 1:  # kept too: 137 MB for the sample, written again after each edit
            path = cache.get(lambda out: loop_args(gop.path, cut.loops, out), [gop.path],
                             ".mp4", f"repeating slide {cut.image.name} failed").path
        entries.append((str(path), cut.loops * cut.gop / cut.fps))
        pieces.append(gop)
    if cut.tail:
        tail = _gop(cut, cut.tail, enc, cache)
        entries.append((str(tail.path), cut.tail / cut.fps))
        pieces.append(tail)
    return Encoded(entries, Count(sum(p.made for p in pieces), len(pieces)))


def encode(cuts: list[Cut], enc: Encoding, cache: Pieces,
           on_done: Callable[[float], None] = lambda fraction: None) -> Encoded:
    """The slides' GOPs, in parallel, each from the cache where it can be; `on_done` hears
    the fraction of the slides done."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        jobs = [pool.submit(encode_cut, cut, enc, cache) for cut in cuts]
        done = []
        for job in jobs:
            done.append(job.result())
            on_done(len(done) / len(jobs))
    return Encoded([e for d in done for e in d.entries],
                   Count(sum(d.gops.made for d in done), sum(d.gops.total for d in done)))
