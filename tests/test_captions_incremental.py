"""An edited paragraph re-transcribes one piece, and the captions are a cold build's: the
real script and narrate stages, the real voice, the real tiny.en model. The episode is
built, one paragraph edited and built again with the same caches; then the edited build's
captions are made again with an empty transcript cache, and the two are compared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import srt

from pipeline.config import WhisperSettings
from pipeline.episode import load_episode
from pipeline.formats import QA, Timeline, Transcript
from tests.test_captions import REPO

pytestmark = pytest.mark.slow

SLUG = "2024-05-17-incremental-test"
ISSUE = """\
---
title: Incremental test
number: 7
date: 2024-05-17
summary: A test.
---

## Research

A team showed that a model can improve its own training data.

Another group measured how often chat assistants refuse harmless questions.

## Funding

Grants of up to fifty thousand dollars are open for projects on evaluations.
"""
EDIT = ("improve its own training data.",
        "improve its own training data, and that the gain lasts for several rounds.")


def build(episode: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> QA:
    from pipeline.stages import captions, narrate, script

    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(cache))
    for stage in (script, narrate):
        stage.run(load_episode(episode))
    return captions.run(load_episode(episode), device="cpu").qa


def cues(folder: Path) -> list[srt.Subtitle]:
    return list(srt.parse((folder / "captions.srt").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(the edited build, built incrementally; the same build's captions made cold)"""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "assets", root / "assets")
    episode = root / "episodes" / SLUG
    episode.mkdir(parents=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        first = build(episode, cache, patch)
        before = Timeline.read(episode / "build")
        (episode / "issue.md").write_text(ISSUE.replace(*EDIT), encoding="utf-8")
        edited = build(episode, cache, patch)
        cold = root / "cold"
        shutil.copytree(episode / "build", cold)
        for name in ("captions.vtt", "captions.srt", "qa.json", "transcript.json"):
            (cold / name).unlink()
        patch.setenv("PIPELINE_CACHE_DIR", str(tmp_path_factory.mktemp("empty-cache")))
        from pipeline.stages.captions import build_captions

        from_nothing = build_captions(cold, root / "assets",
                                      WhisperSettings(backend="faster-whisper", device="cpu"))
    return first, before, edited, episode / "build", from_nothing, cold


def test_the_edit_hears_one_piece_again(builds) -> None:
    first, before, edited, folder, _, _ = builds
    after = Timeline.read(folder)
    moved = [b.start - a.start for a, b in zip(before.segments, after.segments, strict=True)]
    assert moved[-1] > 1.0  # the edit moved everything after it
    assert first.pieces_from_cache == 0 and first.pieces >= 3
    # a piece is a segment (a heading joins its paragraph), so the edit re-hears one piece
    assert edited.pieces_from_cache == edited.pieces - 1
    times = {s.id: s for s in after.segments}
    changed = times["research/paragraph-1"].end - times["research/heading-1"].start
    assert edited.seconds_transcribed == pytest.approx(changed, abs=0.05)


def test_incremental_captions_are_the_cold_ones(builds) -> None:
    _, _, edited, folder, from_nothing, cold = builds
    assert from_nothing.pieces_from_cache == 0
    ours, theirs = cues(folder), cues(cold)
    assert [c.content for c in ours] == [c.content for c in theirs]
    said = " ".join(" ".join(c.content.split()) for c in ours)
    assert "and that the gain lasts for several rounds." in said
    for a, b in zip(ours, theirs, strict=True):
        assert abs((a.start - b.start).total_seconds()) <= 0.02
        assert abs((a.end - b.end).total_seconds()) <= 0.02
    assert Transcript.read(folder).words == Transcript.read(cold).words
    assert edited.raw_wer == from_nothing.raw_wer and edited.corrected_wer == 0
