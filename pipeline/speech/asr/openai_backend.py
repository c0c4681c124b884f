"""openai-whisper with word timestamps: fp16 on CUDA, fp32 on the CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import cache_dir
from pipeline.speech.asr import Progress, Word, join_pieces
from pipeline.speech.asr.models import ResolvedModel, checkpoint_path, not_available


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


def transcribe_options(device: str, language: str, progress: bool,
                       word_timestamps: bool = True) -> dict[str, Any]:
    """Arguments to `whisper.transcribe`; verbose=False shows its progress bar."""
    return {"word_timestamps": word_timestamps, "fp16": device == "cuda",
            "language": language or None,
            "verbose": False if progress else None, "condition_on_previous_text": False}


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
        import whisper

        options = transcribe_options(self.device, self.language, progress is not None,
                                     self.word_timestamps)
        result = whisper.transcribe(self._model, audio, **options)
        if progress is not None:
            progress(len(audio) / 16000, len(audio) / 16000)
        if not self.word_timestamps:  # whole segments only (for benchmarks)
            return [Word(s["text"].strip(), float(s["start"]), float(s["end"]), 1.0)
                    for s in result["segments"]]
        return [word for segment in result["segments"]  # pieces join within a segment
                for word in join_pieces([(w["word"], float(w["start"]), float(w["end"]),
                                          float(w["probability"]))
                                         for w in segment.get("words", [])])]
