"""The episode's MP3, encoded in pieces that are kept by content and joined frame by frame.

An MP3 is a run of frames of 1152 samples (576 below 32 kHz). LAME's bit reservoir lets a
frame keep its data in the frames before it; with the reservoir off every frame stands
alone, so frames from different encodes can follow one another. The pieces are cut where
the mastered samples are digital silence for ROLL frames either side of a frame boundary:
the frames about a cut encode silence whichever encode made them, and a decoder going
from one piece's last frame to the next piece's first finds what one encode would give.

Each piece is encoded by a fresh encoder from ROLL frames before its first frame (its
input starting on the frame grid, so its frames are the episode's frames) to ROLL frames
after its last, and only its own frames are kept. The encoded pieces are kept in a folder
by the hash of their samples and the encoder's settings (media/pieces.py), so after an edit
only the pieces whose samples changed are encoded again: narrate starts every section on
a grid of whole MP3 frames, so the sections after an edit move by whole frames and keep
their samples. The joined frames get the gapless header (LAME's Info tag: the encoder's
delay and the last frame's padding) and ffmpeg writes the file by stream copy, counting
the frames and the CRCs.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.config import AudioSettings
from pipeline.media import meter
from pipeline.media.ffmpeg import compile_argv, run
from pipeline.media.loudness import fine_block
from pipeline.media.pieces import Count, Pieces
from pipeline.media.samples import Samples, as_samples

DELAY = 576  # LAME's encoder delay: the Info tag's first figure
DECODER_DELAY = 529  # and the decoder's: sample 0 comes out at DELAY + DECODER_DELAY
ROLL = 3  # frames encoded before and after each piece and dropped; silent about a cut
QUIET = ("-v", "error")
_BITRATES = {1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
             2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)}
_RATES = (44100, 48000, 32000)


def frame_samples(rate: int) -> int:
    """Samples in one Layer III frame at `rate`: MPEG-1 above 24 kHz, MPEG-2 at or below."""
    return 1152 if rate >= 32000 else 576


def _encoded(src: Path | str, dst: Path | str, audio: AudioSettings) -> ffmpeg.nodes.OutputStream:
    samples = ffmpeg.input(str(src), format="f32le", ar=audio.sample_rate, ac=1)
    return samples.output(
        str(dst), format="mp3", ar=audio.sample_rate, ac=audio.channels,
        audio_bitrate=audio.bitrate, map_metadata=-1, id3v2_version=0, write_id3v1=0,
        write_xing=1, reservoir=0, bitexact=None, **{"c:a": "libmp3lame"})


def encode_argv(src: Path | str, dst: Path | str, audio: AudioSettings) -> list[str]:
    """Mono float32 samples at the episode's rate, no header, to an MP3 with fixed flags, no
    tags, no bit reservoir and LAME's Info tag first (its delay and padding)."""
    return compile_argv(_encoded(src, dst, audio).global_args(*QUIET).overwrite_output())


def batch_argv(jobs: list[tuple[Path, Path]], audio: AudioSettings) -> list[str]:
    """One ffmpeg run doing what encode_argv does for each (source, destination) pair, each
    output with an encoder of its own: one process start for many pieces."""
    outputs = [_encoded(src, dst, audio) for src, dst in jobs]
    return compile_argv(ffmpeg.merge_outputs(*outputs).global_args(*QUIET).overwrite_output())


# -- where the pieces are -------------------------------------------------------------------

