"""The Makefile as the producer's interface: file targets, so make rebuilds only what is
stale. Runs the real stages on two tiny episodes in a temporary project."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from pipeline.formats import Slides

ISSUE = """\
---
title: {title}
number: {number}
date: 2024-05-{day}
summary: A tiny issue for testing make.
settings:
  whisper: {{backend: faster-whisper}}
---

## First

The first paragraph is short.

## Second

A second paragraph, shared by both issues.

## Third

The end of it.
"""
EPISODES = ("2024-05-17-alpha", "2024-05-24-beta")


def make_argv(root: Path, *args: str,
              env: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, PIPELINE_CACHE_DIR=str(root / "cache"), **(env or {}))
    env.pop("MAKEFLAGS", None)
    env.pop("PIPELINE_ROOT", None)
    return (["make", "--no-print-directory", "-f", str(REPO / "Makefile"), f"VENV={sys.prefix}",
             "SETUP=", *args], env)


def make(root: Path, *args: str,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    argv, env = make_argv(root, *args, env=env)
    return subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=600)


def start_make(root: Path, *args: str) -> subprocess.Popen[str]:
    """make in a process group of its own, as a terminal starts it."""
    argv, env = make_argv(root, *args)
    return subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def ran(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    """(stage, episode slug) for every pipeline command make ran."""
    return re.findall(r"/pipeline (\w[\w-]*) episodes/([\w-]+)", result.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("make")
    shutil.copytree(REPO / "assets", root / "assets")
    for n, slug in enumerate(EPISODES, 1):
        (root / "episodes" / slug).mkdir(parents=True)
        (root / "episodes" / slug / "issue.md").write_text(
            ISSUE.format(title=slug[11:].title(), number=n, day=slug[8:10]))
    result = make(root, "-j2", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


EP_TARGETS = ("episode", "script", "narrate", "master", "captions", "slides", "video", "review",
              "upload", "lexicon", "clean")


@pytest.fixture
def two(tmp_path: Path) -> Path:
    """A project with two episodes and nothing built."""
    root = tmp_path / "project"
    shutil.copytree(REPO / "assets", root / "assets")
    for n, slug in enumerate(EPISODES, 1):
        (root / "episodes" / slug).mkdir(parents=True)
        (root / "episodes" / slug / "issue.md").write_text(
            ISSUE.format(title=slug[11:].title(), number=n, day=slug[8:10]))
    return root


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """make stopped before any rule: exit 2, nothing run, one line on stderr; that line."""
    assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "No rule" not in lines[0], result.stderr
    return lines[0]


@pytest.mark.parametrize("target", EP_TARGETS)
def test_a_mistyped_ep_is_one_line_with_the_closest_slugs(two: Path, target: str) -> None:
    line = refused(make(two, target, "EP=2024-05-17-alpah"))
    assert line.endswith("*** EP=2024-05-17-alpah: no episodes/2024-05-17-alpah/issue.md; "
                         "closest: 2024-05-17-alpha.  Stop.")


@pytest.mark.parametrize(("ep", "expected"), [
    ("beta", "EP=beta: not an episode slug (YYYY-MM-DD-words); closest: 2024-05-24-beta"),
    ("2024-05-18-alpha", "EP=2024-05-18-alpha: no episodes/2024-05-18-alpha/issue.md; "
                         "closest: 2024-05-17-alpha"),
    ("zzz", "EP=zzz: not an episode slug (YYYY-MM-DD-words); none is close; the latest: "
            "2024-05-24-beta, 2024-05-17-alpha"),
    ("it's", "EP=it's: not an episode slug (YYYY-MM-DD-words); none is close; the latest: "
             "2024-05-24-beta, 2024-05-17-alpha"),
])
def test_what_the_ep_line_says(two: Path, ep: str, expected: str) -> None:
    assert refused(make(two, "episode", f"EP={ep}")).endswith(f"*** {expected}.  Stop.")


def test_a_right_ep_passes_the_check_and_reaches_the_rules(two: Path) -> None:
    result = make(two, "-n", "script", f"EP={EPISODES[1]}")
    assert result.returncode == 0, result.stderr
    assert ran(result) == [("script", EPISODES[1])]


@pytest.mark.parametrize("ep", ["../..", "..", f"{EPISODES[0]}/../..", "/", "", " "])
def test_clean_deletes_nothing_outside_episodes(two: Path, ep: str) -> None:
    outside = two.parent / "build" / "keep.txt"  # where episodes/../../build points
    outside.parent.mkdir()
    outside.write_text("precious")
    assert "EP=" in refused(make(two, "clean", f"EP={ep}"))
    assert outside.read_text() == "precious"


# Each would run a command or reach outside episodes/ if EP went anywhere unchecked:
# make itself expands $(...) in a variable given on the command line or in the environment.
HOSTILE = ["x;touch pwned", f"{EPISODES[0]};touch pwned", "$(shell touch pwned)",
           "$$(touch pwned)", "`touch pwned`", "a b", "it's", 'say "x"', "a\nb",
           f"{EPISODES[0]}\ntouch pwned", "/tmp", f"{EPISODES[0]}/", "episodes/" + EPISODES[0]]


@pytest.mark.parametrize("goal", ["clean", "episode", "upload", "new", "help", "feed"])
@pytest.mark.parametrize("ep", HOSTILE)
def test_no_ep_runs_a_command_whatever_the_goal(two: Path, goal: str, ep: str) -> None:
    ep = ep.replace("\\n", "\n")
    for where in ("argument", "environment"):
        env = {"EP": ep} if where == "environment" else {}
        args = ["-n", goal] + ([] if env else [f"EP={ep}"])
        result = make(two, *args, env=env)
        assert not (two / "pwned").exists(), (where, result.stdout + result.stderr)
        if goal in ("clean", "episode", "upload"):
            assert "EP=" in refused(result)


@pytest.mark.parametrize("ep", ["x;touch pwned", "`touch pwned`", "$(shell touch pwned)",
                                "$$(touch pwned)", "x'; touch pwned; '"])
def test_make_new_takes_any_words_as_words(two: Path, ep: str) -> None:
    result = make(two, "new", f"EP={ep}")
    assert not (two / "pwned").exists(), result.stdout + result.stderr


def test_a_linked_episode_folder_is_refused_and_what_it_links_to_kept(two: Path) -> None:
    elsewhere = two.parent / "elsewhere" / "2024-05-31-gamma"
    (elsewhere / "build").mkdir(parents=True)
    (elsewhere / "issue.md").write_text(ISSUE.format(title="G", number=3, day="31"))
    (elsewhere / "build" / "keep.txt").write_text("precious")
    (two / "episodes" / "2024-05-31-gamma").symlink_to(elsewhere)
    line = refused(make(two, "clean", "EP=2024-05-31-gamma"))
    assert f"EP=2024-05-31-gamma: episodes/2024-05-31-gamma resolves to {elsewhere}" in line
    (two / "episodes" / "2024-05-31-alias").symlink_to(EPISODES[0])
    line = refused(make(two, "clean", "EP=2024-05-31-alias"))
    assert f"episodes/2024-05-31-alias is another name for episodes/{EPISODES[0]}" in line
    assert (elsewhere / "build" / "keep.txt").read_text() == "precious"


def test_clean_leaves_a_linked_build_folder_and_what_it_points_to(two: Path) -> None:
    elsewhere = two.parent / "scratch"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("precious")
    (two / "episodes" / EPISODES[0] / "build").symlink_to(elsewhere)
    result = make(two, "clean", f"EP={EPISODES[0]}")
    assert result.returncode == 2 and "build is a link" in result.stderr
    assert (elsewhere / "keep.txt").read_text() == "precious"


@pytest.mark.parametrize("name", ["2024-05-31-x;touch pwned;true", "2024-05-31-x;id>pwned;true",
                                  "2024-05-31-$(shell touch pwned)", "2024-05-31-it's"])
def test_a_folder_name_is_never_read_as_a_command(two: Path, name: str) -> None:
    """`make all` and `make feed` list episodes/*/issue.md: a `;` in a folder's name used to
    end the rule line there, and make ran the rest as the rule's recipe."""
    (two / "episodes" / "2024-05-31-x").mkdir()
    (two / "episodes" / name).mkdir()
    (two / "episodes" / name / "issue.md").write_text(ISSUE.format(title="X", number=3,
                                                                      day="31"))
    for goal in ("all", "feed"):
        result = make(two, "-n", goal)
        assert not (two / "pwned").exists(), result.stdout + result.stderr
        assert "pwned" not in result.stdout, result.stdout


def test_every_rule_that_reads_ep_is_checked_first() -> None:
    """A rule whose line names EP (or E, B, QEP, made from it) is a goal ep_check guards."""
    text = (REPO / "Makefile").read_text()
    goals = set(re.search(r"^EP_GOALS := (.*)$", text, re.M).group(1).split()) | {"new"}
    readers, target = set(), None
    for line in text.splitlines():
        if rule := re.match(r"^([a-z][\w-]*):(?!=)", line):
            target = rule.group(1)
        elif not line.startswith("\t"):
            target = None if not line.startswith(" ") else target
        if target and re.search(r"\$\((EP|E|B|QEP)\)", line):
            readers.add(target)
    assert readers and readers <= goals, readers - goals


def test_clean_keeps_the_youtube_record(two: Path) -> None:
    build = two / "episodes" / EPISODES[0] / "build"
    (build / "slides").mkdir(parents=True)
    for name in ("script.json", "slides/001.png", "youtube.json"):
        (build / name).write_text("x")
    assert make(two, "clean", f"EP={EPISODES[0]}").returncode == 0
    assert [p.name for p in build.rglob("*")] == ["youtube.json"]


def test_make_new_is_not_checked_and_names_the_show_file(two: Path) -> None:
    result = make(two, "new", "EP=agents everywhere")
    assert result.returncode == 0, result.stderr
    [made] = two.glob("episodes/*-agents-everywhere/issue.md")
    assert f"new episode: {made}" in result.stdout
    assert result.stderr.startswith("note: assets/show.toml: title, owner_email, base_url and "
                                    "website are still the sample show's")
    assert refused(make(two, "new")).endswith(
        "*** make new: name the episode: make new EP=<words>.  Stop.")


def test_help_is_the_default_goal_and_lists_the_targets() -> None:
    out = subprocess.run(["make", "--no-print-directory", "-f", str(REPO / "Makefile")],
                         cwd=REPO, capture_output=True, text=True, check=True).stdout
    for target in ("demo", "test", "new", "episode", "upload", "feed", "publish", "all",
                   "clean", "doctor", "bench", "review", "captions", "video"):
        assert re.search(rf"^  {target} +\S", out, re.M), target


@pytest.mark.slow
def test_all_in_parallel_builds_every_episode(built: Path) -> None:
    for slug in EPISODES:
        build = built / "episodes" / slug / "build"
        for name in ("script.json", "timeline.json", "episode.mp3", "captions.vtt",
                     "video.mp4", "youtube-description.txt", "review.html"):
            assert (build / name).stat().st_size > 0, (slug, name)


@pytest.mark.slow
def test_a_second_make_rebuilds_nothing(built: Path) -> None:
    assert make(built, "-q", "all").returncode == 0
    again = make(built, "all")
    assert again.returncode == 0 and ran(again) == []


@pytest.mark.slow
def test_a_template_edit_reruns_only_what_reads_it(built: Path) -> None:
    template = built / "assets" / "templates" / "youtube-description.txt.j2"
    template.write_text(template.read_text() + "\nThanks for watching.\n")
    result = make(built, "all")
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(ran(result)) == sorted((stage, slug) for slug in EPISODES
                                         for stage in ("video", "review"))
    description = built / "episodes" / EPISODES[0] / "build" / "youtube-description.txt"
    assert "Thanks for watching." in description.read_text()


@pytest.mark.slow
def test_a_paragraph_edit_resynthesises_one_segment_of_one_episode(built: Path) -> None:
    issue = built / "episodes" / EPISODES[0] / "issue.md"
    issue.write_text(issue.read_text().replace("is short.", "is brief."))
    result = make(built, "all")
    assert result.returncode == 0, result.stderr[-2000:]
    stages = [stage for stage, slug in ran(result)]
    assert {slug for _, slug in ran(result)} == {EPISODES[0]}
    assert stages[0] == "script" and set(stages) == {
        "script", "narrate", "master", "captions", "slides", "video", "review"}
    # 9 segments: the intro, the disclosure line, 6 of the issue, the outro
    assert "(1 synthesised, 8 from cache" in result.stdout + result.stderr


@pytest.mark.slow
def test_the_real_chain_gives_captions_in_the_script_words_on_time(built: Path) -> None:
    import html

    import webvtt

    from pipeline.formats import QA, Script, Timeline
    from pipeline.speech.align import edit_distance, tokens

    build = built / "episodes" / EPISODES[1] / "build"
    script, timeline = Script.read(build), Timeline.read(build)
    cues = list(webvtt.read(str(build / "captions.vtt")))
    said = tokens(" ".join(seg.display for seg in script.segments))
    shown = tokens(html.unescape(" ".join(cue.text for cue in cues)))  # VTT escapes &
    assert edit_distance(said, shown) / len(said) <= 0.02
    qa = QA.read(build)
    assert 0 <= qa.corrected_wer <= 0.02 and qa.raw_wer >= qa.corrected_wer
    starts = sorted(seconds(c.start) for c in cues)
    for section in script.sections:
        first = min(s.start for s in timeline.segments if s.section_index == section.index)
        cue = next(start for start in starts if start >= first - 0.3)
        assert abs(cue - first) <= 0.3, (section.id, cue, first)


def seconds(stamp: str) -> float:
    """'00:01:02.500' -> 62.5 (webvtt-py's start_in_seconds drops the milliseconds)."""
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_the_make_check_knows_slugs_as_the_pipeline_does() -> None:
    from pipeline.episode import SLUG_RE
    from pipeline.tools import ep_check

    assert ep_check.SLUG_RE.pattern == SLUG_RE.pattern


@pytest.mark.slow
def test_two_makes_of_one_episode_take_turns_and_keep_every_output(built: Path) -> None:
    from pipeline.stages import BUILD_LOCK, LOCK_FILES
    from pipeline.util import lock

    slug = EPISODES[0]
    build = built / "episodes" / slug / "build"
    (built / "assets" / "templates" / "slides.toml").touch()  # slides, video, review again
    with lock.exclusive(build / BUILD_LOCK, "the test"):
        runs = [start_make(built, "episode", f"EP={slug}") for _ in range(2)]
        for run in runs:
            assert run.stderr.readline() == (
                f"slides: waiting for the test (pid {os.getpid()}) to finish building {slug}\n")
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err[-2000:]
        assert [stage for stage, _ in ran(subprocess.CompletedProcess([], 0, out))] == [
            "slides", "video", "review"]
    assert make(built, "-q", "episode", f"EP={slug}").returncode == 0  # nothing deleted
    for name in ("slides.json", "thumbnail.jpg", "video.mp4", "review.html"):
        assert (build / name).stat().st_size > 0, name
    assert {p.name for p in build.glob(".*")} <= LOCK_FILES  # no scratch left


def test_a_make_stopped_while_it_waits_keeps_the_other_builds_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.episode import load_episode
    from pipeline.stages import BUILD_LOCK, slides
    from pipeline.util import lock
    from tests.slide_fixtures import SLUG, make_episode

    shutil.copytree(REPO / "assets", tmp_path / "assets")
    build = make_episode(tmp_path) / "build"
    sources = [*(tmp_path / "assets").rglob("*"), build.parent / "issue.md"]
    for n, path in enumerate([*sources, build / "script.json", build / "timeline.json"]):
        os.utime(path, (1e9 + n, 1e9 + n))  # script and timeline up to date, in this order
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    with lock.exclusive(build / BUILD_LOCK, "the other build"):
        waiting = start_make(tmp_path, "slides", f"EP={SLUG}")
        assert "slides: waiting for the other build" in waiting.stderr.readline()
        slides.run(load_episode(build.parent))  # the other build writes the slides
        os.killpg(waiting.pid, signal.SIGTERM)  # as Ctrl-C or a closed terminal would
        _, err = waiting.communicate(timeout=60)
    assert waiting.returncode != 0 and "Deleting" not in err, err
    assert Slides.read(build).slides and (build / "thumbnail.jpg").stat().st_size > 0
