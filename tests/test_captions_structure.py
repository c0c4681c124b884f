"""Captions of real speech keep the issue's structure: a `###` subheading is a cue of its
own and no cue runs from one list item into the next, with the words still exactly the
script's (real hibari speech, the real tiny.en model, as tests/test_captions.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import srt
from click.testing import CliRunner

from pipeline.formats import QA
from pipeline.speech.cues import Cue, violations
from tests import builders as build
from tests.test_captions import REPO, speak, voice

pytestmark = pytest.mark.slow
__all__ = ["voice"]  # the fixture, shared with test_captions

SLUG = "2024-05-17-structure-test"
TITLES = {"intro": "Introduction", "interpretability": "Interpretability"}
ITEMS = ["Toy models that are small but trained the same way",
         "Circuits in the wild",
         "Polysemanticity and superposition"]
SEGMENTS = [  # id, section index, display, spoken, items
    ("intro/intro-1", 0, "Welcome to the safety updates.", "Welcome to the safety updates.",
     []),
    ("interpretability/heading-1", 1, "Interpretability", "Interpretability", []),
    ("interpretability/heading-2", 1, "Open problems", "Open problems", []),
    ("interpretability/list-1", 1, " ".join(ITEMS), " ".join(f"{i}." for i in ITEMS), ITEMS),
]


def narrate(speak_with, folder: Path) -> None:
    """script.json, timeline.json and episode.mp3 as the stages before captions leave them."""
    timed, duration = speak(speak_with, folder, [(s[0], s[1], s[3]) for s in SEGMENTS])
    build.timeline(timed, duration, offset=0.0, titles=TITLES).write(folder)
    segments = [build.segment(s[0], s[2], s[3], s[1], items=s[4]) for s in SEGMENTS]
    build.script(segments, TITLES, title="Structure test", slug=SLUG, number=1,
                 summary="A test.").write(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory, voice) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("project")
    (root / "assets").mkdir()
    for name in ("show.toml", "pronunciations.toml"):
        shutil.copy(REPO / "assets" / name, root / "assets" / name)
    episode = root / "episodes" / SLUG
    episode.mkdir(parents=True)
    (episode / "issue.md").write_text(
        "---\ntitle: Structure test\nnumber: 1\ndate: 2024-05-17\nsummary: A test.\n---\n\n"
        "## Interpretability\n\nText.\n", encoding="utf-8")
    narrate(voice, episode / "build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        from pipeline.stages.captions import command

        result = CliRunner().invoke(command, [str(episode), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    yield episode / "build"
    # the model stays loaded in this process; test_captions wants to load (convert) it anew
    from pipeline.speech.asr import _loaded

    _loaded.cache_clear()


def test_subheading_and_items_each_have_their_own_cues(built: Path) -> None:
    subs = list(srt.parse((built / "captions.srt").read_text(encoding="utf-8")))
    texts = [s.content.replace("\n", " ") for s in subs]
    assert "Open problems" in texts
    listed = texts[texts.index("Open problems") + 1:]
    assert " ".join(listed) == " ".join(ITEMS)
    assert all(any(text in item for item in ITEMS) for text in listed)
    cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content.split("\n"), 0)
            for s in subs]
    assert violations(cues) == []
    qa = QA.read(built)
    assert qa.corrected_wer == 0 and qa.cue_rule_violations == []
