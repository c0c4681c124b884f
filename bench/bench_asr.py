"""The Whisper backends side by side in one run, on the sample episode's narration, as the
captions stage hears it: seconds of compute and of wall time per second of audio, and the
raw word error rate exactly as qa.json reports it (the segments' words against what was
heard, per segment).

    python bench/bench_asr.py [--episode episodes/<slug>] [--seconds S]

The narration is made by the real script and narrate stages in a temporary copy of the
project (the repository is not touched). --seconds keeps only the segments within the
first S seconds (a quick run; its WER is not the sample's figure). Loading each model is
timed apart and a short warm-up runs first (openai-whisper compiles its word-timing code
on the first call); the transcript cache is not used, so every row hears everything.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.formats import Script, Timeline  # noqa: E402
from pipeline.media.audio import read_wav  # noqa: E402
from pipeline.speech.align import align  # noqa: E402
from pipeline.speech.asr import Transcriber, Word, transcribe_pieces  # noqa: E402
from pipeline.speech.asr.faster_backend import FasterWhisper, cores  # noqa: E402
from pipeline.speech.asr.models import resolve_model  # noqa: E402
from pipeline.speech.asr.openai_backend import OpenAIWhisper  # noqa: E402
from pipeline.speech.asr.pieces import LEAD, for_whisper, piece_audio, plan  # noqa: E402
from pipeline.stages.captions import script_normaliser  # noqa: E402


@dataclass(frozen=True)
class Row:
    name: str
    make: Callable[[], Transcriber]
    whole: bool = False  # the narration as one file, as the stage heard it before pieces
    words: bool = True  # word timestamps (without them there is no WER to compute)


def rows() -> list[Row]:
    tiny, base = resolve_model("tiny.en"), resolve_model("base")
    return [
        Row("openai-whisper tiny.en fp32, whole file", lambda: OpenAIWhisper(tiny, "cpu"), True),
        Row("openai-whisper tiny.en fp32, pieces", lambda: OpenAIWhisper(tiny, "cpu")),
        Row("faster-whisper tiny.en int8 beam 1, whole file",
            lambda: FasterWhisper(tiny, "cpu", workers=1), True),
        Row("faster-whisper tiny.en int8 beam 1, pieces, 1 worker",
            lambda: FasterWhisper(tiny, "cpu", workers=1)),
        Row(f"faster-whisper tiny.en int8 beam 1, pieces, {cores()} workers (default)",
            lambda: FasterWhisper(tiny, "cpu")),
        Row("  the same without word timestamps",
            lambda: FasterWhisper(tiny, "cpu", word_timestamps=False), words=False),
        Row("faster-whisper tiny.en int8 beam 5, pieces",
            lambda: FasterWhisper(tiny, "cpu", beam_size=5)),
        Row("faster-whisper base int8 beam 1, pieces", lambda: FasterWhisper(base, "cpu")),
    ]


def narrate(episode: Path, root: Path) -> Path:
    """The sample's build folder with script.json, narration.wav and timeline.json."""
    shutil.copytree(REPO / "assets", root / "assets")
    folder = root / "episodes" / episode.name
    folder.mkdir(parents=True)
    shutil.copy(episode / "issue.md", folder / "issue.md")
    pipeline = Path(sys.executable).parent / "pipeline"
    for stage in ("script", "narrate"):
        subprocess.run([str(pipeline), stage, f"episodes/{episode.name}"], cwd=root,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder / "build"


@dataclass
class Sample:
    script: Script
    timeline: Timeline
    pcm: np.ndarray
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / self.rate

    def cut(self, seconds: float | None) -> Sample:
        """Only the segments ending within the first `seconds` of the narration."""
        if seconds is None:
            return self
        end = self.timeline.narration_offset + seconds
        segments = [s for s in self.timeline.segments if s.end <= end]
        timeline = self.timeline.model_copy(update={"segments": segments})
        return Sample(self.script, timeline, self.pcm[:round(seconds * self.rate)], self.rate)


def hear(sample: Sample, transcriber: Transcriber, whole: bool) -> list[Word]:
    """Every word with its time in the episode, heard in pieces or as one file."""
    offset = sample.timeline.narration_offset
    if whole:
        audio = for_whisper(sample.pcm, sample.rate)
        return [Word(w.text, w.start + offset, w.end + offset, w.probability)
                for w in transcriber.transcribe(audio)]
    pieces = plan(sample.pcm, sample.rate, sample.timeline)
    heard = transcribe_pieces([piece_audio(sample.pcm, sample.rate, p) for p in pieces],
                              transcriber)
    words = []
    for piece, said in zip(pieces, heard, strict=True):
        origin = offset + piece.start / sample.rate - LEAD
        words += [Word(w.text, w.start + origin, w.end + origin, w.probability) for w in said]
    return words


def measure(row: Row, sample: Sample, normalise) -> tuple[float, float, float, float | None]:
    """(load s, CPU s/s, wall s/s, raw WER) of one backend."""
    started = time.perf_counter()
    transcriber = row.make()
    load = time.perf_counter() - started
    transcriber.transcribe(piece_audio(sample.pcm, sample.rate,
                                       plan(sample.pcm, sample.rate, sample.timeline)[0]))
    cpu, wall = time.process_time(), time.perf_counter()
    words = hear(sample, transcriber, row.whole)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    error = align(sample.script, sample.timeline, words, normalise).raw_wer if row.words \
        else None
    return load, cpu / sample.seconds, wall / sample.seconds, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", type=Path,
                        default=REPO / "episodes" / "2023-01-06-ai-improving-itself")
    parser.add_argument("--seconds", type=float, help="only the first S seconds of narration")
    args = parser.parse_args()
    os.environ.setdefault("PIPELINE_CACHE_DIR", tempfile.mkdtemp(prefix="bench-asr-"))
    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        build = narrate(args.episode.resolve(), Path(tmp))
        pcm, rate = read_wav(build / "narration.wav")
        sample = Sample(Script.read(build), Timeline.read(build), pcm, rate).cut(args.seconds)
    normalise = script_normaliser(REPO / "assets" / "pronunciations.toml")
    print(f"{args.episode.name}: {sample.seconds:.1f} s of narration, "
          f"{len(plan(sample.pcm, sample.rate, sample.timeline))} pieces, {cores()} CPUs")
    print(f"{'backend':<62}{'load s':>7}{'CPU s/s':>9}{'wall s/s':>9}{'raw WER':>9}")
    for row in rows():
        load, cpu, wall, error = measure(row, sample, normalise)
        shown = f"{error:.2%}" if error is not None else "-"
        print(f"{row.name:<62}{load:7.2f}{cpu:9.4f}{wall:9.4f}{shown:>9}", flush=True)
        print(f"summary: ASR {row.name.strip()} | {wall:.4f} s/s wall, {cpu:.4f} CPU | "
              f"raw WER {shown}", flush=True)
    print("s/s: seconds per second of audio (CPU: both cores added up); raw WER as in "
          "qa.json; pieces as the captions stage cuts the narration")


if __name__ == "__main__":
    main()
