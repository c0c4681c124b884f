"""The RSS feed's parts: the show and artwork checks, the channel and each item as the
feed template renders them, and the check of a rendered feed (it parses, carries every
required tag, and every URL into the site names a file that is there)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from markupsafe import Markup
from mutagen import MutagenError
from mutagen.mp3 import MP3
from PIL import Image, UnidentifiedImageError

from pipeline.config import ShowSettings, cache_dir, template_dirs
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, Timeline, rebuild_hint
from pipeline.publish.chapterlist import chapter_list
from pipeline.publish.ledger import Planned
from pipeline.publish.shownotes import chapters_html, episode_notes, notes_chapter_title, page_html
from pipeline.util.platforms import (
    ARTWORK_MAX_PX,
    ARTWORK_MIN_PX,
    FEED_NOTES_MAX,
    FEED_TITLE_MAX,
)
from pipeline.util.timecode import timestamp

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
    "psc": "http://podlove.org/simple-chapters",
}
# <podcast:txt purpose="ai-content">true|false</podcast:txt>: the podcast namespace has no
# finalised tag for AI disclosure; this use of its txt tag is what hosts and apps read today.
AI_CONTENT = "ai-content"
# How the templates are compiled; the compiled templates are kept by these and jinja's version
OPTIONS = {"autoescape": True, "trim_blocks": True, "lstrip_blocks": True,
           "keep_trailing_newline": True}


CHANNEL_TAGS = (
    "title", "link", "description", "language", "pubDate", "itunes:image[@href]",
    "itunes:category[@text]", "itunes:explicit", "itunes:author", "itunes:owner/itunes:name",
    "itunes:owner/itunes:email", "atom:link[@rel='self']", "podcast:locked", "podcast:guid",
)


ITEM_TAGS = (
    "title", "guid", "pubDate", "description", "enclosure[@url][@length][@type='audio/mpeg']",
    "itunes:duration", "itunes:episode", "itunes:episodeType", "itunes:explicit",
    "podcast:transcript[@type='text/vtt']", "podcast:transcript[@type='application/x-subrip']",
    "podcast:chapters[@url]", f"podcast:txt[@purpose='{AI_CONTENT}']", "psc:chapters",
)


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
    if len(info.description.encode()) > FEED_NOTES_MAX:
        raise PipelineError(f"show.description is over {FEED_NOTES_MAX} bytes", path,
                            "shorten it")
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
    if width != height or not ARTWORK_MIN_PX <= width <= ARTWORK_MAX_PX:
        raise PipelineError(f"artwork is {width}x{height} px", path, fix)
    return path.suffix.lower()


def mp3_duration(path: Path) -> int:
    """Whole seconds, for itunes:duration."""
    try:
        length = MP3(path).info.length
    except MutagenError as exc:
        raise PipelineError(f"not a readable MP3 ({exc})", path, rebuild_hint(path)) from None
    return max(1, round(length))


def cdata(text: str) -> Markup:
    """Wrap text in CDATA (a `]]>` inside is split across two sections)."""
    return Markup("<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>")


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept in the cache, each by its source (jinja checks it), so that
    a template is compiled once, not by every run (a twentieth of a second for the review
    page); None where that folder cannot be made."""
    options = f"{jinja2.__version__}|{sorted(OPTIONS.items())}"
    folder = cache_dir() / "jinja" / hashlib.sha256(options.encode()).hexdigest()[:16]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def environment(root: Path) -> jinja2.Environment:
    """Templates from the project's assets/templates, else the ones shipped beside the code."""
    loader = jinja2.FileSystemLoader(template_dirs(root))
    env = jinja2.Environment(loader=loader, undefined=jinja2.StrictUndefined,
                             bytecode_cache=bytecode_cache(), **OPTIONS)
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


@dataclass(frozen=True)
class PscChapter:
    """A Podlove Simple Chapter: its start as normal play time (00:01:02.500) and title."""

    start: str
    title: str


@dataclass(frozen=True)
class Disclosed:
    """What an item says about its narration and chapters, beside the issue's notes."""

    ai_content: str  # "true" when any narration is synthesised, else "false"
    notes_first: str  # the show notes' first paragraph ('' for a recorded episode)
    notes_chapters: str  # the timestamps as show-notes HTML ('' when too few qualify)
    psc: list[PscChapter]  # every chapter of chapters.json


