"""Video: `build/video.mp4` from the slides, `episode.mp3` and `captions.vtt`, plus the YouTube
title and description.

A still slide does not change between frames, so each slide's picture is encoded once as one
closed GOP and repeated by stream copy (`-stream_loop`), with one shorter GOP for the frames
that do not make a whole GOP; the concat demuxer joins the slides and the final mux copies
everything (see DESIGN.md, "Measured"). Every slide change therefore starts a keyframe, on
the frame nearest the time in timeline.json. The audio is encoded at the same time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
from ffmpeg.nodes import OutputStream

from pipeline.config import VideoSettings
from pipeline.episode import Episode
from pipeline.formats import Script, SlideEntry, Slides, Timeline, require
from pipeline.media.ffmpeg import compile_argv, require_encoders
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.publish.youtube.describe import youtube_texts
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.progress import note, parts

NEEDED_ENCODERS = {"libx264": "H.264 video encoder libx264", "aac": "AAC audio encoder aac",
                   "mov_text": "MP4 subtitle encoder mov_text"}
AAC_PRIMING = 1024  # samples the AAC encoder puts before the audio; trimmed, as no edit list
LANG3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
         "pt": "por", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin",
         "pl": "pol", "cs": "ces", "ru": "rus", "uk": "ukr", "ja": "jpn", "zh": "zho",
         "ko": "kor", "ar": "ara", "tr": "tur", "el": "ell", "hu": "hun", "ro": "ron"}
QUIET = ("-v", "error")  # with -y (overwrite_output) on every command here
PROGRESS = ("-progress", "pipe:1", "-nostats")  # seconds done on stdout, for on_seconds


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


def frame_cuts(slides: list[SlideEntry], duration: float, base: Path,
               enc: Encoding) -> list[Cut]:
    """Each slide from the frame nearest its start to the next one's; the last to the end.
    Slides shorter than half a frame vanish."""
    starts = [round(s.start * enc.fps) for s in slides]
    starts[0] = 0
    ends = [*starts[1:], round(duration * enc.fps)]
    return [Cut(base / s.file, a, b - a, enc.gop, enc.fps)
            for s, a, b in zip(slides, starts, ends, strict=True) if b > a]


# ---------------------------------------------------------------- argument lists


def _written(out: OutputStream, *global_args: str) -> list[str]:
    """The argv of an output graph, quiet unless it fails, overwriting `out`'s file."""
    return compile_argv(out.global_args(*global_args, *QUIET).overwrite_output())


def _x264(enc: Encoding, crf: int) -> dict[str, str | int]:
    """libx264 High with closed GOPs of `enc.gop` frames, tagged BT.709."""
    return {"c:v": "libx264", "profile:v": "high", "preset": enc.preset, "crf": crf,
            "tune": "stillimage", "g": enc.gop, "keyint_min": enc.gop, "sc_threshold": 0,
            "bf": 2, "flags": "+cgop", "color_primaries": "bt709", "color_trc": "bt709",
            "colorspace": "bt709"}


def gop_args(image: Path, frames: int, out: Path, enc: Encoding) -> list[str]:
    """Encode `frames` frames of a still as closed GOPs (one when frames <= GOP)."""
    still = ffmpeg.input(str(image), loop=1, framerate=enc.fps)
    picture = (still.filter("scale", enc.width, enc.height, out_color_matrix="bt709",
                            out_range="tv")
               .filter("setsar", 1).filter("format", "yuv420p").filter("fps", enc.fps))
    return _written(picture.output(str(out), an=None, **{"frames:v": frames},
                                   **_x264(enc, enc.crf), **{"x264-params": "open-gop=0"}))


def loop_args(gop: Path, times: int, out: Path) -> list[str]:
    """Repeat a GOP file `times` times by stream copy."""
    return _written(ffmpeg.input(str(gop), stream_loop=times - 1).output(str(out), c="copy"))


def audio_args(source: Path, out: Path, enc: Encoding) -> list[str]:
    """AAC-LC 48 kHz stereo. The encoder's priming samples are trimmed from the start so
    that, with no edit list to hide them, the audio still lines up with the slides."""
    sound = (ffmpeg.input(str(source))["a"].filter("aresample", 48000)
             .filter("atrim", start_sample=AAC_PRIMING).filter("asetpts", "PTS-STARTPTS"))
    aac = sound.output(str(out), ac=2, ar=48000, audio_bitrate=enc.audio_bitrate,
                       aac_coder="fast", aac_ms=0, **{"c:a": "aac", "profile:a": "aac_low"})
    return _written(aac, *PROGRESS)


def _tagged(language: str, *specs: str) -> dict[str, str]:
    """The `-metadata:s:<spec>` options giving those streams the language."""
    return {f"metadata:s:{spec}": f"language={language}" for spec in specs}


def _slides_and_audio(concat: Path, audio: Path) -> tuple[Any, Any]:
    """The joined slides (concat demuxer) and the encoded audio."""
    return (ffmpeg.input(str(concat), format="concat", safe=0)["v:0"],
            ffmpeg.input(str(audio))["a:0"])


def mux_args(concat: Path, audio: Path, captions: Path, out: Path, language: str) -> list[str]:
    """Join the slides and the audio by stream copy, add the captions as a mov_text track."""
    slides, sound = _slides_and_audio(concat, audio)
    text = ffmpeg.input(str(captions))["s:0"]
    mp4 = ffmpeg.output(slides, sound, text, str(out), **MP4_FLAGS,
                        **{"c:v": "copy", "c:a": "copy", "c:s": "mov_text"},
                        **_tagged(language, "v:0", "a:0", "s:0"))
    return _written(mp4, *PROGRESS)


