"""An episode's package as it leaves: the build files YouTube is sent and the public/ files
the podcast apps fetch, each read once, lazily, and shared by the rules that need it."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import webvtt

from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import target_for
from pipeline.media import ffmpeg
from pipeline.media.meter import metered
from pipeline.publish.gate.core import NotChecked
from pipeline.publish.gate.timestamps import seconds
from pipeline.publish.rss import NS
from pipeline.speech.cues import Cue

YOUTUBE_FILES = ("video.mp4", "thumbnail.jpg", "captions.vtt", "youtube-title.txt",
                 "youtube-description.txt")
PODCAST_FILES = ("episode.mp3", "chapters.json", "captions.vtt", "captions.srt")
PROBED = ("video.mp4", "episode.mp3")  # the files the rules read with ffprobe
Probes = Mapping[Path, Future[ffmpeg.ProbeInfo]]


def probe_file(path: Path) -> ffmpeg.ProbeInfo:
    return ffmpeg.probed(path, fix=f"rebuild it: {target_for(path)}")


def start_probes(episode: Episode, pool: Executor) -> Probes:
    """ffprobe of each built file the rules probe, started on `pool`: the probes run at
    once, beside the caller's own work, for a Package handed them."""
    paths = [episode.build / name for name in PROBED]
    return {path: pool.submit(probe_file, path) for path in paths if path.is_file()}


def read_vtt(path: Path) -> list[Cue]:
    """A WebVTT file read as players read it (webvtt-py), as cues with their text unescaped;
    an empty list when it does not parse."""
    try:
        parsed = webvtt.read(str(path))
    except (webvtt.errors.MalformedFileError, UnicodeDecodeError, ValueError):
        return []
    return [Cue(seconds(c.start), seconds(c.end),
                [html.unescape(line) for line in c.lines], 0) for c in parsed]


@dataclass(frozen=True)
class Feed:
    """public/feed.xml parsed, with its channel, its base URL and the folder it maps to."""

    path: Path
    channel: ET.Element
    base: str  # the atom:link self URL less /feed.xml

    @property
    def items(self) -> list[ET.Element]:
        return self.channel.findall("item")

    def item_for(self, slug: str) -> ET.Element | None:
        for item in self.items:
            enclosure = item.find("enclosure")
            url = enclosure.get("url", "") if enclosure is not None else ""
            if f"/{slug}/" in url:
                return item
        return None

    def local(self, url: str) -> Path | None:
        """The file in public/ a URL names, or None for a URL outside the site."""
        if not self.base or not url.startswith(self.base + "/"):
            return None
        return self.path.parent / url[len(self.base) + 1:]


class Package:
    """What the rules read. A file that is missing makes the rules needing it not run."""

    def __init__(self, episode: Episode, loudness: tuple[float, float] | None = None,
                 probes: Probes | None = None):
        self.episode = episode
        self.root = episode.root
        self._loudness = loudness
        self._started = dict(probes or {})
        self._probed: dict[Path, ffmpeg.ProbeInfo] = {}
        self._cues: dict[Path, list[Cue]] = {}

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)

    def built(self, name: str) -> Path:
        """A build file, or NotChecked naming the target that makes it."""
        path = self.episode.build / name
        if not path.is_file():
            raise NotChecked(f"no {name} ({target_for(path)})")
        return path

    def missing(self, names: tuple[str, ...]) -> list[Path]:
        return [self.episode.build / n for n in names if not (self.episode.build / n).is_file()]

    @cached_property
    def feed_file(self) -> Path:
        return self.root / "public" / "feed.xml"

    @cached_property
    def feed(self) -> Feed:
        """The parsed feed; NotChecked when it is not built, PipelineError when it is broken."""
        if not self.feed_file.is_file():
            raise NotChecked("no public/feed.xml (make feed)")
        try:
            channel = ET.parse(self.feed_file).getroot().find("channel")
        except ET.ParseError as exc:
            raise PipelineError(f"public/feed.xml does not parse: {exc}") from None
        if channel is None:
            raise PipelineError("public/feed.xml has no channel")
        self_link = channel.find("atom:link[@rel='self']", NS)
        href = self_link.get("href", "") if self_link is not None else ""
        return Feed(self.feed_file, channel, href.rsplit("/", 1)[0] if href else "")

    @cached_property
    def item(self) -> ET.Element:
        found = self.feed.item_for(self.episode.slug)
        if found is None:
            raise NotChecked(f"public/feed.xml has no item for {self.episode.slug} (make feed)")
        return found

    def cues(self, path: Path) -> list[Cue]:
        """A WebVTT file's cues (read_vtt), parsed once for every rule that reads them."""
        if path not in self._cues:
            self._cues[path] = read_vtt(path)
        return self._cues[path]

    def probe(self, name: str) -> ffmpeg.ProbeInfo:
        return self._probe(self.built(name))

    def _probe(self, path: Path) -> ffmpeg.ProbeInfo:
        if path not in self._probed:
            started = self._started.pop(path, None)
            self._probed[path] = started.result() if started else probe_file(path)
        return self._probed[path]

    @cached_property
    def loudness(self) -> tuple[float, float]:
        """(integrated LUFS, true peak dBTP) of episode.mp3, measured unless handed in."""
        if self._loudness is not None:
            return self._loudness
        mp3 = self.built("episode.mp3")
        loud = metered(mp3, f"rebuild it: {target_for(mp3)}").loud
        silent = float("-inf")  # ebur128's figures for silence, which the rules then report
        return (silent if loud.integrated is None else loud.integrated,
                silent if loud.true_peak is None else loud.true_peak)
