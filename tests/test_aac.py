"""The video's sound (media/aac.py): AAC pieces cut at segment starts on a grid of whole
frames, encoded from the mastered samples, joined by stream copy; an edit that moves the
rest by whole narration slots encodes only the pieces next to it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.media import aac
from pipeline.media.audio import decode
from pipeline.media.pieces import Count, Pieces
from pipeline.stages.narrate import SLOT
from tests.slide_fixtures import CLICK, RATE, tone

START = ["ffmpeg", "-nostdin", "-hide_banner"]
QUIET = ["-v", "error", "-y"]


def test_the_grid_is_whole_frames_at_48k_and_whole_samples_at_the_source() -> None:
    assert (aac.grid(44100), aac.grid(48000), aac.grid(24000)) == (14112, 3072, 1536)
    assert 14112 * aac.RATE // 44100 == 15 * aac.FRAME and 15 * aac.FRAME * 10**6 % aac.RATE == 0
    slot = round(SLOT * 44100)
    assert slot % aac.grid(44100) == 0 and round(SLOT * 48000) % aac.grid(48000) == 0


def test_cuts_are_segment_starts_on_the_grid_after_a_long_enough_segment() -> None:
    step = aac.grid(RATE)
    found = aac.cuts([2.0, 12.0, 13.0, 30.0], RATE)
    assert found == [0, step * (12 * RATE // step), step * (30 * RATE // step)]
    moved = aac.cuts([2.0, 12.0, 13.0 + 2 * SLOT, 30.0 + 2 * SLOT], RATE)
    assert moved[:2] == found[:2] and moved[2] - found[2] == round(2 * SLOT * RATE)


def test_a_long_pause_within_a_segment_starts_a_piece_that_moves_with_it() -> None:
    """The pause between the chunks of a long paragraph is an anchor; a short one is not."""
    step, s = aac.grid(RATE), RATE
    pauses = [(10 * s, 10 * s + s // 4), (25 * s, 25 * s + s // 10)]
    found = aac.cuts([0.0, 40.0], RATE, pauses)
    assert found == [0, step * (pauses[0][1] // step), step * (40 * s // step)]
    shift = round(3 * SLOT * RATE)
    moved = aac.cuts([0.0, 40.0 + 3 * SLOT], RATE, [(a + shift, b + shift) for a, b in pauses])
    assert [m - f for m, f in zip(moved, found, strict=True)] == [0, shift, shift]


def test_pieces_keep_whole_frames_with_their_rolls() -> None:
    found = [0, 14112 * 20, 14112 * 40]
    total = 14112 * 50 + 77
    first, second, third = aac.spans(found, RATE, total)
    assert first == aac.Span(0, 0, 15360 * 20 - 1024, 15360 * 20 - 1024 + aac.POST_ROLL)
    assert second.keep == 15360 * 20 - 1024 and second.start == second.keep - aac.PRE_ROLL
    assert (second.keep - second.start) % aac.FRAME == 0 and second.end == third.keep
    last = round(total * aac.RATE / RATE) - aac.PRIMING
    assert third.end == third.stop == last
    assert aac.source_range(second, RATE, total) == (14112 * 20 - 70560, 14112 * 40 + 4704)
    assert aac.source_range(first, RATE, total)[0] == 0
    with pytest.raises(ValueError, match="pre-roll"):
        aac.spans([0, 14112], RATE, total)


def test_concat_list_keeps_each_pieces_own_samples() -> None:
    first, second = aac.spans([0, 14112 * 30], RATE, 14112 * 40)
    assert aac.concat_list([("a.m4a", first), ("b.m4a", second)]) == (
        "ffconcat version 1.0\nfile 'a.m4a'\noutpoint 9.578666\n"
        "file 'b.m4a'\ninpoint 1.600000\noutpoint 4.800000\n")


def test_encode_args_resample_and_trim_the_first_piece_only() -> None:
    tail = ["-b:a", "384k", "-aac_coder", "fast", "-aac_ms", "0", "-ac", "2", "-ar", "48000",
            "-c:a", "aac", "-map_metadata", "-1", "-profile:a", "aac_low", "a.m4a", *QUIET]
    assert aac.encode_args(Path("a.f32"), RATE, 1, Path("a.m4a"), "384k", first=True) == [
        *START, "-f", "f32le", "-ac", "1", "-ar", "44100", "-i", "a.f32", "-filter_complex",
        "[0]aresample=48000[s0];[s0]atrim=start_sample=1024[s1];[s1]asetpts=PTS-STARTPTS[s2]",
        "-map", "[s2]", *tail]
    assert aac.encode_args(Path("a.f32"), RATE, 1, Path("a.m4a"), "384k", first=False) == [
        *START, "-f", "f32le", "-ac", "1", "-ar", "44100", "-i", "a.f32", "-filter_complex",
        "[0]aresample=48000[s0]", "-map", "[s0]", *tail]


# -- real encodes ---------------------------------------------------------------------------

def block_snr(source: np.ndarray, heard: np.ndarray, block: int = 1024) -> np.ndarray:
    """Signal to error in dB, block by block (both at 48 kHz, lined up)."""
    n = min(len(source), len(heard)) // block * block
    signal = np.sqrt(np.mean(source[:n].reshape(-1, block) ** 2, axis=1))
    noise = np.sqrt(np.mean((source[:n] - heard[:n]).reshape(-1, block) ** 2, axis=1))
    return 20 * np.log10(signal / np.maximum(noise, 1e-12))


def encoded(samples: np.ndarray, starts: list[float], folder: Path, cache: Path) -> Count:
    work = folder / "work"
    work.mkdir(parents=True, exist_ok=True)
    return aac.encode(aac.Sound(samples, RATE, starts, "384k"), folder / "episode.m4a",
                      Pieces(cache), work)


STARTS = [2.0 * n for n in range(7)]  # a piece every 2 s with MIN_PIECE at 1 s


@pytest.mark.slow
def test_pieces_join_seamlessly_and_line_up_without_an_edit_list(tmp_path, monkeypatch):
    monkeypatch.setattr(aac, "MIN_PIECE", 1.0)
    samples = tone(14.0)
    made = encoded(samples, STARTS, tmp_path, tmp_path / "cache")
    assert made == Count(7, 7)
    heard = decode(tmp_path / "episode.m4a", aac.RATE)
    source = decode_array(samples, tmp_path)
    assert abs(np.flatnonzero(np.abs(heard) > 0.5)[0] / aac.RATE - CLICK) < 0.002
    snr = block_snr(source, heard)
    seams = [c * aac.RATE // RATE // aac.FRAME for c in aac.cuts(STARTS, RATE)[1:]]
    click = round(CLICK * aac.RATE / aac.FRAME)
    steady = [x for n, x in enumerate(snr[2:-2], 2) if abs(n - click) > 2]
    assert min(steady) > 40 and min(snr[s + d] for s in seams for d in (-1, 0, 1)) > 40


def decode_array(samples: np.ndarray, folder: Path) -> np.ndarray:
    """`samples` at 48 kHz, resampled as ffmpeg resamples the pieces."""
    raw = folder / "source.wav"
    from pipeline.media.audio import write_wav

    write_wav(raw, samples, RATE)
    return decode(raw, aac.RATE)


@pytest.mark.slow
def test_an_edit_that_moves_the_rest_by_whole_slots_encodes_the_pieces_next_to_it(
        tmp_path, monkeypatch):
    """A stretch 0.64 s longer at 7 s: the pieces before it are kept, the ones after it are
    found again though they moved, and the file is the one a cold encode writes."""
    monkeypatch.setattr(aac, "MIN_PIECE", 1.0)
    before = tone(14.0, click=11.0)
    assert encoded(before, STARTS, tmp_path / "a", tmp_path / "cache") == Count(7, 7)
    slots = round(2 * SLOT * RATE)
    at = round(7.0 * RATE)
    after = np.concatenate([before[:at], tone(2 * SLOT, click=99.0)[:slots], before[at:]])
    moved = [s if s < 7.0 else s + 2 * SLOT for s in STARTS]
    warm = encoded(after, moved, tmp_path / "a", tmp_path / "cache")
    assert warm.total == 7 and warm.made <= 2  # the piece with the edit, and the next
    cold = encoded(after, moved, tmp_path / "b", tmp_path / "empty")
    assert cold == Count(7, 7)
    assert (tmp_path / "a/episode.m4a").read_bytes() == (tmp_path / "b/episode.m4a").read_bytes()
    heard = decode(tmp_path / "a/episode.m4a", aac.RATE)
    assert abs(np.flatnonzero(np.abs(heard) > 0.5)[0] / aac.RATE - (11.0 + 2 * SLOT)) < 0.002
