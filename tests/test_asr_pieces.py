"""The narration cut into pieces for Whisper, the transcript cache and the pieces heard side
by side: found by their samples, so an edit re-hears only what changed and every other
piece is shifted to where it now lies. A fake backend (registered as the real ones are)
hears the bursts of a synthetic narration; tests/test_captions_incremental.py does the same
with the real voice and model."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pipeline.config import WhisperSettings
from pipeline.speech.asr import SAMPLE_RATE, Word, transcribe_pieces
from pipeline.speech.asr import pieces as P
from pipeline.speech.asr.cache import TranscriptCache
from tests import builders as build

RATE = 24000
PAUSE = 0.6


def burst(seconds: float, seed: int) -> np.ndarray:
    """Stand-in speech: never exactly zero, different for every seed."""
    rng = np.random.default_rng(seed)
    return (0.05 + 0.4 * rng.random(round(seconds * RATE))).astype(np.float32)


def quantised(audio: np.ndarray) -> np.ndarray:
    """As narration.wav holds it: 16-bit steps."""
    return np.round(audio * 32768).astype(np.int16).astype(np.float32) / 32768


def narration(parts: list[tuple[str, int, np.ndarray]], offset: float = 4.0,
              source: str = "hibari", jitter: float = 0.0, tail: float = 1.0):
    """narration.wav samples and the timeline narrate would write (times to the ms,
    `jitter` seconds added to each)."""
    clips, timed, at = [], [], 0
    for n, (sid, section, audio) in enumerate(parts):
        if n:
            clips.append(np.zeros(round(PAUSE * RATE), np.float32))
            at += round(PAUSE * RATE)
        clips.append(audio)
        start, end = offset + at / RATE, offset + (at + len(audio)) / RATE
        timed.append(build.timed(sid, round(start + jitter, 3), round(end + jitter, 3),
                                 section, source=source))
        at += len(audio)
    pcm = quantised(np.concatenate(clips + [np.zeros(round(tail * RATE), np.float32)]))
    return pcm, build.timeline(timed, offset + len(pcm) / RATE + 3.0, offset=offset)


def test_the_same_speech_gives_the_same_piece_wherever_it_lies() -> None:
    a, b = burst(6.0, 1), burst(7.0, 2)
    before, tl_before = narration([("s/paragraph-1", 1, a), ("s/paragraph-2", 1, b)])
    after, tl_after = narration([("s/paragraph-1", 1, burst(9.0, 3)),
                                 ("s/paragraph-2", 1, b)], jitter=0.0004)
    key = "test backend"
    old = [P.piece_key(before, RATE, p, key) for p in P.plan(before, RATE, tl_before)]
    new = [P.piece_key(after, RATE, p, key) for p in P.plan(after, RATE, tl_after)]
    assert len(old) == len(new) == 2
    assert old[0] != new[0] and old[1] == new[1]
    assert P.piece_key(before, RATE, P.plan(before, RATE, tl_before)[1], "another") != old[1]


def test_a_piece_is_the_speech_within_the_rounded_times() -> None:
    speech = burst(5.0, 4)
    pcm, timeline = narration([("s/paragraph-1", 1, speech)], jitter=0.0004)
    (piece,) = P.plan(pcm, RATE, timeline)
    assert piece.end - piece.start == len(speech)
    assert np.array_equal(pcm[piece.start:piece.end], quantised(speech))


@pytest.mark.parametrize("jitter", [0.0008, -0.0008])
def test_speech_at_the_narrations_very_edges_is_kept_whole(jitter: float) -> None:
    first, last = burst(4.0, 15), burst(5.0, 16)
    pcm, timeline = narration([("s/paragraph-1", 1, first), ("s/paragraph-2", 1, last)],
                              jitter=jitter, tail=0.0)
    pieces = P.plan(pcm, RATE, timeline)
    assert (pieces[0].start, pieces[-1].end) == (0, len(pcm))
    assert [p.end - p.start for p in pieces] == [len(first), len(last)]


def test_a_short_piece_is_heard_with_the_next_one_of_its_section_only() -> None:
    pcm, timeline = narration([("a/heading-1", 1, burst(1.5, 5)),
                               ("a/paragraph-1", 1, burst(8.0, 6)),
                               ("a/paragraph-2", 1, burst(2.0, 7)),
                               ("b/heading-1", 2, burst(1.5, 8)),
                               ("c/paragraph-1", 3, burst(8.0, 9))])
    pieces = P.plan(pcm, RATE, timeline)
    assert [p.section for p in pieces] == [1, 1, 2, 3]
    assert [round(p.seconds(RATE), 2) for p in pieces] == [1.5 + PAUSE + 8.0, 2.0, 1.5, 8.0]


def test_a_short_piece_before_a_long_one_stays_alone_and_a_long_one_is_whole() -> None:
    quiet = np.zeros(round(0.25 * RATE), np.float32)
    items = np.concatenate([x for n in range(4) for x in (quiet, burst(9.0, 10 + n))][1:])
    pcm, timeline = narration([("a/heading-1", 1, burst(1.5, 14)), ("a/list-1", 1, items)])
    pieces = P.plan(pcm, RATE, timeline)
    assert [round(p.seconds(RATE), 2) for p in pieces] == [1.5, 36.75]
    assert all(np.all(pcm[p.start:p.end][[0, -1]] != 0) for p in pieces)


def test_a_recorded_section_is_one_piece() -> None:
    pcm, timeline = narration([("a/paragraph-1", 1, burst(3.0, 20)),
                               ("a/paragraph-2", 1, burst(3.0, 21))], source="recording")
    (piece,) = P.plan(pcm, RATE, timeline)
    assert piece.seconds(RATE) == pytest.approx(6.0 + PAUSE)


class Hears:
    """A fake backend: one word per stretch of sound, named by its level."""
    backend, model, device = "fake", "fake-1", "cpu"

    def __init__(self, workers: int = 1, fail_on: int | None = None) -> None:
        self.workers, self.fail_on, self.heard = workers, fail_on, []

    def transcribe(self, audio: np.ndarray, progress=None) -> list[Word]:
        self.heard.append(len(audio))
        if len(self.heard) == self.fail_on:
            raise RuntimeError("the model failed")
        loud = np.flatnonzero(audio)
        start, end = loud[0] / SAMPLE_RATE, (loud[-1] + 1) / SAMPLE_RATE
        return [Word(f"w{round(float(np.abs(audio).mean()) * 1000)}", start, end, 0.9)]


SETTINGS = WhisperSettings(backend="faster-whisper", device="cpu")


def test_an_edit_hears_only_the_changed_piece_and_shifts_the_rest(tmp_path) -> None:
    a, b, c = burst(6.0, 30), burst(7.0, 31), burst(5.0, 32)
    pcm, timeline = narration([("s/paragraph-1", 1, a), ("s/paragraph-2", 1, b),
                               ("s/paragraph-3", 1, c)])
    cache = TranscriptCache(tmp_path / "cache")
    first = P.hear_narration(pcm, RATE, timeline, SETTINGS, Hears(), cache)
    edited, timeline2 = narration([("s/paragraph-1", 1, a), ("s/paragraph-2", 1, burst(9.5, 33)),
                                   ("s/paragraph-3", 1, c)])
    fake = Hears()
    again = P.hear_narration(edited, RATE, timeline2, SETTINGS, fake, cache)
    cold = P.hear_narration(edited, RATE, timeline2, SETTINGS, Hears(),
                            TranscriptCache(tmp_path / "fresh"))
    assert len(fake.heard) == 1 and (again.pieces, again.cached) == (3, 2)
    assert again.heard_seconds == pytest.approx(9.5, abs=0.001)
    assert again.words == cold.words
    assert again.words[0] == first.words[0] and again.words[1] != first.words[1]
    moved = again.words[2].start - first.words[2].start
    assert moved == pytest.approx(2.5, abs=1e-3)
    assert [w.start for w in cold.words] == pytest.approx([4.0, 4.0 + 6.6, 4.0 + 16.7],
                                                          abs=0.002)


def test_nothing_new_loads_no_model(tmp_path, monkeypatch) -> None:
    pcm, timeline = narration([("s/paragraph-1", 1, burst(4.0, 40))])
    cache = TranscriptCache(tmp_path)
    fake = Hears()
    monkeypatch.setattr("pipeline.speech.asr.Planned.load", lambda self: fake)
    monkeypatch.setattr("pipeline.speech.asr.cuda_available", lambda backend: False)
    P.hear_narration(pcm, RATE, timeline, SETTINGS, cache=cache)
    monkeypatch.setattr("pipeline.speech.asr.Planned.load",
                        lambda self: pytest.fail("loaded a model with nothing to hear"))
    again = P.hear_narration(pcm, RATE, timeline, SETTINGS, cache=cache)
    assert (again.cached, again.heard_seconds, again.compute_seconds) == (1, 0, 0)
    assert again.model == "tiny.en" and again.device == "cpu" and len(fake.heard) == 1


def test_pieces_are_heard_side_by_side_by_the_backends_workers() -> None:
    both = threading.Barrier(2, timeout=30)

    class Together(Hears):
        def transcribe(self, audio, progress=None):
            both.wait()  # breaks (and fails the test) unless two pieces are heard at once
            return super().transcribe(audio)

    pieces = [np.full(SAMPLE_RATE * n, 0.1 * n, np.float32) for n in (1, 2, 3, 4)]
    done = []
    words = transcribe_pieces(pieces, Together(workers=2), lambda i, w: done.append(i))
    assert [w[0].text for w in words] == ["w100", "w200", "w300", "w400"]
    assert sorted(done) == [0, 1, 2, 3] and set(done[:2]) == {2, 3}  # the longest first


def test_a_failure_keeps_the_pieces_already_heard(tmp_path) -> None:
    pcm, timeline = narration([("a/paragraph-1", 1, burst(6.0, 50)),
                               ("b/paragraph-1", 2, burst(4.0, 51))])
    cache = TranscriptCache(tmp_path)
    with pytest.raises(RuntimeError, match="the model failed"):
        P.hear_narration(pcm, RATE, timeline, SETTINGS, Hears(fail_on=2), cache)
    fake = Hears()
    again = P.hear_narration(pcm, RATE, timeline, SETTINGS, fake, cache)
    assert again.cached == 1 and len(fake.heard) == 1


def test_an_unreadable_cache_entry_is_a_miss(tmp_path) -> None:
    cache = TranscriptCache(tmp_path)
    cache.put("ab12", [Word("hello", 0.5, 0.75, 0.875)])
    assert cache.get("ab12") == [Word("hello", 0.5, 0.75, 0.875)]
    cache.path("ab12").write_text("[[1, 2", encoding="utf-8")
    assert cache.get("ab12") is None and cache.get("cd34") is None
