"""The episode as master mixes it: pieces between the narration's pauses, each resampled on
its own and placed on the fine-block grid, with the gain and the limiter's gain per block
applied. Each piece's figures (its BS.1770 blocks, its length and where its samples are not
zero) are kept by its content, so the gain can be fitted without resampling a piece that
was measured before.

The mix is read by range (media/samples.py): a range's key names the pieces with sound in
it, where they lie, the gain and the limiter's gains over them; equal keys give equal
samples, since the samples are made from nothing else. So after an edit the encoders
render only the ranges whose key is new, and only the pieces in those are resampled.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import cache_dir
from pipeline.media.audio import apply_gain, islands, resample
from pipeline.media.loudness import Blocks, fine_block, measure
from pipeline.media.samples import between
from pipeline.util.fsutil import atomic_path

PAD = 0.06  # seconds of silence kept either side of a piece: more than the limiter's reach
VERSION = "3"  # part of every piece's key: bump when measure() or the figures change
MIX_VERSION = "1"  # part of every range's key: bump when rendering changes


@dataclass(frozen=True)
class Figures:
    """A piece's measured blocks, its length in samples and its runs of non-zero samples
    ((k, 2): start, end)."""

    blocks: Blocks
    length: int
    runs: np.ndarray


def figures_of(audio: np.ndarray, rate: int) -> Figures:
    runs = np.array(islands(audio, 1), np.int64).reshape(-1, 2)
    return Figures(measure(audio, rate), len(audio), runs)


class FigureCache:
    """Figures by piece key: one .npy each (float64: length, block count, run count, the
    runs, the energies, the peaks), written atomically."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_dir() / "master" / "pieces"

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> Figures | None:
        try:
            data = np.load(self.path(key), allow_pickle=False)
            length, blocks, runs = (int(v) for v in data[:3])
            at = 3 + 2 * runs
            found = Figures(Blocks(data[at : at + blocks],
                                   data[at + blocks : at + 2 * blocks].astype(np.float32)),
                            length, data[3:at].astype(np.int64).reshape(-1, 2))
        except (OSError, ValueError, IndexError):
            return None
        return found if len(found.blocks.peak) == blocks else None

    def put(self, key: str, found: Figures) -> None:
        head = [found.length, len(found.blocks.energy), len(found.runs)]
        data = np.concatenate([np.array(head, np.float64), found.runs.ravel(),
                               found.blocks.energy, found.blocks.peak]).astype(np.float64)
        with atomic_path(self.path(key), suffix=".npy") as tmp:
            np.save(tmp, data)


class Piece:
    """A stretch of the episode at its rate, placed at `start` (a fine block's first
    sample); its samples made when first asked for."""

    def __init__(self, start: int, key: str, make: Callable[[], np.ndarray]) -> None:
        self.start, self.key, self._make = start, key, make
        self.figures: Figures | None = None
        self._audio: np.ndarray | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, start: int, audio: np.ndarray, rate: int) -> Piece:
        """A piece of samples at hand, keyed by them."""
        digest = hashlib.sha256(f"{VERSION}|{rate}|".encode())
        digest.update(np.ascontiguousarray(audio, np.float32).tobytes())
        return cls(start, digest.hexdigest(), lambda: audio)

    @property
    def audio(self) -> np.ndarray:
        with self._lock:
            if self._audio is None:
                self._audio = self._make()
            return self._audio

    @property
    def length(self) -> int:
        return self.figures.length if self.figures else len(self.audio)

    @property
    def end(self) -> int:
        return self.start + self.length


