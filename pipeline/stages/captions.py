"""Stage `captions`: transcribe the narration with Whisper, align the words to the script,
write transcript.json, captions.vtt, captions.srt and qa.json.

Whisper hears the narration (narration.wav, which timeline.json places in the episode) in
pieces of about a segment each; a piece it heard before, in any build, comes from the
transcript cache and is only shifted to where it now lies (`speech/asr/pieces.py`).

`pipeline captions episodes/<slug>`
"""

from __future__ import annotations

import functools
import wave
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from pipeline.config import SpokenSettings, WhisperSettings
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    QA,
    HeardWord,
    LexiconCandidate,
    Script,
    SegmentQA,
    Sound,
    Timeline,
    Transcript,
    target_for,
)
from pipeline.media.audio import read_wav
from pipeline.speech.align import (
    Alignment,
    Normaliser,
    align,
    edit_distance,
    tokens,
)
from pipeline.speech.asr import Transcriber, Transcription
from pipeline.speech.asr.pieces import hear_narration
from pipeline.speech.cues import Cue, CueRules, make_cues, violations
from pipeline.speech.lexicon import WORD, Lexicon, load_lexicon
from pipeline.speech.spoken import to_spoken
from pipeline.speech.subtitles import WriteSRT, WriteVTT
from pipeline.stages import stage_command
from pipeline.util.progress import note, task


def script_normaliser(lexicon_path: Path, settings: SpokenSettings | None = None) -> Normaliser:
    """Display text in words as the script stage says it, keeping the lexicon's "word"
    entries (ROME is said, and written, Rome) but not its spellings and respellings, which
    are for the voice: a listener, and Whisper, write "AI" and "Jaime", not "Eh I"."""
    entries = load_lexicon(lexicon_path).entries if lexicon_path.is_file() else {}
    words = Lexicon({term: saying for term, saying in entries.items() if saying == WORD})
    return functools.lru_cache(maxsize=None)(lambda text: to_spoken(text, words, settings))


def transcript_file(t: Transcription) -> Transcript:
    return Transcript(
        backend=t.backend, model=t.model, device=t.device,
        audio_seconds=round(t.audio_seconds, 3),
        words=[HeardWord(text=w.text, start=round(w.start, 3), end=round(w.end, 3),
                         probability=round(w.probability, 4)) for w in t.words])


def corrected_wer(script: Script, cues: list[Cue]) -> float:
    """Word error rate of the cue text against the display text, section by section (an
    ad lib kept in the captions counts as inserted words)."""
    display: dict[int, list[str]] = {}
    for segment in script.narrated():
        display.setdefault(segment.section_index, []).extend(tokens(segment.caption))
    shown: dict[int, list[str]] = {}
    for cue in cues:
        shown.setdefault(cue.section_index, []).extend(tokens(cue.text))
    errors = sum(edit_distance(ref, shown.get(index, [])) for index, ref in display.items())
    errors += sum(len(hyp) for index, hyp in shown.items() if index not in display)
    total = sum(len(ref) for ref in display.values())
    return errors / total if total else 0.0


def lexicon_candidates(alignment: Alignment) -> list[LexiconCandidate]:
    """Display words the model heard as something else, most frequent first."""
    counts = Counter((d.display.strip(".,;:!?\"'()"), d.heard.strip(".,;:!?\"'()"))
                     for d in alignment.heard_differently)
    return [LexiconCandidate(word=word, heard=heard, count=n)
            for (word, heard), n in counts.most_common()]


