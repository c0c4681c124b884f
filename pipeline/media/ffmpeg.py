"""The one way the pipeline runs ffmpeg and ffprobe.

A command is built as a graph with ffmpeg-python (`ffmpeg.input(...).filter(...).output(...)`,
`ffmpeg.merge_outputs`, `.global_args`), compiled to an argument list by `compile_argv`
(pure, so tests compare it with an expected list) and run by `run`: an argument list, never
a shell string, stdin never read. Every failure is one `FFmpegError` carrying the argv and
the end of ffmpeg's stderr; a missing ffmpeg or ffprobe is named with the one INSTALL hint.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ffmpeg
from ffmpeg.nodes import OutputStream

from pipeline.config import cache_dir
from pipeline.errors import PipelineError
from pipeline.util.fsutil import write_text
from pipeline.util.hashing import file_identity

INSTALL = "install Debian's ffmpeg: `make setup` or `apt-get install ffmpeg`"
BASE_ARGS = ("-nostdin", "-hide_banner")
TAIL_LINES = 20  # lines of stderr an FFmpegError keeps
SHOWN_LINES = 2  # of those, the ones its one-line message shows
PROBE_VERSION = "1"  # part of every kept probe's key: bump when what is kept changes
ProbeInfo = dict[str, Any]  # what ffprobe printed, as parsed JSON


class FFmpegError(PipelineError):
    """ffmpeg or ffprobe is missing or failed: `argv` is what ran, `stderr_tail` its last
    lines of stderr; the message shows what failed and the last of those lines."""

    def __init__(self, message: str, argv: list[str], stderr_tail: list[str],
                 path: Path | str | None = None, fix: str | None = None):
        self.argv = argv
        self.stderr_tail = stderr_tail
        super().__init__(message, path, fix)


@dataclass(frozen=True)
class Result:
    stdout: bytes  # raw output on a pipe (PCM, JSON); empty when -progress lines were read
    stderr: str  # where loudnorm and ebur128 print their measurements


def compile_argv(graph: OutputStream) -> list[str]:
    """The argument list of an ffmpeg-python graph, with stdin never read and no banner."""
    return ["ffmpeg", *BASE_ARGS, *ffmpeg.get_args(graph)]


def quiet_argv(out: OutputStream, *global_args: str) -> list[str]:
    """The argv of an output graph, quiet unless it fails (`-v error`), overwriting its
    file (`-y`)."""
    return compile_argv(out.global_args(*global_args, "-v", "error").overwrite_output())


def probe_argv(path: Path | str) -> list[str]:
    """ffprobe's format and streams as JSON (ffmpeg.probe would raise its own error type)."""
    return ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)]


def encoders_argv() -> list[str]:
    """ffmpeg's encoder listing (no input or output, so no graph)."""
    return ["ffmpeg", *BASE_ARGS, "-encoders"]


def version_argv() -> list[str]:
    """ffmpeg's version and build (no input or output, so no graph)."""
    return ["ffmpeg", *BASE_ARGS, "-version"]


def ffmetadata(chapters: Sequence[tuple[float, float, str]]) -> str:
    """An FFMETADATA1 file holding chapters (start and end in seconds, title), in time order
    and in milliseconds; the characters that file format reserves are escaped."""
    lines = [";FFMETADATA1"]
    for start, end, title in sorted(chapters):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(start * 1000)}",
                  f"END={round(end * 1000)}", "title=" + re.sub(r"([=;#\\\n])", r"\\\1", title)]
    return "\n".join(lines) + "\n"


def progress_seconds(line: str) -> float | None:
    """Seconds done, from one line of ffmpeg's `-progress` output (`out_time_us=...`)."""
    key, _, value = line.strip().partition("=")
    if key != "out_time_us" or not value.lstrip("-").isdigit():
        return None
    return max(0.0, int(value) / 1_000_000)


def encoder_names(listing: str) -> set[str]:
    """The encoder names in `ffmpeg -encoders` output."""
    return {parts[1] for line in listing.splitlines() if len(parts := line.split()) > 1}


def missing_encoders(needed: dict[str, str], names: Iterable[str]) -> list[str]:
    """The descriptions of the `needed` encoders (name -> description) not among `names`."""
    have = set(names)
    return [desc for name, desc in needed.items() if name not in have]


# ---------------------------------------------------------------- running


