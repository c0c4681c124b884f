"""The podcast package read as Apple Podcasts, Spotify and the podcast namespace read it:
public/feed.xml, its channel and this episode's item, and the files they point at."""

from __future__ import annotations

import filecmp
import json
import re
from collections.abc import Iterator
from pathlib import Path

import srt
from mutagen import MutagenError
from mutagen.mp3 import MP3
from PIL import Image, UnidentifiedImageError

from pipeline.formats import Timeline
from pipeline.publish.gate.core import NotChecked, Problem, error, rule, warning
from pipeline.publish.gate.package import PODCAST_FILES, Package
from pipeline.publish.gate.timestamps import (
    broken_rules,
    long_titles,
    read_stamps,
    seconds,
)
from pipeline.publish.ledger import podcast_guid
from pipeline.publish.placeholders import SHOW_FILE, is_example_email
from pipeline.publish.rss import NS
from pipeline.util.platforms import (
    APPLE_CATEGORIES,
    ARTWORK_MAX_PX,
    ARTWORK_MIN_PX,
    CHAPTER_TITLE_MAX,
    FEED_NOTES_MAX,
    FEED_TITLE_MAX,
)

FEED = "public/feed.xml"
REBUILD_FEED = "rebuild the feed: make feed"
ARTWORK_FIX = (f"replace the file show.artwork names in {SHOW_FILE} with a square RGB JPEG or "
               f"PNG of {ARTWORK_MIN_PX}-{ARTWORK_MAX_PX} px (make artwork draws one), then "
               "make feed")
IMAGE_SUFFIXES = {"PNG": (".png",), "JPEG": (".jpg", ".jpeg")}
TRANSCRIPT_TYPES = ("text/vtt", "application/x-subrip", "application/json", "text/html",
                    "text/plain")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _local(pkg: Package, url: str, what: str) -> Path:
    path = pkg.feed.local(url)
    if path is None or not path.is_file():
        raise NotChecked(f"{what} {url or '(no URL)'} names no file in public/")
    return path


# ---------------------------------------------------------------- files


@rule("Package", "podcast files", "podcast")
def files_built(pkg: Package) -> Iterator[Problem]:
    for path in pkg.missing(PODCAST_FILES):
        yield error(f"no {path.name}", f"build it: make episode EP={pkg.episode.slug}",
                    pkg.rel(path))
    if not pkg.feed_file.is_file():
        yield error("no feed is built", "build it: make feed", FEED)
    elif pkg.feed.item_for(pkg.episode.slug) is None:
        yield error(f"the feed has no item for {pkg.episode.slug}", "rebuild it: make feed",
                    FEED)
    else:
        yield from _stale(pkg)


def _stale(pkg: Package) -> Iterator[Problem]:
    """public/ built from an earlier episode.mp3 carries that one, not this build's."""
    element = pkg.item.find("enclosure")
    sent = pkg.feed.local(element.get("url", "") if element is not None else "")
    built = pkg.episode.build / "episode.mp3"
    if sent and sent.is_file() and built.is_file() and not filecmp.cmp(sent, built, False):
        yield warning("public/ carries an earlier build of episode.mp3", "rebuild it: make feed",
                      pkg.rel(sent))


# ---------------------------------------------------------------- Apple


@rule("Apple", "artwork", "podcast")
def artwork(pkg: Package) -> Iterator[Problem]:
    image = pkg.feed.channel.find("itunes:image", NS)
    if image is None or not image.get("href"):
        yield error("the channel has no itunes:image", REBUILD_FEED, FEED)
        return
    path = pkg.feed.local(image.get("href", ""))
    if path is None or not path.is_file():
        yield error(f"the artwork {image.get('href')} names no file in public/", REBUILD_FEED,
                    FEED)
        return
    yield from _artwork_file(path, pkg.rel(path))


def _artwork_file(path: Path, where: str) -> Iterator[Problem]:
    try:
        with Image.open(path) as image:
            kind, mode, (width, height) = image.format or "", image.mode, image.size
    except (UnidentifiedImageError, OSError):
        yield error("the artwork is not a readable image", ARTWORK_FIX, where)
        return
    if kind not in IMAGE_SUFFIXES:
        yield error(f"the artwork is {kind}, not JPEG or PNG", ARTWORK_FIX, where)
    elif path.suffix.lower() not in IMAGE_SUFFIXES[kind]:
        yield error(f"the artwork is {kind} but named {path.suffix}", ARTWORK_FIX, where)
    if mode != "RGB":
        yield error(f"the artwork is {mode}, not RGB", ARTWORK_FIX, where)
    if width != height:
        yield error(f"the artwork is {width}x{height} px, not square", ARTWORK_FIX, where)
    elif width < ARTWORK_MIN_PX:
        yield error(f"the artwork is {width} px, less than {ARTWORK_MIN_PX}", ARTWORK_FIX, where)
    elif width > ARTWORK_MAX_PX:
        yield error(f"the artwork is {width} px, more than {ARTWORK_MAX_PX}", ARTWORK_FIX, where)


