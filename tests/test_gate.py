"""The pre-flight gate: a good package passes, and each of many deliberately broken packages
is caught by its own rule with its own message, read from real files (ffmpeg, Pillow,
mutagen); upload and publish stop on an error and go on past a warning."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import webvtt
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags
from PIL import Image

from pipeline.cli import main
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapter, Chapters
from pipeline.publish import feed, gate
from pipeline.publish.gate.core import Report
from pipeline.publish.youtube import upload
from pipeline.stages import review
from tests.builders import timed, timeline

REPO = Path(__file__).resolve().parent.parent
SLUG = "2024-05-17-gate-test"
BASE = "https://gate.test/podcast"
OWNER = "producer@gate.test"
SECONDS = 36
# titles of one length: mutagen orders frames by size, then by id (chp0, chp1, chp2)
SECTIONS = [(0, 12, "Intro"), (12, 24, "Today"), (24, 36, "Outro")]
DESCRIPTION = "A test episode.\n\n0:00 Intro\n0:12 Today\n0:24 Outro\n"
CUES = [(0.5, 2.5, "Hello and welcome."), (3.0, 5.0, "This is the news."),
        (30.0, 33.0, "Thanks for listening.")]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def vtt(cues: list[tuple[float, float, str]]) -> str:
    def stamp(t: float) -> str:
        return f"00:{int(t // 60):02d}:{t % 60:06.3f}"
    return "WEBVTT\n\n" + "\n".join(f"{stamp(a)} --> {stamp(b)}\n{text}\n" for a, b, text in cues)


def srt_text(cues: list[tuple[float, float, str]]) -> str:
    def stamp(t: float) -> str:
        return f"00:{int(t // 60):02d}:{t % 60:06.3f}".replace(".", ",")
    return "\n".join(f"{n}\n{stamp(a)} --> {stamp(b)}\n{text}\n"
                     for n, (a, b, text) in enumerate(cues, 1))


def tone_mp3(path: Path, *, rate: int = 44100, bitrate: str = "128k", gain: str = "") -> None:
    """A real MP3 at the podcast target (-16 LUFS) unless `gain` moves it."""
    chain = "loudnorm=I=-16:TP=-2:LRA=7" + (f",volume={gain}" if gain else "")
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}:sample_rate=48000",
           "-af", chain, "-ar", str(rate), "-ac", "1", "-b:a", bitrate, str(path))


def write_chapters(mp3: Path, ids: list[str]) -> None:
    tags = ID3(mp3) if _has_tags(mp3) else ID3()
    tags.delall("CHAP")
    tags.delall("CTOC")
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text="Chapters")]))
    for cid, (start, end, title) in zip(ids, SECTIONS, strict=False):
        tags.add(CHAP(element_id=cid, start_time=start * 1000, end_time=end * 1000,
                      sub_frames=[TIT2(encoding=3, text=title)]))
    tags.save(mp3)


def _has_tags(mp3: Path) -> bool:
    return mp3.read_bytes()[:3] == b"ID3"


def video(path: Path, mp3: Path, *extra: str) -> None:
    ffmpeg("-f", "lavfi", "-i", f"color=c=navy:s=320x180:r=30:d={SECONDS}", "-i", str(mp3), *extra,
           "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-shortest", str(path))


@dataclass
class Package:
    root: Path

    @property
    def build(self) -> Path:
        return self.root / "episodes" / SLUG / "build"

    @property
    def public(self) -> Path:
        return self.root / "public"

    @property
    def feed_xml(self) -> Path:
        return self.public / "feed.xml"

    def sent(self, name: str) -> Path:
        return self.public / SLUG / name

    @property
    def enclosure(self) -> Path:
        return next((self.public / SLUG).glob("episode*.mp3"))

    def edit_feed(self, old: str | re.Pattern, new: str) -> None:
        text = self.feed_xml.read_text(encoding="utf-8")
        changed = re.sub(old, new, text, count=1) if isinstance(old, re.Pattern) \
            else text.replace(old, new, 1)
        assert changed != text, f"nothing to edit: {old}"
        self.feed_xml.write_text(changed, encoding="utf-8")

    def set_show(self, key: str, value: str) -> None:
        path = self.root / "assets" / "show.toml"
        lines = path.read_text(encoding="utf-8").splitlines()
        lines = [f"{key} = {value}" if line.startswith(f"{key} =") else line for line in lines]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def artwork(self) -> Path:
        return next(self.public.glob("artwork-*"))

    def check(self, scopes: tuple[str, ...] = gate.SCOPES) -> Report:
        return gate.check(load_episode(self.root / "episodes" / SLUG), scopes)


def make_package(root: Path) -> Package:
    made = Package(root)
    (root / "assets").mkdir(parents=True)
    shutil.copy(REPO / "assets" / "show.toml", root / "assets" / "show.toml")
    made.set_show("base_url", f'"{BASE}"')
    made.set_show("owner_email", f'"{OWNER}"')
    made.set_show("website", f'"{BASE}"')
    Image.new("RGB", (1400, 1400), (20, 60, 120)).save(root / "assets" / "artwork.png")
    made.build.mkdir(parents=True)
    (made.build.parent / "issue.md").write_text(
        "---\ntitle: Gate Test\nnumber: 7\ndate: 2024-05-17\nsummary: A test episode.\n---\n\n"
        "Hello and welcome.\n\n## News\n\nThis is the news.\n", encoding="utf-8")
    mp3 = made.build / "episode.mp3"
    tone_mp3(mp3)
    write_chapters(mp3, ["chp0", "chp1", "chp2"])
    Chapters(chapters=[Chapter(startTime=a, endTime=b, title=t) for a, b, t in SECTIONS]) \
        .write(made.build)
    segments = [timed(f"{sid}/paragraph-1", a + 0.5, b - 1, n) for n, (sid, (a, b, _)) in
                enumerate(zip(("intro", "today", "outro"), SECTIONS, strict=True))]
    timeline(segments, SECONDS, titles={"intro": "Intro", "today": "Today",
                                        "outro": "Outro"}).write(made.build)
    (made.build / "captions.vtt").write_text(vtt(CUES), encoding="utf-8")
    (made.build / "captions.srt").write_text(srt_text(CUES), encoding="utf-8")
    Image.new("RGB", (1280, 720), (200, 80, 20)).save(made.build / "thumbnail.jpg")
    video(made.build / "video.mp4", mp3)
    (made.build / "youtube-title.txt").write_text("Gate Test\n", encoding="utf-8")
    (made.build / "youtube-description.txt").write_text(DESCRIPTION, encoding="utf-8")
    feed.build_feed(root)
    return made


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Package:
    return make_package(tmp_path_factory.mktemp("gate") / "show")


@pytest.fixture
def package(good: Package, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Package:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    shutil.copytree(good.root, tmp_path / "show")
    return Package(tmp_path / "show")


def found(report: Report) -> dict[str, list[str]]:
    """'<level>: <message>' lines per row name."""
    return {row.name: [f"{p.level}: {p.message}" for p in row.problems] for row in report.rows}


# ---------------------------------------------------------------- the good package


@pytest.mark.slow
def test_a_good_package_passes_every_rule(package: Package) -> None:
    report = package.check()
    assert report.errors == []
    assert not [row for row in report.rows if row.skipped], report.table()
    assert {row.platform for row in report.rows} == {"Package", "Apple", "Spotify",
                                                      "Podcast namespace", "YouTube", "Ours"}
    assert report.warnings == []


@pytest.mark.slow
def test_the_table_names_every_rule_once_when_all_pass(package: Package) -> None:
    report = package.check()
    rows = report.table()
    assert len({(p, n) for p, n, _, _ in rows}) == len(report.rows) >= 25
    text = gate.format_table(rows)
    assert text.splitlines()[0].split() == ["platform", "check", "result", "detail"]
    assert "Apple" in text and "podcast:chapters" in text


@pytest.mark.slow
def test_nothing_built_is_one_row_each_and_the_rest_not_checked(package: Package) -> None:
    shutil.rmtree(package.build)
    package.build.mkdir()
    shutil.rmtree(package.public)
    report = package.check()
    files = found(report)
    assert "error: no video.mp4" in files["YouTube files"]
    assert "error: no feed is built" in files["podcast files"]
    ran = [row.name for row in report.rows if not row.skipped]
    assert ran == ["podcast files", "YouTube files", "tags"]  # tags come from show.toml
    assert all(row.result == "not checked" for row in report.rows if row.name not in ran)


# ---------------------------------------------------------------- broken packages

Break = Callable[[Package], None]


def image_to(path: Path, size: tuple[int, int], mode: str = "RGB", kind: str = "PNG") -> Break:
    def breaks(pkg: Package) -> None:
        target = pkg.artwork() if path == Path("artwork") else pkg.build / path
        Image.new(mode, size, 128 if mode in ("L", "P") else (10, 20, 30)[:len(mode)]) \
            .save(target, format=kind)
    return breaks


def garbage(where: Callable[[Package], Path]) -> Break:
    return lambda pkg: where(pkg).write_text("not what it should be\n", encoding="utf-8")


def feed_edit(old: str | re.Pattern, new: str) -> Break:
    return lambda pkg: pkg.edit_feed(old, new)


def replace_enclosure(**tone: str) -> Break:
    """A re-encoded MP3 in public/ with the feed's length set to match it."""
    def breaks(pkg: Package) -> None:
        sent = pkg.enclosure
        tone_mp3(sent, **tone)
        pkg.edit_feed(re.compile(r'length="\d+"'), f'length="{sent.stat().st_size}"')
    return breaks


