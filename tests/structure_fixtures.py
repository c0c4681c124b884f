"""A small realistic digest for the structure tests: a section of three `###` subsections
of list items, emoji in titles and items, times as the narrate stage would give them."""

from __future__ import annotations

from pathlib import Path

from pipeline.formats import Script, Segment, TimedSegment, Timeline
from tests import builders as build

REPO = Path(__file__).resolve().parent.parent

TITLES = {"intro": "Introduction", "research-digest": "Research digest 🚀",
          "opportunities": "Opportunities", "outro": "Outro"}
ORDER = list(TITLES)
TITLE = "Sparse autoencoders 🔬 and the EU AI Act 🇪🇺"
SLUG = "2024-05-17-sparse-autoencoders"

INTERPRETABILITY = [
    "Anthropic 🧠 scaled sparse autoencoders to Claude 3 Sonnet and found millions of "
    "features, some about deception and sycophancy.",
    "OpenAI released a method for training autoencoders with 16 million latents and "
    "new metrics for how good the features are.",
    "DeepMind’s Gemma Scope opens hundreds of autoencoders on every layer of Gemma 2 "
    "for anyone to study.",
    "A replication finds that feature splitting makes the number of features depend on "
    "the dictionary size more than on the model.",
    "Researchers show that steering with a single feature changes behaviour on topics "
    "far from the one the feature seemed to describe.",
]
GOVERNANCE = [
    "The EU AI Act 🇪🇺 enters into force: general-purpose models must publish training "
    "summaries within twelve months.",
    "The UK AI Safety Institute published its first evaluation results on four unnamed "
    "frontier models.",
    "California’s SB 1047 passed the Senate ✅ and moves to the Assembly.",
]
BENCHMARKS = [
    "SWE-bench Verified 📊 removes ambiguous tasks from the original benchmark.",
    "A new study finds contamination in a third of popular coding benchmarks.",
]


def seg(sid: str, display: str, start: float, end: float,
        items: list[str] | None = None) -> tuple[Segment, TimedSegment]:
    index = ORDER.index(sid.split("/")[0])
    return (build.segment(sid, display, section_index=index, items=items or []),
            build.timed(sid, start, end, section_index=index, cached=False))


def joined(items: list[str]) -> str:
    return " ".join(items)


PAIRS = [
    seg("intro/intro-1", "Welcome to ML & AI Safety Updates, episode 12.", 1.0, 7.5),
    seg("research-digest/heading-1", "Research digest 🚀", 8.7, 10.0),
    seg("research-digest/heading-2", "Interpretability 🔬", 10.6, 11.9),
    seg("research-digest/list-1", joined(INTERPRETABILITY), 12.5, 52.5, INTERPRETABILITY),
    seg("research-digest/heading-3", "Governance", 53.1, 54.0),
    seg("research-digest/list-2", joined(GOVERNANCE), 54.6, 76.0, GOVERNANCE),
    seg("research-digest/heading-4", "Benchmarks 📊", 76.6, 77.6),
    seg("research-digest/list-3", joined(BENCHMARKS), 78.2, 89.0, BENCHMARKS),
    seg("opportunities/heading-1", "Opportunities", 90.2, 91.2),
    seg("opportunities/paragraph-1",
        "Apply by June 1 to the MATS summer cohort, a ten-week programme with mentors from "
        "the major labs.", 91.8, 99.0),
    seg("outro/outro-1", "This has been the ML & AI Safety Updates. See you next week!",
        100.2, 104.0),
]
DURATION = 108.0
SUBSECTIONS = {"research-digest/heading-2": "Interpretability 🔬",
               "research-digest/heading-3": "Governance",
               "research-digest/heading-4": "Benchmarks 📊"}


def script_file(pairs: list[tuple[Segment, TimedSegment]] = PAIRS) -> Script:
    return build.script([s for s, _ in pairs], TITLES, title=TITLE, slug=SLUG, number=12,
                        summary="Sparse autoencoders at scale and the EU AI Act.")


def timeline_file(pairs: list[tuple[Segment, TimedSegment]] = PAIRS,
                  duration: float = DURATION) -> Timeline:
    return build.timeline([t for _, t in pairs], duration, titles=TITLES)


ISSUE = f"""---
title: {TITLE}
number: 12
date: 2024-05-17
summary: Sparse autoencoders at scale and the EU AI Act.
---
Body text.
"""


def make_episode(root: Path, pairs: list[tuple[Segment, TimedSegment]] = PAIRS,
                 duration: float = DURATION) -> Path:
    """An episode folder whose build/ holds the digest's script.json and timeline.json."""
    episode = root / "episodes" / SLUG
    (episode / "build").mkdir(parents=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    script_file(pairs).write(episode / "build")
    timeline_file(pairs, duration).write(episode / "build")
    return episode
