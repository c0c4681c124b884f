"""A back catalogue: `make all -j2` over 1, 2 and 4 episodes from cold, side by side in one
run: wall seconds per second of audio for each (lower with more episodes where make runs
two episodes' stages at once on the two cores). Not a timed test.

    python bench/bench_catalogue.py [--jobs 2] [--counts 1 2 4] [--quick]

Each count is built in its own temporary project with an empty cache (the converted
Whisper models, made once per machine, are copied in); the repository is not touched.
--quick narrates only each issue's first two sections.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# make in a copy of the project must not run the set-up there (it would point the venv's
# editable install at the copy): `make bench` has brought it up to date in the repository
KEEP_SETUP = ["-o", f"{sys.prefix}/.setup-stamp"]
sys.path.insert(0, str(REPO))

from pipeline.config import cache_dir  # noqa: E402
from pipeline.formats import Timeline  # noqa: E402
from pipeline.warm import stop_all  # noqa: E402

DATA = REPO / "tests" / "data" / "newsletters"
ISSUES = {  # the sample first, then the three real-shaped newsletters of the tests
    "2023-01-06-ai-improving-itself": REPO / "episodes" / "2023-01-06-ai-improving-itself"
    / "issue.md",
    "2024-05-15-rust-weekly-512": DATA / "rust-weekly.md",
    "2024-07-26-model-notes-47": DATA / "research-digest.md",
    "2024-05-31-fediverse-python-may": DATA / "community-news.md",
}


def shortened(text: str) -> str:
    """The issue up to its third `## ` section: front matter, intro and two sections."""
    starts = [m.start() for m in re.finditer(r"^## ", text, re.M)]
    return text[:starts[2]] if len(starts) > 2 else text


def project(folder: Path, count: int, quick: bool) -> Path:
    shutil.copytree(REPO / "assets", folder / "assets")
    for name in ("pyproject.toml", "scripts"):
        (folder / name).symlink_to(REPO / name)
    for slug, issue in list(ISSUES.items())[:count]:
        (folder / "episodes" / slug).mkdir(parents=True)
        text = issue.read_text(encoding="utf-8")
        (folder / "episodes" / slug / "issue.md").write_text(
            shortened(text) if quick else text, encoding="utf-8")
    if (models := cache_dir() / "whisper").is_dir():
        shutil.copytree(models, folder / "cache" / "whisper")
    return folder


def make_all(root: Path, jobs: int) -> float:
    """`make all` cold, with no warm process at first (one of root's own started by the
    build is stopped after it)."""
    env = dict(os.environ, PIPELINE_CACHE_DIR=str(root / "cache"), PIPELINE_WARM="1",
               PIPELINE_WARM_DIR=str(root / "warm"))
    env.pop("MAKEFLAGS", None)
    start = time.perf_counter()
    try:
        subprocess.run(["make", "--no-print-directory", "-f", str(REPO / "Makefile"),
                        *KEEP_SETUP, f"VENV={sys.prefix}", f"-j{jobs}", "all"], cwd=root,
                       env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - start
    finally:
        stop_all(root / "warm")


def audio_seconds(root: Path) -> list[float]:
    return [Timeline.read(folder / "build").duration
            for folder in sorted((root / "episodes").iterdir())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    for count in args.counts:
        with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
            root = project(Path(tmp), count, args.quick)
            wall = make_all(root, args.jobs)
            audio = audio_seconds(root)
        rows.append((count, wall, sum(audio)))
    print(f"make all -j{args.jobs}, cold: {'episodes':>8}{'audio':>9}{'wall':>9}"
          f"{'wall/audio':>12}")
    for count, wall, audio in rows:
        print(f"{'':22}{count:8d}{audio:8.0f}s{wall:8.1f}s{wall / audio:12.3f}")
    for count, wall, audio in rows:
        print(f"summary: make all -j{args.jobs}, {count} episode(s) cold | "
              f"{wall / audio:.3f} s/s wall | {audio:.0f} s of audio in {wall:.0f} s")


if __name__ == "__main__":
    main()
