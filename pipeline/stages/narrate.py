"""Stage `narrate`: build/script.json -> build/narration.wav + build/timeline.json.

Each segment's spoken text is cut at sentence boundaries into chunks; each chunk comes from
the voice cache or is synthesised (independent chunks in parallel processes). Sections the
producer recorded come from `recordings/` instead, levelled to match the synthetic voice;
their segments share the recording's span in proportion to the length of their text.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import click
import numpy as np

from pipeline.config import VoiceSettings
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    Script,
    Section,
    Segment,
    TimedSection,
    TimedSegment,
    Timeline,
    rebuild_hint,
)
from pipeline.media import music
from pipeline.media.audio import loudness, resample, trim, write_wav
from pipeline.media.mp3 import frame_samples
from pipeline.media.recordings import find_recordings, import_recording
from pipeline.speech.voicecache import VoiceCache, cache_key
from pipeline.speech.voices import REGISTRY, Voice, get_voice
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.progress import Task, task

MAX_CHARS = 400  # longer spoken text is cut at sentence ends into chunks of about this
CHUNK_PAUSE = 0.25  # seconds between the chunks of one segment, at least
# Segments and their chunks start on a grid of SLOT seconds. An edit that makes one chunk
# longer then moves every later one by whole SLOTs, which are whole fine blocks of master's
# loudness figures and whole AAC frames at 48 kHz: their mastered samples and their pieces
# of the video's sound are found again by content.
SLOT = 0.32
# Sections start on a coarser grid, of whole MP3 frames too (media/mp3.py), so an edit
# leaves the MP3's pieces of every later section as they were; at most SECTION_SLOTS SLOTs.
SECTION_SLOTS = 4
FALLBACK_LUFS = -20.0  # recordings' level when nothing is synthesised to match
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Cut text at sentence ends into chunks of at most `limit` characters (a longer
    sentence stays whole)."""
    chunks: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text.strip())):
        if not sentence:
            continue
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= limit:
            chunks[-1] = f"{chunks[-1]} {sentence}"
        else:
            chunks.append(sentence)
    return chunks


# -- synthesis ------------------------------------------------------------------------------

_worker_voice: Voice | None = None


def _init_worker(engine: str, name: str) -> None:
    global _worker_voice
    _worker_voice = get_voice(engine, name)


def _synth_in_worker(text: str, settings: VoiceSettings) -> np.ndarray:
    assert _worker_voice is not None
    return _worker_voice.synthesize(text, settings)


def _workers(jobs: int | None, count: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(jobs or cores or 1, count))


def _synth_error(text: str, exc: Exception) -> PipelineError:
    return PipelineError(f"synthesis failed for “{text[:60]}”: {exc}",
                         fix="check the voice settings; the cache and earlier outputs are kept")


def synthesise(texts: dict[str, str], voice: Voice, settings: VoiceSettings, cache: VoiceCache,
               jobs: int | None = None) -> None:
    """Synthesise each key's text into the cache, on all cores; a failure stops the run
    after the chunks already done are cached."""
    workers = _workers(jobs, len(texts))
    with task("narrate: synthesising", len(texts)) as bar:
        # a voice registered as an object (a plugin or test fake) cannot travel to a new process
        if workers == 1 or callable(REGISTRY.get(voice.engine)):
            _synthesise_here(texts, voice, settings, cache, bar)
        else:
            _synthesise_in_workers(texts, voice, settings, cache, workers, bar)


def _synthesise_here(texts: dict[str, str], voice: Voice, settings: VoiceSettings,
                     cache: VoiceCache, bar: Task) -> None:
    for key, text in texts.items():
        try:
            cache.put(key, voice.synthesize(text, settings))
        except Exception as exc:  # any engine failure, reported as one line
            raise _synth_error(text, exc) from exc
        bar.advance()


def _synthesise_in_workers(texts: dict[str, str], voice: Voice, settings: VoiceSettings,
                           cache: VoiceCache, workers: int, bar: Task) -> None:
    ctx = get_context("spawn")  # the engines' thread pools do not survive a fork
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(voice.engine, voice.name)) as pool:
        futures = {pool.submit(_synth_in_worker, text, settings): key
                   for key, text in texts.items()}
        for future in as_completed(futures):
            key = futures[future]
            try:
                cache.put(key, future.result())
            except Exception as exc:
                for other in futures:
                    other.cancel()
                raise _synth_error(texts[key], exc) from exc
            bar.advance()


# -- assembly -------------------------------------------------------------------------------

@dataclass
class Span:
    segment: Segment
    start: int  # samples in narration.wav
    end: int
    cached: bool
    source: str


