"""scipy.signal.resample_poly with its default filter (a Kaiser window, beta 5), in numpy.

Captions resample what Whisper hears with that filter (speech/asr/pieces.py), but importing
scipy.signal takes most of a second, more than hearing the one piece an edit changed. The
filter is designed here as scipy's firwin designs it, and applied as scipy's upfirdn applies
it, for the outputs that resample_poly keeps; the result is scipy's to float rounding.
"""

from __future__ import annotations

import functools
from math import gcd

import numpy as np

BETA = 5.0  # the Kaiser window's beta: resample_poly's default
CHUNK = 1 << 15  # outputs worked out at a time, to bound the memory


@functools.lru_cache(maxsize=8)
def taps(up: int, down: int) -> np.ndarray:
    """resample_poly's filter for `up`/`down` (in lowest terms), scaled by `up`: firwin's
    low-pass at 1/max(up, down) of Nyquist, 20 * max(up, down) + 1 taps, unit gain at DC."""
    rate = max(up, down)
    half = 10 * rate
    m = np.arange(2 * half + 1) - half
    h = np.sinc(m / rate) / rate * np.kaiser(2 * half + 1, BETA)
    return h / h.sum() * up


def _out_len(taps_len: int, n_in: int, up: int, down: int) -> int:
    return ((n_in - 1) * up + taps_len - 1) // down + 1


def _padded(up: int, down: int, n_in: int, n_out: int) -> tuple[np.ndarray, int]:
    """The filter padded as resample_poly pads it, and how many first outputs it drops."""
    h = taps(up, down)
    half = (len(h) - 1) // 2
    pre = down - half % down
    drop = (half + pre) // down
    post = 0
    while _out_len(len(h) + pre + post, n_in, up, down) < n_out + drop:
        post += 1
    return np.concatenate([np.zeros(pre), h, np.zeros(post)]), drop


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """`x` (mono) resampled by `up`/`down`, as scipy.signal.resample_poly(x, up, down)."""
    g = gcd(up, down)
    up, down = up // g, down // g
    x = np.asarray(x, np.float64)
    if up == down == 1:
        return x.copy()
    n_out = -(-len(x) * up // down)
    h, drop = _padded(up, down, len(x), n_out)
    width = -(-len(h) // up)
    phases = np.pad(h, (0, width * up - len(h))).reshape(width, up).T  # [phase, tap]
    source = np.concatenate([np.zeros(width), x, np.zeros(width)])
    out = np.empty(n_out)
    back = np.arange(width)
    for start in range(0, n_out, CHUNK):
        at = (np.arange(start, min(n_out, start + CHUNK)) + drop) * down
        newest = at // up + width  # the input each output starts from, in `source`
        picked = source[np.minimum(newest[:, None] - back, len(source) - 1)]
        out[start : start + len(at)] = np.einsum("ij,ij->i", phases[at % up], picked)
    return out
