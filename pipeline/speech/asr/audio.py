"""Decode any audio file to 16 kHz mono float32 with ffmpeg, refusing missing or silent audio."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError

SAMPLE_RATE = 16000
SILENCE_PEAK = 1e-3  # about -60 dBFS: below this everywhere there is nothing to hear


def decode_args(path: Path | str, sample_rate: int = SAMPLE_RATE) -> list[str]:
    """ffmpeg's argument list: decode, mix to mono, resample, raw float32 on stdout."""
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "0",
            "-i", str(path), "-f", "f32le", "-ac", "1", "-acodec", "pcm_f32le",
            "-ar", str(sample_rate), "-"]


def run_ffmpeg(args: list[str], source: Path | str) -> bytes:
    """Run ffmpeg; its stderr goes into the error."""
    if shutil.which(args[0]) is None:
        raise PipelineError(f"{args[0]} is not installed", source,
                            "install it: apt-get install ffmpeg (or brew install ffmpeg)")
    result = subprocess.run(args, capture_output=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PipelineError(f"ffmpeg could not decode the audio: {' / '.join(detail[-2:])}",
                            source, "check the file plays; rebuild it with `make master`")
    return result.stdout


def load_audio(path: Path | str) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError("audio not found", path, "build it first: make master")
    samples = np.frombuffer(run_ffmpeg(decode_args(path), path), dtype=np.float32).copy()
    if samples.size == 0:
        raise PipelineError("the audio is empty", path, "rebuild it: make master")
    if float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise PipelineError("the audio is silent", path,
                            "check the narration was recorded or synthesised: make narrate")
    return samples
