"""A tiny project for the narrate and master tests: assets/show.toml copied from the
repository, one episode, and its script.json built as the typed model the script stage writes."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.formats import Script
from tests import builders as build

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


SEGMENTS = [
    ("intro", 0, "intro", "intro/intro-1", "Welcome to the test show, episode three."),
    ("robots", 1, "heading", "robots/heading-1", "Robots."),
    ("robots", 1, "paragraph", "robots/paragraph-1", "Robots learn to stack blocks."),
    ("robots", 1, "paragraph", "robots/paragraph-2", "They also fold towels, slowly."),
    ("outro", 2, "outro", "outro/outro-1", "Thanks for listening."),
]


def script(edits: dict[str, str] | None = None) -> Script:
    edits = edits or {}
    segments = [build.segment(sid, edits.get(sid, text), section_index=idx)
                for _, idx, _, sid, text in SEGMENTS]
    return build.script(segments, {"intro": "Introduction"}, title="A Test Episode", slug=SLUG,
                        summary="Two short sections.")


SECTIONS = script().sections


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
    script(edits).write(episode / "build")


def copy_artwork(root: Path, src: Path) -> None:
    shutil.copy(src, root / "assets" / "artwork.png")
