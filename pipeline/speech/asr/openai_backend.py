"""openai-whisper with word timestamps: fp16 on CUDA, fp32 on the CPU."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import cache_dir
from pipeline.speech.asr import RETRY_BEAM, Progress, Word, join_pieces, loops
from pipeline.speech.asr.audio import SAMPLE_RATE
from pipeline.speech.asr.models import ResolvedModel, checkpoint_path, not_available

FRAMES_PER_SECOND = 100  # whisper's mel frames: 10 ms each


def load_checkpoint(path: Path, device: str) -> Any:
    """Like `whisper.load_model(path)`, but keeping the alignment heads the converter
    stored: openai-whisper drops them for a path and word timings suffer."""
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    if "alignment_heads" not in checkpoint:
        return whisper.load_model(str(path), device=device)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    model.set_alignment_heads(checkpoint["alignment_heads"].encode("ascii"))
    return model.to(device)


def load(model: ResolvedModel, device: str) -> Any:
    """A loaded openai-whisper model: converted from a bundled folder, a .pt, or by name."""
    if model.kind != "remote":
        return load_checkpoint(checkpoint_path(model), device)
    import whisper

    if model.name not in whisper.available_models():
        raise not_available(model.name, "openai-whisper knows no model of that name")
    try:  # downloads it where the machine can
        return whisper.load_model(model.name, device=device,
                                  download_root=str(cache_dir() / "whisper"))
    except (RuntimeError, OSError) as exc:  # URLError is an OSError
        raise not_available(model.name, f"download failed: {str(exc).splitlines()[0][:80]}"
                            ) from None


def transcribe_options(device: str, language: str,
                       word_timestamps: bool = True) -> dict[str, Any]:
    """Arguments to `whisper.transcribe`; verbose=None prints nothing (progress is
    reported through `reporting_frames`); greedy at temperature 0, with no sampled
    fallback, so a piece heard twice gives the same words."""
    return {"word_timestamps": word_timestamps, "fp16": device == "cuda",
            "language": language or None, "verbose": None, "condition_on_previous_text": False,
            "temperature": 0.0}


class _FrameBar:
    """Stands in for the tqdm bar `whisper.transcribe` keeps, in mel frames, and reports
    seconds instead."""

    def __init__(self, progress: Progress, seconds: float):
        self.progress, self.seconds = progress, seconds
        self.frames, self.total = 0, seconds * FRAMES_PER_SECOND

    def tqdm(self, *, total: int | None = None, **_: Any) -> _FrameBar:
        self.total = total or self.total
        return self

    def __enter__(self) -> _FrameBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, frames: int) -> None:
        self.frames += frames
        self.progress(self.seconds * min(1.0, self.frames / self.total), self.seconds)


@contextmanager
def reporting_frames(progress: Progress | None, seconds: float) -> Iterator[None]:
    """While in the block, whisper's own progress bar feeds `progress`: whisper has no
    callback, only a `tqdm.tqdm(...)` looked up in its transcribe module."""
    module = importlib.import_module("whisper.transcribe")
    if progress is None or not hasattr(module, "tqdm"):
        yield
        return
    original = module.tqdm
    module.tqdm = _FrameBar(progress, seconds)
    try:
        yield
    finally:
        module.tqdm = original


class OpenAIWhisper:
    backend = "openai-whisper"

    def __init__(self, model: ResolvedModel, device: str, language: str = "en",
                 word_timestamps: bool = True):
        self.model = model.name
        self.device = device
        self.language = language
        self.word_timestamps = word_timestamps
        self._model = load(model, device)

    def transcribe(self, audio: np.ndarray, progress: Progress | None = None) -> list[Word]:
        words = self._decode(audio, None, progress)
        if self.word_timestamps and loops(words):
            words = self._decode(audio, RETRY_BEAM, None)
        return words

    def _decode(self, audio: np.ndarray, beam_size: int | None,
                progress: Progress | None) -> list[Word]:
        import whisper

        options = transcribe_options(self.device, self.language, self.word_timestamps)
        with reporting_frames(progress, len(audio) / SAMPLE_RATE):
            result = whisper.transcribe(self._model, audio, beam_size=beam_size, **options)
        if not self.word_timestamps:  # whole segments only (for benchmarks)
            return [Word(s["text"].strip(), float(s["start"]), float(s["end"]), 1.0)
                    for s in result["segments"]]
        return [word for segment in result["segments"]  # pieces join within a segment
                for word in join_pieces([(w["word"], float(w["start"]), float(w["end"]),
                                          float(w["probability"]))
                                         for w in segment.get("words", [])])]
