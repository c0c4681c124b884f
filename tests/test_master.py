"""Stage master: music, loudness, MP3, ID3 tags and chapters, measured independently:
the MP3 decoded by ffmpeg here, loudness by pyloudnorm, true peak 4x oversampled."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from click.testing import CliRunner
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from narrate_fixtures import make_project, write_script
from PIL import Image
from scipy.signal import resample_poly

from pipeline.config import AudioSettings
from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Chapters, TimedSection, Timeline
from pipeline.media import mixdown, music
from pipeline.media.audio import apply_gain, islands, limiter_gain, write_wav
from pipeline.media.loudness import fine_block, integrated, measure
from pipeline.stages import master as stage
from pipeline.stages import narrate
from tests import builders

RATE = 44100
VOICE_RATE = 24000


# -- pure parts -----------------------------------------------------------------------------

def voice_like(seconds: float, seed: int, rate: int = VOICE_RATE) -> np.ndarray:
    """Harmonics under a syllable-rate envelope, with a few single-sample clicks: peaks far
    above the loudness, as a synthetic voice has."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tones = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / k
                for k, f in enumerate(rng.uniform(110, 3000, 8), 1))
    out = 0.05 * tones * np.sin(np.pi * 4 * t) ** 2
    out[rng.choice(len(t), 4, replace=False)] = 0.9
    return out.astype(np.float32)


def joined(*parts: np.ndarray, pause: float = 0.6, rate: int = VOICE_RATE) -> np.ndarray:
    gap = np.zeros(int(pause * rate), np.float32)
    return np.concatenate([x for part in parts for x in (part, gap)][:-1])


def test_measured_blocks_give_pyloudnorms_integrated_loudness():
    audio = np.concatenate([voice_like(3.0, 1, RATE), 0.3 * voice_like(2.0, 2, RATE)])
    assert len(audio) % (RATE // 10) == 0  # pyloudnorm's last block is then a whole one
    ours = integrated(measure(audio, RATE).energy, RATE, len(audio))
    assert ours == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(
        audio.astype(np.float64)), abs=1e-9)


