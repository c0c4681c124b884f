"""Errors a producer sees: one line naming what failed, where, and what to do."""

from __future__ import annotations

from pathlib import Path


class PipelineError(Exception):
    """A failure the producer can fix; the CLI prints it as one line and exits non-zero."""

    def __init__(self, message: str, path: Path | str | None = None, fix: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        where = f"{self.path}: " if self.path else ""
        fix = f" ({self.fix})" if self.fix else ""
        return f"{where}{self.message}{fix}"