def wav_enclosure(pkg: Package) -> None:
    sent = pkg.enclosure
    ffmpeg("-f", "lavfi", "-i", "sine=duration=3", "-f", "wav", str(sent))
    pkg.edit_feed(re.compile(r'length="\d+"'), f'length="{sent.stat().st_size}"')


def duplicate_item(pkg: Package) -> None:
    text = pkg.feed_xml.read_text(encoding="utf-8")
    item = re.search(r"<item>.*?</item>", text, re.S).group(0)
    pkg.feed_xml.write_text(text.replace(item, item + item.replace(SLUG, "other"), 1),
                            encoding="utf-8")


def notes(html: str) -> Break:
    return feed_edit(re.compile(r"<description><!\[CDATA\[.*?\]\]></description>", re.S),
                     f"<description><![CDATA[{html}]]></description>")


def text_file(name: str, content: str) -> Break:
    return lambda pkg: (pkg.build / name).write_text(content, encoding="utf-8")


def reordered_mp3_chapters(pkg: Package) -> None:
    # mutagen writes frames sorted by their element id: c, b, a puts the last section first
    write_chapters(pkg.build / "episode.mp3", ["c", "b", "a"])


def fewer_mp3_chapters(pkg: Package) -> None:
    write_chapters(pkg.build / "episode.mp3", ["chp0", "chp1"])


