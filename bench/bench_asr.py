"""openai-whisper against faster-whisper on the same model and the same audio, side by
side in one run: seconds of compute per second of audio, with and without word timestamps.

    python bench/bench_asr.py [--model tiny.en] [--audio FILE] [--seconds 60] [--repeat 2]

Without --audio it synthesises about --seconds of speech with the hibari voice. Loading the
model is timed apart. Each figure is the best of --repeat runs after a warm-up run (the
machine may be shared, so interleaved runs and the best of them are what compares).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.speech.align import tokens, wer  # noqa: E402
from pipeline.speech.asr.audio import SAMPLE_RATE, load_audio  # noqa: E402
from pipeline.speech.asr.faster_backend import FasterWhisper  # noqa: E402
from pipeline.speech.asr.models import checkpoint_path, resolve_model  # noqa: E402
from pipeline.speech.asr.openai_backend import OpenAIWhisper  # noqa: E402

TEXT = (
    "The interpretability researcher Neel Nanda has published a list of two hundred open and "
    "concrete problems in mechanistic interpretability. Each of them is small enough to start "
    "on in a weekend, and together they cover toy models, superposition, circuits in language "
    "models and the tools the field needs. A team at a university lab showed that a model can "
    "improve its own training data, and another group measured how often chat assistants "
    "refuse harmless questions. Funding is open for projects on evaluations, with grants of "
    "up to fifty thousand dollars. That is all for this week: thank you for listening, and "
    "see you next time."
)


def synthesise(seconds: float, path: Path) -> str:
    from hibari import Hibari

    voice, clips, total, said = Hibari(), [], 0.0, []
    while total < seconds:
        clip = voice(TEXT, seed=0)
        clips += [clip, np.zeros(12000, dtype=np.float32)]
        total += len(clip) / 24000 + 0.5
        said.append(TEXT)
    pcm = (np.clip(np.concatenate(clips), -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(24000)
        out.writeframes(pcm.tobytes())
    return " ".join(said)


def best_of(pair: list, audio: np.ndarray, repeat: int) -> tuple[list[float], list]:
    """Best time of each transcriber, runs interleaved after one untimed warm-up each
    (openai-whisper compiles its word-timing code with numba on the first call)."""
    words = [t.transcribe(audio) for t in pair]
    times = [float("inf")] * len(pair)
    for _ in range(repeat):
        for index, transcriber in enumerate(pair):
            started = time.perf_counter()
            words[index] = transcriber.transcribe(audio)
            times[index] = min(times[index], time.perf_counter() - started)
    return times, words[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--audio", type=Path)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    os.environ.setdefault("PIPELINE_CACHE_DIR", tempfile.mkdtemp(prefix="bench-asr-"))

    reference = None
    with tempfile.TemporaryDirectory() as tmp:
        audio_path = args.audio
        if audio_path is None:
            audio_path = Path(tmp) / "speech.wav"
            reference = synthesise(args.seconds, audio_path)
        audio = load_audio(audio_path)
    seconds = len(audio) / SAMPLE_RATE
    model = resolve_model(args.model)
    started = time.perf_counter()
    checkpoint_path(model)  # converted once and cached; loading is timed without it
    converting = time.perf_counter() - started
    print(f"model {args.model}, {seconds:.1f} s of audio, device {args.device}, "
          f"{os.cpu_count()} CPUs, best of {args.repeat}; "
          f"converting for openai-whisper took {converting:.2f} s")
    print(f"{'backend':<34} {'load s':>7} {'words':>11} {'no words':>11} {'cost':>6} {'WER':>6}")
    for name, make in [
        ("openai-whisper (greedy, fp32)", lambda wt: OpenAIWhisper(model, args.device, "en", wt)),
        ("faster-whisper int8 beam 5", lambda wt: FasterWhisper(model, args.device, "en", wt)),
        ("faster-whisper int8 beam 1", lambda wt: FasterWhisper(model, args.device, "en", wt,
                                                                beam_size=1)),
    ]:
        started = time.perf_counter()
        with_words = make(True)
        load = time.perf_counter() - started
        plain = make(False)
        (timed, untimed), words = best_of([with_words, plain], audio, args.repeat)
        error = wer(tokens(reference), tokens(" ".join(w.text for w in words))) if reference else 0
        print(f"{name:<34} {load:7.2f} {timed / seconds:11.3f} {untimed / seconds:11.3f} "
              f"{timed / untimed:5.2f}x {error:6.3f}")
        print(f"summary: {args.model} {name} | {timed / seconds:.3f} s/s with word times | "
              f"word times cost {timed / untimed:.2f}x")
    print("words / no words: seconds of compute per second of audio with and without word "
          "timestamps; cost: their ratio")


if __name__ == "__main__":
    main()
