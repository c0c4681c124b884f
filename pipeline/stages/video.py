"""Video: `build/video.mp4` from the slides, `episode.mp3` and `captions.vtt`, plus the YouTube
title and description.

A still slide does not change between frames, so each slide's picture is encoded once as one
closed GOP and repeated by stream copy (`-stream_loop`), with one shorter GOP for the frames
that do not make a whole GOP; the concat demuxer joins the slides and the final mux copies
everything (see DESIGN.md, "Measured"). Every slide change therefore starts a keyframe, on
the frame nearest the time in timeline.json. The audio is encoded at the same time.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jinja2

from pipeline.config import VideoSettings
from pipeline.episode import Episode, load_episode
from pipeline.errors import PipelineError
from pipeline.stages.slides import read_json, shorten
from pipeline.util import fsutil
from pipeline.util.progress import parts

INSTALL_FFMPEG = "install Debian's ffmpeg, which has them: apt-get install ffmpeg"
NEEDED_ENCODERS = {"libx264": "H.264 video encoder libx264", "aac": "AAC audio encoder aac",
                   "mov_text": "MP4 subtitle encoder mov_text"}
AAC_PRIMING = 1024  # samples the AAC encoder puts before the audio; trimmed, as no edit list
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
CHAPTER_MIN_SECONDS = 10.0
CHAPTER_MIN_COUNT = 3
CHAPTER_TITLE_MAX = 49
HASHTAGS_MAX = 15
LANG3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
         "pt": "por", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin",
         "pl": "pol", "cs": "ces", "ru": "rus", "uk": "ukr", "ja": "jpn", "zh": "zho",
         "ko": "kor", "ar": "ara", "tr": "tur", "el": "ell", "hu": "hun", "ro": "ron"}
QUIET = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]


# ---------------------------------------------------------------- the frame plan


@dataclass(frozen=True)
class Encoding:
    width: int = 1920
    height: int = 1080
    fps: int = 30
    crf: int = 16
    preset: str = "medium"
    audio_bitrate: str = "384k"

    @property
    def gop(self) -> int:
        return max(1, self.fps // 2)

    @classmethod
    def from_settings(cls, video: VideoSettings) -> Encoding:
        return cls(video.width, video.height, video.fps, video.crf, video.preset,
                   video.audio_bitrate)


@dataclass(frozen=True)
class Cut:
    """One slide's place in the video, in whole frames."""

    image: Path
    first: int
    frames: int
    gop: int
    fps: int

    @property
    def loops(self) -> int:
        return self.frames // self.gop

    @property
    def tail(self) -> int:
        return self.frames % self.gop


def frame_cuts(slides: list[dict[str, Any]], duration: float, base: Path,
               enc: Encoding) -> list[Cut]:
    """Each slide from the frame nearest its start to the next one's; the last to the end.
    Slides shorter than half a frame vanish."""
    starts = [round(float(s["start"]) * enc.fps) for s in slides]
    starts[0] = 0
    ends = [*starts[1:], round(duration * enc.fps)]
    return [Cut(base / s["file"], a, b - a, enc.gop, enc.fps)
            for s, a, b in zip(slides, starts, ends, strict=True) if b > a]


# ---------------------------------------------------------------- argument lists


def gop_args(image: Path, frames: int, out: Path, enc: Encoding) -> list[str]:
    """Encode `frames` frames of a still as closed GOPs (one when frames <= GOP)."""
    picture = (f"scale={enc.width}:{enc.height}:out_color_matrix=bt709:out_range=tv,"
               f"setsar=1,format=yuv420p,fps={enc.fps}")
    return [
        *QUIET, "-loop", "1", "-framerate", str(enc.fps), "-i", str(image),
        "-vf", picture, "-frames:v", str(frames),
        "-c:v", "libx264", "-profile:v", "high", "-preset", enc.preset, "-crf", str(enc.crf),
        "-tune", "stillimage", "-g", str(enc.gop), "-keyint_min", str(enc.gop),
        "-sc_threshold", "0", "-bf", "2", "-flags", "+cgop", "-x264-params", "open-gop=0",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-an", str(out),
    ]


def loop_args(gop: Path, times: int, out: Path) -> list[str]:
    """Repeat a GOP file `times` times by stream copy."""
    return [*QUIET, "-stream_loop", str(times - 1), "-i", str(gop), "-c", "copy", str(out)]


def audio_args(source: Path, out: Path, enc: Encoding) -> list[str]:
    """AAC-LC 48 kHz stereo. The encoder's priming samples are trimmed from the start so
    that, with no edit list to hide them, the audio still lines up with the slides."""
    return [
        *QUIET, "-progress", "pipe:1", "-nostats", "-i", str(source), "-vn",
        "-af", f"aresample=48000,atrim=start_sample={AAC_PRIMING},asetpts=PTS-STARTPTS",
        "-ac", "2", "-ar", "48000", "-c:a", "aac", "-profile:a", "aac_low",
        "-aac_coder", "fast", "-aac_ms", "0", "-b:a", enc.audio_bitrate, str(out),
    ]


