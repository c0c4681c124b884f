"""Audio helpers for narrate and master: decoding with ffmpeg, WAV in and out, loudness,
silence trimming, the parts between pauses, a limiter's gain."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import ffmpeg
import numpy as np
import soxr

from pipeline.errors import PipelineError
from pipeline.media.ffmpeg import compile_argv, run
from pipeline.media.loudness import energy, integrated

SILENCE_DB = -45.0  # below this (dBFS) a chunk's edge counts as silence
EDGE_KEEP = 0.02  # seconds kept on either side of the speech when trimming


def decode_argv(src: Path | str, rate: int) -> list[str]:
    """ffmpeg: any audio file -> mono float32 samples at `rate` on stdout."""
    audio = ffmpeg.input(str(src))["a:0"]
    return compile_argv(audio.output("-", ac=1, ar=rate, format="f32le").global_args("-v", "error"))


def decode(src: Path | str, rate: int, fix: str | None = None) -> np.ndarray:
    """Any file ffmpeg reads, as mono float32 at `rate`."""
    result = run(decode_argv(src, rate), "ffmpeg cannot read the audio", src, fix)
    return np.frombuffer(result.stdout, "<f4").copy()


def decode_pcm_argv(src: Path | str) -> list[str]:
    """ffmpeg: any audio file -> a WAV on stdout, 32-bit integer PCM at the file's own rate
    and channels (32 bits hold a 24-bit or a floating-point source's precision)."""
    audio = ffmpeg.input(str(src))["a:0"]
    out = audio.output("-", acodec="pcm_s32le", format="wav", map_metadata="-1")
    return compile_argv(out.global_args("-v", "error"))


def decode_pcm(src: Path | str, fix: str | None = None) -> tuple[np.ndarray, int]:
    """Any file ffmpeg reads, as int32 samples (frames x channels) and its own rate."""
    result = run(decode_pcm_argv(src), "ffmpeg cannot read the audio", src, fix)
    channels, rate, data = piped_wav(result.stdout)
    if not channels:
        raise PipelineError("cannot read the audio: ffmpeg wrote no WAV header", src, fix)
    frames = len(data) // (4 * channels)
    return np.frombuffer(data, "<i4", frames * channels).reshape(frames, channels), rate


def piped_wav(data: bytes) -> tuple[int, int, memoryview]:
    """Channels, rate and samples of a WAV written to a pipe, whose sizes are left unset."""
    pos, channels, rate = 12, 0, 0
    while pos + 8 <= len(data):
        kind, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if kind == b"data":
            return channels, rate, memoryview(data)[pos + 8:]
        if kind == b"fmt ":
            channels, rate = struct.unpack_from("<HI", data, pos + 10)
        pos += 8 + size + size % 2
    return 0, 0, memoryview(b"")


def write_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """16-bit mono PCM WAV (the caller makes it atomic)."""
    pcm = np.round(np.clip(audio, -1.0, 32767 / 32768) * 32768.0).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV written by write_wav, as float32 and its rate."""
    with wave.open(str(path), "rb") as src:
        rate, frames = src.getframerate(), src.readframes(src.getnframes())
    samples = np.frombuffer(frames, "<i2").astype(np.float32)
    samples *= np.float32(1 / 32768)  # a power of two: the same as dividing
    return samples, rate


def resample(audio: np.ndarray, rate: int, to: int) -> np.ndarray:
    """`audio` at rate `to`: libsoxr's very high quality, linear phase with its delay taken
    out (times are kept)."""
    if rate == to:
        return audio.astype(np.float32)
    return soxr.resample(audio.astype(np.float32), rate, to, quality="VHQ").astype(np.float32)


def loudness(audio: np.ndarray, rate: int) -> float | None:
    """Integrated loudness in LUFS (ITU-R BS.1770), None when too short or silent."""
    if len(audio) < int(0.4 * rate):
        return None
    value = integrated(energy(audio, rate), rate, len(audio))
    return value if value is not None and np.isfinite(value) else None


def speech_bounds(audio: np.ndarray, rate: int) -> tuple[int, int]:
    """First and last sample above the silence threshold, with a little kept on each side."""
    loud = np.flatnonzero(np.abs(audio) > 10 ** (SILENCE_DB / 20))
    if len(loud) == 0:
        return 0, 0
    keep = int(EDGE_KEEP * rate)
    return max(0, int(loud[0]) - keep), min(len(audio), int(loud[-1]) + 1 + keep)


def trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """The audio without the silence at its edges."""
    start, end = speech_bounds(audio, rate)
    return audio[start:end]


def islands(audio: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(start, end) of each stretch of `audio` with no run of `gap` or more exact zeros in
    it, in order: the parts of a narration between its pauses."""
    sound = np.concatenate([[False], audio != 0, [False]])
    edges = np.flatnonzero(sound[1:] != sound[:-1])  # starts and ends of sound, in turn
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return []
    keep = np.flatnonzero(starts[1:] - ends[:-1] >= gap)
    return [(int(a), int(b)) for a, b in zip(np.concatenate([starts[:1], starts[keep + 1]]),
                                             np.concatenate([ends[keep], ends[-1:]]),
                                             strict=True)]


def limiter_gain(peaks: np.ndarray, ceiling: float, hold: int, smooth: int) -> np.ndarray:
    """A look-ahead limiter's gain for each block of samples, given each block's peak: the
    gain a block needs to stay under `ceiling`, the least of those within `hold` blocks
    either side, then averaged over `smooth` blocks either side. With hold > smooth no gain
    is above the need of its own block or of its neighbours, so interpolating between block
    centres keeps every sample under the ceiling."""
    with np.errstate(divide="ignore"):
        need = np.minimum(1.0, ceiling / peaks.astype(np.float64))
    held = running_min(np.pad(need, hold, mode="edge"), 2 * hold + 1)
    width = 2 * smooth + 1
    padded = np.pad(held, smooth, mode="edge")
    return np.convolve(padded, np.ones(width), mode="valid") / width


def running_min(values: np.ndarray, width: int) -> np.ndarray:
    """The least of each `width` values in a row (as many as fit), in a few passes
    whatever the width (van Herk, Gil and Werman): minima running forward and backward
    within blocks of `width`, of which each window takes one of each."""
    count = len(values) - width + 1
    if count <= 0:
        return np.empty(0, values.dtype)
    blocks = -(-len(values) // width)
    padded = np.pad(values, (0, blocks * width - len(values)), mode="edge").reshape(blocks, -1)
    forward = np.minimum.accumulate(padded, axis=1).ravel()
    backward = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(backward[:count], forward[width - 1 : width - 1 + count])


def apply_gain(audio: np.ndarray, gains: np.ndarray, block: int) -> np.ndarray:
    """`audio` times a gain given per block of `block` samples (from the first sample on),
    interpolated linearly between the blocks' centres."""
    blocks = -(-len(audio) // block)
    mid = np.asarray(gains[:blocks], np.float64)
    mid = np.pad(mid, (0, blocks - len(mid)), mode="edge")
    side = np.arange(block) - (block - 1) / 2  # each sample's distance from its centre
    before = np.concatenate([mid[:1], mid[:-1]])[:, None]
    after = np.concatenate([mid[1:], mid[-1:]])[:, None]
    weight = np.abs(side) / block
    curve = mid[:, None] * (1 - weight) + np.where(side < 0, before, after) * weight
    shaped = np.pad(audio, (0, blocks * block - len(audio))).reshape(blocks, block) * curve
    return shaped.ravel()[: len(audio)].astype(np.float32)