def qa_file(t: Transcription, alignment: Alignment, cues: list[Cue], script: Script,
            timeline: Timeline) -> QA:
    return QA(
        model=t.model, backend=t.backend, device=t.device,
        seconds_per_audio_second=round(t.speed, 4),
        raw_wer=round(alignment.raw_wer, 4),
        corrected_wer=round(corrected_wer(script, cues), 4),
        segments=[SegmentQA(id=s.id, raw_wer=round(s.wer, 4), words=s.reference_tokens,
                            errors=s.errors, heard=s.recognised) for s in alignment.segments],
        lexicon_candidates=lexicon_candidates(alignment),
        heard_differently=alignment.heard_differently,
        missed=alignment.missed,
        dropped_count=len(alignment.dropped),
        dropped=alignment.dropped,
        flagged_stretches=alignment.stretches,
        non_speech=[Sound(text=w.text, start=round(w.start, 3)) for w in alignment.sounds],
        cues=len(cues),
        cue_rule_violations=violations(cues),
        notes=list(t.notes),
        recordings=timeline.recordings,
        pieces=t.pieces, pieces_from_cache=t.cached,
        seconds_transcribed=round(t.heard_seconds or 0.0, 3))


def _say(text: str) -> None:
    note(f"captions: {text}")


def read_narration(build: Path) -> tuple[np.ndarray, int]:
    """narration.wav's samples and rate; a missing or silent one is one clear error."""
    path = build / "narration.wav"
    if not path.is_file():
        raise PipelineError("audio not found", path, f"build it: {target_for(path)}")
    try:
        samples, rate = read_wav(path)
    except (OSError, EOFError, wave.Error) as exc:
        raise PipelineError(f"not a readable WAV ({exc})", path,
                            f"rebuild it: {target_for(path)}") from None
    if samples.size == 0 or not samples.any():
        raise PipelineError("the audio is silent", path, "check the narration was recorded "
                            f"or synthesised: {target_for(path)}")
    return samples, rate


def build_captions(build: Path, assets: Path, settings: WhisperSettings,
                   transcriber: Transcriber | None = None, rules: CueRules | None = None,
                   spoken: SpokenSettings | None = None) -> QA:
    """Run the stage on a build folder; returns qa.json's content."""
    script = Script.read(build)
    timeline = Timeline.read(build)
    timeline.check_covers(script, build)
    samples, rate = read_narration(build)
    with task("captions: transcribing", unit="s") as bar:
        result = hear_narration(samples, rate, timeline, settings, transcriber,
                                progress=bar.update)
    for line in result.notes:
        _say(line)
    if result.cached:
        _say(f"{result.cached} of {result.pieces} pieces heard before, from the cache")
    normalise = script_normaliser(assets / "pronunciations.toml", spoken)
    alignment = align(script, timeline, result.words, normalise)
    cues = make_cues(alignment.words, timeline.sections, rules)
    qa = qa_file(result, alignment, cues, script, timeline)
    transcript_file(result).write(build)
    WriteVTT()(cues, build / "captions.vtt")
    WriteSRT()(cues, build / "captions.srt")
    qa.write(build)
    return qa


@dataclass(frozen=True)
class CaptionsResult:
    qa: QA

    def summary(self) -> str:
        qa = self.qa
        return (f"captions: {qa.model} ({qa.backend}) on {qa.device}, "
                f"{qa.seconds_per_audio_second:.3f} s per audio second, "
                f"raw WER {qa.raw_wer:.1%}, corrected {qa.corrected_wer:.1%}, "
                f"{qa.cues} cues written")


def run(episode: Episode, model: str | None = None, backend: str | None = None,
        device: str | None = None) -> CaptionsResult:
    """Transcribe the episode with its Whisper settings, any of them overridden."""
    overrides = {k: v for k, v in (("model", model), ("backend", backend), ("device", device))
                 if v is not None}
    settings = episode.settings.whisper.model_copy(update=overrides)
    return CaptionsResult(build_captions(episode.build, episode.assets, settings,
                                         spoken=episode.settings.spoken))


@stage_command("captions")
@click.option("--model", help="Whisper model name or path (overrides whisper.model).")
@click.option("--backend", type=click.Choice(["openai-whisper", "faster-whisper"]),
              help="Transcription backend (overrides whisper.backend).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]),
              help="Device (overrides whisper.device).")
def command(episode: Episode, model: str | None, backend: str | None,
            device: str | None) -> CaptionsResult:
    """Transcribe the narration and write captions corrected against the script."""
    return run(episode, model, backend, device)
