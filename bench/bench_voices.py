"""Narration speed, measured side by side in one run (not a timed test).

1. Each installed voice on the same paragraphs: seconds of compute per second of audio
   (the first call, which loads the model, and warm calls).
2. The audio of a sample-sized episode: a cold build (empty voice cache, narrate on all
   cores, then master), and the rebuild after editing one paragraph, as a fraction of it.

    python bench/bench_voices.py [ISSUE_TEXT]

ISSUE_TEXT: a plain-text or Markdown issue (default: the sample episode's issue.md, else
the first issue in ../shared/seeds/). It is cut into sections and paragraphs here, so the
bench does not depend on the script stage; everything is built in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.config import VoiceSettings  # noqa: E402
from pipeline.formats import EpisodeInfo, Script, Section, Segment, ShowInfo  # noqa: E402
from pipeline.speech.voices import get_voice, installed  # noqa: E402

PARAGRAPHS = [
    "The interpretability researcher Neel Nanda has published a massive list of 200 open "
    "and concrete problems in mechanistic interpretability.",
    "Superposition is when one feature is spread across multiple neurons in a network and "
    "gives problems in our interpretation of what neurons represent.",
    "Understanding how models change over training is very interesting for identifying how "
    "and when capabilities emerge.",
]


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (espeak-ng runs as one)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def voice_speeds() -> None:
    print("seconds of compute per second of audio (CPU time; wall time in brackets)")
    print(f"{'voice':8}{'first call':>20}{'warm':>20}")
    for engine in installed():
        voice = get_voice(engine)
        settings = VoiceSettings(engine=engine)
        w0, c0 = time.perf_counter(), cpu_seconds()
        first = len(voice.synthesize(PARAGRAPHS[0], settings)) / voice.sample_rate
        w1, c1 = time.perf_counter(), cpu_seconds()
        warm = sum(len(voice.synthesize(t, settings)) for t in PARAGRAPHS) / voice.sample_rate
        w2, c2 = time.perf_counter(), cpu_seconds()
        print(f"{engine:8}{(c1 - c0) / first:12.3f} ({(w1 - w0) / first:.3f})"
              f"{(c2 - c1) / warm:12.3f} ({(w2 - w1) / warm:.3f})")
        print(f"summary: voice {engine} | {(c2 - c1) / warm:.3f} s/s warm | "
              f"{(c1 - c0) / first:.3f} s/s on the first call")


def default_issue() -> Path:
    sample = REPO / "episodes" / "2023-01-06-ai-improving-itself" / "issue.md"
    if sample.is_file():
        return sample
    for folder in REPO.parents:
        seeds = sorted((folder / "shared" / "seeds").glob("*.txt"))
        if seeds:
            return seeds[0]
    raise SystemExit("no issue text found: pass one as the argument")


def is_heading(line: str) -> bool:
    return line.startswith("#") or (len(line) < 60 and not re.search(r"[.!?:]$", line))


def sample_script(text: str) -> Script:
    """Sections at headings (Markdown ## or short lines without end punctuation)."""
    lines = [ln.strip() for ln in text.split("---")[-1].splitlines() if ln.strip()]
    sections = [Section(index=0, id="intro", title="Introduction", kind="intro")]
    segments: list[Segment] = []
    for line in lines[1:]:
        if is_heading(line):
            title = line.lstrip("# ")
            sid = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section"
            sections.append(Section(index=len(sections), id=f"{sid}-{len(sections)}",
                                    title=title, kind="body"))
        sec = sections[-1]
        kind = "heading" if is_heading(line) else "paragraph"
        n = sum(1 for s in segments if s.section == sec.id) + 1
        plain = re.sub(r"[*_`#>\[\]]|\(http[^)]*\)", "", line).strip()
        segments.append(Segment(id=f"{sec.id}/{kind}-{n}", kind=kind, section=sec.id,
                                section_index=sec.index, display=plain, spoken=plain))
    episode = EpisodeInfo(slug="2023-01-06-bench", title="Bench", number=1,
                          date=dt.date(2023, 1, 6), summary="Bench.")
    show = ShowInfo(title="Bench", author="Bench", language="en")
    return Script(episode=episode, show=show, sections=sections, segments=segments)


def make_project(root: Path, script: Script) -> Path:
    (root / "assets").mkdir(parents=True)
    shutil.copy(REPO / "assets" / "show.toml", root / "assets" / "show.toml")
    episode = root / "episodes" / "2023-01-06-bench"
    (episode / "build").mkdir(parents=True)
    (episode / "issue.md").write_text("---\ntitle: Bench\nnumber: 1\ndate: 2023-01-06\n"
                                      "summary: Bench.\n---\n\nBody.\n", encoding="utf-8")
    script.write(episode / "build")
    return episode


def build(episode: Path) -> tuple[float, float, object, object]:
    from pipeline.episode import load_episode
    from pipeline.stages import master, narrate
    from pipeline.util.progress import quiet

    t0 = time.perf_counter()
    with quiet():
        narrated = narrate.run(load_episode(episode))
    t1 = time.perf_counter()
    mastered = master.run(load_episode(episode))
    return t1 - t0, time.perf_counter() - t1, narrated, mastered


def episode_builds(issue: Path) -> None:
    script = sample_script(issue.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PIPELINE_CACHE_DIR"] = str(Path(tmp) / "cache")
        episode = make_project(Path(tmp) / "project", script)
        cold = build(episode)
        para = next(s for s in script.segments if s.kind == "paragraph")
        edited = para.model_copy(update={"spoken": para.spoken + " This sentence was added."})
        segments = [edited if s is para else s for s in script.segments]
        script.model_copy(update={"segments": segments}).write(episode / "build")
        warm = build(episode)
    print(f"\nepisode from {issue.name}: {cold[2].segments} segments, "
          f"{cold[3].duration:.1f} s of audio, {os.cpu_count()} cores")
    print(f"{'':22}{'narrate':>9}{'master':>9}{'total':>9}")
    for name, (n, m, narrated, _) in (("cold build", cold), ("one-paragraph edit", warm)):
        print(f"{name:22}{n:8.1f}s{m:8.1f}s{n + m:8.1f}s   {narrated.summary()}")
    print(f"rebuild / cold: narrate {warm[0] / cold[0]:.3f}, "
          f"narrate + master {(warm[0] + warm[1]) / (cold[0] + cold[1]):.3f}")
    print(f"mastered: {cold[3].summary()}")
    print(f"summary: narrate after a one-paragraph edit | {warm[0] / cold[0]:.2f} of cold | "
          f"narrate + master {(warm[0] + warm[1]) / (cold[0] + cold[1]):.2f} of cold")


if __name__ == "__main__":
    voice_speeds()
    episode_builds(Path(sys.argv[1]) if len(sys.argv) > 1 else default_issue())
