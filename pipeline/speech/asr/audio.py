"""Decode any audio file to 16 kHz mono float32 with ffmpeg, refusing missing or silent audio."""

from __future__ import annotations

from pathlib import Path

import ffmpeg
import numpy as np

from pipeline.errors import PipelineError
from pipeline.formats import rebuild_hint, target_for
from pipeline.media.ffmpeg import compile_argv, run

SAMPLE_RATE = 16000
SILENCE_PEAK = 1e-3  # about -60 dBFS: below this everywhere there is nothing to hear


def decode_args(path: Path | str, sample_rate: int = SAMPLE_RATE) -> list[str]:
    """ffmpeg's argument list: decode, mix to mono, resample, raw float32 on stdout."""
    source = ffmpeg.input(str(path), threads=0)
    raw = source.output("-", format="f32le", ac=1, acodec="pcm_f32le", ar=sample_rate)
    return compile_argv(raw.global_args("-loglevel", "error"))


def load_audio(path: Path | str) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError("audio not found", path, f"build it: {target_for(path)}")
    result = run(decode_args(path), "ffmpeg could not decode the audio", path,
                 f"check the file plays; {rebuild_hint(path)}")
    samples = np.frombuffer(result.stdout, dtype=np.float32).copy()
    if samples.size == 0:
        raise PipelineError("the audio is empty", path, rebuild_hint(path))
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        narration = path.with_name("narration.wav")
        raise PipelineError("the audio is silent", path, "check the narration was recorded or "
                            f"synthesised: {target_for(narration)}")
    return samples
