"""Every way an episode source can be wrong gives one line naming the file and the fix,
a non-zero exit, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.errors import PipelineError

GOOD_FRONT = "---\ntitle: T\nnumber: 1\ndate: 2024-05-17\nsummary: S.\n---\n"


def run_script(capsys: pytest.CaptureFixture[str], episode: Path) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["script", str(episode)])
    return int(exit_info.value.code or 0), capsys.readouterr().err


def assert_one_line_error(code: int, err: str, episode: Path, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert not (episode / "build").exists()


CASES = [
    ("no front matter", "Just a body.\n", ["issue.md", "no front matter", "---"]),
    ("unclosed", "---\ntitle: T\nBody\n", ["issue.md", "not closed"]),
    ("malformed yaml", "---\ntitle: [unclosed\n---\nBody\n", ["issue.md", "malformed"]),
    ("not a mapping", "---\n- a\n- b\n---\nBody\n", ["issue.md", "not a mapping"]),
    ("missing title", "---\nnumber: 1\ndate: 2024-05-17\nsummary: S.\n---\nBody\n",
     ["issue.md", "'title'", "add 'title:'"]),
    ("missing date", "---\ntitle: T\nnumber: 1\nsummary: S.\n---\nBody\n", ["'date'"]),
    ("bad number", "---\ntitle: T\nnumber: one\ndate: 2024-05-17\nsummary: S.\n---\nB\n",
     ["issue.md", "'number'"]),
    ("zero number", "---\ntitle: T\nnumber: 0\ndate: 2024-05-17\nsummary: S.\n---\nB\n",
     ["'number'", "at least 1"]),
    ("bad date", "---\ntitle: T\nnumber: 1\ndate: 2024-13-40\nsummary: S.\n---\nB\n",
     ["'date'"]),
    ("blank title", "---\ntitle: '  '\nnumber: 1\ndate: 2024-05-17\nsummary: S.\n---\nB\n",
     ["'title'", "empty"]),
    ("unknown field", GOOD_FRONT.replace("---\n", "---\nauthr: x\n", 1) + "Body\n",
     ["issue.md", "'authr'", "remove it"]),
    ("empty body", GOOD_FRONT + "\n  \n", ["issue.md", "no body"]),
    ("unknown override", GOOD_FRONT.replace("summary: S.\n", "summary: S.\nsettings:\n"
     "  voice:\n    sped: 1.2\n") + "Body\n", ["issue.md", "'voice.sped'", "unknown setting"]),
    ("wrong override type", GOOD_FRONT.replace("summary: S.\n", "summary: S.\nsettings:\n"
     "  voice:\n    speed: fast\n") + "Body\n", ["issue.md", "'voice.speed'"]),
]


@pytest.mark.parametrize("name,text,needles", CASES, ids=[c[0] for c in CASES])
def test_bad_source(project, capsys, name: str, text: str, needles: list[str]) -> None:
    episode = project.episode("", front=text)
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, *needles)


def test_not_utf8_names_line_and_column(project, capsys) -> None:
    episode = project.episode("")
    (episode / "issue.md").write_bytes(GOOD_FRONT.encode() + b"Caf\xe9 society\n")
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, "issue.md", "not UTF-8", "line 7, column 4",
                          "save the file as UTF-8")


@pytest.mark.parametrize("slug", ["ai-improving-itself", "2023-1-6-x", "2023-01-06-Caps",
                                  "2023-01-06", "2023-02-30-bad-date", "2023-01-06-under_score"])
def test_slug_shape(project, capsys, slug: str) -> None:
    episode = project.episode("Body\n", slug=slug)
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, slug, "rename the folder")


def test_missing_issue_file(project, capsys) -> None:
    folder = project.episodes / "2024-05-17-empty"
    folder.mkdir()
    code, err = run_script(capsys, folder)
    assert_one_line_error(code, err, folder, "issue.md", "file not found")


def test_missing_episode_folder(project, capsys) -> None:
    code, err = run_script(capsys, project.episodes / "2024-05-17-nowhere")
    assert code != 0 and "no such episode folder" in err


@pytest.mark.parametrize("edit,needles", [
    (("[voice]", "[voice]\nspeeed = 1.0"), ["show.toml", "'voice.speeed'", "unknown setting"]),
    (("seed = 0", "seed = \"zero\""), ["show.toml", "'voice.seed'"]),
    (("[show]\n", "[show]\nlogo = 'x'\n"), ["show.toml", "'show.logo'"]),
    (("[feed]", "[feeds]"), ["show.toml", "'feeds'"]),
    (("title = \"ML & AI Safety Updates\"\n", ""), ["show.toml", "'show.title'", "missing"]),
    (("[voice]", "[voice"), ["show.toml", "invalid TOML"]),
])
def test_bad_show_settings(project, capsys, edit: tuple[str, str], needles: list[str]) -> None:
    show = project.assets / "show.toml"
    text = show.read_text()
    assert edit[0] in text
    show.write_text(text.replace(edit[0], edit[1], 1))
    episode = project.episode("Body\n")
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, *needles)


def test_failed_rerun_keeps_good_output(project, capsys) -> None:
    episode = project.episode("## A section\n\nSome text.\n")
    main(["script", str(episode)])
    good = (episode / "build" / "script.json").read_bytes()
    (episode / "issue.md").write_text("no front matter any more\n")
    code, err = run_script(capsys, episode)
    assert code != 0 and "no front matter" in err
    assert (episode / "build" / "script.json").read_bytes() == good


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(argv))
    return int(exit_info.value.code or 0), capsys.readouterr().err


# What no feed, ID3 tag or caption file can carry: a lone surrogate (only an escape in YAML's
# double quotes makes one) and control characters. Each used to pass the script stage and
# end in a traceback (a surrogate) or a feed error naming a deleted temporary file.
UNSAFE = [("Caf\\ud800", "U+D800, a lone surrogate"),
          ("Bell\\x07 ring", "U+0007, a control character"),
          ("Esc\\x1b[31m red", "U+001B, a control character"),
          ("Next\\x85line", "U+0085, a control character")]


@pytest.mark.parametrize("field", ["title", "summary"])
@pytest.mark.parametrize(("value", "shown"), UNSAFE, ids=[u[1][:6] for u in UNSAFE])
def test_a_character_no_feed_can_carry(project, capsys, field: str, value: str,
                                       shown: str) -> None:
    front = GOOD_FRONT.replace("title: T\n", "title: Tee\n").replace(
        f"{field}: {'Tee' if field == 'title' else 'S.'}\n", f'{field}: "{value}"\n')
    episode = project.episode("", front=front + "Body.\n")
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, "issue.md", f"field '{field}' holds {shown}",
                          "delete the escape that makes it")


def test_a_surrogate_in_a_front_matter_key_is_shown_escaped(project, capsys) -> None:
    front = GOOD_FRONT.replace("---\n", '---\nnarrate: {"Intro\\udc80": skip}\n', 1)
    episode = project.episode("", front=front + "Body.\n")
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, "issue.md", "'narrate.Intro\\udc80' holds U+DC80")


def test_a_control_character_in_the_body_names_its_line_and_column(project, capsys) -> None:
    episode = project.episode("")
    (episode / "issue.md").write_bytes(GOOD_FRONT.encode() + b"\nA bell \x07 rings.\n")
    code, err = run_script(capsys, episode)
    assert_one_line_error(code, err, episode, "issue.md", "U+0007, a control character",
                          "line 8, column 8", "delete it")


def with_mp3(episode: Path) -> Path:
    """An episode the feed counts as built (it loads the episode before opening the MP3)."""
    (episode / "build").mkdir(exist_ok=True)
    (episode / "build" / "episode.mp3").write_bytes(b"\xff\xfb" + bytes(400))
    return episode


@pytest.mark.parametrize(("value", "shown"), UNSAFE[:2], ids=["surrogate", "bell"])
def test_the_feed_names_the_issue_not_a_temporary_file(project, capsys, value: str,
                                                        shown: str) -> None:
    front = GOOD_FRONT.replace("title: T\n", f'title: "{value}"\n')
    with_mp3(project.episode("", front=front + "Body.\n"))
    code, err = run_cli(capsys, "feed", "--root", str(project.root))
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "issue.md: front matter field 'title' holds " + shown in err
    assert ".public" not in err and not (project.root / "public").exists()


def test_a_recording_named_by_a_digit_that_is_not_ascii(tmp_path: Path) -> None:
    from pipeline.formats import Section
    from pipeline.media.recordings import find_recordings

    sections = [Section(index=1, id="news", title="News", kind="body")]
    for name in ("².wav", "١.wav"):  # superscript two; Arabic-Indic one (int() reads it as 1)
        folder = tmp_path / name
        folder.mkdir()
        (folder / name).write_bytes(b"RIFF")
        with pytest.raises(PipelineError, match="names no section") as caught:
            find_recordings(folder, sections)
        assert caught.value.path == str(folder / name)
        assert "1 or news" in caught.value.line()
    (tmp_path / "01.wav").write_bytes(b"RIFF")
    assert find_recordings(tmp_path, sections) == {"news": tmp_path / "01.wav"}


# -- where an episode folder may be -------------------------------------------------------


def test_a_folder_outside_episodes_is_refused(project, capsys) -> None:
    folder = project.root / "drafts" / "2024-05-17-draft"
    folder.mkdir(parents=True)
    (folder / "issue.md").write_text(GOOD_FRONT + "Body.\n")
    code, err = run_script(capsys, folder)
    assert_one_line_error(code, err, folder, str(folder), "not in an episodes/ folder",
                          "<project>/episodes/<slug>")


def other_project(project, tmp_path: Path) -> Path:
    """A second project whose show.toml names another show, with one episode."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(project.assets, other / "assets")
    show = other / "assets" / "show.toml"
    show.write_text(show.read_text().replace('title = "ML & AI Safety Updates"',
                                             'title = "Another Show"', 1))
    folder = other / "episodes" / "2024-05-17-elsewhere"
    folder.mkdir(parents=True)
    (folder / "issue.md").write_text(GOOD_FRONT + "Body.\n")
    return folder


