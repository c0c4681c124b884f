"""The captions stage end to end: real hibari speech, the real tiny.en model converted by
the project's own converter, real ffmpeg, parsed with webvtt-py and srt.

The model is loaded once for this module (the stage keeps a loaded model per process)."""

from __future__ import annotations

import html
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
import srt
import webvtt
from click.testing import CliRunner

from pipeline.config import WhisperSettings
from pipeline.errors import PipelineError
from pipeline.formats import QA, Recording, Timeline, Transcript
from pipeline.speech.align import tokens, wer
from pipeline.speech.asr import load_transcriber, transcribe
from pipeline.speech.cues import Cue, violations
from tests import builders as build

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
SLUG = "2023-01-06-captions-test"
VOICE_RATE = 24000

TITLES = {"intro": "Introduction", "interpretability": "Interpretability"}
SEGMENTS = [
    ("intro/intro-1", "intro", 0, "intro",
     "Welcome to ML & AI Safety Updates, episode 1.",
     "Welcome to M L and A I Safety Updates, episode one."),
    ("interpretability/heading-1", "interpretability", 1, "heading",
     "Interpretability", "Interpretability"),
    ("interpretability/paragraph-1", "interpretability", 1, "paragraph",
     "The researcher Neel Nanda has published a list of 200 open problems, and a prize of "
     "$50,000 goes to work on polysemanticity.",
     "The researcher Neel Nanda has published a list of two hundred open problems, and a "
     "prize of fifty thousand dollars goes to work on polysemanticity."),
]
PAUSE = {"segment": 0.6, "section": 1.2}
# what narrate reports of a section the producer recorded (this test's audio is all voice)
RECORDED = Recording(file="1.flac", section="interpretability", seconds=9.0, kept_seconds=8.8,
                     trimmed_start=0.1, trimmed_end=0.1, peak_dbfs=-0.1, clipped_samples=6,
                     clipped_runs=2, longest_run=3, first_clips=[2.0, 4.5],
                     verdict="clipped: 2 runs, 6 samples")


@pytest.fixture(scope="module")
def voice():
    from hibari import Hibari

    return Hibari()


def trim(samples: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Speech only: the narrate stage's timeline gives when speech starts and ends."""
    loud = np.nonzero(np.abs(samples) > threshold)[0]
    return samples[loud[0] : loud[-1] + 1]


def write_wav(path: Path, samples: np.ndarray, rate: int = VOICE_RATE) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())


def to_mp3(wav: Path, mp3: Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(wav),
                    "-ar", "44100", "-b:a", "64k", str(mp3)], check=True)


def speak(voice, folder: Path, rows: list[tuple[str, int, str]]) -> tuple[list, float]:
    """narration.wav and episode.mp3 of each (segment id, section index, spoken text) read
    by the real voice, with the narrate stage's pauses; the segments' times and the length."""
    clips, timed, t = [], [], 0.0
    for n, (seg_id, index, spoken) in enumerate(rows):
        if n:
            pause = PAUSE["segment"] if index == rows[n - 1][1] else PAUSE["section"]
            clips.append(np.zeros(int(pause * VOICE_RATE), dtype=np.float32))
            t += pause
        clip = trim(voice(spoken, seed=0))
        clips.append(clip)
        timed.append(build.timed(seg_id, round(t, 3), round(t + len(clip) / VOICE_RATE, 3),
                                 index, cached=False))
        t += len(clip) / VOICE_RATE
    clips.append(np.zeros(int(0.5 * VOICE_RATE), dtype=np.float32))
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "narration.wav", np.concatenate(clips))
    to_mp3(folder / "narration.wav", folder / "episode.mp3")
    return timed, round(t + 0.5, 3)


def narrate(voice, folder: Path) -> None:
    """What the script and narrate stages hand over: script.json, timeline.json and the
    audio, made here from real speech so this test does not depend on those stages."""
    timed, duration = speak(voice, folder, [(s[0], s[2], s[5]) for s in SEGMENTS])
    build.timeline(timed, duration, offset=0.0, titles=TITLES).model_copy(
        update={"recordings": [RECORDED]}).write(folder)
    segments = [build.segment(s[0], s[4], s[5], s[2]) for s in SEGMENTS]
    build.script(segments, TITLES, title="Captions test", slug=SLUG, number=1,
                 summary="A test.").write(folder)


