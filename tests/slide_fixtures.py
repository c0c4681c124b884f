"""Small real inputs for the slides and video stages: an episode folder whose build/ holds
script.json and timeline.json built as the typed models, the video's sound made as master
makes it and a tiny WebVTT file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from pipeline.formats import Script, Segment, TimedSegment, Timeline
from pipeline.media import aac
from pipeline.media.pieces import Pieces
from tests import builders as build

REPO = Path(__file__).resolve().parent.parent
SLUG = "2023-01-06-ai-improving-itself"
DURATION = 14.0
CLICK = 6.0  # a loud click in the test audio, to find it again in the video
RATE = 44100

ISSUE = """---
title: AI Improving Itself
number: 1
date: 2023-01-06
summary: Over 200 research ideas for mechanistic interpretability and ML improving ML.
---
# AI Improving Itself

Body text.
"""


TITLES = {"intro": "Introduction", "mechanistic-interpretability": "Mechanistic interpretability",
          "in-other-news": "In other news", "outro": "Outro"}
ORDER = list(TITLES)


def seg(sid: str, display: str, start: float, end: float,
        links: list[tuple[str, str]] | None = None,
        items: list[str] | None = None) -> tuple[Segment, TimedSegment]:
    """A script segment and its times."""
    index = ORDER.index(sid.split("/")[0])
    return (build.segment(sid, display, section_index=index, links=links or [],
                          items=items or []),
            build.timed(sid, start, end, section_index=index, cached=False))


PAIRS = [
    seg("intro/intro-1", "Welcome to ML & AI Safety Updates, episode 1.", 0.5, 3.0),
    seg("mechanistic-interpretability/heading-1", "Mechanistic interpretability", 3.2, 4.0),
    seg("mechanistic-interpretability/paragraph-1",
        "Neel Nanda has published a list of 200 open problems in mechanistic "
        "interpretability. They are split into categories.", 4.1, 6.5,
        links=[("list", "https://www.alignmentforum.org/posts/200")]),
    seg("mechanistic-interpretability/list-1",
        "Toy models. Circuits in the wild. Polysemanticity.", 6.6, 8.9,
        items=["Toy models: small models trained the same way.",
               "Circuits in the wild: real language models.",
               "Polysemanticity and superposition: one feature, many neurons."]),
    seg("in-other-news/heading-1", "In other news", 9.0, 9.6),
    seg("in-other-news/list-1", "Several items.", 9.7, 11.8,
        links=[("Søren Mindermann", "https://arxiv.org/abs/2212.0001")],
        items=["Søren Mindermann and Zoë Ng wrote about honesty.",
               "Jan Kirchner's ßtraße of thoughts.",
               "A report on compute governance."]),
    seg("outro/outro-1", "Thanks for listening.", 12.0, 13.6),
]
SEGMENTS = [timed for _, timed in PAIRS]


def script_file() -> Script:
    return build.script([segment for segment, _ in PAIRS], TITLES, title="AI Improving Itself",
                        slug=SLUG, number=1,
                        summary="Over 200 research ideas for mechanistic interpretability.")


def timeline_file(duration: float = DURATION) -> Timeline:
    return build.timeline(SEGMENTS, duration, titles=TITLES)


VTT = """WEBVTT

00:00:00.500 --> 00:00:03.000
Welcome to ML & AI Safety Updates.

00:00:04.100 --> 00:00:06.500
Neel Nanda has published a list.

00:00:12.000 --> 00:00:13.600
Thanks for listening.
"""


def tone(duration: float, click: float = CLICK, rate: int = RATE) -> np.ndarray:
    """A quiet tone with a 10 ms click at `click` seconds, mono float32."""
    t = np.arange(round(duration * rate)) / rate
    return (0.1 * np.sin(2 * np.pi * 330 * t)
            + np.where((t >= click) & (t <= click + 0.01), 0.8, 0.0)).astype(np.float32)


def make_audio(build: Path, samples: np.ndarray, starts: list[float] | None = None) -> None:
    """The video's sound, episode.m4a, from `samples` (at RATE) as master makes it, its
    pieces cut at `starts` (the timeline's segment starts by default)."""
    starts = starts if starts is not None else [s.start for s in Timeline.read(build).segments]
    with tempfile.TemporaryDirectory() as tmp:
        aac.encode(aac.Sound(samples, RATE, starts, "384k"), build / "episode.m4a",
                   Pieces(build / "audio-cache"), Path(tmp))


def make_episode(root: Path, with_audio: bool = False) -> Path:
    """An episode folder under root/episodes with build/ inputs for slides and video."""
    episode = root / "episodes" / SLUG
    build = episode / "build"
    build.mkdir(parents=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    script_file().write(build)
    timeline_file().write(build)
    (build / "captions.vtt").write_text(VTT, encoding="utf-8")
    if with_audio:
        make_audio(build, tone(DURATION))
    return episode