def test_a_linked_folder_from_another_project_is_refused(project, capsys,
                                                         tmp_path: Path) -> None:
    target = other_project(project, tmp_path)
    link = project.episodes / "2024-05-17-elsewhere"
    link.symlink_to(target, target_is_directory=True)
    code, err = run_script(capsys, link)
    assert_one_line_error(code, err, target, str(link), f"resolves to {target}",
                          "outside this project's episodes/", "move the folder into")
    assert "Another Show" not in err


def test_a_linked_episodes_folder_is_refused(project, capsys, tmp_path: Path) -> None:
    target = other_project(project, tmp_path)
    (project.root / "elsewhere").mkdir()
    (project.root / "elsewhere" / "episodes").symlink_to(target.parent)
    link = project.root / "elsewhere" / "episodes" / target.name
    code, err = run_script(capsys, link)
    assert_one_line_error(code, err, target, str(link), f"resolves to {target}")


def test_two_folders_for_one_episode(project, capsys) -> None:
    episode = project.episode("## News\n\nText.\n")
    alias = project.episodes / "2024-05-18-alias"
    alias.symlink_to(episode.name)
    code, err = run_script(capsys, alias)
    assert_one_line_error(code, err, episode, str(alias),
                          f"another name for episodes/{episode.name}", "remove the link")
    with_mp3(episode)
    code, err = run_cli(capsys, "feed", "--root", str(project.root))
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert f"{alias}: another name for episodes/{episode.name}" in err