def run(argv: list[str], what: str, path: Path | str | None = None, fix: str | None = None,
        *, cwd: Path | None = None,
        on_seconds: Callable[[float], None] | None = None) -> Result:
    """Run ffmpeg or ffprobe. stdout comes back as bytes or, given `on_seconds`, is read as
    `-progress pipe:1` lines whose times are passed on as they come; stderr comes back as
    text. A missing tool or a failure raises FFmpegError: `what` failed, for `path`, `fix`."""
    if shutil.which(argv[0]) is None:
        raise FFmpegError(f"{argv[0]} not found", argv, [], path, INSTALL)
    with tempfile.TemporaryFile() as err:
        code, out = _spawn(argv, err, cwd, on_seconds)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if code != 0:
        tail = stderr.strip().splitlines()[-TAIL_LINES:]
        last = " | ".join(line.strip() for line in tail[-SHOWN_LINES:])
        raise FFmpegError(f"{what}: {last or f'exit status {code}'}", argv, tail, path, fix)
    return Result(out, stderr)


def _spawn(argv: list[str], err: IO[bytes], cwd: Path | None,
           on_seconds: Callable[[float], None] | None) -> tuple[int, bytes]:
    """stderr goes to a file, so a full pipe never stalls ffmpeg; on any exception (Ctrl-C
    included) the child is killed before it is waited for."""
    with subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                          cwd=cwd) as proc:
        assert proc.stdout is not None
        try:
            out = _follow(proc.stdout, on_seconds) if on_seconds else proc.stdout.read()
        except BaseException:
            proc.kill()
            raise
        return proc.wait(), out


def _follow(stdout: IO[bytes], on_seconds: Callable[[float], None]) -> bytes:
    for line in stdout:
        if (seconds := progress_seconds(line.decode("ascii", "replace"))) is not None:
            on_seconds(seconds)
    return b""


def probe(path: Path | str, fix: str | None = None) -> ProbeInfo:
    """ffprobe's format and streams of a media file."""
    result = run(probe_argv(path), "ffprobe cannot read the file", path, fix)
    return json.loads(result.stdout)


@functools.cache
def version() -> str:
    """What `ffmpeg -version` says: the build and its libraries' versions."""
    return _kept("version", version_argv(), "ffmpeg cannot say its version")


def _kept(name: str, argv: list[str], what: str) -> str:
    """What ffmpeg prints for `argv`, kept in the cache by the binary's path, size and time:
    starting ffmpeg to ask took a quarter second for the version, 60 ms for the encoders."""
    found = shutil.which("ffmpeg")
    kept = None
    if found:
        key = hashlib.sha256(file_identity(found).encode()).hexdigest()
        kept = cache_dir() / "ffmpeg" / f"{name}-{key[:32]}.txt"
        with contextlib.suppress(OSError):
            return kept.read_text(encoding="utf-8")
    said = run(argv, what, fix=INSTALL).stdout.decode("utf-8", "replace")
    if kept is not None:
        write_text(kept, said)
    return said


def encoders() -> set[str]:
    """The names of the encoders this ffmpeg has."""
    return encoder_names(_kept("encoders", encoders_argv(), "ffmpeg cannot list its encoders"))


def require_encoders(needed: dict[str, str]) -> None:
    """Raise when this ffmpeg lacks one of the `needed` encoders (name -> description)."""
    if missing := missing_encoders(needed, encoders()):
        raise PipelineError(f"this ffmpeg lacks the {', '.join(missing)}",
                            shutil.which("ffmpeg"), INSTALL)


def probe_with_chapters(path: Path | str, fix: str | None = None) -> ProbeInfo:
    """ffprobe's format, streams and chapters (in the order the file stores them)."""
    argv = [*probe_argv(path)[:-1], "-show_chapters", str(path)]
    return json.loads(run(argv, "ffprobe cannot read the file", path, fix).stdout)


def _probe_entry(path: Path | str) -> Path | None:
    """Where a probe of `path` is kept; None without ffprobe or the file (probing says so)."""
    if (tool := shutil.which("ffprobe")) is None:
        return None
    try:
        key = f"{PROBE_VERSION}|{file_identity(tool)}|{file_identity(path)}"
    except OSError:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    return cache_dir() / "ffprobe" / digest[:2] / f"{digest}.json"


def probed(path: Path | str, fix: str | None = None) -> ProbeInfo:
    """probe_with_chapters, kept in the cache by the file's identity and ffprobe's, as
    starting ffprobe takes a twentieth of a second or more."""
    entry = _probe_entry(path)
    if entry is not None:
        with contextlib.suppress(OSError, ValueError):
            return json.loads(entry.read_text(encoding="utf-8"))
    found = probe_with_chapters(path, fix)
    if entry is not None and entry == _probe_entry(path):  # not rewritten while probed
        write_text(entry, json.dumps(found))
    return found
