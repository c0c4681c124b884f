"""The podcast feed: every built episode in one RSS 2.0 feed, with its media, in `public/`.

`public/` is built in a temporary folder beside it, checked (artwork, enclosure lengths,
required tags, the XML parses), then swapped in with renames, so a failed build leaves
the previous `public/` as it was.

A ledger the producer commits, `episodes/published.toml`, records each published
episode's guid and enclosure URL; a build that would change one is refused unless
`--allow-changed-guid` is given. Building is not publishing (`make demo` builds with a
placeholder base URL), so this stage never writes that ledger: it leaves the ledger as it
will be after publishing in `public/.ledger.toml`, and `pipeline publish` records it once
the feed has been delivered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
import jinja2
import tomli_w
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from mutagen import MutagenError
from mutagen.mp3 import MP3
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from pipeline.config import ShowSettings, load_show, project_root, read_toml
from pipeline.episode import Episode, load_episode
from pipeline.errors import PipelineError
from pipeline.util import fsutil

# podcast:guid namespace from the Podcasting 2.0 spec.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
NOTES_LIMIT = 4000  # bytes of show notes (HTML) Apple and Spotify accept
TITLE_LIMIT = 255
LEDGER = Path("episodes") / "published.toml"
PENDING = ".ledger.toml"  # in public/: a dot-file, so `pipeline publish` never delivers it
PACKAGE_TEMPLATES = Path(__file__).resolve().parents[2] / "assets" / "templates"
NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
# build file -> the make target that makes it
INPUTS = {
    "episode.mp3": "master",
    "chapters.json": "master",
    "captions.vtt": "captions",
    "captions.srt": "captions",
}
COPIED = ("captions.vtt", "captions.srt", "chapters.json")
CHANNEL_TAGS = (
    "title", "link", "description", "language", "pubDate", "itunes:image[@href]",
    "itunes:category[@text]", "itunes:explicit", "itunes:author", "itunes:owner/itunes:name",
    "itunes:owner/itunes:email", "atom:link[@rel='self']", "podcast:locked", "podcast:guid",
)
ITEM_TAGS = (
    "title", "guid", "pubDate", "description", "enclosure[@url][@length][@type='audio/mpeg']",
    "itunes:duration", "itunes:episode", "itunes:episodeType", "itunes:explicit",
    "podcast:transcript[@type='text/vtt']", "podcast:transcript[@type='application/x-subrip']",
    "podcast:chapters[@url]",
)
LEDGER_HEADER = (
    "# What the feed has published: written by `pipeline publish` once the feed is\n"
    "# delivered; commit it. A published episode keeps its guid and enclosure URL for\n"
    "# ever: `pipeline feed` refuses a build that would change them unless given\n"
    "# --allow-changed-guid.\n\n"
)
PENDING_HEADER = (
    "# The ledger as it will be once this public/ is published: written by `pipeline feed`,\n"
    "# copied to episodes/published.toml by `pipeline publish` after it delivered the feed.\n"
    "# Not delivered (a dot-file). first_published is absent for episodes never published.\n\n"
)
CHANGE_FIX = (
    "undo the change, or rerun with --allow-changed-guid to accept it "
    "(podcast apps then show those episodes again as new)"
)


# ---------------------------------------------------------------- identifiers


def podcast_guid(feed_url: str) -> str:
    """The channel's podcast:guid: UUIDv5 of the feed URL without scheme and trailing slashes."""
    bare = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, bare))


def item_guid(channel_guid: str, slug: str) -> str:
    """An episode's guid: UUIDv5 of its slug in the channel's guid, so unique across shows."""
    return str(uuid.uuid5(uuid.UUID(channel_guid), slug))


def sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


# ---------------------------------------------------------------- the ledger


M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerShow(_Strict):
    feed_url: str
    guid: str  # podcast:guid, made once from the first feed URL and kept when the URL moves

    @field_validator("guid")
    @classmethod
    def _uuid(cls, value: str) -> str:
        return str(uuid.UUID(value))


