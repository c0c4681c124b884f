"""The gate's parts: a rule, what it finds, and the report of every rule run on a package.

A rule belongs to a platform (Apple, Spotify, the podcast namespace, YouTube, our own
targets, or the package itself: the files there to read) and a scope (the podcast package
or the YouTube package). It reads the package as that platform would and returns its
problems: an error is what the platform refuses or what breaks for listeners, a warning
what it takes but shows worse. A rule that cannot run (its file is not built) says why,
and its row reads "not checked".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pipeline.errors import PipelineError

Level = Literal["error", "warning"]
Scope = Literal["podcast", "youtube"]
SCOPES: tuple[Scope, ...] = ("podcast", "youtube")
PLATFORMS = ("Package", "Apple", "Spotify", "Podcast namespace", "YouTube", "Ours")


@dataclass(frozen=True)
class Problem:
    level: Level
    message: str
    fix: str
    file: str = ""  # relative to the project, or a URL

    def line(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.message} ({self.fix})"


def error(message: str, fix: str, file: object = "") -> Problem:
    return Problem("error", message, fix, str(file))


def warning(message: str, fix: str, file: object = "") -> Problem:
    return Problem("warning", message, fix, str(file))


class NotChecked(Exception):  # noqa: N818 (a rule's way of saying it could not run)
    """A rule's input is missing; the rule that owns that input reports it."""


@dataclass(frozen=True)
class Rule:
    platform: str
    name: str  # what is checked, as the table's row says it
    scope: Scope
    check: Callable[..., Iterable[Problem]]


RULES: list[Rule] = []


def rule(platform: str, name: str, scope: Scope) -> Callable[[Callable], Callable]:
    """Register a check: `@rule("Apple", "artwork", "podcast")`."""
    assert platform in PLATFORMS, platform

    def register(check: Callable[..., Iterable[Problem]]) -> Callable:
        RULES.append(Rule(platform, name, scope, check))
        return check
    return register


@dataclass(frozen=True)
class Row:
    platform: str
    name: str
    scope: Scope
    problems: tuple[Problem, ...] = ()
    skipped: str = ""  # why the rule did not run

    @property
    def result(self) -> str:
        if self.skipped:
            return "not checked"
        if any(p.level == "error" for p in self.problems):
            return "error"
        return "warning" if self.problems else "ok"


@dataclass(frozen=True)
class Report:
    subject: str  # the episode's slug
    rows: list[Row] = field(default_factory=list)

    def problems(self, level: Level) -> list[Problem]:
        return [p for row in self.rows for p in row.problems if p.level == level]

    @property
    def errors(self) -> list[Problem]:
        return self.problems("error")

    @property
    def warnings(self) -> list[Problem]:
        return self.problems("warning")

    def table(self) -> list[tuple[str, str, str, str]]:
        """(platform, check, result, detail) a row per problem, one for a rule without any."""
        out = []
        for row in self.rows:
            if row.skipped or not row.problems:
                out.append((row.platform, row.name, row.result, row.skipped))
            out.extend((row.platform, row.name, p.level, p.line()) for p in row.problems)
        return out

    def summary(self) -> str:
        checked = sum(1 for row in self.rows if not row.skipped)
        return (f"{self.subject}: {checked} checks, {len(self.errors)} errors, "
                f"{len(self.warnings)} warnings")

    def refuse(self, action: str) -> None:
        """Raise the first error as the one line that stops `action`; the rest are counted."""
        if not self.errors:
            return
        first, more = self.errors[0], len(self.errors) - 1
        also = f" (and {more} more: pipeline check shows them)" if more else ""
        raise PipelineError(f"{action} refused by the pre-flight check: {first.message}{also}",
                            first.file or None, first.fix)


def run_rules(subject: str, package: object, scopes: Sequence[Scope]) -> Report:
    """Every registered rule of the given scopes, in platform order."""
    report = Report(subject)
    order = {name: n for n, name in enumerate(PLATFORMS)}
    for each in sorted(RULES, key=lambda r: order[r.platform]):
        if each.scope in scopes:
            report.rows.append(_run(each, package))
    return report


def _run(each: Rule, package: object) -> Row:
    try:
        problems = tuple(each.check(package))
    except NotChecked as why:
        return Row(each.platform, each.name, each.scope, skipped=str(why))
    except PipelineError as exc:  # a file the rule reads is unreadable: that is its finding
        problems = (error(exc.message, exc.fix or "rebuild it", exc.path or ""),)
    return Row(each.platform, each.name, each.scope, problems)


def format_table(rows: list[tuple[str, str, str, str]]) -> str:
    """The table as plain text, columns padded to their widest cell."""
    header = ("platform", "check", "result", "detail")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = []
    for cells in [header, *rows]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False))
                     + "  " + cells[3])
    return "\n".join(line.rstrip() for line in lines)
