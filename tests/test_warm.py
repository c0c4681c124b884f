"""The warm process (pipeline/warm.py): a stage command hands itself to a fork of it and
ends as the fork ends, output, files, exit status and signals included. Real `pipeline`
processes, a warm process of their own in a temporary folder, stopped at the end."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import warm
from pipeline.formats import Slides
from pipeline.stages import BUILD_LOCK
from pipeline.util import lock
from tests.slide_fixtures import REPO, make_episode

pytestmark = pytest.mark.slow


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    folder = tmp_path / "warm"
    yield dict(os.environ, PIPELINE_ROOT=str(REPO), PIPELINE_CACHE_DIR=str(tmp_path / "cache"),
               PIPELINE_WARM="1", PIPELINE_WARM_DIR=str(folder), PIPELINE_WARM_IDLE="120")
    for guard in folder.glob("*.lock"):  # stop the warm process
        if pid := guard.read_text().strip():
            with pytest.raises(ProcessLookupError):
                for _ in range(50):
                    os.kill(int(pid), signal.SIGTERM)
                    time.sleep(0.1)


def stage(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "pipeline", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def warmed(env: dict[str, str], episode: Path) -> str:
    """Run slides once in a process of its own (no warm process yet, and slides starts
    none), then the stage that ends a build, which starts one; wait until it listens."""
    first = stage(env, "slides", str(episode))
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert ran_in(episode) == first.pid
    folder = Path(env["PIPELINE_WARM_DIR"])
    assert not serving(folder / f"{warm.code_hash()}.sock")
    started(env, warm.STARTERS[-1], episode)
    return out


def started(env: dict[str, str], starter: str, episode: Path) -> None:
    """Run a stage that ends a build on an episode that is not there; it fails, and starts
    a warm process all the same: wait until it listens."""
    folder = Path(env["PIPELINE_WARM_DIR"])
    last = stage(env, starter, str(episode.parent / "2023-01-01-nowhere"))
    assert last.wait(timeout=300) == 1
    for _ in range(600):
        if (folder / f"{warm.code_hash()}.sock").exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"{starter} started no warm process")


def test_the_video_stage_starts_one_too(tmp_path, env):
    """The video stage's mux leaves a core free: a warm process started then is ready
    when the build ends."""
    assert warm.STARTERS == ("video", "review")
    started(env, "video", make_episode(tmp_path))
    folder = Path(env["PIPELINE_WARM_DIR"])
    sock = folder / f"{warm.code_hash()}.sock"
    assert serving(sock)
    assert warm.stop_all(folder) == 1  # as a bench stops the one its builds started
    for _ in range(100):
        if not serving(sock):
            return
        time.sleep(0.1)
    raise AssertionError("the warm process did not stop")


def test_a_second_warm_process_leaves_before_importing_while_one_starts(tmp_path, env):
    """The one starting holds the lock while it imports; another leaves at once."""
    folder = Path(env["PIPELINE_WARM_DIR"])
    folder.mkdir(mode=0o700, parents=True)
    sock = folder / "x.sock"
    with open(sock.with_suffix(".lock"), "a+") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        second = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline",
                                 warm.SERVE, str(sock)], env=env, capture_output=True,
                                text=True, timeout=60)
    assert second.returncode == 0 and not sock.exists()
    assert "pipeline.warm" in second.stderr and "pipeline.stages" not in second.stderr


def serving(sock: Path) -> list[int]:
    """The warm processes for the socket `sock`, by their command lines."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            if warm.SERVE.encode() in cmdline and str(sock).encode() in cmdline:
                found.append(int(proc.name))
    return found


def ran_in(episode: Path) -> int:
    """The pid of the process that ran slides last: its build lock says."""
    label = (episode / "build" / ".build-slides.lock").read_text()
    return int(label.split("(pid ")[1].split(")")[0])


