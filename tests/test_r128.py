"""media/r128.py against ffmpeg's ebur128=peak=true on the same speech-like signal: the
frame log, the summary, and the same figures from blocks measured in pieces."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.media.loudness import (
    Blocks,
    Loudness,
    fine_block,
    laid,
    measure,
    parse_ebur128,
    sub_block,
)
from pipeline.media.r128 import summary

RATE = 44100
GAP = (14.6, 15.8)  # seconds: a silence where the signal is cut in two
UNFILLED = -120.691  # what ebur128 prints (-120.7) for a window it has not filled yet
AUDIBLE = -70.0  # LUFS: figures below are silence, compared apart


def burst(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Band-limited noise or a warbling tone under a syllable-rate envelope."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    if rng.random() < 0.5:
        spectrum = np.fft.rfft(rng.standard_normal(n))
        hz = np.fft.rfftfreq(n, 1 / RATE)
        spectrum[(hz < rng.uniform(80, 300)) | (hz > rng.uniform(2000, 9000))] = 0
        sound = np.fft.irfft(spectrum, n)
    else:
        sound = np.sin(2 * np.pi * rng.uniform(100, 3000) * t
                       + 3 * np.sin(2 * np.pi * rng.uniform(2, 7) * t))
    syllables = 0.3 + 0.7 * np.sin(np.pi * rng.uniform(3, 6) * t) ** 2
    edges = np.minimum(1, np.minimum(t, t[::-1]) / 0.02)
    return sound / np.abs(sound).max() * syllables * edges * 10 ** (rng.uniform(-36, -6) / 20)


def speech_like(seconds: float = 30.04, seed: int = 7) -> np.ndarray:
    """Bursts at levels 30 dB apart with silent gaps, and silence through GAP."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * RATE))
    at = 0.25
    while at < seconds - 0.5:
        length = min(rng.uniform(0.15, 2.5), seconds - 0.3 - at)
        if at + length > GAP[0] and at < GAP[1]:
            at = GAP[1]
            continue
        start = round(at * RATE)
        piece = burst(rng, length)
        out[start : start + len(piece)] += piece
        at += length + rng.uniform(0.03, 1.2)
    return out.astype(np.float32)


def ebur128(signal: np.ndarray, folder: Path, *, metadata: bool = False) -> str:
    """ffmpeg's ebur128=peak=true over `signal`: its stderr (with metadata, each 100 ms
    frame's figures to three decimals, printed by ametadata)."""
    raw = folder / "signal.f32"
    signal.astype("<f4").tofile(raw)
    meter = "ebur128=peak=true" + (":metadata=1:framelog=info,ametadata=print" if metadata else "")
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-f", "f32le", "-ar", str(RATE),
            "-ac", "1", "-i", str(raw), "-af", meter, "-f", "null", "-"]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stderr


def metadata(stderr: str, key: str) -> np.ndarray:
    return np.array([float(v) for v in re.findall(rf"lavfi\.r128\.{key}=(\S+)", stderr)])


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, str, Loudness]:
    """The signal, ffmpeg's stderr for it (with metadata) and summary() of its blocks."""
    folder = tmp_path_factory.mktemp("r128")
    signal = speech_like()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_CACHE_DIR", str(folder / "cache"))
        ours = summary(measure(signal, RATE), RATE, len(signal))
    return signal, ebur128(signal, folder, metadata=True), ours


def test_the_frame_log_has_ffmpegs_times_and_windows(measured):
    signal, stderr, ours = measured
    theirs = parse_ebur128(stderr)
    assert len(ours.times) == len(theirs.times) == len(signal) // sub_block(RATE)
    assert ours.times == pytest.approx(theirs.times, abs=1e-9)
    assert ours.times[:2] == [0.0999773, 0.199977]  # each frame's last sample, as %.6g
    # momentary until 400 ms have passed, short-term until 3 s: the window is not full
    assert ours.momentary[:3] == pytest.approx([UNFILLED] * 3)
    assert ours.short_term[:29] == pytest.approx([UNFILLED] * 29)
    assert theirs.momentary[:3] + theirs.short_term[:29] == [-120.7] * 32
    assert ours.momentary[3] > AUDIBLE and ours.short_term[29] > AUDIBLE