class LedgerEpisode(_Strict):
    slug: str
    number: int
    guid: str
    enclosure_url: str
    sha256: str
    first_published: dt.datetime  # when `pipeline publish` first delivered a feed with it


class PendingEpisode(LedgerEpisode):
    first_published: dt.datetime | None = None  # None: never published yet


class Ledger(_Strict):
    show: LedgerShow | None = None
    episodes: list[LedgerEpisode] = []

    def entry(self, slug: str) -> LedgerEpisode | None:
        return next((e for e in self.episodes if e.slug == slug), None)


class PendingLedger(_Strict):
    """The ledger as it will be once public/ is published; kept in public/ until then."""

    built_against: str  # sha256 of the episodes/published.toml public/ was built from, or ""
    show: LedgerShow
    episodes: list[PendingEpisode]

    def published(self, ledger: Ledger, now: dt.datetime) -> Ledger:
        """`ledger` after publishing this at `now`: an episode first published now gets `now`;
        one `ledger` already has (this very public/ published before) keeps its time."""
        episodes = []
        for pending in self.episodes:
            old = ledger.entry(pending.slug)
            when = pending.first_published or (old.first_published if old else now)
            episodes.append(LedgerEpisode(**{**pending.model_dump(), "first_published": when}))
        return Ledger(show=self.show, episodes=episodes)

    def changes(self, ledger: Ledger) -> bool:
        """Whether publishing this would change `ledger`."""
        return self.published(ledger, dt.datetime.now(dt.UTC)) != ledger


def _validate(model: type[M], path: Path, fix: str) -> M:
    try:
        return model.model_validate(read_toml(path))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        raise PipelineError(f"ledger entry '{key}': {err['msg'].lower()}", path, fix) from None


def read_ledger(path: Path) -> Ledger:
    """The published-episodes ledger; an empty one when the file does not exist yet."""
    if not path.is_file():
        return Ledger()
    return _validate(Ledger, path, "restore the file from git")


def read_pending(public: Path) -> PendingLedger:
    """The ledger `pipeline feed` left in public/ for `pipeline publish` to record."""
    path = public / PENDING
    if not path.is_file():
        raise PipelineError("public/ has no pending ledger: it was built by an older "
                            "pipeline", path, "rebuild it: make feed")
    return _validate(PendingLedger, path, "rebuild it: make feed")


def ledger_digest(path: Path) -> str:
    """What a pending ledger was built against: the committed ledger's sha256, or ""."""
    return sha256_file(path) if path.is_file() else ""


def ledger_text(ledger: Ledger | PendingLedger) -> str:
    header = PENDING_HEADER if isinstance(ledger, PendingLedger) else LEDGER_HEADER
    return header + tomli_w.dumps(ledger.model_dump(exclude_none=True))


def write_ledger(path: Path, ledger: Ledger) -> bool:
    """Write the ledger atomically when it changed; say whether it did."""
    text = ledger_text(ledger)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    fsutil.write_text(path, text)
    return True


# ---------------------------------------------------------------- inputs and checks


def check_show(show: ShowSettings, path: Path) -> str:
    """The settings a feed cannot do without; returns the base URL without a trailing /."""
    info = show.show
    base = info.base_url.strip().rstrip("/")
    if not base:
        raise PipelineError("show.base_url is empty: the feed needs the URL public/ is served "
                            "from", path, 'set base_url = "https://..." under [show]')
    if not re.match(r"^https?://[^/\s]+", base):
        raise PipelineError(f"show.base_url '{base}' is not an http(s) URL", path,
                            'set base_url = "https://..." under [show]')
    if not info.owner_email.strip():
        raise PipelineError("show.owner_email is empty: Apple and Spotify verify the show "
                            "through it", path, "set owner_email under [show]")
    if not info.description.strip():
        raise PipelineError("show.description is empty", path, "describe the show under [show]")
    if len(info.description.encode()) > NOTES_LIMIT:
        raise PipelineError(f"show.description is over {NOTES_LIMIT} bytes", path, "shorten it")
    return base


