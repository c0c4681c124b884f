"""Atomic file writes: write beside the target, then rename, so a crash never leaves a
half-written file that make would take for done. Folders the same way: built beside the
target under a unique scratch name, then swapped in with one rename."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

AT_FDCWD = -100
RENAME_EXCHANGE = 2  # renameat2(2): swap the two paths in one step


def _umask() -> int:
    """The umask, read where Linux shows it: setting it to read it changes it for a moment
    for every thread, and a file another one makes meanwhile is writable by all."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    umask = os.umask(0)
    os.umask(umask)
    return umask


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
    tmp_path.chmod(0o666 & ~_umask())
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


def scratch_dir(target: Path) -> Path:
    """A new empty folder beside `target`, named `.<name>.new-<random>`, to build the next
    `target` in; it gets the usual mode for new folders."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.new-"))
    scratch.chmod(0o777 & ~_umask())
    return scratch


def exchange(a: Path, b: Path) -> bool:
    """Swap the paths `a` and `b` in one step (Linux renameat2 RENAME_EXCHANGE); False, with
    nothing done, where the system or the filesystem cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def replace_dir(new: Path, target: Path) -> None:
    """Put the folder `new` in place of `target`, then remove the old one. With one swap
    where the filesystem allows, so a crash at any moment leaves the old folder or the new
    one at `target`; elsewhere with two renames, and a crash between them leaves the old
    one as `.<name>.old-<id>` for `clear_scratch` to put back."""
    if not target.exists():
        os.rename(new, target)
        return
    if not exchange(new, target):
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
        try:
            os.rename(new, target)
        except OSError:
            os.rename(old, target)
            raise
        os.rename(old, new)  # from here on the old folder is scratch like any other
    shutil.rmtree(new, ignore_errors=True)  # now the old folder


def clear_scratch(target: Path) -> list[Path]:
    """Clean up after a run that died while it built `target`: put the old folder back if
    it died between `replace_dir`'s two renames, and remove the scratch folders. Only for a
    caller that holds the lock for `target` (no other run is using them). Returns what
    was removed."""
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not target.exists():
        os.rename(olds.pop(), target)
    removed = [*target.parent.glob(f".{target.name}.new-*"), *olds]
    for leftover in removed:
        shutil.rmtree(leftover, ignore_errors=True)
    return removed
