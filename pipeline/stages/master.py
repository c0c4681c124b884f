"""Stage `master`: build/narration.wav + build/timeline.json -> build/episode.mp3 (music,
loudness, ID3 tags, chapters) + build/chapters.json (Podcasting 2.0 JSON chapters).

Loudness: ffmpeg's loudnorm in two passes, linear mode. The mix is first brought to the
target loudness (pyloudnorm), so what is left is the peaks: linear mode refuses a gain that
would push the true peak over the ceiling, and synthetic speech has sharp peaks (hibari's
are about 22 dB above its loudness). So a limiter (alimiter, delay compensated) sits in
front of loudnorm in both passes, and its ceiling is lowered until pass one's measurement
allows a linear gain; pass two then applies that one gain and encodes the MP3.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg
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
from scipy.io import wavfile

from pipeline.config import AudioSettings, cache_dir
from pipeline.episode import Episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, Timeline, rebuild_hint, require
from pipeline.media import music
from pipeline.media.audio import decode, loudness, read_wav, resample
from pipeline.media.ffmpeg import INSTALL, compile_argv
from pipeline.media.ffmpeg import run as run_ffmpeg
from pipeline.media.loudness import LoudnormMeasurement, integrated_and_peak, parse_loudnorm
from pipeline.stages import stage_command
from pipeline.util import fsutil

MUSIC_BELOW = 8.0  # the music's loudness at full level, in LU below the voice
MP3_MARGIN = 0.5  # dB kept below the true-peak ceiling for the MP3 encoder's overshoot
FIX = f"check that ffmpeg has loudnorm, alimiter and libmp3lame; {INSTALL}"
LOUDNESS_SLACK = 0.2  # LU off target that the MP3 may be before it is encoded again
MAX_SHIFT = 1.0  # dB at most that the targets move for that second encoding
LIMITER_TRIES = 6  # measurements at most while lowering the limiter's ceiling
LIMITER_HEADROOM = 0.3  # dB: the limiter's first ceiling, under loudnorm's true-peak target
SILENT_LUFS = -69.0  # a mix quieter than this is taken for silence
SPEECH_SAMPLE = 120  # seconds of narration measured to set the music's level
# Lowering the ceiling also lowers the loudness (which the linear gain then makes up, peaks
# included); seen on hibari speech: about 0.4 dB per dB, so each step goes 1/(1-0.4) further.
LIMITER_STEP = 1.6


# -- ffmpeg argv (pure) ---------------------------------------------------------------------

@dataclass(frozen=True)
class Limiter:
    """alimiter: a gain, then a look-ahead limiter; delay compensated (times are kept) and
    without alimiter's own level adjustment after it."""

    level_in: float  # the gain before the limiter, linear, within alimiter's 1/64..64
    limit: float  # the ceiling, linear, within alimiter's 1/16..1

    def options(self) -> dict[str, str]:
        return {"level_in": f"{self.level_in:.6f}", "limit": f"{self.limit:.6f}",
                "level": "disabled", "latency": "1"}


def limiter_filter(ceiling_db: float | None, gain_db: float = 0.0) -> Limiter | None:
    """A gain of `gain_db`, then a look-ahead limiter at `ceiling_db` dBFS; nothing when the
    peaks are fine."""
    if ceiling_db is None:
        return None
    return Limiter(level_in=min(64.0, max(0.015625, 10 ** (gain_db / 20))),
                   limit=min(1.0, max(0.0625, 10 ** (ceiling_db / 20))))


def linear_excess(measured: LoudnormMeasurement, audio: AudioSettings) -> float:
    """How many dB the true peak would exceed loudnorm's ceiling after the linear gain
    (loudnorm falls back to dynamic mode when this is positive)."""
    gain = audio.loudness_lufs - measured.input_i
    return measured.input_tp + gain - (audio.true_peak_db - MP3_MARGIN)