def check_artwork(path: Path) -> str:
    """Square, 1400-3000 px, RGB, PNG or JPEG named as such; returns the file's extension."""
    fix = "use a square RGB PNG or JPEG of 1400-3000 px, named .png or .jpg (show.artwork)"
    try:
        with Image.open(path) as image:
            kind, mode, (width, height) = image.format, image.mode, image.size
    except FileNotFoundError:
        raise PipelineError("artwork not found", path, fix) from None
    except (UnidentifiedImageError, OSError):
        raise PipelineError("artwork is not a readable image", path, fix) from None
    suffixes = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}.get(kind or "")
    if suffixes is None:
        raise PipelineError(f"artwork is {kind}, not PNG or JPEG", path, fix)
    if path.suffix.lower() not in suffixes:
        raise PipelineError(f"artwork is {kind} but named {path.suffix or 'without suffix'}",
                            path, f"rename it to {path.stem}{suffixes[0]}")
    if mode != "RGB":
        raise PipelineError(f"artwork is {mode}, not RGB", path, "save it as RGB: no alpha "
                            "channel, no palette, no greyscale")
    if width != height or not 1400 <= width <= 3000:
        raise PipelineError(f"artwork is {width}x{height} px", path, fix)
    return path.suffix.lower()


def check_inputs(episode: Episode) -> None:
    for name, stage in INPUTS.items():
        path = episode.build / name
        if not path.is_file():
            what = "no MP3" if name == "episode.mp3" else f"no {name}"
            raise PipelineError(f"episode {episode.slug} has {what}", path,
                                f"build it: make {stage} EP={episode.slug}")
    chapters = episode.build / "chapters.json"
    try:
        json.loads(chapters.read_text(encoding="utf-8"))["chapters"]
    except (ValueError, KeyError, TypeError):
        raise PipelineError("not a JSON chapters file", chapters,
                            f"rebuild it: make master EP={episode.slug}") from None


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
                            "build one first: make master EP=<slug>")
    for episode in episodes:
        check_inputs(episode)
    return episodes


def mp3_duration(path: Path) -> int:
    """Whole seconds, for itunes:duration."""
    try:
        length = MP3(path).info.length
    except MutagenError as exc:
        raise PipelineError(f"not a readable MP3 ({exc})", path,
                            "rebuild it: make master") from None
    return max(1, round(length))


# ---------------------------------------------------------------- what gets published where


@dataclass(frozen=True)
class Planned:
    """One episode's identity in the feed."""

    episode: Episode
    sha256: str
    guid: str
    mp3_name: str  # the file name under public/<slug>/
    enclosure_url: str
    first_published: dt.datetime | None  # None: never published

    @property
    def slug(self) -> str:
        return self.episode.slug

    def ledger_entry(self) -> PendingEpisode:
        return PendingEpisode(slug=self.slug, number=self.episode.meta.number, guid=self.guid,
                              enclosure_url=self.enclosure_url, sha256=self.sha256,
                              first_published=self.first_published)


def mp3_name(previous: LedgerEpisode | None, sha256: str) -> str:
    """`episode.mp3` at first; the published name while the audio is the same; a new name
    carrying the content hash for corrected audio, since an enclosure URL never changes audio."""
    if previous is None:
        return "episode.mp3"
    if previous.sha256 == sha256:
        return urlsplit(previous.enclosure_url).path.rsplit("/", 1)[-1]
    return f"episode-{sha256[:12]}.mp3"


def renamed_from(ledger: Ledger, number: int, built: set[str]) -> LedgerEpisode | None:
    """A published entry with this episode number whose folder is no longer built."""
    return next((e for e in ledger.episodes if e.number == number and e.slug not in built), None)


def plan_episode(episode: Episode, ledger: Ledger, built: set[str], base: str,
                 channel_guid: str) -> tuple[Planned, LedgerEpisode | None]:
    """Where the episode goes, and the ledger entry it was published under, if any."""
    sha = sha256_file(episode.build / "episode.mp3")
    previous = ledger.entry(episode.slug) or renamed_from(ledger, episode.meta.number, built)
    name = mp3_name(previous, sha)
    planned = Planned(
        episode=episode, sha256=sha, guid=item_guid(channel_guid, episode.slug), mp3_name=name,
        enclosure_url=f"{base}/{episode.slug}/{name}",
        first_published=previous.first_published if previous else None,
    )
    return planned, previous


