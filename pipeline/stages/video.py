"""Video: `build/video.mp4` from the slides, `episode.m4a` and `captions.vtt`, plus the YouTube
title and description.

The picture is the slides' H.264 pieces (media/slideshow.py: each slide's still encoded once
as closed GOPs and repeated by stream copy, kept in `build/video-cache/` by content, so an
edit encodes only the slides whose picture or frame count changed). The slides stage has
usually encoded them already; what is missing is encoded here, and all of them when the
captions are burned in. The concat demuxer joins them and the final mux copies everything
(see DESIGN.md, "Measured"), so the result is the same file a cold build makes. The sound is
master's `episode.m4a` (AAC-LC, made from the mastered samples: media/aac.py), copied as it
is. The MP4's chapters are the timeline's sections, written in time order.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from pipeline.episode import Episode
from pipeline.formats import Script, Slides, Timeline, require
from pipeline.media import aac, slideshow
from pipeline.media.ffmpeg import ffmetadata, quiet_argv, require_encoders
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.pieces import Count
from pipeline.media.slideshow import Cut, Encoding, concat_list, x264
from pipeline.publish.youtube.describe import youtube_texts
from pipeline.stages import stage_command
from pipeline.util import fsutil
from pipeline.util.progress import note, parts

NEEDED_ENCODERS = {"libx264": "H.264 video encoder libx264",
                   "mov_text": "MP4 subtitle encoder mov_text"}
LANG3 = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "nl": "nld",
         "pt": "por", "sv": "swe", "da": "dan", "no": "nor", "nb": "nob", "fi": "fin",
         "pl": "pol", "cs": "ces", "ru": "rus", "uk": "ukr", "ja": "jpn", "zh": "zho",
         "ko": "kor", "ar": "ara", "tr": "tur", "el": "ell", "hu": "hun", "ro": "ron"}
PROGRESS = ("-progress", "pipe:1", "-nostats")  # seconds done on stdout, for on_seconds
# packets each input of the final mux reads ahead (ffmpeg's default is 8): the concat list's
# reader no longer stalls the muxer while it opens the next file, and far fewer thread
# handovers. Measured on the sample: 0.57 s wall and 0.70 s CPU, from 0.78 s and 0.81 s
QUEUE = 1024


# ---------------------------------------------------------------- argument lists


def _tagged(language: str, *specs: str) -> dict[str, str]:
    """The `-metadata:s:<spec>` options giving those streams the language."""
    return {f"metadata:s:{spec}": f"language={language}" for spec in specs}


def _read(path: Path, **options: str | int) -> Any:
    """One input of the final mux, read ahead by QUEUE packets."""
    return ffmpeg.input(str(path), thread_queue_size=QUEUE, **options)


def _slides_and_audio(concat: Path, audio: Path) -> tuple[Any, Any]:
    """The joined slides (an ffconcat list) and the sound (an M4A)."""
    return _read(concat, format="concat", safe=0)["v:0"], _read(audio)["a:0"]


def _with_chapters(streams: list[Any], chapters: Path) -> tuple[list[Any], dict[str, int]]:
    """`streams` (one from each input) and the chapters of an ffmetadata file, which comes
    after them: it has no stream, so it joins the graph through an optional map."""
    marks = _read(chapters, f="ffmetadata")
    return [*streams, marks["d?"]], {"map_chapters": len(streams)}


def mux_args(concat: Path, audio: Path, captions: Path, chapters: Path, out: Path,
             language: str, reserve: int | None = None) -> list[str]:
    """Join the slides and the audio by stream copy, add the captions as a mov_text track
    and the chapters; the moov written first into `reserve` bytes kept for it, or moved
    there afterwards when None (a second pass over the whole file)."""
    slides, sound = _slides_and_audio(concat, audio)
    text = _read(captions)["s:0"]
    streams, mapping = _with_chapters([slides, sound, text], chapters)
    flags = MP4_FLAGS if reserve is None else {**RESERVED_FLAGS, "moov_size": reserve}
    mp4 = ffmpeg.output(*streams, str(out), **flags, **mapping,
                        **{"c:v": "copy", "c:a": "copy", "c:s": "mov_text"},
                        **_tagged(language, "v:0", "a:0", "s:0"))
    return quiet_argv(mp4, *PROGRESS)


# moov first; no edit lists: the B-frame delay is carried by negative composition offsets
MP4_FLAGS = {"movflags": "+faststart+negative_cts_offsets", "use_editlist": 0}
RESERVED_FLAGS = {"movflags": "+negative_cts_offsets", "use_editlist": 0}
MOOV_BASE, MOOV_PER_SAMPLE = 65536, 24  # bytes: about twice what the moov takes


def moov_reserve(frames: int, duration: float, captions: Path) -> int:
    """Bytes to keep for the moov ahead of the media: its tables grow with the samples of
    each track (the frames, the AAC frames, two a cue)."""
    sound = math.ceil(duration * aac.RATE / aac.FRAME) + 2
    cues = captions.read_text(encoding="utf-8").count("-->")
    return MOOV_BASE + MOOV_PER_SAMPLE * (frames + sound + 2 * cues)


def burn_args(concat: Path, audio: Path, captions_name: str, fonts_dir: str, chapters: Path,
              out: Path, keyframes: list[float], enc: Encoding, language: str) -> list[str]:
    """Captions drawn into the picture: the joined slides are decoded and encoded again,
    with keyframes forced at the slide changes. `captions_name` and `fonts_dir` are plain
    names in the working folder; ffmpeg-python escapes the filter's options."""
    style = ("FontName=DejaVu Sans,FontSize=16,BorderStyle=3,Outline=1,Shadow=0,"
             f"OutlineColour=&H80000000,MarginV={round(enc.height * 0.02)}")
    slides, sound = _slides_and_audio(concat, audio)
    picture = (slides.filter("subtitles", captions_name, fontsdir=fonts_dir, force_style=style)
               .filter("format", "yuv420p").filter("fps", enc.fps))
    times = ",".join(f"{t:.6f}" for t in keyframes)
    streams, mapping = _with_chapters([picture, sound], chapters)
    mp4 = ffmpeg.output(*streams, str(out), **x264(enc, 18), force_key_frames=times,
                        **{"c:a": "copy"}, **_tagged(language, "a:0"), **MP4_FLAGS, **mapping)
    return quiet_argv(mp4, *PROGRESS)