def section_slot(mp3_rate: int) -> float:
    """Seconds of the grid sections start on: the fewest SLOTs that are whole MP3 frames at
    `mp3_rate` (1.28 s at 44.1 kHz, 0.96 s at 48 kHz), or one SLOT when that takes more
    than SECTION_SLOTS."""
    frame = frame_samples(mp3_rate)
    fits = [k for k in range(1, SECTION_SLOTS + 1) if round(k * SLOT * mp3_rate) % frame == 0]
    return SLOT * (fits[0] if fits else 1)


@dataclass
class Track:
    rate: int
    parts: list[np.ndarray] = field(default_factory=list)
    length: int = 0

    def add(self, audio: np.ndarray) -> int:
        start = self.length
        self.parts.append(np.asarray(audio, dtype=np.float32))
        self.length += len(audio)
        return start

    def pause(self, seconds: float) -> None:
        if self.length:
            self.add(np.zeros(int(round(seconds * self.rate)), np.float32))

    def slot_pause(self, seconds: float, slot: float = SLOT) -> None:
        """`seconds` of silence, and as much more as brings the track to a whole number of
        `slot`s: what comes next starts on the grid."""
        self.pause(seconds)
        self.add(np.zeros(-self.length % round(slot * self.rate), np.float32))

    def audio(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)


@dataclass
class Plan:
    """What narrate will synthesise: the chunks each segment needs, and those not cached."""
    chunks: dict[str, list[str]]  # segment id -> cache keys, in order
    texts: dict[str, str]  # cache key -> text, for every chunk of the episode
    missing: dict[str, str] = field(default_factory=dict)  # keys not in the cache yet


def plan(script: Script, voice: Voice, settings: VoiceSettings, cache: VoiceCache,
         recordings: dict[str, Path]) -> Plan:
    chunks: dict[str, list[str]] = {}
    texts: dict[str, str] = {}
    for seg in script.narrated():
        if seg.section in recordings:
            continue
        keys = []
        for text in split_text(seg.spoken):
            key = cache_key(text, voice.version, settings)
            texts[key] = text
            keys.append(key)
        chunks[seg.id] = keys
    missing = {k: t for k, t in texts.items() if not cache.path(k).is_file()}
    return Plan(chunks, texts, missing)


def _segment_audio(keys: list[str], cache: VoiceCache, voice_rate: int,
                   rate: int) -> np.ndarray:
    track = Track(rate)
    for key in keys:
        audio = cache.get(key)
        if audio is None:
            raise PipelineError(f"voice cache entry {key[:12]} vanished during the build",
                                cache.path(key), "run narrate again")
        track.slot_pause(CHUNK_PAUSE)  # on the grid too: an edit moves the rest by whole slots
        track.add(resample(trim(audio, voice_rate), voice_rate, rate))
    return track.audio()


def _level(recorded: dict[str, np.ndarray], synth: list[np.ndarray], rate: int) -> None:
    """Gain each recording so its loudness matches the synthetic voice's."""
    if not recorded:
        return
    target = loudness(np.concatenate(synth), rate) if synth else None
    for section, audio in recorded.items():
        level = loudness(audio, rate)
        if level is not None:
            recorded[section] = audio * np.float32(10 ** (((target or FALLBACK_LUFS) - level) / 20))


def _proportional(segments: list[Segment], start: int, end: int) -> list[Span]:
    """Segments sharing a recorded span in proportion to their spoken text's length."""
    weights = np.array([max(1, len(s.spoken)) for s in segments], dtype=float)
    edges = start + np.round(np.concatenate([[0], np.cumsum(weights)]) / weights.sum()
                             * (end - start)).astype(int)
    return [Span(s, int(a), int(b), False, "recording")
            for s, a, b in zip(segments, edges[:-1], edges[1:], strict=True)]


def assemble(script: Script, p: Plan, voice: Voice, settings: VoiceSettings,
             cache: VoiceCache, recorded: dict[str, np.ndarray], rate: int,
             fresh: set[str], section_grid: float = SLOT,
             ) -> tuple[np.ndarray, list[Span], list[tuple[Section, int]]]:
    """Join everything at `rate`: the narration, each narrated segment's span, and each
    section with something narrated and its start."""
    seg_audio = {sid: _segment_audio(keys, cache, voice.sample_rate, rate)
                 for sid, keys in p.chunks.items()}
    _level(recorded, [a for a in seg_audio.values() if len(a)], rate)
    track, spans, starts = Track(rate), [], []
    for section in script.sections:
        segments = [s for s in script.segments_of(section.id) if s.narrated]
        if not segments:
            continue
        track.slot_pause(settings.section_pause, section_grid)
        starts.append((section, track.length))
        if section.id in recorded:
            begin = track.add(recorded[section.id])
            spans += _proportional(segments, begin, track.length)
            continue
        for i, seg in enumerate(segments):
            if i:
                track.slot_pause(settings.paragraph_pause)
            begin = track.add(seg_audio[seg.id])
            cached = not fresh.intersection(p.chunks[seg.id])
            spans.append(Span(seg, begin, track.length, cached, voice.engine))
    audio = track.audio()
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak > 0.99:  # a loud recording: scale all down rather than clip
        audio *= np.float32(0.99 / peak)
    return audio, spans, starts


