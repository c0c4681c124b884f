"""Every way an episode source can be wrong gives one line naming the file and the fix,
a non-zero exit, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import main

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
