"""The review page: its parts as functions, its HTML parsed, and the page in a real browser
(Debian's headless chromium driven by Playwright) opened from disk and over HTTP."""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import review_fixtures as fx
from click.testing import CliRunner
from PIL import Image

from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import HeardDifferently, Recording
from pipeline.media import meter, picture
from pipeline.media.loudness import parse_ebur128
from pipeline.publish import feed
from pipeline.publish.gate import package
from pipeline.publish.serve import RangeRequestHandler
from pipeline.stages import review
from pipeline.util.timecode import clock

BODY = """
## Tom & Jerry

Neel Nanda lists [the open problems](https://example.org/problems) of superposition.
"""


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {"video": fx.make_video(folder / "video.mp4"), "mp3": fx.make_mp3(folder / "ep.mp3")}


@pytest.fixture
def episode_dir(project, media: dict[str, Path]) -> Path:
    """An episode whose build folder holds every file the review page reads."""
    folder = project.episode(BODY, slug=fx.SLUG)
    fx.artwork(project.assets)
    fx.fill_build(folder / "build", media)
    return folder


# ---------------------------------------------------------------- reading the HTML


class Page(HTMLParser):
    """Elements with their attributes and text, enough to check the page's structure."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self._open)}
        self.elements.append(element)
        if tag not in {"img", "track", "meta", "link", "br", "source", "input"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def find(self, tag: str, **attrs: str) -> list[dict]:
        def matches(element: dict) -> bool:
            return element["tag"] == tag and all(
                (element["attrs"].get(k.rstrip("_")) or "").split().count(v) > 0
                if k == "class_" else element["attrs"].get(k) == v for k, v in attrs.items())
        return [e for e in self.elements if matches(e)]

    def one(self, tag: str, **attrs: str) -> dict:
        found = self.find(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


def build_page(folder: Path) -> tuple[review.Review, Page]:
    result = review.run(load_episode(folder))
    return result, Page(result.page.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- pure parts


def test_measure_argv_is_one_ffmpeg_pass_for_loudness_and_samples() -> None:
    assert meter.measure_argv(Path("b/episode.mp3"), 8000) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "b/episode.mp3", "-filter_complex",
        "[0:a]asplit=2[s0][s1];"
        "[s1]aformat=channel_layouts=mono:sample_fmts=flt:sample_rates=8000[s2];"
        "[s0]ebur128=peak=true[s3]",
        "-map", "[s2]", "-f", "f32le", "-", "-map", "[s3]", "-f", "null", "-", "-nostats"]


def _frame(t: str, m: str, s: str, i: str, peak: str) -> str:
    return (f"[Parsed_ebur128_1 @ 0x1] t: {t:<10} TARGET:-23 LUFS    M:{m:>6} S:{s:>6}     "
            f"I: {i} LUFS       LRA:   0.0 LU  FTPK: {peak} dBFS  TPK: {peak} dBFS\n")


EBUR128_LOG = _frame("0.0999773", "-120.7", "-120.7", "-70.0", "-inf") + \
    _frame("0.199977", "-18.5", "-120.7", "-18.5", "-3.0") + \
    _frame("3.2", "-16.2", "-16.9", "-16.4", "-1.9") + """\
[Parsed_ebur128_1 @ 0x1] Summary:

  Integrated loudness:
    I:         -16.4 LUFS
    Threshold: -26.4 LUFS

  Loudness range:
    LRA:         1.2 LU
    Threshold: -36.4 LUFS
    LRA low:   -17.0 LUFS
    LRA high:  -15.8 LUFS

  True peak:
    Peak:       -1.9 dBFS
