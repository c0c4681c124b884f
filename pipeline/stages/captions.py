"""Stage `captions`: transcribe episode.mp3 with Whisper, align the words to the script,
write transcript.json, captions.vtt, captions.srt and qa.json.

`pipeline captions episodes/<slug>`
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from pipeline.config import WhisperSettings
from pipeline.errors import PipelineError
from pipeline.speech.align import (
    Alignment,
    Normaliser,
    align,
    edit_distance,
    tokens,
)
from pipeline.speech.asr import Transcriber, Transcription, transcribe
from pipeline.speech.cues import Cue, CueRules, make_cues, violations
from pipeline.speech.lexicon import WORD, Lexicon, load_lexicon
from pipeline.speech.spoken import to_spoken
from pipeline.speech.subtitles import WriteSRT, WriteVTT
from pipeline.util.fsutil import read_json, write_json
from pipeline.util.progress import note, task

_REBUILD = {"script.json": "make script", "timeline.json": "make narrate"}


def read_build_json(path: Path, required: tuple[str, ...]) -> dict[str, Any]:
    """Read a stage's JSON output, checking the fields this stage relies on."""
    fix = f"rebuild it: {_REBUILD.get(path.name, 'make')}"
    data = read_json(path, fix, missing="not found")
    missing = [key for key in required if key not in data]
    if missing:
        raise PipelineError(f"lacks {', '.join(missing)}", path, fix)
    return data


def _require(items: Any, keys: tuple[str, ...], path: Path, what: str) -> None:
    """Each item of a list holds the keys this stage reads."""
    fix = f"rebuild it: {_REBUILD.get(path.name, 'make')}"
    if not isinstance(items, list):
        raise PipelineError(f"'{what}' is not a list", path, fix)
    for index, item in enumerate(items):
        missing = [k for k in keys if not isinstance(item, dict) or k not in item]
        if missing:
            raise PipelineError(f"{what}[{index}] lacks {', '.join(missing)}", path, fix)


def check_inputs(script: dict[str, Any], timeline: dict[str, Any], build: Path) -> None:
    """The fields this stage reads are there, and every script segment has its times."""
    _require(script["segments"], ("id", "section_index", "display", "spoken"),
             build / "script.json", "segments")
    _require(timeline["segments"], ("id", "start", "end"), build / "timeline.json", "segments")
    _require(timeline["sections"], ("start", "end"), build / "timeline.json", "sections")
    timeline_path = build / "timeline.json"
    timed = {s["id"] for s in timeline["segments"]}
    absent = [s["id"] for s in script["segments"] if s["id"] not in timed]
    if absent:
        raise PipelineError(f"has no times for segment '{absent[0]}' of script.json",
                            timeline_path, "the narration is older than the script: make narrate")


def script_normaliser(lexicon_path: Path) -> Normaliser:
    """Display text in words as the script stage says it, keeping the lexicon's "word"
    entries (ROME is said, and written, Rome) but not its spellings and respellings, which
    are for the voice: a listener, and Whisper, write "AI" and "Jaime", not "Eh I"."""
    entries = load_lexicon(lexicon_path).entries if lexicon_path.is_file() else {}
    words = Lexicon({term: saying for term, saying in entries.items() if saying == WORD})
    return lambda text: to_spoken(text, words)


def transcript_json(t: Transcription) -> dict[str, Any]:
    return {
        "version": 1, "backend": t.backend, "model": t.model, "device": t.device,
        "audio_seconds": round(t.audio_seconds, 3),
        "words": [{"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3),
                   "probability": round(w.probability, 4)} for w in t.words],
    }


def corrected_wer(script: dict[str, Any], cues: list[Cue]) -> float:
    """Word error rate of the cue text against the display text, section by section (an
    ad lib kept in the captions counts as inserted words)."""
    display: dict[int, list[str]] = {}
    for segment in script["segments"]:
        display.setdefault(int(segment["section_index"]), []).extend(tokens(segment["display"]))
    shown: dict[int, list[str]] = {}
    for cue in cues:
        shown.setdefault(cue.section_index, []).extend(tokens(cue.text))
    errors = sum(edit_distance(ref, shown.get(index, [])) for index, ref in display.items())
    errors += sum(len(hyp) for index, hyp in shown.items() if index not in display)
    total = sum(len(ref) for ref in display.values())
    return errors / total if total else 0.0


