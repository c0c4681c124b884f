"""Encoded pieces kept by content: a folder of ffmpeg outputs, each named by a hash of the
command that makes it, with its input files' paths replaced by their contents' sha256, and
of this ffmpeg's version. The same command on the same bytes is not run again; an edit
that changes one input makes only the pieces that read it.

An entry is written beside its final name and renamed onto it, so a crash never leaves half
a piece under a name that a later build would trust. `prune` removes what the latest build
did not use, so the folder holds one build's pieces.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.ffmpeg import version
from pipeline.util.hashing import sha256_file

OUT = "{out}"  # the output's place in the argv the key is made from


@dataclass(frozen=True)
class Count:
    """Pieces a build used, and how many of them it encoded (the rest were in the cache)."""

    made: int
    total: int

    def __str__(self) -> str:
        return f"{self.made} of {self.total}"


@dataclass(frozen=True)
class Piece:
    path: Path
    made: bool  # encoded by this call, not found in the folder


class Pieces:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._used: set[Path] = set()
        self._lock = threading.Lock()

    def key(self, argv_for: Callable[[Path], list[str]], inputs: Sequence[Path],
            known: dict[Path, str] | None = None) -> str:
        """sha256 of the argv with `inputs` as their contents' hashes (from `known`, the
        sha256 of bytes not written yet, where it has them), and ffmpeg's version."""
        known = known or {}
        digests = {str(p): f"sha256:{known.get(p) or sha256_file(p)}" for p in inputs}
        argv = [digests.get(arg, arg) for arg in argv_for(Path(OUT))]
        blob = json.dumps({"argv": argv, "ffmpeg": version()})
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def entry(self, argv_for: Callable[[Path], list[str]], inputs: Sequence[Path],
              suffix: str, known: dict[Path, str] | None = None) -> Piece:
        """Where the file `argv_for(path)` writes from `inputs` is kept, and whether it is
        yet to be made; the entry counts as used by this build."""
        path = self.root / f"{self.key(argv_for, inputs, known)}{suffix}"
        with self._lock:
            self._used.add(path)
        return Piece(path, made=not path.is_file())

    @contextlib.contextmanager
    def making(self, entry: Path) -> Iterator[Path]:
        """A temporary name beside `entry` to write it under; renamed onto it when the
        block ends without an error, removed otherwise."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.stem}.{os.getpid()}.{threading.get_ident()}"
                              f"{entry.suffix}")
        try:
            yield tmp
            os.replace(tmp, entry)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def get(self, argv_for: Callable[[Path], list[str]], inputs: Sequence[Path], suffix: str,
            what: str, on_seconds: Callable[[float], None] | None = None) -> Piece:
        """The file `argv_for(path)` writes from `inputs`: from the folder, or made now."""
        piece = self.entry(argv_for, inputs, suffix)
        if piece.made:
            with self.making(piece.path) as tmp:
                run_ffmpeg(argv_for(tmp), what, on_seconds=on_seconds)
        return piece

    def prune(self) -> int:
        """Remove the entries (and stray temporary files) this build did not use; how many."""
        if not self.root.is_dir():
            return 0
        stale = [p for p in self.root.iterdir() if p.is_file() and p not in self._used]
        for path in stale:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return len(stale)