def test_pieces_measured_on_their_own_add_up_to_the_whole_exactly():
    """Each piece is measured alone, starting at rest; laid out on the fine-block grid
    their figures give the gated loudness of the whole episode (BS.1770's 400 ms blocks
    straddle the pieces and the pauses) and its true peak."""
    narration = joined(voice_like(2.0, 1), voice_like(1.0, 2), 0.2 * voice_like(2.5, 3))
    pieces = stage.speech_pieces(narration, VOICE_RATE, RATE, offset=0.5)
    assert len(pieces) == 3
    fine = fine_block(RATE)
    assert all(p.start % fine == 0 for p in pieces)
    total = (pieces[-1].end // (RATE // 10) + 10) * (RATE // 10)  # whole 100 ms: no partial
    whole = np.zeros(total, np.float32)
    for p in pieces:
        whole[p.start : p.end] += p.audio
    levels = stage.Levels(pieces, [measure(p.audio, RATE) for p in pieces], RATE, total)
    expected = pyloudnorm.Meter(RATE).integrated_loudness(whole.astype(np.float64))
    assert levels.loudness(0.0, None) == pytest.approx(expected, abs=1e-6)
    assert levels.blocks.peak.max() == pytest.approx(measure(whole, RATE).peak.max())


def test_a_piece_sits_within_half_a_fine_block_of_its_time():
    narration = joined(voice_like(1.0, 1), voice_like(1.0, 2))
    pieces = stage.speech_pieces(narration, VOICE_RATE, RATE, offset=4.0)
    second = int(1.6 * VOICE_RATE)  # the second part's first sample in the narration
    exact = (4.0 + second / VOICE_RATE - mixdown.PAD) * RATE
    assert abs(pieces[1].start - exact) <= fine_block(RATE) / 2 + 1
    moved = stage.speech_pieces(np.concatenate([np.zeros(777, np.float32), narration]),
                                VOICE_RATE, RATE, offset=4.0)
    assert [p.key for p in moved] == [p.key for p in pieces]  # shifted, same
    assert moved[1].start != pieces[1].start


def test_islands_split_at_runs_of_zeros_of_the_gap_or_longer():
    audio = np.array([0, 0, 1, 2, 0, 3, 0, 0, 0, 4, 0, 0], np.float32)
    assert islands(audio, 3) == [(2, 6), (9, 10)]
    assert islands(audio, 1) == [(2, 4), (5, 6), (9, 10)]
    assert islands(audio, 4) == [(2, 10)]
    assert islands(np.zeros(5), 2) == []


def test_limiter_gain_keeps_every_block_and_its_neighbours_under_the_ceiling():
    rng = np.random.default_rng(3)
    peaks = rng.uniform(0.0, 0.5, 400)
    peaks[[50, 51, 200, 330]] = [2.0, 1.5, 4.0, 1.2]
    gain = limiter_gain(peaks, 1.0, hold=6, smooth=4)
    for i in range(1, len(peaks) - 1):
        assert max(gain[i - 1 : i + 2]) * peaks[i] <= 1.0 + 1e-12
    assert gain[200] == pytest.approx(0.25)
    assert np.all(gain[:35] == 1.0) and np.all(gain[220:320] == 1.0)  # far from a peak
    assert np.max(np.abs(np.diff(gain))) <= 0.75 / 9 + 1e-12  # ramps over 2 * smooth + 1


def test_apply_gain_interpolates_between_block_centres():
    audio = np.ones(50, np.float32)
    gains = np.array([1.0, 0.5, 0.5, 1.0, 1.0])
    out = apply_gain(audio, gains, 10)
    assert out == pytest.approx(np.interp(np.arange(50), np.arange(5) * 10 + 4.5, gains))


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
    assert "peaks limited by up to" in output


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
    chaps = tags.getall("CHAP")  # in the order the file holds them
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
    assert " stretches measured now, the rest cached" in line


@pytest.mark.slow
def test_without_artwork_a_warning_and_no_cover(mastered, capsys):
    episode, _, _ = mastered
    (episode.parent.parent / "assets" / "artwork.png").unlink()
    result = stage.run(load_episode(episode))
    assert "no cover art" in capsys.readouterr().err
    assert ID3(episode / "build" / "episode.mp3").getall("APIC") == []
    assert result.measured == 0  # the audio is what it was: every piece came from the cache


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


@pytest.mark.slow
def test_a_narrated_edit_remasters_to_the_bytes_of_a_cold_build(mastered, tmp_path,
                                                                 monkeypatch):
    """One paragraph edited and narrated again (real hibari): master measures that
    paragraph's piece alone (the music's level, rounded to 0.5 dB, stays), reuses the rest,
    and writes the bytes a build with empty caches writes."""
    fixture_episode, _, _ = mastered
    cache = fixture_episode.parent.parent / "cache"  # the fixture's voices and blocks
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(cache))
    episode = make_project(tmp_path)
    narrate.run(load_episode(episode))
    before = stage.run(load_episode(episode))
    assert before.measured == 0  # the fixture's own narration, pieces already measured
    write_script(episode, {"robots/paragraph-1": "Robots learn to stack red blocks."})
    narrate.run(load_episode(episode))
    edited = stage.run(load_episode(episode))
    assert edited.measured == 1
    incremental = (episode / "build" / "episode.mp3").read_bytes()
    sound = (episode / "build" / "episode.m4a").read_bytes()
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "empty-cache"))
    shutil.rmtree(episode / "build" / stage.AAC_CACHE)
    shutil.rmtree(episode / "build" / stage.MP3_CACHE)
    cold = stage.run(load_episode(episode))
    assert cold.measured > edited.measured and cold.sound.made == cold.sound.total
    assert cold.mp3.made == cold.mp3.total
    assert (episode / "build" / "episode.mp3").read_bytes() == incremental
    assert (episode / "build" / "episode.m4a").read_bytes() == sound
    audio = decoded(episode / "build" / "episode.mp3")
    assert pyloudnorm.Meter(44100).integrated_loudness(audio) == pytest.approx(-16.0, abs=0.2)


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