def loudnorm_filter(audio: AudioSettings,
                    measured: LoudnormMeasurement | None = None) -> dict[str, str]:
    """loudnorm's options: pass one (measure) without `measured`, pass two (linear) with
    pass one's figures as loudnorm printed them."""
    target_tp = audio.true_peak_db - MP3_MARGIN
    opts = {"I": f"{audio.loudness_lufs:.2f}", "TP": f"{target_tp:.2f}", "LRA": "50",
            "print_format": "json"}
    if measured is not None:
        # linear mode is refused when the measured range exceeds the target range
        lra = min(50.0, max(1.0, measured.input_lra + 1))
        opts |= {"LRA": f"{lra:.1f}", "measured_I": f"{measured.input_i:.2f}",
                 "measured_TP": f"{measured.input_tp:.2f}",
                 "measured_LRA": f"{measured.input_lra:.2f}",
                 "measured_thresh": f"{measured.input_thresh:.2f}",
                 "offset": f"{measured.target_offset:.2f}", "linear": "true"}
    return opts


def _limited(src: Path | str, limiter: Limiter | None) -> Any:
    """The source's audio, through the limiter when there is one."""
    audio = ffmpeg.input(str(src))
    return audio.filter("alimiter", **limiter.options()) if limiter else audio


def measure_argv(src: Path | str, audio: AudioSettings,
                 limiter: Limiter | None = None) -> list[str]:
    """Pass one: measure the loudness, write nothing. loudnorm's first pass leaves the
    last seconds it holds at the end of the stream unmeasured: padding it with silence,
    which the loudness gate ignores, gets all of the audio measured."""
    padded = _limited(src, limiter).filter("apad", pad_dur=3)
    measured = padded.filter("loudnorm", **loudnorm_filter(audio))
    return compile_argv(measured.output("-", format="null"))


def encode_argv(src: Path | str, dst: Path | str, audio: AudioSettings,
                measured: LoudnormMeasurement, limiter: Limiter | None = None) -> list[str]:
    """Pass two: one linear gain, then an MP3 with fixed flags and no tags of its own."""
    gained = _limited(src, limiter).filter("loudnorm", **loudnorm_filter(audio, measured))
    mp3 = gained.output(str(dst), format="mp3", ar=audio.sample_rate, ac=audio.channels,
                        audio_bitrate=audio.bitrate, map_metadata=-1, id3v2_version=0,
                        write_id3v1=0, bitexact=None, **{"c:a": "libmp3lame"})
    return compile_argv(mp3.overwrite_output())


def ebur128_argv(src: Path | str, limiter: Limiter | None = None) -> list[str]:
    """Integrated loudness and true peak (ITU-R BS.1770) of a file, after the limiter if
    given: a quarter of loudnorm's time, so the limiter is fitted with it."""
    measured = _limited(src, limiter).filter("ebur128", peak="true")
    return compile_argv(measured.output("-", format="null"))


# -- the mix --------------------------------------------------------------------------------

def _music_gain(bed: np.ndarray, speech_lufs: float | None, rate: int) -> float:
    level = loudness(bed, rate)
    if level is None or speech_lufs is None:
        return 0.1
    return float(10 ** ((speech_lufs - MUSIC_BELOW - level) / 20))


def own_music(assets: Path, name: str) -> Path | None:
    """The producer's `assets/<name>.*` music file, if there is one."""
    found = sorted(p for p in assets.glob(f"{name}.*") if p.is_file())
    return found[0] if found else None


def _source(assets: Path | None, name: str, rate: int) -> music.Source:
    path = own_music(assets, name) if assets else None
    return decode(path, rate, "export it again as WAV or FLAC") if path else None


