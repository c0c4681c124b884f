"""Disclosing the synthetic voice, set per show in `[disclosure]`: a line the voice says when
any section is synthesised, `containsSyntheticMedia` in the upload, a row on the review
page; none of it for an episode the producer recorded whole."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.config import load_show
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Script, Timeline
from pipeline.publish.youtube import metadata
from pipeline.stages import narrate
from pipeline.stages import script as script_stage
from pipeline.stages.review import narration_check
from tests import builders
from tests.narrate_fixtures import REPO, make_project

NOW = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def make_script(episode: Path) -> Script:
    return script_stage.run(load_episode(episode)).script


def disclosures(script: Script) -> list[tuple[str, int]]:
    """Each disclosure segment's id and its position in the script."""
    return [(s.id, n) for n, s in enumerate(script.segments) if s.kind == "disclosure"]


def edit_show(root: Path, old: str, new: str) -> None:
    show = root / "assets" / "show.toml"
    text = show.read_text(encoding="utf-8")
    assert old in text
    show.write_text(text.replace(old, new), encoding="utf-8")


def record(episode: Path, *sections: str) -> None:
    """Recordings named by section id (the script stage reads only their names)."""
    folder = episode / "recordings"
    folder.mkdir(exist_ok=True)
    for section in sections:
        (folder / f"{section}.wav").write_bytes(b"")


# ---------------------------------------------------------------- the spoken line


def test_with_default_settings_the_line_follows_the_introduction(project) -> None:
    script = make_script(project.sample())
    line = load_show(project.root).disclosure.line
    assert disclosures(script) == [("intro/disclosure-1", 1)]
    said = script.segments[1]
    assert script.segments[0].kind == "intro"
    assert (said.section, said.section_index, said.display) == ("intro", 0, line)
    assert said.narrated and "synthetic, computer-generated voice" in said.spoken
    assert [s.kind for s in script.segments[2:]].count("disclosure") == 0


def test_turned_off_there_is_no_line(project) -> None:
    edit_show(project.root, "spoken = true", "spoken = false")
    assert disclosures(make_script(project.sample())) == []


def test_the_outro_setting_ends_the_episode_with_it(project) -> None:
    edit_show(project.root, 'where = "intro"', 'where = "outro"')
    script = make_script(project.sample())
    assert disclosures(script) == [("outro/disclosure-1", len(script.segments) - 1)]
    assert script.segments[-2].kind == "outro"


def test_the_wording_is_the_shows_template(project) -> None:
    edit_show(project.root, 'line = "This episode uses',
              'line = "{{ show.title }} uses a synthetic voice. This episode uses')
    said = make_script(project.sample()).segments[1]
    assert said.display.startswith("ML & AI Safety Updates uses a synthetic voice.")


def test_a_recorded_intro_moves_the_line_to_the_outro(project) -> None:
    episode = project.sample()
    record(episode, "intro")
    script = make_script(episode)
    assert disclosures(script) == [("outro/disclosure-1", len(script.segments) - 1)]


def test_recorded_intro_and_outro_leave_it_to_the_first_synthesised_section(project) -> None:
    episode = project.sample()
    record(episode, "intro", "outro")
    script = make_script(episode)
    [(sid, at)] = disclosures(script)
    assert sid == "mechanistic-interpretability/disclosure-1"
    assert script.segments[at - 1].section == "mechanistic-interpretability"
    assert script.segments[at + 1].section != "mechanistic-interpretability"


def test_every_section_recorded_means_no_line(project) -> None:
    episode = project.sample()
    record(episode, *(s.id for s in make_script(episode).sections))
    assert disclosures(make_script(episode)) == []


def test_narrate_refuses_a_line_placed_before_the_recordings(project) -> None:
    episode = project.sample()
    make_script(episode)  # the line is in the intro, which is then recorded
    record(episode, "intro")
    loaded = load_episode(episode)
    with pytest.raises(PipelineError, match="disclosure line in a recorded section") as caught:
        narrate.check_disclosure(loaded, Script.read(loaded.build), {"intro"})
    assert "rebuild it: make script EP=" in caught.value.line()


# ---------------------------------------------------------------- an episode recorded whole


def reading(path: Path) -> None:
    """A producer's 'reading': a tone that comes and goes, 1.5 s."""
    expr = "0.4*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={expr}:s=48000:d=1.5", str(path)], check=True)


def upload_texts(build: Path) -> metadata.Inputs:
    (build / "youtube-title.txt").write_text("A Test Episode\n", encoding="utf-8")
    (build / "youtube-description.txt").write_text("Two short sections.\n", encoding="utf-8")
    return metadata.Inputs.of(build)


def test_a_recorded_episode_says_nothing_and_is_not_synthetic(tmp_path: Path) -> None:
    episode = make_project(tmp_path / "show")
    shutil.copy(REPO / "assets" / "pronunciations.toml", tmp_path / "show" / "assets")
    (episode / "recordings").mkdir()
    for section in ("intro", "robots", "outro"):
        reading(episode / "recordings" / f"{section}.wav")
    script = make_script(episode)
    assert disclosures(script) == []
    result = narrate.run(load_episode(episode))
    assert (result.recorded, result.synthesised, result.cached) == (len(script.narrated()), 0, 0)
    timeline = Timeline.read(episode / "build")
    assert not timeline.synthetic
    loaded = load_episode(episode)
    body = metadata.episode_video_body(loaded, upload_texts(loaded.build), NOW)
    assert body["status"]["containsSyntheticMedia"] is False
    row = narration_check(timeline, loaded)
    assert row.value.startswith("recorded") and row.ok


def test_a_synthesised_episode_is_declared_to_youtube(tmp_path: Path) -> None:
    episode = make_project(tmp_path / "show")
    build = episode / "build"
    builders.timeline([builders.timed("intro/intro-1", 0.5, 2.0, 0),
                       builders.timed("robots/heading-1", 2.5, 3.0, 1, source="recording")],
                      3.5).write(build)
    body = metadata.episode_video_body(load_episode(episode), upload_texts(build), NOW)
    assert body["status"] == {"privacyStatus": "private", "selfDeclaredMadeForKids": False,
                              "containsSyntheticMedia": True}


def test_the_review_row_says_which_and_whether_the_line_is_said(tmp_path: Path) -> None:
    episode = load_episode(make_project(tmp_path / "show"))
    voiced = builders.timed("intro/intro-1", 0.5, 2.0, 0)
    line = builders.timed("intro/disclosure-1", 2.5, 5.0, 0)
    said = narration_check(builders.timeline([voiced, line], 6.0), episode)
    assert said.value == "synthetic: hibari voice" and said.ok
    assert "said in the episode" in said.target and "containsSyntheticMedia true" in said.target
    unsaid = narration_check(builders.timeline([voiced], 6.0), episode)
    assert unsaid.status == "bad"  # the show says it, the audio does not: a stale script