# -- a narration made here: pieces, the cache, an edit ---------------------------------------

def narrated(episode: Path, parts: list[np.ndarray],
             settings: AudioSettings | None = None) -> None:
    """narration.wav from `parts` (a paragraph pause apart) and a timeline that fits it."""
    audio = joined(*parts)
    build = episode / "build"
    write_wav(build / "narration.wav", audio, VOICE_RATE)
    lay = music.layout(len(audio) / VOICE_RATE, settings or AudioSettings())
    at, segments = lay.offset, []
    for n, part in enumerate(parts, 1):
        segments.append(builders.timed(f"robots/paragraph-{n}", round(at, 3),
                                       round(at + len(part) / VOICE_RATE, 3)))
        at += len(part) / VOICE_RATE + 0.6
    builders.timeline(segments, lay.duration, offset=lay.offset).write(build)


PARTS = [voice_like(2.0, n) for n in range(1, 6)]  # the third and fourth play without music


def master_with_cache(episode: Path, cache: Path, monkeypatch) -> stage.MasterResult:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(cache))
    return stage.run(load_episode(episode))


def test_an_edit_measures_only_what_changed_and_writes_a_cold_builds_bytes(tmp_path,
                                                                         monkeypatch):
    episode = make_project(tmp_path)
    mp3 = episode / "build" / "episode.mp3"
    narrated(episode, PARTS)
    first = master_with_cache(episode, tmp_path / "cache", monkeypatch)
    assert (first.pieces, first.measured) == (5 + 4, 5 + 2)  # speech alone, then as mixed
    narrated(episode, [*PARTS[:2], voice_like(2.5, 9), *PARTS[3:]])  # a longer third part
    edited = master_with_cache(episode, tmp_path / "cache", monkeypatch)
    # the new part, and the outro with the speech under it, moved by less than a fine block
    # (narrate moves whole grid steps); the music's level, rounded to 0.5 dB, stays
    assert edited.measured == 2
    incremental = mp3.read_bytes()
    cold = master_with_cache(episode, tmp_path / "empty-cache", monkeypatch)
    assert (cold.pieces, cold.measured) == (edited.pieces, first.measured)
    assert mp3.read_bytes() == incremental
    assert (cold.loudness, cold.true_peak) == (edited.loudness, edited.true_peak)
    assert abs(edited.loudness + 16.0) <= stage.LOUDNESS_SLACK and edited.true_peak <= -1.0


def test_the_fitted_gain_is_what_the_rendered_samples_measure(tmp_path, monkeypatch):
    """The loudness worked out from blocks after the gain and the limiter is what the
    samples put together measure (pyloudnorm), and their true peak is the ceiling's."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    episode = load_episode(make_project(tmp_path))
    narration = joined(*PARTS)
    lay = music.layout(len(narration) / VOICE_RATE, AudioSettings())
    pieces, blocks, _ = stage.episode_pieces(episode, narration, VOICE_RATE, lay,
                                             stage.FigureCache())
    total = round(lay.duration * RATE)
    levels = stage.Levels(pieces, blocks, RATE, total)
    gain = stage.fit_gain(levels, -16.0, -2.0, tmp_path)
    assert levels.loudness(gain, -2.0) == pytest.approx(-16.0, abs=stage.FIT_TOLERANCE)
    samples, limited = stage.render(pieces, levels, gain, -2.0, total)
    assert limited > 6.0  # the clicks are cut hard
    measured = pyloudnorm.Meter(RATE).integrated_loudness(samples.astype(np.float64))
    assert measured == pytest.approx(-16.0, abs=0.02)
    peak = 20 * np.log10(np.max(np.abs(resample_poly(samples, 4, 1))))
    assert -2.1 < peak <= -2.0 + 0.05


def test_stereo_at_48k_without_music_meets_the_targets(tmp_path, monkeypatch):
    """The encoder's change of level is probed for these settings too (two channels count
    twice in BS.1770's sum); the MP3 measured here, independently, is on target."""
    episode = make_project(tmp_path)
    issue = episode / "issue.md"
    issue.write_text(issue.read_text(encoding="utf-8").replace(
        "date: 2023-01-06\n", "date: 2023-01-06\nsettings:\n  audio: {music: false, "
        "channels: 2, sample_rate: 48000}\n"), encoding="utf-8")
    settings = AudioSettings(music=False, channels=2, sample_rate=48000)
    narrated(episode, PARTS, settings)
    result = master_with_cache(episode, tmp_path / "cache", monkeypatch)
    mp3 = episode / "build" / "episode.mp3"
    info = MP3(mp3).info
    assert (info.sample_rate, info.channels) == (48000, 2)
    pcm = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(mp3), "-f", "f32le",
                          "-"], capture_output=True, check=True).stdout
    stereo = np.frombuffer(pcm, "<f4").reshape(-1, 2).astype(np.float64)
    lufs = pyloudnorm.Meter(48000).integrated_loudness(stereo)
    assert lufs == pytest.approx(-16.0, abs=0.2)
    assert result.loudness == pytest.approx(-16.0, abs=stage.LOUDNESS_SLACK)
    assert result.true_peak <= -1.0


