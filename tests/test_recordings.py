"""The producer's recordings through pydub: real files of every usual format made with
ffmpeg, trimmed, searched for clipping, and refused when silent or unreadable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pydantic
import pytest
from scipy.io import wavfile

from pipeline.errors import PipelineError
from pipeline.formats import Recording
from pipeline.media.audio import decode_pcm, decode_pcm_argv
from pipeline.media.recordings import TRIM_KEEP_MS, import_recording

RATE = 48000
LEAD, TONE, TRAIL = 0.5, 2.0, 0.7  # seconds of silence, tone, silence
KEEP = TRIM_KEEP_MS / 1000
FORMATS = {  # file name -> ffmpeg output options
    "16bit.wav": ["-c:a", "pcm_s16le"],
    "24bit.wav": ["-c:a", "pcm_s24le"],
    "stereo.flac": ["-af", "pan=stereo|c0=c0|c1=c0", "-sample_fmt", "s32"],
    "quad.wav": ["-af", "pan=4.0|c0=c0|c1=c0|c2=c0|c3=c0", "-c:a", "pcm_s16le"],
    "lame.mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "aac.m4a": ["-c:a", "aac", "-b:a", "128k"],
    "opus.ogg": ["-c:a", "libopus", "-b:a", "64k"],
}


def ffmpeg(src: list[str], out: Path, options: list[str]) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *src, *options, str(out)],
                   check=True)
    return out


def tone(path: Path, expr: str, seconds: float = LEAD + TONE + TRAIL,
         options: tuple[str, ...] = ("-c:a", "pcm_s16le")) -> Path:
    """`expr` (of t) between LEAD and LEAD + TONE, silence around it."""
    body = f"if(between(t,{LEAD},{LEAD + TONE}),{expr},0)"
    return ffmpeg(["-f", "lavfi", "-i", f"aevalsrc='{body}':s={RATE}:d={seconds}"], path,
                  list(options))


@pytest.fixture(scope="module")
def clean_wav(tmp_path_factory) -> Path:
    return tone(tmp_path_factory.mktemp("rec") / "clean.wav", "0.5*sin(2*PI*220*t)")


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_is_trimmed_at_its_silence(clean_wav, tmp_path, name):
    path = ffmpeg(["-i", str(clean_wav)], tmp_path / name, FORMATS[name])
    audio, report = import_recording(path, "robots", 44100)
    assert (report.file, report.section) == (name, "robots")
    assert report.seconds == pytest.approx(LEAD + TONE + TRAIL, abs=0.01)
    assert report.trimmed_start == pytest.approx(LEAD - KEEP, abs=0.02)
    assert report.trimmed_end == pytest.approx(TRAIL - KEEP, abs=0.05)
    assert report.kept_seconds == pytest.approx(
        report.seconds - report.trimmed_start - report.trimmed_end, abs=0.002)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / 44100 == pytest.approx(report.kept_seconds, abs=0.001)
    middle = audio[int(0.1 * 44100):-int(0.1 * 44100)]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.06)
    assert report.peak_dbfs == pytest.approx(-6.0, abs=0.6)
    assert (report.clipped_runs, report.clipped_samples, report.first_clips) == (0, 0, [])
    assert report.verdict.startswith("ok: peak -")


def test_a_24_bit_recording_keeps_its_24_bits(tmp_path):
    path = tone(tmp_path / "24.wav", "0.3*sin(2*PI*220*t)", options=("-c:a", "pcm_s24le"))
    pcm, rate = decode_pcm(path)
    assert (rate, pcm.shape[1], pcm.dtype) == (RATE, 1, np.int32)
    assert np.any(pcm & 0xFF00)  # bits below the 16th are there
    audio, _ = import_recording(path, "robots", RATE)
    t = (np.arange(len(audio)) + int((LEAD - KEEP) * RATE)) / RATE
    inside = (t > LEAD + 0.01) & (t < LEAD + TONE - 0.01)
    error = audio[inside] - 0.3 * np.sin(2 * np.pi * 220 * t[inside])
    assert np.max(np.abs(error)) < 2**-22  # 16 bits would leave errors up to 2**-16


def test_pcm_decoding_is_one_argument_list():
    assert decode_pcm_argv(Path("a b.flac")) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "a b.flac", "-map", "0:a:0", "-f", "wav",
        "-acodec", "pcm_s32le", "-map_metadata", "-1", "-", "-v", "error"]


# -- clipping --------------------------------------------------------------------------------

CLIPPED = "max(-1,min(1,1.5*sin(2*PI*220*t)))"
# 1.5 sin(x) is past full scale while |sin x| > 2/3: 53.5 % of each half cycle of 220 Hz
RUN = (1 - 2 / np.pi * np.arcsin(2 / 3)) * RATE / 440
FIRST = LEAD + np.arcsin(2 / 3) / (2 * np.pi * 220)


@pytest.mark.parametrize("options", [("-c:a", "pcm_s16le"), ("-c:a", "flac",
                                                             "-sample_fmt", "s32")])
def test_a_clipped_recording_is_reported_not_refused(tmp_path, options):
    ext = "flac" if "flac" in options else "wav"
    path = tone(tmp_path / f"1.{ext}", CLIPPED, options=options)
    audio, report = import_recording(path, "robots", RATE)
    assert len(audio) == pytest.approx((TONE + 2 * KEEP) * RATE, abs=RATE * 0.01)
    assert report.clipped_runs == 2 * 220 * TONE  # a flat top at every crest and trough
    assert report.longest_run in (int(RUN), int(RUN) + 1)
    assert report.clipped_samples == pytest.approx(report.clipped_runs * RUN, rel=0.02)
    assert len(report.first_clips) == 5
    assert report.first_clips[0] == pytest.approx(FIRST, abs=0.001)  # in ms
    assert np.diff(report.first_clips) == pytest.approx(1 / 440, abs=0.001)
    assert report.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert report.clipped and report.verdict.startswith(f"clipped: {report.clipped_runs} runs")
    assert "\n" not in report.verdict


def test_a_tone_that_only_touches_full_scale_is_not_clipping(tmp_path):
    path = tone(tmp_path / "1.wav", "0.99999*sin(2*PI*220*t)", options=("-c:a", "pcm_s24le"))
    _, report = import_recording(path, "robots", RATE)
    assert report.peak_dbfs > -0.001
    assert (report.clipped_runs, report.clipped_samples) == (0, 0)


def test_the_report_is_the_typed_stage_file_part(clean_wav, tmp_path):
    _, report = import_recording(clean_wav, "intro", RATE)
    assert Recording.model_validate_json(report.model_dump_json()) == report
    with pytest.raises(pydantic.ValidationError):
        report.section = "robots"  # type: ignore[misc]


# -- refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expr", [("silent.flac", "0"),
                                        ("hiss.mp3", "0.0003*(random(0)-0.5)")])
def test_a_silent_recording_is_one_line_naming_it(tmp_path, name, expr):
    path = tone(tmp_path / name, expr, options=())
    with pytest.raises(PipelineError) as err:
        import_recording(path, "robots", RATE)
    line = err.value.line()
    assert line.startswith(f"{path}: the recording is silent: no 10 ms of it is louder than")
    assert "record it again" in line and "\n" not in line


@pytest.mark.parametrize("name, make", [
    ("robots.m4a", lambda p: p.write_bytes(b"\x00\x00\x00\x18ftypM4A not really")),
    ("1.wav", lambda p: ffmpeg(["-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.1",
                                "-frames:v", "1"], p.with_suffix(".png"), []).rename(p)),
])
def test_a_file_ffmpeg_cannot_read_is_one_line_naming_it(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    with pytest.raises(PipelineError) as err:
        import_recording(path, "robots", RATE)
    line = err.value.line()
    assert line.startswith(f"{path}: ffmpeg cannot read the audio: ")
    assert line.endswith("(export it again as WAV or FLAC, or remove it to synthesise that "
                         "section)")
    assert "\n" not in line


# -- real speech -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("ext", ["flac", "mp3"])
def test_real_speech_on_a_noise_floor_loses_no_word(tmp_path, ext):
    from pipeline.config import VoiceSettings
    from pipeline.speech.voices import get_voice

    voice = get_voice("hibari")
    speech = voice.synthesize("Robots learn to stack blocks.", VoiceSettings(engine="hibari"))
    speech = speech / np.max(np.abs(speech)) * 0.7
    rate, pad = voice.sample_rate, int(0.6 * voice.sample_rate)
    noise = np.random.default_rng(1).normal(0, 10 ** (-65 / 20), len(speech) + 2 * pad)
    take = noise + np.concatenate([np.zeros(pad), speech, np.zeros(pad)])
    wavfile.write(tmp_path / "take.wav", rate, take.astype(np.float32))
    path = ffmpeg(["-i", str(tmp_path / "take.wav")], tmp_path / f"1.{ext}", [])
    _, report = import_recording(path, "robots", rate)
    loud = np.flatnonzero(np.abs(speech) > 10 ** (-45 / 20))
    first, last = (pad + loud[0]) / rate, (pad + loud[-1]) / rate
    assert first - 0.1 < report.trimmed_start < first  # most of the silence, none of a word
    assert last < report.seconds - report.trimmed_end < last + 0.1
    assert report.trimmed_start > 0.6 and report.trimmed_end > 0.6