"""


def test_parse_ebur128_reads_the_frame_log_and_the_summary() -> None:
    loud = parse_ebur128(EBUR128_LOG)
    assert loud.times == pytest.approx([0.0999773, 0.199977, 3.2])
    assert loud.momentary == [-120.7, -18.5, -16.2]
    assert loud.short_term == [-120.7, -120.7, -16.9]
    assert (loud.integrated, loud.range, loud.true_peak) == (-16.4, 1.2, -1.9)


def test_parse_ebur128_of_silence_has_no_figures() -> None:
    loud = parse_ebur128("Summary:\n  I: -70.0 LUFS\n  LRA: 0.0 LU\n  Peak: -inf dBFS\n")
    assert loud.times == [] and loud.true_peak is None and loud.integrated == -70.0


def _marked(spans: list[review.WordSpan]) -> list[tuple[int, str, str]]:
    words = [s for s in spans if s.word]
    return [(i, w.text, w.kind) for i, w in enumerate(words) if w.kind != "plain"]


def test_mark_words_places_a_repeated_word_by_the_time_it_was_heard() -> None:
    display = fx.SEGMENTS[2][6]
    heard = [e for e in fx.HEARD if e.segment.endswith("paragraph-1")]
    spans = review.mark_words(display, heard, fx.MISSED, 5.2, 8.6)
    assert "".join(s.text for s in spans) == display  # nothing lost, spacing kept
    assert _marked(spans) == [(2, "lists", "missed"), (9, "Neel", "heard")]
    assert next(s for s in spans if s.kind == "heard").heard == "Neil"


def test_mark_words_honours_an_index_and_falls_back_to_word_order() -> None:
    display = "the cat and the hat and the bat"
    def entry(word: str, said: str, index: int | None = None) -> HeardDifferently:
        return HeardDifferently(segment="s/paragraph-1", display=word, expected=word,
                                heard=said, start=0.0, index=index)

    by_index = review.mark_words(display, [entry("the", "a", 6)], [])
    assert _marked(by_index) == [(6, "the", "heard")]
    in_order = review.mark_words(display, [entry("the", "a"), entry("the", "duh")], [])
    assert _marked(in_order) == [(0, "the", "heard"), (3, "the", "heard")]
    assert _marked(review.mark_words(display, [entry("dog", "fog")], [])) == []


def test_clock_and_time_labels() -> None:
    assert [clock(s) for s in (0, 7.9, 754, 3723)] == ["0:00", "0:07", "12:34", "1:02:03"]
    assert [picture.tick_step(d) for d in (12, 60, 600, 3600)] == [1, 5, 60, 300]


def test_silence_and_unfilled_windows_are_not_drawn() -> None:
    runs = picture._audible_runs([0.1, 0.2, 0.3, 0.4, 0.5], [-120.7, -20.0, -21.0, -80.0, -19.0])
    assert runs == [[(0.2, -20.0), (0.3, -21.0)], [(0.5, -19.0)]]


def test_peak_columns_keep_each_columns_extremes() -> None:
    samples = np.array([0.1, -0.5, 0.2, 0.9, -0.1, 0.0, 0.3, -0.2], dtype=np.float32)
    lows, highs = meter.peak_columns(samples, 4)
    assert lows.tolist() == pytest.approx([-0.5, 0.2, -0.1, -0.2])
    assert highs.tolist() == pytest.approx([0.1, 0.9, 0.0, 0.3])


# ---------------------------------------------------------------- the page's HTML


def test_page_has_video_with_track_chapters_and_marked_words(episode_dir: Path) -> None:
    result, page = build_page(episode_dir)
    video = page.one("video", id="video")
    assert video["attrs"]["src"] == "video.mp4"
    track = page.one("track")
    kind, data = track["attrs"]["src"].split(",", 1)
    assert kind == "data:text/vtt;charset=utf-8;base64" and track["attrs"]["kind"] == "captions"
    assert base64.b64decode(data) == (episode_dir / "build" / "captions.vtt").read_bytes()
    assert track["parents"][-1] is video
    assert page.one("audio")["attrs"]["src"] == "episode.mp3"

    chapters = page.find("button", class_="chapter")
    expected = fx.chapters_file().chapters
    assert [float(b["attrs"]["data-start"]) for b in chapters] == [c.startTime for c in expected]
    assert [b["text"].split(None, 1)[1] for b in chapters] == [c.title for c in expected]
    assert fx.TRICKY in chapters[1]["text"]  # escaped in the HTML, the same text to a reader

    heard = page.find("mark", class_="heard")
    assert [m["text"] for m in heard if "title" in m["attrs"]] == ["Welcome", "Neel"]
    assert [s["text"] for s in page.find("span", class_="heard-as")][-2:] == ["Well come",
                                                                              "Neil"]
    paragraph = page.one("p", id="seg-interpretability/paragraph-1")
    assert paragraph["text"].index("Neel Nanda") < paragraph["text"].index("Neil")
    assert [m["text"] for m in page.find("mark", class_="missed") if "title" in m["attrs"]] \
        == ["lists"]
    assert "see you soon" in page.one("p", class_="stretch")["text"]
    assert not page.find("div", id="missing") and not page.find("div", id="problems")
    assert result.missing == [] and result.problems == []


def test_page_loads_nothing_from_outside_and_every_file_it_names_exists(
        episode_dir: Path) -> None:
    result, page = build_page(episode_dir)
    build = episode_dir / "build"
    sources = [e["attrs"]["src"] for e in page.elements
               if e["attrs"].get("src") and e["tag"] != "track"]  # the track: a data: URL
    assert sorted(sources) == sorted(["video.mp4", "episode.mp3",
                                      "review-loudness.png", "thumbnail.jpg",
                                      "slides/001.png", "slides/002.png", "slides/003.png"])
    assert all((build / s).is_file() for s in sources)
    links = [e["attrs"] for e in page.find("link")]
    assert links == [{"rel": "icon", "href": "data:,"}]  # no stylesheet, no favicon request
    assert not [e for e in page.find("script") if "src" in e["attrs"]]
    assert len(page.find("script")) == 1


def test_qa_figures_are_measured_on_the_mp3(episode_dir: Path, media: dict[str, Path]) -> None:
    _, page = build_page(episode_dir)
    text = "\n".join(r["text"] for r in page.find("tr"))
    level = float(re.search(r"Integrated loudness(-?[\d.]+) LUFS", text).group(1))
    decoded = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(media["mp3"]),
                              "-f", "f32le", "-ac", "1", "-ar", "44100", "-"],
                             capture_output=True, check=True).stdout
    reference = pyloudnorm.Meter(44100).integrated_loudness(
        np.frombuffer(decoded, dtype="<f4").astype(np.float64))
    assert level == pytest.approx(reference, abs=0.5)
    assert "9.3%" in text and "1.2%" in text  # raw and corrected WER from qa.json
    picture = Image.open(episode_dir / "build" / "review-loudness.png")
    assert picture.size == (1200, 320)
    shown = page.one("img", id="loudness-picture")
    assert float(shown["attrs"]["data-duration"]) == pytest.approx(fx.DURATION, abs=0.1)


def test_the_mp3_is_measured_once_for_every_stage_that_reads_it(
        episode_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What master measured of episode.mp3 is what the review page and the pre-flight
    checks show: they find it by the file's bytes and do not decode the MP3 again."""
    mp3 = episode_dir / "build" / "episode.mp3"
    first = meter.metered(mp3, "fix")
    calls = []

    def measure_again(*args: object) -> None:
        calls.append(args)
        raise LookupError("measured again")

    monkeypatch.setattr(meter, "measure", measure_again)
    again = meter.metered(mp3, "fix")
    assert (again.loud, again.duration) == (first.loud, first.duration)
    assert np.array_equal(again.lows, first.lows) and np.array_equal(again.highs, first.highs)
    _, page = build_page(episode_dir)
    text = "\n".join(r["text"] for r in page.find("tr"))
    assert f"{first.loud.integrated:.1f} LUFS" in text and calls == []
    with mp3.open("ab") as f:  # other bytes: measured afresh
        f.write(b"\0" * 4096)
    with pytest.raises(LookupError):
        meter.metered(mp3, "fix")
    assert len(calls) == 1


