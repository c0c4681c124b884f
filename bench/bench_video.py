"""Bench: the video stage's GOP-per-slide method against moviepy, side by side in one run.

Builds a sample-sized episode in a temporary folder (default 600 s, 8 slides: a title card,
six sections, an outro; speech-like audio made by ffmpeg), draws its slides once, then makes
the same slideshow with the same audio twice: with `pipeline video` and with moviepy
(ImageClips concatenated, the audio attached, write_videofile). Prints wall times, multiples
of real time and the ratio. Not a timed test: run it by hand on an idle machine.

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
from pathlib import Path

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
from pipeline.stages import slides, video  # noqa: E402
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
    # mono speech-like noise, 44.1 kHz MP3 as the master stage writes it
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"anoisesrc=color=pink:amplitude=0.2:duration={duration}:sample_rate=44100",
                    "-af", "volume='0.5+0.5*sin(2*PI*3*t)':eval=frame", "-ac", "1",
                    "-c:a", "libmp3lame", "-b:a", "128k", str(build / "episode.mp3")],
                   check=True)
    return build.parent


def moviepy_video(build: Path, out: Path) -> None:
    from moviepy import AudioFileClip, ImageClip, concatenate_videoclips

    slides = Slides.read(build).slides
    clips = [ImageClip(str(build / s.file), duration=s.end - s.start) for s in slides]
    audio = AudioFileClip(str(build / "episode.mp3"))
    movie = concatenate_videoclips(clips).with_audio(audio)
    movie.write_videofile(str(out), fps=30, codec="libx264", audio_codec="aac",
                          audio_bitrate="384k", logger=None)


def probed_duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return float(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--skip-moviepy", action="store_true")
    args = parser.parse_args()
    os.environ["PIPELINE_ROOT"] = str(REPO)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PIPELINE_CACHE_DIR"] = str(Path(tmp) / "cache")
        episode = load_episode(make_episode(Path(tmp), args.duration))
        began = time.monotonic()
        manifest = slides.run(episode).manifest
        slides_s = time.monotonic() - began
        began = time.monotonic()
        with quiet():
            video.run(episode)
        ours = time.monotonic() - began
        out = episode.build / "video.mp4"
        print(f"episode: {args.duration:.0f} s, {len(manifest.slides)} slides, "
              f"{os.cpu_count()} CPUs; slides drawn in {slides_s:.1f} s")
        print(f"pipeline video: {ours:6.1f} s  {args.duration / ours:6.1f}x real time  "
              f"({probed_duration(out):.3f} s, {out.stat().st_size / 1e6:.1f} MB)")
        if args.skip_moviepy:
            return
        other = Path(tmp) / "moviepy.mp4"
        began = time.monotonic()
        moviepy_video(episode.build, other)
        theirs = time.monotonic() - began
        print(f"moviepy:        {theirs:6.1f} s  {args.duration / theirs:6.1f}x real time  "
              f"({probed_duration(other):.3f} s, {other.stat().st_size / 1e6:.1f} MB)")
        print(f"pipeline video is {theirs / ours:.1f}x faster than moviepy (target: 20x)")
        print(f"summary: video against moviepy | {theirs / ours:.1f}x faster | "
              f"{args.duration / ours:.1f}x real time, moviepy {args.duration / theirs:.1f}x")


if __name__ == "__main__":
    main()
