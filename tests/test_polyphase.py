"""media/polyphase.py gives scipy.signal.resample_poly's output (its default Kaiser filter)
without importing scipy.signal."""

from __future__ import annotations

from math import gcd

import numpy as np
import pytest
from scipy.signal import resample_poly

from pipeline.media import polyphase


@pytest.mark.parametrize("rate", [24000, 22050, 44100, 48000, 8000, 16000])
@pytest.mark.parametrize("length", [1, 5, 997, 48_013])
def test_matches_scipy_to_rounding(rate: int, length: int) -> None:
    x = np.random.default_rng(length + rate).standard_normal(length)
    g = gcd(rate, 16000)
    expected = resample_poly(x, 16000 // g, rate // g, window=("kaiser", 5.0))
    found = polyphase.resample_poly(x, 16000 // g, rate // g)
    assert found.shape == expected.shape
    assert np.abs(found - expected).max() < 1e-12


def test_a_tone_keeps_its_level_and_frequency() -> None:
    t = np.arange(24000) / 24000
    out = polyphase.resample_poly(np.sin(2 * np.pi * 1000 * t), 2, 3)
    middle = out[2000:14000]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(np.sqrt(0.5), rel=1e-3)
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.argmax(spectrum) * 16000 / len(middle) == pytest.approx(1000, abs=2)
