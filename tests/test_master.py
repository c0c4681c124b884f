"""Stage master: music, loudness, MP3, ID3 tags and chapters, measured independently:
the MP3 decoded by ffmpeg here, loudness by pyloudnorm, true peak 4x oversampled."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from narrate_fixtures import make_project
from PIL import Image
from scipy.signal import resample_poly

from pipeline.config import AudioSettings
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, TimedSection, Timeline
from pipeline.media import music
from pipeline.media.loudness import LoudnormMeasurement, integrated_and_peak, parse_loudnorm
from pipeline.stages import master as stage
from pipeline.stages import narrate
from tests import builders

LOUDNORM_STDERR = """[Parsed_loudnorm_0 @ 0x55] \n{\n\t"input_i" : "-27.61",
\t"input_tp" : "-4.47",\n\t"input_lra" : "18.06",\n\t"input_thresh" : "-39.20",
\t"output_i" : "-16.58",\n\t"output_tp" : "-1.50",\n\t"output_lra" : "14.78",
\t"output_thresh" : "-27.71",\n\t"normalization_type" : "dynamic",
\t"target_offset" : "0.58"\n}\n"""

EBUR128_STDERR = """[Parsed_ebur128_0 @ 0x5] t: 18.7  TARGET:-23 LUFS    M: -17.0 S: -16.2
[Parsed_ebur128_0 @ 0x5] Summary:

  Integrated loudness:
    I:         -16.1 LUFS
    Threshold: -26.6 LUFS

  True peak:
    Peak:       -1.6 dBFS
"""


# -- pure parts -----------------------------------------------------------------------------

def test_measure_argv():
    assert stage.measure_argv("mix.wav", AudioSettings()) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "mix.wav", "-filter_complex",
        "[0]apad=pad_dur=3[s0];[s0]loudnorm=I=-16.00:LRA=50:TP=-1.50:print_format=json[s1]",
        "-map", "[s1]", "-f", "null", "-"]


def test_encode_argv_is_linear_with_the_measured_values():
    measured = parse_loudnorm(LOUDNORM_STDERR)
    limiter = stage.limiter_filter(-6.0, 6.0)
    assert stage.encode_argv("mix.wav", "out.mp3", AudioSettings(bitrate="96k"), measured,
                             limiter) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "mix.wav", "-filter_complex",
        "[0]alimiter=latency=1:level=disabled:level_in=1.995262:limit=0.501187[s0];"
        "[s0]loudnorm=I=-16.00:LRA=19.1:TP=-1.50:linear=true:measured_I=-27.61:"
        "measured_LRA=18.06:measured_TP=-4.47:measured_thresh=-39.20:offset=0.58:"
        "print_format=json[s1]",
        "-map", "[s1]", "-f", "mp3", "-b:a", "96k", "-ac", "1", "-ar", "44100", "-bitexact",
        "-c:a", "libmp3lame", "-id3v2_version", "0", "-map_metadata", "-1",
        "-write_id3v1", "0", "out.mp3", "-y"]


def test_limiter_filter_is_absent_when_not_needed_and_clamped_to_alimiter_range():
    assert stage.limiter_filter(None) is None
    limiter = stage.limiter_filter(-40.0, 50.0)
    assert limiter == stage.Limiter(level_in=64.0, limit=0.0625)
    assert limiter.options() == {
        "level_in": "64.000000", "limit": "0.062500", "level": "disabled", "latency": "1"}


def test_next_ceiling_starts_under_the_target_then_steps_down_further_than_the_excess():
    settings = AudioSettings()
    first = stage.next_ceiling(None, 9.0, settings)
    assert first == pytest.approx(-1.0 - stage.MP3_MARGIN - stage.LIMITER_HEADROOM)
    assert stage.next_ceiling(first, 0.5, settings) == pytest.approx(first - 0.9)


def test_parsers_read_the_last_report():
    measured = parse_loudnorm("noise {\"x\": 1}\n" + LOUDNORM_STDERR)
    assert (measured.input_i, measured.target_offset) == (-27.61, 0.58)
    assert measured.normalization_type == "dynamic"
    assert integrated_and_peak(EBUR128_STDERR) == (-16.1, -1.6)
    assert stage.ebur128_argv("e.mp3") == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "e.mp3", "-filter_complex",
        "[0]ebur128=peak=true[s0]", "-map", "[s0]", "-f", "null", "-"]
    assert stage.ebur128_argv("m.wav", stage.limiter_filter(-6.0, 6.0)) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "m.wav", "-filter_complex",
        "[0]alimiter=latency=1:level=disabled:level_in=1.995262:limit=0.501187[s0];"
        "[s0]ebur128=peak=true[s1]", "-map", "[s1]", "-f", "null", "-"]
    with pytest.raises(PipelineError):
        parse_loudnorm("no json here")
    with pytest.raises(PipelineError, match="incomplete measurement.*input_lra"):
        parse_loudnorm(LOUDNORM_STDERR.replace('"input_lra"', '"lra"'))
    with pytest.raises(PipelineError, match="no summary"):
        integrated_and_peak("t: 1.0 TARGET:-23 LUFS M: -17.0 S: -16.2 I: -16.0 LUFS")


def measurement(input_i: float, input_tp: float) -> LoudnormMeasurement:
    return replace(parse_loudnorm(LOUDNORM_STDERR), input_i=input_i, input_tp=input_tp)


def test_linear_excess():
    measured = measurement(-20.0, -3.0)
    # gain +4 dB puts the peak at +1.0 dBTP against a ceiling of -1.5
    assert stage.linear_excess(measured, AudioSettings()) == pytest.approx(2.5)


def test_music_is_seeded_original_and_laid_out():
    a, b, c = music.music(2.0, 8000, 1), music.music(2.0, 8000, 1), music.music(2.0, 8000, 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(a) == 16000 and np.max(np.abs(a)) == pytest.approx(0.5)
    lay = music.layout(10.0, AudioSettings())
    assert (lay.offset, lay.duration) == (music.LEAD_IN, 10.0 + music.LEAD_IN + music.TAIL)
    bare = music.layout(10.0, AudioSettings(music=False))
    assert (bare.offset, bare.duration) == (music.BARE_LEAD_IN, 10.0 + 0.5 + 1.0)


def test_chapters_json():
    sections = [TimedSection(id="a", index=0, title="A", start=0.0, end=5.5),
                TimedSection(id="b", index=1, title="B", start=5.5, end=9.0)]
    timeline = builders.timeline([builders.timed("a/paragraph-1", 1.0, 5.0)], 9.0, sections)
    assert Chapters.of(timeline).dump() == {"version": "1.2.0", "chapters": [
        {"startTime": 0.0, "endTime": 5.5, "title": "A"},
        {"startTime": 5.5, "endTime": 9.0, "title": "B"}]}


# -- the real thing -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mastered(tmp_path_factory):
    """Narrate (real hibari) and master a five-segment episode through the CLI command."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_CACHE_DIR", str(root / "cache"))
        mp.delenv("PIPELINE_ROOT", raising=False)
        episode = make_project(root)
        Image.new("RGB", (64, 64), (200, 30, 30)).save(root / "assets" / "artwork.png")
        narrate.run(load_episode(episode))
        out = CliRunner().invoke(stage.command, [str(episode)])
        assert out.exit_code == 0, out.output
        yield episode, out.output, mp


