"""Video: the argument lists, chapters and description rules, and the real MP4 probed."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from pipeline.cli import cli
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import (
    Chapters,
    Link,
    Script,
    SlideEntry,
    Slides,
    TimedSection,
    Timeline,
)
from pipeline.media import ffmpeg, slideshow
from pipeline.media.pieces import Count
from pipeline.publish.youtube import describe
from pipeline.stages import review, video
from pipeline.stages import slides as slides_stage
from tests.slide_fixtures import CLICK, DURATION, REPO, SLUG, make_audio, make_episode, tone

FPS = 30
ENC = slideshow.Encoding()
START = ["ffmpeg", "-nostdin", "-hide_banner"]
QUIET = ["-v", "error", "-y"]
PROGRESS = ["-progress", "pipe:1", "-nostats"]
AHEAD = ["-thread_queue_size", "1024"]


# ---------------------------------------------------------------- pure parts


def test_frame_cuts_round_to_frames_and_split_whole_gops() -> None:
    starts = [0.0, 3.5, 7.234, 7.24]
    slides = [SlideEntry(index=n, file=f"slides/{n:03d}.png", kind="section", section="s",
                         title="S", segments=[], start=start, end=end)
              for n, (start, end) in enumerate(zip(starts, [*starts[1:], 12.0], strict=True), 1)]
    cuts = slideshow.frame_cuts(slides, 12.0, Path("/b"), ENC)
    assert cuts == [
        slideshow.Cut(Path("/b/slides/001.png"), 0, 105, 15, 30),
        slideshow.Cut(Path("/b/slides/002.png"), 105, 112, 15, 30),
        slideshow.Cut(Path("/b/slides/004.png"), 217, 143, 15, 30),  # 003 lasts under half a frame
    ]
    assert [(c.loops, c.tail) for c in cuts] == [(7, 0), (7, 7), (9, 8)]
    assert sum(c.frames for c in cuts) == 12 * FPS


def test_gop_args() -> None:
    assert slideshow.gop_args(Path("s.png"), 15, Path("g.mp4"), ENC) == [
        *START, "-framerate", "30", "-loop", "1", "-i", "s.png", "-filter_complex",
        "[0]scale=1920:1080:out_color_matrix=bt709:out_range=tv[s0];[s0]setsar=1[s1];"
        "[s1]format=yuv420p[s2];[s2]fps=30[s3]", "-map", "[s3]",
        "-an", "-bf", "2", "-c:v", "libx264", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-colorspace", "bt709", "-crf", "16", "-flags", "+cgop", "-frames:v", "15", "-g", "15",
        "-keyint_min", "15", "-preset", "medium", "-profile:v", "high", "-sc_threshold", "0",
        "-tune", "stillimage", "-x264-params", "open-gop=0", "g.mp4", *QUIET,
    ]


def test_loop_and_mux_args() -> None:
    assert slideshow.loop_args(Path("g.mp4"), 7, Path("l.mp4")) == [
        *START, "-stream_loop", "6", "-i", "g.mp4", "-c", "copy", "l.mp4", *QUIET]
    reserved = video.mux_args(Path("l.txt"), Path("a.m4a"), Path("c.vtt"), Path("ch.txt"),
                              Path("v.mp4"), "eng", 70000)
    assert reserved[reserved.index("-movflags") + 1] == "+negative_cts_offsets"
    assert reserved[reserved.index("-moov_size") + 1] == "70000"
    assert video.mux_args(Path("l.txt"), Path("a.m4a"), Path("c.vtt"), Path("ch.txt"),
                          Path("v.mp4"), "eng") == [
        *START, "-f", "concat", "-safe", "0", *AHEAD, "-i", "l.txt", *AHEAD, "-i", "a.m4a",
        *AHEAD, "-i", "c.vtt", "-f", "ffmetadata", *AHEAD, "-i", "ch.txt",
        "-map", "0:v:0", "-map", "1:a:0", "-map", "2:s:0", "-map", "3:d?",
        "-c:a", "copy", "-c:s", "mov_text", "-c:v", "copy", "-map_chapters", "3",
        "-metadata:s:a:0", "language=eng", "-metadata:s:s:0", "language=eng",
        "-metadata:s:v:0", "language=eng",
        "-movflags", "+faststart+negative_cts_offsets", "-use_editlist", "0", "v.mp4",
        *PROGRESS, *QUIET]


def test_burn_args_force_keyframes_at_slide_changes() -> None:
    args = video.burn_args(Path("l.txt"), Path("a.m4a"), "captions.vtt", "fonts",
                           Path("ch.txt"), Path("v.mp4"), [0.0, 3.2, 9.0], ENC, "eng")
    # ffmpeg-python escapes each option, then the whole filter, for the graph's two levels
    style = (r"FontName\\=DejaVu Sans\,FontSize\\=16\,BorderStyle\\=3\,Outline\\=1\,"
             r"Shadow\\=0\,OutlineColour\\=&H80000000\,MarginV\\=22")
    assert args == [
        *START, "-f", "concat", "-safe", "0", *AHEAD, "-i", "l.txt", *AHEAD, "-i", "a.m4a",
        "-f", "ffmetadata", *AHEAD, "-i", "ch.txt", "-filter_complex",
        f"[0:v:0]subtitles=captions.vtt:fontsdir=fonts:force_style={style}[s0];"
        "[s0]format=yuv420p[s1];[s1]fps=30[s2]", "-map", "[s2]", "-map", "1:a:0",
        "-map", "2:d?", "-bf", "2", "-c:a", "copy", "-c:v", "libx264",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-crf", "18", "-flags", "+cgop",
        "-force_key_frames", "0.000000,3.200000,9.000000", "-g", "15", "-keyint_min", "15",
        "-map_chapters", "2",
        "-metadata:s:a:0", "language=eng", "-movflags", "+faststart+negative_cts_offsets",
        "-preset", "medium", "-profile:v", "high", "-sc_threshold", "0", "-tune", "stillimage",
        "-use_editlist", "0", "v.mp4", *PROGRESS, *QUIET]


def test_concat_list_has_exact_durations_and_quotes_names() -> None:
    assert slideshow.concat_list([("a.mp4", 3.5), ("it's.mp4", 7 / 30)]) == (
        "ffconcat version 1.0\nfile 'a.mp4'\nduration 3.500000\n"
        "file 'it'\\''s.mp4'\nduration 0.233333\n")


def test_small_helpers() -> None:
    assert video.language3("en") == "eng" and video.language3("en-GB") == "eng"
    assert video.language3("deu") == "deu" and video.language3("xx") == "und"
    listing = " V....D libx264   libx264 H.264\n A..... aac  AAC\n"
    needed = video.NEEDED_ENCODERS
    assert ffmpeg.missing_encoders(needed, ffmpeg.encoder_names(listing)) == [
        "MP4 subtitle encoder mov_text"]
    assert ffmpeg.missing_encoders(needed, {"aac", "mov_text"}) == [
        "H.264 video encoder libx264"]
    assert describe.hashtag("AI safety") == "#AISafety"


def sections(*starts: float, end: float = 4000.0) -> list[TimedSection]:
    ends = [*starts[1:], end]
    return [TimedSection(id=f"s{n}", index=n, title=f"Section {n}", start=s, end=e)
            for n, (s, e) in enumerate(zip(starts, ends, strict=True))]


def test_chapters_follow_youtube_rules() -> None:
    found, why = describe.chapters(sections(0, 15, 40, 90), 120)
    assert why == ""
    assert [(c.time, c.title) for c in found] == [
        ("0:00", "Section 0"), ("0:15", "Section 1"), ("0:40", "Section 2"), ("1:30", "Section 3")]


def test_short_sections_join_their_neighbours() -> None:
    found, _ = describe.chapters(sections(0, 4, 30, 31, 60, 115), 120)
    starts = [c.start for c in found]
    assert starts[0] == 0 and starts == sorted(starts)
    ends = [*starts[1:], 120]
    assert all(end - start >= 10 for start, end in zip(starts, ends, strict=True))
    assert [c.title for c in found] == ["Section 1", "Section 3", "Section 4"]


def test_too_few_chapters_are_left_out_with_a_reason() -> None:
    found, why = describe.chapters(sections(0, 20), 60)
    assert found == [] and "YouTube needs 3" in why


def test_chapter_titles_and_times() -> None:
    long = TimedSection(id="x", index=2, title="A <very> long section title " * 4, start=3725.0,
                        end=4000.0)
    found, _ = describe.chapters([*sections(0, 20), long], 4000)
    assert found[-1].time == "1:02:05"
    assert len(found[-1].title) <= 49 and "<" not in found[-1].title


@pytest.fixture
def episode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIPELINE_ROOT", str(REPO))
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    return load_episode(make_episode(tmp_path))


def test_description_stays_within_youtube_limits(episode) -> None:
    script = Script.read(episode.build)
    links = [Link(text=f"<link {n}> ünïcödé", url=f"https://e.org/{n}") for n in range(400)]
    first = script.segments[0].model_copy(update={"links": links})
    script = script.model_copy(update={
        "episode": script.episode.model_copy(update={"title": "<b>Title</b> " * 20}),
        "segments": [first, *script.segments[1:]]})
    timeline = Timeline.read(episode.build).model_copy(
        update={"duration": 300.0, "sections": sections(0, 60, 120, 200, end=300.0)})
    title, description, why = describe.youtube_texts(episode, script, timeline)
    assert len(title) <= 100 and len(description.encode()) <= 5000
    assert why.startswith("links cut: ") and " of 402 listed" in why  # and the script's 2
    for text in (title, description):
        assert "<" not in text and ">" not in text
    lines = description.splitlines()
    chapter_lines = lines[lines.index("Chapters") + 1:][:4]
    assert chapter_lines == ["0:00 Section 0", "1:00 Section 1", "2:00 Section 2",
                             "3:20 Section 3"]
    assert "Listen to the podcast" in description and "#AISafety" in description


DIGEST_LINKS = {"intro/intro-1": ("intro", 10),
                "mechanistic-interpretability/paragraph-1": ("interpretability", 10),
                "mechanistic-interpretability/list-1": ("interpretability-list", 10),
                "in-other-news/list-1": ("digest", 270)}  # 300 links, one long digest


def digest_script(script: Script) -> tuple[Script, list[str]]:
    """The fixture's script with 300 links, most of them in one section's digest."""
    urls, segments = [], []
    for segment in script.segments:
        name, count = DIGEST_LINKS.get(segment.id, ("", 0))
        links = [Link(text=f"{name} paper {n}", url=f"https://digest.example/{name}/{n}")
                 for n in range(1, count + 1)]
        urls += [link.url for link in links]
        segments.append(segment.model_copy(update={"links": links}))
    return script.model_copy(update={"segments": segments}), urls


def test_links_that_do_not_fit_are_counted_after_each_sections_first_ones(episode) -> None:
    script, urls = digest_script(Script.read(episode.build))
    title, description, why = describe.youtube_texts(episode, script,
                                                     Timeline.read(episode.build))
    assert len(description.encode()) <= 5000
    listed = re.findall(r"^- .*: (https://digest\.example/\S+)$", description, re.MULTILINE)
    more = re.findall(r"^(\d+) more links: (\S+)$", description, re.MULTILINE)
    assert more == [(str(300 - len(listed)), f"https://example.org/mlaisu/podcast/{SLUG}/")]
    assert 30 < len(listed) < 300 and len(set(listed)) == len(listed)
    assert listed == [url for url in urls if url in listed]  # in the issue's order
    assert listed[:30] == urls[:30]  # the short sections keep all of theirs
    assert listed[30:] == urls[30:len(listed)]  # the digest keeps its head, gives up its tail
    assert f"links cut: {len(listed)} of 300 listed, {300 - len(listed)} more counted" in why
    rows = {row.label: row.value for row in review.youtube_checks(title, description)}
    assert rows["Links cut to fit"] == f"{300 - len(listed)} more links"


def test_links_that_fit_are_all_listed_without_a_count(episode) -> None:
    script = Script.read(episode.build)
    title, description, why = describe.youtube_texts(episode, script,
                                                     Timeline.read(episode.build))
    assert "https://arxiv.org/abs/2212.0001" in description
    assert "more link" not in description and "links cut" not in why
    assert "Links cut to fit" not in {r.label for r in review.youtube_checks(title, description)}


def test_missing_template_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"nothing\.j2"):
        describe.render_template(tmp_path, "nothing.j2", {})


def test_missing_captions_names_the_file(episode) -> None:
    (episode.build / "captions.vtt").unlink()
    (episode.build / "episode.m4a").write_bytes(b"")  # present, so the captions are named
    with pytest.raises(PipelineError, match=r"captions\.vtt.*make captions EP="):
        video.run(episode)
    assert not (episode.build / "video.mp4").exists()


def test_an_ffmpeg_without_an_encoder_is_named() -> None:
    with pytest.raises(PipelineError) as error:
        ffmpeg.require_encoders({**video.NEEDED_ENCODERS, "nosuch": "made-up encoder nosuch"})
    assert error.value.line() == (
        f"{shutil.which('ffmpeg')}: this ffmpeg lacks the made-up encoder nosuch "
        "(install Debian's ffmpeg: `make setup` or `apt-get install ffmpeg`)")


def test_installed_ffmpeg_has_the_encoders() -> None:
    ffmpeg.require_encoders(video.NEEDED_ENCODERS)  # raises naming what is missing otherwise


# ---------------------------------------------------------------- the real video


def probe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the MP4 boxes between start and end."""
    end = len(data) if end is None else end
    found = []
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start:start + 8])
        if size == 1:
            size = struct.unpack(">Q", data[start + 8:start + 16])[0]
        size = size or end - start
        found.append((kind.decode("latin-1"), start, size))
        start += size
    return found


