"""Content hashes: what identifies a file that was sent or published; and a file's
identity, for caches of what a file says that would cost more to hash than to ask."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def file_identity(path: Path | str) -> str:
    """A file as its path, inode, size and time name it: a rewrite, atomic or in place,
    names another."""
    stat = os.stat(path)
    return f"{Path(path).resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}"