def louder(gain: str) -> Break:
    def breaks(pkg: Package) -> None:
        tone_mp3(pkg.build / "episode.mp3", gain=gain)
        write_chapters(pkg.build / "episode.mp3", ["chp0", "chp1", "chp2"])
    return breaks


def long_container(pkg: Package) -> None:
    """A caption track whose last sample outlasts the sound, as the video stage once made."""
    subs = pkg.build / "late.srt"
    subs.write_text(srt_text([(1, 2, "Hi."), (50, 60, "Late.")]), encoding="utf-8")
    ffmpeg("-i", str(pkg.build / "video.mp4"), "-i", str(subs), "-map", "0", "-map", "1",
           "-c", "copy", "-c:s", "mov_text", str(pkg.build / "long.mp4"))
    (pkg.build / "long.mp4").replace(pkg.build / "video.mp4")


def short_mp4_chapter(pkg: Package) -> None:
    meta = pkg.build / "chapters.txt"
    meta.write_text(";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=200\ntitle=A\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=200\nEND=36000\ntitle=B\n",
                    encoding="utf-8")
    ffmpeg("-i", str(pkg.build / "video.mp4"), "-i", str(meta), "-map", "0",
           "-map_chapters", "1", "-c", "copy", str(pkg.build / "chaptered.mp4"))
    (pkg.build / "chaptered.mp4").replace(pkg.build / "video.mp4")