def test_a_short_episode_is_one_piece_with_both_beds(tmp_path, monkeypatch):
    """When the intro's and the outro's music overlap, the whole episode is one piece."""
    episode = make_project(tmp_path)
    narrated(episode, [voice_like(1.5, 4)])
    result = master_with_cache(episode, tmp_path / "cache", monkeypatch)
    assert (result.pieces, result.measured) == (2, 2)  # the speech alone, then all of it
    audio = decoded(episode / "build" / "episode.mp3")
    assert np.sqrt(np.mean(audio[int(0.5 * RATE) : int(3.5 * RATE)] ** 2)) > 0.01  # intro
    assert np.sqrt(np.mean(audio[-int(3.0 * RATE) : -int(2.0 * RATE)] ** 2)) > 0.01  # outro
    assert abs(result.loudness + 16.0) <= stage.LOUDNESS_SLACK and result.true_peak <= -1.0


def test_an_episode_without_speech_is_refused(tmp_path, monkeypatch):
    episode = make_project(tmp_path)
    narrated(episode, [np.zeros(VOICE_RATE, np.float32)])
    with pytest.raises(PipelineError, match="narration.wav: the narration is silent"):
        master_with_cache(episode, tmp_path / "cache", monkeypatch)


TITLES = ["Introduction", "A", "A much longer title than any other here", "Mid", "Outro",
          "Section six", "7", "Eight, at some length", "Nine", "Ten", "Eleven, nearly last",
          "The end"]


def test_chapters_are_in_time_order_in_the_file(tmp_path, monkeypatch):
    """mutagen writes frames by size; ffprobe (and other readers) take CHAP frames in file
    order, so they must be in time order there, more than ten of them included."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    episode = load_episode(make_project(tmp_path))
    mp3 = tmp_path / "e.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=12", "-c:a", "libmp3lame", str(mp3)],
                   check=True)
    sections = [TimedSection(id=f"s{i}", index=i, title=t, start=float(i), end=float(i + 1))
                for i, t in enumerate(TITLES)]
    timeline = builders.timeline([builders.timed("s0/paragraph-1", 0.5, 1.0)], 12.0, sections)
    size = len(mp3.read_bytes())
    stage.write_tags(stage.id3_tags(episode, timeline), mp3)
    chaps = ID3(mp3).getall("CHAP")
    assert [c.element_id for c in chaps] == [f"chp{i}" for i in range(12)]
    assert [c.start_time for c in chaps] == [1000 * i for i in range(12)]
    assert ID3(mp3).getall("CTOC")[0].child_element_ids == [f"chp{i}" for i in range(12)]
    probe = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-of", "json", str(mp3)],
        capture_output=True, check=True).stdout)
    assert [(c["tags"]["title"], float(c["start_time"]), float(c["end_time"]))
            for c in probe["chapters"]] == [(t, i, i + 1) for i, t in enumerate(TITLES)]
    assert float(probe["format"]["duration"]) == pytest.approx(12.0, abs=0.1)
    assert len(mp3.read_bytes()) > size
