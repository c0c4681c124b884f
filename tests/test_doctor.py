"""`pipeline doctor` names what is missing and how to fix it."""

from __future__ import annotations

import pytest

from pipeline.cli import main
from pipeline.media.ffmpeg import encoders_argv
from pipeline.tools.doctor import check_encoders, check_tools, table


def run_doctor(capsys: pytest.CaptureFixture[str], root) -> tuple[int, str, str]:
    try:
        main(["doctor", "--root", str(root)])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if f"  {name} " in line + " ")


def test_this_machine_has_everything_required(project, capsys) -> None:
    code, out, err = run_doctor(capsys, project.root)
    assert code == 0, out
    for name in ("ffmpeg", "encoder libx264", "encoder aac", "encoder libmp3lame",
                 "font", "artwork", "voices", "whisper models", "feed base URL"):
        assert row(out, name).startswith("ok"), row(out, name)
    assert "hibari" in row(out, "voices")
    assert "tiny.en" in row(out, "whisper models")
    assert "cpu" in row(out, "whisper device") or "cuda" in row(out, "whisper device")


def test_a_path_without_ffmpeg_is_named_with_its_fix(project, capsys, monkeypatch,
                                                     tmp_path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, out, err = run_doctor(capsys, project.root)
    assert code == 1
    assert row(out, "ffmpeg").startswith("MISS")
    assert "make setup" in row(out, "ffmpeg")
    assert row(out, "encoder libx264").startswith("MISS")
    assert "required item(s) missing" in err


def test_missing_settings_and_assets(project, capsys, monkeypatch, tmp_path) -> None:
    show = project.assets / "show.toml"
    text = show.read_text()
    show.write_text(text.replace('base_url = "https://example.org/mlaisu/podcast"',
                                 'base_url = ""'))
    (project.assets / "artwork.png").unlink()
    monkeypatch.setenv("PIPELINE_YOUTUBE_TOKEN", str(tmp_path / "no-token.json"))
    code, out, _ = run_doctor(capsys, project.root)
    assert code == 1
    assert row(out, "feed base URL").startswith("MISS") and "base_url" in row(out,
                                                                            "feed base URL")
    assert row(out, "artwork").startswith("MISS")
    assert row(out, "youtube sign-in").startswith("warn")
    assert "pipeline youtube-login" in row(out, "youtube sign-in")


def test_pure_parts() -> None:
    assert encoders_argv() == ["ffmpeg", "-nostdin", "-hide_banner", "-encoders"]
    checks = check_tools() + check_encoders()
    text = table(checks)
    assert len(text.splitlines()) == len(checks)