def test_a_folder_named_through_dot_dot_is_the_folder_itself(project, capsys) -> None:
    episode = project.episode("## News\n\nText.\n")
    main(["script", str(episode / ".." / episode.name)])
    assert (episode / "build" / "script.json").is_file()


def built(episode: Path) -> Path:
    """The files the feed takes from an episode's build/: a real one-second MP3 from ffmpeg,
    captions and chapters."""
    import subprocess

    from pipeline.formats import Chapter, Chapters
    from tests.builders import timed, timeline

    build = with_mp3(episode) / "build"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=duration=1", "-b:a", "32k", str(build / "episode.mp3")], check=True)
    Chapters(chapters=[Chapter(startTime=0, endTime=1, title="Intro")]).write(build)
    timeline([timed("intro/intro-1", 0.1, 0.9, 0)], 1.0).write(build)
    (build / "captions.vtt").write_text("WEBVTT\n")
    (build / "captions.srt").write_text("")
    return episode


def test_a_feed_that_does_not_parse_names_its_template_and_the_text(project, capsys) -> None:
    show = project.assets / "show.toml"
    text = show.read_text()
    assert 'description = "' in text
    show.write_text(text.replace('description = "', 'description = "Bell\\u0007 ', 1))
    built(project.episode("Body.\n"))
    code, err = run_cli(capsys, "feed", "--root", str(project.root))
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "feed.xml.j2 does not parse" in err and "Bell\\x07" in err and "show.toml" in err
    assert ".public" not in err
