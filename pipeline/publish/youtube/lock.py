"""One upload of an episode at a time: an exclusive `flock` on build/.upload.lock, held for
the whole upload and released by the kernel when the process ends, however it ends. The
file says who holds it (pid, host, since), for the run that finds it taken."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import PipelineError

LOCK_FILE = ".upload.lock"


def _holder() -> str:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


def _taken(fd: int, path: Path) -> PipelineError:
    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "a process"
    return PipelineError(f"another upload of this episode is running ({holder})", path,
                         "wait for it to finish, then run the same command again")


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file locked (not removed or replaced meanwhile)."""
    try:
        return os.path.samestat(os.fstat(fd), path.stat())
    except FileNotFoundError:
        return False


@contextmanager
def upload_lock(path: Path) -> Iterator[None]:
    """Hold the episode's upload lock, or stop at once naming who holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            error = _taken(fd, path)
            os.close(fd)
            raise error from None
        if _same_file(fd, path):
            break
        os.close(fd)  # a `make clean` removed it while we waited: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (_holder() + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)
