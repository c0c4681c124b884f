"""Progress of long work, shown the same way by every stage.

On a terminal (stderr is a TTY) a task draws a live tqdm bar. In a log or CI it prints
plain lines instead: counted work a line per item (per twentieth of a long count),
measured work (seconds, bytes) a line every 10%, and a final line at 100% when the work
ends. Every method is thread-safe.

    with task("narrate: synthesising", len(texts)) as bar:
        for text in texts:
            ...
            bar.advance()                   # one more item done

    with task("upload video", size, unit="B") as bar:
        upload(on_bytes=bar.update)         # update(done): the bytes done so far

    with task("captions: transcribing", unit="s") as bar:
        transcribe(progress=bar.update)     # update(done, total): a total learnt late

    with parts("video", {"slides": 4, "audio": 4, "mux": 1}) as overall:
        overall.update("audio", 0.5)        # a part's fraction, weighted into one figure

    note("using the CPU")                   # a line that does not break a live bar
    with quiet():                           # for tests and library callers: prints nothing
        ...

Units: "s", "B" and "%" are measured (bytes are scaled: 4.2/10.5 MB); any other unit
counts items. A label without a colon gets one ("video: 40%", "upload video: 40%").
Leaving the `with` normally completes the task, so its 100% line is never missing;
leaving it on an exception does not.

A log reads:

    narrate: synthesising 1/3
    captions: transcribing 10% (6/60 s)
    video: 40% (slides 50%, audio 42%, mux 0%)
    upload video: 100% (1.04/1.04 MB)
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm

MEASURED = ("s", "B", "%")  # continuous quantities; any other unit counts items
LOG_COUNT_LINES = 20  # a count longer than this is logged in steps of a twentieth
LOG_PERCENT_STEP = 10
DEFAULT_SIZE = (80, 24)  # columns, lines
_BYTE_SCALES = ((1e9, "GB"), (1e6, "MB"), (1e3, "kB"))
_LEFT = "{desc} {percentage:3.0f}%|{bar}| "
_BAR_FORMATS = {
    "s": _LEFT + "{n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]",
    "B": _LEFT + "{n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}{postfix}]",
    "%": _LEFT + "[{elapsed}<{remaining}{postfix}]",
}
_COUNT_FORMAT = _LEFT + "{n_fmt}/{total_fmt} [{elapsed}<{remaining}{postfix}]"

_quiet_depth = 0
_quiet_lock = threading.Lock()


@contextmanager
def quiet() -> Iterator[None]:
    """Within the block, tasks started and notes print nothing (from any thread)."""
    global _quiet_depth
    with _quiet_lock:
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1


def note(message: str, file: TextIO | None = None) -> None:
    """Print a line on stderr; a live bar there is redrawn below it."""
    if not _quiet_depth:
        tqdm.write(message, file=file or sys.stderr)


def task(label: str, total: float | None = None, unit: str = "items",
         file: TextIO | None = None) -> Task:
    """A piece of work of `total` units (None: told later, by `update`); use it as a
    context manager. `file` is stderr unless given."""
    return Task(label, total, unit, file)


def parts(label: str, weights: Mapping[str, float], file: TextIO | None = None) -> Parts:
    """Work in named parts of given weights, shown as one overall percentage."""
    return Parts(label, weights, file)


def _is_terminal(file: TextIO) -> bool:
    try:
        return file.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _size(file: TextIO) -> dict[str, int]:
    """The terminal's size for tqdm; a terminal that reports none (a pseudo-terminal
    nobody sized) gets 80x24, where tqdm would draw nothing. Empty: no terminal to ask."""
    try:
        columns, lines = os.get_terminal_size(file.fileno())
    except (AttributeError, OSError, ValueError):
        return {}
    return {"ncols": columns or DEFAULT_SIZE[0], "nrows": lines or DEFAULT_SIZE[1]}


def _percent(done: float, total: float) -> int:
    return math.floor(100 * done / total + 1e-9)


def _amount(done: float, total: float, unit: str) -> str:
    """Both figures in one readable scale: "42/300 s", "4.20/10.5 MB"."""
    if unit == "s":
        return f"{done:.0f}/{total:.0f} s"
    scale, name = next(((s, n) for s, n in _BYTE_SCALES if total >= s), (1, "B"))
    digits = 2 if total / scale < 10 else 1 if total / scale < 100 else 0
    return f"{done / scale:.{digits}f}/{total / scale:.{digits}f} {name}"


class Task:
    """One piece of long work; see the module docstring."""

    def __init__(self, label: str, total: float | None, unit: str, file: TextIO | None):
        self.prefix = label if ":" in label else f"{label}:"
        self.unit = unit
        self.total = total
        self.done: float = 0
        self.detail = ""  # what a Parts shows beside the percentage
        self._file = None if _quiet_depth else (file or sys.stderr)
        self._live = self._file is not None and _is_terminal(self._file)
        self._bar: Any = None
        self._logged = 0  # steps already logged
        self._lock = threading.Lock()

    def update(self, done: float, total: float | None = None) -> None:
        """`done` units done in all (never going back); `total`, when it was not known."""
        self._set(lambda _: done, total)

    def advance(self, n: float = 1) -> None:
        """`n` more units done."""
        self._set(lambda before: before + n)

    def finish(self) -> None:
        """All done: the final 100% line (a no-op when the total was never known)."""
        self._set(lambda before: self.total or before)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()

    def __enter__(self) -> Task:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.finish()
        self.close()

    def _set(self, done: Callable[[float], float], total: float | None = None,
             detail: str | None = None) -> None:
        with self._lock:
            if total is not None:
                self.total = total
            if detail is not None:
                self.detail = detail
            self.done = max(self.done, done(self.done))
            if self.total:
                self.done = min(self.done, self.total)
            if self._file is None or not self.total:
                return
            if self._live:
                self._draw()
            else:
                self._log()

    def _draw(self) -> None:
        if self._bar is None:
            self._bar = tqdm(total=self.total, desc=self.prefix, unit=self.unit,
                             unit_scale=self.unit == "B", file=self._file,
                             **_size(self._file),
                             bar_format=_BAR_FORMATS.get(self.unit, _COUNT_FORMAT))
        self._bar.total = self.total
        if self.detail:
            self._bar.set_postfix_str(self.detail, refresh=False)
        self._bar.update(self.done - self._bar.n)

    def _log(self) -> None:
        assert self._file is not None and self.total
        if self.done >= self.total:
            step = math.inf
        elif self.unit in MEASURED:
            step = _percent(self.done, self.total) // LOG_PERCENT_STEP
        else:
            step = int(self.done // math.ceil(self.total / LOG_COUNT_LINES))
        if step > self._logged:
            self._logged = step
            self._file.write(f"{self.prefix} {self._figure()}\n")
            self._file.flush()

    def _figure(self) -> str:
        assert self.total
        if self.unit not in MEASURED:
            return f"{self.done:.0f}/{self.total:.0f}"
        amount = self.detail or ("" if self.unit == "%" else
                                 _amount(self.done, self.total, self.unit))
        percent = f"{_percent(self.done, self.total)}%"
        return f"{percent} ({amount})" if amount else percent


class Parts:
    """Weighted parts shown as one task in percent; see the module docstring."""

    def __init__(self, label: str, weights: Mapping[str, float], file: TextIO | None):
        self.weights = dict(weights)
        self.fractions = dict.fromkeys(self.weights, 0.0)
        self._task = Task(label, 100, "%", file)
        self._lock = threading.Lock()

    def update(self, part: str, fraction: float) -> None:
        """`part` is `fraction` done (0 to 1, never going back)."""
        with self._lock:
            self.fractions[part] = min(1.0, max(self.fractions[part], fraction))
            self._show()

    def _show(self) -> None:
        whole = sum(self.weights[p] * f for p, f in self.fractions.items())
        detail = ", ".join(f"{p} {_percent(f, 1)}%" for p, f in self.fractions.items())
        self._task._set(lambda _: 100 * whole / sum(self.weights.values()), detail=detail)

    def __enter__(self) -> Parts:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            with self._lock:
                self.fractions = dict.fromkeys(self.weights, 1.0)
                self._show()
        self._task.close()
