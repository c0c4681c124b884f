"""Voices, the registry, the voice cache and text splitting."""

from __future__ import annotations

import json
import os
import select
import struct
import sys
import threading

import numpy as np
import pytest

from pipeline.config import VoiceSettings
from pipeline.errors import PipelineError
from pipeline.speech.voicecache import VoiceCache, cache_key
from pipeline.speech.voices import REGISTRY, get_voice, installed, register
from pipeline.speech.voices.espeak import espeak_argv, wav_samples
from pipeline.stages.narrate import split_text


def test_espeak_argv_reads_text_from_stdin():
    assert espeak_argv("en-us", 1.2) == [
        "espeak-ng", "-v", "en-us", "-s", "210", "--stdin", "--stdout"]


def test_wav_samples_reads_a_streamed_wav_with_placeholder_sizes():
    pcm = np.array([0, 16384, -32768, 32767], "<i2").tobytes()
    header = (b"RIFF" + struct.pack("<I", 0x7FFFFFFF) + b"WAVEfmt "
              + struct.pack("<IHHIIHH", 16, 1, 1, 22050, 44100, 2, 16)
              + b"data" + struct.pack("<I", 0x7FFFFFFF))
    samples = wav_samples(header + pcm + b"\x01")  # a stray odd byte at the end
    assert samples.tolist() == [0.0, 0.5, -1.0, 32767 / 32768]


def test_unknown_engine_names_the_installed_ones():
    with pytest.raises(PipelineError) as err:
        get_voice("festival")
    line = err.value.line()
    assert "unknown voice engine 'festival'" in line
    assert "hibari" in line and "espeak" in line
    assert set(installed()) >= {"hibari", "espeak"}


def test_unknown_hibari_voice_names_the_installed_ones():
    with pytest.raises(PipelineError, match=r"no installed voice 'nobody' \(installed: .*heart"):
        get_voice("hibari", "nobody")


def test_missing_piper_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "piper", None)  # what Python does for a missing module
    with pytest.raises(PipelineError) as err:
        get_voice("piper")
    assert "voice engine 'piper' is not installed" in err.value.line()
    assert "pip install 'pipeline[piper]'" in err.value.line()
    assert "piper" not in installed()


def test_missing_espeak_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PipelineError, match="apt-get install espeak-ng"):
        get_voice("espeak")


def test_a_registered_engine_is_found_like_a_builtin(monkeypatch):
    class Tone:
        engine, name, sample_rate, version = "tone", "a", 8000, "tone 1"

        def synthesize(self, text, settings):
            return np.ones(len(text), np.float32)

    monkeypatch.setitem(REGISTRY, "tone", lambda name: Tone())
    register("tone", lambda name: Tone())
    assert "tone" in installed()
    assert len(get_voice("tone").synthesize("abc", VoiceSettings())) == 3


def test_espeak_speaks():
    voice = get_voice("espeak")
    audio = voice.synthesize("-Hello there.", VoiceSettings())
    assert audio.dtype == np.float32
    assert 0.4 < len(audio) / voice.sample_rate < 3
    assert np.max(np.abs(audio)) > 0.1


@pytest.mark.slow
def test_hibari_is_seeded_and_follows_speed():
    voice = get_voice("hibari")
    a = voice.synthesize("A short test.", VoiceSettings(seed=3))
    b = voice.synthesize("A short test.", VoiceSettings(seed=3))
    fast = voice.synthesize("A short test.", VoiceSettings(seed=3, speed=1.5))
    assert voice.sample_rate == 24000 and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert len(fast) < 0.85 * len(a)


@pytest.mark.slow
def test_a_fork_speaks_with_the_synthesiser_its_parent_loaded():
    """The warm process loads hibari's synthesiser; its forks use it as their own: the same
    samples, and no hang (the ONNX session has no threads to lose in a fork)."""
    from hibari.voices import DEFAULT

    from pipeline.speech.voices import hibari

    hibari.warm()
    voice, settings = get_voice("hibari"), VoiceSettings()
    assert hibari._TTS.get(DEFAULT) is not None and voice.name == DEFAULT
    here = voice.synthesize("A fork speaks the same words.", settings)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes what it said and leaves at once
        os.close(read)
        said = voice.synthesize("A fork speaks the same words.", settings)
        os.write(write, b"same" if np.array_equal(said, here) else b"different")
        os._exit(0)
    os.close(write)
    ready, _, _ = select.select([read], [], [], 60)
    assert ready, "the fork did not answer within a minute"
    assert os.read(read, 16) == b"same"
    assert os.waitpid(pid, 0)[1] == 0


def test_split_text_cuts_long_text_at_sentence_ends():
    text = "One two three. Four five six! Seven eight? Nine."
    assert split_text(text, limit=30) == ["One two three. Four five six!", "Seven eight? Nine."]
    assert split_text(text) == [text]
    assert split_text("A sentence that is far too long to fit.", limit=10) == [
        "A sentence that is far too long to fit."]
    assert split_text("  ") == []