def box_tree(data: bytes, start: int = 0, end: int | None = None) -> list[str]:
    names = []
    for kind, offset, size in boxes(data, start, end):
        names.append(kind)
        if kind in {"moov", "trak", "edts", "mdia", "minf", "stbl"}:
            names += box_tree(data, offset + 8, offset + size)
    return names


def frames_gray(path: Path, numbers: list[int]) -> list[bytes]:
    """Frames by number, shrunk to 32x18 grey, decoded by ffmpeg."""
    select = "+".join(f"eq(n\\,{n})" for n in numbers)
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-vf",
         f"select='{select}',scale=32:18", "-vsync", "0", "-f", "rawvideo", "-pix_fmt", "gray",
         "-"], capture_output=True, check=True).stdout
    return [raw[i:i + 576] for i in range(0, len(raw), 576)]


def nearest(frame: bytes, pictures: list[bytes]) -> int:
    return min(range(len(pictures)),
               key=lambda i: sum(abs(a - b) for a, b in zip(frame, pictures[i], strict=True)))


def build(tmp: Path, burn: bool = False) -> tuple[Path, str]:
    folder = make_episode(tmp, with_audio=True)
    if burn:
        issue = folder / "issue.md"
        issue.write_text(issue.read_text().replace(
            "summary:", "settings:\n  video:\n    burn_captions: true\n    preset: veryfast\n"
                        "summary:"), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_ROOT", str(REPO))
        mp.setenv("PIPELINE_CACHE_DIR", str(tmp / "cache"))
        slides_stage.run(load_episode(folder))
        result = CliRunner().invoke(cli, ["video", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "build", result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return build(tmp_path_factory.mktemp("video"))


@pytest.mark.slow
def test_streams_follow_youtube_recommendations(built) -> None:
    path = built[0] / "video.mp4"
    streams = probe(path, "-show_streams")["streams"]
    v, a, s, chapters = streams
    assert chapters["codec_type"] == "data"
    assert (v["codec_name"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert (v["width"], v["height"], v["r_frame_rate"]) == (1920, 1080, "30/1")
    assert v["has_b_frames"] == 2
    assert (a["codec_name"], a["profile"], a["sample_rate"], a["channels"]) == (
        "aac", "LC", "48000", 2)
    assert s["codec_name"] == "mov_text" and s["tags"]["language"] == "eng"
    assert abs(float(v["duration"]) - float(a["duration"])) <= 1 / FPS
    assert abs(float(v["duration"]) - DURATION) <= 1 / FPS
    assert float(v["start_time"]) == 0.0 and float(a["start_time"]) == 0.0


def click_time(path: Path) -> float:
    """When the audio first gets loud, decoded by ffmpeg at 48 kHz."""
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a",
                          "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
                         capture_output=True, check=True).stdout
    samples = memoryview(raw).cast("h")
    return next(i for i, x in enumerate(samples) if abs(x) > 16000) / 48000


def track_times(data: bytes) -> dict[str, float]:
    """Seconds each track lasts by its tkhd (in the movie's timescale), by handler type
    (vide, soun, sbtl for the captions, text for the chapters), and the movie's (mvhd)."""
    moov = next((o, n) for kind, o, n in boxes(data) if kind == "moov")
    inside = boxes(data, moov[0] + 8, moov[0] + moov[1])
    mvhd = next(o for kind, o, _ in inside if kind == "mvhd")
    assert data[mvhd + 8] == 0  # version 0: 32-bit times
    scale, movie = struct.unpack(">II", data[mvhd + 20:mvhd + 28])
    times = {"mvhd": movie / scale}
    for kind, offset, size in inside:
        if kind != "trak":
            continue
        parts = {k: o for k, o, _ in boxes(data, offset + 8, offset + size)}
        mdia = next((o, n) for k, o, n in boxes(data, offset + 8, offset + size) if k == "mdia")
        hdlr = next(o for k, o, _ in boxes(data, mdia[0] + 8, mdia[0] + mdia[1]) if k == "hdlr")
        handler = data[hdlr + 16:hdlr + 20].decode("latin-1")
        tkhd = parts["tkhd"]
        times[handler] = struct.unpack(">I", data[tkhd + 28:tkhd + 32])[0] / scale
    return times


LAST_CUE_END = 13.6  # slide_fixtures.VTT's last cue


@pytest.mark.slow
def test_the_container_lasts_as_long_as_the_audio(built) -> None:
    """The movie ends with its audio (within a frame); the captions' track ends with its
    last cue and the chapters' with the last section, so neither makes the file longer."""
    path = built[0] / "video.mp4"
    found = probe(path, "-show_format", "-show_streams")
    audio = next(s for s in found["streams"] if s["codec_type"] == "audio")
    assert abs(float(found["format"]["duration"]) - float(audio["duration"])) <= 1 / FPS
    times = track_times(path.read_bytes())
    assert set(times) == {"mvhd", "vide", "soun", "sbtl", "text"}
    assert abs(times["mvhd"] - float(audio["duration"])) <= 1 / FPS
    assert times["sbtl"] == pytest.approx(LAST_CUE_END, abs=0.001)
    assert times["text"] == pytest.approx(DURATION, abs=0.001)
    packets = probe(path, "-select_streams", "s", "-show_entries",
                    "packet=pts_time,duration_time,size")["packets"]
    cue = [p for p in packets if int(p["size"]) > 2][-1]  # 2 bytes: an empty sample
    assert float(cue["pts_time"]) + float(cue["duration_time"]) == pytest.approx(LAST_CUE_END)
    assert packets[-1]["size"] == "2" and float(packets[-1]["pts_time"]) == LAST_CUE_END


@pytest.mark.slow
def test_mp4_chapters_are_the_sections_in_time_order(built) -> None:
    folder, _ = built
    found = probe(folder / "video.mp4", "-show_chapters")["chapters"]
    expected = Chapters.of(Timeline.read(folder)).chapters  # what chapters.json holds
    assert len(expected) == 4
    assert [c["tags"]["title"] for c in found] == [c.title for c in expected]
    for chapter, want in zip(found, expected, strict=True):
        assert float(chapter["start_time"]) == pytest.approx(want.startTime, abs=0.001)
        assert float(chapter["end_time"]) == pytest.approx(want.endTime, abs=0.001)


@pytest.mark.slow
def test_audio_lines_up_with_the_slides_without_edit_lists(built) -> None:
    """The AAC encoder's priming is trimmed, so nothing is late though no edit list hides it."""
    folder, _ = built
    assert abs(click_time(folder / "episode.m4a") - CLICK) < 0.002
    assert abs(click_time(folder / "video.mp4") - CLICK) < 0.002


@pytest.mark.slow
def test_a_moov_too_big_for_its_room_is_moved_first_afterwards(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(video, "MOOV_BASE", 64)
    monkeypatch.setattr(video, "MOOV_PER_SAMPLE", 0)
    made = build(tmp_path)[0] / "video.mp4"
    top = [kind for kind, _, _ in boxes(made.read_bytes())]
    assert top == ["ftyp", "moov", "free", "mdat"] and video.top_boxes_whole(made)
    streams = probe(made, "-show_streams")["streams"]
    assert abs(float(streams[0]["duration"]) - DURATION) <= 1 / FPS


@pytest.mark.slow
def test_moov_first_and_no_edit_lists(built) -> None:
    data = (built[0] / "video.mp4").read_bytes()
    top = [kind for kind, _, _ in boxes(data)]
    assert top.index("moov") < top.index("free") < top.index("mdat")
    free = next(n for kind, _, n in boxes(data) if kind == "free")
    assert free > 1000  # the moov was written in the room kept for it
    tree = box_tree(data)
    assert tree.count("trak") == 4  # video, audio, captions and the chapters' text track
    assert "edts" not in tree and "elst" not in tree


@pytest.mark.slow
def test_keyframes_and_pictures_change_with_the_timeline(built) -> None:
    folder, _ = built
    path = folder / "video.mp4"
    slides = Slides.read(folder).slides
    changes = [s.start for s in slides[1:]]  # a page may start part-way through a list
    packets = probe(path, "-select_streams", "v", "-show_entries", "packet=pts_time,flags")
    keys = [float(p["pts_time"]) for p in packets["packets"] if "K" in p["flags"]]
    for change in changes:
        assert min(abs(k - change) for k in keys) <= 1 / FPS, change
    pictures = [Image.open(folder / s.file).convert("L").resize((32, 18)).tobytes()
                for s in slides]
    numbers = sorted({n for c in changes for n in (round(c * FPS) - 1, round(c * FPS))})
    shown = [nearest(f, pictures) for f in frames_gray(path, numbers)]
    expected = [i + d for i in range(len(changes)) for d in (0, 1)]
    assert shown == expected


@pytest.mark.slow
def test_cli_reports_progress_and_a_summary(built) -> None:
    folder, output = built
    assert "video: 100%" in output and "real time" in output.splitlines()[-1]
    assert "chapters left out" in output  # the tiny episode's sections are under 10 s
    title = (folder / "youtube-title.txt").read_text(encoding="utf-8")
    assert title.strip() == "AI Improving Itself | ML & AI Safety Updates #1"
    description = (folder / "youtube-description.txt").read_text(encoding="utf-8")
    assert "https://arxiv.org/abs/2212.0001" in description and "Chapters" not in description


@pytest.mark.slow
def test_burned_captions_replace_the_subtitle_track(tmp_path: Path) -> None:
    folder, output = build(tmp_path, burn=True)
    assert "encoded 7 of 7 GOPs" in output  # the slides stage left them to the video stage
    path = folder / "video.mp4"
    streams = probe(path, "-show_streams")["streams"]
    assert [s["codec_type"] for s in streams] == ["video", "audio", "data"]  # data: chapters
    assert streams[0]["profile"] == "High"
    packets = probe(path, "-select_streams", "v", "-show_entries", "packet=pts_time,flags")
    keys = [float(p["pts_time"]) for p in packets["packets"] if "K" in p["flags"]]
    assert all(min(abs(k - c) for k in keys) <= 1 / FPS for c in (3.2, 9.0, 12.0))
    slide = Image.open(folder / "slides/001.png").convert("L").resize((32, 18)).tobytes()
    with_cue, without = frames_gray(path, [45, 93])  # 1.5 s: a cue; 3.1 s: none

    def bottom_diff(frame: bytes) -> int:
        return sum(abs(a - b) for a, b in zip(frame[-6 * 32:], slide[-6 * 32:], strict=True))

    assert bottom_diff(with_cue) > bottom_diff(without) + 50


# ---------------------------------------------------------------- an edit, built again


def shifted(timeline: Timeline, after: str, seconds: float) -> Timeline:
    """The timeline with segment `after` lengthened by `seconds` and everything later moved,
    as narrating a longer paragraph does."""
    index = [s.id for s in timeline.segments].index(after)
    edited = timeline.segments[index]

    def moved(start: float, end: float) -> dict[str, float]:
        return {"start": start + seconds * (start > edited.start),
                "end": end + seconds * (end >= edited.end)}

    return timeline.model_copy(update={
        "duration": timeline.duration + seconds,
        "segments": [s.model_copy(update=moved(s.start, s.end)) for s in timeline.segments],
        "sections": [s.model_copy(update=moved(s.start, s.end)) for s in timeline.sections]})


EDITED = "mechanistic-interpretability/paragraph-1"


def edit_paragraph(folder: Path) -> None:
    """A longer paragraph: new text on its slide, new times after it, new audio."""
    build = folder / "build"
    script = Script.read(build)
    script.model_copy(update={"segments": [
        s.model_copy(update={"display": "A new first sentence. " + s.display})
        if s.id == EDITED else s for s in script.segments]}).write(build)
    timeline = shifted(Timeline.read(build), EDITED, 0.4)
    timeline.write(build)
    make_audio(build, tone(timeline.duration))


def video_of(folder: Path, tmp: Path, slides_first: bool = True) -> tuple[Count | None,
                                                                           video.VideoResult]:
    """The GOPs the slides stage encoded (None when it did not run) and the video stage's
    result."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_ROOT", str(REPO))
        mp.setenv("PIPELINE_CACHE_DIR", str(tmp / "cache"))
        drawn = slides_stage.run(load_episode(folder)).gops if slides_first else None
        return drawn, video.run(load_episode(folder))


@pytest.mark.slow
def test_an_edit_encodes_only_what_changed_and_gives_the_cold_builds_file(
        tmp_path: Path) -> None:
    """The slides stage encodes the GOPs, so the video stage only joins them; a video stage
    that finds none encodes them itself, to the same file."""
    folder = make_episode(tmp_path / "warm", with_audio=True)
    cache = folder / "build" / slideshow.CACHE
    drawn, first = video_of(folder, tmp_path)
    assert drawn and drawn.made == drawn.total == first.gops.total and first.gops.made == 0
    before = {p.name for p in cache.iterdir()}
    pictures = {p.read_bytes() for p in (folder / "build/slides").iterdir()}

    drawn, again = video_of(folder, tmp_path)  # nothing changed: nothing encoded, same file
    assert drawn and drawn.made == 0 and again.gops.made == 0
    assert {p.name for p in cache.iterdir()} == before

    edit_paragraph(folder)
    drawn, warm = video_of(folder, tmp_path)
    slides = Slides.read(folder / "build").slides
    redrawn = [s.file for s in slides if (folder / "build" / s.file).read_bytes() not in pictures]
    assert redrawn == [s.file for s in slides if EDITED in s.segments]  # one slide changed
    assert drawn and 0 < drawn.made < drawn.total and warm.gops.made == 0
    after = {p.name for p in cache.iterdir()}
    # the new GOPs, and the changed slides' files of them; the old ones were dropped
    assert drawn.made < len(after - before) <= 2 * drawn.made + 1

    cold_folder = make_episode(tmp_path / "cold", with_audio=False)
    for name in ("script.json", "timeline.json", "episode.m4a"):
        (cold_folder / "build" / name).write_bytes((folder / "build" / name).read_bytes())
    video_of(cold_folder, tmp_path)
    shutil.rmtree(cold_folder / "build" / slideshow.CACHE)
    _, cold = video_of(cold_folder, tmp_path, slides_first=False)
    assert cold.gops.made == cold.gops.total
    warm_bytes = (folder / "build/video.mp4").read_bytes()
    assert warm_bytes == (cold_folder / "build/video.mp4").read_bytes()
    assert abs(float(probe(folder / "build/video.mp4", "-show_format")["format"]["duration"])
               - (DURATION + 0.4)) <= 1 / FPS