def decoded(mp3: Path) -> np.ndarray:
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(mp3), "-f", "f32le",
                          "-ac", "1", "-ar", "44100", "-"], capture_output=True, check=True)
    return np.frombuffer(pcm.stdout, "<f4").astype(np.float64)


def timeline(episode: Path) -> Timeline:
    return Timeline.read(episode / "build")


@pytest.mark.slow
def test_loudness_and_true_peak_measured_independently(mastered):
    episode, output, _ = mastered
    audio = decoded(episode / "build" / "episode.mp3")
    lufs = pyloudnorm.Meter(44100).integrated_loudness(audio)
    peak = 20 * np.log10(np.max(np.abs(resample_poly(audio, 4, 1))))
    assert lufs == pytest.approx(-16.0, abs=1.0)
    assert peak <= -1.0
    assert "(linear)" in output


@pytest.mark.slow
def test_mp3_format_and_duration_match_the_timeline(mastered):
    episode, _, _ = mastered
    info = MP3(episode / "build" / "episode.mp3").info
    assert (info.sample_rate, info.bitrate, info.channels) == (44100, 128000, 1)
    assert info.length == pytest.approx(timeline(episode).duration, abs=0.1)
    assert len(decoded(episode / "build" / "episode.mp3")) / 44100 == pytest.approx(
        timeline(episode).duration, abs=0.1)


@pytest.mark.slow
def test_timeline_times_are_where_the_words_are_in_the_mp3(mastered):
    episode, _, _ = mastered
    audio = decoded(episode / "build" / "episode.mp3")
    segs = timeline(episode).segments

    def rms(a: float, b: float) -> float:
        return float(np.sqrt(np.mean(audio[int(a * 44100): int(b * 44100)] ** 2)))

    robots = [s for s in segs if s.section == "robots"]  # far from the music
    for a, b in zip(robots, robots[1:], strict=False):
        pause = rms(a.end + 0.05, b.start - 0.05)
        assert rms(a.start, a.end) > 10 * pause
        assert rms(b.start, b.end) > 10 * pause
    assert rms(0.5, 3.5) > 0.01  # the intro music plays before the first word