def mux_args(concat: Path, audio: Path, captions: Path, out: Path, language: str) -> list[str]:
    """Join the slides and the audio by stream copy, add the captions as a mov_text track."""
    return [
        *QUIET, "-progress", "pipe:1", "-nostats",
        "-f", "concat", "-safe", "0", "-i", str(concat), "-i", str(audio), "-i", str(captions),
        "-map", "0:v:0", "-map", "1:a:0", "-map", "2:s:0",
        "-c:v", "copy", "-c:a", "copy", "-c:s", "mov_text",
        "-metadata:s:v:0", f"language={language}", "-metadata:s:a:0", f"language={language}",
        "-metadata:s:s:0", f"language={language}", *MP4_FLAGS, str(out),
    ]


# moov first; no edit lists: the B-frame delay is carried by negative composition offsets
MP4_FLAGS = ["-movflags", "+faststart+negative_cts_offsets", "-use_editlist", "0"]


def burn_args(concat: Path, audio: Path, captions_name: str, fonts_dir: str, out: Path,
              keyframes: list[float], enc: Encoding, language: str) -> list[str]:
    """Captions drawn into the picture: the joined slides are decoded and encoded again,
    with keyframes forced at the slide changes. `captions_name` and `fonts_dir` are plain
    names in the working folder, so the filter needs no escaping."""
    style = ("FontName=DejaVu Sans,FontSize=16,BorderStyle=3,Outline=1,Shadow=0,"
             f"OutlineColour=&H80000000,MarginV={round(enc.height * 0.02)}")
    times = ",".join(f"{t:.6f}" for t in keyframes)
    return [
        *QUIET, "-progress", "pipe:1", "-nostats",
        "-f", "concat", "-safe", "0", "-i", str(concat), "-i", str(audio),
        "-map", "0:v:0", "-map", "1:a:0",
        "-vf", f"subtitles={captions_name}:fontsdir={fonts_dir}:force_style='{style}',"
               f"format=yuv420p,fps={enc.fps}",
        "-c:v", "libx264", "-profile:v", "high", "-preset", enc.preset, "-crf", "18",
        "-tune", "stillimage", "-g", str(enc.gop), "-keyint_min", str(enc.gop),
        "-sc_threshold", "0", "-bf", "2", "-flags", "+cgop", "-force_key_frames", times,
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-c:a", "copy", "-metadata:s:a:0", f"language={language}", *MP4_FLAGS, str(out),
    ]


def concat_list(entries: list[tuple[str, float]]) -> str:
    """An ffconcat list; each file's exact duration keeps later slides from drifting."""
    lines = ["ffconcat version 1.0"]
    for name, seconds in entries:
        quoted = name.replace("'", "'\\''")
        lines += [f"file '{quoted}'", f"duration {seconds:.6f}"]
    return "\n".join(lines) + "\n"


def language3(code: str) -> str:
    """ISO 639-2 code that MP4 tracks carry, from the show's language (`en`, `en-GB`)."""
    base = code.split("-")[0].lower()
    return base if len(base) == 3 else LANG3.get(base, "und")


# ---------------------------------------------------------------- running ffmpeg


def progress_seconds(line: str) -> float | None:
    """Seconds done, from one line of ffmpeg's `-progress` output (`out_time_us=...`)."""
    key, _, value = line.strip().partition("=")
    if key != "out_time_us" or not value.lstrip("-").isdigit():
        return None
    return max(0.0, int(value) / 1_000_000)


def missing_encoders(listing: str) -> list[str]:
    """Which needed encoders `ffmpeg -encoders` does not list."""
    found = {parts[1] for line in listing.splitlines() if len(parts := line.split()) > 1}
    return [desc for name, desc in NEEDED_ENCODERS.items() if name not in found]


def encoder_problem(listing: str, ffmpeg: str) -> PipelineError | None:
    """The error to raise when `ffmpeg -encoders` lacks an encoder the video needs."""
    if missing := missing_encoders(listing):
        return PipelineError(f"this ffmpeg lacks the {', '.join(missing)}", ffmpeg,
                             INSTALL_FFMPEG)
    return None


def check_ffmpeg() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise PipelineError("ffmpeg not found", fix="apt-get install ffmpeg")
    listing = subprocess.run([ffmpeg, "-hide_banner", "-encoders"], capture_output=True,
                             text=True, check=False).stdout
    if problem := encoder_problem(listing, ffmpeg):
        raise problem


