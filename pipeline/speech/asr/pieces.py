"""The narration cut into pieces that Whisper hears one at a time, so that a piece whose
samples did not change is never transcribed again.

A piece is one segment's speech (a recorded section's whole recording), found by its
samples and not by the rounded times of timeline.json: the span is widened into the
pauses around it and the silence trimmed off, so the same speech gives the same samples
wherever it lies. A piece shorter than SHORT (a heading) is heard with the next piece of
its section when the two fit one Whisper window, as it would be in one long transcription;
a piece longer than a window is heard whole, Whisper walking through it window by window.
Each rule looks only at a piece and the next, so an edit changes the pieces it touches and
nowhere else, and a cold build cuts exactly as an incremental one.

On the sample (bench/bench_asr.py), hearing each segment on its own costs a window per
heading; joining the headings saves about a quarter of the time for 0.1% more raw WER.
Cutting long lists at their pauses into window-sized pieces cost 0.2% more raw WER and
saved nothing cold, so a list is one piece, heard again whole when one item changes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from math import gcd

import numpy as np

from pipeline.config import WhisperSettings
from pipeline.formats import TimedSegment, Timeline
from pipeline.media.polyphase import resample_poly
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

SHORT = 3.0  # seconds: a piece shorter than this is heard with the next one in its section
WINDOW = 28.0  # seconds: what fits one 30 s Whisper window with the lead and tail
LEAD = 0.3  # seconds of silence before and after each piece, as between segments
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
    for i, (a, b, section) in enumerate(spans):  # never past half way to a neighbour
        before = (a - spans[i - 1][1]) // 2 if i else margin
        after = (spans[i + 1][0] - b) // 2 if i + 1 < len(spans) else margin
        lo = max(0, a - min(margin, max(0, before)))
        hi = min(len(pcm), b + min(margin, max(0, after)))
        found = _speech(pcm, lo, max(lo, hi))
        if found is not None:
            pieces.append(Piece(*found, section))
    return pieces


def _pack(pieces: list[Piece], rate: int) -> list[Piece]:
    """Join a piece shorter than SHORT to the next of its section when both fit a window."""
    packed: list[Piece] = []
    for piece in pieces:
        last = packed[-1] if packed else None
        if last is not None and last.section == piece.section \
                and last.seconds(rate) < SHORT and (piece.end - last.start) / rate <= WINDOW:
            packed[-1] = Piece(last.start, piece.end, piece.section)
        else:
            packed.append(piece)
    return packed


def plan(pcm: np.ndarray, rate: int, timeline: Timeline) -> list[Piece]:
    """The pieces of the narration, in order."""
    return _pack(segment_pieces(pcm, rate, timeline), rate)


def piece_key(pcm: np.ndarray, rate: int, piece: Piece, transcriber: str) -> str:
    """sha256 of the piece's samples, its rate, the lead, and what transcribes it."""
    digest = hashlib.sha256(f"{rate}|{LEAD}|{transcriber}|".encode())
    digest.update(np.ascontiguousarray(pcm[piece.start:piece.end], dtype="<f4").tobytes())
    return digest.hexdigest()


def for_whisper(audio: np.ndarray, rate: int) -> np.ndarray:
    """`audio` at Whisper's 16 kHz through scipy's polyphase filter (Kaiser, beta 5, worked
    out in numpy: media/polyphase.py), not the soxr used everywhere else: on the sample,
    Whisper got 4.0% of the words wrong from this and 4.5% from soxr, at any of its
    qualities."""
    if rate == SAMPLE_RATE:
        return audio.astype(np.float32)
    g = gcd(rate, SAMPLE_RATE)
    return resample_poly(audio, SAMPLE_RATE // g, rate // g).astype(np.float32)


def piece_audio(pcm: np.ndarray, rate: int, piece: Piece) -> np.ndarray:
    """What Whisper hears of a piece: 16 kHz, with LEAD seconds of silence either side."""
    lead = np.zeros(round(LEAD * SAMPLE_RATE), dtype=np.float32)
    speech = for_whisper(pcm[piece.start:piece.end], rate)
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


@dataclass(frozen=True)
class Hearer:
    """What transcribes, known before any model is loaded."""
    identity: str  # the cache key's part for it
    backend: str
    model: str
    device: str
    notes: tuple[str, ...]
    load: Callable[[], Transcriber]


def hearer(settings: WhisperSettings, transcriber: Transcriber | None = None) -> Hearer:
    """The given transcriber, or the one the settings pick (loaded only when asked)."""
    if transcriber is not None:
        given = transcriber
        return Hearer(identity(given.backend, given.model, given.device, settings.language),
                      given.backend, given.model, given.device, (), lambda: given)
    planned = plan_transcriber(settings)
    return Hearer(planned.identity, settings.backend, planned.model.name, planned.device,
                  planned.notes, planned.load)


def hear_narration(pcm: np.ndarray, rate: int, timeline: Timeline, settings: WhisperSettings,
                   transcriber: Transcriber | None = None, cache: TranscriptCache | None = None,
                   progress: Callable[[float, float], None] | None = None) -> Transcription:
    """Every word of the narration (float samples at `rate`) with times in the episode:
    pieces found in the cache are shifted to where they now lie, the others are heard
    (loading the model only then) and cached. `progress` hears (seconds done, to do)."""
    cache = cache or TranscriptCache()
    who = hearer(settings, transcriber)
    pieces = plan(pcm, rate, timeline)
    keys = [piece_key(pcm, rate, p, who.identity) for p in pieces]
    run = Hearing(pcm, rate, pieces, keys, [cache.get(k) for k in keys])
    todo = run.missing()
    compute = _hear(run, todo, who.load(), cache, progress) if todo else 0.0
    origin = [timeline.narration_offset + p.start / rate - LEAD for p in pieces]
    words = [w for i, found in enumerate(run.words) for w in _shifted(found or [], origin[i])]
    return Transcription(words=words, backend=who.backend, model=who.model, device=who.device,
                         audio_seconds=len(pcm) / rate, compute_seconds=compute,
                         notes=who.notes, heard_seconds=run.seconds(todo), pieces=len(pieces),
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
