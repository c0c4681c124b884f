"""The feed stage, read back by two real podcast clients' parsers (feedparser, podcastparser)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import io
import json
import re
import shutil
import subprocess
import threading
import tomllib
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import jinja2
import podcastparser
import pytest
from mutagen.id3 import CHAP, ID3, TIT2
from PIL import Image

from pipeline.cli import main
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.formats import Chapter, Chapters
from pipeline.publish import deliver as publish
from pipeline.publish import feed, rss, shownotes
from pipeline.publish.ledger import Planned, podcast_guid
from pipeline.publish.serve import make_server
from pipeline.util.hashing import sha256_file
from tests import builders
from tests.digest_issue import GUIDE, HIDDEN_URLS, Html, digest_body, digest_urls, tag_text

REPO = Path(__file__).resolve().parent.parent
# the show's own values: `pipeline publish` refuses the sample's example.org placeholders
BASE = "https://mlaisu.test/podcast"
OWNER = "podcast@mlaisu.test"
NS = rss.NS
LEGACY_PODCAST_NS = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
TRICKY = 'Tom & Jerry <b>bold</b> "quoted" \'single\' 🤖 safety'
FIRST = "2024-05-10-first-steps"
SECOND = "2024-05-17-tricky-title"
NOW = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.UTC)


def tone(path: Path, seconds: float, frequency: int) -> Path:
    """A real MP3 from ffmpeg: a sine tone, mono, 44.1 kHz, at the podcast loudness."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
            f"sine=frequency={frequency}:duration={seconds}:sample_rate=44100",
            "-af", "loudnorm=I=-16:TP=-2:LRA=7", "-ar", "44100",
            "-ac", "1", "-b:a", "128k", str(path)]
    subprocess.run(argv, check=True)
    return path


