"""Bench: the video and its sound cold and after edits, and against moviepy, side by side in
one run.

Builds a sample-sized episode in a temporary folder (default 600 s, 8 slides: a title card,
six sections, an outro; speech-like audio, seeded), then each time draws its slides and
encodes their GOPs (`pipeline slides`), makes the video's sound as master does (AAC pieces,
media/aac.py) and runs `pipeline video`:
- cold, with empty build/video-cache and build/audio-cache;
- again with nothing changed (the mux alone);
- after one slide's text changed (one picture redrawn, the audio the same);
- after a paragraph grew by two narration slots (0.64 s): its slide redrawn, every later
  time moved, the audio the same before the edit and moved after it;
- after the same audio came back 0.1 dB quieter everywhere, as it does on the rare edit
  that moves master's gain, which is rounded to 0.1 dB, to the next step.
moviepy makes the cold slideshow once more, between the cold run and the edits (ImageClips
concatenated, the audio attached, write_videofile). Prints wall and CPU seconds (this
process and its ffmpeg children: on a shared machine the CPU figure is the steadier one),
multiples of real time and the ratios.
Not a timed test: run it by hand on an idle machine.

    python bench/bench_video.py [--duration 600] [--skip-moviepy]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.io import wavfile

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.episode import load_episode  # noqa: E402
from pipeline.formats import (  # noqa: E402
    EpisodeInfo,
    Script,
    Section,
    Segment,
    ShowInfo,
    Slides,
    TimedSection,
    TimedSegment,
    Timeline,
)
from pipeline.media import aac  # noqa: E402
from pipeline.media.pieces import Count, Pieces  # noqa: E402
from pipeline.stages import slides, video  # noqa: E402
from pipeline.stages.narrate import SLOT  # noqa: E402
from pipeline.util.progress import quiet  # noqa: E402

SLUG = "2023-01-06-ai-improving-itself"
TOPICS = ["Mechanistic interpretability", "ML improving ML", "Aligned AI is dangerous",
          "Compute governance", "Opportunities", "In other news"]
ISSUE = "---\ntitle: AI Improving Itself\nnumber: 1\ndate: 2023-01-06\nsummary: Bench.\n---\nx\n"


def segment(sid: str, kind: str, text: str, start: float,
            end: float) -> tuple[Segment, TimedSegment]:
    section = sid.split("/")[0]
    return (Segment(id=sid, kind=kind, section=section, section_index=0, display=text,
                    spoken=text),
            TimedSegment(id=sid, section=section, section_index=0, kind=kind,
                         start=round(start, 3), end=round(end, 3), cached=True,
                         source="hibari"))


def plan(duration: float) -> tuple[list[tuple[str, str, str]],
                                   list[tuple[Segment, TimedSegment]]]:
    """Sections intro, six topics and outro, each a heading and two paragraphs."""
    ids = ["intro"] + [t.lower().replace(" ", "-") for t in TOPICS] + ["outro"]
    titles = ["Introduction", *TOPICS, "Outro"]
    kinds = ["intro"] + ["body"] * len(TOPICS) + ["outro"]
    span = duration / len(ids)
    segments = []
    for n, (sid, kind) in enumerate(zip(ids, kinds, strict=True)):
        t = n * span + 0.3
        parts = ["intro"] if kind != "body" else ["heading", "paragraph", "paragraph"]
        step = (span - 0.6) / len(parts)
        for k, part in enumerate(parts):
            kind_name = part if kind == "body" else kind
            text = f"{titles[n]}: a sentence about this week's research, number {k}. More."
            segments.append(segment(f"{sid}/{kind_name}-{k + 1}", kind_name, text,
                                    t + k * step, t + (k + 1) * step - 0.2))
    return list(zip(ids, titles, kinds, strict=True)), segments


def make_episode(root: Path, duration: float) -> Path:
    sections, segments = plan(duration)
    build = root / "episodes" / SLUG / "build"
    build.mkdir(parents=True)
    (build.parent / "issue.md").write_text(ISSUE, encoding="utf-8")
    episode = EpisodeInfo(slug=SLUG, title="AI Improving Itself", number=1,
                          date=dt.date(2023, 1, 6), summary="Bench.")
    Script(episode=episode, show=ShowInfo(title="ML & AI Safety Updates", author="x",
                                          language="en"),
           sections=[Section(index=n, id=i, title=t, kind=k)
                     for n, (i, t, k) in enumerate(sections)],
           segments=[s for s, _ in segments]).write(build)
    timed = [s for _, s in segments]
    starts = [0.0] + [next(s.start for s in timed if s.section == i) for i, _, _ in sections[1:]]
    Timeline(duration=duration, narration_offset=0.3, segments=timed,
             sections=[TimedSection(id=i, index=n, title=t, start=a, end=b)
                       for n, ((i, t, _), a, b)
                       in enumerate(zip(sections, starts, [*starts[1:], duration], strict=True))]
             ).write(build)
    cues = "".join(f"\n{c * 5 // 60:02d}:{c * 5 % 60:02d}.000 --> {c * 5 // 60:02d}:"
                   f"{c * 5 % 60 + 4:02d}.000\nCue {c}\n" for c in range(int(duration // 5)))
    (build / "captions.vtt").write_text("WEBVTT\n" + cues, encoding="utf-8")
    write_audio(build, speech(duration))
    return build.parent


RATE = 44100


def speech(seconds: float, seed: int = 1) -> np.ndarray:
    """Speech-like noise: seeded, swelling three times a second."""
    t = np.arange(round(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).standard_normal(len(t)).astype(np.float32)
    return 0.1 * noise * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)).astype(np.float32)


def write_audio(build: Path, samples: np.ndarray) -> None:
    """Mono 44.1 kHz MP3, as the master stage writes it: moviepy's sound."""
    wav = build / "speech.wav"
    wavfile.write(wav, RATE, samples)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "128k", str(build / "episode.mp3")],
                   check=True)
    wav.unlink()


