"""Copy `public/` to the show's destination: the audio first, then the other files, the
feed last, so the published feed never points at audio that is not there yet.

A destination is a folder (copied in Python, each file written beside and renamed) or an
rsync target `[user@]host:path` (rsync writes each file beside and renames it too). Nothing
is deleted there: old enclosures stay reachable for apps holding an older feed. Dot-files
(public/.ledger.toml) are never sent.

Only a delivered feed is published, so only this stage writes the ledger,
`episodes/published.toml`: once the feed is delivered, it records the ledger `pipeline feed`
left in public/.ledger.toml, stamping first_published on episodes published for the first
time. A failed publish leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from pipeline.config import ShowInfo, load_show, project_root
from pipeline.errors import PipelineError
from pipeline.formats import Ledger, PendingLedger
from pipeline.publish.gate import preflight_feed
from pipeline.publish.ledger import LEDGER, ledger_digest, read_pending
from pipeline.publish.placeholders import blocking, is_example_url, still_the_samples
from pipeline.util import fsutil

FEED = "feed.xml"


def is_rsync_target(destination: str) -> bool:
    """`host:path`, `user@host:path` or `rsync://...`, as rsync itself tells them apart."""
    return destination.startswith("rsync://") or re.match(r"^[^/:]+:", destination) is not None


def _rank(relative: Path) -> int:
    if relative.suffix.lower() == ".mp3":
        return 0
    return 2 if relative.as_posix() == FEED else 1


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def publish_order(public: Path) -> list[Path]:
    """Every file under public/ but dot-files, relative: MP3s first, the feed last."""
    files = [p.relative_to(public) for p in public.rglob("*") if p.is_file()]
    shown = [relative for relative in files if not _hidden(relative)]
    return sorted(shown, key=lambda rel: (_rank(rel), rel.as_posix()))


def rsync_argvs(public: Path, destination: str) -> list[list[str]]:
    """The rsync runs, in order: the audio, then everything but the feed, then the feed;
    never a dot-file (the first matching rule wins, so `--exclude=.*` comes first)."""
    source = f"{public}/"
    target = destination if destination.endswith("/") else f"{destination}/"
    sync = ["rsync", "--recursive", "--times", "--exclude=.*"]
    return [
        [*sync, "--include=*/", "--include=*.mp3", "--exclude=*", source, target],
        [*sync, f"--exclude=/{FEED}", source, target],
        [*sync, f"{public}/{FEED}", target],
    ]


def run_rsync(argvs: list[list[str]]) -> None:
    """Run each rsync in turn; the first failure stops the rest (the feed goes last)."""
    if shutil.which("rsync") is None:
        raise PipelineError("rsync is not installed", None,
                            "install it (apt-get install rsync) or publish to a folder")
    for argv in argvs:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode:
            reason = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
            raise PipelineError(f"rsync failed: {reason}", argv[-1],
                                "check the destination path and your ssh access")


def _unchanged(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def copy_to_folder(public: Path, destination: Path,
                   on_copy: Callable[[str], None] | None = None) -> list[str]:
    """Copy changed files in publish order, each atomically; returns what was copied."""
    copied = []
    for relative in publish_order(public):
        source, target = public / relative, destination / relative
        if _unchanged(source, target):
            continue
        try:
            with fsutil.atomic_path(target) as scratch:
                shutil.copy2(source, scratch)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise PipelineError(f"cannot write {relative.as_posix()} there: {reason}", target,
                                "make the destination folder writable") from None
        copied.append(relative.as_posix())
        if on_copy is not None:
            on_copy(relative.as_posix())
    return copied


def deliver(public: Path, target: str, root: Path,
            on_copy: Callable[[str], None] | None = None) -> list[str]:
    """Send public/ to a folder or an rsync target; returns the files copied to a folder,
    or the rsync commands run."""
    if is_rsync_target(target):
        argvs = rsync_argvs(public, target)
        run_rsync(argvs)
        return [" ".join(argv) for argv in argvs]
    folder = Path(target).expanduser()
    return copy_to_folder(public, folder if folder.is_absolute() else root / folder, on_copy)


def pending_ledger(root: Path, public: Path) -> PendingLedger:
    """public/'s ledger after publishing, refused when episodes/published.toml changed since
    public/ was built (its checks were made against the old one) unless it records it all."""
    pending = read_pending(public)
    path = root / LEDGER
    if ledger_digest(path) != pending.built_against and pending.changes(Ledger.read(path)):
        raise PipelineError("the ledger changed since public/ was built", path,
                            "rebuild public/ against it first: make feed")
    return pending


def record(root: Path, pending: PendingLedger, now: dt.datetime) -> bool:
    """Write episodes/published.toml as public/ has just been published; say if it changed."""
    path = root / LEDGER
    try:
        return pending.published(Ledger.read(path), now).write_toml(path)
    except OSError as exc:
        raise PipelineError(f"the feed is published but the ledger was not written: "
                            f"{exc.strerror or exc}", path,
                            "make it writable and publish again (nothing is sent twice)") from None


def refuse_placeholders(show: ShowInfo, show_path: Path) -> None:
    """The sample show's base URL or owner email must never reach a podcast app."""
    found = blocking(show)
    if found:
        values = ", ".join(p.value for p in found)
        raise PipelineError(f"{still_the_samples(found)}: {values}", show_path,
                            "set your own under [show], then make publish")


def refuse_stale_placeholder(public: Path, pending: PendingLedger) -> None:
    """A public/ built before the base URL was set still carries the placeholder."""
    if is_example_url(pending.show.feed_url):
        raise PipelineError(f"built with the placeholder feed URL {pending.show.feed_url}",
                            public, "rebuild it: make feed")


def _warn(message: str) -> None:
    click.echo(message, err=True)


@dataclass(frozen=True)
class Published:
    steps: list[str]  # the files copied to a folder, or the rsync commands run
    ledger_changed: bool


def publish(root: Path, destination: str | None = None,
            on_copy: Callable[[str], None] | None = None,
            now: dt.datetime | None = None) -> Published:
    """Send public/ to `destination` (default: the show's feed.destination), then record in
    episodes/published.toml what was published (at `now`, by default the time it is done)."""
    public = root / "public"
    if not (public / FEED).is_file():
        raise PipelineError("public/ is not built (no feed.xml)", public, "run: make feed")
    show_path = root / "assets" / "show.toml"
    show = load_show(root)
    refuse_placeholders(show.show, show_path)
    pending = pending_ledger(root, public)
    refuse_stale_placeholder(public, pending)
    preflight_feed(root, pending, Ledger.read(root / LEDGER), _warn)
    target = (destination or show.feed.destination).strip()
    if not target:
        raise PipelineError("feed.destination is empty", show_path,
                            "set destination under [feed]: a folder or host:path for rsync")
    steps = deliver(public, target, root, on_copy)
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return Published(steps, record(root, pending, now))


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding public/ (default: $PIPELINE_ROOT, else here).")
@click.option("--destination", default=None,
              help="A folder or host:path; default: destination under [feed] in show.toml.")
def command(root: Path | None, destination: str | None) -> None:
    """Copy public/ to the destination: audio first, the feed last; then record it in
    episodes/published.toml."""
    done = publish(root or project_root(), destination, on_copy=click.echo)
    steps = done.steps
    click.echo(f"published ({len(steps)} step(s))" if steps else "published: nothing changed")
    if done.ledger_changed:
        click.echo(f"recorded it in {LEDGER}: commit it")
    else:
        click.echo(f"{LEDGER} unchanged")