def noisy_thumbnail(pkg: Package) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    Image.fromarray(noise).save(pkg.build / "thumbnail.jpg", quality=100)


def many_tags(pkg: Package) -> None:
    pkg.set_show("tags", "[" + ", ".join(f'"tag number {n}"' for n in range(60)) + "]")


def stale_public(pkg: Package) -> None:
    tone_mp3(pkg.build / "episode.mp3", gain="0.5dB")
    write_chapters(pkg.build / "episode.mp3", ["chp0", "chp1", "chp2"])


def drop_item(pkg: Package) -> None:
    pkg.edit_feed(re.compile(r"<item>.*?</item>", re.S), "")


LONG_TITLE = "A" * 101
# (rule row, level, what its message says, how the package is broken)
CASES: list[tuple[str, str, str, Break]] = [
    ("artwork", "error", "is GIF, not JPEG or PNG", image_to(Path("artwork"), (1400, 1400),
                                                             "P", "GIF")),
    ("artwork", "error", "is JPEG but named .png", image_to(Path("artwork"), (1400, 1400),
                                                            kind="JPEG")),
    ("artwork", "error", "is RGBA, not RGB", image_to(Path("artwork"), (1400, 1400), "RGBA")),
    ("artwork", "error", "is L, not RGB", image_to(Path("artwork"), (1400, 1400), "L")),
    ("artwork", "error", "1400x1200 px, not square", image_to(Path("artwork"), (1400, 1200))),
    ("artwork", "error", "1000 px, less than 1400", image_to(Path("artwork"), (1000, 1000))),
    ("artwork", "error", "3200 px, more than 3000", image_to(Path("artwork"), (3200, 3200))),
    ("artwork", "error", "not a readable image", garbage(Package.artwork)),
    ("artwork", "error", "the channel has no itunes:image",
     feed_edit(re.compile(r"<itunes:image [^>]*/>"), "")),
    ("explicit flag", "error", "itunes:explicit is 'yes', not true or false",
     feed_edit("<itunes:explicit>false</itunes:explicit>",
               "<itunes:explicit>yes</itunes:explicit>")),
    ("category", "error", "'Tech' is not one of Apple's categories",
     feed_edit('itunes:category text="Technology"', 'itunes:category text="Tech"')),
    ("category", "error", "'Gadgets' is not a subcategory of 'Technology'",
     feed_edit('<itunes:category text="Technology"/>',
               '<itunes:category text="Technology"><itunes:category text="Gadgets"/>'
               '</itunes:category>')),
    ("owner email", "error", "'show@example.org' is a placeholder",
     feed_edit(f"<itunes:email>{OWNER}", "<itunes:email>show@example.org")),
    ("owner email", "error", "'nobody' is not an email address",
     feed_edit(f"<itunes:email>{OWNER}", "<itunes:email>nobody")),
    ("owner email", "error", "the channel has no owner email",
     feed_edit(f"<itunes:email>{OWNER}</itunes:email>", "")),
    ("enclosure", "error", "the enclosure type is 'audio/mp4', not audio/mpeg",
     feed_edit('type="audio/mpeg"', 'type="audio/mp4"')),
    ("enclosure", "error", "the enclosure length says 12 but the file has",
     feed_edit(re.compile(r'length="\d+"'), 'length="12"')),
    ("enclosure", "error", "the enclosure is not an MP3", wav_enclosure),
    ("guid", "error", "is on 2 items: apps merge or drop them", duplicate_item),
    ("guid", "error", "the item has no guid", feed_edit(re.compile(r"<guid[^>]*>[^<]*</guid>"),
                                                        "")),
    ("titles and notes", "error", "the item has no title",
     feed_edit("<title>Gate Test</title>", "<title> </title>")),
    ("titles and notes", "error", "the item title has 300 characters, more than 255",
     feed_edit("<title>Gate Test</title>", f"<title>{'T' * 300}</title>")),
    ("titles and notes", "error", "the show notes are 4107 bytes, more than 4000",
     notes("x" * 4107)),
    ("duration", "error", "itunes:duration says 999 s but the audio lasts 36 s",
     feed_edit(re.compile(r"<itunes:duration>\d+"), "<itunes:duration>999")),
    ("audio", "warning", "sampled at 22050 Hz, not 44.1 or 48 kHz",
     replace_enclosure(rate="22050", bitrate="96k")),
    ("audio", "warning", "the audio is 32 kbps, less than 96", replace_enclosure(bitrate="32k")),
    ("chapters in the show notes", "warning", "the first time code is 0:05, not 0:00",
     notes("<p>0:05 Intro<br>0:20 News</p>")),
    ("chapters in the show notes", "warning", "1 time codes, fewer than 3",
     notes("<p>0:00 Intro</p>")),
    ("chapters in the show notes", "warning", "the chapter at 0:10 lasts 5 s, less than 10",
     notes("<p>0:00 Intro<br>0:10 News<br>0:15 Outro</p>")),
    ("podcast:guid", "error", "is not the UUIDv5 of the feed URL",
     feed_edit(re.compile(r"<podcast:guid>[^<]+"),
               "<podcast:guid>00000000-0000-5000-8000-000000000000")),
    ("podcast:locked", "error", "podcast:locked is 'maybe', not yes or no",
     feed_edit(re.compile(r"(<podcast:locked[^>]*>)no<"), r"\1maybe<")),
    ("podcast:transcript", "error", "the WebVTT transcript does not parse or has no cue",
     garbage(lambda pkg: pkg.sent("captions.vtt"))),
    ("podcast:transcript", "error", "the SRT transcript does not parse or has no cue",
     garbage(lambda pkg: pkg.sent("captions.srt"))),
    ("podcast:transcript", "error", "type 'text/x-foo' is not one the namespace names",
     feed_edit('type="application/x-subrip"', 'type="text/x-foo"')),
    ("podcast:chapters", "error", "the JSON chapters do not parse",
     garbage(lambda pkg: pkg.sent("chapters.json"))),
    ("podcast:chapters", "error", "the JSON chapters are not in time order",
     lambda pkg: pkg.sent("chapters.json").write_text(
         '{"version": "1.2.0", "chapters": [{"startTime": 12, "title": "News"}, '
         '{"startTime": 0, "title": "Intro"}]}', encoding="utf-8")),
    ("podcast:txt", "error", "the item has no podcast:txt purpose=\"ai-content\"",
     feed_edit(re.compile(r"<podcast:txt [^<]*</podcast:txt>"), "")),
    ("podcast:txt", "error", "says false, but timeline.json has a synthetic voice",
     feed_edit(re.compile(r'(purpose="ai-content">)true'), r"\1false")),
    ("psc:chapters", "error", "the item has no psc:chapters",
     feed_edit(re.compile(r"<psc:chapters.*?</psc:chapters>", re.S), "")),
    ("psc:chapters", "error", "the Podlove chapters are not in time order",
     feed_edit(re.compile(r'start="00:00:00\.000"'), 'start="00:00:30.000"')),
    ("podcast:chapters", "error", "not application/json+chapters",
     feed_edit('type="application/json+chapters"', 'type="application/json"')),
    ("title", "error", "the YouTube title has 101 characters, more than 100",
     text_file("youtube-title.txt", LONG_TITLE)),
    ("title", "error", "the YouTube title has < or >", text_file("youtube-title.txt", "A <b>")),
    ("title", "error", "the YouTube title is empty", text_file("youtube-title.txt", " \n")),
    ("description", "error", "the YouTube description has 5001 bytes, more than 5000",
     text_file("youtube-description.txt", "é" * 2500 + "x")),
    ("description", "error", "the YouTube description has < or >",
     text_file("youtube-description.txt", DESCRIPTION + "1 > 0\n")),
    ("tags", "error", "the tags add up to", many_tags),
    ("chapters in the description", "warning", "YouTube shows no chapters: the first time "
     "code is 0:05", text_file("youtube-description.txt", "0:05 A\n0:15 B\n0:25 C\n")),
    ("thumbnail", "error", "MB, more than 2 MB", noisy_thumbnail),
    ("thumbnail", "error", "the thumbnail is 960x720, not 16:9",
     image_to(Path("thumbnail.jpg"), (960, 720), kind="JPEG")),
    ("thumbnail", "error", "480 px wide, less than 640",
     image_to(Path("thumbnail.jpg"), (480, 270), kind="JPEG")),
    ("thumbnail", "error", "the thumbnail is GIF, not JPEG or PNG",
     image_to(Path("thumbnail.jpg"), (1280, 720), "P", "GIF")),
    ("caption file", "error", "the captions do not parse as WebVTT",
     garbage(lambda pkg: pkg.build / "captions.vtt")),
    ("caption file", "error", "the last caption ends at 50.0 s, after the video",
     text_file("captions.vtt", vtt([(1.0, 3.0, "Hi."), (48.0, 50.0, "Late.")]))),
    ("video", "error", "the container says 60.0 s but the audio lasts 36.0 s", long_container),
    ("loudness", "error", "LUFS, the target -16", louder("-10dB")),
    ("loudness", "error", "over the -1 ceiling", louder("14dB")),
    ("MP3 chapters", "error", "chapter frames are not in time order", reordered_mp3_chapters),
    ("MP3 chapters", "error", "the MP3 has 2 chapters, chapters.json 3", fewer_mp3_chapters),
    ("caption style", "warning", "line of 60 characters",
     text_file("captions.vtt", vtt([(1.0, 4.0, "word " * 11 + "words")]))),
    ("MP4 chapters", "error", "a chapter shorter than half a second", short_mp4_chapter),
    ("podcast files", "warning", "public/ carries an earlier build of episode.mp3",
     stale_public),
    ("podcast files", "error", f"the feed has no item for {SLUG}", drop_item),
    ("YouTube files", "error", "no thumbnail.jpg",
     lambda pkg: (pkg.build / "thumbnail.jpg").unlink()),
]