def language3(code: str) -> str:
    """ISO 639-2 code that MP4 tracks carry, from the show's language (`en`, `en-GB`)."""
    base = code.split("-")[0].lower()
    return base if len(base) == 3 else LANG3.get(base, "und")


# ---------------------------------------------------------------- building


@dataclass(frozen=True)
class Inputs:
    slides: Slides
    timeline: Timeline
    script: Script
    audio: Path
    captions: Path


def read_inputs(build: Path) -> Inputs:
    audio, captions = require(build / "episode.m4a"), require(build / "captions.vtt")
    slides = Slides.read(build)
    for slide in slides.slides:
        require(build / slide.file)
    return Inputs(slides, Timeline.read(build), Script.read(build), audio, captions)


@dataclass(frozen=True)
class Work:
    """What the final mux joins, all listed in the `folder` it runs in."""

    folder: Path
    cuts: list[Cut]
    gops: Count

    @property
    def concat(self) -> Path:
        return self.folder / "slides.ffconcat"

    @property
    def chapters(self) -> Path:
        return self.folder / "chapters.txt"


def encode_video(episode: Episode, inputs: Inputs, target: Path) -> Work:
    """The pieces, then one stream-copy mux into `target` with the captions and chapters."""
    duration = inputs.timeline.duration
    shown = slideshow.plan(episode.build, episode.settings.video, inputs.slides.slides,
                           duration)
    with (parts("video", {"slides": 4, "mux": 1}) as progress,
          tempfile.TemporaryDirectory(dir=episode.build, prefix=".video-") as tmp):
        encoded = shown.encode(lambda done: progress.update("slides", done))
        work = Work(Path(tmp), shown.cuts, encoded.gops)
        work.concat.write_text(concat_list(encoded.entries), encoding="utf-8")
        work.chapters.write_text(ffmetadata([(s.start, s.end, s.title)
                                             for s in inputs.timeline.sections]),
                                 encoding="utf-8")
        mux(final_args(episode, inputs, work, target, shown.enc), target,
            lambda s: progress.update("mux", s / duration), work.folder)
        progress.update("mux", 1.0)
    return work


