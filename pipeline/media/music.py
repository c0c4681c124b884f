"""The show's own intro and outro music, generated here (numpy, seeded): nothing is
downloaded and no media is committed. A producer who has music of their own puts it in
`assets/intro.*` and `assets/outro.*` (any format ffmpeg reads) and it is used instead.
Also where the music sits around the narration, which both `narrate` (for timeline.json)
and `master` (for the mix) read."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from pipeline.config import AudioSettings, cache_dir
from pipeline.util.fsutil import atomic_path

LEAD_IN = 4.0  # seconds of music alone before the first word
FADE_UNDER = 3.0  # the intro fades to nothing under the first words over this long
RISE_UNDER = 2.0  # the outro rises under the last words over this long
TAIL = 4.0  # seconds of music after the last word, the last FADE_OUT of them fading out
FADE_OUT = 1.5
BARE_LEAD_IN = 0.5  # without music: a short silence at either end
BARE_TAIL = 1.0

# A I-vi-IV-V progression in D major (MIDI note numbers), one chord a bar.
CHORDS = ((50, 57, 62, 66), (47, 54, 59, 62), (43, 50, 55, 59), (45, 52, 57, 61))
BPM = 96
VERSION = "1"  # part of the generated music's name in the cache: bump when it changes


@dataclass(frozen=True)
class Layout:
    offset: float  # where the narration starts in the episode
    duration: float  # the whole episode
    music: bool


def layout(narration_seconds: float, audio: AudioSettings) -> Layout:
    """Where the narration sits in the episode, given its length."""
    lead, tail = (LEAD_IN, TAIL) if audio.music else (BARE_LEAD_IN, BARE_TAIL)
    return Layout(offset=lead, duration=round(lead + narration_seconds + tail, 3),
                  music=audio.music)


def _hz(note: int) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def _pad(chord: tuple[int, ...], t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A soft, slightly detuned chord with a few harmonics."""
    out = np.zeros_like(t)
    for note in chord:
        for detune in rng.normal(0.0, 0.0015, 2):
            f = _hz(note) * (1 + detune)
            out += np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)
    return out / (len(chord) * 2.5)


def _pluck(note: int, t: np.ndarray) -> np.ndarray:
    """A decaying bell-like note."""
    f = _hz(note)
    tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(2 * np.pi * 2.01 * f * t)
    return tone * np.exp(-t * 5.0)


def _bar(chord: tuple[int, ...], rate: int, rng: np.random.Generator) -> np.ndarray:
    beat = 60.0 / BPM
    n = int(round(4 * beat * rate))
    t = np.arange(n) / rate
    out = 0.6 * _pad(chord, t, rng)
    step = int(round(beat / 2 * rate))
    for i in range(8):
        note = chord[int(rng.integers(1, len(chord)))] + 12
        start = i * step
        out[start:] += 0.25 * _pluck(note, t[: n - start])
    return out


def music(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """`seconds` of original music at `rate`, float32, peak 0.5, with short edge fades;
    kept in the cache, as writing it out took a twentieth of master's time after an edit."""
    n = int(round(seconds * rate))
    kept = cache_dir() / "music" / f"v{VERSION}-{rate}-{seed}-{n}.npy"
    with contextlib.suppress(OSError, ValueError):
        return np.load(kept, allow_pickle=False)
    out = _composed(n, rate, seed)
    with atomic_path(kept, suffix=".npy") as tmp:
        np.save(tmp, out)
    return out


def _composed(n: int, rate: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bars = []
    while sum(len(b) for b in bars) < n:
        bars.append(_bar(CHORDS[len(bars) % len(CHORDS)], rate, rng))
    out = np.concatenate(bars)[:n]
    edge = min(n // 2, int(0.05 * rate))
    if edge:
        ramp = np.linspace(0.0, 1.0, edge)
        out[:edge] *= ramp
        out[n - edge :] *= ramp[::-1]
    peak = np.max(np.abs(out)) if n else 0.0
    return (out * (0.5 / peak if peak else 1.0)).astype(np.float32)


def envelope(n: int, rate: int, ones_until: float, zero_at: float) -> np.ndarray:
    """Gain 1 until `ones_until` seconds, a cosine fade to 0 at `zero_at` (or the reverse
    when zero_at < ones_until), constant after."""
    t = np.arange(n) / rate
    a, b = ones_until, zero_at
    x = np.clip((t - min(a, b)) / abs(b - a), 0.0, 1.0)
    fade = 0.5 + 0.5 * np.cos(np.pi * x)  # 1 -> 0
    return (fade if b > a else 1.0 - fade).astype(np.float32)


Source = np.ndarray | None  # a producer's own music at the mix's rate, or None: generate it


def _bed(source: Source, seconds: float, rate: int, seed: int) -> np.ndarray:
    """`seconds` of the producer's music (cut, or padded with silence), else generated."""
    if source is None:
        return music(seconds, rate, seed)
    n = int(round(seconds * rate))
    return np.pad(source[:n], (0, max(0, n - len(source)))).astype(np.float32)


def intro_bed(lay: Layout, rate: int, seed: int, source: Source = None) -> np.ndarray:
    """The intro: full level for the lead-in, then fading out under the first words."""
    seconds = lay.offset + FADE_UNDER
    bed = _bed(source, seconds, rate, seed)
    return bed * envelope(len(bed), rate, lay.offset, seconds)


def outro_bed(speech_end: float, lay: Layout, rate: int, seed: int,
              source: Source = None) -> tuple[int, np.ndarray]:
    """The outro and the sample where it starts: rising under the last words, then alone,
    fading out at the end."""
    start = max(0.0, speech_end - RISE_UNDER)
    seconds = lay.duration - start
    bed = _bed(source, seconds, rate, seed + 1)
    rise = envelope(len(bed), rate, speech_end - start, 0.0)
    fall = envelope(len(bed), rate, seconds - FADE_OUT, seconds)
    return int(round(start * rate)), bed * rise * fall
