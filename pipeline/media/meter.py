"""An MP3 measured once: ffmpeg's ebur128 (integrated loudness, range, true peak and the
loudness every 100 ms) and the waveform's extremes, in one ffmpeg pass, kept by the file's
bytes. master measures the MP3 it writes; the review page and the pre-flight checks read the
same figures without decoding the MP3 again."""

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
from pipeline.media.loudness import Loudness, parse_ebur128
from pipeline.util import fsutil
from pipeline.util.hashing import sha256_file

WAVE_RATE = 8000  # samples a second decoded for the waveform: plenty for its columns
COLUMNS = 2400  # the waveform's columns kept: twice the review picture's width
VERSION = "1"  # part of every cache key: bump when what is measured changes


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


def metered(mp3: Path, fix: str) -> Meter:
    """`mp3` measured, or what was measured of the same bytes before."""
    entry = _entry(mp3)
    try:
        figures = json.loads(entry.read_text(encoding="utf-8"))
        return Meter(Loudness(**figures["loudness"]), figures["duration"],
                     np.array(figures["lows"], np.float32), np.array(figures["highs"], np.float32))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    found = measure(mp3, fix)
    fsutil.write_text(entry, json.dumps({
        "loudness": dataclasses.asdict(found.loud), "duration": found.duration,
        "lows": found.lows.tolist(), "highs": found.highs.tolist()}))
    return found