def video_sound(build: Path, samples: np.ndarray) -> Count:
    """build/episode.m4a from the samples, as master makes it."""
    starts = [s.start for s in Timeline.read(build).segments]
    with tempfile.TemporaryDirectory() as tmp:
        return aac.encode(aac.Sound(samples, RATE, starts, "384k"), build / "episode.m4a",
                          Pieces(build / "audio-cache"), Path(tmp))


EDITED = "ml-improving-ml/paragraph-2"  # a paragraph in the middle of the episode


def edit_text(build: Path) -> None:
    """A new first sentence for one paragraph: its slide shows it."""
    script = Script.read(build)
    script.model_copy(update={"segments": [
        s.model_copy(update={"display": "An edited first sentence. " + s.display})
        if s.id == EDITED else s for s in script.segments]}).write(build)


def lengthen(build: Path, seconds: float) -> tuple[float, np.ndarray]:
    """The paragraph `seconds` longer: the times after it move, and so does the audio.
    Where the audio changed, and the new audio."""
    timeline = Timeline.read(build)
    edited = next(s for s in timeline.segments if s.id == EDITED)

    def moved(start: float, end: float) -> dict[str, float]:
        return {"start": start + seconds * (start > edited.start),
                "end": end + seconds * (end >= edited.end)}

    timeline.model_copy(update={
        "duration": timeline.duration + seconds,
        "segments": [s.model_copy(update=moved(s.start, s.end)) for s in timeline.segments],
        "sections": [s.model_copy(update=moved(s.start, s.end)) for s in timeline.sections],
    }).write(build)
    old, cut = speech(timeline.duration), round(edited.end * RATE)
    samples = np.concatenate([old[:cut], speech(seconds, seed=2), old[cut:]])
    return edited.end, samples