def run_ffmpeg(args: list[str], what: str, on_seconds: Callable[[float], None] | None = None,
               cwd: Path | None = None) -> None:
    """Run ffmpeg; feed `-progress` times to `on_seconds`; a failure carries its stderr."""
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True,
                                    cwd=cwd)
        except FileNotFoundError:
            raise PipelineError("ffmpeg not found", fix="apt-get install ffmpeg") from None
        assert proc.stdout is not None
        for line in proc.stdout:
            if on_seconds and (seconds := progress_seconds(line)) is not None:
                on_seconds(seconds)
        if proc.wait() != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PipelineError(f"{what} failed: {' | '.join(tail) or 'no message'}")


# ---------------------------------------------------------------- building


def encode_cut(cut: Cut, n: int, work: Path, enc: Encoding) -> list[tuple[str, float]]:
    """The concat entries for one slide: its whole GOPs (looped) and its shorter last GOP."""
    entries = []
    if cut.loops:
        gop = work / f"{n:03d}-gop.mp4"
        run_ffmpeg(gop_args(cut.image, cut.gop, gop, enc), f"encoding slide {cut.image.name}")
        if cut.loops > 1:
            looped = work / f"{n:03d}-loop.mp4"
            run_ffmpeg(loop_args(gop, cut.loops, looped), f"repeating slide {cut.image.name}")
            gop = looped
        entries.append((gop.name, cut.loops * cut.gop / cut.fps))
    if cut.tail:
        tail = work / f"{n:03d}-tail.mp4"
        run_ffmpeg(gop_args(cut.image, cut.tail, tail, enc), f"encoding slide {cut.image.name}")
        entries.append((tail.name, cut.tail / cut.fps))
    return entries


@dataclass(frozen=True)
class Inputs:
    slides: dict[str, Any]
    timeline: dict[str, Any]
    script: dict[str, Any]
    audio: Path
    captions: Path


def read_inputs(build: Path) -> Inputs:
    for name, stage in (("episode.mp3", "master"), ("captions.vtt", "captions")):
        if not (build / name).is_file():
            raise PipelineError("file not found", build / name, f"run `pipeline {stage}` first")
    slides = read_json(build / "slides.json", "slides")
    for slide in slides["slides"]:
        if not (build / slide["file"]).is_file():
            raise PipelineError("slide image not found", build / slide["file"],
                                "rerun `pipeline slides`")
    return Inputs(slides, read_json(build / "timeline.json", "narrate"),
                  read_json(build / "script.json", "script"), build / "episode.mp3",
                  build / "captions.vtt")


def encode_video(episode: Episode, inputs: Inputs, target: Path) -> list[Cut]:
    """Slides and audio in parallel, then one stream-copy mux into `target`."""
    enc = Encoding.from_settings(episode.settings.video)
    duration = float(inputs.timeline["duration"])
    cuts = frame_cuts(inputs.slides["slides"], duration, episode.build, enc)
    language = language3(episode.settings.show.language)
    with (parts("video", {"slides": 4, "audio": 4, "mux": 1}) as progress,
          tempfile.TemporaryDirectory(dir=episode.build, prefix=".video-") as tmp):
        work = Path(tmp)
        audio = work / "audio.m4a"
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            audio_job = pool.submit(run_ffmpeg, audio_args(inputs.audio, audio, enc),
                                    "encoding the audio",
                                    lambda s: progress.update("audio", s / duration))
            jobs = [pool.submit(encode_cut, cut, n, work, enc) for n, cut in enumerate(cuts)]
            entries = []
            for n, job in enumerate(jobs, 1):
                entries += job.result()
                progress.update("slides", n / len(jobs))
            audio_job.result()
        (work / "slides.ffconcat").write_text(concat_list(entries), encoding="utf-8")
        mux = final_args(episode, inputs, work, target, cuts, enc, language)
        run_ffmpeg(mux, "joining the video", lambda s: progress.update("mux", s / duration),
                   cwd=work)
        progress.update("mux", 1.0)
    return cuts


def final_args(episode: Episode, inputs: Inputs, work: Path, target: Path, cuts: list[Cut],
               enc: Encoding, language: str) -> list[str]:
    concat, audio = work / "slides.ffconcat", work / "audio.m4a"
    if not episode.settings.video.burn_captions:
        return mux_args(concat, audio, inputs.captions, target, language)
    shutil.copy(inputs.captions, work / "captions.vtt")
    fonts = episode.assets / Path(episode.settings.video.font).parent
    shutil.copytree(fonts, work / "fonts")
    keyframes = [c.first / enc.fps for c in cuts]
    args = burn_args(concat, audio, "captions.vtt", "fonts", target, keyframes, enc, language)
    return args


# ---------------------------------------------------------------- title and description