@rule("Apple", "explicit flag", "podcast")
def explicit(pkg: Package) -> Iterator[Problem]:
    for where, element in (("the channel", pkg.feed.channel), ("the item", pkg.item)):
        value = element.findtext("itunes:explicit", None, NS)
        if value is None and element is pkg.item:
            continue
        if value not in ("true", "false"):
            yield error(f"{where}'s itunes:explicit is {value!r}, not true or false",
                        f"set explicit = true or false under [show] in {SHOW_FILE}", FEED)


@rule("Apple", "category", "podcast")
def category(pkg: Package) -> Iterator[Problem]:
    fix = f"set category and subcategory under [show] in {SHOW_FILE} from Apple's list"
    element = pkg.feed.channel.find("itunes:category", NS)
    if element is None:
        yield error("the channel has no itunes:category", fix, FEED)
        return
    name = element.get("text", "")
    if name not in APPLE_CATEGORIES:
        yield error(f"'{name}' is not one of Apple's categories", fix, FEED)
        return
    for sub in element.findall("itunes:category", NS):
        if sub.get("text", "") not in APPLE_CATEGORIES[name]:
            yield error(f"'{sub.get('text')}' is not a subcategory of '{name}'", fix, FEED)


@rule("Apple", "owner email", "podcast")
def owner(pkg: Package) -> Iterator[Problem]:
    fix = f"set owner_email under [show] in {SHOW_FILE} to an address you read"
    email = (pkg.feed.channel.findtext("itunes:owner/itunes:email", "", NS) or "").strip()
    if not email:
        yield error("the channel has no owner email", fix, FEED)
    elif not EMAIL.match(email):
        yield error(f"the owner email '{email}' is not an email address", fix, FEED)
    elif is_example_email(email):
        yield error(f"the owner email '{email}' is a placeholder", fix, FEED)


@rule("Apple", "enclosure", "podcast")
def enclosure(pkg: Package) -> Iterator[Problem]:
    element = pkg.item.find("enclosure")
    if element is None:
        yield error("the item has no enclosure", REBUILD_FEED, FEED)
        return
    url, kind = element.get("url", ""), element.get("type", "")
    if not url.startswith(("https://", "http://")):
        yield error(f"the enclosure URL '{url}' is not http(s)", REBUILD_FEED, FEED)
    if kind != "audio/mpeg":
        yield error(f"the enclosure type is '{kind}', not audio/mpeg", REBUILD_FEED, FEED)
    path = _local(pkg, url, "the enclosure")
    size, length = path.stat().st_size, element.get("length", "")
    if length != str(size):
        yield error(f"the enclosure length says {length or 'nothing'} but the file has {size} "
                    "bytes", REBUILD_FEED, FEED)
    try:
        MP3(path)
    except MutagenError:
        yield error("the enclosure is not an MP3", f"rebuild it: make master "
                    f"EP={pkg.episode.slug}, then make feed", pkg.rel(path))


@rule("Apple", "guid", "podcast")
def guid(pkg: Package) -> Iterator[Problem]:
    mine = (pkg.item.findtext("guid") or "").strip()
    if not mine:
        yield error("the item has no guid", REBUILD_FEED, FEED)
        return
    same = [item for item in pkg.feed.items if (item.findtext("guid") or "").strip() == mine]
    if len(same) > 1:
        yield error(f"the guid {mine} is on {len(same)} items: apps merge or drop them",
                    "give each episode its own guid (episodes/published.toml), then make feed",
                    FEED)


@rule("Apple", "titles and notes", "podcast")
def titles(pkg: Package) -> Iterator[Problem]:
    channel_title = (pkg.feed.channel.findtext("title") or "").strip()
    if not channel_title:
        yield error("the channel has no title", f"set title under [show] in {SHOW_FILE}", FEED)
    title = pkg.item.findtext("title") or ""
    fix = f"edit the title in episodes/{pkg.episode.slug}/issue.md, then make feed"
    if not title.strip():
        yield error("the item has no title", fix, FEED)
    elif len(title) > FEED_TITLE_MAX:
        yield error(f"the item title has {len(title)} characters, more than {FEED_TITLE_MAX}",
                    fix, FEED)
    notes = pkg.item.findtext("description") or ""
    if not notes.strip():
        yield error("the item has no show notes", REBUILD_FEED, FEED)
    elif len(notes.encode()) > FEED_NOTES_MAX:
        yield error(f"the show notes are {len(notes.encode())} bytes, more than "
                    f"{FEED_NOTES_MAX}", REBUILD_FEED, FEED)


@rule("Apple", "duration", "podcast")
def duration(pkg: Package) -> Iterator[Problem]:
    said = pkg.item.findtext("itunes:duration", "", NS) or ""
    element = pkg.item.find("enclosure")
    path = _local(pkg, element.get("url", "") if element is not None else "", "the enclosure")
    try:
        length = MP3(path).info.length
    except MutagenError:
        raise NotChecked("the enclosure is not an MP3") from None
    if not said.isdigit():
        yield error(f"itunes:duration is '{said}', not whole seconds", REBUILD_FEED, FEED)
    elif abs(int(said) - length) > 2:
        yield error(f"itunes:duration says {said} s but the audio lasts {length:.0f} s",
                    REBUILD_FEED, FEED)


# ---------------------------------------------------------------- Spotify


@rule("Spotify", "audio", "podcast")
def audio(pkg: Package) -> Iterator[Problem]:
    element = pkg.item.find("enclosure")
    path = _local(pkg, element.get("url", "") if element is not None else "", "the enclosure")
    streams = [s for s in pkg._probe(path).get("streams", []) if s.get("codec_type") == "audio"]
    fix = f"set [audio] in {SHOW_FILE}, then make master EP={pkg.episode.slug} and make feed"
    if not streams or streams[0].get("codec_name") != "mp3":
        yield error("the enclosure's audio is not MP3", fix, pkg.rel(path))
        return
    rate, bits = int(streams[0].get("sample_rate", 0)), int(streams[0].get("bit_rate", 0))
    if rate not in (44100, 48000):
        yield warning(f"the audio is sampled at {rate} Hz, not 44.1 or 48 kHz", fix, pkg.rel(path))
    if bits < 96_000:
        yield warning(f"the audio is {bits // 1000} kbps, less than 96", fix, pkg.rel(path))


@rule("Spotify", "chapters in the show notes", "podcast")
def notes_chapters(pkg: Package) -> Iterator[Problem]:
    stamps = read_stamps(pkg.item.findtext("description") or "")
    fix = "rebuild the show notes from build/chapters.json: make feed"
    if not stamps:
        yield warning("the show notes carry no chapter time codes: Spotify shows no chapters",
                      fix, FEED)
        return
    seconds = float(pkg.item.findtext("itunes:duration", "0", NS) or 0)
    for broken in broken_rules(stamps, seconds):
        yield warning(f"show notes chapters: {broken}", fix, FEED)
    for stamp in long_titles(stamps):
        yield warning(f"the chapter title at {stamp.text} has {len(stamp.title)} characters, "
                      f"more than {CHAPTER_TITLE_MAX}", "shorten the section's heading", FEED)


# ---------------------------------------------------------------- podcast namespace


@rule("Podcast namespace", "podcast:guid", "podcast")
def show_guid(pkg: Package) -> Iterator[Problem]:
    value = (pkg.feed.channel.findtext("podcast:guid", "", NS) or "").strip()
    expected = podcast_guid(pkg.feed.base + "/feed.xml")
    if not value:
        yield error("the channel has no podcast:guid", REBUILD_FEED, FEED)
    elif value != expected:
        yield error(f"podcast:guid {value} is not the UUIDv5 of the feed URL ({expected})",
                    "keep the guid in episodes/published.toml and the base URL together, then "
                    "make feed", FEED)


@rule("Podcast namespace", "podcast:locked", "podcast")
def locked(pkg: Package) -> Iterator[Problem]:
    value = pkg.feed.channel.findtext("podcast:locked", None, NS)
    if value is not None and value.strip() not in ("yes", "no"):
        yield error(f"podcast:locked is '{value}', not yes or no",
                    f"set locked = true or false under [feed] in {SHOW_FILE}", FEED)


