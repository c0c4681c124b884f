"""Loudness (EBU R128 / ITU-R BS.1770): what ffmpeg's ebur128 filter prints on stderr,
parsed (its frame log and summary), and the measurement master makes itself, in blocks
that are cached by content and combined."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np
import soxr

from pipeline.config import cache_dir
from pipeline.util.fsutil import atomic_path

FRAME_RE = re.compile(r"\bt:\s*([\d.]+)\s+TARGET:\S+\s+LUFS\s+M:\s*(\S+)\s+S:\s*(\S+)")
SUMMARY_RE = {
    "integrated": re.compile(r"^\s*I:\s*(\S+)\s+LUFS", re.M),
    "range": re.compile(r"^\s*LRA:\s*(\S+)\s+LU\b", re.M),
    "true_peak": re.compile(r"^\s*Peak:\s*(\S+)\s+dBFS", re.M),
}


@dataclass(frozen=True)
class Loudness:
    """What ebur128 measured: per-100 ms momentary and short-term loudness and the summary
    (None where a figure is missing or not finite, as the true peak of silence)."""

    times: list[float]
    momentary: list[float]
    short_term: list[float]
    integrated: float | None
    range: float | None
    true_peak: float | None


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def ebur128_summary(stderr: str) -> dict[str, float]:
    """The figures of the last summary ebur128 printed, as printed (-inf stays -inf):
    `integrated` LUFS, `range` LU, `true_peak` dBFS; a figure not printed is left out."""
    summary = stderr.rsplit("Summary:", 1)[1] if "Summary:" in stderr else ""
    figures = {}
    for key, pattern in SUMMARY_RE.items():
        match = pattern.search(summary)
        if match and (value := _float(match.group(1))) is not None:
            figures[key] = value
    return figures


def parse_ebur128(stderr: str) -> Loudness:
    """ebur128's frame log and its summary (the last one printed)."""
    frames = [(float(t), float(m), float(s)) for t, m, s in FRAME_RE.findall(stderr)]
    summary = ebur128_summary(stderr)
    figures = {key: value if math.isfinite(value := summary.get(key, math.nan)) else None
               for key in SUMMARY_RE}
    times, momentary, short = (list(column) for column in zip(*frames, strict=True)) \
        if frames else ([], [], [])
    return Loudness(times, momentary, short, **figures)


# -- ITU-R BS.1770 in numpy, in blocks that can be cached and combined -----------------------
#
# Integrated loudness gates 400 ms blocks that start every 100 ms, so all it needs is the
# K-weighted energy of each 100 ms sub-block. Stretches of audio are measured on their own
# in fine blocks (a whole number of them in each sub-block), and the figures are kept; a
# stretch that starts on a fine block's boundary adds its figures to an episode's, and the
# episode's loudness after any gain and limiter is worked out from those figures alone.

SUB_BLOCK = 0.1  # seconds: gating blocks start every 100 ms
BLOCK_SUBS = 4  # and last four sub-blocks (400 ms, 75% overlap)
ABSOLUTE_GATE = -70.0  # LUFS
RELATIVE_GATE = -10.0  # LU under the loudness of the blocks above the absolute gate
OVERSAMPLE = 4  # true peak: the signal oversampled 4x, as BS.1770's annex 2 suggests
K_TAIL = 1.0  # seconds of the K-weighting's response after the audio that the FFT leaves room for
FINE_MAX = 64  # samples at most in a fine block


def sub_block(rate: int) -> int:
    """Samples in a 100 ms sub-block."""
    return round(rate * SUB_BLOCK)


def fine_block(rate: int) -> int:
    """Samples in a fine block: the largest divisor of the sub-block up to FINE_MAX."""
    sub = sub_block(rate)
    return max(d for d in range(1, FINE_MAX + 1) if sub % d == 0)


def k_weighting(rate: int) -> np.ndarray:
    """BS.1770's K-weighting at `rate` (pyloudnorm's design of its two filters), as
    second-order sections, kept in the cache: pyloudnorm imports scipy.signal to design them,
    and that import alone took a tenth of master's time after an edit."""
    path = cache_dir() / "loudness" / f"k-weighting-{rate}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        pass
    from pyloudnorm.iirfilter import IIRfilter

    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    sections = np.array([np.concatenate([f.b, f.a]) for f in (shelf, high_pass)])
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, sections)
    return sections