def timed(step: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (this process and the children it waited for), result."""
    before, began = os.times(), time.monotonic()
    result = step()
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])
    return time.monotonic() - began, cpu, result


def moviepy_video(build: Path, out: Path) -> None:
    from moviepy import AudioFileClip, ImageClip, concatenate_videoclips

    slides = Slides.read(build).slides
    clips = [ImageClip(str(build / s.file), duration=s.end - s.start) for s in slides]
    audio = AudioFileClip(str(build / "episode.mp3"))
    movie = concatenate_videoclips(clips).with_audio(audio)
    movie.write_videofile(str(out), fps=30, codec="libx264", audio_codec="aac",
                          audio_bitrate="384k", logger=None,
                          temp_audiofile_path=str(out.parent))  # not the working folder


def probed_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return float(out)


def video_run(episode: Any, what: str, samples: np.ndarray) -> tuple[float, float]:
    """The slides (with their GOPs), the video's sound and the video stage once: wall and
    CPU seconds, printed with what they encoded."""
    def all_three() -> tuple[Count | None, Count, Any]:
        drawn = slides.run(episode).gops
        return drawn, video_sound(episode.build, samples), video.run(episode)

    with quiet():
        wall, cpu, (drawn, sound, result) = timed(all_three)
    print(f"{what:<38} {wall:6.1f} s wall {cpu:6.1f} s CPU  encoded {drawn} GOPs in slides, "
          f"{result.gops.made} in video, {sound} pieces of audio", flush=True)
    return wall, cpu


def edits(episode: Any, samples: np.ndarray) -> list[tuple[str, float, float]]:
    """The video and its sound after each edit, one after another: (what, wall, CPU)."""
    runs = [("nothing changed", *video_run(episode, "again, nothing changed", samples))]
    edit_text(episode.build)
    what = "one slide's text changed"
    runs.append((what, *video_run(episode, what, samples)))
    at, samples = lengthen(episode.build, 2 * SLOT)
    what = f"a paragraph at {at:.0f} s grew {2 * SLOT:.2f} s"
    runs.append((what, *video_run(episode, what, samples)))
    what = "the same with a new gain (0.1 dB)"
    runs.append((what, *video_run(episode, what, samples * np.float32(10 ** (-0.1 / 20)))))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--skip-moviepy", action="store_true")
    args = parser.parse_args()
    os.environ["PIPELINE_ROOT"] = str(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PIPELINE_CACHE_DIR"] = str(Path(tmp) / "cache")
        episode = load_episode(make_episode(Path(tmp), args.duration))
        samples = speech(args.duration)
        ours, cold_cpu = video_run(episode, "cold (empty caches)", samples)
        print(f"episode: {args.duration:.0f} s, {len(Slides.read(episode.build).slides)} "
              f"slides, {os.cpu_count()} CPUs")
        out = episode.build / "video.mp4"
        print(f"pipeline video: {ours:6.1f} s  {args.duration / ours:6.1f}x real time  "
              f"({probed_duration(out):.3f} s, {out.stat().st_size / 1e6:.1f} MB)")
        if not args.skip_moviepy:
            other = Path(tmp) / "moviepy.mp4"
            theirs, theirs_cpu, _ = timed(lambda: moviepy_video(episode.build, other))
            print(f"moviepy:        {theirs:6.1f} s  {args.duration / theirs:6.1f}x real time  "
                  f"({probed_duration(other):.3f} s, {other.stat().st_size / 1e6:.1f} MB)")
            print(f"pipeline video is {theirs / ours:.1f}x faster than moviepy "
                  f"({theirs_cpu / cold_cpu:.1f}x less CPU; target: 25x)")
            print(f"summary: video against moviepy | {theirs / ours:.1f}x faster | "
                  f"{args.duration / ours:.1f}x real time, moviepy {args.duration / theirs:.1f}x")
        for what, wall, cpu in edits(episode, samples):
            print(f"summary: video, {what} | {wall / ours:.2f} of the cold wall time | "
                  f"{cpu / cold_cpu:.2f} of its CPU")


if __name__ == "__main__":
    main()
