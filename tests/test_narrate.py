"""Stage narrate with the real hibari voice on a five-segment script."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
from narrate_fixtures import make_project, write_script
from scipy.io import wavfile

from pipeline.episode import load_episode
from pipeline.errors import PipelineError
from pipeline.formats import Script, Section, Timeline
from pipeline.media.recordings import match_section
from pipeline.speech.voices import REGISTRY
from pipeline.stages.narrate import SLOT, NarrationResult, run, section_slot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One cold build, shared: (episode folder, result, progress lines, monkeypatch)."""
    root = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PIPELINE_CACHE_DIR", str(root / "cache"))
        mp.delenv("PIPELINE_ROOT", raising=False)
        episode = make_project(root)
        result, lines = narrate_logged(episode)
        yield episode, result, lines, mp


def narrate_logged(episode: Path) -> tuple[NarrationResult, list[str]]:
    """Narrate, with the progress lines it writes to stderr (a log, not a terminal)."""
    with contextlib.redirect_stderr(io.StringIO()) as err:
        result = run(load_episode(episode))
    return result, err.getvalue().splitlines()


def timeline(episode: Path) -> Timeline:
    return Timeline.read(episode / "build")


def read_narration(episode: Path) -> tuple[int, np.ndarray]:
    rate, pcm = wavfile.read(episode / "build" / "narration.wav")
    return rate, pcm.astype(np.float64) / 32768


def test_cold_build_synthesises_every_segment_with_progress(built):
    _, result, lines, _ = built
    assert (result.segments, result.synthesised, result.cached) == (5, 5, 0)
    assert lines[-1] == "narrate: synthesising 5/5" and len(lines) == 5
    assert "5 synthesised, 0 from cache" in result.summary()


def test_timeline_times_follow_the_narration_with_pauses(built):
    episode, result, _, _ = built
    data = timeline(episode)
    rate, audio = read_narration(episode)
    assert rate == 24000  # hibari's own rate
    segs, offset = data.segments, data.narration_offset
    assert [s.id for s in segs][0] == "intro/intro-1" and len(segs) == 5
    assert segs[0].start == offset
    assert segs[-1].end == pytest.approx(offset + len(audio) / rate, abs=0.002)
    assert data.duration > segs[-1].end
    gaps = [b.start - a.end for a, b in zip(segs, segs[1:], strict=False)]
    # paragraph pause 0.6 inside "robots", section pause 1.2 between sections, each made
    # longer to bring the next segment to the 0.32 s grid, a section's first to the 1.28 s
    # grid of whole MP3 frames at 44.1 kHz
    assert section_slot(44100) == pytest.approx(4 * SLOT)
    grids = [4 * SLOT, SLOT, SLOT, 4 * SLOT]
    for gap, pause, grid in zip(gaps, [1.2, 0.6, 0.6, 1.2], grids, strict=True):
        assert pause - 0.002 <= gap < pause + grid
    for seg, grid in zip(segs, [4 * SLOT, *grids], strict=True):
        steps = (seg.start - offset) / grid
        assert steps == pytest.approx(round(steps), abs=0.002 / grid)
    for seg in segs:  # speech inside each span, silence in the pauses
        a, b = (int((t - offset) * rate) for t in (seg.start, seg.end))
        assert np.sqrt(np.mean(audio[a:b] ** 2)) > 0.02
    for a_seg, b_seg in zip(segs, segs[1:], strict=False):
        a, b = (int((t - offset) * rate) for t in (a_seg.end + 0.01, b_seg.start - 0.01))
        assert np.max(np.abs(audio[a:b])) < 0.01
    sections = data.sections
    assert [s.id for s in sections] == ["intro", "robots", "outro"]
    assert sections[0].start == 0.0 and sections[-1].end == data.duration
    assert sections[1].start == segs[1].start and sections[0].end == segs[1].start
    assert all(s.source == "hibari" and s.cached is False for s in segs)


def test_second_build_synthesises_nothing_and_is_byte_identical(built):
    episode, _, _, _ = built
    before = (episode / "build" / "narration.wav").read_bytes()
    result, lines = narrate_logged(episode)
    assert (result.synthesised, result.cached, lines) == (0, 5, [])
    assert (episode / "build" / "narration.wav").read_bytes() == before
    assert all(s.cached for s in timeline(episode).segments)


