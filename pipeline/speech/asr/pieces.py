"""The narration cut into pieces that Whisper hears one at a time, so that a piece whose
samples did not change is never transcribed again.

A piece is one segment's speech (a recorded section's whole recording), found by its
samples and not by the rounded times of timeline.json: the span is widened into the
pauses around it and the silence trimmed off, so the same speech gives the same samples
wherever it lies. A short piece (a heading) is heard with the piece after it in its
section, as it would be in one long transcription, and a piece longer than one Whisper
window is cut at its own pauses. Each rule looks only at a piece and its neighbours in
the same section, so an edit changes the pieces around it and nowhere else, and a cold
build cuts exactly as an incremental one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.config import WhisperSettings
from pipeline.formats import TimedSegment, Timeline
from pipeline.media.audio import resample
from pipeline.speech.asr import (
    SAMPLE_RATE,
    Transcriber,
    Transcription,
    Word,
    identity,
    plan_transcriber,
    transcribe_pieces,
)
from pipeline.speech.asr.cache import TranscriptCache

SHORT = 5.0  # seconds: a piece shorter than this is heard with the next one in its section
LONGEST = 28.0  # seconds: what fits one 30 s Whisper window with the lead and tail
LEAD = 0.3  # seconds of silence before and after each piece, as between segments
PAUSE = 0.2  # seconds: the shortest run of digital silence a long piece is cut at
MARGIN = 0.1  # seconds into the pause around a segment searched for the speech's edges


@dataclass(frozen=True)
class Piece:
    start: int  # first sample in narration.wav
    end: int  # one after the last
    section: int  # the section index of its segments

    def seconds(self, rate: int) -> float:
        return (self.end - self.start) / rate


def _spans(timeline: Timeline, rate: int) -> list[tuple[int, int, int]]:
    """(first sample, end sample, section index) of each segment, a recorded section's
    segments joined (their times are estimates that may cut a word)."""
    spans: list[tuple[int, int, int]] = []
    last: TimedSegment | None = None
    for seg in timeline.segments:
        a = round((seg.start - timeline.narration_offset) * rate)
        b = round((seg.end - timeline.narration_offset) * rate)
        recorded = seg.source == "recording"
        if last is not None and recorded and last.source == "recording" \
                and last.section_index == seg.section_index:
            spans[-1] = (spans[-1][0], b, seg.section_index)
        else:
            spans.append((a, b, seg.section_index))
        last = seg
    return spans


def _speech(pcm: np.ndarray, lo: int, hi: int) -> tuple[int, int] | None:
    """The first and one-after-last non-zero sample in pcm[lo:hi]; None when silent."""
    loud = np.flatnonzero(pcm[lo:hi])
    if loud.size == 0:
        return None
    return lo + int(loud[0]), lo + int(loud[-1]) + 1


def segment_pieces(pcm: np.ndarray, rate: int, timeline: Timeline) -> list[Piece]:
    """Each segment's speech, found by its samples within the pauses around it."""
    spans = _spans(timeline, rate)
    margin = round(MARGIN * rate)
    pieces: list[Piece] = []
    for i, (a, b, section) in enumerate(spans):
        before = spans[i - 1][1] if i else 0
        after = spans[i + 1][0] if i + 1 < len(spans) else len(pcm)
        lo = max(0, a - min(margin, max(0, (a - before) // 2)))
        hi = min(len(pcm), b + min(margin, max(0, (after - b) // 2)))
        found = _speech(pcm, lo, max(lo, hi))
        if found is not None:
            pieces.append(Piece(*found, section))
    return pieces


def _silences(pcm: np.ndarray, piece: Piece, shortest: int) -> list[tuple[int, int]]:
    """Runs of digital silence inside a piece at least `shortest` samples long."""
    quiet = np.concatenate([[0], (pcm[piece.start:piece.end] == 0).view(np.int8), [0]])
    edges = np.diff(quiet)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(piece.start + int(s), piece.start + int(e))
            for s, e in zip(starts, ends, strict=True) if e - s >= shortest]


def split_long(pcm: np.ndarray, rate: int, piece: Piece) -> list[Piece]:
    """A piece longer than one window, cut at its own pauses into runs of at most
    LONGEST seconds (a stretch with no pause stays whole: Whisper walks through it)."""
    if piece.seconds(rate) <= LONGEST:
        return [piece]
    bits, start = [], piece.start
    for lo, hi in _silences(pcm, piece, round(PAUSE * rate)):
        bits.append(Piece(start, lo, piece.section))
        start = hi
    bits.append(Piece(start, piece.end, piece.section))
    return _pack(bits, rate, short=LONGEST)


def _pack(pieces: list[Piece], rate: int, short: float) -> list[Piece]:
    """Join a piece to the next of its section while the joined piece is under `short`
    seconds and the result fits in LONGEST."""
    packed: list[Piece] = []
    for piece in pieces:
        last = packed[-1] if packed else None
        if last is not None and last.section == piece.section \
                and last.seconds(rate) < short \
                and (piece.end - last.start) / rate <= LONGEST:
            packed[-1] = Piece(last.start, piece.end, piece.section)
        else:
            packed.append(piece)
    return packed


def plan(pcm: np.ndarray, rate: int, timeline: Timeline) -> list[Piece]:
    """The pieces of the narration, in order."""
    pieces = _pack(segment_pieces(pcm, rate, timeline), rate, SHORT)
    return [bit for piece in pieces for bit in split_long(pcm, rate, piece)]


def piece_key(pcm: np.ndarray, rate: int, piece: Piece, transcriber: str) -> str:
    """sha256 of the piece's samples, its rate, the lead, and what transcribes it."""
    digest = hashlib.sha256(f"{rate}|{LEAD}|{transcriber}|".encode())
    digest.update(np.ascontiguousarray(pcm[piece.start:piece.end], dtype="<f4").tobytes())
    return digest.hexdigest()


def piece_audio(pcm: np.ndarray, rate: int, piece: Piece) -> np.ndarray:
    """What Whisper hears of a piece: 16 kHz, with LEAD seconds of silence either side."""
    lead = np.zeros(round(LEAD * SAMPLE_RATE), dtype=np.float32)
    speech = resample(pcm[piece.start:piece.end], rate, SAMPLE_RATE)
    return np.concatenate([lead, speech, lead])


def _shifted(words: list[Word], origin: float) -> list[Word]:
    return [Word(w.text, max(0.0, w.start + origin), max(0.0, w.end + origin), w.probability)
            for w in words]


@dataclass
class Hearing:
    """One run over the narration: what is known and what is still to be heard."""
    pcm: np.ndarray
    rate: int
    pieces: list[Piece]
    keys: list[str]
    words: list[list[Word] | None]

    def missing(self) -> list[int]:
        return [i for i, found in enumerate(self.words) if found is None]

    def seconds(self, indices: list[int]) -> float:
        return sum(self.pieces[i].seconds(self.rate) for i in indices)


def hear_narration(pcm: np.ndarray, rate: int, timeline: Timeline, settings: WhisperSettings,
                   transcriber: Transcriber | None = None, cache: TranscriptCache | None = None,
                   progress: Callable[[float, float], None] | None = None) -> Transcription:
    """Every word of the narration (float samples at `rate`) with times in the episode:
    pieces found in the cache are shifted to where they now lie, the others are heard
    (loading the model only then) and cached. `progress` hears (seconds done, to do)."""
    cache = cache or TranscriptCache()
    planned = plan_transcriber(settings) if transcriber is None else None
    ident = planned.identity if planned else identity(
        transcriber.backend, transcriber.model, transcriber.device, settings.language)
    pieces = plan(pcm, rate, timeline)
    keys = [piece_key(pcm, rate, p, ident) for p in pieces]
    run = Hearing(pcm, rate, pieces, keys, [cache.get(k) for k in keys])
    todo = run.missing()
    compute = 0.0
    if todo:
        model = transcriber or planned.load()  # type: ignore[union-attr]
        compute = _hear(run, todo, model, cache, progress)
    origin = [timeline.narration_offset + p.start / rate - LEAD for p in pieces]
    words = [w for i, found in enumerate(run.words) for w in _shifted(found or [], origin[i])]
    backend, model_name, device = (
        (settings.backend, planned.model.name, planned.device) if planned
        else (transcriber.backend, transcriber.model, transcriber.device))
    return Transcription(words=words, backend=backend, model=model_name, device=device,
                         audio_seconds=len(pcm) / rate, compute_seconds=compute,
                         notes=planned.notes if planned else (),
                         heard_seconds=run.seconds(todo), pieces=len(pieces),
                         cached=len(pieces) - len(todo))


def _hear(run: Hearing, todo: list[int], transcriber: Transcriber, cache: TranscriptCache,
          progress: Callable[[float, float], None] | None) -> float:
    """Transcribe the pieces `todo`, caching each as it is done; the seconds it took."""
    total, done = run.seconds(todo), 0.0

    def finished(index: int, words: list[Word]) -> None:
        nonlocal done
        piece = todo[index]
        cache.put(run.keys[piece], words)
        run.words[piece] = words
        done += run.pieces[piece].seconds(run.rate)
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0.0, total)
    started = time.perf_counter()
    transcribe_pieces([piece_audio(run.pcm, run.rate, run.pieces[i]) for i in todo],
                      transcriber, finished)
    return time.perf_counter() - started
