"""The whole sample episode, stage by stage: seconds of compute (CPU time of the stage's
process) and wall time per second of episode audio, cold (empty caches but the converted
Whisper model, which a machine makes once) and after a one-paragraph edit, side by side in
one run; then what master and captions did again after the edit; then the same two
builds as the producer runs them, `make -j2 episode` (master beside captions, then the
slides), the first with no warm process yet and the edit with the one it started. Not a
timed test.

    python bench/bench_episode.py [--episode episodes/<slug>]

Everything is built in a temporary copy of the project; the repository is not touched.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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

STAGES = ("script", "narrate", "master", "captions", "slides", "video", "review")


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SAID: dict[str, str] = {}  # what each stage printed last, by stage


def run_stage(root: Path, stage: str, slug: str) -> tuple[float, float]:
    """Run one stage as the Makefile does; (wall seconds, CPU seconds)."""
    pipeline = Path(sys.executable).parent / "pipeline"
    # its own process: its CPU time is the stage's (a warm process's forks are not ours)
    env = dict(os.environ, PIPELINE_CACHE_DIR=str(root / "cache"), PIPELINE_WARM="0")
    cpu0, wall0 = child_cpu(), time.perf_counter()
    done = subprocess.run([str(pipeline), stage, f"episodes/{slug}"], cwd=root, env=env,
                          check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True)
    SAID[stage] = done.stdout
    return time.perf_counter() - wall0, child_cpu() - cpu0


def build(root: Path, slug: str) -> dict[str, tuple[float, float]]:
    return {stage: run_stage(root, stage, slug) for stage in STAGES}


def sound_line() -> str:
    """What master said it encoded of the video's sound in the last build."""
    found = re.search(r"the video's sound: (\d+ of \d+) pieces", SAID.get("master", ""))
    return (f"master: after the edit {found.group(1) if found else '?'} pieces of the "
            "video's sound encoded again, the rest kept")


