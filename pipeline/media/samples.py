"""Audio that the encoders read by range: a key naming the samples of a range, the samples
themselves only when a range must be encoded, and where the audio is digitally silent.

The MP3 and the video's sound are encoded in pieces kept by those keys (media/mp3.py,
media/aac.py). For an array the key is the sha256 of the range's samples. master's mix
(media/mixdown.py) names a range by what it is made of instead, so that after an edit it
renders and hashes only the ranges that changed.
"""

from __future__ import annotations

import hashlib
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.media.audio import islands


@runtime_checkable
class Samples(Protocol):
    """Float32 audio, (n,) or (n, channels), read by range."""

    channels: int

    def __len__(self) -> int: ...

    def key(self, start: int, stop: int) -> str:
        """A sha256 hex digest that names samples [start, stop): equal keys, equal samples."""
        ...

    def render(self, start: int, stop: int) -> np.ndarray:
        """Samples [start, stop) as float32."""
        ...

    def silences(self) -> list[tuple[int, int]]:
        """The runs of digital silence between sounds, as [start, end) in samples."""
        ...


class InMemory:
    """Samples held in an array, keyed by their bytes."""

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples
        self.channels = 1 if samples.ndim == 1 else samples.shape[1]

    def __len__(self) -> int:
        return len(self.samples)

    def key(self, start: int, stop: int) -> str:
        return hashlib.sha256(self.render(start, stop)).hexdigest()

    def render(self, start: int, stop: int) -> np.ndarray:
        return np.ascontiguousarray(self.samples[start:stop], "<f4")

    def silences(self) -> list[tuple[int, int]]:
        mono = self.samples if self.channels == 1 else self.samples.any(axis=1)
        return between(islands(mono, 1))


def between(sounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The gaps between runs of sound given in time order."""
    return [(end, start) for (_, end), (start, _) in zip(sounds, sounds[1:], strict=False)]


def as_samples(samples: np.ndarray | Samples) -> Samples:
    """`samples` read by range: an array is wrapped."""
    return InMemory(samples) if isinstance(samples, np.ndarray) else samples
