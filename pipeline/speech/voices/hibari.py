"""hibari: the default voice (neural, Apache-2.0, weights inside the package)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.config import VoiceSettings
from pipeline.errors import PipelineError
from pipeline.speech.voices import missing_engine

INSTALL = "pip install hibari-tts"
_G2P: dict[bool, object] = {}  # hibari's spelling-to-sound, British or not: 0.3 s to load
_TTS: dict[str, Any] = {}  # hibari's synthesiser by voice, loaded once a process


def g2p(british: bool) -> object:
    """hibari's G2P for British voices or the others, loaded once a process."""
    if british not in _G2P:
        from hibari.g2p import G2P

        _G2P[british] = G2P(british=british)
    return _G2P[british]


def synthesiser(voice: str) -> Any:
    """hibari's synthesiser for `voice`, loaded once a process (0.1 to 0.4 s): its ONNX
    session runs on the calling thread alone, with no pool of threads."""
    if voice not in _TTS:
        from hibari import Hibari
        from hibari.voices import VOICES

        _TTS[voice] = Hibari(voice=voice, threads=1,
                             g2p=g2p(bool(VOICES[voice].get("british"))))
    return _TTS[voice]


def warm() -> None:
    """What the warm process (pipeline/warm.py) loads for its forks: both G2Ps, plain
    Python data, and the bundled voice's synthesiser, whose one-thread ONNX session a fork
    runs as its own (tests/test_voices.py forks one)."""
    try:
        from hibari.voices import DEFAULT
    except ImportError:
        return
    for british in (False, True):
        g2p(british)
    synthesiser(DEFAULT)


def installed_voices() -> list[str]:
    """hibari voices present on disk: the bundled one and any already in hibari's cache.
    Others would download on first use, which the pipeline never does by itself."""
    from hibari.voices import VOICES, voice_path

    have = []
    for name in VOICES:
        try:
            voice_path(name, download_missing=False)
        except FileNotFoundError:
            continue
        have.append(name)
    return have


class HibariVoice:
    engine = "hibari"

    def __init__(self, name: str = "") -> None:
        try:
            import hibari
            from hibari.voices import DEFAULT
        except ImportError:
            raise missing_engine("hibari", INSTALL) from None
        self.name = name or DEFAULT
        have = installed_voices()
        if self.name not in have:
            raise PipelineError(
                f"hibari has no installed voice '{self.name}' (installed: {', '.join(have)})",
                fix="set [voice] name in assets/show.toml to one of those",
            )
        self.sample_rate = hibari.SAMPLE_RATE
        self.version = f"hibari-tts {hibari.__version__} {self.name}"

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        tts = synthesiser(self.name)
        audio = tts(text, speed=settings.speed, seed=settings.seed)
        return np.asarray(audio, dtype=np.float32)
