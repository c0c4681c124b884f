"""The build lock: two builds of one episode take turns and both succeed, the stages that
run beside one another (master, captions, slides) do not wait for each other, builds of two
episodes never wait for each other, and a holder killed with -9 leaves no lock behind.
The stages run as real `pipeline` processes."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.formats import Slides
from pipeline.stages import BUILD_LOCK, LOCK_FILES
from pipeline.util import lock
from tests.slide_fixtures import REPO, SLUG, make_episode

HOLD = """
import sys
from pathlib import Path
from pipeline.util import lock

with lock.exclusive(Path(sys.argv[1]), "the child"):
    print("held", flush=True)
    sys.stdin.read()  # until the test kills this process
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, PIPELINE_ROOT=str(REPO), PIPELINE_CACHE_DIR=str(tmp_path / "cache"))


def stage(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_holder_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "build" / ".build.lock"
    child = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "held\n"
    assert lock.held_by(path) == f"the child (pid {child.pid})"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert lock.held_by(path) is None
    waited: list[str] = []
    with lock.exclusive(path, "the test", on_wait=waited.append):
        assert lock.held_by(path) == f"the test (pid {os.getpid()})"
    assert waited == [] and lock.held_by(path) is None


def test_two_builds_of_one_episode_take_turns_and_both_succeed(tmp_path: Path,
                                                               env: dict[str, str]) -> None:
    episode = make_episode(tmp_path)
    build = episode / "build"
    (build / ".slides.new-killed").mkdir()  # what a run killed with -9 left
    with lock.exclusive(build / BUILD_LOCK, "the test"):
        runs = [stage(env, "slides", str(episode)) for _ in range(2)]
        for run in runs:  # both are queued behind the test
            assert run.stderr.readline() == (
                f"slides: waiting for the test (pid {os.getpid()}) to finish building {SLUG}\n")
        assert not (build / "slides.json").exists()
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert out.startswith("slides: ")
    manifest = Slides.read(build)
    assert sorted(p.name for p in (build / "slides").iterdir()) == [
        f"{n:03d}.png" for n in range(1, len(manifest.slides) + 1)]
    assert {p.name for p in build.glob(".*")} <= LOCK_FILES  # no scratch left


def test_a_shared_lock_keeps_only_an_exclusive_one_out(tmp_path: Path) -> None:
    path = tmp_path / ".build.lock"
    with lock.shared(path, "pipeline master"), lock.shared(path, "pipeline captions"):
        other = os.open(path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)


def test_stages_beside_one_another_do_not_wait_but_one_stage_runs_once_at_a_time(
        tmp_path: Path, env: dict[str, str]) -> None:
    episode = make_episode(tmp_path)
    build = episode / "build"
    with lock.shared(build / BUILD_LOCK, "pipeline master"):  # master at work
        run = stage(env, "slides", str(episode))
        out, err = run.communicate(timeout=300)
    assert run.returncode == 0 and "waiting" not in err, err
    with lock.exclusive(build / ".build-slides.lock", "pipeline slides"):
        run = stage(env, "slides", str(episode))
        assert run.stderr.readline().startswith(
            "slides: waiting for pipeline slides (pid ")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0 and out.startswith("slides: "), err


def test_builds_of_two_episodes_do_not_wait_for_each_other(tmp_path: Path,
                                                           env: dict[str, str]) -> None:
    first = make_episode(tmp_path)
    second = Path(shutil.copytree(first, first.parent / "2023-01-13-the-week-after"))
    with lock.exclusive(first / "build" / BUILD_LOCK, "a build of the other episode"):
        run = stage(env, "slides", str(second))
        out, err = run.communicate(timeout=300)
    assert run.returncode == 0 and "waiting" not in err, err
    assert Slides.read(second / "build").slides
