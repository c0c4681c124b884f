"""Atomic file writes: write beside the target, then rename, so a crash never leaves a
half-written file that make would take for done."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: Path | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=suffix or target.suffix
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes the file owner-only; outputs get the usual mode for new files
    umask = os.umask(0)
    os.umask(umask)
    tmp_path.chmod(0o666 & ~umask)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_text(target: Path | str, text: str) -> None:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(target: Path | str, data: bytes) -> None:
    """Write bytes atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_json(target: Path | str, data: Any) -> None:
    """Write JSON (UTF-8, indented, keys in insertion order) atomically."""
    write_text(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
