"""An MP3 measured once: ffmpeg's ebur128 (integrated loudness, range, true peak and the
loudness every 100 ms) and the waveform's extremes, in one ffmpeg pass, kept by the file's
bytes. master measures the MP3 it writes; the review page and the pre-flight checks read the
same figures without decoding the MP3 again.

master writes the MP3 in pieces (media/mp3.py) and measures it the same way: each piece
decoded on its own, its K-weighted energy, true peak and extremes kept per fine block of
BS.1770's measurement (media/loudness.py) by the piece's content, and the pieces' figures
laid end to end give the whole file's (media/r128.py), which are kept under the MP3's
bytes. After an edit only the pieces encoded again are decoded and measured.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.config import cache_dir
from pipeline.media.ffmpeg import compile_argv
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.loudness import Blocks, Loudness, fine_block, laid, parse_ebur128
from pipeline.media.loudness import measure as measure_blocks
from pipeline.media.r128 import summary
from pipeline.util import fsutil
from pipeline.util.hashing import sha256_file

WAVE_RATE = 8000  # samples a second decoded for the waveform: plenty for its columns
COLUMNS = 2400  # the waveform's columns kept: twice the review picture's width
VERSION = "1"  # part of every cache key: bump when what is measured changes
PART_VERSION = "2"  # the same for a piece's figures


@dataclass(frozen=True)
class Meter:
    """What an MP3 measured: its loudness, its length and its waveform, as the lowest and
    the highest sample in each of COLUMNS equal stretches of time."""

    loud: Loudness
    duration: float  # seconds
    lows: np.ndarray
    highs: np.ndarray


def measure_argv(mp3: Path, rate: int = WAVE_RATE) -> list[str]:
    """One ffmpeg pass: ebur128 logs loudness every 100 ms and the summary (integrated,
    range, true peak) on stderr; mono float samples at `rate` for the waveform on stdout.
    The ebur128 branch ends in a null output, or ffmpeg-python would drop it."""
    split = ffmpeg.input(str(mp3))["a"].filter_multi_output("asplit")
    meter = split[0].filter("ebur128", peak="true").output("-", format="null")
    wave = split[1].filter("aformat", sample_fmts="flt", sample_rates=rate,
                           channel_layouts="mono").output("-", format="f32le")
    return compile_argv(ffmpeg.merge_outputs(wave, meter).global_args("-nostats"))


def peak_columns(samples: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest and highest sample under each of `width` columns."""
    if samples.size == 0:
        return np.zeros(width), np.zeros(width)
    edges = np.linspace(0, samples.size, width + 1).astype(int)
    edges[1:] = np.maximum(edges[1:], edges[:-1] + 1)  # every column gets a sample
    edges = np.minimum(edges, samples.size)
    starts = np.minimum(edges[:-1], samples.size - 1)
    return np.minimum.reduceat(samples, starts), np.maximum.reduceat(samples, starts)


def measure(mp3: Path, fix: str) -> Meter:
    """Decode and measure `mp3` now."""
    result = run_ffmpeg(measure_argv(mp3), "ffmpeg could not measure the audio", mp3, fix)
    samples = np.frombuffer(result.stdout, dtype="<f4")
    lows, highs = peak_columns(samples, COLUMNS)
    return Meter(parse_ebur128(result.stderr), samples.size / WAVE_RATE, lows, highs)


def _entry(mp3: Path) -> Path:
    key = hashlib.sha256(f"{VERSION}|{WAVE_RATE}|{COLUMNS}|{sha256_file(mp3)}".encode())
    digest = key.hexdigest()
    return cache_dir() / "meter" / digest[:2] / f"{digest}.json"


