"""The video's sound: AAC-LC, 48 kHz, stereo, encoded in pieces of 40 s that run in parallel
and are joined by stream copy (the concat demuxer's inpoint and outpoint).

ffmpeg's AAC encoder takes the audio 1024 samples (a frame) at a time, and each frame's
transform overlaps the next. So each piece is encoded from 1.6 s before its start, to let
the encoder settle, to four frames after its end, so that its last kept frame overlaps real
audio rather than the silence after an ending; only the frames of the piece itself are kept.
Joined, the pieces measure as close to the source as one whole encode does, at every seam.

The episode is decoded once, at 48 kHz, with the encoder's 1024 priming samples trimmed from
its start, so that with no edit list to hide them the audio still lines up with the slides.
Each piece's samples go to their own file, so a piece whose samples did not change is found
again by content (media/pieces.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.media.ffmpeg import compile_argv, probe, run

RATE = 48000
FRAME = 1024  # samples in one AAC frame
PRIMING = 1024  # samples the encoder puts before the audio
PIECE = FRAME * 1875  # 40 s: the samples each piece keeps
PRE_ROLL = FRAME * 75  # 1.6 s encoded before a piece and dropped
POST_ROLL = FRAME * 4  # encoded after a piece and dropped
QUIET = ("-v", "error")


@dataclass(frozen=True)
class Span:
    """One piece, in samples of the trimmed episode: encoded from `start` to `stop`, kept
    from `keep` to `end`."""

    start: int
    keep: int
    end: int
    stop: int

    @property
    def inpoint(self) -> float:
        return (self.keep - self.start) / RATE

    @property
    def outpoint(self) -> float:
        return (self.end - self.start) / RATE


def plan(total: int, piece: int | None = None) -> list[Span]:
    """The pieces of `total` samples, `piece` (PIECE) long; lengths are whole frames."""
    piece = piece or PIECE
    if piece % FRAME or PRE_ROLL % FRAME:
        raise ValueError(f"a piece and its pre-roll are whole frames of {FRAME} samples")
    spans = []
    for keep in range(0, max(total, 1), piece):
        end = min(keep + piece, total)
        spans.append(Span(max(0, keep - PRE_ROLL), keep, end, min(end + POST_ROLL, total)))
    return spans


def decode_args(source: Path, out: Path, channels: int) -> list[str]:
    """The episode as raw 32-bit float samples at 48 kHz, its first PRIMING samples cut."""
    sound = (ffmpeg.input(str(source))["a:0"].filter("aresample", RATE)
             .filter("atrim", start_sample=PRIMING).filter("asetpts", "PTS-STARTPTS"))
    raw = sound.output(str(out), format="f32le", ac=channels, ar=RATE, map_metadata=-1)
    return compile_argv(raw.global_args(*QUIET).overwrite_output())


def encode_args(raw: Path, channels: int, out: Path, bitrate: str) -> list[str]:
    """One piece's samples as AAC-LC stereo (a fast coder, no mid/side: see DESIGN.md)."""
    samples = ffmpeg.input(str(raw), format="f32le", ar=RATE, ac=channels)
    aac = samples.output(str(out), ac=2, ar=RATE, audio_bitrate=bitrate, aac_coder="fast",
                         aac_ms=0, map_metadata=-1, **{"c:a": "aac", "profile:a": "aac_low"})
    return compile_argv(aac.global_args(*QUIET).overwrite_output())


def cut(source: Path, folder: Path) -> tuple[int, list[tuple[Path, Span]]]:
    """The episode's channels (two at most), and its samples cut into pieces, each with
    its rolls in its own file in `folder`."""
    streams = probe(source)["streams"]
    channels = min(2, next(int(s["channels"]) for s in streams if s["codec_type"] == "audio"))
    raw = folder / "audio.f32"
    run(decode_args(source, raw, channels), "decoding the audio failed", source)
    frames = np.memmap(raw, dtype="<f4", mode="r").reshape(-1, channels)
    pieces = []
    for n, span in enumerate(plan(len(frames))):
        path = folder / f"audio-{n:03d}.f32"
        frames[span.start:span.stop].tofile(path)
        pieces.append((path, span))
    del frames
    raw.unlink()
    return channels, pieces


def concat_list(pieces: list[tuple[str, Span]]) -> str:
    """An ffconcat list keeping each encoded piece's own samples. The first piece has no
    inpoint: its encoder's priming frame stays, in the place of the samples trimmed."""
    lines = ["ffconcat version 1.0"]
    for name, span in pieces:
        quoted = name.replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
        if span.keep > span.start:
            lines.append(f"inpoint {span.inpoint:.6f}")
        lines.append(f"outpoint {span.outpoint:.6f}")
    return "\n".join(lines) + "\n"
