"""The video's sound, made by master from the mastered samples: AAC-LC, 48 kHz, stereo,
encoded in pieces that run in parallel and are joined by stream copy (the concat demuxer's
inpoint and outpoint) into build/episode.m4a, which the video stage copies into the MP4.

ffmpeg's AAC encoder takes the audio 1024 samples (a frame) at a time, and each frame's
transform overlaps the next. So each piece is encoded from 1.6 s before its start, to let
the encoder settle, to five frames after its end, so that its last kept frame overlaps real
audio rather than the silence after an ending; only the frames of the piece itself are kept.
Joined, the pieces measure as close to the source as one whole encode does, at every seam.

The pieces start where the narration's segments start, or after a pause within one (the
chunks a long paragraph is spoken in), on a grid of whole frames that is also whole
microseconds (ffconcat's unit) and whole samples at the source's rate (0.32 s at 44.1 kHz),
and each is resampled to 48 kHz on its own. narrate starts every segment and every chunk on
that grid, so an edit that makes one chunk longer moves the later pieces by whole steps of
it, and their samples, and so their keys in the piece cache (media/pieces.py), stay what
they were: only the pieces around the edit are encoded again.

The first piece's encoder priming (1024 samples) stays in the file, in the place of the
episode's first 1024 samples, which are trimmed: with no edit list to hide the priming the
audio still lines up with the slides.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.media.ffmpeg import compile_argv, run
from pipeline.media.pieces import Count, Piece, Pieces
from pipeline.media.samples import Samples, as_samples

RATE = 48000
FRAME = 1024  # samples in one AAC frame
PRIMING = 1024  # samples the encoder puts before the audio
PRE_ROLL = FRAME * 75  # 1.6 s encoded before a piece and dropped
POST_ROLL = FRAME * 5  # encoded after a piece and dropped
MIN_PIECE = 8.0  # seconds: an anchor sooner after the one before starts no piece
MIN_PAUSE = 0.2  # seconds of digital silence whose end is an anchor too
QUIET = ("-v", "error")
# moov first; no edit lists: the priming is in the place of the samples trimmed
M4A_FLAGS = {"movflags": "+faststart", "use_editlist": 0}


@dataclass(frozen=True)
class Span:
    """One piece, in samples at 48 kHz of the episode without its first PRIMING: encoded
    from `start` to `stop`, kept from `keep` to `end`."""

    start: int
    keep: int
    end: int
    stop: int


def grid(rate: int) -> int:
    """Samples at `rate` in the shortest stretch that is whole AAC frames at 48 kHz, a whole
    number of microseconds (three frames: 64 ms) and whole samples at `rate`."""
    frames = next(k for k in range(3, RATE + 1, 3) if rate * FRAME * k % RATE == 0)
    return rate * FRAME * frames // RATE


def cuts(starts: list[float], rate: int,
         pauses: Sequence[tuple[int, int]] = ()) -> list[int]:
    """Where pieces start, in samples at `rate`: 0, then each anchor MIN_PIECE or more
    after the anchor before it. The anchors are the segments' starts and the ends of the
    pauses (runs of digital silence of MIN_PAUSE or more, as between the chunks a long
    paragraph is spoken in), each on the grid at or before it. Anchors move with what they
    mark, and the rule looks at two neighbours only, so an edit changes the cuts next to it
    alone."""
    step = grid(rate)
    anchors = {step * (round(start * rate) // step) for start in starts}
    anchors |= {step * (b // step) for a, b in pauses if b - a >= MIN_PAUSE * rate}
    found, before = [0], 0
    for at in sorted(anchors):
        if at - before >= MIN_PIECE * rate:
            found.append(at)
        before = at
    return found


def spans(found: list[int], rate: int, total: int) -> list[Span]:
    """The pieces from the cuts, in samples at `rate` of an episode of `total` of them."""
    to48 = [c * RATE // rate - PRIMING for c in found[1:]]
    last = round(total * RATE / rate) - PRIMING
    out = []
    for keep, end in zip([0, *to48], [*to48, last], strict=True):
        start = max(0, keep - PRE_ROLL)
        if 0 < keep < PRE_ROLL:
            raise ValueError("a piece starts within its pre-roll of the episode's start")
        out.append(Span(start, keep, end, min(end + POST_ROLL, last)))
    return out


def source_range(span: Span, rate: int, total: int) -> tuple[int, int]:
    """The source samples (at `rate`) that a piece is encoded from: from the start of its
    pre-roll (the episode's first sample for the first piece) to the end of its post-roll."""
    first = 0 if span.start == 0 else (span.start + PRIMING) * rate // RATE
    return first, min(total, -(-(span.stop + PRIMING) * rate // RATE))


def encode_args(raw: Path, rate: int, channels: int, out: Path, bitrate: str,
                first: bool) -> list[str]:
    """One piece's samples, resampled to 48 kHz, as AAC-LC stereo (a fast coder, no
    mid/side: see DESIGN.md); the first piece without the episode's first PRIMING samples."""
    sound = ffmpeg.input(str(raw), format="f32le", ar=rate, ac=channels).filter(
        "aresample", RATE)
    if first:
        sound = sound.filter("atrim", start_sample=PRIMING).filter("asetpts", "PTS-STARTPTS")
    aac = sound.output(str(out), ac=2, ar=RATE, audio_bitrate=bitrate, aac_coder="fast",
                       aac_ms=0, map_metadata=-1, **{"c:a": "aac", "profile:a": "aac_low"})
    return compile_argv(aac.global_args(*QUIET).overwrite_output())


def _microseconds(samples: int) -> str:
    """Seconds to the microsecond, rounded down: ffconcat reads its times in microseconds,
    and a point rounded up past a frame's start would keep that frame."""
    us = samples * 1_000_000 // RATE
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def concat_list(pieces: list[tuple[str, Span]]) -> str:
    """An ffconcat list keeping each encoded piece's own samples. The first piece has no
    inpoint: its encoder's priming frame stays, in the place of the samples trimmed."""
    lines = ["ffconcat version 1.0"]
    for name, span in pieces:
        quoted = name.replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if span.keep > span.start:
            lines.append(f"inpoint {_microseconds(span.keep - span.start)}")
        lines.append(f"outpoint {_microseconds(span.end - span.start)}")
    return "\n".join(lines) + "\n"


def join_args(listing: Path, out: Path) -> list[str]:
    """The pieces of an ffconcat list joined by stream copy into one M4A."""
    joined = ffmpeg.input(str(listing), format="concat", safe=0)["a:0"]
    return compile_argv(joined.output(str(out), format="mp4", c="copy", map_metadata=-1,
                                      **M4A_FLAGS).global_args(*QUIET).overwrite_output())


@dataclass(frozen=True)
class Sound:
    """What encode needs: the mastered samples at `rate` and where the segments start."""

    samples: np.ndarray | Samples  # float32, (n,) or (n, channels)
    rate: int
    starts: list[float]  # seconds
    bitrate: str


def _piece(sound: Sound, samples: Samples, n: int, span: Span, folder: Path,
           cache: Pieces) -> Piece:
    """One piece of the video's sound (`samples`, read by range) from the cache, or encoded
    now; its samples are keyed where they are and written out only to be encoded."""
    first, last = source_range(span, sound.rate, len(samples))
    raw = folder / f"aac-{n:03d}.f32"
    argv_for = partial(encode_args, raw, sound.rate, samples.channels, bitrate=sound.bitrate,
                       first=n == 0)
    entry = cache.entry(argv_for, [raw], ".m4a", {raw: samples.key(first, last)})
    if entry.made:
        samples.render(first, last).astype("<f4").tofile(raw)
        with cache.making(entry.path) as tmp:
            run(argv_for(tmp), "encoding the video's audio failed")
    return entry


def encode(sound: Sound, out: Path, cache: Pieces, folder: Path) -> Count:
    """`out` (an M4A) from the pieces, each from the cache where it can be; the piece
    files are written in `folder`."""
    samples = as_samples(sound.samples)
    found = spans(cuts(sound.starts, sound.rate, samples.silences()), sound.rate, len(samples))
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        made = list(pool.map(lambda job: _piece(sound, samples, *job, folder, cache),
                             enumerate(found)))
    listing = folder / "audio.ffconcat"
    listing.write_text(concat_list([(str(p.path), span) for p, span
                                    in zip(made, found, strict=True)]), encoding="utf-8")
    run(join_args(listing, out), "joining the video's audio failed", out)
    return Count(sum(p.made for p in made), len(made))
