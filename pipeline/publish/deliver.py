"""Copy `public/` to the show's destination: the audio first, then the other files, the
feed last, so the published feed never points at audio that is not there yet.

A destination is a folder (copied in Python, each file written beside and renamed) or an
rsync target `[user@]host:path` (rsync writes each file beside and renames it too); one
that looks like an option (`-...`) is refused, and rsync gets `--` before its paths.
Nothing is deleted there: old enclosures stay reachable for apps holding an older feed.
Dot-files (public/.ledger.toml) are never sent.

An enclosure URL never changes its audio, whatever the ledger says: before anything is
sent, an MP3 the destination already holds with other bytes stops the publish (a lost or
old episodes/published.toml names new audio like the published one). What is sent is
checked there: a folder's copies byte for byte as each is made (the feed is not sent after
a bad one), then every file's size; over rsync, which checks each file it sends by its
checksum, a dry run that must find nothing left to send.

Only a delivered and verified feed is published, so only this stage writes the ledger,
`episodes/published.toml`: it records the ledger `pipeline feed` left in
public/.ledger.toml, stamping first_published on episodes published for the first time. A
failed publish leaves the ledger as it was. Publishing holds the public/ lock, so a
`pipeline feed` running meanwhile cannot swap public/ under it.
"""

from __future__ import annotations

import datetime as dt
import functools
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
from pipeline.publish.ledger import LEDGER, ledger_digest, public_lock, read_pending
from pipeline.publish.placeholders import blocking, is_example_url, still_the_samples
from pipeline.util import fsutil
from pipeline.util.hashing import sha256_file

FEED = "feed.xml"
ITEMIZED = re.compile(r"^[<>]f(\S{9}) (.+)$")  # rsync --itemize-changes: a file to send
CLASH_FIX = f"restore {LEDGER} from git, then make feed and make publish again"


def is_rsync_target(destination: str) -> bool:
    """`host:path`, `user@host:path` or `rsync://...`, as rsync itself tells them apart."""
    return destination.startswith("rsync://") or re.match(r"^[^/:]+:", destination) is not None


def check_destination(destination: str, source: Path | str) -> None:
    """Refuse a destination rsync or ssh could read as an option, or one with control
    characters; `source` is where it was set (show.toml, or --destination)."""
    fix = "set a folder or [user@]host:path (a folder named -x is ./-x)"
    if any(ord(c) < 32 or ord(c) == 127 for c in destination):
        raise PipelineError(f"the destination {destination!r} has a control character",
                            source, fix)
    host = re.sub(r"^rsync://", "", destination).split(":", 1)[0].rsplit("@", 1)[-1]
    if destination.startswith("-") or (is_rsync_target(destination) and host.startswith("-")):
        raise PipelineError(f"the destination {destination!r} starts like an option",
                            source, fix)


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


def _target(destination: str) -> str:
    return destination if destination.endswith("/") else f"{destination}/"


def rsync_argvs(public: Path, destination: str) -> list[list[str]]:
    """The rsync runs, in order: the audio, then everything but the feed, then the feed;
    never a dot-file (the first matching rule wins, so `--exclude=.*` comes first)."""
    source, target = f"{public}/", _target(destination)
    sync = ["rsync", "--recursive", "--times", "--exclude=.*"]
    return [
        [*sync, "--include=*/", "--include=*.mp3", "--exclude=*", "--", source, target],
        [*sync, f"--exclude=/{FEED}", "--", source, target],
        [*sync, "--", f"{public}/{FEED}", target],
    ]


def rsync_clash_argv(public: Path, destination: str) -> list[str]:
    """A dry run that lists each MP3 the destination lacks or holds with other bytes (by
    checksum on both ends, so a copy with another time is no clash)."""
    return ["rsync", "--recursive", "--dry-run", "--checksum", "--itemize-changes",
            "--exclude=.*", "--include=*/", "--include=*.mp3", "--exclude=*", "--",
            f"{public}/", _target(destination)]


def rsync_verify_argv(public: Path, destination: str) -> list[str]:
    """A dry run that lists each file but dot-files the destination lacks or holds with
    another size or time: after a delivery, none."""
    return ["rsync", "--recursive", "--times", "--dry-run", "--itemize-changes",
            "--exclude=.*", "--", f"{public}/", _target(destination)]


def _rsync(argv: list[str]) -> str:
    """Run rsync; its output, or its error as one line."""
    if shutil.which("rsync") is None:
        raise PipelineError("rsync is not installed", None,
                            "install it (apt-get install rsync) or publish to a folder")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode:
        reason = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
        raise PipelineError(f"rsync failed: {reason}", argv[-1],
                            "check the destination path and your ssh access")
    return done.stdout


def run_rsync(argvs: list[list[str]]) -> None:
    """Run each rsync in turn; the first failure stops the rest (the feed goes last)."""
    for argv in argvs:
        _rsync(argv)


def itemized(output: str) -> list[tuple[str, str]]:
    """(changes, path) of each file an rsync --itemize-changes run sends; changes is
    "+++++++++" for a file the destination does not have."""
    return [(m[1], m[2]) for m in map(ITEMIZED.match, output.splitlines()) if m]


