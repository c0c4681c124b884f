"""Recordings: pydub against what the pipeline had, side by side in one run (not a timed test).

1. The whole import of a 24-bit stereo FLAC: the old path (ffmpeg decodes to mono float at
   the show's rate, numpy trims by peak) against import_recording (ffmpeg decodes 32-bit
   PCM at the file's rate; pydub trims by RMS and mixes to mono; numpy counts clipping;
   scipy resamples).
2. Finding the silent edges: pydub's detect_leading_silence (RMS of 10 ms chunks) against
   numpy's sample-accurate peak threshold: time, error from the true edges, and what each
   cuts when the room has a noise floor.
3. Resampling 48 kHz -> 44.1 kHz: pydub's set_frame_rate (audioop.ratecv, interpolation
   without a filter) against scipy's polyphase filter as recordings use it (Kaiser beta 10):
   time and what is left that is not the tone (distortion and noise) at 1 and 10 kHz; also
   scipy's default beta 5 and ffmpeg's resampler, which the old path used.
4. To mono: pydub's set_channels against a numpy mean, from two channels and from four
   (pydub loops in Python past two); and the clipping scan.

    python bench/bench_recordings.py [--seconds 300]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydub import AudioSegment
from pydub.silence import detect_leading_silence
from scipy.io import wavfile
from scipy.signal import resample_poly

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.media.audio import (  # noqa: E402
    SILENCE_DB,
    decode,
    resample,
    speech_bounds,
    trim,
)
from pipeline.media.recordings import (  # noqa: E402
    FULL_SCALE,
    TRIM_CHUNK_MS,
    TRIM_DB,
    find_clipping,
    import_recording,
    speech_span,
)

RATE, SHOW_RATE = 48000, 44100  # the file's rate and the show's
EDGE = 2.0047  # seconds of silence at each end: not on pydub's 10 ms grid


def best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The fastest of `repeat` calls, in seconds, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def reading(seconds: float, noise_db: float | None) -> np.ndarray:
    """Stereo 'speech': a tone with harmonics that comes and goes, EDGE s of room each side."""
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * 220 * k * t) / k for k in (1, 2, 3))
    voice *= 0.25 * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    voice[(t < EDGE) | (t >= seconds - EDGE)] = 0
    if noise_db is not None:
        voice = voice + np.random.default_rng(0).normal(0, 10 ** (noise_db / 20), len(t))
    return np.stack([voice, 0.8 * voice], axis=1)


def segment(pcm: np.ndarray) -> AudioSegment:
    return AudioSegment(pcm.tobytes(), sample_width=4, frame_rate=RATE, channels=pcm.shape[1])


def to_pcm(audio: np.ndarray) -> np.ndarray:
    return np.round(np.clip(audio, -1, 1 - 2**-31) * FULL_SCALE).astype("<i4")


def old_load(path: Path) -> np.ndarray:
    """load_recording before pydub: ffmpeg decodes mono float at the show's rate, numpy trims."""
    return trim(decode(path, SHOW_RATE), SHOW_RATE)


def bench_import(seconds: float, tmp: Path) -> None:
    wav, path = tmp / "take.wav", tmp / "take.flac"
    wavfile.write(wav, RATE, to_pcm(reading(seconds, -65)))
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-c:a", "flac",
                    "-sample_fmt", "s32", "-bits_per_raw_sample", "24", str(path)], check=True)
    old, _ = best(lambda: old_load(path))
    new, (_, report) = best(lambda: import_recording(path, "bench", SHOW_RATE))
    print(f"1. import of {seconds:.0f} s of 24-bit stereo FLAC: old {old:.2f} s, "
          f"pydub {new:.2f} s ({new / old:.2f}x); kept {report.kept_seconds} s")
    print(f"summary: recording import, pydub | {new / seconds:.4f} s/s | "
          f"{new / old:.2f}x the old ffmpeg + numpy load")


def edges_pydub(pcm: np.ndarray) -> tuple[float, float]:
    """Seconds of silence pydub finds at each end (before any margin is kept)."""
    sound = segment(pcm)
    lead = detect_leading_silence(sound, TRIM_DB, TRIM_CHUNK_MS)
    return lead / 1000, detect_leading_silence(sound.reverse(), TRIM_DB, TRIM_CHUNK_MS) / 1000


def edges_numpy(pcm: np.ndarray) -> tuple[float, float]:
    """The same for the sample-accurate peak threshold that speech_bounds applies."""
    loud = np.flatnonzero(np.abs(pcm.mean(axis=1) / FULL_SCALE) > 10 ** (SILENCE_DB / 20))
    return loud[0] / RATE, (len(pcm) - 1 - loud[-1]) / RATE


