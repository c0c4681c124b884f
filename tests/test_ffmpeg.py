"""The ffmpeg layer: argument lists compiled from ffmpeg-python graphs, and the one runner
against real ffmpeg and ffprobe on media the tests make in temporary folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import ffmpeg as graph
import numpy as np
import pytest

from pipeline.errors import PipelineError
from pipeline.media import ffmpeg
from pipeline.media.audio import decode, decode_argv
from pipeline.media.loudness import parse_ebur128
from pipeline.media.pieces import Piece, Pieces

RATE = 8000


def tone(folder: Path, seconds: float = 3.0, name: str = "tone.wav") -> Path:
    """A 440 Hz sine, mono 16-bit WAV, made by ffmpeg through the layer itself."""
    path = folder / name
    sine = graph.input(f"sine=frequency=440:duration={seconds}:sample_rate={RATE}",
                       format="lavfi")
    ffmpeg.run(ffmpeg.compile_argv(sine.output(str(path), ac=1)), "making the tone")
    return path


# ---------------------------------------------------------------- pure parts


def test_a_graph_compiles_to_an_argument_list() -> None:
    split = graph.input("in.wav")["a"].filter_multi_output("asplit")
    quiet = split[0].filter("volume", 0.5).output("out.wav", ar=RATE)
    meter = split[1].filter("ebur128", peak="true").output("-", format="null")
    both = graph.merge_outputs(quiet, meter).global_args("-nostats")
    assert ffmpeg.compile_argv(both) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "in.wav", "-filter_complex",
        "[0:a]asplit=2[s0][s1];[s0]volume=0.5[s2];[s1]ebur128=peak=true[s3]",
        "-map", "[s2]", "-ar", "8000", "out.wav", "-map", "[s3]", "-f", "null", "-",
        "-nostats"]


def test_decoder_probe_and_encoder_argument_lists() -> None:
    assert decode_argv(Path("a b/in.flac"), 24000) == [
        "ffmpeg", "-nostdin", "-hide_banner", "-i", "a b/in.flac", "-map", "0:a:0",
        "-f", "f32le", "-ac", "1", "-ar", "24000", "-", "-v", "error"]
    assert ffmpeg.probe_argv(Path("a b/v.mp4")) == [
        "ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", "a b/v.mp4"]
    assert ffmpeg.encoders_argv() == ["ffmpeg", "-nostdin", "-hide_banner", "-encoders"]


def test_progress_lines_give_seconds() -> None:
    assert ffmpeg.progress_seconds("out_time_us=1500000\n") == 1.5
    assert ffmpeg.progress_seconds("out_time_us=-20000") == 0.0
    assert ffmpeg.progress_seconds("out_time_us=N/A") is None
    assert ffmpeg.progress_seconds("progress=end") is None


# ---------------------------------------------------------------- the runner, for real


def test_a_failure_carries_the_argv_and_the_end_of_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"not audio at all" * 64)
    argv = decode_argv(bad, RATE)
    with pytest.raises(ffmpeg.FFmpegError) as caught:
        ffmpeg.run(argv, "ffmpeg cannot read the audio", bad, "export it again")
    error = caught.value
    assert isinstance(error, PipelineError)
    assert error.argv == argv
    assert error.stderr_tail and error.stderr_tail[-1].startswith(f"{bad}: Invalid")
    line = error.line()
    assert "\n" not in line
    assert line.startswith(f"{bad}: ffmpeg cannot read the audio: ")
    assert error.stderr_tail[-1].strip() in line and line.endswith("(export it again)")


def test_a_missing_ffmpeg_or_ffprobe_is_named_with_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    audio = tone(tmp_path)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ffmpeg.FFmpegError) as caught:
        decode(audio, RATE)
    assert caught.value.line() == (
        f"{audio}: ffmpeg not found "
        "(install Debian's ffmpeg: `make setup` or `apt-get install ffmpeg`)")
    assert caught.value.argv == decode_argv(audio, RATE) and caught.value.stderr_tail == []
    with pytest.raises(ffmpeg.FFmpegError, match=r"ffprobe not found.*make setup"):
        ffmpeg.probe(audio)


def test_stdout_is_captured_as_raw_samples(tmp_path: Path) -> None:
    samples = decode(tone(tmp_path, 2.0), RATE)
    assert samples.dtype == np.float32 and len(samples) == 2 * RATE
    assert 0.05 < float(np.max(np.abs(samples))) <= 1.0


def test_stderr_is_returned_for_the_loudness_filters(tmp_path: Path) -> None:
    meter = graph.input(str(tone(tmp_path))).filter("ebur128", peak="true")
    result = ffmpeg.run(ffmpeg.compile_argv(meter.output("-", format="null")), "measuring")
    loud = parse_ebur128(result.stderr)
    assert -30 < loud.integrated < -10 and -20 < loud.true_peak <= 0.5
    assert result.stdout == b""


def test_progress_seconds_reach_the_callback_and_cwd_is_used(tmp_path: Path) -> None:
    tone(tmp_path, 3.0)
    encode = graph.input("tone.wav").output("tone.m4a", **{"c:a": "aac"})
    seen: list[float] = []
    argv = ffmpeg.compile_argv(encode.global_args("-progress", "pipe:1", "-nostats"))
    ffmpeg.run(argv, "encoding", cwd=tmp_path, on_seconds=seen.append)
    assert seen and seen == sorted(seen)
    assert seen[-1] == pytest.approx(3.0, abs=0.1)
    assert ffmpeg.probe(tmp_path / "tone.m4a")["streams"][0]["codec_name"] == "aac"


def test_an_exception_in_the_callback_stops_ffmpeg(tmp_path: Path) -> None:
    tone(tmp_path, 3.0)
    encode = graph.input(str(tmp_path / "tone.wav")).output(str(tmp_path / "t.m4a"))
    argv = ffmpeg.compile_argv(encode.global_args("-progress", "pipe:1", "-nostats"))

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ffmpeg.run(argv, "encoding", on_seconds=stop)


def test_probe_reads_duration_and_streams(tmp_path: Path) -> None:
    found = ffmpeg.probe(tone(tmp_path, 2.5))
    assert float(found["format"]["duration"]) == pytest.approx(2.5, abs=0.01)
    assert [s["codec_type"] for s in found["streams"]] == ["audio"]
    assert json.dumps(found)  # plain JSON, as ffprobe printed it


def test_a_probe_of_a_broken_file_is_the_same_error(tmp_path: Path) -> None:
    bad = tmp_path / "v.mp4"
    bad.write_bytes(b"\0" * 256)
    with pytest.raises(ffmpeg.FFmpegError) as caught:
        ffmpeg.probe(bad)
    assert caught.value.argv[0] == "ffprobe" and caught.value.stderr_tail


def test_a_probe_is_kept_until_the_file_is_rewritten_or_touched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    ran: list[Path] = []
    real = ffmpeg.probe_with_chapters
    monkeypatch.setattr(ffmpeg, "probe_with_chapters",
                        lambda path, fix=None: ran.append(path) or real(path, fix))
    wav = tone(tmp_path, 2.0)

    def seconds() -> float:
        return float(ffmpeg.probed(wav)["format"]["duration"])
    assert seconds() == seconds() == pytest.approx(2.0, abs=0.01)
    assert len(ran) == 1
    os.replace(tone(tmp_path, 3.0, "longer.wav"), wav)  # an atomic rewrite
    assert seconds() == pytest.approx(3.0, abs=0.01) and len(ran) == 2
    stat = wav.stat()  # the same bytes, written again in place
    os.utime(wav, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert seconds() == pytest.approx(3.0, abs=0.01) and len(ran) == 3


def test_a_failed_probe_is_not_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    bad = tmp_path / "v.mp4"
    bad.write_bytes(b"\0" * 256)
    for _ in range(2):
        with pytest.raises(ffmpeg.FFmpegError):
            ffmpeg.probed(bad)
    assert not (tmp_path / "cache").exists()


def test_the_encoders_this_ffmpeg_lists() -> None:
    names = ffmpeg.encoders()
    assert {"aac", "libmp3lame", "libx264", "mov_text"} <= names
    assert ffmpeg.missing_encoders({"aac": "AAC", "nosuch": "no such"}, names) == ["no such"]


def test_the_encoder_listing_is_asked_once_then_kept(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path))
    asked = []
    real = ffmpeg.run
    monkeypatch.setattr(ffmpeg, "run", lambda argv, *a, **k: asked.append(argv) or real(
        argv, *a, **k))
    first, again = ffmpeg.encoders(), ffmpeg.encoders()
    assert asked == [ffmpeg.encoders_argv()] and first == again and "libx264" in again
    kept = list((tmp_path / "ffmpeg").glob("encoders-*.txt"))
    assert len(kept) == 1 and "libx264" in kept[0].read_text(encoding="utf-8")


# ---------------------------------------------------------------- chapters and kept pieces


def test_ffmetadata_chapters_are_in_time_order_and_escaped() -> None:
    text = ffmpeg.ffmetadata([(3.2, 9.0, "B=c;d#e\\f"), (0.0, 3.2, "Intro")])
    assert text == (";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=3200\ntitle=Intro\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=3200\nEND=9000\n"
                    "title=B\\=c\\;d\\#e\\\\f\n")


def flac_args(source: Path):
    return lambda out: ffmpeg.compile_argv(graph.input(str(source)).output(str(out)).global_args(
        "-v", "error").overwrite_output())


def test_pieces_are_made_once_per_content_and_pruned(tmp_path: Path) -> None:
    source = tone(tmp_path, 0.5)
    cache = Pieces(tmp_path / "pieces")
    first = cache.get(flac_args(source), [source], ".flac", "making the piece")
    again = cache.get(flac_args(source), [source], ".flac", "making the piece")
    assert first.made and not again.made and again.path == first.path
    moved = tmp_path / "elsewhere.wav"
    source.rename(moved)  # the same bytes under another name: the same piece
    assert cache.get(flac_args(moved), [moved], ".flac", "x") == Piece(first.path, made=False)
    other = tone(tmp_path, 0.6, "other.wav")
    fresh = Pieces(tmp_path / "pieces")
    second = fresh.get(flac_args(other), [other], ".flac", "making the piece")
    assert second.made and second.path != first.path
    assert fresh.prune() == 1 and not first.path.exists() and second.path.exists()
    assert [p.name for p in (tmp_path / "pieces").iterdir()] == [second.path.name]


def test_a_failed_piece_leaves_nothing_behind(tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    cache = Pieces(tmp_path / "pieces")
    with pytest.raises(ffmpeg.FFmpegError, match="making the piece"):
        cache.get(flac_args(broken), [broken], ".flac", "making the piece")
    assert list((tmp_path / "pieces").iterdir()) == []
