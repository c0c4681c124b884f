"""Voices: one small protocol, one module per engine, registered in one table.

A voice turns spoken text into float32 mono samples. Engines are imported only when a
voice is asked for, so a missing optional engine costs nothing until it is chosen; a test
fake registers the same way a built-in engine does (`register`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.config import VoiceSettings
from pipeline.errors import PipelineError


@runtime_checkable
class Voice(Protocol):
    engine: str  # the registry name: hibari, piper, espeak
    name: str  # the engine's voice, e.g. "heart"
    sample_rate: int
    version: str  # engine and model version: part of the cache key

    def synthesize(self, text: str, settings: VoiceSettings) -> np.ndarray:
        """Speak `text`; float32 mono samples at `sample_rate`. Same input, same samples."""
        ...


VoiceFactory = Callable[[str], Voice]  # voice name ("" for the default) -> a ready voice

# engine name -> "module:factory"; a factory raises PipelineError when its engine is missing
REGISTRY: dict[str, str | VoiceFactory] = {
    "hibari": "pipeline.speech.voices.hibari:HibariVoice",
    "piper": "pipeline.speech.voices.piper:PiperVoice",
    "espeak": "pipeline.speech.voices.espeak:EspeakVoice",
}


def register(engine: str, factory: str | VoiceFactory) -> None:
    """Add or replace an engine (a plugin, or a test's fake)."""
    REGISTRY[engine] = factory


def _factory(engine: str) -> VoiceFactory:
    entry = REGISTRY[engine]
    if callable(entry):
        return entry
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)


def installed() -> list[str]:
    """Engines whose software and default voice are present on this machine."""
    names = []
    for engine in sorted(REGISTRY):
        try:
            _factory(engine)("")
        except PipelineError:
            continue
        names.append(engine)
    return names


def get_voice(engine: str, name: str = "") -> Voice:
    """The voice `name` ("" for the default) of `engine`; errors name what is installed."""
    if engine not in REGISTRY:
        have = ", ".join(installed()) or "none"
        raise PipelineError(
            f"unknown voice engine '{engine}' (installed: {have})",
            fix="set [voice] engine in assets/show.toml to one of those",
        )
    return _factory(engine)(name)


def missing_engine(engine: str, how: str) -> PipelineError:
    """The error for an engine whose software is not installed, saying how to install it."""
    return PipelineError(f"voice engine '{engine}' is not installed", fix=how)