def mux(argv: list[str], target: Path, on_seconds: Callable[[float], None],
        folder: Path) -> None:
    """Run the final mux; should the moov outgrow the room kept for it (ffmpeg says so
    and still exits 0, its file broken), again with the moov moved to the front
    afterwards."""
    done = run_ffmpeg(argv, "joining the video failed", on_seconds=on_seconds, cwd=folder)
    if "-moov_size" not in argv or (
            "reserved_moov_size" not in done.stderr and top_boxes_whole(target)):
        return
    at = argv.index("-moov_size")
    again = [*argv[:at], *argv[at + 2 :]]
    again[again.index("-movflags") + 1] = MP4_FLAGS["movflags"]
    run_ffmpeg(again, "joining the video failed", on_seconds=on_seconds, cwd=folder)


def top_boxes_whole(path: Path) -> bool:
    """Whether the file's top-level MP4 boxes are known kinds that end where it ends, with
    the moov before the mdat."""
    kinds, at, size = [], 0, path.stat().st_size
    with path.open("rb") as f:
        while at < size:
            f.seek(at)
            head = f.read(16)
            length, kind = int.from_bytes(head[:4], "big"), head[4:8]
            if length == 1:
                length = int.from_bytes(head[8:16], "big")
            if length < 8 or kind not in TOP_BOXES:
                return False
            kinds.append(kind)
            at += length
    return at == size and b"moov" in kinds and b"mdat" in kinds and (
        kinds.index(b"moov") < kinds.index(b"mdat"))


TOP_BOXES = {b"ftyp", b"moov", b"free", b"mdat", b"skip", b"wide", b"uuid", b"meta"}


def final_args(episode: Episode, inputs: Inputs, work: Work, target: Path,
               enc: Encoding) -> list[str]:
    language = language3(episode.settings.show.language)
    if not episode.settings.video.burn_captions:
        frames = sum(c.frames for c in work.cuts)
        return mux_args(work.concat, inputs.audio, inputs.captions, work.chapters, target,
                        language, moov_reserve(frames, inputs.timeline.duration,
                                               inputs.captions))
    shutil.copy(inputs.captions, work.folder / "captions.vtt")
    fonts = episode.assets / Path(episode.settings.video.font).parent
    shutil.copytree(fonts, work.folder / "fonts")
    keyframes = [c.first / enc.fps for c in work.cuts]
    return burn_args(work.concat, inputs.audio, "captions.vtt", "fonts", work.chapters, target,
                     keyframes, enc, language)


@dataclass(frozen=True)
class VideoResult:
    video: Path
    slides: int
    frames: int
    duration: float  # seconds of video
    seconds: float  # how long the build took
    gops: Count = Count(0, 0)  # GOP files the slides use (whole GOPs once a slide, tails)

    def summary(self) -> str:
        size = self.video.stat().st_size / 1e6
        return (f"video: {self.video} ({self.duration:.1f} s, {self.slides} slides, "
                f"{self.frames} frames, {size:.1f} MB) in {self.seconds:.1f} s, "
                f"{self.duration / max(self.seconds, 1e-9):.0f}x real time; encoded "
                f"{self.gops} GOPs, the rest kept")


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
        work = encode_video(episode, inputs, tmp)
    fsutil.write_text(episode.build / "youtube-title.txt", title + "\n")
    fsutil.write_text(episode.build / "youtube-description.txt", description)
    return VideoResult(target, len(work.cuts), sum(c.frames for c in work.cuts),
                       inputs.timeline.duration, time.monotonic() - began, work.gops)


@stage_command("video")
def command(episode: Episode) -> VideoResult:
    """Assemble build/video.mp4 and the YouTube title and description."""
    return run(episode)