def test_the_captions_are_parsed_once_for_every_rule_that_reads_them(
        project, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = project.episode("Hello.\n", slug=SLUG)
    (folder / "build").mkdir()
    (folder / "build" / "captions.vtt").write_text(vtt(CUES), encoding="utf-8")
    parsed: list[str] = []
    real = webvtt.read
    monkeypatch.setattr(webvtt, "read", lambda path: parsed.append(path) or real(path))
    rows = {row.name: row for row in gate.check(load_episode(folder), ["youtube"]).rows}
    assert not rows["caption style"].skipped and rows["caption file"].skipped == "no video.mp4 " \
        f"(make video EP={SLUG})"
    assert parsed == [str(folder / "build" / "captions.vtt")]


def test_there_are_thirty_broken_packages_each_with_its_own_message() -> None:
    messages = [message for _, _, message, _ in CASES]
    assert len(CASES) >= 30
    assert len(set(messages)) == len(messages)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "level", "message", "breaks"), CASES,
                         ids=[f"{n}: {m[:40]}" for n, _, m, _ in CASES])
def test_a_broken_package_is_caught_by_its_rule(package: Package, name: str, level: str,
                                                message: str, breaks: Break) -> None:
    breaks(package)
    report = package.check()
    rows = found(report)
    assert any(line.startswith(f"{level}:") and message in line for line in rows[name]), \
        gate.format_table(report.table())
    others = [m for row, lines in rows.items() if row != name for m in lines
              if m.startswith("error:")]
    assert not [m for m in others if message in m], "one rule owns each message"


