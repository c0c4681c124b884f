"""`pipeline new` scaffolds an episode that the script stage accepts as it is."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.cli import main
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.publish.placeholders import SAMPLE_TITLE
from pipeline.stages.script import run
from pipeline.tools.new import full_slug, scaffold, show_note

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
    assert full_slug(" Agents  everywhere ", TODAY) == "2024-05-17-agents-everywhere"


def test_a_name_that_makes_no_slug_says_how_to_name_it(project) -> None:
    with pytest.raises(PipelineError) as caught:
        scaffold(project.root, "AI news!", TODAY)
    assert caught.value.line() == (
        f"{project.episodes}: 'AI news!' makes the episode folder '2024-05-17-ai-news!', not "
        "YYYY-MM-DD-words (name it with letters, digits and hyphens: "
        "make new EP=agents-everywhere)")


def test_the_template_carries_no_show_of_its_own(project) -> None:
    text = (scaffold(project.root, "agents", TODAY) / "issue.md").read_text(encoding="utf-8")
    for sample in (SAMPLE_TITLE, "MLAISU", "Apart", "Safety"):
        assert sample not in text


def test_new_on_the_sample_show_names_the_file_and_keys(project, capsys, monkeypatch) -> None:
    monkeypatch.chdir(project.root)
    main(["new", "agents-everywhere"])
    out, err = capsys.readouterr()
    assert out.startswith("new episode: ") and out.rstrip().endswith("agents-everywhere/issue.md")
    assert err.splitlines() == [
        "note: assets/show.toml: title, owner_email, base_url and website are still the sample "
        "show's (every intro says the title): set your own under [show] (make doctor shows each "
        "fix)"]


def test_new_on_a_producers_own_show_says_nothing_more(project, capsys, monkeypatch) -> None:
    project.set_show(title="Agents Weekly", owner_email="pod@agents-weekly.net",
             base_url="https://agents-weekly.net/pod", website="https://agents-weekly.net")
    assert show_note(project.root) == ""
    monkeypatch.chdir(project.root)
    main(["new", "agents-everywhere"])
    assert capsys.readouterr().err == ""


def test_the_note_leaves_the_intro_out_when_the_title_is_the_producers(project) -> None:
    project.set_show(title="Agents Weekly", website="https://agents-weekly.net")
    assert show_note(project.root) == (
        "note: assets/show.toml: owner_email and base_url are still the sample show's: set "
        "your own under [show] (make doctor shows each fix)")


def test_a_broken_show_toml_is_a_note_after_the_episode_is_made(project) -> None:
    (project.assets / "show.toml").write_text("[show]\ntitle = 1\n", encoding="utf-8")
    assert show_note(project.root).startswith(f"note: {project.assets / 'show.toml'}: ")
