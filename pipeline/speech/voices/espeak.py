"""Debian's espeak-ng: formant synthesis, the last resort (always reproducible)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from pipeline.config import VoiceSettings
from pipeline.errors import PipelineError
from pipeline.speech.voices import missing_engine

INSTALL = "apt-get install espeak-ng"
BASE_WPM = 175  # espeak-ng's default rate; speed 1.0


def espeak_argv(name: str, speed: float) -> list[str]:
    """The espeak-ng command: text on stdin (so no text is taken for an option), WAV on stdout."""
    return ["espeak-ng", "-v", name, "-s", str(round(BASE_WPM * speed)), "--stdin", "--stdout"]


def wav_samples(data: bytes) -> np.ndarray:
    """16-bit samples from espeak-ng's streamed WAV, whose header sizes are placeholders."""
    at = data.find(b"data")
    if at < 0:
        raise ValueError("no data chunk")
    pcm = data[at + 8 :]
    pcm = pcm[: len(pcm) // 2 * 2]
    return (np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0).copy()


class EspeakVoice:
    engine = "espeak"
    sample_rate = 22050

    def __init__(self, name: str = "") -> None:
        if shutil.which("espeak-ng") is None:
            raise missing_engine("espeak", INSTALL)
        self.name = name or "en-us"
        out = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True)
        self.version = out.stdout.split(" Data at")[0].strip()

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        argv = espeak_argv(self.name, settings.speed)
        proc = subprocess.run(argv, input=text.encode("utf-8"), capture_output=True)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise PipelineError(f"espeak-ng failed: {err[-1] if err else proc.returncode}")
        return wav_samples(proc.stdout)
