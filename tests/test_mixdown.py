"""master's mix read by range (media/mixdown.py): each range's samples are the whole mix's,
its silences are the rendered mix's, and its key changes exactly when what makes its
samples changes."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.media import mixdown
from pipeline.media.audio import limiter_gain, running_min
from pipeline.media.loudness import fine_block
from pipeline.media.samples import InMemory

RATE, VOICE = 44100, 24000


def burst(seconds: float, seed: int, level: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * VOICE)) / VOICE
    tone = np.sin(2 * np.pi * rng.uniform(150, 400) * t) + 0.3 * rng.standard_normal(len(t))
    return (level * tone).astype(np.float32)


def narration(*parts: np.ndarray, pause: float = 0.7) -> np.ndarray:
    gap = np.zeros(int(pause * VOICE), np.float32)
    return np.concatenate([x for part in parts for x in (part, gap)])


def mix(audio: np.ndarray, offset: float = 1.0, ceiling: float = 0.25) -> mixdown.Mixed:
    """The narration's pieces with a gain of 2 and a limiter that cuts the loud one."""
    pieces = mixdown.speech_pieces(audio, VOICE, RATE, offset)
    mixdown.measured(pieces, RATE, mixdown.FigureCache(None))
    fine = fine_block(RATE)
    total = pieces[-1].end + RATE
    peaks = np.zeros(-(-total // fine), np.float32)
    for p in pieces:
        assert p.figures is not None
        at = p.start // fine
        np.maximum(peaks[at : at + len(p.figures.blocks.peak)], 2 * p.figures.blocks.peak,
                   out=peaks[at : at + len(p.figures.blocks.peak)])
    return mixdown.Mixed(pieces, limiter_gain(peaks, ceiling, 14, 10), 2.0, RATE, total)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))


PARTS = [burst(1.5, 1), burst(2.0, 2, level=0.9), burst(1.0, 3)]


def test_ranges_are_the_whole_mix_and_its_silences_are_the_rendered_ones():
    mixed = mix(narration(*PARTS))
    whole = mixed.render(0, len(mixed))
    assert mixed.gains.min() < 0.5 and 0.2 < np.abs(whole).max() <= 0.26  # limited
    rng = np.random.default_rng(7)
    for a in sorted(rng.integers(0, len(mixed), 12)):
        b = int(min(len(mixed), a + rng.integers(1, 3 * RATE)))
        assert np.array_equal(mixed.render(int(a), b), whole[a:b])
    assert mixed.silences() == InMemory(whole).silences()
    assert len(mixed.silences()) == len(PARTS) - 1


def test_a_range_keeps_its_key_when_only_what_is_silent_in_it_changes():
    before = mix(narration(*PARTS))
    after = mix(narration(PARTS[0], burst(2.0, 9, level=0.9), PARTS[2]))
    first_end = before.pieces[0].end
    quiet = (first_end - 100, first_end)  # the first piece's padding: zeros in both
    assert not before.render(*quiet).any()
    assert before.key(0, first_end) == after.key(0, first_end)
    assert before.key(*quiet) == after.key(*quiet)
    middle = (before.pieces[1].start, before.pieces[1].end)
    assert before.key(*middle) != after.key(*middle)


def test_the_same_sound_elsewhere_has_the_same_key_and_samples():
    here = mix(narration(*PARTS), offset=1.0)
    later = mix(narration(*PARTS), offset=1.0 + 64 * fine_block(RATE) / RATE)
    for a, b in zip(here.pieces, later.pieces, strict=True):
        assert a.key == b.key
    p, q = here.pieces[1], later.pieces[1]
    assert here.key(p.start - 50, p.end + 50) == later.key(q.start - 50, q.end + 50)
    assert np.array_equal(here.render(p.start, p.end), later.render(q.start, q.end))
    assert here.key(p.start, p.end) != here.key(p.start, p.end - 1)


def test_figures_come_back_from_the_cache_as_they_went_in(tmp_path):
    cache = mixdown.FigureCache(tmp_path / "figures")
    audio = burst(1.0, 4)
    found = mixdown.figures_of(np.concatenate([audio, np.zeros(500, np.float32), audio]),
                               RATE)
    cache.put("ab" * 32, found)
    back = cache.get("ab" * 32)
    assert back is not None and back.length == found.length
    assert np.array_equal(back.runs, found.runs) and len(back.runs) == 2
    assert np.array_equal(back.blocks.energy, found.blocks.energy)
    assert np.array_equal(back.blocks.peak, found.blocks.peak)
    assert back.blocks.peak.dtype == np.float32
    assert cache.get("cd" * 32) is None


@pytest.mark.parametrize(("n", "width"), [(10, 3), (1000, 29), (29, 29), (7, 7), (5, 9)])
def test_running_min_is_each_windows_least(n: int, width: int):
    values = np.random.default_rng(n).random(n)
    expected = [values[i : i + width].min() for i in range(n - width + 1)]
    assert running_min(values, width).tolist() == expected