def _read(entry: Path) -> Meter | None:
    try:
        figures = json.loads(entry.read_text(encoding="utf-8"))
        return Meter(Loudness(**figures["loudness"]), figures["duration"],
                     np.array(figures["lows"], np.float32), np.array(figures["highs"], np.float32))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember(mp3: Path, found: Meter) -> None:
    """Keep `found` as what `mp3`'s bytes measure."""
    loud = {f.name: getattr(found.loud, f.name) for f in dataclasses.fields(found.loud)}
    fsutil.write_text(_entry(mp3), json.dumps({
        "loudness": loud, "duration": found.duration,
        "lows": found.lows.tolist(), "highs": found.highs.tolist()}))


def metered(mp3: Path, fix: str) -> Meter:
    """`mp3` measured, or what was measured of the same bytes before."""
    entry = _entry(mp3)
    if (found := _read(entry)) is not None:
        return found
    found = measure(mp3, fix)
    remember(mp3, found)
    return found


# -- a file measured in pieces --------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """A stretch of decoded audio's figures per fine block: BS.1770's blocks and the lowest
    and highest sample."""

    blocks: Blocks
    lows: np.ndarray
    highs: np.ndarray


def part(samples: np.ndarray, rate: int) -> Part:
    """The figures of decoded `samples`, (n,) or (n, channels): the channels' energies add,
    the extremes and peaks are over them all."""
    size = fine_block(rate)
    channels = samples.reshape(len(samples), -1).T
    each = [measure_blocks(channel, rate) for channel in channels]
    padded = np.pad(channels, ((0, 0), (0, -len(samples) % size))).reshape(
        len(channels), -1, size)
    return Part(Blocks(sum(b.energy for b in each), np.max([b.peak for b in each], axis=0)),
                padded.min(axis=(0, 2)), padded.max(axis=(0, 2)))


class PartCache:
    """Parts by a key naming their content: one .npy each (float64: the energies, peaks,
    lows and highs one after another), written atomically."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "meter" / "parts"

    def path(self, key: str) -> Path:
        digest = hashlib.sha256(f"{PART_VERSION}|{key}".encode()).hexdigest()
        return self.root / digest[:2] / f"{digest}.npy"

    def get(self, key: str) -> Part | None:
        try:
            data = np.load(self.path(key), allow_pickle=False)
        except (OSError, ValueError):
            return None
        if data.ndim != 1 or len(data) % 4:
            return None
        energy, peak, lows, highs = data.reshape(4, -1)
        f32 = np.float32
        return Part(Blocks(energy.copy(), peak.astype(f32)), lows.astype(f32), highs.astype(f32))

    def put(self, key: str, found: Part) -> None:
        data = np.concatenate([found.blocks.energy, found.blocks.peak, found.lows, found.highs])
        with fsutil.atomic_path(self.path(key), suffix=".npy") as tmp:
            np.save(tmp, data.astype(np.float64))


def _laid_extremes(parts: list[tuple[int, Part]], blocks: int) -> tuple[np.ndarray, np.ndarray]:
    lows, highs = np.zeros(blocks, np.float32), np.zeros(blocks, np.float32)
    for at, found in parts:
        n = max(0, min(len(found.lows), blocks - at))
        np.minimum(lows[at : at + n], found.lows[:n], out=lows[at : at + n])
        np.maximum(highs[at : at + n], found.highs[:n], out=highs[at : at + n])
    return lows, highs


def combined(parts: list[tuple[int, Part]], rate: int, total: int) -> Meter:
    """The Meter of `total` samples from its parts, each placed at a fine block (its index);
    the waveform's columns from the fine blocks' extremes."""
    count = -(-total // fine_block(rate))
    blocks = laid([(at, found.blocks) for at, found in parts], count)
    lows, highs = _laid_extremes(parts, count)
    edges = np.linspace(0, count, COLUMNS + 1).astype(int)
    starts = np.minimum(np.minimum(edges[:-1], np.maximum(edges[1:] - 1, 0)), count - 1)
    return Meter(summary(blocks, rate, total), total / rate,
                 np.minimum.reduceat(lows, starts), np.maximum.reduceat(highs, starts))
