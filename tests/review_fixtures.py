"""Small real inputs for the review page, made by hand after docs/FORMATS.md and the other
stages' writers: a 12 s H.264 High + AAC-LC MP4, an MP3, a WebVTT file with a known number
of cues, slides, and the stage files (timeline, chapters, script, qa) built as models."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

from pipeline.formats import (
    QA,
    Chapter,
    Chapters,
    LexiconCandidate,
    Script,
    SegmentQA,
    ShowInfo,
    SlideEntry,
    Slides,
    Stretch,
    TimedSection,
    Timeline,
)
from tests import builders as build

DURATION = 12.0
SLUG = "2024-05-17-test-issue"
TRICKY = 'Tom & Jerry <b>not bold</b> "quoted"'

TITLES = {"intro": "Introduction", "interpretability": TRICKY, "outro": "Outro"}
SEGMENTS = [
    ("intro/intro-1", "intro", 0, "intro", 0.5, 3.5,
     "Welcome to the show, episode 3: Test Issue."),
    ("interpretability/heading-1", "interpretability", 1, "heading", 4.0, 5.0, TRICKY),
    ("interpretability/paragraph-1", "interpretability", 1, "paragraph", 5.2, 8.6,
     "Neel Nanda lists the open problems of superposition, and Neel thanks the readers."),
    ("outro/outro-1", "outro", 2, "outro", 9.0, 11.5, "Thanks for listening."),
]
SECTION_TIMES = [("intro", "Introduction", 0.0, 4.0), ("interpretability", TRICKY, 4.0, 9.0),
                 ("outro", "Outro", 9.0, DURATION)]
# Whisper heard "Welcome" as "Well come" and the second "Neel" (at 7.8 s: not the first one,
# which it heard right) as "Neil"; it did not hear "lists" at all.
HEARD = [build.heard("Welcome", "Well come", "intro/intro-1", 0.5),
         build.heard("Neel", "Neil", "interpretability/paragraph-1", 7.8)]
MISSED = [build.missed("lists", "interpretability/paragraph-1")]
STRETCHES = [Stretch(segment="outro/outro-1", start=10.2, end=11.0, text="see you soon")]
CUES = [
    (0.5, 2.0, "Welcome to the show,"), (2.0, 3.5, "episode 3: Test Issue."),
    (4.0, 5.0, "Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt; \"quoted\""),
    (5.2, 6.8, "Neel Nanda lists the open\nproblems of superposition,"),
    (6.9, 8.6, "and Neel thanks the readers."), (9.0, 10.0, "Thanks for listening."),
    (10.2, 11.0, "See you soon."),
]
YOUTUBE_TITLE = "Test Issue | ML & AI Safety Updates #3\n"
YOUTUBE_DESCRIPTION = ("A short test issue.\n\nChapters\n0:00 Introduction\n0:04 Tom & Jerry\n"
                       "0:09 Outro\n")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def make_video(path: Path) -> Path:
    """12 s of H.264 High (yuv420p) + AAC-LC, moov first: what the video stage delivers."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=320x180:rate=30:duration={DURATION}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={DURATION}:sample_rate=48000",
           "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
           "-g", "15", "-c:a", "aac", "-b:a", "64k", "-ac", "2", "-movflags", "+faststart",
           "-shortest", str(path))
    return path


def make_mp3(path: Path) -> Path:
    """12 s mono MP3 whose level rises and falls, so the loudness curve has a shape."""
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency=330:duration={DURATION}:sample_rate=44100",
           "-af", "volume='0.2+2.5*abs(sin(t/2))':eval=frame", "-ac", "1",
           "-c:a", "libmp3lame", "-b:a", "64k", str(path))
    return path


def vtt_text(cues: list[tuple[float, float, str]] = CUES) -> str:
    def stamp(seconds: float) -> str:
        minutes, secs = divmod(seconds, 60)
        return f"00:{int(minutes):02d}:{secs:06.3f}"
    blocks = [f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}" for i, (a, b, text) in
              enumerate(cues, 1)]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"


def srt_text(cues: list[tuple[float, float, str]] = CUES) -> str:
    def stamp(seconds: float) -> str:
        minutes, secs = divmod(seconds, 60)
        return f"00:{int(minutes):02d}:{secs:06.3f}".replace(".", ",")
    return "\n".join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n"
                     for i, (a, b, text) in enumerate(cues, 1))


def script_file() -> Script:
    segments = [build.segment(i, text, text.lower(), idx) for i, _, idx, _, _, _, text in SEGMENTS]
    return build.script(segments, TITLES, show=ShowInfo(title="ML & AI Safety Updates",
                                                        author="Apart", language="en"))


def timeline_file() -> Timeline:
    sections = [TimedSection(id=i, index=n, title=t, start=a, end=b)
                for n, (i, t, a, b) in enumerate(SECTION_TIMES)]
    return build.timeline([build.timed(i, a, b, idx) for i, _, idx, _, a, b, _ in SEGMENTS],
                          DURATION, sections)


def chapters_file() -> Chapters:
    return Chapters(chapters=[Chapter(startTime=a, endTime=b, title=t)
                              for _, t, a, b in SECTION_TIMES])


def qa_file() -> QA:
    return build.qa(
        HEARD, MISSED, STRETCHES, raw_wer=0.0931, corrected_wer=0.0125,
        segments=[SegmentQA(id=i, raw_wer=0.2 if "paragraph" in i else 0.0, words=10,
                            errors=2 if "paragraph" in i else 0, heard=text.lower())
                  for i, _, _, _, _, _, text in SEGMENTS],
        lexicon_candidates=[LexiconCandidate(word="Neel", heard="Neil", count=1)],
        cues=len(CUES))


def slides_file() -> Slides:
    return Slides(width=320, height=180, duration=DURATION, slides=[
        SlideEntry(index=n, file=f"slides/{n:03d}.png", kind=("title", "section", "outro")[n - 1],
                   section=sec, title=title, segments=[], start=a, end=b)
        for n, (sec, title, a, b) in enumerate(SECTION_TIMES, 1)])


def fill_build(build: Path, media: dict[str, Path]) -> Path:
    """Every file the review page reads, in `build`."""
    (build / "slides").mkdir(parents=True, exist_ok=True)
    shutil.copy(media["video"], build / "video.mp4")
    shutil.copy(media["mp3"], build / "episode.mp3")
    (build / "captions.vtt").write_text(vtt_text(), encoding="utf-8")
    (build / "captions.srt").write_text(srt_text(), encoding="utf-8")
    for stage_file in (script_file(), timeline_file(), chapters_file(), qa_file(),
                       slides_file()):
        stage_file.write(build)
    for n, colour in enumerate(((30, 60, 120), (120, 40, 40), (40, 110, 60)), 1):
        Image.new("RGB", (320, 180), colour).save(build / "slides" / f"{n:03d}.png")
    Image.new("RGB", (1280, 720), (30, 60, 120)).save(build / "thumbnail.jpg", quality=80)
    (build / "youtube-title.txt").write_text(YOUTUBE_TITLE, encoding="utf-8")
    (build / "youtube-description.txt").write_text(YOUTUBE_DESCRIPTION, encoding="utf-8")
    return build


def artwork(assets: Path) -> None:
    Image.new("RGB", (1400, 1400), (20, 60, 120)).save(assets / "artwork.png")
