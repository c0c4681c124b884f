"""Stage `master`: build/narration.wav + build/timeline.json -> build/episode.mp3 (music,
loudness, ID3 tags, chapters), build/episode.m4a (the same samples as AAC for the video:
media/aac.py) and build/chapters.json (Podcasting 2.0 JSON chapters).

The episode is cut into pieces at the narration's pauses (runs of digital silence); the
intro and the outro, with their music, are two more (media/mixdown.py). Each piece is
measured on its own (K-weighted energy and true peak per 1.4 ms block) and the figures are
cached by its content, so after an edit only the pieces that changed are resampled and
measured again. From those
figures alone the stage finds the one gain that, after a look-ahead limiter keeping the
true peaks under the ceiling, brings the episode to its loudness target (ITU-R BS.1770
gating, worked out from the pieces' 100 ms sub-blocks), rounded to 0.1 dB: a small edit
then leaves the gain, and so every other piece's samples, as they were. The pieces are
put together with that gain and the limiter's and encoded as an MP3 in pieces of its own,
cut in silence and kept by what they are made of (media/mp3.py), which are decoded and
measured one by one for every stage that reads the MP3's loudness (media/meter.py); only
the MP3's and the video sound's pieces that are encoded now are rendered.
Nothing depends on what the cache held: a build after an edit writes the same bytes as a
build from nothing.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from mutagen.id3 import (
    APIC,
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TDRC,
    TIT2,
    TPE1,
    TRCK,
    CTOCFlags,
)

from pipeline.config import AudioSettings, cache_dir
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, Timeline, rebuild_hint, require
from pipeline.media import aac, mp3, music
from pipeline.media.audio import decode, decode_pcm, limiter_gain, loudness, read_wav
from pipeline.media.ffmpeg import INSTALL
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.loudness import Blocks, fine_block, integrated, laid
from pipeline.media.meter import Meter, remember
from pipeline.media.mixdown import FigureCache, Mixed, Piece, measured, speech_pieces
from pipeline.media.pieces import Count, Pieces
from pipeline.media.samples import Samples
from pipeline.stages import stage_command
from pipeline.util import fsutil

MUSIC_BELOW = 8.0  # the music's loudness at full level, in LU below the voice
MUSIC_STEP = 0.5  # dB: the music's gain is rounded to this, so an edit leaves it as it was
MP3_MARGIN = 0.5  # dB kept below the true-peak ceiling for the MP3 encoder's overshoot
FIX = f"check that ffmpeg has ebur128 and libmp3lame; {INSTALL}"
LOUDNESS_SLACK = 0.2  # LU off target that the MP3 may be before it is encoded again
SILENT_LUFS = -69.0  # a mix quieter than this is taken for silence
SPEECH_SAMPLE = 120  # seconds of narration measured to set the music's level
LIMIT_HOLD = 0.02  # seconds either side of a peak that the limiter's gain is held down
LIMIT_SMOOTH = 0.015  # seconds either side over which that gain is then averaged
FIT_TOLERANCE = 0.001  # LU: how close the fitted gain brings the mix to its target
FIT_STEPS = 30
GAIN_STEP = 0.1  # dB: the fitted gain is rounded to this, so a small edit leaves it as it was
PROBE_SECONDS, PROBE_HZ, PROBE_LEVEL = 1.0, 997.0, 0.25  # the tone the encoder is tried on
AAC_CACHE = "audio-cache"  # in build/: the video's sound in pieces, by content
MP3_CACHE = "mp3-cache"  # in build/: the MP3 in pieces, by content


# -- the pieces -----------------------------------------------------------------------------

def _music_gain(bed: np.ndarray, speech_lufs: float | None, rate: int) -> float:
    level = loudness(bed, rate)
    if level is None or speech_lufs is None:
        return 0.1
    gain_db = MUSIC_STEP * round((speech_lufs - MUSIC_BELOW - level) / MUSIC_STEP)
    return float(10 ** (gain_db / 20))


def own_music(assets: Path, name: str) -> Path | None:
    """The producer's `assets/<name>.*` music file, if there is one."""
    found = sorted(p for p in assets.glob(f"{name}.*") if p.is_file())
    return found[0] if found else None