@pytest.mark.slow
def test_a_feed_that_does_not_parse_is_an_error_in_every_podcast_rule(package: Package) -> None:
    package.feed_xml.write_text("<rss><channel>", encoding="utf-8")
    report = package.check(("podcast",))
    assert report.errors
    assert "public/feed.xml does not parse" in report.errors[0].message


# ---------------------------------------------------------------- the gate stops what leaves


def publish(package: Package, site: Path) -> int:
    """`pipeline publish` as the producer runs it."""
    try:
        main(["publish", "--root", str(package.root), "--destination", str(site)])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.mark.slow
def test_publish_stops_on_an_error_and_sends_nothing(package: Package, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    image_to(Path("artwork"), (1000, 1000))(package)
    site = tmp_path / "site"
    assert publish(package, site) == 1
    assert "publishing refused by the pre-flight check: the artwork is 1000 px" \
        in capsys.readouterr().err
    assert not site.exists()
    assert not (package.root / "episodes" / "published.toml").exists()


@pytest.mark.slow
def test_publish_goes_on_past_a_warning(package: Package, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    notes("<p>0:00 Intro</p>")(package)  # one time code: Spotify shows no chapters
    assert publish(package, tmp_path / "site") == 0
    err = capsys.readouterr().err
    assert "warning: public/feed.xml: show notes chapters: 1 time codes, fewer than 3" in err
    assert (package.root / "episodes" / "published.toml").is_file()
    assert (tmp_path / "site" / "feed.xml").is_file()


@pytest.mark.slow
def test_upload_stops_on_an_error_before_any_request(package: Package) -> None:
    image_to(Path("thumbnail.jpg"), (960, 720), kind="JPEG")(package)
    with pytest.raises(PipelineError) as caught:
        upload.publish(package.root / "episodes" / SLUG)
    assert "the upload refused by the pre-flight check: the thumbnail is 960x720, not 16:9" \
        in str(caught.value)
    assert not (package.build / "youtube.json").exists()


@pytest.mark.slow
def test_the_check_command_prints_the_table_and_exits_1_on_an_error(package: Package) -> None:
    garbage(lambda pkg: pkg.build / "captions.vtt")(package)
    done = subprocess.run([str(REPO / ".venv" / "bin" / "pipeline"), "check",
                           str(package.root / "episodes" / SLUG), "--only", "youtube"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    assert "caption file" in done.stdout and "error" in done.stdout
    assert "Apple" not in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith(f"{SLUG}: ")


@pytest.mark.slow
def test_the_review_page_shows_the_gates_table(package: Package) -> None:
    text_file("youtube-description.txt", "0:05 A\n0:15 B\n0:25 C\n")(package)
    page = review.run(load_episode(package.root / "episodes" / SLUG)).page
    html = page.read_text(encoding="utf-8")
    table = ET.fromstring(re.search(r'<table id="preflight-table">.*?</table>', html,
                                    re.S).group(0))
    cells = [[td.text or "" for td in tr] for tr in table.findall("tr")[1:]]
    assert {row[0] for row in cells} >= {"Apple", "Spotify", "Podcast namespace", "YouTube"}
    assert ["Apple", "artwork", "ok"] in [row[:3] for row in cells]
    assert any(row[2] == "warning" for row in cells)