@rule("Podcast namespace", "podcast:transcript", "podcast")
def transcripts(pkg: Package) -> Iterator[Problem]:
    found = pkg.item.findall("podcast:transcript", NS)
    if not any(t.get("type") == "text/vtt" for t in found):
        yield error("the item has no WebVTT podcast:transcript (Apple ingests WebVTT)",
                    REBUILD_FEED, FEED)
    for element in found:
        kind, url = element.get("type", ""), element.get("url", "")
        if kind not in TRANSCRIPT_TYPES:
            yield error(f"podcast:transcript type '{kind}' is not one the namespace names",
                        REBUILD_FEED, FEED)
            continue
        yield from _transcript_file(pkg, _local(pkg, url, "the transcript"), kind)


def _transcript_file(pkg: Package, path: Path, kind: str) -> Iterator[Problem]:
    fix = f"rebuild it: make captions EP={pkg.episode.slug}, then make feed"
    if kind == "text/vtt" and not pkg.cues(path):
        yield error("the WebVTT transcript does not parse or has no cue", fix, pkg.rel(path))
    if kind == "application/x-subrip" and not _srt_cues(path):
        yield error("the SRT transcript does not parse or has no cue", fix, pkg.rel(path))


def _srt_cues(path: Path) -> list:
    try:
        return list(srt.parse(path.read_text(encoding="utf-8")))
    except (srt.SRTParseError, UnicodeDecodeError, ValueError):
        return []


@rule("Podcast namespace", "podcast:txt", "podcast")
def ai_content(pkg: Package) -> Iterator[Problem]:
    """The disclosure apps read: true when a voice engine narrates any of it."""
    element = pkg.item.find("podcast:txt[@purpose='ai-content']", NS)
    if element is None:
        yield error('the item has no podcast:txt purpose="ai-content" (the synthetic-voice '
                    "disclosure)", REBUILD_FEED, FEED)
        return
    synthetic = Timeline.read(pkg.episode.build).synthetic
    said = (element.text or "").strip()
    if said != ("true" if synthetic else "false"):
        voice = "a synthetic voice" if synthetic else "only recordings"
        yield error(f"podcast:txt ai-content says {said}, but timeline.json has {voice}",
                    REBUILD_FEED, FEED)


@rule("Podcast namespace", "psc:chapters", "podcast")
def podlove_chapters(pkg: Package) -> Iterator[Problem]:
    element = pkg.item.find("psc:chapters", NS)
    if element is None:
        yield error("the item has no psc:chapters (Podlove Simple Chapters)", REBUILD_FEED, FEED)
        return
    try:
        starts = [seconds(c.get("start", "")) for c in element.findall("psc:chapter", NS)]
    except ValueError:
        yield error("a Podlove chapter's start is not HH:MM:SS.mmm", REBUILD_FEED, FEED)
        return
    if starts != sorted(starts) or (starts and starts[0] != 0):
        yield error("the Podlove chapters are not in time order from 0", REBUILD_FEED, FEED)


@rule("Podcast namespace", "podcast:chapters", "podcast")
def json_chapters(pkg: Package) -> Iterator[Problem]:
    element = pkg.item.find("podcast:chapters", NS)
    if element is None:
        yield error("the item has no podcast:chapters", REBUILD_FEED, FEED)
        return
    if element.get("type") != "application/json+chapters":
        yield error(f"podcast:chapters type is '{element.get('type')}', not "
                    "application/json+chapters", REBUILD_FEED, FEED)
    path = _local(pkg, element.get("url", ""), "the chapters")
    yield from _chapters_file(pkg, path)


def _chapters_file(pkg: Package, path: Path) -> Iterator[Problem]:
    fix, where = f"rebuild it: make master EP={pkg.episode.slug}, then make feed", pkg.rel(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        starts = [float(c["startTime"]) for c in data["chapters"]]
        names = [str(c.get("title", "")).strip() for c in data["chapters"]]
        version = data["version"]
    except (ValueError, KeyError, TypeError):
        yield error("the JSON chapters do not parse (version, chapters, startTime)", fix, where)
        return
    if not str(version).startswith("1."):
        yield error(f"the JSON chapters' version is '{version}', not 1.x", fix, where)
    if starts != sorted(starts):
        yield error("the JSON chapters are not in time order", fix, where)
    if not all(names):
        yield error("a JSON chapter has no title", fix, where)
    seconds = float(pkg.item.findtext("itunes:duration", "0", NS) or 0)
    if starts and seconds and starts[-1] >= seconds:
        yield error(f"a JSON chapter starts at {starts[-1]:.0f} s, after the audio ends",
                    fix, where)