def k_weighted(audio: np.ndarray, rate: int) -> np.ndarray:
    """`audio` through the K-weighting from rest, as a cascade of biquads would give it: by
    FFT, the filter's response times the audio's spectrum, with room after the audio for
    the response's tail (it has died away long before K_TAIL)."""
    size = 1 << (len(audio) + round(K_TAIL * rate) - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(audio, size) * _response(rate, size), size)[: len(audio)]


@functools.lru_cache(maxsize=4)
def _response(rate: int, size: int) -> np.ndarray:
    """The K-weighting's frequency response on an FFT of `size` points: pieces of a build
    share a few sizes, and working it out took as long as the FFTs."""
    z = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    response = np.ones(len(z), complex)
    for b0, b1, b2, a0, a1, a2 in k_weighting(rate):
        response *= (b0 + (b1 + b2 * z) * z) / (a0 + (a1 + a2 * z) * z)
    return response


@dataclass(frozen=True)
class Blocks:
    """Audio in fine blocks: the K-weighted energy (sum of squares) and the true peak of
    each."""

    energy: np.ndarray  # float64
    peak: np.ndarray  # float32, linear


def energy(audio: np.ndarray, rate: int) -> np.ndarray:
    """K-weighted energy of each fine block of `audio` (mono, zero-padded to whole fine
    blocks), the K-weighting starting at rest."""
    size = fine_block(rate)
    padded = np.pad(audio.astype(np.float64), (0, -len(audio) % size))
    return np.square(k_weighted(padded, rate)).reshape(-1, size).sum(axis=1)


def measure(audio: np.ndarray, rate: int) -> Blocks:
    """K-weighted energy and true peak of each fine block of `audio` (as `energy`)."""
    size = fine_block(rate)
    padded = np.pad(audio.astype(np.float64), (0, -len(audio) % size))
    over = soxr.resample(padded.astype(np.float32), rate, OVERSAMPLE * rate, quality="VHQ")
    over = np.abs(over[: OVERSAMPLE * len(padded)]).reshape(-1, OVERSAMPLE * size)
    peak = np.maximum(over.max(axis=1), np.abs(padded).reshape(-1, size).max(axis=1))
    return Blocks(energy(audio, rate), peak.astype(np.float32))


def laid(parts: list[tuple[int, Blocks]], blocks: int) -> Blocks:
    """`blocks` fine blocks of silence with each part's figures from its first block on:
    energies add, peaks take the larger."""
    energy, peak = np.zeros(blocks), np.zeros(blocks, np.float32)
    for at, part in parts:
        n = max(0, min(len(part.energy), blocks - at))
        energy[at : at + n] += part.energy[:n]
        np.maximum(peak[at : at + n], part.peak[:n], out=peak[at : at + n])
    return Blocks(energy, peak)


def block_loudness(mean_square: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return -0.691 + 10 * np.log10(mean_square)


def integrated(energy: np.ndarray, rate: int, samples: int) -> float | None:
    """Integrated loudness (LUFS) of `samples` samples of audio from the K-weighted energy
    of its fine blocks; only whole gating blocks count. None when no block passes the
    gates."""
    per_sub = sub_block(rate) // fine_block(rate)
    whole = samples // sub_block(rate)
    subs = energy[: whole * per_sub].reshape(-1, per_sub).sum(axis=1)
    if len(subs) < BLOCK_SUBS:
        return None
    sums = sum(subs[i : len(subs) - BLOCK_SUBS + 1 + i] for i in range(BLOCK_SUBS))
    power = sums / (BLOCK_SUBS * sub_block(rate))
    loud = block_loudness(power)
    above = power[loud >= ABSOLUTE_GATE]
    if not len(above):
        return None
    relative = block_loudness(above.mean()) + RELATIVE_GATE
    kept = power[(loud > relative) & (loud > ABSOLUTE_GATE)]
    return float(block_loudness(kept.mean())) if len(kept) else None