def timeline(spans: list[Span], starts: list[tuple[Section, int]], rate: int,
             lay: music.Layout) -> Timeline:
    """timeline.json: times in the final episode (see docs/FORMATS.md)."""
    def at(sample: int) -> float:
        return round(lay.offset + sample / rate, 3)

    segments = [TimedSegment(id=s.segment.id, section=s.segment.section,
                             section_index=s.segment.section_index, kind=s.segment.kind,
                             start=at(s.start), end=at(s.end), cached=s.cached, source=s.source)
                for s in spans]
    section_starts = [0.0] + [at(x) for _, x in starts[1:]]
    ends = section_starts[1:] + [lay.duration]
    sections = [TimedSection(id=sec.id, index=sec.index, title=sec.title, start=a, end=b)
                for (sec, _), a, b in zip(starts, section_starts, ends, strict=True)]
    return Timeline(duration=lay.duration, narration_offset=lay.offset, segments=segments,
                    sections=sections)


# -- the stage ------------------------------------------------------------------------------

def check_disclosure(episode: Episode, script: Script, recorded: set[str]) -> None:
    """The script's spoken disclosure is never in a recorded section: the recording would
    stand for a line the producer did not say (the script predates the recordings)."""
    if any(s.kind == "disclosure" and s.section in recorded for s in script.segments):
        path = Script.path(episode.build)
        raise PipelineError("puts the disclosure line in a recorded section: it was written "
                            "before the recordings", path, rebuild_hint(path))


@dataclass(frozen=True)
class NarrationResult:
    segments: int
    synthesised: int  # segments with at least one chunk synthesised in this run
    cached: int
    recorded: int
    seconds: float  # length of narration.wav
    chunks_synthesised: int

    def summary(self) -> str:
        return (f"narrate: {self.segments} segments ({self.synthesised} synthesised, "
                f"{self.cached} from cache, {self.recorded} recorded), "
                f"{self.seconds:.1f} s of narration")


def run(episode: Episode, jobs: int | None = None) -> NarrationResult:
    """Write build/narration.wav and build/timeline.json for `episode`."""
    settings = episode.settings.voice
    script = Script.read(episode.build)
    voice = get_voice(settings.engine, settings.name)
    cache = VoiceCache()
    recordings = find_recordings(episode.dir / "recordings", script.sections)
    check_disclosure(episode, script, set(recordings))
    # a producer's recordings keep the show's rate; the voice alone keeps its own
    rate = episode.settings.audio.sample_rate if recordings else voice.sample_rate
    imported = {sec: import_recording(path, sec, rate) for sec, path in recordings.items()}
    recorded = {sec: audio for sec, (audio, _) in imported.items()}
    p = plan(script, voice, settings, cache, recordings)
    if p.missing:
        synthesise(p.missing, voice, settings, cache, jobs)
    audio, spans, starts = assemble(script, p, voice, settings, cache, recorded, rate,
                                    set(p.missing),
                                    section_slot(episode.settings.audio.sample_rate))
    lay = music.layout(len(audio) / rate, episode.settings.audio)
    data = timeline(spans, starts, rate, lay).model_copy(
        update={"recordings": [report for _, report in imported.values()]})
    with fsutil.atomic_path(episode.build / "narration.wav") as tmp:
        write_wav(tmp, audio, rate)
    data.write(episode.build)
    fresh = sum(1 for s in spans if s.source != "recording" and not s.cached)
    voiced = sum(1 for s in spans if s.source == "recording")
    return NarrationResult(len(spans), fresh, len(spans) - fresh - voiced, voiced,
                           round(len(audio) / rate, 3), len(p.missing))


@stage_command("narrate")
@click.option("--jobs", "-j", type=int, default=None, help="Processes (default: all cores).")
def command(episode: Episode, jobs: int | None) -> NarrationResult:
    """Speak the script: build/narration.wav and build/timeline.json."""
    return run(episode, jobs=jobs)
