"""The pre-flight gate: will Apple, Spotify, the podcast apps and YouTube take this episode?

`check(episode, scopes)` reads the episode's package as each platform reads it (see
core.py) and returns a report: a row per rule, ok, warning, error or not checked. An
error stops `pipeline upload` (the YouTube scope) and `pipeline publish` (the podcast
scope) with its fix; `pipeline check` and the review page show the whole table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.episode import Episode, load_episode
from pipeline.formats import Ledger, PendingLedger
from pipeline.publish.gate import ours, podcast, youtube  # noqa: F401 (they register rules)
from pipeline.publish.gate.core import SCOPES, Report, Scope, format_table, run_rules
from pipeline.publish.gate.package import PROBED, Package, Probes, start_probes

__all__ = ["PROBED", "SCOPES", "Probes", "Report", "Scope", "check", "format_table", "preflight",
           "preflight_feed", "start_probes"]


def check(episode: Episode, scopes: Sequence[Scope] = SCOPES,
          loudness: tuple[float, float] | None = None, probes: Probes | None = None) -> Report:
    """Every rule of `scopes` on `episode`'s package; `loudness` (integrated LUFS, true
    peak dBTP) saves measuring episode.mp3 again when a caller has, `probes` (start_probes)
    starting ffprobe when the caller started it earlier."""
    return run_rules(episode.slug, Package(episode, loudness, probes), scopes)


def preflight(episode: Episode, scopes: Sequence[Scope], action: str,
              say: Callable[[str], None]) -> Report:
    """The gate before `action`: warnings are said (`say` marks them), the first error
    raises with its fix."""
    report = check(episode, scopes)
    for problem in report.warnings:
        say(problem.line())
    report.refuse(action)
    return report


def leaving(pending: PendingLedger, ledger: Ledger) -> list[str]:
    """The slugs a publication sends for the first time or changed: those it checks."""
    return [e.slug for e in pending.episodes
            if (old := ledger.entry(e.slug)) is None or old.sha256 != e.sha256
            or old.enclosure_url != e.enclosure_url or old.guid != e.guid]


def preflight_feed(root: Path, pending: PendingLedger, ledger: Ledger,
                   say: Callable[[str], None]) -> None:
    """The podcast scope of every episode a publication sends anew, before it is sent."""
    for slug in leaving(pending, ledger):
        preflight(load_episode(root / "episodes" / slug), ["podcast"], "publishing", say)
