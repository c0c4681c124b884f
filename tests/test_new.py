"""`pipeline new` scaffolds an episode that the script stage accepts as it is."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.stages.script import run
from pipeline.tools.new import full_slug, scaffold

TODAY = dt.date(2024, 5, 17)


def test_scaffold_is_a_valid_episode_numbered_after_the_last(project) -> None:
    project.sample()
    folder = scaffold(project.root, "agents-everywhere", TODAY)
    assert folder.name == "2024-05-17-agents-everywhere"
    episode = load_episode(folder)
    assert episode.meta.number == 2
    assert episode.meta.date == TODAY
    assert episode.meta.title == "Agents everywhere"
    script = run(load_episode(folder)).script
    assert [s.kind for s in script.sections] == ["intro", "body", "body", "outro"]


def test_scaffold_refuses_an_existing_episode_and_bad_names(project) -> None:
    scaffold(project.root, "2024-05-01-first", TODAY)
    with pytest.raises(PipelineError, match="already exists"):
        scaffold(project.root, "2024-05-01-first", TODAY)
    with pytest.raises(PipelineError, match="YYYY-MM-DD-words"):
        scaffold(project.root, "bad name!", TODAY)


def test_full_slug() -> None:
    assert full_slug("News", TODAY) == "2024-05-17-news"
    assert full_slug("2023-01-06-ai", TODAY) == "2023-01-06-ai"