@pytest.mark.slow
def test_id3_tags_and_chapters_read_back(mastered):
    episode, _, _ = mastered
    tags = ID3(episode / "build" / "episode.mp3")
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == "A Test Episode"
    assert str(tags["TPE1"]) == "Apart Research"
    assert str(tags["TALB"]) == "ML & AI Safety Updates"
    assert str(tags["TRCK"]) == "3"
    assert "2023" in str(tags.get("TYER") or tags.get("TDRC"))
    assert tags.getall("COMM")[0].text[0].startswith("Two short sections")
    art = tags.getall("APIC")[0]
    assert art.mime == "image/png"
    assert art.data == (episode.parent.parent / "assets" / "artwork.png").read_bytes()
    sections = timeline(episode).sections
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.start_time, c.end_time, str(c.sub_frames["TIT2"])) for c in chaps] == [
        (round(s.start * 1000), round(s.end * 1000), s.title) for s in sections]
    toc = tags.getall("CTOC")[0]
    assert toc.child_element_ids == [c.element_id for c in chaps]


@pytest.mark.slow
def test_chapters_json_matches_the_timeline(mastered):
    episode, _, _ = mastered
    data = Chapters.read(episode / "build")
    sections = timeline(episode).sections
    assert data.version == "1.2.0"
    assert [(c.startTime, c.title) for c in data.chapters] == [
        (s.start, s.title) for s in sections]
    assert data.chapters[0].startTime == 0


@pytest.mark.slow
def test_summary_line(mastered):
    _, output, _ = mastered
    line = output.strip().splitlines()[-1]
    assert line.startswith("master: ") and " LUFS, " in line and " dBTP " in line
    assert "segments: 5 synthesised, 0 from cache" in line


@pytest.mark.slow
def test_without_artwork_a_warning_and_no_cover(mastered, capsys):
    episode, _, _ = mastered
    (episode.parent.parent / "assets" / "artwork.png").unlink()
    result = stage.run(load_episode(episode))
    assert "no cover art" in capsys.readouterr().err
    assert ID3(episode / "build" / "episode.mp3").getall("APIC") == []
    assert result.mode == "linear"


def dominant_hz(audio: np.ndarray, a: float, b: float) -> float:
    part = audio[int(a * 44100): int(b * 44100)]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(np.fft.rfftfreq(len(part), 1 / 44100)[np.argmax(spectrum)])


@pytest.mark.slow
def test_the_producers_own_intro_music_is_used(mastered):
    episode, _, _ = mastered
    generated = decoded(episode / "build" / "episode.mp3")
    assert abs(dominant_hz(generated, 0.5, 3.5) - 1000) > 20
    assets = episode.parent.parent / "assets"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=1000:duration=20", str(assets / "intro.flac")], check=True)
    try:
        stage.run(load_episode(episode))
    finally:
        (assets / "intro.flac").unlink()
    own = decoded(episode / "build" / "episode.mp3")
    assert dominant_hz(own, 0.5, 3.5) == pytest.approx(1000, abs=2)
    outro_start = timeline(episode).segments[-1].end + 0.5
    assert abs(dominant_hz(own, outro_start, outro_start + 2) - 1000) > 20  # still generated


def test_stale_timeline_is_refused_and_the_mp3_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    episode = make_project(tmp_path)
    build = episode / "build"
    from scipy.io import wavfile

    wavfile.write(build / "narration.wav", 24000, np.zeros(24000, np.int16))
    builders.timeline([builders.timed("robots/paragraph-1", 1.0, 2.0)], 99.0).write(build)
    (build / "episode.mp3").write_bytes(b"an earlier good file")
    with pytest.raises(PipelineError, match="timeline.json: does not match narration.wav.*narrate"):
        stage.run(load_episode(episode))
    assert (build / "episode.mp3").read_bytes() == b"an earlier good file"


def test_shifted_targets_move_together():
    moved = stage.shifted(AudioSettings(), 0.4)
    assert stage.loudnorm_filter(moved) == {
        "I": "-15.60", "TP": "-1.10", "LRA": "50", "print_format": "json"}
    assert stage.linear_excess(measurement(-20.0, -5.0), moved) == pytest.approx(
        stage.linear_excess(measurement(-20.0, -5.0), AudioSettings()))


@pytest.mark.slow
def test_the_encoder_loss_is_learned_so_a_rebuild_encodes_once(mastered, capsys):
    episode, first_output, mp = mastered
    assert stage.learned_shift(AudioSettings()) > 0.1  # the MP3 encoder lowers the level
    result = stage.run(load_episode(episode))
    assert "encoding the MP3 again" not in capsys.readouterr().err
    assert result.loudness == pytest.approx(-16.0, abs=0.2)
    assert result.true_peak <= -1.0