def test_cache_key_covers_what_changes_the_sound_only():
    base = VoiceSettings()
    key = cache_key("Hello.", "v1", base)
    assert key == cache_key("Hello.", "v1", VoiceSettings(paragraph_pause=2.0, section_pause=3))
    changed = [cache_key("Hello!", "v1", base), cache_key("Hello.", "v2", base),
               cache_key("Hello.", "v1", VoiceSettings(speed=1.1)),
               cache_key("Hello.", "v1", VoiceSettings(seed=1)),
               cache_key("Hello.", "v1", VoiceSettings(engine="espeak")),
               cache_key("Hello.", "v1", VoiceSettings(name="heart"))]
    assert len({key, *changed}) == 7


def test_voice_cache_round_trip_and_unreadable_entry_is_a_miss(tmp_path):
    cache = VoiceCache(tmp_path)
    audio = np.linspace(-1, 1, 100, dtype=np.float32)
    assert cache.get("ab" * 32) is None
    cache.put("ab" * 32, audio)
    assert np.array_equal(cache.get("ab" * 32), audio)
    cache.path("cd" * 32).parent.mkdir(parents=True)
    cache.path("cd" * 32).write_bytes(b"not numpy")
    assert cache.get("cd" * 32) is None
    assert [p.name for p in tmp_path.rglob(".*")] == []  # no temporary files left


def test_voice_cache_never_shows_a_half_entry_to_a_concurrent_reader(tmp_path):
    cache = VoiceCache(tmp_path)
    audio = np.arange(200_000, dtype=np.float32)
    key = "ef" * 32
    cache.put(key, audio)
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            cache.put(key, audio)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    seen = 0
    try:
        for _ in range(200):
            got = cache.get(key)
            if got is not None:
                assert np.array_equal(got, audio)
                seen += 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert seen == 200


def test_script_problems_are_named(tmp_path):
    from narrate_fixtures import script

    from pipeline.formats import Script

    build = tmp_path / "episodes" / "2024-05-17-x" / "build"
    build.mkdir(parents=True)
    path = build / "script.json"
    with pytest.raises(PipelineError, match="not found.*make script EP=2024-05-17-x"):
        Script.read(build)
    path.write_text("{")
    with pytest.raises(PipelineError, match="not valid JSON.*make script EP=2024-05-17-x"):
        Script.read(build)
    bad = script().model_dump(mode="json")
    del bad["segments"][2]["spoken"]
    path.write_text(json.dumps(bad))
    with pytest.raises(PipelineError, match=r"segments\[2\]\.spoken: field required") as err:
        Script.read(build)
    assert err.value.path == str(path)
    bad = script().model_dump(mode="json")
    bad["segments"][0]["section"] = "nowhere"
    path.write_text(json.dumps(bad))
    with pytest.raises(PipelineError, match="unknown section 'nowhere'"):
        Script.read(build)
    script().write(build)
    assert len(Script.read(build).segments) == 5


def test_a_long_segment_is_planned_as_several_chunks(tmp_path):
    from narrate_fixtures import script

    from pipeline.stages.narrate import MAX_CHARS, plan

    long = " ".join(f"This is sentence number {n} of a long paragraph." for n in range(30))
    data = script({"robots/paragraph-1": long})
    voice = get_voice("hibari")  # the model loads only when it speaks
    p = plan(data, voice, VoiceSettings(), VoiceCache(tmp_path), {"outro": tmp_path / "x.wav"})
    chunks = p.chunks["robots/paragraph-1"]
    assert len(chunks) >= -(-len(long) // MAX_CHARS) and len(set(chunks)) == len(chunks)
    assert all(len(p.texts[k]) <= MAX_CHARS for k in chunks)
    assert " ".join(p.texts[k] for k in chunks) == long
    assert "outro/outro-1" not in p.chunks  # a recorded section needs no synthesis
    assert set(p.missing) == set(p.texts)


def test_two_recordings_for_one_section_are_refused(tmp_path):
    from narrate_fixtures import SECTIONS

    from pipeline.media.recordings import find_recordings

    (tmp_path / "1.wav").write_bytes(b"")
    (tmp_path / "robots.flac").write_bytes(b"")
    (tmp_path / ".DS_Store").write_bytes(b"")
    with pytest.raises(PipelineError, match="two recordings for section 'robots'"):
        find_recordings(tmp_path, SECTIONS)
    (tmp_path / "1.wav").unlink()
    assert find_recordings(tmp_path, SECTIONS) == {"robots": tmp_path / "robots.flac"}
    assert find_recordings(tmp_path / "none", SECTIONS) == {}