def test_a_loudness_miss_is_marked_bad(episode_dir: Path) -> None:
    log = EBUR128_LOG.replace("-16.4 LUFS\n    Threshold", "-19.0 LUFS\n    Threshold")
    loud = parse_ebur128(log.replace("Peak:       -1.9", "Peak:       -0.5"))
    assert (loud.integrated, loud.true_peak) == (-19.0, -0.5)
    rows = review.qa_figures(loud, review.read_inputs(episode_dir / "build", fx.SLUG),
                             load_episode(episode_dir))
    status = {row.label: row.status for row in rows}
    assert status["Integrated loudness"] == "bad" and status["True peak"] == "bad"
    assert status["Stretches heard but not in the script"] == "bad"
    assert status["Cue rule violations"] == "ok"


def test_a_clipped_recording_is_named_on_the_page(episode_dir: Path) -> None:
    clipped = Recording(file="1.wav", section="interpretability", seconds=5.2,
                        kept_seconds=4.9, trimmed_start=0.2, trimmed_end=0.1, peak_dbfs=0.0,
                        clipped_samples=412, clipped_runs=37, longest_run=19,
                        first_clips=[1.25, 2.5], verdict="clipped: 37 runs, 412 samples")
    build = episode_dir / "build"
    fx.timeline_file().model_copy(update={"recordings": [clipped]}).write(build)
    _, page = build_page(episode_dir)
    row = next(r for r in page.find("tr") if "Recording 1.wav" in r["text"])
    assert "clipped: 37 runs, 412 samples" in row["text"] and "section interpretability" in \
        row["text"]
    assert any("clipped" in cell["text"] for cell in page.find("td", class_="bad"))