@pytest.mark.parametrize("figure", ["momentary", "short_term"])
def test_momentary_and_short_term_are_ffmpegs_to_a_rounding(measured, figure):
    """Against the log (one decimal) and ffmpeg's metadata (three): the blocks' K-weighting
    is pyloudnorm's, brought to ffmpeg's; unscaled they would read 0.045 LU low."""
    _, stderr, ours = measured
    printed = np.array(getattr(parse_ebur128(stderr), figure))
    exact = metadata(stderr, {"momentary": "M", "short_term": "S"}[figure])
    mine = np.array(getattr(ours, figure))
    audible = exact > AUDIBLE
    assert audible.sum() > 0.5 * len(exact)
    assert np.abs(mine - printed)[audible].max() < 0.06
    assert np.abs(mine - exact)[audible].max() < 0.01
    assert np.array_equal(mine > AUDIBLE, audible)


def test_the_summary_is_ffmpegs(measured):
    _, stderr, ours = measured
    theirs = parse_ebur128(stderr)
    assert ours.integrated == pytest.approx(theirs.integrated, abs=0.1)
    assert ours.integrated == pytest.approx(metadata(stderr, "I")[-1], abs=0.01)
    assert ours.range > 10  # levels 30 dB apart: a range worth comparing
    assert ours.range == pytest.approx(theirs.range, abs=0.1)
    assert ours.range == pytest.approx(metadata(stderr, "LRA")[-1], abs=0.02)
    assert ours.true_peak == pytest.approx(theirs.true_peak, abs=0.1)


def test_halves_measured_apart_and_laid_read_as_the_whole(measured):
    signal, _, whole = measured
    fine = fine_block(RATE)
    cut = round(sum(GAP) / 2 * RATE / fine) * fine
    assert not signal[cut - RATE // 2 : cut + RATE // 2].any()
    parts = [(0, measure(signal[:cut], RATE)), (cut // fine, measure(signal[cut:], RATE))]
    halves = summary(laid(parts, -(-len(signal) // fine)), RATE, len(signal))
    assert halves.times == whole.times
    for figure in ("momentary", "short_term"):
        ours, theirs = np.array(getattr(halves, figure)), np.array(getattr(whole, figure))
        audible = theirs > AUDIBLE
        assert np.array_equal(ours > AUDIBLE, audible)
        assert np.abs(ours - theirs)[audible].max() < 0.01
    assert halves.integrated == pytest.approx(whole.integrated, abs=0.01)
    assert halves.range == pytest.approx(whole.range, abs=0.01)
    assert halves.true_peak == pytest.approx(whole.true_peak, abs=0.01)


def test_silence_reads_as_ffmpeg_prints_it_but_integrated_is_none(tmp_path):
    """Digital silence: -120.7 until a window is full, then 1e-12 over the window (about
    -163 LUFS); ffmpeg prints an integrated loudness of -70.0 where summary() says None."""
    signal = np.zeros(round(3.55 * RATE), np.float32)
    theirs = parse_ebur128(ebur128(signal, tmp_path))
    ours = summary(measure(signal, RATE), RATE, len(signal))
    assert ours.times == pytest.approx(theirs.times, abs=1e-9) and len(ours.times) == 35
    assert ours.momentary == pytest.approx(theirs.momentary, abs=0.06)
    assert ours.short_term == pytest.approx(theirs.short_term, abs=0.06)
    assert (ours.range, ours.true_peak) == (theirs.range, theirs.true_peak) == (0.0, None)
    assert ours.integrated is None and theirs.integrated == -70.0


def test_ten_minutes_of_blocks_take_well_under_a_tenth_of_a_second():
    rng = np.random.default_rng(1)
    samples = 600 * RATE
    count = -(-samples // fine_block(RATE))
    blocks = Blocks(rng.random(count) * (rng.random(count) < 0.7),
                    rng.random(count).astype(np.float32))
    summary(blocks, RATE, samples)
    start = time.perf_counter()
    loud = summary(blocks, RATE, samples)
    assert time.perf_counter() - start < 0.05
    assert len(loud.times) == len(loud.momentary) == 6000 and loud.times[-1] == 600.0