def mix(narration: np.ndarray, lay: music.Layout, rate: int, seed: int,
        assets: Path | None = None) -> np.ndarray:
    """The episode before loudness: the narration at its offset, music under its edges."""
    total = int(round(lay.duration * rate))
    out = np.zeros(total, np.float32)
    start = int(round(lay.offset * rate))
    out[start : start + len(narration)] = narration[: total - start]
    if not lay.music:
        return out
    speech_lufs = loudness(narration[: SPEECH_SAMPLE * rate], rate)
    intro = music.intro_bed(lay, rate, seed, _source(assets, "intro", rate))
    out[: len(intro)] += _music_gain(intro[:start], speech_lufs, rate) * intro[:total]
    at, outro = music.outro_bed(lay.offset + len(narration) / rate, lay, rate, seed,
                                _source(assets, "outro", rate))
    alone = outro[int(music.RISE_UNDER * rate): len(outro) - int(music.FADE_OUT * rate)]
    gain = _music_gain(alone, speech_lufs, rate)
    out[at : at + len(outro)] += gain * outro[: total - at]
    return out


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


# -- the stage ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MasterResult:
    duration: float
    loudness: float  # LUFS, measured on the MP3 by ffmpeg's ebur128
    true_peak: float  # dBTP, the same
    mode: str  # loudnorm's normalization_type: linear or dynamic
    synthesised: int
    cached: int
    recorded: int

    def summary(self) -> str:
        return (f"master: {self.duration:.1f} s, {self.loudness:.1f} LUFS, "
                f"{self.true_peak:.1f} dBTP ({self.mode}); segments: {self.synthesised} "
                f"synthesised, {self.cached} from cache, {self.recorded} recorded")


def _say(message: str) -> None:
    print(f"master: {message}", file=sys.stderr, flush=True)


def _measure(wav: Path, settings: AudioSettings,
             limiter: Limiter | None) -> LoudnormMeasurement:
    result = run_ffmpeg(measure_argv(wav, settings, limiter),
                        "ffmpeg's loudness measurement failed", wav, FIX)
    return parse_loudnorm(result.stderr)


def _ebur128(src: Path, limiter: Limiter | None = None) -> tuple[float, float]:
    result = run_ffmpeg(ebur128_argv(src, limiter), "ffmpeg's loudness measurement failed",
                        src, FIX)
    return integrated_and_peak(result.stderr)


def next_ceiling(ceiling: float | None, excess: float, settings: AudioSettings) -> float:
    """The limiter's next ceiling (dBFS, after its gain) given how far the peaks were over."""
    if ceiling is None:
        return settings.true_peak_db - MP3_MARGIN - LIMITER_HEADROOM
    return ceiling - LIMITER_STEP * excess - 0.1


def fit_limiter(wav: Path,
                settings: AudioSettings) -> tuple[Limiter | None, LoudnormMeasurement]:
    """The limiter that lets loudnorm stay linear, and pass one's measurement through it.
    The ceiling is found with ebur128, then loudnorm's own pass one confirms it."""
    lufs, peak = _ebur128(wav)
    if lufs < SILENT_LUFS:
        raise PipelineError("the narration is silent", wav, rebuild_hint(wav))
    gain, ceiling, limiter = settings.loudness_lufs - lufs, None, None
    for attempt in range(LIMITER_TRIES):
        excess = peak + settings.loudness_lufs - lufs - (settings.true_peak_db - MP3_MARGIN)
        if excess <= 0:
            measured = _measure(wav, settings, limiter)
            excess = linear_excess(measured, settings)
            if excess <= 0 or attempt == LIMITER_TRIES - 1:
                return limiter, measured
        ceiling = next_ceiling(ceiling, excess, settings)
        limiter = limiter_filter(ceiling, gain)
        lufs, peak = _ebur128(wav, limiter)
    return limiter, _measure(wav, settings, limiter)


def _encode(wav: Path, dst: Path, settings: AudioSettings, measured: LoudnormMeasurement,
            limiter: Limiter | None) -> str:
    """Pass two; loudnorm's normalization type (linear unless the limiter ran out)."""
    result = run_ffmpeg(encode_argv(wav, dst, settings, measured, limiter),
                 "ffmpeg's MP3 encoding failed", dst, FIX)
    return parse_loudnorm(result.stderr).normalization_type