def change(previous: LedgerEpisode | None, planned: Planned) -> str | None:
    """What this build would change about a published episode, in words; None if nothing."""
    if previous is None:
        return None
    if previous.slug != planned.slug:
        return (f"episode {previous.number} was published as '{previous.slug}' and is now "
                f"'{planned.slug}': its guid would change from {previous.guid} to {planned.guid}")
    if previous.guid != planned.guid:
        return f"'{planned.slug}': its guid would change from {previous.guid} to {planned.guid}"
    if previous.sha256 == planned.sha256 and previous.enclosure_url != planned.enclosure_url:
        return (f"'{planned.slug}': its enclosure URL would change from "
                f"{previous.enclosure_url} to {planned.enclosure_url}")
    return None


def plan(episodes: list[Episode], ledger: Ledger,
         base: str) -> tuple[list[Planned], LedgerShow, list[str]]:
    """Every episode's place, the show's ledger entry, and the changes to published ones."""
    feed_url = f"{base}/feed.xml"
    channel_guid = ledger.show.guid if ledger.show else podcast_guid(feed_url)
    built = {episode.slug for episode in episodes}
    changes = []
    if ledger.show and ledger.show.feed_url != feed_url:
        changes.append(f"the feed URL would change from {ledger.show.feed_url} to {feed_url} "
                       "(show.base_url changed), and every published enclosure URL with it")
    planned, claimed = [], set()
    for episode in episodes:
        item, previous = plan_episode(episode, ledger, built, base, channel_guid)
        planned.append(item)
        claimed.add(previous.slug if previous else item.slug)
        changes.append(change(previous, item))
    changes += [
        f"published episode '{entry.slug}' is gone ({LEDGER.parent}/{entry.slug}/build/"
        "episode.mp3 not found): the feed would drop it"
        for entry in ledger.episodes if entry.slug not in claimed
    ]
    show = LedgerShow(feed_url=feed_url, guid=channel_guid)
    return planned, show, [c for c in changes if c]


def _order(planned: Planned) -> tuple[int, str]:
    return planned.episode.meta.number, planned.slug


# ---------------------------------------------------------------- show notes


def markdown() -> MarkdownIt:
    """CommonMark without raw HTML; bare URLs become links."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable("linkify")
    # Apple's show notes allow p, ol, ul, li and a: headings become bold paragraphs.
    md.add_render_rule("heading_open", lambda *_: "<p><strong>")
    md.add_render_rule("heading_close", lambda *_: "</strong></p>\n")
    return md


SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]*_]*(?=\s|$)")


def _balanced(text: str) -> bool:
    return (text.count("[") == text.count("]") and text.count("(") == text.count(")")
            and text.count("`") % 2 == 0)


def _sentence_prefixes(head: str, paragraph: str) -> Iterator[str]:
    for match in SENTENCE_END.finditer(paragraph):
        piece = paragraph[: match.end()]
        if _balanced(piece):
            yield head + piece


def cut_points(md: MarkdownIt, body: str, env: dict[str, Any]) -> Iterator[str]:
    """Prefixes of the Markdown that end at a sentence, a list item or a block, shortest first.
    `env` collects the body's link reference definitions, for rendering a prefix."""
    lines = body.splitlines(keepends=True)
    for token in md.parse(body, env):
        if token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        if token.level == 0 and token.type == "paragraph_open":
            yield from _sentence_prefixes("".join(lines[:start]), "".join(lines[start:end]))
        top_block = token.level == 0 and not token.type.endswith("list_open")
        if top_block or (token.level == 1 and token.type == "list_item_open"):
            yield "".join(lines[:end])


def _size(html: str) -> int:
    return len(html.encode("utf-8"))