def test_same_input_with_an_empty_cache_gives_the_same_bytes(built, tmp_path):
    episode, _, _, _ = built
    before = (episode / "build" / "narration.wav").read_bytes()
    root = tmp_path / "again"
    with pytest.MonkeyPatch.context() as local:
        local.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache2"))
        other = make_project(root)
        result = run(load_episode(other), jobs=1)
    assert result.synthesised == 5
    assert (other / "build" / "narration.wav").read_bytes() == before


def test_editing_one_paragraph_synthesises_that_segment_only(built):
    episode, _, _, _ = built
    write_script(episode, {"robots/paragraph-2": "They also fold shirts, quickly."})
    try:
        result, lines = narrate_logged(episode)
        assert (result.synthesised, result.cached, result.chunks_synthesised) == (1, 4, 1)
        assert lines == ["narrate: synthesising 1/1"]
        fresh = [s.id for s in timeline(episode).segments if not s.cached]
        assert fresh == ["robots/paragraph-2"]
    finally:
        write_script(episode)
        run(load_episode(episode))


def test_a_failed_synthesis_keeps_the_cache_and_the_outputs(built, monkeypatch):
    episode, _, _, _ = built
    build = episode / "build"
    outputs = {p: p.read_bytes() for p in (build / "narration.wav", build / "timeline.json")}
    cache = Path(os.environ["PIPELINE_CACHE_DIR"]) / "voices"
    entries = {p: p.read_bytes() for p in cache.rglob("*.npy")}

    class Broken:
        engine, name, sample_rate, version = "broken", "x", 24000, "broken 1"

        def synthesize(self, text, settings):
            if "towels" in text:
                raise RuntimeError("the model fell over")
            return np.full(2400, 0.1, np.float32)

    monkeypatch.setitem(REGISTRY, "broken", lambda name: Broken())
    ep = load_episode(episode)
    voice = ep.settings.voice.model_copy(update={"engine": "broken"})
    ep = dataclasses.replace(ep, settings=ep.settings.model_copy(update={"voice": voice}))
    with pytest.raises(PipelineError, match="synthesis failed for .*towels.*fell over"):
        run(ep)
    assert {p: p.read_bytes() for p in outputs} == outputs
    assert all(p.read_bytes() == data for p, data in entries.items())
    assert not [p for p in cache.rglob(".*") if p.is_file()]


def test_unknown_voice_in_the_settings_is_one_line_from_the_cli(built, tmp_path):
    episode, _, _, _ = built
    root = tmp_path / "p"
    other = make_project(root)
    issue = other / "issue.md"
    issue.write_text(issue.read_text().replace(
        "summary:", "settings:\n  voice: {engine: festival}\nsummary:"))
    proc = subprocess.run([sys.executable, "-m", "pipeline", "narrate", str(other)],
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "unknown voice engine 'festival' (installed: " in proc.stderr
    assert "hibari" in proc.stderr


# -- recordings -----------------------------------------------------------------------------

def make_recording(path: Path, seconds: float = 2.0, volume: float = 0.5) -> None:
    """A 'reading': a tone that comes and goes like speech, in whatever format the name says."""
    expr = f"{volume}*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={expr}:s=48000:d={seconds}", str(path)], check=True)


def test_match_section_by_number_or_id():
    sections = [Section(index=0, id="intro", title="Introduction", kind="intro"),
                Section(index=1, id="robots", title="Robots", kind="body")]
    assert [match_section(s, sections) for s in ("1", "01", "robots", "0", "7", "x")] == [
        "robots", "robots", "robots", "intro", None, None]