def test_the_feed_item_is_the_one_pipeline_feed_publishes(episode_dir: Path,
                                                          project) -> None:
    _, page = build_page(episode_dir)
    shown = page.one("pre", id="feed-item")["text"]
    feed.build_feed(project.root)
    published = (project.root / "public" / "feed.xml").read_text(encoding="utf-8")
    item = published[published.index("<item>"):published.index("</item>") + 7]
    assert [line.strip() for line in shown.splitlines()] == \
        [line.strip() for line in item.splitlines()]
    notes = page.one("div", class_="notes")
    assert "Neel Nanda lists the open problems of superposition." in notes["text"]


def test_the_page_says_who_narrates_and_the_feed_item_discloses_it(episode_dir: Path) -> None:
    _, page = build_page(episode_dir)
    row = next(r for r in page.find("tr") if r["text"].startswith("Narration"))
    assert "synthetic: hibari voice" in row["text"] and "containsSyntheticMedia true" in \
        row["text"]
    # the fixture's timeline has no disclosure line although the show says it: marked
    assert any(c["text"].startswith("synthetic") for c in page.find("td", class_="bad"))
    item = page.one("pre", id="feed-item")["text"]
    assert '<podcast:txt purpose="ai-content">true</podcast:txt>' in item
    assert '<psc:chapter start="00:00:00.000" title="Introduction"/>' in item


def test_the_page_says_why_the_feed_would_refuse_the_episode(episode_dir: Path,
                                                              project) -> None:
    show = project.assets / "show.toml"
    show.write_text(show.read_text().replace('base_url = "https://example.org/mlaisu/podcast"',
                                             'base_url = ""'), encoding="utf-8")
    result, page = build_page(episode_dir)
    assert not page.find("pre", id="feed-item")
    refusal = [e["text"] for e in page.find("div", class_="notice")
               if "base_url is empty" in e["text"]]
    assert len(refusal) == 1 and "under [show]" in refusal[0]
    assert any("base_url is empty" in problem for problem in result.problems)


def test_a_rebuild_from_the_same_files_is_the_same_page(episode_dir: Path) -> None:
    first = build_page(episode_dir)[0].page.read_bytes()
    picture = (episode_dir / "build" / "review-loudness.png").read_bytes()
    assert review.run(load_episode(episode_dir)).page.read_bytes() == first
    assert (episode_dir / "build" / "review-loudness.png").read_bytes() == picture