@pytest.fixture(scope="module")
def project(tmp_path_factory, voice):
    """A project folder: assets/show.toml and one episode whose build/ holds the inputs."""
    root = tmp_path_factory.mktemp("project")
    (root / "assets").mkdir()
    shutil.copy(REPO / "assets" / "show.toml", root / "assets" / "show.toml")
    shutil.copy(REPO / "assets" / "pronunciations.toml", root / "assets" / "pronunciations.toml")
    episode = root / "episodes" / SLUG
    episode.mkdir(parents=True)
    (episode / "issue.md").write_text(
        "---\ntitle: Captions test\nnumber: 1\ndate: 2023-01-06\nsummary: A test.\n---\n\n"
        "## Interpretability\n\nText.\n", encoding="utf-8")
    narrate(voice, episode / "build")
    return episode


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PIPELINE_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def stage(project, cache):
    """Run `pipeline captions <episode>` once; keep its output."""
    from pipeline.stages.captions import command

    result = CliRunner().invoke(command, [str(project), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    return result


def build_file(project: Path, name: str) -> Path:
    return project / "build" / name


def test_converted_model_transcribes_a_known_sentence(voice, cache, tmp_path):
    sentence = "Please send the report to the team before the meeting on Friday morning."
    write_wav(tmp_path / "known.wav", trim(voice(sentence, seed=0)))
    result = transcribe(tmp_path / "known.wav",
                        WhisperSettings(backend="openai-whisper", model="tiny.en", device="cpu"))
    heard = " ".join(w.text for w in result.words)
    assert wer(tokens(sentence), tokens(heard)) == 0, heard
    assert list((cache / "whisper").glob("tiny.en-*.pt")), "the converted checkpoint is cached"
    assert all(0 <= w.start <= w.end <= result.audio_seconds + 0.5 for w in result.words)


def test_summary_line_names_model_device_speed_wer_and_cues(stage):
    line = stage.output.strip().splitlines()[-1]
    assert line.startswith("captions: tiny.en (faster-whisper) on cpu")
    assert "s per audio second" in line and "raw WER" in line and "cues written" in line
    progress = [line for line in stage.stderr.splitlines() if "transcribing" in line]
    assert progress[-1].startswith("captions: transcribing 100% (") and "\r" not in stage.stderr


def test_transcript_has_every_word_with_times_and_probability(stage, project):
    transcript = Transcript.read(build_file(project, "transcript.json").parent)
    words = transcript.words
    assert transcript.model == "tiny.en" and len(words) >= 30
    assert all(0 <= w.start <= w.end <= 30 and 0 <= w.probability <= 1 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)


def parsed_srt(project: Path) -> list[srt.Subtitle]:
    return list(srt.parse(build_file(project, "captions.srt").read_text(encoding="utf-8")))


def test_caption_text_is_the_script_display_text(stage, project):
    qa = QA.read(build_file(project, "qa.json").parent)
    display = " ".join(s[4] for s in SEGMENTS)
    shown = " ".join(sub.content.replace("\n", " ") for sub in parsed_srt(project))
    assert shown == display
    assert qa.corrected_wer <= 0.02
    assert 0 <= qa.raw_wer < 0.5  # reported, and the model heard most of it
    assert {s.id for s in qa.segments} == {s[0] for s in SEGMENTS}
    assert qa.dropped_count == len(qa.dropped) and qa.flagged_stretches == []
    assert qa.recordings == [RECORDED]  # the narration's report travels into qa.json


def test_every_cue_obeys_the_style_rules(stage, project):
    cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content.split("\n"), 0)
            for s in parsed_srt(project)]
    assert len(cues) >= 3
    assert violations(cues) == []
    qa = QA.read(build_file(project, "qa.json").parent)
    assert qa.cue_rule_violations == [] and qa.cues == len(cues)


