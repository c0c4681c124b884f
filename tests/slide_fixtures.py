"""Small real inputs for the slides and video stages: an episode folder whose build/ holds
script.json and timeline.json written by hand per docs/FORMATS.md, an MP3 made by ffmpeg
and a tiny WebVTT file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SLUG = "2023-01-06-ai-improving-itself"
DURATION = 14.0
CLICK = 6.0  # a loud click in the test audio, to find it again in the video

ISSUE = """---
title: AI Improving Itself
number: 1
date: 2023-01-06
summary: Over 200 research ideas for mechanistic interpretability and ML improving ML.
---
# AI Improving Itself

Body text.
"""


def seg(sid: str, kind: str, display: str, start: float, end: float,
        links: list[dict[str, str]] | None = None, items: list[str] | None = None) -> dict:
    section = sid.split("/")[0]
    return {"id": sid, "kind": kind, "section": section, "display": display,
            "spoken": display, "links": links or [], "items": items or [],
            "start": start, "end": end}


SEGMENTS = [
    seg("intro/intro-1", "intro", "Welcome to ML & AI Safety Updates, episode 1.", 0.5, 3.0),
    seg("mechanistic-interpretability/heading-1", "heading", "Mechanistic interpretability",
        3.2, 4.0),
    seg("mechanistic-interpretability/paragraph-1", "paragraph",
        "Neel Nanda has published a list of 200 open problems in mechanistic "
        "interpretability. They are split into categories.", 4.1, 6.5,
        links=[{"text": "list", "url": "https://www.alignmentforum.org/posts/200"}]),
    seg("mechanistic-interpretability/list-1", "list",
        "Toy models. Circuits in the wild. Polysemanticity.", 6.6, 8.9,
        items=["Toy models: small models trained the same way.",
               "Circuits in the wild: real language models.",
               "Polysemanticity and superposition: one feature, many neurons."]),
    seg("in-other-news/heading-1", "heading", "In other news", 9.0, 9.6),
    seg("in-other-news/list-1", "list", "Several items.", 9.7, 11.8,
        links=[{"text": "Søren Mindermann", "url": "https://arxiv.org/abs/2212.0001"}],
        items=["Søren Mindermann and Zoë Ng wrote about honesty.",
               "Jan Kirchner's ßtraße of thoughts.",
               "A report on compute governance."]),
    seg("outro/outro-1", "outro", "Thanks for listening.", 12.0, 13.6),
]

SECTIONS = [
    ("intro", "Introduction", "intro"),
    ("mechanistic-interpretability", "Mechanistic interpretability", "body"),
    ("in-other-news", "In other news", "body"),
    ("outro", "Outro", "outro"),
]


def script_json() -> dict[str, Any]:
    index = {sid: n for n, (sid, _, _) in enumerate(SECTIONS)}
    segments = [{k: v for k, v in s.items() if k not in ("start", "end")}
                | {"section_index": index[s["section"]]} for s in SEGMENTS]
    return {
        "version": 1,
        "episode": {"slug": SLUG, "title": "AI Improving Itself", "number": 1,
                    "date": "2023-01-06",
                    "summary": "Over 200 research ideas for mechanistic interpretability."},
        "show": {"title": "ML & AI Safety Updates", "author": "Apart Research",
                 "language": "en"},
        "sections": [{"index": n, "id": sid, "title": title, "kind": kind}
                     for n, (sid, title, kind) in enumerate(SECTIONS)],
        "segments": segments,
    }


def timeline_json(duration: float = DURATION) -> dict[str, Any]:
    firsts = {}
    for s in SEGMENTS:
        firsts.setdefault(s["section"], s["start"])
    starts = [0.0] + [firsts[sid] for sid, _, _ in SECTIONS[1:]]
    ends = starts[1:] + [duration]
    return {
        "version": 1, "duration": duration, "narration_offset": 0.5,
        "segments": [{"id": s["id"], "section": s["section"], "section_index": 0,
                      "kind": s["kind"], "start": s["start"], "end": s["end"],
                      "cached": False, "source": "hibari"} for s in SEGMENTS],
        "sections": [{"id": sid, "title": title, "start": a, "end": b}
                     for (sid, title, _), a, b in zip(SECTIONS, starts, ends, strict=True)],
    }


VTT = """WEBVTT

00:00:00.500 --> 00:00:03.000
Welcome to ML & AI Safety Updates.

00:00:04.100 --> 00:00:06.500
Neel Nanda has published a list.

00:00:12.000 --> 00:00:13.600
Thanks for listening.
"""


def make_audio(path: Path, duration: float) -> None:
    """A quiet tone with a 10 ms click at CLICK seconds, as a mono 44.1 kHz MP3."""
    tone = f"0.1*sin(2*PI*330*t)+if(between(t,{CLICK},{CLICK + 0.01}),0.8,0)"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"aevalsrc='{tone}':s=44100:d={duration}", "-ac", "1",
         "-c:a", "libmp3lame", "-b:a", "64k", str(path)],
        check=True,
    )


def make_episode(root: Path, with_audio: bool = False) -> Path:
    """An episode folder under root/episodes with build/ inputs for slides and video."""
    episode = root / "episodes" / SLUG
    build = episode / "build"
    build.mkdir(parents=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    (build / "script.json").write_text(json.dumps(script_json()), encoding="utf-8")
    (build / "timeline.json").write_text(json.dumps(timeline_json()), encoding="utf-8")
    (build / "captions.vtt").write_text(VTT, encoding="utf-8")
    if with_audio:
        make_audio(build / "episode.mp3", DURATION)
    return episode