def show_notes(body: str, more_url: str, more_text: str, limit: int = NOTES_LIMIT) -> str:
    """The issue as HTML within `limit` bytes: whole if it fits, else cut after the last
    sentence that fits, followed by a link to the full issue."""
    md = markdown()
    html = md.render(body)
    if _size(html) <= limit:
        return html
    more = f'<p><a href="{escape(more_url)}">{escape(more_text)}</a></p>\n'
    budget = limit - _size(more)
    best, env = "", {}
    for prefix in cut_points(md, body, env):
        # The body's [text][ref] definitions may lie after the cut: render with them all.
        candidate = md.render(prefix, {"references": dict(env.get("references", {}))})
        if _size(candidate) > budget:
            break
        best = candidate
    return best + more


# ---------------------------------------------------------------- rendering


def cdata(text: str) -> Markup:
    """Wrap text in CDATA (a `]]>` inside is split across two sections)."""
    return Markup("<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>")


def environment(root: Path) -> jinja2.Environment:
    """Templates from the project's assets/templates, else the ones shipped beside the code."""
    loader = jinja2.FileSystemLoader([root / "assets" / "templates", PACKAGE_TEMPLATES])
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cdata"] = cdata
    return env


def _yes(value: bool, yes: str = "true", no: str = "false") -> str:
    return yes if value else no


