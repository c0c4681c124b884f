"""A lock file one process holds at a time, for work that must not run twice at once (two
builds of one episode, two builds of public/).

It is `fcntl.flock` on the file, so the kernel releases it when its holder exits, however
that happens (kill -9 and a crash included): a stale lock never needs removing by hand. The
holder writes who it is into the file, so a process that has to wait can say whom for. The
file itself stays; deleting it while it is held (`make clean`) lets a later process lock a
new file, and a waiter that was queued on the deleted one notices and queues again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

SOMEONE = "another process"


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(path, flags, 0o644)


def _holder(fd: int) -> str:
    text = os.pread(fd, 1000, 0).decode("utf-8", "replace").strip()
    return text or SOMEONE


def _same_file(fd: int, path: Path) -> bool:
    """Whether `fd` is still the file at `path` (not one deleted while we waited)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except FileNotFoundError:
        return False


def _acquire(path: Path, on_wait: Callable[[str], None] | None, mode: int) -> int:
    told = False
    while True:
        fd = _open(path)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None and not told:
                on_wait(_holder(fd))
                told = True
            try:
                fcntl.flock(fd, mode)
            except BaseException:
                os.close(fd)
                raise
        if _same_file(fd, path):
            return fd
        os.close(fd)


@contextlib.contextmanager
def locked(path: Path, label: str, on_wait: Callable[[str], None] | None = None,
           shared: bool = False) -> Iterator[None]:
    """Hold the lock `path` for the block, waiting for the process that holds it; `label`
    is written into the file for processes that wait for us. `on_wait(who)` is called once,
    before waiting, with what the holder wrote ("another process" if nothing). A `shared`
    lock is held by any number of processes at once, and only keeps an exclusive one out."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, on_wait, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    try:
        if not shared:
            os.ftruncate(fd, 0)
        os.pwrite(fd, f"{label}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


def exclusive(path: Path, holder: str,
              on_wait: Callable[[str], None] | None = None
              ) -> contextlib.AbstractContextManager[None]:
    """`locked`, labelled with `holder` (who we are) and our pid."""
    return locked(path, f"{holder} (pid {os.getpid()})", on_wait)


def shared(path: Path, holder: str, on_wait: Callable[[str], None] | None = None
           ) -> contextlib.AbstractContextManager[None]:
    """`locked` shared, labelled with `holder` and our pid."""
    return locked(path, f"{holder} (pid {os.getpid()})", on_wait, shared=True)


def held_by(path: Path) -> str | None:
    """Who holds the lock `path` now, in the holder's words; None when nobody does."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder(fd)
    finally:
        os.close(fd)
    return None
