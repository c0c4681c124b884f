"""One upload of an episode at a time: an exclusive `flock` on build/.upload.lock, held for
the whole upload and released by the kernel when the process ends, however it ends (kill -9
included), so a stale lock never needs removing by hand. The holder writes who it is (pid,
host, since) into the file; a second run says so in one line and waits its turn, then finds
the episode uploaded and has nothing to do."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".upload.lock"


def holder() -> str:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file locked (not one deleted while we waited)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except FileNotFoundError:
        return False


def _acquire(path: Path, on_wait: Callable[[str], None]) -> int:
    told = False
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not told:
                on_wait(os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                        or "another process")
                told = True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
        if _same_file(fd, path):
            return fd
        os.close(fd)


@contextmanager
def upload_lock(path: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the episode's upload lock for the block; when another process holds it, call
    `on_wait` once with who that is, and wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, on_wait)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, (holder() + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock
