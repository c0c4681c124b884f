"""An episode's feed item as `pipeline feed` would publish it, for the review page: rendered
by the feed's own code and template, with what publishing it would change."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup

from pipeline.config import load_show
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Ledger
from pipeline.publish.ledger import LEDGER, change, plan_episode, podcast_guid
from pipeline.publish.rss import FeedItem, channel_context, check_artwork, check_show, item_context
from pipeline.util.hashing import sha256_file


@dataclass(frozen=True)
class FeedPreview:
    item: FeedItem | None
    problems: list[str] = field(default_factory=list)
    xml: str = ""  # the <item> element as the template writes it
    published: bool = False  # the ledger has it already

    @property
    def notes_html(self) -> Markup:
        return Markup(self.item.notes if self.item else "")

    @property
    def notes_bytes(self) -> int:
        return len(self.item.notes.encode("utf-8")) if self.item else 0


def _artwork_url(root: Path, base: str, artwork: str, notes: list[str]) -> str:
    path = root / "assets" / artwork
    try:
        suffix = check_artwork(path)
    except PipelineError as exc:
        notes.append(exc.line())
        return f"{base}/{artwork}"
    return f"{base}/artwork-{sha256_file(path)[:12]}{suffix}"


def _item_xml(xml: str) -> str:
    """The <item> element of a rendered one-item feed, as the template wrote it."""
    ET.fromstring(xml.encode("utf-8"))  # the same check `pipeline feed` makes: it parses
    start, end = xml.index("<item>"), xml.rindex("</item>") + len("</item>")
    lines = xml[start:end].splitlines()
    indent = len(lines[-1]) - len(lines[-1].lstrip())
    return "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines)


def _render(episode: Episode, env: jinja2.Environment, notes: list[str]) -> FeedPreview:
    root = episode.root
    show = load_show(root)
    base = check_show(show, root / "assets" / "show.toml")
    ledger = Ledger.read(root / LEDGER)
    guid = ledger.show.guid if ledger.show else podcast_guid(f"{base}/feed.xml")
    built = {p.parent.parent.name for p in (root / "episodes").glob("*/build/episode.mp3")}
    planned, previous = plan_episode(episode, ledger, built, base, guid)
    if changed := change(previous, planned):
        notes.append(f"publishing would change a published episode: {changed}")
    item = item_context(planned, base)
    artwork = _artwork_url(root, base, show.show.artwork, notes)
    channel = channel_context(show, base, guid, artwork, [item])
    xml = env.get_template("feed.xml.j2").render(channel=channel, items=[item])
    return FeedPreview(item, notes, _item_xml(xml), previous is not None)


def preview(episode: Episode, env: jinja2.Environment) -> FeedPreview:
    """The feed item, or what stops it being built, as problems; nothing here raises."""
    notes: list[str] = []
    try:
        return _render(episode, env, notes)
    except PipelineError as exc:
        return FeedPreview(None, [*notes, exc.line()])
    except ET.ParseError as exc:
        return FeedPreview(None, [*notes, f"the feed item does not parse: {exc}"])
