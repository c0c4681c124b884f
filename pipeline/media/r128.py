"""What ffmpeg's `ebur128=peak=true` reports (its frame log every 100 ms and its summary),
worked out from the fine-block figures that media/loudness.py measures and caches, so that
an edited episode's loudness needs no ffmpeg pass over the whole MP3.

Modelled on ffmpeg 5.1's filter, which meters at the input's own rate: a frame at the last
sample of every whole 100 ms, momentary and short-term loudness of the last 400 ms and 3 s
(-120.7 LUFS until that much audio has passed), and the loudness range from a histogram of
the short-term loudness in 0.01 LU bins. The energies are scaled first by the difference
between ffmpeg's K-weighting and the one the blocks were measured with (pyloudnorm's
design, 0.045 dB quieter at 44.1 kHz and almost flat from 100 Hz up)."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.media.loudness import (
    ABSOLUTE_GATE,
    BLOCK_SUBS,
    Blocks,
    Loudness,
    block_loudness,
    fine_block,
    integrated,
    k_weighting,
    sub_block,
)

SHORT_SUBS = 30  # short-term loudness: the last 3 s
EMPTY = 1e-12  # ebur128's power before the window is full, and added to every window's sum
RANGE_GATE = -20.0  # LU under the mean short-term power (EBU Tech 3342)
RANGE_LOW, RANGE_HIGH = 10, 95  # percent
GRAIN = 100  # histogram bins a LU
TOP = 10.0  # LUFS: the histogram's loudest bin
REFERENCE_HZ = 997.0  # BS.1770's reference tone, where the two K-weightings are compared


def _ffmpeg_k_weighting(rate: int) -> np.ndarray:
    """ffmpeg's (libebur128's) design of BS.1770's two filters at `rate`, as second-order
    sections (b0, b1, b2, a0, a1, a2)."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    shelf = [vh + vb * k / q + k * k, 2 * (k * k - vh), vh - vb * k / q + k * k,
             1 + k / q + k * k, 2 * (k * k - 1), 1 - k / q + k * k]
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    d = 1 + k / q + k * k  # libebur128 leaves the high-pass's b unscaled: 1, -2, 1
    high_pass = [d, -2 * d, d, d, 2 * (k * k - 1), 1 - k / q + k * k]
    return np.array([shelf, high_pass])


def _power_gain(sections: np.ndarray, rate: int) -> float:
    """The filter's power gain at REFERENCE_HZ."""
    z = np.exp(-2j * np.pi * REFERENCE_HZ / rate)
    b0, b1, b2, a0, a1, a2 = sections.T
    return float(np.abs(np.prod((b0 + (b1 + b2 * z) * z) / (a0 + (a1 + a2 * z) * z))) ** 2)


def _to_ffmpeg(rate: int) -> float:
    """Factor from the energies measured with the project's K-weighting to ffmpeg's."""
    return _power_gain(_ffmpeg_k_weighting(rate), rate) / _power_gain(k_weighting(rate), rate)


def _sub_energies(energy: np.ndarray, rate: int, samples: int) -> np.ndarray:
    """K-weighted energy of each whole 100 ms sub-block."""
    per_sub = sub_block(rate) // fine_block(rate)
    fine = samples // sub_block(rate) * per_sub
    energy = np.pad(energy[:fine], (0, max(0, fine - len(energy))))
    return energy.reshape(-1, per_sub).sum(axis=1)


def _windowed(subs: np.ndarray, width: int, rate: int) -> np.ndarray:
    """ebur128's loudness at the end of each sub-block over the last `width` sub-blocks:
    summed window by window, not by a running sum, so that silence stays silent."""
    power = np.full(len(subs), EMPTY)
    if len(subs) >= width:
        sums = sliding_window_view(subs, width).sum(axis=1)
        power[width - 1 :] = (EMPTY + sums) / (width * sub_block(rate))
    return block_loudness(power)


def _times(frames: int, rate: int) -> np.ndarray:
    """The time of each frame, at its last sample, rounded as ffmpeg prints it (%.6g)."""
    t = (np.arange(1, frames + 1) * sub_block(rate) - 1) / rate
    scale = 10.0 ** (5 - np.floor(np.log10(t)))
    return np.round(t * scale) / scale


def _bin(value: np.ndarray | float) -> np.ndarray:
    """Histogram bin of a loudness, truncated as ebur128's HIST_POS does."""
    top = round((TOP - ABSOLUTE_GATE) * GRAIN)
    return np.clip(np.trunc((np.asarray(value) - ABSOLUTE_GATE) * GRAIN), 0, top).astype(int)


def _range(short: np.ndarray) -> float:
    """Loudness range (LU) of the short-term loudness as ebur128 works it out: the 10th to
    the 95th percentile of the bins at or above the relative gate; 0 when nothing passes."""
    audible = short[short >= ABSOLUTE_GATE]
    if not len(audible):
        return 0.0
    mean = np.mean(10 ** ((audible + 0.691) / 10))
    gate = _bin(block_loudness(mean) + RANGE_GATE)
    kept = np.sort(_bin(audible))
    kept = kept[kept >= gate]
    low_rank = int(RANGE_LOW * len(kept) / 100 + 0.5)
    high_rank = int(RANGE_HIGH * len(kept) / 100 + 0.5)
    low = kept[low_rank - 1] if low_rank else gate
    return float(kept[high_rank - 1] - low) / GRAIN


def _true_peak(peak: np.ndarray) -> float | None:
    top = float(peak.max()) if len(peak) else 0.0
    return 20 * math.log10(top) if top > 0 else None


def summary(blocks: Blocks, rate: int, samples: int) -> Loudness:
    """What ebur128=peak=true reports for `samples` samples of mono audio at `rate` whose
    fine blocks measured `blocks`: -120.7 LUFS for a window not yet full and about -163
    for digital silence (ffmpeg's running sum prints rounding noise there: -160.1, nan);
    integrated loudness None where ffmpeg prints -70.0."""
    energy = blocks.energy * _to_ffmpeg(rate)
    subs = _sub_energies(energy, rate, samples)
    short = _windowed(subs, SHORT_SUBS, rate)
    fine = -(-samples // fine_block(rate))
    return Loudness(
        times=_times(len(subs), rate).tolist(),
        momentary=_windowed(subs, BLOCK_SUBS, rate).tolist(),
        short_term=short.tolist(),
        integrated=integrated(energy, rate, samples),
        range=_range(short),
        true_peak=_true_peak(blocks.peak[:fine]),
    )