# moov first; no edit lists: the B-frame delay is carried by negative composition offsets
MP4_FLAGS = {"movflags": "+faststart+negative_cts_offsets", "use_editlist": 0}


def burn_args(concat: Path, audio: Path, captions_name: str, fonts_dir: str, out: Path,
              keyframes: list[float], enc: Encoding, language: str) -> list[str]:
    """Captions drawn into the picture: the joined slides are decoded and encoded again,
    with keyframes forced at the slide changes. `captions_name` and `fonts_dir` are plain
    names in the working folder; ffmpeg-python escapes the filter's options."""
    style = ("FontName=DejaVu Sans,FontSize=16,BorderStyle=3,Outline=1,Shadow=0,"
             f"OutlineColour=&H80000000,MarginV={round(enc.height * 0.02)}")
    slides, sound = _slides_and_audio(concat, audio)
    picture = (slides.filter("subtitles", captions_name, fontsdir=fonts_dir, force_style=style)
               .filter("format", "yuv420p").filter("fps", enc.fps))
    times = ",".join(f"{t:.6f}" for t in keyframes)
    mp4 = ffmpeg.output(picture, sound, str(out), **_x264(enc, 18), force_key_frames=times,
                        **{"c:a": "copy"}, **_tagged(language, "a:0"), **MP4_FLAGS)
    return _written(mp4, *PROGRESS)


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


# ---------------------------------------------------------------- progress


# ---------------------------------------------------------------- building


def encode_cut(cut: Cut, n: int, work: Path, enc: Encoding) -> list[tuple[str, float]]:
    """The concat entries for one slide: its whole GOPs (looped) and its shorter last GOP."""
    entries = []
    failed = f"encoding slide {cut.image.name} failed"
    if cut.loops:
        gop = work / f"{n:03d}-gop.mp4"
        run_ffmpeg(gop_args(cut.image, cut.gop, gop, enc), failed)
        if cut.loops > 1:
            looped = work / f"{n:03d}-loop.mp4"
            run_ffmpeg(loop_args(gop, cut.loops, looped),
                       f"repeating slide {cut.image.name} failed")
            gop = looped
        entries.append((gop.name, cut.loops * cut.gop / cut.fps))
    if cut.tail:
        tail = work / f"{n:03d}-tail.mp4"
        run_ffmpeg(gop_args(cut.image, cut.tail, tail, enc), failed)
        entries.append((tail.name, cut.tail / cut.fps))
    return entries


@dataclass(frozen=True)
class Inputs:
    slides: Slides
    timeline: Timeline
    script: Script
    audio: Path
    captions: Path


def read_inputs(build: Path) -> Inputs:
    audio, captions = require(build / "episode.mp3"), require(build / "captions.vtt")
    slides = Slides.read(build)
    for slide in slides.slides:
        require(build / slide.file)
    return Inputs(slides, Timeline.read(build), Script.read(build), audio, captions)


def encode_video(episode: Episode, inputs: Inputs, target: Path) -> list[Cut]:
    """Slides and audio in parallel, then one stream-copy mux into `target`."""
    enc = Encoding.from_settings(episode.settings.video)
    duration = inputs.timeline.duration
    cuts = frame_cuts(inputs.slides.slides, duration, episode.build, enc)
    language = language3(episode.settings.show.language)
    with (parts("video", {"slides": 4, "audio": 4, "mux": 1}) as progress,
          tempfile.TemporaryDirectory(dir=episode.build, prefix=".video-") as tmp):
        work = Path(tmp)
        audio = work / "audio.m4a"
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            audio_job = pool.submit(run_ffmpeg, audio_args(inputs.audio, audio, enc),
                                    "encoding the audio failed",
                                    on_seconds=lambda s: progress.update("audio", s / duration))
            jobs = [pool.submit(encode_cut, cut, n, work, enc) for n, cut in enumerate(cuts)]
            entries = []
            for n, job in enumerate(jobs, 1):
                entries += job.result()
                progress.update("slides", n / len(jobs))
            audio_job.result()
        (work / "slides.ffconcat").write_text(concat_list(entries), encoding="utf-8")
        mux = final_args(episode, inputs, work, target, cuts, enc, language)
        run_ffmpeg(mux, "joining the video failed",
            on_seconds=lambda s: progress.update("mux", s / duration), cwd=work)
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


@dataclass(frozen=True)
class VideoResult:
    video: Path
    slides: int
    frames: int
    duration: float  # seconds of video
    seconds: float  # how long the build took

    def summary(self) -> str:
        size = self.video.stat().st_size / 1e6
        return (f"video: {self.video} ({self.duration:.1f} s, {self.slides} slides, "
                f"{self.frames} frames, {size:.1f} MB) in {self.seconds:.1f} s, "
                f"{self.duration / max(self.seconds, 1e-9):.0f}x real time")


def run(episode: Episode) -> VideoResult:
    """Write build/video.mp4, youtube-title.txt and youtube-description.txt."""
    began = time.monotonic()
    inputs = read_inputs(episode.build)
    require_encoders(NEEDED_ENCODERS)
    title, description, why = youtube_texts(episode, inputs.script, inputs.timeline)
    if why:
        note(f"video: {why}")
    target = episode.build / "video.mp4"
    with fsutil.atomic_path(target) as tmp:
        cuts = encode_video(episode, inputs, tmp)
    fsutil.write_text(episode.build / "youtube-title.txt", title + "\n")
    fsutil.write_text(episode.build / "youtube-description.txt", description)
    return VideoResult(target, len(cuts), sum(c.frames for c in cuts), inputs.timeline.duration,
                       time.monotonic() - began)


@stage_command("video")
def command(episode: Episode) -> VideoResult:
    """Assemble build/video.mp4 and the YouTube title and description."""
    return run(episode)
