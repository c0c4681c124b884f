"""Small real inputs for the review page, made by hand after docs/FORMATS.md and the other
stages' writers: a 12 s H.264 High + AAC-LC MP4, an MP3, a WebVTT file with a known number
of cues, slides, and the JSON files (timeline, chapters, script, qa)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from PIL import Image

DURATION = 12.0
SLUG = "2024-05-17-test-issue"
TRICKY = 'Tom & Jerry <b>not bold</b> "quoted"'

SECTIONS = [
    {"index": 0, "id": "intro", "title": "Introduction", "kind": "intro"},
    {"index": 1, "id": "interpretability", "title": TRICKY, "kind": "body"},
    {"index": 2, "id": "outro", "title": "Outro", "kind": "outro"},
]
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
HEARD = [
    {"segment": "intro/intro-1", "display": "Welcome", "expected": "welcome",
     "heard": "Well come", "start": 0.5},
    {"segment": "interpretability/paragraph-1", "display": "Neel", "expected": "neel",
     "heard": "Neil", "start": 7.8},
]
MISSED = [{"segment": "interpretability/paragraph-1", "display": "lists", "expected": "lists"}]
STRETCHES = [{"segment": "outro/outro-1", "start": 10.2, "end": 11.0, "text": "see you soon"}]
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


def script_json() -> dict:
    segments = [{"id": i, "kind": kind, "section": sec, "section_index": idx, "display": text,
                 "spoken": text.lower(), "links": [], "items": []}
                for i, sec, idx, kind, _, _, text in SEGMENTS]
    return {"version": 1,
            "episode": {"slug": SLUG, "title": "Test Issue", "number": 3, "date": "2024-05-17",
                        "summary": "A short test issue."},
            "show": {"title": "ML & AI Safety Updates", "author": "Apart", "language": "en"},
            "sections": SECTIONS, "segments": segments}


def timeline_json() -> dict:
    return {"version": 1, "duration": DURATION, "narration_offset": 0.5,
            "segments": [{"id": i, "section": sec, "section_index": idx, "kind": kind,
                          "start": a, "end": b, "cached": True, "source": "hibari"}
                         for i, sec, idx, kind, a, b, _ in SEGMENTS],
            "sections": [{"id": i, "title": t, "start": a, "end": b}
                         for i, t, a, b in SECTION_TIMES]}


def chapters_json() -> dict:
    return {"version": "1.2.0", "chapters": [{"startTime": a, "endTime": b, "title": t}
                                             for _, t, a, b in SECTION_TIMES]}


def qa_json() -> dict:
    return {"version": 1, "model": "tiny.en", "backend": "openai-whisper", "device": "cpu",
            "seconds_per_audio_second": 0.15, "raw_wer": 0.0931, "corrected_wer": 0.0125,
            "segments": [{"id": i, "raw_wer": 0.2 if "paragraph" in i else 0.0, "words": 10,
                          "errors": 2 if "paragraph" in i else 0, "heard": text.lower()}
                         for i, _, _, _, _, _, text in SEGMENTS],
            "lexicon_candidates": [{"word": "Neel", "heard": "Neil", "count": 1}],
            "heard_differently": HEARD, "missed": MISSED, "dropped_count": 0, "dropped": [],
            "flagged_stretches": STRETCHES, "cues": len(CUES), "cue_rule_violations": [],
            "notes": []}


def slides_json() -> dict:
    return {"version": 1, "width": 320, "height": 180, "duration": DURATION,
            "slides": [{"index": n, "file": f"slides/{n:03d}.png",
                        "kind": ("title", "section", "outro")[n - 1], "section": sec,
                        "title": title, "segments": [], "start": a, "end": b}
                       for n, (sec, title, a, b) in enumerate(SECTION_TIMES, 1)]}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def fill_build(build: Path, media: dict[str, Path]) -> Path:
    """Every file the review page reads, in `build`."""
    (build / "slides").mkdir(parents=True, exist_ok=True)
    shutil.copy(media["video"], build / "video.mp4")
    shutil.copy(media["mp3"], build / "episode.mp3")
    (build / "captions.vtt").write_text(vtt_text(), encoding="utf-8")
    (build / "captions.srt").write_text(srt_text(), encoding="utf-8")
    for name, data in (("script.json", script_json()), ("timeline.json", timeline_json()),
                       ("chapters.json", chapters_json()), ("qa.json", qa_json()),
                       ("slides.json", slides_json())):
        write_json(build / name, data)
    for n, colour in enumerate(((30, 60, 120), (120, 40, 40), (40, 110, 60)), 1):
        Image.new("RGB", (320, 180), colour).save(build / "slides" / f"{n:03d}.png")
    Image.new("RGB", (1280, 720), (30, 60, 120)).save(build / "thumbnail.jpg", quality=80)
    (build / "youtube-title.txt").write_text(YOUTUBE_TITLE, encoding="utf-8")
    (build / "youtube-description.txt").write_text(YOUTUBE_DESCRIPTION, encoding="utf-8")
    return build


def artwork(assets: Path) -> None:
    Image.new("RGB", (1400, 1400), (20, 60, 120)).save(assets / "artwork.png")
