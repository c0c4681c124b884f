"""A tiny project for the narrate and master tests: assets/show.toml copied from the
repository, one episode, and a hand-written script.json following docs/FORMATS.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SLUG = "2023-01-06-test"

ISSUE = """---
title: A Test Episode
number: 3
date: 2023-01-06
summary: Two short sections to test narration and mastering.
---

Hello.

## Robots

Robots learn.
"""

SECTIONS = [
    {"index": 0, "id": "intro", "title": "Introduction", "kind": "intro"},
    {"index": 1, "id": "robots", "title": "Robots", "kind": "body"},
    {"index": 2, "id": "outro", "title": "Outro", "kind": "outro"},
]

SEGMENTS = [
    ("intro", 0, "intro", "intro/intro-1", "Welcome to the test show, episode three."),
    ("robots", 1, "heading", "robots/heading-1", "Robots."),
    ("robots", 1, "paragraph", "robots/paragraph-1", "Robots learn to stack blocks."),
    ("robots", 1, "paragraph", "robots/paragraph-2", "They also fold towels, slowly."),
    ("outro", 2, "outro", "outro/outro-1", "Thanks for listening."),
]


def script(edits: dict[str, str] | None = None) -> dict[str, Any]:
    edits = edits or {}
    segments = [{"id": sid, "kind": kind, "section": sec, "section_index": idx,
                 "display": edits.get(sid, text), "spoken": edits.get(sid, text),
                 "links": [], "items": []}
                for sec, idx, kind, sid, text in SEGMENTS]
    return {"version": 1,
            "episode": {"slug": SLUG, "title": "A Test Episode", "number": 3,
                        "date": "2023-01-06", "summary": "Two short sections."},
            "show": {"title": "ML & AI Safety Updates", "author": "Apart Research",
                     "language": "en"},
            "sections": SECTIONS, "segments": segments}


def make_project(root: Path, edits: dict[str, str] | None = None,
                 show_extra: str = "") -> Path:
    """A project under `root`; returns the episode folder."""
    (root / "assets").mkdir(parents=True, exist_ok=True)
    show = (REPO / "assets" / "show.toml").read_text(encoding="utf-8")
    (root / "assets" / "show.toml").write_text(show + show_extra, encoding="utf-8")
    episode = root / "episodes" / SLUG
    (episode / "build").mkdir(parents=True, exist_ok=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    write_script(episode, edits)
    return episode


def write_script(episode: Path, edits: dict[str, str] | None = None) -> None:
    text = json.dumps(script(edits), indent=2)
    (episode / "build" / "script.json").write_text(text, encoding="utf-8")


def copy_artwork(root: Path, src: Path) -> None:
    shutil.copy(src, root / "assets" / "artwork.png")