def bench_edges(seconds: float) -> None:
    pcm = to_pcm(reading(seconds, None))
    mono = pcm.mean(axis=1) / FULL_SCALE
    ours, _ = best(lambda: speech_bounds(mono, RATE))
    theirs, _ = best(lambda: speech_span(segment(pcm)))
    errors = {}
    for name, edges in (("pydub", edges_pydub), ("numpy", edges_numpy)):
        start, end = edges(pcm)
        errors[name] = max(abs(start - EDGE), abs(end - EDGE)) * 1000
    print(f"2. edges of {seconds:.0f} s: numpy {ours * 1000:.1f} ms, pydub {theirs * 1000:.1f} ms "
          f"(with its AudioSegment); largest error from the true edge: pydub "
          f"{errors['pydub']:.1f} ms, numpy {errors['numpy']:.2f} ms")
    cuts = {}
    for noise in (-65, -55):
        noisy = to_pcm(reading(seconds, noise))
        cuts[noise] = {name: edges(noisy) for name, edges in (("pydub", edges_pydub),
                                                               ("numpy", edges_numpy))}
        print(f"   room noise at {noise} dBFS RMS: of {EDGE:.1f} s of silence at each end, "
              f"pydub cuts {cuts[noise]['pydub'][0]:.2f} s, numpy {cuts[noise]['numpy'][0]:.2f} s")
    print(f"summary: silent edges, pydub RMS vs numpy peak | {theirs / ours:.2f}x the time | "
          f"error {errors['pydub']:.0f} ms vs {errors['numpy']:.1f} ms; under -55 dBFS noise "
          f"cuts {cuts[-55]['pydub'][0]:.2f} s vs {cuts[-55]['numpy'][0]:.2f} s of {EDGE:.0f}")


def fidelity(out: np.ndarray, freq: float) -> float:
    """dB of what is not a `freq` sine (any phase) against the sine, edges left out."""
    core = out[SHOW_RATE // 10: -SHOW_RATE // 10].astype(np.float64)
    t = np.arange(SHOW_RATE // 10, SHOW_RATE // 10 + len(core)) / SHOW_RATE
    basis = np.stack([np.sin(2 * np.pi * freq * t), np.cos(2 * np.pi * freq * t)], axis=1)
    fit = basis @ np.linalg.lstsq(basis, core, rcond=None)[0]
    return 10 * np.log10(np.mean((core - fit) ** 2) / np.mean(fit**2))


def ratecv(audio: np.ndarray) -> np.ndarray:
    out = segment(to_pcm(audio)[:, None]).set_frame_rate(SHOW_RATE)
    return np.frombuffer(out.raw_data, "<i4") / FULL_SCALE


def swr(audio: np.ndarray, tmp: Path) -> np.ndarray:
    """ffmpeg's resampler, through the old decode."""
    wavfile.write(tmp / "tone.wav", RATE, audio.astype(np.float32))
    return decode(tmp / "tone.wav", SHOW_RATE)


def bench_resample(seconds: float, tmp: Path) -> None:
    t = np.arange(int(seconds * RATE)) / RATE
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    ours, _ = best(lambda: resample(tone, RATE, SHOW_RATE))
    theirs, _ = best(lambda: ratecv(tone))
    left: dict[str, list[float]] = {}
    for freq in (1000, 10000):
        tone = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        for name, out in (("audioop", ratecv(tone)),
                          ("soxr", resample(tone, RATE, SHOW_RATE)),
                          ("scipy beta 5", resample_poly(tone, 147, 160)),
                          ("ffmpeg", swr(tone, tmp))):
            left.setdefault(name, []).append(fidelity(out, freq))
    figures = ", ".join(f"{name} {a:.0f}/{b:.0f}" for name, (a, b) in left.items())
    print(f"3. resample {seconds:.0f} s 48 -> 44.1 kHz: soxr {ours:.2f} s, audioop "
          f"{theirs:.2f} s; dB left that is not the 1 kHz/10 kHz tone: {figures}")
    (a1, a10), (s1, s10) = left["audioop"], left["soxr"]
    print(f"summary: resample, pydub audioop vs soxr | {theirs / ours:.2f}x the time | "
          f"distortion at 1/10 kHz {a1:.0f}/{a10:.0f} dB vs {s1:.0f}/{s10:.0f} dB")


def bench_mono_and_clipping(seconds: float) -> None:
    pcm = to_pcm(reading(seconds, -65))
    sound = segment(pcm)
    ours, _ = best(lambda: pcm.mean(axis=1))
    theirs, _ = best(lambda: sound.set_channels(1))
    scan, _ = best(lambda: find_clipping(pcm, RATE))
    quad = np.concatenate([pcm, pcm], axis=1)[:RATE * 10]
    ours4, _ = best(lambda: quad.mean(axis=1))
    theirs4, _ = best(lambda: segment(quad).set_channels(1), repeat=1)
    print(f"4. stereo to mono, {seconds:.0f} s: numpy {ours:.3f} s, pydub {theirs:.3f} s; "
          f"4 channels, 10 s: numpy {ours4:.3f} s, pydub {theirs4:.3f} s; "
          f"clipping scan (numpy; pydub has none) {scan:.3f} s")
    print(f"summary: to mono, pydub vs numpy | {theirs / ours:.2f}x the time | "
          f"4 channels {theirs4 / ours4:.0f}x; clipping scan {scan / seconds * 1000:.2f} ms/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_import(args.seconds, Path(tmp))
        bench_edges(args.seconds)
        bench_resample(min(args.seconds, 60.0), Path(tmp))
    bench_mono_and_clipping(args.seconds)


if __name__ == "__main__":
    main()
