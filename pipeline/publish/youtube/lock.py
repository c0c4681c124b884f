"""One upload of an episode at a time: the lock of util/lock.py on build/.upload.lock, held
for the whole upload and released by the kernel when the process ends, however it ends. The
holder writes who it is (pid, host, since) into the file; a second run says so in one line
and waits its turn, then finds the episode uploaded and has nothing to do."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from pipeline.util.lock import locked

LOCK_FILE = ".upload.lock"


def holder() -> str:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


def upload_lock(path: Path, on_wait: Callable[[str], None]) -> AbstractContextManager[None]:
    """Hold the episode's upload lock for the block; when another process holds it, call
    `on_wait` once with who that is, and wait."""
    return locked(path, holder(), on_wait)