def _unchanged(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    a, b = source.stat(), target.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _differs(source: Path, target: Path) -> bool:
    return source.stat().st_size != target.stat().st_size or (
        sha256_file(source) != sha256_file(target))


def not_verified(name: str, where: Path | str) -> PipelineError:
    return PipelineError(f"delivery not verified: {name} differs there from public/; "
                         f"{LEDGER} was not written", where,
                         "check the destination's disk, then make publish again")


def copy_to_folder(public: Path, destination: Path,
                   on_copy: Callable[[str], None] | None = None) -> list[str]:
    """Copy changed files in publish order, each atomically and then compared byte for byte
    with public/'s (a bad copy is removed and stops the rest); returns what was copied."""
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
        if _differs(source, target):
            target.unlink()  # so that the next publish sends it again
            raise not_verified(relative.as_posix(), destination)
    return copied


def folder_clashes(public: Path, destination: Path) -> list[str]:
    """The MP3s the folder already holds with other bytes than public/'s."""
    return [rel.as_posix() for rel in publish_order(public) if rel.suffix.lower() == ".mp3"
            and (destination / rel).is_file() and not _unchanged(public / rel, destination / rel)
            and _differs(public / rel, destination / rel)]


def folder_differences(public: Path, destination: Path) -> list[str]:
    """The files the folder lacks, or holds with another size than public/'s."""
    return [rel.as_posix() for rel in publish_order(public)
            if not (destination / rel).is_file()
            or (destination / rel).stat().st_size != (public / rel).stat().st_size]


def refuse_clashes(clashes: list[str], where: str) -> None:
    if clashes:
        more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
        raise PipelineError(f"{clashes[0]}{more} is already published there with other audio, "
                            f"which the ledger {LEDGER} does not know (lost or out of date); "
                            "nothing was sent", where, CLASH_FIX)


def refuse_unverified(wrong: list[str], where: str) -> None:
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        raise not_verified(f"{wrong[0]}{more}", where)


def deliver_rsync(public: Path, target: str) -> list[str]:
    """Send public/ with rsync, between a check that no published MP3 would change and a
    check that everything arrived; returns the rsync commands that sent it."""
    clashes = itemized(_rsync(rsync_clash_argv(public, target)))
    refuse_clashes([path for changes, path in clashes if set(changes) != {"+"}], target)
    argvs = rsync_argvs(public, target)
    run_rsync(argvs)
    refuse_unverified([path for _, path in itemized(_rsync(rsync_verify_argv(public, target)))],
                      target)
    return [" ".join(argv) for argv in argvs]


def deliver(public: Path, target: str, root: Path,
            on_copy: Callable[[str], None] | None = None) -> list[str]:
    """Send public/ to a folder or an rsync target, checked before and after; returns the
    files copied to a folder, or the rsync commands run."""
    if is_rsync_target(target):
        return deliver_rsync(public, target)
    folder = Path(target).expanduser()
    folder = folder if folder.is_absolute() else root / folder
    refuse_clashes(folder_clashes(public, folder), str(folder))
    copied = copy_to_folder(public, folder, on_copy)
    refuse_unverified(folder_differences(public, folder), str(folder))
    return copied


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


Preflight = Callable[[Path, PendingLedger, Ledger], None]


def _warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


@dataclass(frozen=True)
class Published:
    steps: list[str]  # the files copied to a folder, or the rsync commands run
    ledger_changed: bool


def publish(root: Path, destination: str | None = None,
            on_copy: Callable[[str], None] | None = None,
            now: dt.datetime | None = None,
            say: Callable[[str], None] | None = None,
            preflight: Preflight | None = None) -> Published:
    """Send public/ to `destination` (default: the show's feed.destination), then record in
    episodes/published.toml what was published (at `now`, by default the time it is done);
    under the public/ lock (`say` gets a line if it waits for it). `preflight` (the command
    passes the pre-flight gate) sees what is about to be sent and may refuse it."""
    with public_lock(root, "publish", say):
        fsutil.clear_scratch(root / "public")
        return _publish(root, destination, on_copy, now, preflight)


def _publish(root: Path, destination: str | None, on_copy: Callable[[str], None] | None,
             now: dt.datetime | None, preflight: Preflight | None) -> Published:
    public = root / "public"
    if not (public / FEED).is_file():
        raise PipelineError("public/ is not built (no feed.xml)", public, "run: make feed")
    show_path = root / "assets" / "show.toml"
    show = load_show(root)
    refuse_placeholders(show.show, show_path)
    pending = pending_ledger(root, public)
    refuse_stale_placeholder(public, pending)
    target = (destination or show.feed.destination).strip()
    if not target:
        raise PipelineError("feed.destination is empty", show_path,
                            "set destination under [feed]: a folder or host:path for rsync")
    check_destination(target, "--destination" if destination else show_path)
    if preflight is not None:
        preflight(root, pending, Ledger.read(root / LEDGER))
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
    done = publish(root or project_root(), destination, on_copy=click.echo,
                   say=functools.partial(click.echo, err=True),
                   preflight=functools.partial(preflight_feed, say=_warn))
    steps = done.steps
    click.echo(f"published ({len(steps)} step(s))" if steps else "published: nothing changed")
    if done.ledger_changed:
        click.echo(f"recorded it in {LEDGER}: commit it")
    else:
        click.echo(f"{LEDGER} unchanged")