def probe_seconds(path: Path) -> float:
    argv = ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
            str(path)]
    return float(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {"short": tone(folder / "short.mp3", 2, 440),
            "long": tone(folder / "long.mp3", 3, 660)}


VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello and welcome.\n"
SRT = "1\n00:00:00,000 --> 00:00:01,500\nHello and welcome.\n"


class FeedProject:
    """A throwaway project: show settings, artwork and built episodes."""

    def __init__(self, root: Path, tones: dict[str, Path]):
        self.root = root
        self.tones = tones
        (root / "assets").mkdir(parents=True)
        shutil.copy(REPO / "assets" / "show.toml", root / "assets" / "show.toml")
        self.set_show("base_url", BASE)
        self.set_show("owner_email", OWNER)
        Image.new("RGB", (1400, 1400), (20, 60, 120)).save(root / "assets" / "artwork.png")

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def ledger(self) -> Path:
        return self.root / "episodes" / "published.toml"

    @property
    def site(self) -> Path:
        return self.root.parent / "site"

    def recorded(self) -> dict:
        return tomllib.loads(self.ledger.read_text(encoding="utf-8"))

    def publish(self, now: dt.datetime = NOW) -> publish.Published:
        return publish.publish(self.root, str(self.site), now=now)

    def episode(self, slug: str, title: str, number: int, body: str,
                audio: str | None = "short", source: str = "hibari",
                chapters: list[tuple[float, float, str]] | None = None) -> Path:
        """An episode built as far as the feed reads it; `source` narrates its one
        segment ("recording": the producer's); `chapters` as (start, end, title)."""
        folder = self.root / "episodes" / slug
        (folder / "build").mkdir(parents=True, exist_ok=True)
        front = (f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nnumber: {number}\n"
                 f"date: {slug[:10]}\nsummary: Episode {number} in brief.\n---\n\n")
        (folder / "issue.md").write_text(front + body, encoding="utf-8")
        if audio:
            shutil.copy(self.tones[audio], folder / "build" / "episode.mp3")
            tags = ID3()  # the MP3's chapter, as the master stage writes chapters.json's
            tags.add(CHAP(element_id="chp0", start_time=0, end_time=1500,
                          sub_frames=[TIT2(encoding=3, text="Intro")]))
            tags.save(folder / "build" / "episode.mp3")
        marks = chapters or [(0, 1.5, "Intro")]
        Chapters(chapters=[Chapter(startTime=a, endTime=b, title=t) for a, b, t in marks]).write(
            folder / "build")
        builders.timeline([builders.timed("intro/intro-1", 0.2, 1.4, 0, source=source)],
                          1.5).write(folder / "build")
        (folder / "build" / "captions.vtt").write_text(VTT, encoding="utf-8")
        (folder / "build" / "captions.srt").write_text(SRT, encoding="utf-8")
        return folder

    def set_show(self, key: str, value: str) -> None:
        path = self.root / "assets" / "show.toml"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = [f'{key} = "{value}"' if line.startswith(f"{key} =") else line for line in lines]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def build(self, **options: object) -> feed.FeedResult:
        return feed.build_feed(self.root, **options)

    def feed_bytes(self) -> bytes:
        return (self.public / "feed.xml").read_bytes()

    def items(self) -> dict[str, ET.Element]:
        channel = ET.parse(self.public / "feed.xml").getroot().find("channel")
        return {item.findtext("link").rstrip("/").rsplit("/", 1)[-1]: item
                for item in channel.iter("item")}

    def snapshot(self) -> dict[str, bytes]:
        return {p.relative_to(self.public).as_posix(): p.read_bytes()
                for p in sorted(self.public.rglob("*")) if p.is_file()}


@pytest.fixture
def project(tmp_path: Path, tones: dict[str, Path],
            monkeypatch: pytest.MonkeyPatch) -> FeedProject:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    made = FeedProject(tmp_path / "show", tones)
    made.episode(FIRST, "First Steps", 1,
                 "Hello. See [the paper](https://arxiv.org/abs/1234.5678) today.\n\n"
                 "## News\n\n- One [link](https://example.com/one)\n- Two\n")
    # Raw HTML is markup in an issue: a tag written as text goes in a code span.
    made.episode(SECOND, TRICKY, 2, "Second issue, with `<html>` & ampersands, 3 < 4.\n")
    return made


# ---------------------------------------------------------------- identifiers


@pytest.mark.parametrize(("url", "expected"), [
    ("podnews.net/rss", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ("https://podnews.net/rss/", "9b024349-ccf0-5f69-a609-6b82873eab3c"),
    ("mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
    ("http://mp3s.nashownotes.com/pc20rss.xml", "917393e3-1b1e-5cef-ace4-edaa54e1f810"),
])
def test_podcast_guid_matches_the_spec_test_vectors(url: str, expected: str) -> None:
    assert podcast_guid(url) == expected


# ---------------------------------------------------------------- read by real clients


def test_feedparser_reads_every_field(project: FeedProject) -> None:
    project.build()
    project.publish()
    parsed = feedparser.parse(project.feed_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "ML & AI Safety Updates"
    assert parsed.feed.podcast_guid == podcast_guid(f"{BASE}/feed.xml")
    assert parsed.feed.image.href.startswith(f"{BASE}/artwork-")
    assert parsed.feed.language == "en"
    ledger = tomllib.loads(project.ledger.read_text(encoding="utf-8"))
    guids = {e["slug"]: e["guid"] for e in ledger["episodes"]}
    entries = {e.link.rstrip("/").rsplit("/", 1)[-1]: e for e in parsed.entries}
    assert list(entries) == [SECOND, FIRST]  # newest first
    for number, slug in enumerate([FIRST, SECOND], 1):
        entry = entries[slug]
        mp3 = project.public / slug / "episode.mp3"
        enclosure = entry.enclosures[0]
        assert entry.id == guids[slug]
        assert enclosure.href == f"{BASE}/{slug}/episode.mp3"
        assert int(enclosure.length) == mp3.stat().st_size
        assert enclosure.type == "audio/mpeg"
        assert int(entry.itunes_duration) == round(probe_seconds(mp3)) == 2
        assert entry.podcast_transcript["url"] == f"{BASE}/{slug}/captions.vtt"
        assert entry.podcast_chapters["url"] == f"{BASE}/{slug}/chapters.json"
        assert entry.podcast_chapters["type"] == "application/json+chapters"
        assert int(entry.itunes_episode) == number
        assert not entry.itunes_explicit  # feedparser maps "false" to None
        assert entry.published_parsed[:3] == tuple(int(p) for p in slug[:10].split("-"))
    assert entries[SECOND].title == TRICKY
    assert '<a href="https://arxiv.org/abs/1234.5678">the paper</a>' in entries[FIRST].summary


def parse_with_podcastparser(data: bytes) -> dict:
    # podcastparser 0.6.11 knows the podcast namespace only by its old GitHub URI, which
    # the spec declares identical to the canonical one the feed uses.
    legacy = data.replace(NS["podcast"].encode(), LEGACY_PODCAST_NS.encode())
    return podcastparser.parse(f"{BASE}/feed.xml", io.BytesIO(legacy))


def test_podcastparser_reads_every_field(project: FeedProject) -> None:
    project.build()
    project.publish()
    parsed = parse_with_podcastparser(project.feed_bytes())
    assert parsed["title"] == "ML & AI Safety Updates"
    assert parsed["explicit"] is False
    assert parsed["itunes_owner"] == {"name": "Apart Research", "email": OWNER}
    assert parsed["itunes_categories"] == [["Technology"]]
    assert parsed["type"] == "episodic"
    episodes = {e["number"]: e for e in parsed["episodes"]}
    ledger = tomllib.loads(project.ledger.read_text(encoding="utf-8"))
    for entry in ledger["episodes"]:
        episode = episodes[entry["number"]]
        slug = entry["slug"]
        mp3 = project.public / slug / "episode.mp3"
        assert episode["guid"] == entry["guid"]
        assert episode["enclosures"] == [{"url": f"{BASE}/{slug}/episode.mp3",
                                          "file_size": mp3.stat().st_size,
                                          "mime_type": "audio/mpeg"}]
        assert episode["total_time"] == round(probe_seconds(mp3))
        assert episode["transcript_url"] == f"{BASE}/{slug}/captions.vtt"
        assert episode["chapters_json_url"] == f"{BASE}/{slug}/chapters.json"
        assert episode["explicit"] is False
        assert episode["type"] == "full"
        assert episode["link"] == f"{BASE}/{slug}/"
        day = dt.datetime.fromisoformat(f"{slug[:10]}T06:00:00+00:00")
        assert episode["published"] == int(day.timestamp())
    assert episodes[2]["title"] == TRICKY


def test_every_tag_platforms_list_is_there(project: FeedProject) -> None:
    project.build()
    root = ET.parse(project.public / "feed.xml").getroot()
    channel = root.find("channel")
    for path in rss.CHANNEL_TAGS:
        assert channel.find(path, NS) is not None, path
    assert channel.find("atom:link", NS).get("href") == f"{BASE}/feed.xml"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    assert channel.find("podcast:locked", NS).get("owner") == OWNER
    for item in channel.iter("item"):
        slug = item.findtext("link").rstrip("/").rsplit("/", 1)[-1]
        for path in rss.ITEM_TAGS:
            assert item.find(path, NS) is not None, path
        transcripts = {t.get("type"): t.get("url") for t in item.findall("podcast:transcript", NS)}
        assert transcripts == {"text/vtt": f"{BASE}/{slug}/captions.vtt",
                               "application/x-subrip": f"{BASE}/{slug}/captions.srt"}
        assert item.findtext("itunes:episodeType", namespaces=NS) == "full"
        when = email.utils.parsedate_to_datetime(item.findtext("pubDate"))
        assert when.tzinfo is not None and when.utcoffset() == dt.timedelta(0)
    for slug in (FIRST, SECOND):
        build = project.root / "episodes" / slug / "build"
        for name in ("captions.vtt", "captions.srt", "chapters.json", "episode.mp3"):
            assert (project.public / slug / name).read_bytes() == (build / name).read_bytes()
        assert (project.public / slug / "index.html").is_file()


def test_special_characters_survive_the_round_trip(project: FeedProject) -> None:
    project.build()
    data = project.feed_bytes()
    assert feedparser.parse(data).entries[0].title == TRICKY
    assert parse_with_podcastparser(data)["episodes"][0]["title"] == TRICKY
    item = project.items()[SECOND]
    assert item.findtext("title") == TRICKY
    assert "&lt;html&gt; &amp; ampersands, 3 &lt; 4." in item.findtext("description")


def test_pub_date_uses_the_show_time_zone(project: FeedProject) -> None:
    project.set_show("timezone", "America/New_York")
    project.set_show("pub_time", "09:30")
    project.build()
    text = project.items()[FIRST].findtext("pubDate")
    assert text == "Fri, 10 May 2024 09:30:00 -0400"


# ---------------------------------------------------------------- show notes


def test_short_show_notes_are_the_whole_issue_with_links(project: FeedProject) -> None:
    project.build()
    notes = project.items()[FIRST].findtext("description")
    disclosure = load_show(project.root).disclosure.notes
    assert notes == f"<p>{disclosure}</p>\n" + shownotes.markdown().render(
        (project.root / "episodes" / FIRST / "issue.md").read_text().split("---\n", 2)[2])
    assert '<a href="https://example.com/one">link</a>' in notes
    assert "<p><strong>News</strong></p>" in notes


def test_issue_url_setting_replaces_the_episode_page(project: FeedProject) -> None:
    project.set_show("issue_url", "https://example.org/mlaisu/issues/{slug}")
    project.build()
    assert project_links(project) == {f"https://example.org/mlaisu/issues/{s}"
                                      for s in (FIRST, SECOND)}


def project_links(project: FeedProject) -> set[str]:
    return {e.link for e in feedparser.parse(project.feed_bytes()).entries}


def test_long_show_notes_are_cut_at_a_sentence_with_a_link_to_the_issue() -> None:
    sentence = "Sentence {n} cites [source {n}](https://example.org/{n}) and ends here. "
    body = "\n\n".join("".join(sentence.format(n=f"{p}.{s}") for s in range(6))
                       for p in range(40))
    full = shownotes.markdown().render(body)
    assert len(full.encode()) > 4000
    notes = shownotes.show_notes(body, "https://example.org/issue/", "Read the full issue")
    assert len(notes.encode()) <= 4000
    kept, closing = notes.rsplit("<p>", 1)
    assert kept.rstrip().endswith("ends here.</p>")
    assert full.startswith(kept.rstrip()[: -len("</p>")])
    assert len(kept.encode()) > 3000  # it used most of the room
    shown = kept.count('<a href="https://example.org/')
    assert shown == kept.count("ends here.")
    url = "https://example.org/issue/"
    assert closing == (f"{40 - kept.count('<p>')} more items and {240 - shown} more links. "
                       f'Read the full issue: <a href="{url}">{url}</a></p>\n')


def test_cut_notes_keep_reference_style_links() -> None:
    body = "".join(f"Paragraph {n} cites [the source][s{n % 3}]. It goes on a while.\n\n"
                   for n in range(120))
    body += "".join(f"[s{n}]: https://example.org/source-{n}\n" for n in range(3))
    notes = shownotes.show_notes(body, "https://x.org/i", "More")
    assert len(notes.encode()) <= 4000
    assert "[the source]" not in notes
    assert notes.count('<a href="https://example.org/source-') == notes.count("Paragraph ") > 20


def test_long_list_is_cut_between_items() -> None:
    body = "".join(f"- Item {n}: [a link](https://example.org/{n}) with words.\n"
                   for n in range(200))
    notes = shownotes.show_notes(body, "https://x.org/i", "More")
    assert len(notes.encode()) <= 4000
    assert notes.count("<li>") == notes.count("</li>") > 20
    left = 200 - notes.count("<li>")
    assert notes.endswith(f'</ul>\n<p>{left} more items and {left} more links. '
                          'More: <a href="https://x.org/i">https://x.org/i</a></p>\n')


# ---------------------------------------------------------------- disclosure and chapters

CHAPTERED = "2024-05-31-chaptered"
RECORDED = "2024-06-07-recorded"
SECTIONS = [(0.0, 12.5, "Introduction"), (12.5, 17.0, "A short aside"),
            (17.0, 61.2, "🔬 Mechanistic interpretability, superposition and the rest"),
            (61.2, 75.0, "Tom & Jerry"), (75.0, 80.0, "Outro")]
STAMP = re.compile(r"^(\d\d):(\d\d) (.+)$", re.M)


def chaptered(project: FeedProject) -> None:
    project.episode(CHAPTERED, "Chaptered", 3, "Body text.\n", chapters=SECTIONS)
    project.episode(RECORDED, "Recorded", 4, "Read by us.\n", source="recording")
    project.build()


def test_podcast_apps_read_the_podlove_chapters_and_the_disclosure(
        project: FeedProject) -> None:
    chaptered(project)
    data = project.feed_bytes()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    entries = {e.link.rstrip("/").rsplit("/", 1)[-1]: e for e in parsed.entries}
    psc = entries[CHAPTERED].psc_chapters
    assert psc.version == "1.2"
    assert [(c.start_parsed.total_seconds(), c.title) for c in psc.chapters] == [
        (a, t) for a, _, t in SECTIONS]  # every chapter of chapters.json, as ID3 has them
    episodes = {e["number"]: e for e in parse_with_podcastparser(data)["episodes"]}
    assert [(c["start"], c["title"]) for c in episodes[3]["chapters"]] == [
        (int(a), t) for a, _, t in SECTIONS]
    for slug, said in ((CHAPTERED, "true"), (RECORDED, "false"), (FIRST, "true")):
        assert entries[slug].podcast_txt == {"purpose": "ai-content"}
        txt = project.items()[slug].find("podcast:txt", NS)
        assert (txt.get("purpose"), txt.text) == ("ai-content", said)
    notes = load_show(project.root).disclosure.notes
    assert entries[CHAPTERED].summary.startswith(f"<p>{notes}</p>")
    assert notes not in entries[RECORDED].summary
    assert episodes[4]["description"] == "Read by us."
    page = {slug: (project.public / slug / "index.html").read_text(encoding="utf-8")
            for slug in (CHAPTERED, RECORDED)}
    assert f"<em>{notes}</em>" in page[CHAPTERED] and notes not in page[RECORDED]


def test_show_notes_list_chapters_by_the_apps_rules(project: FeedProject) -> None:
    chaptered(project)
    data = project.feed_bytes()
    entry = next(e for e in feedparser.parse(data).entries if e.link.endswith(CHAPTERED + "/"))
    text = next(e for e in parse_with_podcastparser(data)["episodes"]
                if e["number"] == 3)["description"]
    for notes in (Html(entry.summary).text, text):
        found = [(int(m) * 60 + int(s), title) for m, s, title in STAMP.findall(notes)]
        starts = [start for start, _ in found]
        # the 4.5 s aside joins the next, the 5 s outro the one before: all 10 s or more
        assert starts == [0, 12, 61]
        assert [t for _, t in found] == ["Introduction", "Mechanistic interpretability…",
                                         "Tom & Jerry"]
    assert "<p>00:00 Introduction</p>" in entry.summary  # each on its own line


def test_too_few_chapters_for_the_rules_leave_the_list_out(project: FeedProject) -> None:
    project.episode(CHAPTERED, "Chaptered", 3, "Body text.\n",
                    chapters=[(0.0, 40.0, "Introduction"), (40.0, 95.0, "Only section"),
                              (95.0, 101.0, "Outro")])
    project.build()
    item = project.items()[CHAPTERED]
    assert not STAMP.search(item.findtext("description"))
    assert "Chapters" not in item.findtext("description")
    assert len(item.findall("psc:chapters/psc:chapter", NS)) == 3  # the feed's own still do


def test_chapters_past_an_hour_carry_hours(project: FeedProject) -> None:
    project.episode(CHAPTERED, "Chaptered", 3, "Body text.\n",
                    chapters=[(0.0, 1800.0, "Introduction"), (1800.0, 3700.0, "Long"),
                              (3700.0, 3800.0, "Outro")])
    project.build()
    notes = project.items()[CHAPTERED].findtext("description")
    assert "<p>00:00:00 Introduction</p>\n<p>00:30:00 Long</p>\n<p>01:01:40 Outro</p>" in notes


def test_cut_notes_leave_room_for_the_disclosure_and_the_chapters(
        project: FeedProject) -> None:
    body = "".join(f"Paragraph {n} says a fair amount about nothing in particular.\n\n"
                   for n in range(200))
    project.episode(CHAPTERED, "Chaptered", 3, body, chapters=SECTIONS)
    project.build()
    notes = project.items()[CHAPTERED].findtext("description")
    assert len(notes.encode()) <= 4000
    assert notes.startswith("<p>Narrated with a synthetic")
    assert notes.endswith("<p>01:01 Tom &amp; Jerry</p>\n")
    assert "Read the full issue: " in notes


DIGEST = "2024-05-24-link-digest"


def test_a_digest_issue_reaches_podcast_apps_and_its_page_clean(project: FeedProject) -> None:
    project.episode(DIGEST, "Link Digest", 3, digest_body())
    project.build()
    data = project.feed_bytes()
    assert GUIDE.encode() not in data and not any(u.encode() in data for u in HIDDEN_URLS)
    notes = project.items()[DIGEST].findtext("description")
    assert len(notes.encode()) <= 4000
    assert Html(notes).tags <= {"p", "ul", "li", "a", "strong"}
    entry = next(e for e in feedparser.parse(data).entries if e.link.endswith(DIGEST + "/"))
    closing = f"Read the full issue: {BASE}/{DIGEST}/"
    assert Html(entry.summary).text.rstrip().endswith(closing)
    episode = next(e for e in parse_with_podcastparser(data)["episodes"] if e["number"] == 3)
    text = episode["description"]
    assert not tag_text(text) and "Paper · Lab · Link" in text and text.endswith(closing)
    assert " more sections, " in text and " more items and " in text
    page_html = (project.public / DIGEST / "index.html").read_text(encoding="utf-8")
    page = Html(page_html)
    assert GUIDE not in page_html and not page.comments and not tag_text(page.text)
    assert len(page.find("table")) == 1 and page.find("small") and page.find("br")
    assert page.hrefs() >= digest_urls() and not page.hrefs() & set(HIDDEN_URLS)


# ---------------------------------------------------------------- the ledger


def test_rebuilding_keeps_every_guid(project: FeedProject) -> None:
    first = project.build()
    assert first.ledger_pending and not project.ledger.exists()  # built, not published
    feed_before = project.feed_bytes()
    again = project.build()
    assert again.ledger_pending and not project.ledger.exists()
    assert project.feed_bytes() == feed_before  # no build time in it: reruns are identical
    assert [p.guid for p in again.planned] == [p.guid for p in first.planned]  # no ledger
    assert project.publish().ledger_changed
    ledger = project.recorded()
    assert not project.build().ledger_pending
    assert project.feed_bytes() == feed_before
    project.episode("2024-05-24-third", "Third", 3, "Three.\n")
    second = project.build()
    assert second.ledger_pending
    assert project.recorded() == ledger  # until it is published
    guids = {p.slug: (p.guid, p.enclosure_url) for p in second.planned}
    for planned in first.planned:
        assert guids[planned.slug] == (planned.guid, planned.enclosure_url)
    assert len({guid for guid, _ in guids.values()}) == 3
    later = NOW + dt.timedelta(days=7)
    assert project.publish(now=later).ledger_changed
    after = project.recorded()
    assert after["show"] == ledger["show"]
    assert after["episodes"][:2] == ledger["episodes"]  # first_published kept too
    assert [e["first_published"] for e in after["episodes"]] == [NOW, NOW, later]
    assert [item.findtext("guid") for item in project.items().values()] == [
        guids[slug][0] for slug in ("2024-05-24-third", SECOND, FIRST)]


def test_the_pending_ledger_is_in_public_and_never_delivered(project: FeedProject) -> None:
    result = project.build()
    pending = tomllib.loads((project.public / ".ledger.toml").read_text(encoding="utf-8"))
    assert pending["built_against"] == ""  # no ledger committed yet
    assert pending["show"] == {"feed_url": f"{BASE}/feed.xml",
                               "guid": podcast_guid(f"{BASE}/feed.xml")}
    assert [(e["slug"], e["guid"]) for e in pending["episodes"]] == [
        (p.slug, p.guid) for p in sorted(result.planned, key=lambda p: p.episode.meta.number)]
    assert not any("first_published" in e for e in pending["episodes"])  # never published
    project.publish()
    assert not (project.site / ".ledger.toml").exists()
    assert not list(project.site.rglob(".*"))
    assert project.recorded()["episodes"] == [
        {**e, "first_published": NOW} for e in pending["episodes"]]
    project.build()
    again = tomllib.loads((project.public / ".ledger.toml").read_text(encoding="utf-8"))
    assert again["built_against"] == sha256_file(project.ledger)
    assert again["episodes"] == project.recorded()["episodes"]


def test_a_feed_never_published_may_change_anything(project: FeedProject) -> None:
    # `make demo` builds with the placeholder base URL: that publishes nothing.
    project.build()
    project.set_show("base_url", "https://cdn.mlaisu.test/pod")
    (project.root / "episodes" / FIRST).rename(project.root / "episodes" / "2024-05-10-renamed")
    shutil.copy(project.tones["long"], project.root / "episodes" / SECOND / "build" / "episode.mp3")
    result = project.build()
    assert result.changes == [] and not project.ledger.exists()
    new_base = "https://cdn.mlaisu.test/pod"
    parsed = feedparser.parse(project.feed_bytes())
    assert parsed.feed.podcast_guid == podcast_guid(f"{new_base}/feed.xml")
    assert {e.enclosures[0].href for e in parsed.entries} == {
        f"{new_base}/2024-05-10-renamed/episode.mp3", f"{new_base}/{SECOND}/episode.mp3"}


def test_ledger_refuses_a_renamed_slug_unless_told(project: FeedProject) -> None:
    project.build()
    project.publish()
    before = project.snapshot()
    recorded = project.ledger.read_bytes()
    old_guid = project.items()[FIRST].findtext("guid")
    renamed = project.root / "episodes" / "2024-05-10-first-steps-renamed"
    (project.root / "episodes" / FIRST).rename(renamed)
    with pytest.raises(PipelineError) as caught:
        project.build()
    line = caught.value.line()
    assert "published as '2024-05-10-first-steps' and is now" in line
    assert old_guid in line and "--allow-changed-guid" in line and "\n" not in line
    assert project.snapshot() == before
    result = project.build(allow_changed_guid=True)
    assert result.changes and renamed.name in result.changes[0]
    assert project.ledger.read_bytes() == recorded  # accepted, not yet published
    project.publish(now=NOW + dt.timedelta(hours=1))
    ledger = project.recorded()
    slugs = {e["slug"]: e["guid"] for e in ledger["episodes"]}
    assert FIRST not in slugs and slugs[renamed.name] != old_guid
    assert project.items()[renamed.name].findtext("guid") == slugs[renamed.name]
    assert {e["first_published"] for e in ledger["episodes"]} == {NOW}  # first publication
    assert project.build().changes == []  # the ledger now knows the new slug


def test_ledger_refuses_a_changed_base_url_unless_told(project: FeedProject) -> None:
    project.build()
    project.publish()
    before = project.snapshot()
    recorded = project.ledger.read_bytes()
    guids = {slug: item.findtext("guid") for slug, item in project.items().items()}
    channel_guid = feedparser.parse(project.feed_bytes()).feed.podcast_guid
    project.set_show("base_url", "https://cdn.mlaisu.test/pod")
    with pytest.raises(PipelineError, match="feed URL would change"):
        project.build()
    assert project.snapshot() == before
    project.build(allow_changed_guid=True)
    assert project.ledger.read_bytes() == recorded  # accepted, not yet published
    parsed = feedparser.parse(project.feed_bytes())
    assert parsed.feed.podcast_guid == channel_guid  # the spec: never changes once made
    for entry in parsed.entries:
        assert entry.enclosures[0].href.startswith("https://cdn.mlaisu.test/pod/")
    assert {slug: item.findtext("guid") for slug, item in project.items().items()} == guids
    project.publish()
    assert project.recorded()["show"] == {"feed_url": "https://cdn.mlaisu.test/pod/feed.xml",
                                          "guid": channel_guid}


def test_a_corrected_mp3_gets_a_new_enclosure_url_and_keeps_its_guid(
        project: FeedProject) -> None:
    first = {p.slug: p for p in project.build().planned}
    project.publish()
    shutil.copy(project.tones["long"], project.root / "episodes" / FIRST / "build" / "episode.mp3")
    second = {p.slug: p for p in project.build().planned}
    sha = sha256_file(project.tones["long"])
    assert second[FIRST].guid == first[FIRST].guid
    assert second[FIRST].enclosure_url == f"{BASE}/{FIRST}/episode-{sha[:12]}.mp3"
    assert second[SECOND].enclosure_url == first[SECOND].enclosure_url
    item = project.items()[FIRST]
    assert item.findtext("itunes:duration", namespaces=NS) == "3"
    project.publish()
    ledger = project.recorded()
    entry = next(e for e in ledger["episodes"] if e["slug"] == FIRST)
    assert entry["sha256"] == sha and entry["enclosure_url"] == second[FIRST].enclosure_url
    assert project.build().planned[-1].enclosure_url == second[FIRST].enclosure_url
    assert (project.site / FIRST / "episode.mp3").is_file()  # apps with the old feed


def test_a_published_episode_that_vanished_is_refused(project: FeedProject) -> None:
    project.build()
    project.publish()
    shutil.rmtree(project.root / "episodes" / SECOND)
    with pytest.raises(PipelineError, match=f"published episode '{SECOND}' is gone"):
        project.build()
    project.build(allow_changed_guid=True)
    assert list(project.items()) == [FIRST]


def test_a_damaged_ledger_is_one_line_naming_it(project: FeedProject) -> None:
    project.build()
    project.publish()
    text = project.ledger.read_text(encoding="utf-8")
    project.ledger.write_text(text.replace("number = 1", 'number = "one"'), encoding="utf-8")
    with pytest.raises(PipelineError, match=r"ledger entry episodes\[0\]\.number") as caught:
        project.build()
    assert caught.value.path == str(project.ledger) and "\n" not in caught.value.line()


def test_a_failed_publish_leaves_the_ledger_as_it_was(project: FeedProject, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    project.build()
    project.publish()
    recorded = project.ledger.read_bytes()
    project.episode("2024-05-24-third", "Third", 3, "Three.\n")
    project.build()
    # Everything but the feed reaches this destination: the feed is not published.
    site = tmp_path / "other-site"
    (site / "feed.xml").mkdir(parents=True)
    with pytest.raises(PipelineError, match="cannot write feed.xml there"):
        publish.publish(project.root, str(site))
    assert (site / "2024-05-24-third" / "episode.mp3").is_file()
    assert project.ledger.read_bytes() == recorded
    with monkeypatch.context() as patched:
        patched.setenv("PATH", str(tmp_path / "no-tools"))
        with pytest.raises(PipelineError, match="rsync is not installed"):
            publish.publish(project.root, "me@host:/srv/pod")
    assert project.ledger.read_bytes() == recorded
    assert project.publish().ledger_changed
    assert "2024-05-24-third" in {e["slug"] for e in project.recorded()["episodes"]}


def test_publish_refuses_a_public_built_before_the_ledger_changed(project: FeedProject) -> None:
    project.build()
    project.publish()
    assert not project.publish().ledger_changed  # the same public/ again: nothing to record
    project.episode("2024-05-24-third", "Third", 3, "Three.\n")
    project.build()
    text = project.ledger.read_text(encoding="utf-8")
    project.ledger.write_text(text.replace("2026-11-29", "2026-11-28"), encoding="utf-8")
    changed = project.ledger.read_bytes()
    with pytest.raises(PipelineError, match="the ledger changed since public/ was built") as caught:
        project.publish()
    assert caught.value.fix == "rebuild public/ against it first: make feed"
    assert project.ledger.read_bytes() == changed
    assert not (project.site / "2024-05-24-third").exists()  # refused before sending


# ---------------------------------------------------------------- checks and errors


def test_a_failing_check_leaves_public_untouched(project: FeedProject) -> None:
    project.build()
    before = project.snapshot()
    Image.new("RGBA", (1400, 1400)).save(project.root / "assets" / "artwork.png")
    with pytest.raises(PipelineError, match="artwork is RGBA, not RGB"):
        project.build()
    assert project.snapshot() == before
    Image.new("RGB", (1400, 1400)).save(project.root / "assets" / "artwork.png")
    # A template that drops a required tag fails the check after public/ was assembled.
    templates = project.root / "assets" / "templates"
    templates.mkdir()
    text = (REPO / "assets" / "templates" / "feed.xml.j2").read_text(encoding="utf-8")
    (templates / "feed.xml.j2").write_text(
        text.replace("    <podcast:guid>{{ channel.guid }}</podcast:guid>\n", ""), "utf-8")
    with pytest.raises(PipelineError, match="the channel lacks podcast:guid"):
        project.build()
    assert project.snapshot() == before
    assert sorted(p.name for p in project.root.iterdir()) == [  # no scratch left beside it
        ".public.lock", "assets", "episodes", "public"]


def test_enclosure_length_is_checked_against_the_file(project: FeedProject,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    project.build()
    before = project.snapshot()
    real = feed.item_context

    def lying(planned: Planned, base: str) -> rss.FeedItem:
        return dataclasses.replace(real(planned, base), length=12345)

    monkeypatch.setattr(feed, "item_context", lying)
    with pytest.raises(PipelineError, match="says 12345 bytes but the file has"):
        project.build()
    assert project.snapshot() == before


@pytest.mark.parametrize(("size", "mode", "name", "message"), [
    ((1400, 1400), "RGBA", "artwork.png", "artwork is RGBA, not RGB"),
    ((1400, 1400), "P", "artwork.png", "artwork is P, not RGB"),
    ((1200, 1200), "RGB", "artwork.png", "artwork is 1200x1200 px"),
    ((3100, 3100), "RGB", "artwork.png", "artwork is 3100x3100 px"),
    ((1500, 1400), "RGB", "artwork.png", "artwork is 1500x1400 px"),
    ((1400, 1400), "RGB", "artwork.jpg", "artwork is PNG but named .jpg"),
])
def test_artwork_checks(tmp_path: Path, size: tuple[int, int], mode: str, name: str,
                        message: str) -> None:
    path = tmp_path / name
    Image.new(mode, size).save(path, format="PNG")
    with pytest.raises(PipelineError, match=message):
        rss.check_artwork(path)


def test_good_artwork_passes(tmp_path: Path) -> None:
    Image.new("RGB", (3000, 3000)).save(tmp_path / "a.jpeg", format="JPEG")
    assert rss.check_artwork(tmp_path / "a.jpeg") == ".jpeg"


def test_missing_base_url_is_one_line(project: FeedProject) -> None:
    project.set_show("base_url", "")
    with pytest.raises(PipelineError) as caught:
        project.build()
    assert caught.value.path.endswith("assets/show.toml")
    assert "show.base_url is empty" in caught.value.line()
    assert "\n" not in caught.value.line()


def test_missing_owner_email_is_one_line(project: FeedProject) -> None:
    project.set_show("owner_email", "")
    with pytest.raises(PipelineError, match="show.owner_email is empty") as caught:
        project.build()
    assert caught.value.path.endswith("assets/show.toml") and caught.value.fix


def test_no_episode_built(project: FeedProject) -> None:
    for slug in (FIRST, SECOND):
        (project.root / "episodes" / slug / "build" / "episode.mp3").unlink()
    with pytest.raises(PipelineError, match="no episode is built") as caught:
        project.build()
    assert caught.value.path.endswith("episodes")
    assert not project.public.exists()


def test_a_published_episode_without_its_mp3(project: FeedProject) -> None:
    project.build()
    project.publish()
    mp3 = project.root / "episodes" / FIRST / "build" / "episode.mp3"
    mp3.unlink()
    with pytest.raises(PipelineError, match=f"episode {FIRST} has no MP3") as caught:
        project.build()
    assert caught.value.path == str(mp3)
    assert caught.value.fix == f"build it: make master EP={FIRST}"


def test_missing_captions_name_the_file(project: FeedProject) -> None:
    vtt = project.root / "episodes" / SECOND / "build" / "captions.vtt"
    vtt.unlink()
    with pytest.raises(PipelineError, match="has no captions.vtt") as caught:
        project.build()
    assert caught.value.path == str(vtt)


def test_cli_builds_and_reports_errors_on_one_line(project: FeedProject,
                                                   capsys: pytest.CaptureFixture) -> None:
    main(["feed", "--root", str(project.root)])
    out = capsys.readouterr().out
    assert f"{BASE}/{FIRST}/episode.mp3" in out
    assert "episodes/published.toml is updated when it is published (make publish)" in out
    publish_argv = ["publish", "--root", str(project.root), "--destination", str(project.site)]
    main(publish_argv)
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "recorded it in episodes/published.toml: commit it"
    main(publish_argv)
    assert capsys.readouterr().out.splitlines() == [
        "published: nothing changed", "episodes/published.toml unchanged"]
    main(["feed", "--root", str(project.root)])
    assert "episodes/published.toml already records it" in capsys.readouterr().out
    project.set_show("owner_email", "")
    with pytest.raises(SystemExit) as failed:
        main(["feed", "--root", str(project.root)])
    assert failed.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "owner_email" in err and "\n" not in err


# ---------------------------------------------------------------- published end to end


def test_publish_a_built_feed_to_a_folder(project: FeedProject, tmp_path: Path) -> None:
    project.build()
    order: list[str] = []
    site = tmp_path / "site"
    assert not project.ledger.exists()
    done = publish.publish(project.root, str(site), on_copy=order.append)
    assert done.steps == order and done.ledger_changed and project.ledger.is_file()
    assert order[-1] == "feed.xml"
    assert [name for name in order if name.endswith(".mp3")] == order[:2]
    assert ".ledger.toml" not in order and not (site / ".ledger.toml").exists()
    parsed = feedparser.parse((site / "feed.xml").read_bytes())
    for entry in parsed.entries:
        local = site / entry.enclosures[0].href[len(BASE) + 1:]
        assert local.stat().st_size == int(entry.enclosures[0].length)


def test_preview_server_serves_the_built_feed_with_its_own_urls(project: FeedProject) -> None:
    project.build()
    server = make_server(project.public, port=0, base_url=BASE)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    here = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{here}/feed.xml", timeout=10) as response:
            parsed = feedparser.parse(response.read())
        enclosure = parsed.entries[0].enclosures[0]
        assert enclosure.href == f"{here}/{SECOND}/episode.mp3"
        request = urllib.request.Request(enclosure.href, headers={"Range": "bytes=100-299"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 206
            audio = (project.public / SECOND / "episode.mp3").read_bytes()
            assert response.read() == audio[100:300]
    finally:
        server.shutdown()
        server.server_close()
    assert BASE.encode() in project.feed_bytes()  # the file itself is untouched


def test_templates_are_compiled_once_then_again_after_an_edit_or_other_options(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run renders with a new environment: the compiled template comes from the cache
    while its source and the environment's options are those it was compiled from."""
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def compile_counted(env: jinja2.Environment, source: str, *args, **kwargs):
        compiled.append(source)
        return real(env, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", compile_counted)
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    template = tmp_path / "assets" / "templates" / "probe.txt.j2"
    template.parent.mkdir(parents=True)
    template.write_text("{% if x %}\n{{ x }}!\n{% endif %}\n", encoding="utf-8")

    def render() -> str:
        return rss.environment(tmp_path).get_template(template.name).render(x="<a>")
    assert render() == render() == "&lt;a&gt;!\n" and len(compiled) == 1
    template.write_text("{{ x }}?\n", encoding="utf-8")
    assert render() == "&lt;a&gt;?\n" and len(compiled) == 2
    monkeypatch.setattr(rss, "OPTIONS", {**rss.OPTIONS, "autoescape": False})
    assert render() == "<a>?\n" and len(compiled) == 3
