"""The one progress layer: lines in a log, a live bar on a terminal, parts, threads, quiet."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import threading
from collections.abc import Callable
from typing import TextIO

import pytest

from pipeline.util.progress import note, parts, quiet, task


def through_pipe(work: Callable[[TextIO], None]) -> str:
    """What `work` writes to a pipe, as a log or CI job's stderr is."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        work(stream)
    with os.fdopen(read_end) as reader:
        return reader.read()


def through_terminal(work: Callable[[TextIO], None]) -> str:
    """What `work` writes to a pseudo-terminal, read as it comes so the terminal never fills."""
    master, slave = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # Linux: the other end is closed
                break
            if not data:
                break
            received.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    with os.fdopen(slave, "w") as stream:
        work(stream)
    reader.join(timeout=10)
    os.close(master)
    return b"".join(received).decode()


def test_a_log_gets_a_line_per_item_without_carriage_returns() -> None:
    def work(stream: TextIO) -> None:
        with task("narrate: synthesising", 5, file=stream) as bar:
            for _ in range(5):
                bar.advance()

    out = through_pipe(work)
    assert "\r" not in out
    assert out.splitlines() == [f"narrate: synthesising {n}/5" for n in range(1, 6)]


def test_a_long_count_is_logged_in_twentieths() -> None:
    def work(stream: TextIO) -> None:
        with task("lexicon: verifying", 200, file=stream) as bar:
            for _ in range(200):
                bar.advance()

    lines = through_pipe(work).splitlines()
    assert lines == [f"lexicon: verifying {n}/200" for n in range(10, 201, 10)]


def test_measured_work_is_logged_every_tenth_and_ends_at_100() -> None:
    def work(stream: TextIO) -> None:
        with task("captions: transcribing", unit="s", file=stream) as bar:
            for second in range(0, 97):  # the backend's last word ends before the audio does
                bar.update(second, 120.0)

    lines = through_pipe(work).splitlines()
    assert lines[0] == "captions: transcribing 10% (12/120 s)"
    assert len(lines) == 9 and lines[-2] == "captions: transcribing 80% (96/120 s)"
    assert lines[-1] == "captions: transcribing 100% (120/120 s)"


def test_bytes_are_scaled() -> None:
    def work(stream: TextIO) -> None:
        with task("upload video", 1_036_231, unit="B", file=stream) as bar:
            bar.update(518_000)

    assert through_pipe(work).splitlines() == ["upload video: 49% (0.52/1.04 MB)",
                                               "upload video: 100% (1.04/1.04 MB)"]


def test_work_that_fails_has_no_final_line() -> None:
    def work(stream: TextIO) -> None:
        with pytest.raises(RuntimeError), task("upload video", 100, unit="B",
                                               file=stream) as bar:
            bar.update(55)
            raise RuntimeError("connection lost")

    assert through_pipe(work).splitlines() == ["upload video: 55% (55/100 B)"]


def test_a_terminal_gets_a_live_bar_redrawn_in_place() -> None:
    def work(stream: TextIO) -> None:
        with contextlib.redirect_stderr(stream), task("narrate: synthesising", 4) as bar:
            for _ in range(4):
                bar.advance()

    out = through_terminal(work)  # a terminal of no size, which tqdm alone leaves blank
    assert out.count("\r") >= 2 and "█" in out
    assert re.search(r"\rnarrate: synthesising 100%\|█{20,}\| 4/4 \[", out)
    assert "narrate: synthesising 1/4\n" not in out.replace("\r\n", "\n")


def test_a_note_on_a_terminal_is_printed_above_the_bar() -> None:
    def work(stream: TextIO) -> None:
        with task("upload video", 2_000_000, unit="B", file=stream) as bar:
            bar.update(1_000_000)
            note("video upload: HTTP 503; try 2 of 10", file=stream)

    out = through_terminal(work)
    before, after = out.split("video upload: HTTP 503; try 2 of 10\r\n")
    assert before.startswith("\rupload video:") and before.endswith("\r")  # bar cleared
    assert after.startswith("\rupload video:  50%") and "upload video: 100%" in after


def test_parts_are_weighted_into_one_percentage() -> None:
    def work(stream: TextIO) -> None:
        with parts("video", {"slides": 4, "audio": 4, "mux": 1}, file=stream) as overall:
            overall.update("slides", 1.0)
            overall.update("audio", 0.5)
            overall.update("audio", 0.25)  # a late report never goes back
            overall.update("mux", 0.5)

    assert through_pipe(work).splitlines() == [
        "video: 44% (slides 100%, audio 0%, mux 0%)",
        "video: 66% (slides 100%, audio 50%, mux 0%)",
        "video: 72% (slides 100%, audio 50%, mux 50%)",
        "video: 100% (slides 100%, audio 100%, mux 100%)",
    ]


def test_updates_from_many_threads_are_counted_once_each() -> None:
    def work(stream: TextIO) -> None:
        with task("narrate: synthesising", 8 * 500, file=stream) as bar, \
                parts("video", dict.fromkeys("abcdefgh", 1), file=stream) as overall:
            def worker(part: str) -> None:
                for n in range(1, 501):
                    bar.advance()
                    overall.update(part, n / 500)

            threads = [threading.Thread(target=worker, args=(p,)) for p in "abcdefgh"]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert bar.done == 4000 and overall.fractions == dict.fromkeys("abcdefgh", 1.0)

    lines = through_pipe(work).splitlines()
    counts = [line for line in lines if line.startswith("narrate")]
    assert counts == [f"narrate: synthesising {n}/4000" for n in range(200, 4001, 200)]
    percents = [int(line.split()[1].rstrip("%")) for line in lines if line.startswith("video")]
    assert percents == sorted(percents) and len(percents) == 10 and percents[-1] == 100


def test_quiet_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    def work(stream: TextIO) -> None:
        with quiet():
            with task("narrate: synthesising", 3, file=stream) as bar:
                bar.advance(3)
            with parts("video", {"slides": 1}) as overall:
                overall.update("slides", 1.0)
            note("a note")

    assert through_pipe(work) == ""
    assert capfd.readouterr() == ("", "")


def test_stderr_is_the_default_stream(capsys: pytest.CaptureFixture[str]) -> None:
    with task("video", 2, unit="%") as bar:
        bar.update(1)
    note("video: chapters left out")
    assert capsys.readouterr().err.splitlines() == ["video: 50%", "video: 100%",
                                                     "video: chapters left out"]


def test_an_unknown_total_prints_nothing_until_it_is_told() -> None:
    def work(stream: TextIO) -> None:
        with task("captions: transcribing", unit="s", file=stream) as bar:
            bar.update(5)
        with task("captions: transcribing", unit="s", file=stream) as bar:
            bar.update(0, 30)

    assert through_pipe(work).splitlines() == ["captions: transcribing 100% (30/30 s)"]