def shifted(settings: AudioSettings, db: float) -> AudioSettings:
    """Loudness and peak targets both moved by `db`."""
    return settings.model_copy(update={"loudness_lufs": settings.loudness_lufs + db,
                                       "true_peak_db": settings.true_peak_db + db})


def _loss_path() -> Path:
    return cache_dir() / "master" / "encoder-loss.json"


def _loss_key(settings: AudioSettings) -> str:
    return f"{settings.bitrate}-{settings.sample_rate}-{settings.channels}"


def learned_shift(settings: AudioSettings) -> float:
    """The shift that made the last MP3 at these encoder settings hit its target."""
    try:
        data = json.loads(_loss_path().read_text(encoding="utf-8"))
        return float(data.get(_loss_key(settings), 0.0))
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def remember_shift(settings: AudioSettings, shift: float) -> None:
    path = _loss_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    fsutil.write_json(path, {**data, _loss_key(settings): round(shift, 3)})


def _clamp(shift: float) -> float:
    return max(-MAX_SHIFT, min(MAX_SHIFT, shift))


def encode(wav: Path, mp3: Path, settings: AudioSettings) -> tuple[float, float, str]:
    """Normalise and encode. MP3's quantiser lowers the level a little, evenly (about
    0.45 dB at 128k mono), so both targets are moved by the shift that was right last
    time at these encoder settings; when the MP3 still misses by more than a little it is
    encoded again with the miss added (the linear gain then stays legal).
    Returns the MP3's (LUFS, dBTP) and loudnorm's mode."""
    _say("measuring loudness and peaks")
    limiter, measured = fit_limiter(wav, settings)
    shift = learned_shift(settings)
    _say("encoding the MP3")
    mode = _encode(wav, mp3, shifted(settings, shift), measured, limiter)
    lufs, peak = _ebur128(mp3)
    miss = settings.loudness_lufs - lufs
    if abs(miss) > LOUDNESS_SLACK:
        _say(f"encoding the MP3 again, {miss:+.1f} dB for the encoder's loss")
        shift = _clamp(shift + miss)
        mode = _encode(wav, mp3, shifted(settings, shift), measured, limiter)
        lufs, peak = _ebur128(mp3)
    remember_shift(settings, _clamp(shift + settings.loudness_lufs - lufs))
    return lufs, peak, mode


def _check(timeline: Timeline, lay: music.Layout, path: Path) -> None:
    if abs(timeline.duration - lay.duration) > 0.002:
        raise PipelineError("does not match narration.wav", path, rebuild_hint(path))


def run(episode: Episode) -> MasterResult:
    """Write build/episode.mp3 and build/chapters.json for `episode`."""
    settings = episode.settings.audio
    timeline = Timeline.read(episode.build)
    narration, rate = read_wav(require(episode.build / "narration.wav"))
    lay = music.layout(len(narration) / rate, settings)
    _check(timeline, lay, episode.build / "timeline.json")
    out_rate = settings.sample_rate
    mixed = mix(resample(narration, rate, out_rate), lay, out_rate, episode.settings.voice.seed,
                episode.assets)
    with tempfile.TemporaryDirectory(prefix="master-") as tmp:
        mix_path = Path(tmp) / "mix.wav"
        wavfile.write(mix_path, out_rate, mixed)  # float: peaks over full scale survive
        with fsutil.atomic_path(episode.build / "episode.mp3") as mp3:
            lufs, peak, mode = encode(mix_path, mp3, settings)
            id3_tags(episode, timeline).save(mp3, v2_version=3)
    Chapters.of(timeline).write(episode.build)
    sources = [s.source == "recording" or s.cached for s in timeline.segments]
    recorded = sum(1 for s in timeline.segments if s.source == "recording")
    return MasterResult(lay.duration, lufs, peak, mode, sources.count(False),
                        sources.count(True) - recorded, recorded)


@stage_command("master")
def command(episode: Episode) -> MasterResult:
    """Music, loudness, MP3, tags and chapters: build/episode.mp3 and build/chapters.json."""
    return run(episode)