def test_an_unchanged_mp3_is_not_measured_again(episode_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_page(episode_dir)[0].page.read_text(encoding="utf-8")
    measured = re.findall(r"-?\d+\.\d (?:LUFS|dBTP|LU)\b", first)
    picture = (episode_dir / "build" / "review-loudness.png").read_bytes()
    (episode_dir / "build" / "review-loudness.png").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no ffmpeg to measure with
    again = review.run(load_episode(episode_dir)).page.read_text(encoding="utf-8")
    assert len(measured) >= 2 and re.findall(r"-?\d+\.\d (?:LUFS|dBTP|LU)\b", again) == measured
    assert (episode_dir / "build" / "review-loudness.png").read_bytes() == picture
    mp3 = episode_dir / "build" / "episode.mp3"
    mp3.write_bytes(mp3.read_bytes() + b"\0")  # other bytes: measured again, so ffmpeg is missed
    with pytest.raises(PipelineError, match="ffmpeg not found"):
        review.run(load_episode(episode_dir))


def test_the_video_and_the_mp3_are_probed_once_each_and_at_once(
        episode_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = build_page(episode_dir)[0].page.read_bytes()
    both = threading.Barrier(2, timeout=10)  # broken unless the two probes overlap
    probed: list[str] = []
    real = package.probe_file

    def probe(path: Path) -> dict:
        probed.append(path.name)
        both.wait()
        return real(path)

    monkeypatch.setattr(package, "probe_file", probe)
    assert build_page(episode_dir)[0].page.read_bytes() == first
    assert sorted(probed) == ["episode.mp3", "video.mp4"]


def test_youtube_text_as_uploaded_with_its_limits(episode_dir: Path) -> None:
    _, page = build_page(episode_dir)
    assert page.one("pre", id="youtube-title")["text"] == fx.YOUTUBE_TITLE.strip()
    assert page.one("pre", id="youtube-description")["text"] == fx.YOUTUBE_DESCRIPTION
    (episode_dir / "build" / "youtube-title.txt").write_text("A <b> title " + "x" * 100)
    rows = review.youtube_text(review.read_inputs(episode_dir / "build", fx.SLUG)).checks
    assert [r.status for r in rows] == ["bad", "ok", "bad"]


# ---------------------------------------------------------------- what is missing or broken


def test_an_episode_with_only_a_script_gets_a_page_naming_what_is_missing(
        project, media: dict[str, Path]) -> None:
    folder = project.episode(BODY, slug=fx.SLUG)
    (folder / "build").mkdir()
    fx.script_file().write(folder / "build")
    result, page = build_page(folder)
    missing = {item.file: item.command for item in result.missing}
    assert missing["video.mp4"] == f"make video EP={fx.SLUG}"
    assert missing["episode.mp3"] == f"make master EP={fx.SLUG}"
    assert "script.json" not in missing
    assert "captions.vtt" in page.one("div", id="missing")["text"]
    assert not page.find("video") and not page.find("track") and not page.find("img")
    assert result.picture is None
    assert len(page.find("p", class_="segment")) == len(fx.SEGMENTS)  # the script is there


def test_damaged_inputs_are_named_on_the_page(episode_dir: Path) -> None:
    (episode_dir / "build" / "qa.json").write_text("{not json", encoding="utf-8")
    (episode_dir / "build" / "slides" / "002.png").unlink()
    result, page = build_page(episode_dir)
    problems = page.one("div", id="problems")["text"]
    assert "qa.json: not valid JSON" in problems and f"make captions EP={fx.SLUG}" in problems
    assert "slides/002.png" in problems
    assert len(page.find("img", loading="lazy")) == 2  # no broken image in the sheet
    assert not [m for m in page.find("mark", class_="heard") if "title" in m["attrs"]]


def test_cli_prints_what_is_missing_and_where_the_page_is(project) -> None:
    folder = project.episode(BODY, slug=fx.SLUG)
    result = CliRunner().invoke(review.command, [str(folder)])
    assert result.exit_code == 0, result.output
    assert f"not built yet: script.json (make script EP={fx.SLUG})" in result.output
    assert "wrote " in result.output and "file://" in result.output
    assert (folder / "build" / "review.html").is_file()


def test_without_ffmpeg_the_error_says_how_to_install_it(
        episode_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(PipelineError, match=r"ffmpeg not found.*apt-get install ffmpeg"):
        review.run(load_episode(episode_dir))


def test_a_broken_mp3_fails_and_keeps_the_good_page(episode_dir: Path) -> None:
    result, _ = build_page(episode_dir)
    good = result.page.read_bytes()
    (episode_dir / "build" / "episode.mp3").write_bytes(b"not an mp3 at all" * 100)
    with pytest.raises(PipelineError) as caught:
        review.run(load_episode(episode_dir))
    assert "episode.mp3" in caught.value.line()
    assert f"make master EP={fx.SLUG}" in caught.value.line()
    assert result.page.read_bytes() == good
    assert not list((episode_dir / "build").glob(".review*"))  # no temporary left behind


# ---------------------------------------------------------------- in a real browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FILE_ACCESS = "--allow-file-access-from-files"
VIDEO = "document.getElementById('video')"


@contextlib.contextmanager
def browser(*extra: str) -> Iterator:
    """Debian's chromium, headless, with a fresh profile; Playwright's download unused."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver, tempfile.TemporaryDirectory() as profile:
        context = driver.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra],
            viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


class QuietHandler(RangeRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The build folder over HTTP, by the handler `pipeline serve` uses (byte ranges)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def check_in_browser(context, address: str) -> tuple[object, list[str]]:
    """Load the page; its track, video and chapters behave; returns the page and errors."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400
            else None)
    page.goto(address)
    page.evaluate(f"{VIDEO}.textTracks[0].mode = 'hidden'")
    page.wait_for_function(f"{VIDEO}.textTracks[0].cues && {VIDEO}.textTracks[0].cues.length"
                           f" === {len(fx.CUES)}", timeout=10_000)
    page.wait_for_function(f"{VIDEO}.readyState >= 2 || {VIDEO}.error", timeout=10_000)
    assert page.evaluate(f"{VIDEO}.error") is None
    assert page.evaluate(f"{VIDEO}.readyState") >= 2
    cue = page.evaluate(f"{VIDEO}.textTracks[0].cues[2].text")
    assert cue == 'Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; "quoted"'
    for index, chapter in enumerate(fx.chapters_file().chapters[::-1]):
        page.click(f"button.chapter >> nth={len(fx.SECTION_TIMES) - 1 - index}")
        assert page.evaluate(f"{VIDEO}.currentTime") == pytest.approx(chapter.startTime,
                                                                    abs=0.05)
    return page, errors


@pytest.mark.slow
def test_review_page_in_chromium_from_disk_and_over_http(episode_dir: Path,
                                                         tmp_path: Path) -> None:
    result, _ = build_page(episode_dir)
    with browser(FILE_ACCESS) as context:
        page, errors = check_in_browser(context, result.page.resolve().as_uri())
        page.wait_for_function("document.querySelector('button.chapter[aria-current=true]')"
                               "?.dataset.start === '0.0'", timeout=5_000)
        shot = tmp_path / "review.png"
        page.screenshot(path=str(shot), full_page=True)
        assert errors == []
        with served(episode_dir / "build") as base:
            _, http_errors = check_in_browser(context, f"{base}/review.html")
        assert http_errors == []
    print(f"screenshot: {shot}")
    width, height = Image.open(shot).size
    assert width == 1280 and height > 2000


@pytest.mark.slow
def test_review_page_opened_from_disk_in_a_browser_as_it_comes(episode_dir: Path) -> None:
    """A producer's browser does not let a file: page fetch files beside it for a <track>;
    the captions come inside the page, so they load there too, without console errors."""
    result, _ = build_page(episode_dir)
    with browser() as context:
        _, errors = check_in_browser(context, result.page.resolve().as_uri())
    assert errors == []


def test_the_page_says_what_is_narrated_and_for_how_long(episode_dir: Path) -> None:
    build = episode_dir / "build"
    script = fx.script_file()
    segments = [s.model_copy(update={"narration": "skip", "spoken": ""})
                if s.id == "interpretability/paragraph-1" else s for s in script.segments]
    segments[0] = segments[0].model_copy(update={"narration": "summary",
                                                 "said": "A short welcome."})
    script.model_copy(update={"segments": segments}).write(build)
    _, page = build_page(episode_dir)
    skipped = page.one("p", id="seg-interpretability/paragraph-1")
    assert skipped["attrs"]["data-narration"] == "skip" and "show notes only" in skipped["text"]
    summary = page.one("p", id="seg-intro/intro-1")
    assert "summarised" in summary["text"] and "A short welcome." in summary["text"]
    assert "As written: Welcome to the show" in page.one("p", class_="as-written")["text"]
    headings = [h["text"] for h in page.find("h3")]
    assert any("Introduction" in h and "0.1 min narrated" in h for h in headings)  # 0-4 s