def speech_pieces(narration: np.ndarray, rate: int, out_rate: int, offset: float) -> list[Piece]:
    """The narration's parts between pauses, each with PAD of silence either side,
    resampled on its own (so its samples do not depend on where it lies) and placed at its
    time in the episode, to the nearest fine block (half a block at most: 0.7 ms at
    44.1 kHz), so that its measured blocks are the episode's. A part is keyed by its
    samples in the narration."""
    pad, fine = round(PAD * rate), fine_block(out_rate)
    gap = 2 * pad + math.ceil(2 * fine * rate / out_rate) + 2  # padded pieces never overlap
    pieces = []
    for a, b in islands(narration, gap):
        raw = narration[a:b]
        digest = hashlib.sha256(f"{VERSION}|speech|{rate}|{out_rate}|{pad}|".encode())
        digest.update(np.ascontiguousarray(raw, np.float32).tobytes())
        start = offset * out_rate + (a - pad) * out_rate / rate
        pieces.append(Piece(fine * round(start / fine), digest.hexdigest(),
                            lambda raw=raw: resample(np.pad(raw, pad), rate, out_rate)))
    return pieces


def measured(pieces: list[Piece], rate: int, cache: FigureCache) -> tuple[list[Blocks], int]:
    """Each piece's blocks, its figures from the cache or measured now; and how many were
    measured now."""
    fresh = 0
    for piece in pieces:
        if piece.figures is None:
            piece.figures = cache.get(piece.key)
        if piece.figures is None:
            piece.figures, fresh = figures_of(piece.audio, rate), fresh + 1
            cache.put(piece.key, piece.figures)
    return [p.figures.blocks for p in pieces if p.figures], fresh


class Mixed:
    """The pieces after a gain (`scale`) and the limiter's gain per fine block (`gains`),
    `total` samples long, read by range; the pieces carry their figures."""

    channels = 1

    def __init__(self, pieces: list[Piece], gains: np.ndarray, scale: float, rate: int,
                 total: int) -> None:
        self.pieces, self.gains, self.scale, self.total = pieces, gains, scale, total
        self.fine = fine_block(rate)
        self._parts: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()
        self._silences: list[tuple[int, int]] | None = None

    def __len__(self) -> int:
        return self.total

    def _runs(self, n: int) -> np.ndarray:
        piece = self.pieces[n]
        assert piece.figures is not None
        return piece.figures.runs + piece.start

    def _within(self, start: int, stop: int) -> list[int]:
        """The pieces with a non-zero sample in [start, stop), in order."""
        stop = min(stop, self.total)
        return [n for n, p in enumerate(self.pieces) if p.start < stop and p.end > start
                and np.any((self._runs(n)[:, 0] < stop) & (self._runs(n)[:, 1] > start))]

    def _gains(self, n: int) -> np.ndarray:
        piece = self.pieces[n]
        at = piece.start // self.fine
        return self.gains[at : at - (-piece.length // self.fine)]

    def key(self, start: int, stop: int) -> str:
        digest = hashlib.sha256(f"mix|{MIX_VERSION}|{stop - start}|{self.fine}|"
                                f"{self.scale!r}".encode())
        for n in self._within(start, stop):
            piece = self.pieces[n]
            digest.update(f"|{piece.key}|{piece.start - start}|"
                          f"{min(self.total, piece.end) - piece.start}|".encode())
            digest.update(np.ascontiguousarray(self._gains(n), np.float64).tobytes())
        return digest.hexdigest()

    def _part(self, n: int) -> np.ndarray:
        with self._lock:
            found = self._parts.get(n)
        if found is None:
            at = self.pieces[n].start // self.fine
            found = apply_gain(self.pieces[n].audio, self.scale * self.gains[at:], self.fine)
            with self._lock:
                self._parts[n] = found
        return found

    def render(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros(stop - start, np.float32)
        for n in self._within(start, stop):
            piece = self.pieces[n]
            a, b = max(piece.start, start), min(piece.end, stop, self.total)
            out[a - start : b - start] += self._part(n)[a - piece.start : b - piece.start]
        return out

    def silences(self) -> list[tuple[int, int]]:
        if self._silences is None:
            self._silences = self._gaps()
        return self._silences

    def _gaps(self) -> list[tuple[int, int]]:
        runs = sorted((int(a), int(min(b, self.total))) for n in range(len(self.pieces))
                      for a, b in self._runs(n) if a < self.total)
        merged: list[tuple[int, int]] = []
        for a, b in runs:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return between(merged)