def lexicon_candidates(alignment: Alignment) -> list[dict[str, Any]]:
    """Display words the model heard as something else, most frequent first."""
    counts = Counter((d["display"].strip(".,;:!?\"'()"), d["heard"].strip(".,;:!?\"'()"))
                     for d in alignment.heard_differently)
    return [{"word": word, "heard": heard, "count": n}
            for (word, heard), n in counts.most_common()]


def qa_json(t: Transcription, alignment: Alignment, cues: list[Cue],
            script: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "model": t.model, "backend": t.backend, "device": t.device,
        "seconds_per_audio_second": round(t.speed, 4),
        "raw_wer": round(alignment.raw_wer, 4),
        "corrected_wer": round(corrected_wer(script, cues), 4),
        "segments": [{"id": s.id, "raw_wer": round(s.wer, 4), "words": s.reference_tokens,
                      "errors": s.errors, "heard": s.recognised} for s in alignment.segments],
        "lexicon_candidates": lexicon_candidates(alignment),
        "heard_differently": alignment.heard_differently,
        "missed": alignment.missed,
        "dropped_count": len(alignment.dropped),
        "dropped": alignment.dropped,
        "flagged_stretches": alignment.stretches,
        "non_speech": [{"text": w.text, "start": round(w.start, 3)} for w in alignment.sounds],
        "cues": len(cues),
        "cue_rule_violations": violations(cues),
        "notes": list(t.notes),
    }


def _say(text: str) -> None:
    note(f"captions: {text}")


def build_captions(build: Path, assets: Path, settings: WhisperSettings,
                   transcriber: Transcriber | None = None,
                   rules: CueRules | None = None) -> dict[str, Any]:
    """Run the stage on a build folder; returns qa.json's content."""
    script = read_build_json(build / "script.json", ("segments", "sections"))
    timeline = read_build_json(build / "timeline.json", ("segments", "sections"))
    check_inputs(script, timeline, build)
    with task("captions: transcribing", unit="s") as bar:
        result = transcribe(build / "episode.mp3", settings, progress=bar.update,
                            transcriber=transcriber, on_note=_say)
    normalise = script_normaliser(assets / "pronunciations.toml")
    alignment = align(script, timeline, result.words, normalise)
    cues = make_cues(alignment.words, timeline["sections"], rules)
    qa = qa_json(result, alignment, cues, script)
    write_json(build / "transcript.json", transcript_json(result))
    WriteVTT()(cues, build / "captions.vtt")
    WriteSRT()(cues, build / "captions.srt")
    write_json(build / "qa.json", qa)
    return qa


def summary(qa: dict[str, Any]) -> str:
    return (f"captions: {qa['model']} ({qa['backend']}) on {qa['device']}, "
            f"{qa['seconds_per_audio_second']:.3f} s per audio second, "
            f"raw WER {qa['raw_wer']:.1%}, corrected {qa['corrected_wer']:.1%}, "
            f"{qa['cues']} cues written")


@click.command("captions")
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--model", help="Whisper model name or path (overrides whisper.model).")
@click.option("--backend", type=click.Choice(["openai-whisper", "faster-whisper"]),
              help="Transcription backend (overrides whisper.backend).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]),
              help="Device (overrides whisper.device).")
def command(episode_dir: Path, model: str | None, backend: str | None,
            device: str | None) -> None:
    """Transcribe episode.mp3 and write captions corrected against the script."""
    from pipeline.episode import load_episode

    episode = load_episode(episode_dir)
    overrides = {k: v for k, v in (("model", model), ("backend", backend), ("device", device))
                 if v is not None}
    settings = episode.settings.whisper.model_copy(update=overrides)
    qa = build_captions(episode.build, episode.assets, settings)
    click.echo(summary(qa))