def _source(assets: Path | None, name: str, rate: int) -> music.Source:
    path = own_music(assets, name) if assets else None
    return decode(path, rate, "export it again as WAV or FLAC") if path else None


@dataclass(frozen=True, eq=False)
class Mix:
    """Where the music goes: the episode's length and the music beds, with their gains."""

    rate: int
    total: int  # samples
    intro: np.ndarray  # from sample 0
    outro_at: int
    outro: np.ndarray


def music_beds(lay: music.Layout, speech_end: float, speech_lufs: float | None, rate: int,
               seed: int, assets: Path | None) -> Mix:
    """The intro and outro at their levels: MUSIC_BELOW under the voice."""
    total = int(round(lay.duration * rate))
    intro = music.intro_bed(lay, rate, seed, _source(assets, "intro", rate))
    intro = _music_gain(intro[: int(round(lay.offset * rate))], speech_lufs, rate) * intro
    at, outro = music.outro_bed(speech_end, lay, rate, seed, _source(assets, "outro", rate))
    alone = outro[int(music.RISE_UNDER * rate) : len(outro) - int(music.FADE_OUT * rate)]
    outro = _music_gain(alone, speech_lufs, rate) * outro
    return Mix(rate, total, intro[:total], at, outro[: total - at])


def with_music(pieces: list[Piece], mix: Mix) -> list[Piece]:
    """The pieces with the music: the ones the intro or the outro plays under are joined
    into one piece with it (the pieces are in time order and apart)."""
    n_head = sum(1 for p in pieces if p.start < len(mix.intro))
    n_tail = sum(1 for p in pieces[n_head:] if p.end > mix.outro_at)
    head, middle = pieces[:n_head], pieces[n_head : len(pieces) - n_tail]
    tail = pieces[len(pieces) - n_tail :]
    head_end = max([len(mix.intro), *(p.end for p in head)])
    fine = fine_block(mix.rate)
    tail_start = fine * (min([mix.outro_at, *(p.start for p in tail)]) // fine)
    if head_end >= tail_start:
        return [_with_beds(pieces, 0, mix.total, mix)]
    return [_with_beds(head, 0, head_end, mix), *middle,
            _with_beds(tail, tail_start, mix.total, mix)]


def _with_beds(pieces: list[Piece], start: int, end: int, mix: Mix) -> Piece:
    """One piece from `start` to `end`: the pieces within it and the music."""
    out = np.zeros(end - start, np.float32)
    for p in pieces:
        out[p.start - start : p.end - start] += p.audio
    for at, bed in ((0, mix.intro), (mix.outro_at, mix.outro)):
        a, b = max(at, start), min(at + len(bed), end)
        if a < b:
            out[a - start : b - start] += bed[a - at : b - at]
    return Piece.of(start, out, mix.rate)


# -- loudness and the limiter ---------------------------------------------------------------

class Levels:
    """The episode's fine blocks, from its pieces' figures, and what a gain and the limiter
    do to them."""

    def __init__(self, pieces: list[Piece], blocks: list[Blocks], rate: int, total: int):
        self.rate, self.fine, self.samples = rate, fine_block(rate), total
        self.at = [p.start // self.fine for p in pieces]
        self.blocks = laid(list(zip(self.at, blocks, strict=True)), -(-total // self.fine))
        self.hold = max(2, round(LIMIT_HOLD * rate / self.fine))
        self.smooth = min(self.hold - 1, round(LIMIT_SMOOTH * rate / self.fine))

    def gains(self, gain_db: float, ceiling_db: float | None) -> np.ndarray:
        """The limiter's gain per block after a gain of `gain_db`."""
        if ceiling_db is None:
            return np.ones(len(self.blocks.peak))
        return limiter_gain(self.blocks.peak * 10 ** (gain_db / 20), 10 ** (ceiling_db / 20),
                            self.hold, self.smooth)

    def loudness(self, gain_db: float, ceiling_db: float | None) -> float | None:
        """Integrated loudness (LUFS) after the gain and the limiter."""
        limiter = self.gains(gain_db, ceiling_db)
        energy = 10 ** (gain_db / 10) * np.square(limiter) * self.blocks.energy
        return integrated(energy, self.rate, self.samples)


def fit_gain(levels: Levels, target: float, ceiling_db: float, path: Path) -> float:
    """The gain (dB) that brings the mix, limited at `ceiling_db`, to `target` LUFS:
    secant steps on a curve whose slope is 1 without limiting and less with it."""
    base = levels.loudness(0.0, None)
    if base is None or base < SILENT_LUFS:
        raise PipelineError("the narration is silent", path, rebuild_hint(path))
    x = target - base
    last: tuple[float, float] | None = None
    for _ in range(FIT_STEPS):
        level = levels.loudness(x, ceiling_db)
        miss = target - (SILENT_LUFS if level is None else level)
        if abs(miss) <= FIT_TOLERANCE:
            break
        slope = 1.0
        if last is not None and x != last[0]:
            slope = min(1.0, max(0.05, (last[1] - miss) / (x - last[0])))
        last = (x, miss)
        x += miss / slope
    return x


def mixed(pieces: list[Piece], levels: Levels, gain_db: float,
          ceiling_db: float) -> tuple[Mixed, float]:
    """The episode after the gain and the limiter, read by range; and the limiter's deepest
    cut in dB."""
    gains = levels.gains(gain_db, ceiling_db)
    found = Mixed(pieces, gains, 10 ** (gain_db / 20), levels.rate, levels.samples)
    return found, float(-20 * np.log10(gains.min())) if len(gains) else 0.0


def render(pieces: list[Piece], levels: Levels, gain_db: float, ceiling_db: float,
           total: int) -> tuple[np.ndarray, float]:
    """The episode's samples after the gain and the limiter; and the limiter's deepest cut
    in dB."""
    found, limited = mixed(pieces, levels, gain_db, ceiling_db)
    return found.render(0, total), limited


# -- the encoder ----------------------------------------------------------------------------

def encoder_gain(settings: AudioSettings, tmp: Path) -> float:
    """dB by which the MP3 encoder changes each channel's level (LAME at 128k mono: about
    -0.45, evenly at every frequency): a second of tone encoded as the episode is, decoded
    and compared."""
    rate = settings.sample_rate
    t = np.arange(round(PROBE_SECONDS * rate)) / rate
    tone = (PROBE_LEVEL * np.sin(2 * np.pi * PROBE_HZ * t)).astype(np.float32)
    raw, out = tmp / "probe.f32", tmp / "probe.mp3"
    tone.astype("<f4").tofile(raw)
    # the same encoder on the same tone changes it the same way: kept by ffmpeg's version
    key = Pieces(tmp).key(partial(mp3.encode_argv, raw, audio=settings), [raw])
    kept = cache_dir() / "master" / "encoder-gain" / f"{key}.txt"
    with contextlib.suppress(OSError, ValueError):
        return float(kept.read_text(encoding="utf-8"))
    run_ffmpeg(mp3.encode_argv(raw, out, settings), "ffmpeg's MP3 encoding failed", out, FIX)
    pcm, _ = decode_pcm(out, FIX)
    middle = slice(len(t) // 4, 3 * len(t) // 4)
    heard = pcm[middle].astype(np.float64) / 2**31
    change = float(10 * np.log10(np.mean(heard**2) / np.mean(tone[middle].astype(np.float64)
                                                              ** 2)))
    fsutil.write_text(kept, repr(change))
    return change


def _measured(out: Path, found: Meter) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the MP3 as measured in its pieces, kept as its
    bytes' figures for the review page and the pre-flight checks (media/meter.py)."""
    remember(out, found)
    if found.loud.integrated is None or found.loud.true_peak is None:
        raise PipelineError("the MP3 measured no loudness", out, FIX)
    return found.loud.integrated, found.loud.true_peak


@dataclass(frozen=True, eq=False)
class Encoded:
    loudness: float  # LUFS, measured on the MP3 as ffmpeg's ebur128 would
    true_peak: float  # dBTP, the same
    limited: float  # dB: the limiter's deepest cut
    sound: Future[Count]  # the video's sound, from the same samples
    pieces: Count  # the MP3's pieces, and how many were encoded now


@dataclass(frozen=True)
class Job:
    """What encode needs besides the targets."""

    pieces: list[Piece]
    levels: Levels
    tags: ID3
    total: int  # samples in the episode
    settings: AudioSettings
    narration: Path  # named when the narration turns out silent
    tmp: Path
    sound: Callable[[Samples], Future[Count]]  # starts the video's sound from the samples
    mp3_cache: Pieces  # the MP3's pieces


def encode_once(job: Job, out: Path, target: float, ceiling: float) -> Encoded:
    """Fit the gain to `target` LUFS with peaks under `ceiling` dBTP, put the pieces
    together, encode, tag and measure the MP3; the video's sound is encoded meanwhile."""
    gain = GAIN_STEP * round(fit_gain(job.levels, target, ceiling, job.narration) / GAIN_STEP)
    samples, limited = mixed(job.pieces, job.levels, gain, ceiling)
    sound = job.sound(samples)
    _say("encoding the MP3")
    made = mp3.encode(samples, job.settings, out, job.mp3_cache, job.tmp)
    write_tags(job.tags, out)
    lufs, peak = _measured(out, mp3.measured(made, job.settings, job.tmp))
    return Encoded(lufs, peak, limited, sound, made.count)


def encode(job: Job, out: Path) -> Encoded:
    """The targets allow for the encoder's change of level; an MP3 that still misses by
    more than a little, or whose peaks the encoder pushed over the ceiling, is encoded
    again with the miss added."""
    settings = job.settings
    change = encoder_gain(settings, job.tmp)
    target = settings.loudness_lufs - change - 10 * np.log10(settings.channels)
    ceiling = settings.true_peak_db - MP3_MARGIN - change
    done = encode_once(job, out, target, ceiling)
    miss, over = settings.loudness_lufs - done.loudness, done.true_peak - settings.true_peak_db
    if abs(miss) <= LOUDNESS_SLACK and over <= 0:
        return done
    _say(f"encoding the MP3 again: it measured {done.loudness:.1f} LUFS, "
         f"{done.true_peak:.1f} dBTP")
    done.sound.result()  # its files are in the way of the next one's
    return encode_once(job, out, target + miss, ceiling - max(0.0, over + 0.1))


# -- tags -----------------------------------------------------------------------------------

def _cover(episode: Episode) -> APIC | None:
    path = episode.assets / episode.settings.show.artwork
    if not path.is_file():
        _say(f"warning: {path} not found; the MP3 has no cover art")
        return None
    mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    return APIC(encoding=3, mime=mime, type=3, desc="Cover", data=path.read_bytes())


def id3_tags(episode: Episode, timeline: Timeline) -> ID3:
    """Title, artist, album, date, track, comment, cover and one chapter per section."""
    show, meta = episode.settings.show, episode.meta
    tags = ID3()
    tags.add(TIT2(encoding=3, text=meta.title))
    tags.add(TPE1(encoding=3, text=show.author))
    tags.add(TALB(encoding=3, text=show.title))
    tags.add(TDRC(encoding=3, text=meta.date.isoformat()))
    tags.add(TRCK(encoding=3, text=str(meta.number)))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=meta.summary))
    if cover := _cover(episode):
        tags.add(cover)
    ids = [f"chp{i}" for i in range(len(timeline.sections))]
    tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                  child_element_ids=ids, sub_frames=[TIT2(encoding=3, text="Chapters")]))
    for cid, section in zip(ids, timeline.sections, strict=True):
        tags.add(CHAP(element_id=cid, start_time=int(round(section.start * 1000)),
                      end_time=int(round(section.end * 1000)),
                      sub_frames=[TIT2(encoding=3, text=section.title)]))
    return tags


def write_tags(tags: ID3, mp3: Path) -> None:
    """Save the tags as ID3v2.3, the chapters in time order in the file."""
    tags.save(mp3, v2_version=3)
    chapters_in_time_order(mp3)


def _id3_frames(body: bytes) -> list[tuple[bytes, bytes]]:
    """(frame id, the whole frame) of each frame of an ID3v2.3 tag's body, padding left out."""
    frames, pos = [], 0
    while pos + 10 <= len(body) and body[pos] != 0:
        end = pos + 10 + int.from_bytes(body[pos + 4 : pos + 8], "big")
        frames.append((body[pos : pos + 4], body[pos:end]))
        pos = end
    return frames


def _chapter_start(frame: bytes) -> int:
    """A CHAP frame's start time (ms): after the header and the element id's terminator."""
    at = frame.index(b"\0", 10) + 1
    return int.from_bytes(frame[at : at + 4], "big")


def chapters_in_time_order(mp3: Path) -> None:
    """mutagen writes frames ordered by size (quodlibet/mutagen#506), which puts the CHAP
    frames out of time order, and readers that take them in file order (ffprobe, some
    players) list the chapters so. This puts them in time order, in place: the CHAP frames
    trade places among themselves and the tag keeps its size."""
    with mp3.open("r+b") as f:
        header = f.read(10)
        size = sum((byte & 0x7F) << (7 * (3 - i)) for i, byte in enumerate(header[6:10]))
        frames = _id3_frames(f.read(size))
        chapters = iter(sorted((data for kind, data in frames if kind == b"CHAP"),
                               key=_chapter_start))
        f.seek(10)
        f.write(b"".join(next(chapters) if kind == b"CHAP" else data
                         for kind, data in frames))


# -- the stage ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MasterResult:
    duration: float
    loudness: float  # LUFS, measured on the MP3 as ffmpeg's ebur128 would
    true_peak: float  # dBTP, the same
    limited: float  # dB: the limiter's deepest cut
    pieces: int  # stretches measured: the narration's pieces, then the pieces as mixed
    measured: int  # of those, the ones measured in this run (the others were cached)
    synthesised: int
    cached: int
    recorded: int
    sound: Count = Count(0, 0)  # pieces of the video's sound, and how many were encoded now
    mp3: Count = Count(0, 0)  # pieces of the MP3, and how many were encoded now

    def summary(self) -> str:
        return (f"master: {self.duration:.1f} s, {self.loudness:.1f} LUFS, "
                f"{self.true_peak:.1f} dBTP (peaks limited by up to {self.limited:.1f} dB); "
                f"{self.measured} of {self.pieces} stretches measured now, the rest cached; "
                f"segments: {self.synthesised} synthesised, {self.cached} from cache, "
                f"{self.recorded} recorded; the MP3: {self.mp3} pieces encoded now; the video's "
                f"sound: {self.sound} pieces encoded now; the rest kept")


def _say(message: str) -> None:
    print(f"master: {message}", file=sys.stderr, flush=True)


def _check(timeline: Timeline, lay: music.Layout, path: Path) -> None:
    if abs(timeline.duration - lay.duration) > 0.002:
        raise PipelineError("does not match narration.wav", path, rebuild_hint(path))


def episode_pieces(episode: Episode, narration: np.ndarray, rate: int, lay: music.Layout,
                   cache: FigureCache) -> tuple[list[Piece], list[Blocks], tuple[int, int]]:
    """The episode in measured pieces, the music in the first and last; and how many
    stretches were measured now, of how many."""
    out_rate = episode.settings.audio.sample_rate
    speech = speech_pieces(narration, rate, out_rate, lay.offset)
    if not speech:
        wav = episode.build / "narration.wav"
        raise PipelineError("the narration is silent", wav, rebuild_hint(wav))
    total = int(round(lay.duration * out_rate))
    blocks, fresh = measured(speech, out_rate, cache)
    if not lay.music:
        return speech, blocks, (fresh, len(speech))
    sample = [p for p in speech if p.start < (lay.offset + SPEECH_SAMPLE) * out_rate]
    speech_lufs = Levels(sample, blocks[: len(sample)], out_rate, total).loudness(0.0, None)
    beds = music_beds(lay, lay.offset + len(narration) / rate, speech_lufs, out_rate,
                      episode.settings.voice.seed, episode.assets)
    pieces = with_music(speech, beds)
    assert beds.total == total
    blocks, more = measured(pieces, out_rate, cache)
    return pieces, blocks, (fresh + more, len(speech) + len(pieces))


def video_sound(episode: Episode, timeline: Timeline, m4a: Path, tmp: Path,
                samples: Samples) -> Count:
    """build/episode.m4a, the video's sound, from the samples the MP3 is encoded from; the
    cache of its pieces keeps this build's and nothing else."""
    sound = aac.Sound(samples, episode.settings.audio.sample_rate,
                      [s.start for s in timeline.segments], episode.settings.video.audio_bitrate)
    _say("encoding the video's sound")
    cache = Pieces(episode.build / AAC_CACHE)
    made = aac.encode(sound, m4a, cache, tmp)
    cache.prune()
    return made


def run(episode: Episode) -> MasterResult:
    """Write build/episode.mp3, build/episode.m4a and build/chapters.json for `episode`."""
    settings = episode.settings.audio
    timeline = Timeline.read(episode.build)
    wav = require(episode.build / "narration.wav")
    narration, rate = read_wav(wav)
    lay = music.layout(len(narration) / rate, settings)
    _check(timeline, lay, episode.build / "timeline.json")
    pieces, blocks, (fresh, looked_up) = episode_pieces(episode, narration, rate, lay,
                                                        FigureCache())
    total = int(round(lay.duration * settings.sample_rate))
    levels = Levels(pieces, blocks, settings.sample_rate, total)
    mp3_cache = Pieces(episode.build / MP3_CACHE)
    # the background thread is waited for before either file is renamed or removed
    with (tempfile.TemporaryDirectory(prefix="master-") as tmp,
          fsutil.atomic_path(episode.build / "episode.mp3") as out,
          fsutil.atomic_path(episode.build / "episode.m4a") as m4a,
          ThreadPoolExecutor(max_workers=1) as background):
        start = partial(background.submit, video_sound, episode, timeline, m4a, Path(tmp))
        job = Job(pieces, levels, id3_tags(episode, timeline), total, settings, wav, Path(tmp),
                  start, mp3_cache)
        done = encode(job, out)
        sound = done.sound.result()
    mp3_cache.prune()
    Chapters.of(timeline).write(episode.build)
    sources = [s.source == "recording" or s.cached for s in timeline.segments]
    recorded = sum(1 for s in timeline.segments if s.source == "recording")
    return MasterResult(lay.duration, done.loudness, done.true_peak, done.limited,
                        looked_up, fresh, sources.count(False),
                        sources.count(True) - recorded, recorded, sound, done.pieces)


@stage_command("master")
def command(episode: Episode) -> MasterResult:
    """Music, loudness, MP3, tags and chapters, and the video's sound: build/episode.mp3,
    build/episode.m4a and build/chapters.json."""
    return run(episode)
