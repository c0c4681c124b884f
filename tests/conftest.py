"""Shared fixtures: every test works in a temporary project, never in the repository."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Every `pipeline` a test starts, through make or not, runs in a process of its own; the
# warm process (pipeline/warm.py) has tests of its own, which start and stop theirs.
os.environ["PIPELINE_WARM"] = "0"
SAMPLE_SLUG = "2023-01-06-ai-improving-itself"
SEED = REPO / "tests" / "data" / "seed_000_ai_improving_itself.txt"

FRONT = """\
---
title: {title}
number: 3
date: 2024-05-17
summary: A short test issue.
---
"""


class Project:
    """A throwaway project root with the repository's assets and one or more episodes."""

    def __init__(self, root: Path):
        self.root = root
        self.assets = root / "assets"
        self.episodes = root / "episodes"

    def episode(self, body: str, slug: str = "2024-05-17-test-issue",
                title: str = "Test Issue", front: str | None = None) -> Path:
        folder = self.episodes / slug
        folder.mkdir(parents=True, exist_ok=True)
        head = front if front is not None else FRONT.format(title=title)
        (folder / "issue.md").write_text(head + textwrap.dedent(body), encoding="utf-8")
        return folder

    def set_show(self, **values: str) -> None:
        """Set keys of assets/show.toml (each the first line that starts with the key)."""
        show = self.assets / "show.toml"
        lines = show.read_text(encoding="utf-8").splitlines()
        for key, value in values.items():
            lines = [f'{key} = "{value}"' if line.startswith(f"{key} =") else line
                     for line in lines]
        show.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def sample(self) -> Path:
        target = self.episodes / SAMPLE_SLUG
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "episodes" / SAMPLE_SLUG / "issue.md", target / "issue.md")
        return target


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    root = tmp_path / "show"
    shutil.copytree(REPO / "assets", root / "assets")
    (root / "episodes").mkdir()
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    return Project(root)