def cuts(samples: np.ndarray | Samples, rate: int) -> list[int]:
    """The frames that start pieces: 0, and in each run of digital silence the first frame
    with ROLL frames of silence either side of its start (in the samples' own time: frame k
    starts at sample k * frame - DELAY - DECODER_DELAY)."""
    size, lead = frame_samples(rate), DELAY + DECODER_DELAY
    found = [0]
    for a, b in silences(samples):
        k = -(-(a + lead + ROLL * size) // size)
        if k * size - lead + ROLL * size <= b and k > found[-1] + ROLL:
            found.append(k)
    return found


def silences(samples: np.ndarray | Samples) -> list[tuple[int, int]]:
    """The runs of digital silence between sounds, as [start, end) in samples."""
    return as_samples(samples).silences()


@dataclass(frozen=True)
class Span:
    """One piece: frames `first` to `end` (None: to the last), encoded from sample `start`
    to sample `stop` of the episode, and the frames of that encode to drop first."""

    first: int
    end: int | None
    start: int
    stop: int
    skip: int


def spans(found: list[int], rate: int, total: int) -> list[Span]:
    """The pieces between the cuts of an episode of `total` samples."""
    size, lead = frame_samples(rate), DELAY + DECODER_DELAY
    out = []
    for first, end in zip(found, [*found[1:], None], strict=True):
        skip = min(ROLL, first)
        stop = total if end is None else min(total, (end + ROLL) * size - lead)
        out.append(Span(first, end, (first - skip) * size, stop, skip))
    return out


# -- frames ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Header:
    length: int  # bytes in the frame
    side: int  # bytes of side information after the 4-byte header


def header(data: bytes, at: int) -> Header:
    """The Layer III frame header at `at`."""
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    if data[at] != 0xFF or b1 & 0xE0 != 0xE0 or (b1 >> 1) & 3 != 1:
        raise ValueError(f"no MPEG Layer III frame at byte {at}")
    version = (b1 >> 3) & 3  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    mpeg1, mono = version == 3, b3 >> 6 == 3
    rate = _RATES[(b2 >> 2) & 3] // {3: 1, 2: 2, 0: 4}[version]
    kbps = _BITRATES[1 if mpeg1 else 2][b2 >> 4]
    length = (144 if mpeg1 else 72) * kbps * 1000 // rate + ((b2 >> 1) & 1)
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    return Header(length, side)


def offsets(data: bytes) -> list[int]:
    """Where each frame of an MP3 with no ID3 tags starts, then where the last one ends;
    each kind of header is read once."""
    out, at, lengths = [], 0, {}
    while at < len(data):
        out.append(at)
        head = data[at : at + 4]
        if (length := lengths.get(head)) is None:
            length = lengths[head] = header(data, at).length
        at += length
    return [*out, at]


def frames(data: bytes) -> list[bytes]:
    """The frames of an MP3 with no ID3 tags."""
    at = offsets(data)
    return [data[a:b] for a, b in zip(at, at[1:], strict=False)]


def is_info(frame: bytes) -> bool:
    """Whether `frame` is a Xing or Info header rather than audio."""
    at = 4 + header(frame, 0).side
    return frame[at : at + 4] in (b"Xing", b"Info")


def crc16(data: bytes) -> int:
    """CRC-16/ARC, the LAME tag's checksum."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def info_for(last_info: bytes, count: int, size: int) -> bytes:
    """The Info frame of the last piece's encode, which holds the encoder's delay and the
    last frame's padding, saying `count` frames and `size` bytes for the whole stream."""
    tag = bytearray(last_info)
    at = 4 + header(tag, 0).side
    tag[at + 8 : at + 12] = count.to_bytes(4, "big")
    tag[at + 12 : at + 16] = size.to_bytes(4, "big")
    tag[at + 154 : at + 156] = b"\0\0"
    tag[at + 154 : at + 156] = crc16(bytes(tag[:190])).to_bytes(2, "big")
    return bytes(tag)


def kept(encoded: bytes, span: Span) -> tuple[bytes, int, bytes]:
    """A piece's own frames out of its encode, how many they are, and the encode's Info
    frame."""
    at = offsets(encoded)
    if len(at) < 2 or not is_info(encoded[at[0] : at[1]]):
        raise ValueError("the piece's encode has no Info frame first")
    last = len(at) - 1
    first = min(last, 1 + span.skip)
    end = last if span.end is None else min(last, first + span.end - span.first)
    return encoded[at[first] : at[end]], end - first, encoded[at[0] : at[1]]


# -- encoding -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Raw:
    """A piece: the file its samples go to when it is encoded, and their key."""

    path: Path
    span: Span
    digest: str


def piece_samples(samples: Samples, rate: int, folder: Path) -> list[Raw]:
    """Each piece, its samples to be written as raw float32 in `folder` if it is encoded."""
    return [Raw(folder / f"mp3-{n:03d}.f32", span, samples.key(span.start, span.stop))
            for n, span in enumerate(spans(cuts(samples, rate), rate, len(samples)))]


def join_argv(src: Path, dst: Path) -> list[str]:
    """The joined frames into an MP3 by stream copy: ffmpeg writes the Info tag again with
    the frames' count, table of contents and CRCs, keeping the delay and padding."""
    joined = ffmpeg.input(str(src), format="mp3")
    return compile_argv(joined.output(
        str(dst), format="mp3", c="copy", map_metadata=-1, id3v2_version=0, write_id3v1=0,
        bitexact=None).global_args(*QUIET).overwrite_output())


def _shares(jobs: list[tuple[Path, Path]], workers: int) -> list[list[tuple[Path, Path]]]:
    """The jobs in up to `workers` groups of about the same number of samples."""
    groups: list[list[tuple[Path, Path]]] = [[] for _ in range(workers)]
    sizes = [0] * workers
    for size, job in sorted(((j[0].stat().st_size, j) for j in jobs), reverse=True):
        least = sizes.index(min(sizes))
        groups[least].append(job)
        sizes[least] += size
    return [g for g in groups if g]


def _make(missing: list[tuple[Path, Path]], cache: Pieces, audio: AudioSettings) -> None:
    """Encode the missing pieces (raw samples, cache entry) into the cache: one ffmpeg run
    for each core."""
    def batch(group: list[tuple[Path, Path]]) -> None:
        with contextlib.ExitStack() as stack:
            jobs = [(raw, stack.enter_context(cache.making(entry))) for raw, entry in group]
            run(batch_argv(jobs, audio), "ffmpeg's MP3 encoding failed")

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for done in [pool.submit(batch, g) for g in _shares(missing, os.cpu_count() or 2)]:
            done.result()


@dataclass(frozen=True)
class Made:
    """An MP3 encoded in pieces: each piece's cache entry (its encode) and span."""

    pieces: list[tuple[Path, Span]]
    count: Count
    total: int  # samples


def encode(samples: np.ndarray | Samples, audio: AudioSettings, out: Path, cache: Pieces,
           folder: Path) -> Made:
    """`out` from the mastered `samples` (mono float32 at audio.sample_rate), in pieces,
    each from the cache where it can be; only the pieces encoded now are rendered."""
    samples = as_samples(samples)
    pieces = piece_samples(samples, audio.sample_rate, folder)
    entries = [cache.entry(partial(encode_argv, raw.path, audio=audio), [raw.path], ".mp3",
                           {raw.path: raw.digest}) for raw in pieces]
    missing = [(raw, e) for raw, e in zip(pieces, entries, strict=True) if e.made]
    for raw, _ in missing:
        samples.render(raw.span.start, raw.span.stop).astype("<f4").tofile(raw.path)
    _make([(raw.path, e.path) for raw, e in missing], cache, audio)
    chunks, count, info = [], 0, b""
    for entry, raw in zip(entries, pieces, strict=True):
        own, frames_kept, info = kept(entry.path.read_bytes(), raw.span)
        chunks.append(own)
        count += frames_kept
    body = b"".join(chunks)
    joined = folder / "joined.mp3"
    head = info_for(info, count, len(info) + len(body))
    joined.write_bytes(head + body)
    run(join_argv(joined, out), "joining the MP3's pieces failed", out)
    return Made([(e.path, raw.span) for e, raw in zip(entries, pieces, strict=True)],
                Count(sum(e.made for e in entries), len(entries)), len(samples))


# -- measuring ------------------------------------------------------------------------------

def own_range(span: Span, rate: int, total: int, align: int) -> tuple[int, int]:
    """The samples of the episode that a piece's own frames decode to, from the multiple of
    `align` at or before their start to the one at or before their end (the episode's end
    for the last): the pieces' ranges meet, and each begins in silence."""
    size, lead = frame_samples(rate), DELAY + DECODER_DELAY
    start = 0 if span.first == 0 else span.first * size - lead
    end = total if span.end is None else align * ((span.end * size - lead) // align)
    return align * (start // align), end


def decode_argv(jobs: list[tuple[Path, Path]], rate: int) -> list[str]:
    """Each encoded piece (with its Info tag, so the decoder drops the delay and the
    padding) decoded to float32 at `rate`: one ffmpeg run, an output each."""
    outputs = [ffmpeg.input(str(src))["a"].output(str(dst), format="f32le", ar=rate)
               for src, dst in jobs]
    return compile_argv(ffmpeg.merge_outputs(*outputs).global_args(*QUIET).overwrite_output())


def measured(made: Made, audio: AudioSettings, folder: Path) -> meter.Meter:
    """The MP3's Meter from its pieces' figures, those of pieces not measured before from
    each piece decoded on its own now."""
    rate, fine = audio.sample_rate, fine_block(audio.sample_rate)
    cache = meter.PartCache()
    ranges = [own_range(span, rate, made.total, fine) for _, span in made.pieces]
    keys = [f"{entry.stem}|{a - span.start}|{b - span.start}"
            for (entry, span), (a, b) in zip(made.pieces, ranges, strict=True)]
    parts = [cache.get(key) for key in keys]
    todo = [i for i, found in enumerate(parts) if found is None]
    if todo:
        jobs = [(made.pieces[i][0], folder / f"decoded-{i:03d}.f32") for i in todo]
        run(decode_argv(jobs, rate), "ffmpeg could not decode the MP3's pieces")
    for i in todo:
        (a, b), start = ranges[i], made.pieces[i][1].start
        samples = np.fromfile(folder / f"decoded-{i:03d}.f32", "<f4").reshape(
            -1, audio.channels)[a - start : b - start]
        parts[i] = meter.part(samples, rate)
        cache.put(keys[i], parts[i])
    return meter.combined([(a // fine, p) for (a, _), p in zip(ranges, parts, strict=True)
                           if p is not None], rate, made.total)