def test_a_stage_runs_in_a_fork_of_the_warm_process_as_it_would_alone(tmp_path, env):
    episode = make_episode(tmp_path)
    cold = warmed(env, episode)
    made = Slides.read(episode / "build")
    shutil.rmtree(episode / "build" / "video-cache")  # the same work again, the same words
    again = stage(env, "slides", str(episode))
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert ran_in(episode) != again.pid  # a fork of the warm process ran it
    assert out == cold and Slides.read(episode / "build") == made


def test_an_error_comes_back_as_one_line_and_the_exit_status(tmp_path, env):
    warmed(env, make_episode(tmp_path))
    failed = stage(env, "slides", str(tmp_path / "episodes" / "2023-01-01-nowhere"))
    out, err = failed.communicate(timeout=300)
    assert failed.returncode == 1 and out == ""
    assert err.startswith("error: ") and "no such episode folder" in err
    assert len(err.strip().splitlines()) == 1


def test_sigterm_stops_the_fork_and_the_command_ends_by_it(tmp_path, env):
    episode = make_episode(tmp_path)
    warmed(env, episode)
    (episode / "build" / "slides.json").unlink()
    with lock.exclusive(episode / "build" / BUILD_LOCK, "the test"):
        waiting = stage(env, "slides", str(episode))
        assert "slides: waiting for the test" in waiting.stderr.readline()
        waiting.send_signal(signal.SIGTERM)
        waiting.communicate(timeout=60)
        assert waiting.returncode == -signal.SIGTERM
    for _ in range(20):  # had the fork lived on, it would now draw the slides
        assert not (episode / "build" / "slides.json").exists()
        time.sleep(0.1)


def test_a_new_warm_process_stops_those_of_other_code(tmp_path, env):
    folder = Path(env["PIPELINE_WARM_DIR"])
    folder.mkdir(mode=0o700, parents=True)
    other = subprocess.Popen([sys.executable, "-m", "pipeline", warm.SERVE,
                              str(folder / "other.sock")], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        if (folder / "other.sock").exists():
            break
        time.sleep(0.1)
    (folder / "dead.lock").write_text("")  # what a warm process killed while binding left
    (folder / "dead.sock").write_text("")
    warmed(env, make_episode(tmp_path))
    assert other.wait(timeout=60) == -signal.SIGTERM
    assert not (folder / "dead.lock").exists() and not (folder / "dead.sock").exists()


def test_another_code_names_another_warm_process(tmp_path, monkeypatch):
    package = tmp_path / "pipeline"
    package.mkdir()
    (package / "stage.py").write_text("X = 1\n")
    monkeypatch.setattr(warm, "PACKAGE", package)
    before = warm.code_hash()
    os.utime(package / "stage.py", ns=(1, 1))
    assert warm.code_hash() != before


def test_only_stages_go_warm_and_never_from_a_fork(monkeypatch):
    monkeypatch.setenv("PIPELINE_WARM", "1")
    monkeypatch.delenv(warm.FORK_ENV, raising=False)
    assert warm.wanted(["master", "episodes/x"]) and not warm.wanted(["upload", "x"])
    monkeypatch.setenv(warm.FORK_ENV, "1")
    assert not warm.wanted(["master", "episodes/x"])
    monkeypatch.setenv("PIPELINE_WARM", "0")
    monkeypatch.delenv(warm.FORK_ENV)
    assert not warm.wanted(["master", "episodes/x"])


def test_a_folder_others_can_write_is_not_used(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    monkeypatch.setenv("PIPELINE_WARM_DIR", str(folder))
    assert warm.run(["slides", str(tmp_path)]) is None
    assert not list(folder.iterdir())  # nothing started there either


def test_a_warm_process_that_never_answers_is_left_for_a_process_of_its_own(
        tmp_path, monkeypatch):
    folder = tmp_path / "warm"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("PIPELINE_WARM_DIR", str(folder))
    monkeypatch.setattr(warm, "START_WAIT", 0.3)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stuck:
        stuck.bind(str(warm.socket_path()))
        stuck.listen(1)  # takes the connection, never says a word
        assert warm.run(["slides", str(tmp_path)]) is None