def test_no_cue_crosses_a_section_and_sections_start_on_time(stage, project):
    timeline = Timeline.read(build_file(project, "timeline.json").parent)
    cues = parsed_srt(project)
    for section in timeline.sections:
        inside = [c for c in cues if section.start <= c.start.total_seconds() < section.end]
        assert inside, section.id
        assert abs(inside[0].start.total_seconds() - section.start) <= 0.3, section.id
        assert all(c.end.total_seconds() <= section.end for c in inside), section.id


def test_vtt_parses_with_webvtt_py_and_matches_srt(stage, project):
    captions = webvtt.read(str(build_file(project, "captions.vtt")))
    subs = parsed_srt(project)
    assert len(captions) == len(subs)
    for cue, sub in zip(captions, subs, strict=True):
        assert cue.start == srt.timedelta_to_srt_timestamp(sub.start).replace(",", ".")
        assert cue.end == srt.timedelta_to_srt_timestamp(sub.end).replace(",", ".")
        assert html.unescape(cue.text) == sub.content
    assert "ML &amp; AI" in build_file(project, "captions.vtt").read_text(encoding="utf-8")


def test_missing_audio_is_one_clear_error(project, cache, tmp_path):
    from pipeline.stages.captions import build_captions

    build = tmp_path / "build"
    build.mkdir()
    for name in ("script.json", "timeline.json"):
        shutil.copy(project / "build" / name, build / name)
    (build / "captions.vtt").write_text("WEBVTT\n\n", encoding="utf-8")  # an older good one
    with pytest.raises(PipelineError) as error:
        build_captions(build, project.parent.parent / "assets", WhisperSettings(device="cpu"))
    assert "narration.wav" in str(error.value) and "make narrate" in str(error.value)
    assert (build / "captions.vtt").read_text(encoding="utf-8") == "WEBVTT\n\n"
    assert not (build / "qa.json").exists()


def test_silent_audio_is_refused(cache, tmp_path):
    write_wav(tmp_path / "silent.wav", np.zeros(VOICE_RATE, dtype=np.float32))
    with pytest.raises(PipelineError, match="silent"):
        transcribe(tmp_path / "silent.wav", WhisperSettings(device="cpu"))


def test_unknown_model_names_the_installed_ones(cache):
    with pytest.raises(PipelineError) as error:
        load_transcriber(WhisperSettings(model="no-such-model", device="cpu"))
    assert "no-such-model" in str(error.value) and "tiny.en" in str(error.value)


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("timeline.json", "{not json", "timeline.json: not valid JSON"),
    ("timeline.json", "[]", "timeline.json: not a JSON object"),
    ("script.json", '{"sections": []}', "script.json: episode: field required (rebuild it: "
                                        "make script"),
    ("timeline.json", '{"duration": 1, "narration_offset": 0, "segments": [{"id": "x"}], '
                      '"sections": []}',
     "timeline.json: segments[0].section: field required (rebuild it: make narrate"),
    ("timeline.json", '{"duration": 1, "narration_offset": 0, "segments": [], "sections": []}',
     "timeline.json: has no times for segment 'intro/intro-1' of script.json"),
])
def test_bad_inputs_are_one_clear_line(project, tmp_path, name, content, expected):
    from pipeline.stages.captions import build_captions

    build = tmp_path / "build"
    shutil.copytree(project / "build", build)
    (build / name).write_text(content, encoding="utf-8")
    with pytest.raises(PipelineError) as error:
        build_captions(build, tmp_path, WhisperSettings(device="cpu"))
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_faster_whisper_reads_the_base_model_from_its_two_parts(voice, cache, tmp_path):
    sentence = "Please send the report to the team before the meeting on Friday morning."
    write_wav(tmp_path / "known.wav", trim(voice(sentence, seed=0)))
    settings = WhisperSettings(backend="faster-whisper", model="base", device="cpu")
    result = transcribe(tmp_path / "known.wav", settings)
    heard = " ".join(w.text for w in result.words)
    assert (result.backend, result.model) == ("faster-whisper", "base")
    assert wer(tokens(sentence), tokens(heard)) == 0, heard
    assert all(0 <= w.probability <= 1 and w.start <= w.end for w in result.words)
