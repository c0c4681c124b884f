"""Speech recognition behind one small protocol, with backends registered in one table.

`transcribe(audio_path, settings)` decodes the audio once (ffmpeg), picks the device and
the model, and returns every recognised word with its start, end and probability.
`transcribe_pieces` hears several independent pieces of audio, as many at once as the
backend has `workers`. A backend is a factory `(model, device, language) -> Transcriber`;
a test registers a fake the same way the real ones are registered.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline.config import WhisperSettings
from pipeline.errors import PipelineError
from pipeline.speech.asr.audio import SAMPLE_RATE, load_audio
from pipeline.speech.asr.models import ResolvedModel, default_model, resolve_model

Progress = Callable[[float, float], None]  # (seconds done, seconds in all)


@dataclass(frozen=True)
class Word:
    text: str  # as the model wrote it, leading space removed
    start: float  # seconds from the start of the audio
    end: float
    probability: float


def join_pieces(pieces: list[tuple[str, float, float, float]]) -> list[Word]:
    """Words from Whisper's word pieces: a piece without a leading space ("$50" then
    ",000") continues the word before it."""
    words: list[Word] = []
    for text, start, end, probability in pieces:
        if words and text and not text[0].isspace():
            last = words[-1]
            words[-1] = Word(last.text + text, last.start, max(last.end, end),
                             min(last.probability, probability))
        elif text.strip():
            words.append(Word(text.strip(), start, end, probability))
    return words


RETRY_BEAM = 5  # a greedy decode caught in a loop is decoded again with this many beams


def loops(words: Sequence[Word], times: int = 3, longest: int = 8) -> bool:
    """Whether a run of up to `longest` words comes `times` times in a row: greedy
    decoding's failure ("Policy on the wild. Policy on the wild. Policy on the wild.")."""
    said = [w.text.lower().strip(".,;:!?\"'") for w in words]
    for n in range(1, longest + 1):
        for i in range(len(said) - times * n + 1):
            if all(said[i:i + n] == said[i + k * n:i + (k + 1) * n] for k in range(1, times)):
                return True
    return False


class Transcriber(Protocol):
    backend: str
    device: str
    model: str
    # a backend may also say how many pieces it hears at once (`workers`, 1 if absent)

    def transcribe(self, audio: np.ndarray, progress: Progress | None = None) -> list[Word]:
        """Words of 16 kHz mono float32 audio, in time order."""
        ...


Factory = Callable[[ResolvedModel, str, str], Transcriber]

# bump when a backend's decoding options change, so cached transcriptions are redone
DECODING_VERSION = 1

# backend name -> "module:factory"; loaded on first use so one backend's imports stay lazy
BACKENDS: dict[str, str | Factory] = {
    "openai-whisper": "pipeline.speech.asr.openai_backend:OpenAIWhisper",
    "faster-whisper": "pipeline.speech.asr.faster_backend:FasterWhisper",
}


def register(name: str, factory: Factory) -> None:
    """Add or replace a backend."""
    BACKENDS[name] = factory
    _loaded.cache_clear()


def _factory(name: str) -> Factory:
    entry = BACKENDS.get(name)
    if entry is None:
        raise PipelineError(f"unknown transcription backend '{name}'", None,
                            f"set whisper.backend to one of: {', '.join(BACKENDS)}")
    if isinstance(entry, str):
        module, attr = entry.split(":")
        return getattr(importlib.import_module(module), attr)
    return entry


def pick_device(requested: str, cuda_available: bool) -> tuple[str, str | None]:
    """The device to run on, and a note when CUDA was asked for but is absent."""
    if requested == "cuda" and not cuda_available:
        return "cpu", "CUDA was asked for but no CUDA device is present: using the CPU"
    if requested == "auto":
        return ("cuda" if cuda_available else "cpu"), None
    return requested, None


def cuda_available(backend: str) -> bool:
    """Whether the backend's own runtime sees a CUDA device."""
    if backend == "faster-whisper":
        import ctranslate2

        return ctranslate2.get_cuda_device_count() > 0
    import torch

    return torch.cuda.is_available()


