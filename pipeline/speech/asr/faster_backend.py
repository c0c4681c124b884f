"""faster-whisper (CTranslate2): int8 on the CPU, float16 on CUDA; reads the bundled
package folders directly (a model split in parts is joined in memory).

On the CPU each core runs its own worker of one thread: Whisper's matrices are small for
tiny.en, so two pieces heard side by side finish sooner than one piece on two threads.
Decoding is greedy at temperature 0, which is deterministic: a cached piece is what a
fresh run would hear. Instead of Whisper's sampled fallback, a piece whose greedy words
loop is decoded again with a beam search, which is deterministic too."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from pipeline.config import cache_dir
from pipeline.speech.asr import RETRY_BEAM, Progress, Word, join_pieces, loops
from pipeline.speech.asr.models import ResolvedModel, model_bin, not_available

_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json")


def compute_type(device: str) -> str:
    return "float16" if device == "cuda" else "int8"


def model_source(model: ResolvedModel) -> tuple[str, dict[str, bytes] | None]:
    """What WhisperModel reads: a folder path, or the files in memory for a split model."""
    assert model.folder is not None
    if len(model.parts) == 1 and model.parts[0].name == "model.bin":
        return str(model.folder), None
    files = {"model.bin": model_bin(model)}
    for name in _SIDE_FILES:
        if (model.folder / name).is_file():
            files[name] = (model.folder / name).read_bytes()
    return model.name, files


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def thread_options(device: str, workers: int) -> dict[str, int]:
    """WhisperModel's threads: `workers` of one thread each on the CPU."""
    return {"cpu_threads": 1, "num_workers": workers} if device == "cpu" else {}


def load(model: ResolvedModel, device: str, workers: int = 1) -> Any:
    from faster_whisper import WhisperModel

    if model.kind == "checkpoint":
        raise not_available(model.name, "faster-whisper reads CTranslate2 folders, not .pt")
    if model.kind == "remote":
        from faster_whisper.utils import available_models

        if model.name not in available_models() and "/" not in model.name:
            raise not_available(model.name, "faster-whisper knows no model of that name")
        try:
            return WhisperModel(model.name, device=device, compute_type=compute_type(device),
                                download_root=str(cache_dir() / "whisper-ct2"),
                                **thread_options(device, workers))
        except Exception as exc:  # huggingface_hub raises many kinds when offline
            raise not_available(model.name, type(exc).__name__) from None
    path, files = model_source(model)
    return WhisperModel(path, device=device, compute_type=compute_type(device), files=files,
                        **thread_options(device, workers))


class FasterWhisper:
    backend = "faster-whisper"

    def __init__(self, model: ResolvedModel, device: str, language: str = "en",
                 word_timestamps: bool = True, beam_size: int = 1, workers: int | None = None):
        self.model = model.name
        self.beam_size = beam_size
        self.device = device
        self.language = language
        self.word_timestamps = word_timestamps
        self.workers = (workers or cores()) if device == "cpu" else 1
        self._model = load(model, device, self.workers)

    def transcribe(self, audio: np.ndarray, progress: Progress | None = None) -> list[Word]:
        words = self._decode(audio, self.beam_size, progress)
        if self.beam_size < RETRY_BEAM and self.word_timestamps and loops(words):
            words = self._decode(audio, RETRY_BEAM, None)
        return words

    def _decode(self, audio: np.ndarray, beam_size: int, progress: Progress | None) -> list[Word]:
        total = len(audio) / 16000
        segments, _info = self._model.transcribe(
            audio, language=self.language or None, word_timestamps=self.word_timestamps,
            beam_size=beam_size, temperature=0.0, condition_on_previous_text=False)
        words: list[Word] = []
        for segment in segments:
            if not self.word_timestamps:  # whole segments only (for benchmarks)
                words.append(Word(segment.text.strip(), segment.start, segment.end, 1.0))
            words.extend(join_pieces([(w.word, float(w.start), float(w.end),
                                       float(w.probability)) for w in segment.words or []]))
            if progress is not None:
                progress(min(segment.end, total), total)
        return words