def pub_datetime(episode: Episode) -> dt.datetime:
    """The episode's date at the show's publishing time, in its time zone."""
    feed = episode.settings.feed
    try:
        zone = ZoneInfo(feed.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PipelineError(f"unknown time zone '{feed.timezone}'", episode.source,
                            "set feed.timezone to an IANA name such as Europe/London") from None
    hour, minute = (int(part) for part in feed.pub_time.split(":"))
    return dt.datetime.combine(episode.meta.date, dt.time(hour, minute), tzinfo=zone)


def issue_url(episode: Episode, base: str) -> str:
    template = episode.settings.feed.issue_url.strip()
    return template.replace("{slug}", episode.slug) if template else f"{base}/{episode.slug}/"


def item_context(planned: Planned, base: str) -> dict[str, Any]:
    episode, settings = planned.episode, planned.episode.settings
    title = episode.meta.title
    if len(title) > TITLE_LIMIT:
        raise PipelineError(f"title is {len(title)} characters; feeds allow {TITLE_LIMIT}",
                            episode.source, "shorten the title in the front matter")
    link = issue_url(episode, base)
    mp3 = episode.build / "episode.mp3"
    folder = f"{base}/{episode.slug}"
    when = pub_datetime(episode)
    return {
        "slug": episode.slug, "title": title, "link": link, "guid": planned.guid,
        "date": episode.meta.date.isoformat(), "when": when, "pub_date": format_datetime(when),
        "notes": show_notes(episode.body, link, settings.feed.more_text),
        "full_notes": markdown().render(episode.body),
        "enclosure_url": planned.enclosure_url, "enclosure_file": planned.mp3_name,
        "length": mp3.stat().st_size, "duration": mp3_duration(mp3),
        "number": episode.meta.number, "episode_type": settings.feed.episode_type,
        "explicit": _yes(settings.show.explicit), "language": settings.show.language.strip(),
        "vtt_url": f"{folder}/captions.vtt", "srt_url": f"{folder}/captions.srt",
        "chapters_url": f"{folder}/chapters.json",
    }


def channel_context(show: ShowSettings, base: str, guid: str, artwork_url: str,
                    items: list[dict[str, Any]]) -> dict[str, Any]:
    info, feed = show.show, show.feed
    newest = max(item["when"] for item in items)
    return {
        "title": info.title.strip(), "link": (info.website or base).strip(),
        "description": info.description.strip(), "language": info.language.strip(),
        "copyright": info.copyright.strip(), "pub_date": format_datetime(newest),
        "feed_url": f"{base}/feed.xml", "artwork_url": artwork_url,
        "author": info.author.strip(), "owner_name": info.owner_name.strip(),
        "owner_email": info.owner_email.strip(), "category": info.category.strip(),
        "subcategory": info.subcategory.strip(), "explicit": _yes(info.explicit),
        "show_type": feed.show_type, "locked": _yes(feed.locked, "yes", "no"), "guid": guid,
    }


# ---------------------------------------------------------------- writing public/


@dataclass(frozen=True)
class Site:
    """Everything that goes into public/."""

    channel: dict[str, Any]
    items: list[dict[str, Any]]
    planned: list[Planned]
    artwork: Path
    artwork_name: str
    pending: PendingLedger


def assemble(site: Site, folder: Path, env: jinja2.Environment) -> None:
    shutil.copy2(site.artwork, folder / site.artwork_name)
    (folder / PENDING).write_text(ledger_text(site.pending), encoding="utf-8")
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


def _require(element: ET.Element, paths: tuple[str, ...], what: str, feed: Path) -> None:
    for path in paths:
        if element.find(path, NS) is None:
            raise PipelineError(f"{what} lacks {path}", feed, "fix the feed template")


def _check_local(element: ET.Element, folder: Path, base: str, feed: Path) -> None:
    """Every URL into the site names a file that is there; an enclosure's length is its size."""
    for attribute in ("url", "href"):
        url = element.get(attribute, "")
        if not url.startswith(base + "/"):
            continue
        local = folder / url[len(base) + 1:]
        if not local.is_file():
            raise PipelineError(f"{url} has no file in public/", feed, "fix the feed stage")
        length = element.get("length")
        if length is not None and int(length) != local.stat().st_size:
            raise PipelineError(f"enclosure {url} says {length} bytes but the file has "
                                f"{local.stat().st_size}", feed, "rebuild the feed")


def check_feed(folder: Path, base: str) -> None:
    """The feed parses, carries every required tag, and points at files that are there."""
    feed = folder / "feed.xml"
    try:
        channel = ET.parse(feed).getroot().find("channel")
    except ET.ParseError as exc:
        raise PipelineError(f"the feed does not parse: {exc}", feed, "fix the template") from None
    if channel is None:
        raise PipelineError("the feed has no channel", feed, "fix the template")
    _require(channel, CHANNEL_TAGS, "the channel", feed)
    for item in channel.iter("item"):
        _require(item, ITEM_TAGS, f"item '{item.findtext('title')}'", feed)
        if _size(item.findtext("description") or "") > NOTES_LIMIT:
            raise PipelineError("show notes over 4000 bytes", feed, "fix the feed stage")
    for element in channel.iter():
        _check_local(element, folder, base, feed)


def replace_tree(new: Path, target: Path) -> None:
    """Put `new` in place of `target` with two renames; the old tree is removed after."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    try:
        os.rename(new, target)
    except OSError:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_public(site: Site, root: Path, base: str) -> Path:
    """Build public/ beside itself, check it, swap it in; a failure leaves the old one."""
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=".public.new-"))
    scratch.chmod(0o755)  # mkdtemp makes it private; a web server must read public/
    try:
        assemble(site, scratch, environment(root))
        check_feed(scratch, base)
        replace_tree(scratch, root / "public")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return root / "public" / "feed.xml"


# ---------------------------------------------------------------- the stage


@dataclass(frozen=True)
class FeedResult:
    feed: Path
    planned: list[Planned]
    ledger_pending: bool  # publishing this public/ will change episodes/published.toml
    changes: list[str]


def build_feed(root: Path, allow_changed_guid: bool = False) -> FeedResult:
    """Build public/ from every built episode under `root`, checked against the ledger,
    with the ledger as it will be after publishing in public/.ledger.toml."""
    show_path = root / "assets" / "show.toml"
    show = load_show(root)
    base = check_show(show, show_path)
    ledger_path = root / LEDGER
    ledger = read_ledger(ledger_path)
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
    result = build_feed(root or project_root(), allow_changed_guid)
    for change_line in result.changes:
        click.echo(f"accepted: {change_line}", err=True)
    for planned in result.planned:
        click.echo(f"{planned.slug}: {planned.enclosure_url} (guid {planned.guid})")
    ledger = (f"{LEDGER} is updated when it is published (make publish)"
              if result.ledger_pending else f"{LEDGER} already records it")
    click.echo(f"wrote {result.feed} ({len(result.planned)} episodes); {ledger}")