def test_a_recorded_section_replaces_synthesis_and_is_levelled(built, tmp_path):
    episode, _, _, _ = built
    other = make_project(tmp_path / "p")
    (other / "recordings").mkdir()
    make_recording(other / "recordings" / "01.flac", volume=0.05)
    result = run(load_episode(other))
    assert (result.recorded, result.cached, result.synthesised) == (3, 2, 0)
    data = timeline(other)
    robots = [s for s in data.segments if s.section == "robots"]
    assert all(s.source == "recording" and not s.cached for s in robots)
    # the recording's trimmed 2 s, shared in proportion to the spoken text
    assert robots[-1].end - robots[0].start == pytest.approx(2.0, abs=0.05)
    spans = np.array([s.end - s.start for s in robots])
    lengths = np.array([len("Robots."), len("Robots learn to stack blocks."),
                        len("They also fold towels, slowly.")])
    assert spans / spans.sum() == pytest.approx(lengths / lengths.sum(), abs=0.002)
    assert [b.start for b in robots[1:]] == [a.end for a in robots[:-1]]
    rate, audio = read_narration(other)
    assert rate == 44100  # the show's rate, so a human recording keeps its bandwidth
    off = data.narration_offset

    def lufs(a: float, b: float) -> float:
        return pyloudnorm.Meter(rate).integrated_loudness(
            audio[int((a - off) * rate): int((b - off) * rate)])

    voice = lufs(data.segments[0].start, data.segments[0].end)
    assert lufs(robots[0].start, robots[-1].end) == pytest.approx(voice, abs=1.5)
    [report] = data.recordings  # what the review page and qa.json show the producer
    assert (report.file, report.section, report.clipped_runs) == ("01.flac", "robots", 0)
    assert report.seconds == pytest.approx(2.0, abs=0.01) and report.verdict.startswith("ok")


def test_a_clipped_recording_is_used_and_reported(tmp_path):
    other = make_project(tmp_path / "p")
    (other / "recordings").mkdir()
    make_recording(other / "recordings" / "robots.wav", volume=3.0)  # far past full scale
    run(load_episode(other))
    [report] = timeline(other).recordings
    assert report.clipped and report.clipped_runs > 10
    assert report.verdict.startswith("clipped:") and "record it again" in report.verdict


@pytest.mark.parametrize("name, content, message", [
    ("robots.wav", b"RIFF this is no audio", "cannot read the audio"),
    ("1.mp3", None, "the recording is silent"),
    ("9.wav", None, "this recording names no section"),
])
def test_bad_recordings_are_named(built, tmp_path, name, content, message):
    other = make_project(tmp_path / "p")
    folder = other / "recordings"
    folder.mkdir()
    if content is not None:
        (folder / name).write_bytes(content)
    else:
        make_recording(folder / name, volume=0.0 if "mp3" in name else 0.5)
    with pytest.raises(PipelineError) as err:
        run(load_episode(other))
    assert message in err.value.line()
    assert err.value.path == str(folder / name)
    assert not (other / "build" / "narration.wav").exists()


def test_the_cli_synthesises_in_worker_processes(tmp_path):
    other = make_project(tmp_path / "p")
    env = {**os.environ, "PIPELINE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "pipeline", "narrate", "-j", "2", str(other)],
                          capture_output=True, text=True, env=env,
                          cwd=Path(__file__).parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert "narrate: synthesising 5/5" in proc.stderr.splitlines()
    rate, audio = read_narration(other)
    assert proc.stdout.strip() == (
        "narrate: 5 segments (5 synthesised, 0 from cache, 0 recorded), "
        f"{len(audio) / rate:.1f} s of narration")
    assert len(list((tmp_path / "cache" / "voices").rglob("*.npy"))) == 5


def test_what_is_not_narrated_has_no_audio_and_no_time(tmp_path):
    other = make_project(tmp_path / "p")
    script = Script.read(other / "build")
    silent = {"robots/heading-1", "robots/paragraph-1", "robots/paragraph-2"}
    segments = [s.model_copy(update={"narration": "skip", "spoken": ""}) if s.id in silent
                else s for s in script.segments]
    script.model_copy(update={"segments": segments}).write(other / "build")
    result = run(load_episode(other))
    data = timeline(other)
    assert [s.id for s in data.segments] == ["intro/intro-1", "outro/outro-1"]
    assert [(s.id, s.index) for s in data.sections] == [("intro", 0), ("outro", 2)]
    assert result.segments == 2
    data.check_covers(Script.read(other / "build"), other / "build")  # skipped need no times
