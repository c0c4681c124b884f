"""The MP3 in pieces (media/mp3.py): cut in silence, joined frame by frame into a gapless
file that decodes as one encode would, and measured from its pieces as ffmpeg's ebur128
measures the whole; checked with ffmpeg's own decoder and meter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import AudioSettings
from pipeline.media import meter, mp3
from pipeline.media.loudness import parse_ebur128
from pipeline.media.pieces import Pieces

RATE = 44100
pytestmark = pytest.mark.slow


def speech_like(seconds: float, seed: int) -> np.ndarray:
    """Bursts of tones and noise a few seconds long with pauses of digital silence."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * RATE:
        t = np.arange(int(RATE * rng.uniform(1.5, 5))) / RATE
        burst = 0.2 * np.sin(2 * np.pi * rng.uniform(120, 400) * t) * (
            1 + 0.5 * np.sin(2 * np.pi * 4 * t)) + 0.02 * rng.standard_normal(len(t))
        parts += [burst.astype(np.float32),
                  np.zeros(int(RATE * rng.uniform(0.3, 0.9)), np.float32)]
        total += len(t) + len(parts[-1])
    return np.concatenate(parts)


def decoded(path: Path, channels: int = 1) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(out, "<f4").reshape(-1, channels)[:, 0]


def ebur128(path: Path):
    done = subprocess.run(["ffmpeg", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], check=True, capture_output=True, text=True)
    return parse_ebur128(done.stderr)


def encode(samples: np.ndarray, tmp: Path, name: str, cache: Path,
           audio: AudioSettings | None = None) -> mp3.Made:
    folder = tmp / f"work-{name}"
    folder.mkdir()
    return mp3.encode(samples, audio or AudioSettings(), tmp / f"{name}.mp3", Pieces(cache),
                      folder)


def test_encode_argv_has_fixed_flags_no_tags_and_no_reservoir():
    assert mp3.encode_argv("mix.f32", "out.mp3", AudioSettings(bitrate="96k")) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-f", "f32le", "-ac", "1", "-ar", "44100",
        "-i", "mix.f32", "-f", "mp3", "-b:a", "96k", "-ac", "1", "-ar", "44100",
        "-bitexact", "-c:a", "libmp3lame", "-id3v2_version", "0", "-map_metadata", "-1",
        "-reservoir", "0", "-write_id3v1", "0", "-write_xing", "1", "out.mp3", "-v", "error",
        "-y"]


def test_cuts_lie_in_silence_with_room_either_side():
    samples = speech_like(40, seed=1)
    found = mp3.cuts(samples, RATE)
    assert found[0] == 0 and len(found) >= 5
    for k in found[1:]:
        at = k * 1152 - mp3.DELAY - mp3.DECODER_DELAY
        assert not samples[at - mp3.ROLL * 1152 : at + mp3.ROLL * 1152].any()


def test_cuts_follow_content_moved_by_whole_frames():
    samples = speech_like(30, seed=2)
    moved = np.concatenate([np.zeros(49 * 1152, np.float32), samples])
    assert [k + 49 for k in mp3.cuts(samples, RATE)[1:]] == mp3.cuts(moved, RATE)[1:]


def test_pieces_join_into_a_gapless_mp3_as_good_as_one_encode(tmp_path):
    samples = speech_like(40, seed=3)
    made = encode(samples, tmp_path, "pieces", tmp_path / "cache")
    assert made.count.total >= 5 and made.count.made == made.count.total
    joined = decoded(tmp_path / "pieces.mp3")
    assert len(joined) == len(samples)  # the Info tag's delay and padding are right
    (tmp_path / "x.f32").write_bytes(samples.astype("<f4").tobytes())
    subprocess.run(mp3.encode_argv(tmp_path / "x.f32", tmp_path / "whole.mp3",
                                   AudioSettings()), check=True)
    whole = decoded(tmp_path / "whole.mp3")

    def noise_db(out: np.ndarray) -> float:
        return float(10 * np.log10(np.sum((out - samples) ** 2) / np.sum(samples**2)))

    assert noise_db(joined) < -20 and noise_db(joined) < noise_db(whole) + 0.5


def test_every_frame_stands_alone_and_a_batch_encodes_as_one_run_does(tmp_path):
    samples = speech_like(20, seed=4)
    made = encode(samples, tmp_path, "a", tmp_path / "cache")
    for entry, _ in made.pieces:
        for frame in mp3.frames(entry.read_bytes())[1:]:
            assert frame[4] == 0 and frame[5] >> 7 == 0  # main_data_begin, 9 bits
    entry, span = made.pieces[1]
    (tmp_path / "p.f32").write_bytes(samples[span.start : span.stop].astype("<f4").tobytes())
    subprocess.run(mp3.encode_argv(tmp_path / "p.f32", tmp_path / "alone.mp3",
                                   AudioSettings()), check=True)
    assert (tmp_path / "alone.mp3").read_bytes() == entry.read_bytes()


def test_an_edit_encodes_its_piece_again_and_writes_a_cold_encodes_bytes(tmp_path):
    samples = speech_like(40, seed=5)
    encode(samples, tmp_path, "before", tmp_path / "cache")
    edited = samples.copy()
    first, second = mp3.silences(samples)[:2]
    edited[first[1] : second[0]] *= 0.5  # the second burst, quieter
    again = encode(edited, tmp_path, "after", tmp_path / "cache")
    cold = encode(edited, tmp_path, "cold", tmp_path / "fresh-cache")
    assert again.count.made == 1 < again.count.total == cold.count.made
    assert (tmp_path / "after.mp3").read_bytes() == (tmp_path / "cold.mp3").read_bytes()


def test_measured_in_pieces_as_ebur128_measures_the_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "pipeline-cache"))
    samples = speech_like(40, seed=6)
    made = encode(samples, tmp_path, "m", tmp_path / "cache")
    found = mp3.measured(made, AudioSettings(), tmp_path)
    truth = ebur128(tmp_path / "m.mp3")
    assert found.loud.integrated == pytest.approx(truth.integrated, abs=0.06)
    assert found.loud.true_peak == pytest.approx(truth.true_peak, abs=0.06)
    assert found.loud.range == pytest.approx(truth.range, abs=0.1)
    assert found.loud.times == pytest.approx(truth.times, abs=1e-4)
    assert found.duration == pytest.approx(len(samples) / RATE)
    whole = decoded(tmp_path / "m.mp3")
    lows, highs = meter.peak_columns(whole, meter.COLUMNS)
    # the columns' edges fall on fine blocks (63 samples), a little off the samples' own
    assert found.highs.max() == highs.max() and found.lows.min() == lows.min()
    assert np.mean(np.abs(found.highs - highs)) < 0.005
    assert np.mean(np.abs(found.lows - lows)) < 0.005


def test_a_stereo_mp3_measures_both_channels(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "pipeline-cache"))
    audio = AudioSettings(channels=2, sample_rate=48000)
    samples = speech_like(20, seed=7)
    made = encode(samples, tmp_path, "s", tmp_path / "cache", audio)
    found = mp3.measured(made, audio, tmp_path)
    assert found.loud.integrated == pytest.approx(ebur128(tmp_path / "s.mp3").integrated,
                                                  abs=0.06)