def make_episode(root: Path, slug: str, jobs: int = 2) -> float:
    """`make -j2 episode EP=<slug>` in `root`, with the warm processes of `root` alone (the
    first build finds none, as on a machine that has built nothing yet); wall seconds."""
    env = dict(os.environ, PIPELINE_CACHE_DIR=str(root / "cache"), PIPELINE_WARM="1",
               PIPELINE_WARM_DIR=str(root / "warm"))
    env.pop("MAKEFLAGS", None)
    start = time.perf_counter()
    subprocess.run(["make", "--no-print-directory", "-f", str(REPO / "Makefile"), *KEEP_SETUP,
                    f"VENV={sys.prefix}", f"-j{jobs}", "episode", f"EP={slug}"], cwd=root,
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def project(root: Path, issue: Path, slug: str) -> Path:
    """A project in `root` with the show's assets, the issue and the converted models."""
    shutil.copytree(REPO / "assets", root / "assets")
    for name in ("pyproject.toml", "scripts"):
        (root / name).symlink_to(REPO / name)
    (root / "episodes" / slug).mkdir(parents=True)
    shutil.copy(issue, root / "episodes" / slug / "issue.md")
    if (models := cache_dir() / "whisper").is_dir():
        shutil.copytree(models, root / "cache" / "whisper")
    return root / "episodes" / slug / "issue.md"


def with_make(issue: Path, slug: str) -> tuple[float, float]:
    """Wall seconds of `make -j2 episode`, cold and after the edit."""
    with tempfile.TemporaryDirectory(prefix="bench-make-") as tmp:
        copy = project(Path(tmp), issue, slug)
        try:
            cold = make_episode(Path(tmp), slug)
            edit_one_paragraph(copy)
            return cold, make_episode(Path(tmp), slug)
        finally:
            stop_all(Path(tmp) / "warm")


def edit_one_paragraph(issue: Path) -> None:
    """Change one word of the first body paragraph (the shape of a producer's typo fix)."""
    lines = issue.read_text(encoding="utf-8").splitlines(keepends=True)
    in_body = False
    for i, line in enumerate(lines):
        in_body = in_body or line.startswith("## ")
        if in_body and line.strip() and not line.startswith(("#", "-", ">")):
            lines[i] = line.replace(" the ", " this ", 1)
            break
    issue.write_text("".join(lines), encoding="utf-8")


def table(cold: dict, edit: dict, audio: float) -> str:
    rows = [f"{'stage':10}{'cold CPU/s':>12}{'cold wall':>11}{'edit CPU/s':>12}"
            f"{'edit wall':>11}"]
    for stage in STAGES:
        (cw, cc), (ew, ec) = cold[stage], edit[stage]
        rows.append(f"{stage:10}{cc / audio:12.4f}{cw:10.1f}s{ec / audio:12.4f}{ew:10.1f}s")
    cold_wall = sum(w for w, _ in cold.values())
    edit_wall = sum(w for w, _ in edit.values())
    rows.append(f"{'episode':10}{sum(c for _, c in cold.values()) / audio:12.4f}"
                f"{cold_wall:10.1f}s{sum(c for _, c in edit.values()) / audio:12.4f}"
                f"{edit_wall:10.1f}s")
    rows.append(f"audio {audio:.1f} s; cold build {cold_wall / audio:.3f} of that; "
                f"the edit's rebuild took {edit_wall / cold_wall:.2f} of the cold build")
    return "\n".join(rows)


def master_line(cold: dict, edit: dict) -> str:
    """What master encoded of the MP3 after the edit, and its compute against cold."""
    found = re.search(r"the MP3: (\d+ of \d+) pieces", SAID.get("master", ""))
    (_, cold_cpu), (_, edit_cpu) = cold["master"], edit["master"]
    return (f"master: after the edit {found.group(1) if found else '?'} pieces of the MP3 "
            f"encoded and measured again, the rest kept; {edit_cpu:.1f} s of compute against "
            f"{cold_cpu:.1f} s cold ({edit_cpu / cold_cpu:.2f})")


def captions_line(build: Path, cold: dict, edit: dict) -> str:
    """What the captions stage heard again after the edit (qa.json says it)."""
    from pipeline.formats import QA

    qa = QA.read(build)
    (_, cold_cpu), (_, edit_cpu) = cold["captions"], edit["captions"]
    return (f"captions: after the edit {qa.pieces - qa.pieces_from_cache} of {qa.pieces} "
            f"pieces heard again ({qa.seconds_transcribed:.1f} s of audio), the rest from the "
            f"cache; {edit_cpu:.1f} s of compute against {cold_cpu:.1f} s cold "
            f"({edit_cpu / cold_cpu:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", type=Path,
                        default=REPO / "episodes" / "2023-01-06-ai-improving-itself")
    args = parser.parse_args()
    slug = args.episode.resolve().name
    with tempfile.TemporaryDirectory(prefix="bench-episode-") as tmp:
        root = Path(tmp)
        issue = project(root, args.episode / "issue.md", slug)
        cold = build(root, slug)
        edit_one_paragraph(issue)
        edit = build(root, slug)
        audio = Timeline.read(root / "episodes" / slug / "build").duration
        heard = captions_line(root / "episodes" / slug / "build", cold, edit)
    print(f"sample episode {slug}: seconds of compute per second of audio, by stage")
    print(table(cold, edit, audio))
    for stage in STAGES:
        print(f"summary: stage {stage} | {cold[stage][1] / audio:.4f} s/s cold | "
              f"{edit[stage][1] / audio:.4f} s/s after a one-paragraph edit")
    print(master_line(cold, edit))
    print(heard)
    print(sound_line())
    cold_wall, edit_wall = (sum(w for w, _ in run.values()) for run in (cold, edit))
    print(f"summary: sample episode, stage by stage | cold/audio {cold_wall / audio:.3f} "
          f"| the edit's rebuild {edit_wall / cold_wall:.2f} of the cold build")
    made_cold, made_edit = with_make(args.episode / "issue.md", slug)
    print(f"make -j2 episode: cold {made_cold:.1f} s, after the edit {made_edit:.1f} s")
    print(f"summary: sample episode, make -j2 episode | cold/audio {made_cold / audio:.3f} "
          f"| the edit's rebuild {made_edit / made_cold:.2f} of the cold build "
          f"({made_edit:.1f} s)")


if __name__ == "__main__":
    main()