def disclosed(episode: Episode) -> Disclosed:
    """From timeline.json (who narrates) and chapters.json (the chapters)."""
    synthetic = Timeline.read(episode.build).synthetic
    chapters = Chapters.read(episode.build).chapters
    duration = chapters[-1].endTime if chapters else 0.0
    listed, _ = chapter_list([(c.startTime, c.title) for c in chapters], duration,
                             notes_chapter_title, "Spotify")
    return Disclosed(
        ai_content=_yes(synthetic),
        notes_first=episode.settings.disclosure.notes if synthetic else "",
        notes_chapters=chapters_html(listed, duration >= 3600),
        psc=[PscChapter(timestamp(c.startTime), c.title) for c in chapters])


@dataclass(frozen=True)
class FeedItem:
    """One episode as the feed and its page show it."""

    slug: str
    title: str
    link: str
    guid: str
    date: str
    when: dt.datetime
    pub_date: str
    notes: str  # HTML within the platforms' limit
    full_notes: str  # the whole issue as sanitised HTML, for its page
    enclosure_url: str
    enclosure_file: str
    length: int
    duration: int
    number: int
    episode_type: str
    explicit: str
    language: str
    vtt_url: str
    srt_url: str
    chapters_url: str
    ai_content: str  # podcast:txt purpose="ai-content": "true" or "false"
    disclosure: str  # what the notes and the episode page say of a synthetic voice, or ''
    psc: list[PscChapter]


def item_context(planned: Planned, base: str) -> FeedItem:
    episode, settings = planned.episode, planned.episode.settings
    title = episode.meta.title
    if len(title) > FEED_TITLE_MAX:
        raise PipelineError(f"title is {len(title)} characters; feeds allow {FEED_TITLE_MAX}",
                            episode.source, "shorten the title in the front matter")
    link = issue_url(episode, base)
    mp3 = episode.build / "episode.mp3"
    folder = f"{base}/{episode.slug}"
    when = pub_datetime(episode)
    said = disclosed(episode)
    return FeedItem(
        slug=episode.slug, title=title, link=link, guid=planned.guid,
        date=episode.meta.date.isoformat(), when=when, pub_date=format_datetime(when),
        notes=episode_notes(episode.body, link, settings.feed.more_text, said.notes_first,
                            said.notes_chapters),
        full_notes=page_html(episode.body),
        enclosure_url=planned.enclosure_url, enclosure_file=planned.mp3_name,
        length=mp3.stat().st_size, duration=mp3_duration(mp3),
        number=episode.meta.number, episode_type=settings.feed.episode_type,
        explicit=_yes(settings.show.explicit), language=settings.show.language.strip(),
        vtt_url=f"{folder}/captions.vtt", srt_url=f"{folder}/captions.srt",
        chapters_url=f"{folder}/chapters.json", ai_content=said.ai_content,
        disclosure=said.notes_first, psc=said.psc)


@dataclass(frozen=True)
class Channel:
    """The show as the feed's channel element carries it."""

    title: str
    link: str
    description: str
    language: str
    copyright: str
    pub_date: str
    feed_url: str
    artwork_url: str
    author: str
    owner_name: str
    owner_email: str
    category: str
    subcategory: str
    explicit: str
    show_type: str
    locked: str
    guid: str


def channel_context(show: ShowSettings, base: str, guid: str, artwork_url: str,
                    items: list[FeedItem]) -> Channel:
    info, feed = show.show, show.feed
    newest = max(item.when for item in items)
    return Channel(
        title=info.title.strip(), link=(info.website or base).strip(),
        description=info.description.strip(), language=info.language.strip(),
        copyright=info.copyright.strip(), pub_date=format_datetime(newest),
        feed_url=f"{base}/feed.xml", artwork_url=artwork_url,
        author=info.author.strip(), owner_name=info.owner_name.strip(),
        owner_email=info.owner_email.strip(), category=info.category.strip(),
        subcategory=info.subcategory.strip(), explicit=_yes(info.explicit),
        show_type=feed.show_type, locked=_yes(feed.locked, "yes", "no"), guid=guid)


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
        # named by its template and the text it choked on: this rendering is deleted next
        line = feed.read_text(encoding="utf-8").splitlines()[exc.position[0] - 1].strip()
        raise PipelineError(f"the feed rendered from feed.xml.j2 does not parse: {exc}, in "
                            f"{ascii(line[:80])}", None, "fix the template, or the text in "
                            "show.toml or the issue that this line carries") from None
    if channel is None:
        raise PipelineError("the feed has no channel", feed, "fix the template")
    _require(channel, CHANNEL_TAGS, "the channel", feed)
    for item in channel.iter("item"):
        _require(item, ITEM_TAGS, f"item '{item.findtext('title')}'", feed)
        if len((item.findtext("description") or "").encode()) > FEED_NOTES_MAX:
            raise PipelineError(f"show notes over {FEED_NOTES_MAX} bytes", feed,
                                "fix the feed stage")
    for element in channel.iter():
        _check_local(element, folder, base, feed)