@dataclass(frozen=True)
class Transcription:
    words: list[Word]
    backend: str
    model: str
    device: str
    audio_seconds: float
    compute_seconds: float  # loading the model excluded
    notes: tuple[str, ...] = ()
    heard_seconds: float | None = None  # audio run through the model (None: all of it)
    pieces: int = 0  # pieces the audio was heard in (0: one whole file)
    cached: int = 0  # pieces whose words came from the cache

    @property
    def speed(self) -> float:
        """Seconds of compute per second of audio run through the model."""
        heard = self.audio_seconds if self.heard_seconds is None else self.heard_seconds
        return self.compute_seconds / heard if heard else 0.0


@functools.lru_cache(maxsize=2)
def _loaded(backend: str, model: ResolvedModel, device: str, language: str) -> Transcriber:
    """One loaded model per process and configuration (loading takes seconds)."""
    return _factory(backend)(model, device, language)


def load_transcriber(settings: WhisperSettings) -> tuple[Transcriber, tuple[str, ...]]:
    """Build the configured backend on the chosen device; notes say what was decided."""
    planned = plan_transcriber(settings)
    return planned.load(), planned.notes


def transcribe(audio_path: Path, settings: WhisperSettings,
               progress: Progress | None = None,
               transcriber: Transcriber | None = None,
               on_note: Callable[[str], None] | None = None) -> Transcription:
    """Recognise every word of an audio file with the configured backend; `progress` hears
    the seconds done (the total first, then what the backend reports); `on_note` hears
    decisions as they are taken (CUDA absent, so the CPU)."""
    audio = load_audio(audio_path)
    notes: tuple[str, ...] = ()
    if transcriber is None:
        transcriber, notes = load_transcriber(settings)
    if on_note is not None:
        for note in notes:
            on_note(note)
    loaded = time.perf_counter()
    if progress is not None:
        progress(0.0, len(audio) / SAMPLE_RATE)
    words = transcriber.transcribe(audio, progress)
    done = time.perf_counter()
    return Transcription(words=words, backend=transcriber.backend, model=transcriber.model,
                         device=transcriber.device, audio_seconds=len(audio) / SAMPLE_RATE,
                         compute_seconds=done - loaded,
                         notes=notes)


# the distributions whose versions change what a backend hears (its name is its own)
ENGINES = {"faster-whisper": ("ctranslate2",), "openai-whisper": ("torch",)}


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def identity(backend: str, model: str, device: str, language: str) -> str:
    """Everything that changes what a backend hears in given samples: the cache's key."""
    versions = " ".join(f"{d} {_version(d)}" for d in (backend, *ENGINES.get(backend, ())))
    return f"{versions}|{model}|{device}|{language}|decoding {DECODING_VERSION}"


@dataclass(frozen=True)
class Planned:
    """The configured backend as it would load, known without loading it."""
    settings: WhisperSettings
    model: ResolvedModel
    device: str
    notes: tuple[str, ...]

    @property
    def identity(self) -> str:
        s = self.settings
        return identity(s.backend, self.model.key or self.model.name, self.device, s.language)

    def load(self) -> Transcriber:
        return _loaded(self.settings.backend, self.model, self.device, self.settings.language)


def plan_transcriber(settings: WhisperSettings) -> Planned:
    """The device and model the settings pick, and what was decided on the way."""
    device, note = pick_device(settings.device, cuda_available(settings.backend))
    model = resolve_model(settings.model or default_model(device))
    return Planned(settings, model, device, tuple(n for n in (note,) if n))


def transcribe_pieces(pieces: Sequence[np.ndarray], transcriber: Transcriber,
                      on_piece: Callable[[int, list[Word]], None] | None = None,
                      ) -> list[list[Word]]:
    """Words of each piece of 16 kHz audio, times from the piece's start. The longest
    pieces start first, as many at a time as the backend has workers; `on_piece` hears
    each piece's index and words as it is finished (before a later failure stops the run)."""
    results: list[list[Word]] = [[] for _ in pieces]
    order = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))
    workers = max(1, min(int(getattr(transcriber, "workers", 1)), len(pieces)))
    pool = ThreadPoolExecutor(workers)
    try:
        futures = {pool.submit(transcriber.transcribe, pieces[i]): i for i in order}
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if on_piece is not None:
                on_piece(index, results[index])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure, start no more
    return results
