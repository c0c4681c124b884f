"""The podcast feed: every built episode in one RSS 2.0 feed, with its media, in `public/`.

`public/` is built in a scratch folder beside it, checked (artwork, enclosure lengths,
required tags, the XML parses), then swapped in with one rename (fsutil.replace_dir), so a
failed or killed build leaves the previous `public/` as it was, or the new one. The build
holds the public/ lock (.public.lock), and first removes the scratch a killed build left.

A ledger the producer commits, `episodes/published.toml`, records each published
episode's guid and enclosure URL; a build that would change one is refused unless
`--allow-changed-guid` is given. Building is not publishing (`make demo` builds with a
placeholder base URL), so this stage never writes that ledger: it leaves the ledger as it
will be after publishing in `public/.ledger.toml`, and `pipeline publish` records it once
the feed has been delivered.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import jinja2

from pipeline.config import load_show, project_root
from pipeline.episode import Episode, load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, Ledger, PendingLedger, Timeline, target_for
from pipeline.publish.ledger import (
    CHANGE_FIX,
    LEDGER,
    PENDING,
    Planned,
    ledger_digest,
    plan,
    public_lock,
)
from pipeline.publish.placeholders import SHOW_FILE, blocking, still_the_samples
from pipeline.publish.rss import (
    Channel,
    FeedItem,
    channel_context,
    check_artwork,
    check_feed,
    check_show,
    environment,
    item_context,
)
from pipeline.util import fsutil
from pipeline.util.hashing import sha256_file

COPIED = ("captions.vtt", "captions.srt", "chapters.json")


def check_inputs(episode: Episode) -> None:
    """The files the feed carries or reads for an episode are there, and its chapters and
    timeline (who narrates: the disclosure) read."""
    for name in ("episode.mp3", *COPIED, "timeline.json"):
        path = episode.build / name
        if not path.is_file():
            what = "no MP3" if name == "episode.mp3" else f"no {name}"
            raise PipelineError(f"episode {episode.slug} has {what}", path,
                                f"build it: {target_for(path)}")
    Chapters.read(episode.build)
    Timeline.read(episode.build)


def built_episodes(root: Path, ledger: Ledger) -> list[Episode]:
    """Every episode with an MP3, and every published one (which must still have it)."""
    folder = root / "episodes"
    published = {entry.slug for entry in ledger.episodes}
    episodes = [
        load_episode(issue.parent)
        for issue in sorted(folder.glob("*/issue.md"))
        if (issue.parent / "build" / "episode.mp3").is_file() or issue.parent.name in published
    ]
    if not episodes:
        raise PipelineError("no episode is built (no episodes/<slug>/build/episode.mp3)", folder,
                            "build one first: make episode EP=<slug>")
    for episode in episodes:
        check_inputs(episode)
    return episodes


def _order(planned: Planned) -> tuple[int, str]:
    return planned.episode.meta.number, planned.slug


@dataclass(frozen=True)
class Site:
    """Everything that goes into public/."""

    channel: Channel
    items: list[FeedItem]
    planned: list[Planned]
    artwork: Path
    artwork_name: str
    pending: PendingLedger


def assemble(site: Site, folder: Path, env: jinja2.Environment) -> None:
    shutil.copy2(site.artwork, folder / site.artwork_name)
    (folder / PENDING).write_text(site.pending.text(), encoding="utf-8")
    page = env.get_template("episode.html.j2")
    for planned, item in zip(site.planned, site.items, strict=True):
        target = folder / planned.slug
        target.mkdir()
        shutil.copy2(planned.episode.build / "episode.mp3", target / planned.mp3_name)
        for name in COPIED:
            shutil.copy2(planned.episode.build / name, target / name)
        (target / "index.html").write_text(page.render(channel=site.channel, item=item),
                                           encoding="utf-8")
    xml = env.get_template("feed.xml.j2").render(channel=site.channel, items=site.items)
    (folder / "feed.xml").write_text(xml, encoding="utf-8")


def write_public(site: Site, root: Path, base: str) -> Path:
    """Build public/ beside itself, check it, swap it in; a failure leaves the old one."""
    public = root / "public"
    scratch = fsutil.scratch_dir(public)
    try:
        assemble(site, scratch, environment(root))
        check_feed(scratch, base)
        fsutil.replace_dir(scratch, public)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return public / "feed.xml"


@dataclass(frozen=True)
class FeedResult:
    feed: Path
    planned: list[Planned]
    ledger_pending: bool  # publishing this public/ will change episodes/published.toml
    changes: list[str]


def build_feed(root: Path, allow_changed_guid: bool = False,
               say: Callable[[str], None] | None = None) -> FeedResult:
    """Build public/ from every built episode under `root`, checked against the ledger,
    with the ledger as it will be after publishing in public/.ledger.toml; under the
    public/ lock (`say` gets a line if it waits for it)."""
    with public_lock(root, "feed", say):
        fsutil.clear_scratch(root / "public")
        return _build(root, allow_changed_guid)


def _build(root: Path, allow_changed_guid: bool) -> FeedResult:
    show_path = root / "assets" / "show.toml"
    show = load_show(root)
    base = check_show(show, show_path)
    ledger_path = root / LEDGER
    ledger = Ledger.read(ledger_path)
    episodes = built_episodes(root, ledger)
    artwork = root / "assets" / show.show.artwork
    suffix = check_artwork(artwork)
    planned, show_entry, changes = plan(episodes, ledger, base)
    if changes and not allow_changed_guid:
        more = f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""
        raise PipelineError(changes[0] + more, ledger_path, CHANGE_FIX)
    pending = PendingLedger(built_against=ledger_digest(ledger_path), show=show_entry,
                            episodes=[p.ledger_entry() for p in sorted(planned, key=_order)])
    artwork_name = f"artwork-{sha256_file(artwork)[:12]}{suffix}"
    planned.sort(key=lambda p: (p.episode.meta.date, p.episode.meta.number), reverse=True)
    items = [item_context(p, base) for p in planned]
    channel = channel_context(show, base, show_entry.guid, f"{base}/{artwork_name}", items)
    site = Site(channel, items, planned, artwork, artwork_name, pending)
    feed = write_public(site, root, base)
    return FeedResult(feed, planned, pending.changes(ledger), changes)


def placeholder_warning(root: Path) -> str:
    """One line when the feed was built with the sample's base URL or owner email: a preview
    (`make demo`) may, a publication may not."""
    found = blocking(load_show(root).show)
    if not found:
        return ""
    return (f"warning: {SHOW_FILE}: {still_the_samples(found)}: fine for a preview, but make "
            f"publish refuses the feed until you set your own under [show]")


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding assets/ and episodes/ "
                   "(default: $PIPELINE_ROOT, else the current folder).")
@click.option("--allow-changed-guid", is_flag=True,
              help="Accept a change to a published episode's guid or enclosure URL (a renamed "
                   "slug, a new base URL, a removed episode); `pipeline publish` records it "
                   "in the ledger once delivered.")
def command(root: Path | None, allow_changed_guid: bool) -> None:
    """Build public/: the podcast feed of every built episode, its audio, captions and chapters."""
    root = root or project_root()
    result = build_feed(root, allow_changed_guid, say=functools.partial(click.echo, err=True))
    for change_line in result.changes:
        click.echo(f"accepted: {change_line}", err=True)
    for planned in result.planned:
        click.echo(f"{planned.slug}: {planned.enclosure_url} (guid {planned.guid})")
    ledger = (f"{LEDGER} is updated when it is published (make publish)"
              if result.ledger_pending else f"{LEDGER} already records it")
    click.echo(f"wrote {result.feed} ({len(result.planned)} episodes); {ledger}")
    if warning := placeholder_warning(root):
        click.echo(warning, err=True)