@dataclass(frozen=True)
class Chapter:
    start: float
    title: str

    @property
    def time(self) -> str:
        total = int(self.start)
        hours, rest = divmod(total, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def youtube_safe(text: str) -> str:
    """YouTube rejects < and > in titles and descriptions."""
    return text.replace("<", "‹").replace(">", "›")


def chapter_title(title: str) -> str:
    return shorten(youtube_safe(title), CHAPTER_TITLE_MAX - 1)


def chapters(sections: list[dict[str, Any]], duration: float) -> tuple[list[Chapter], str]:
    """YouTube chapters from the timeline's sections: the first at 0:00, each at least 10 s
    (a shorter section is joined to the next; a short last one to the one before). Fewer
    than three leaves them out; the second value then says why."""
    result: list[Chapter] = []
    pending: float | None = None
    for i, section in enumerate(sections):
        begin = 0.0 if i == 0 else (pending if pending is not None else float(section["start"]))
        end = float(sections[i + 1]["start"]) if i + 1 < len(sections) else duration
        if end - begin < CHAPTER_MIN_SECONDS:
            if i + 1 < len(sections):
                pending = begin
            continue
        pending = None
        result.append(Chapter(begin, chapter_title(section["title"])))
    if len(result) < CHAPTER_MIN_COUNT:
        return [], (f"chapters left out: {len(result)} section(s) of at least "
                    f"{CHAPTER_MIN_SECONDS:.0f} s, YouTube needs {CHAPTER_MIN_COUNT}")
    return result, ""


def episode_links(script: dict[str, Any]) -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for segment in script["segments"]:
        for link in segment.get("links", []):
            seen.setdefault(link["url"], link.get("text") or link["url"])
    return [{"text": youtube_safe(text), "url": youtube_safe(url)} for url, text in seen.items()]


def hashtag(tag: str) -> str:
    return "#" + "".join(w[:1].upper() + w[1:] for w in re.findall(r"\w+", tag))


@functools.lru_cache(maxsize=8)
def template_env(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=False,
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def render_template(folder: Path, name: str, context: dict[str, Any]) -> str:
    try:
        return template_env(folder).get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise PipelineError("template not found", folder / name, "restore it from git") from None
    except jinja2.TemplateError as exc:
        raise PipelineError(f"template error: {exc}", folder / name) from None


def youtube_texts(episode: Episode, script: dict[str, Any],
                  timeline: dict[str, Any]) -> tuple[str, str, str]:
    """The title, the description (within YouTube's limits) and why chapters are missing."""
    folder = episode.assets / "templates"
    show = episode.settings.show
    found, why = chapters(timeline["sections"], float(timeline["duration"]))
    context = {"episode": script["episode"], "show": show, "chapters": found,
               "listen_on": show.listen_on, "links": episode_links(script),
               "hashtags": [hashtag(t) for t in episode.settings.youtube.tags][:HASHTAGS_MAX]}
    title = youtube_safe(" ".join(render_template(folder, "youtube-title.txt.j2",
                                                  context).split()))
    description = youtube_safe(render_template(folder, "youtube-description.txt.j2", context))
    while len(description.encode()) > DESCRIPTION_MAX_BYTES and context["links"]:
        context["links"] = context["links"][:-1]
        description = youtube_safe(render_template(folder, "youtube-description.txt.j2",
                                                   context))
    description = description.encode()[:DESCRIPTION_MAX_BYTES].decode("utf-8", "ignore")
    return shorten(title, TITLE_MAX), description, why


def build_video(episode: Episode, echo: Callable[[str], None] = click.echo) -> dict[str, Any]:
    """Write build/video.mp4, youtube-title.txt and youtube-description.txt."""
    inputs = read_inputs(episode.build)
    check_ffmpeg()
    title, description, why = youtube_texts(episode, inputs.script, inputs.timeline)
    if why:
        echo(f"video: {why}")
    target = episode.build / "video.mp4"
    with fsutil.atomic_path(target) as tmp:
        cuts = encode_video(episode, inputs, tmp)
    fsutil.write_text(episode.build / "youtube-title.txt", title + "\n")
    fsutil.write_text(episode.build / "youtube-description.txt", description)
    return {"video": target, "slides": len(cuts), "frames": sum(c.frames for c in cuts),
            "duration": float(inputs.timeline["duration"]), "chapters": not why}


@click.command("video")
@click.argument("episode_dir", type=click.Path(path_type=Path))
def command(episode_dir: Path) -> None:
    """Assemble build/video.mp4 and the YouTube title and description."""
    import time

    began = time.monotonic()
    episode = load_episode(episode_dir)
    result = build_video(episode)
    took = time.monotonic() - began
    size = result["video"].stat().st_size / 1e6
    click.echo(f"video: {result['video']} ({result['duration']:.1f} s, {result['slides']} "
               f"slides, {result['frames']} frames, {size:.1f} MB) in {took:.1f} s, "
               f"{result['duration'] / max(took, 1e-9):.0f}x real time")
