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
                 "font", "artwork", "voices", "whisper models"):
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


def test_the_sample_shows_placeholders_are_warnings_with_their_fix(project, capsys) -> None:
    code, out, err = run_doctor(capsys, project.root)
    assert code == 0 and "everything required is here" in err
    assert row(out, "show title") == (
        "warn  show title              ML & AI Safety Updates (the sample show's)  -> set title "
        "under [show] in assets/show.toml: every episode's intro and the feed say it")
    assert row(out, "feed base URL") == (
        "warn  feed base URL           https://example.org/mlaisu/podcast (the sample's "
        "placeholder: `make publish` refuses it)  -> set base_url under [show] in "
        "assets/show.toml: the URL public/ is served from")
    assert row(out, "feed owner email").startswith(
        "warn  feed owner email        podcast@example.org (the sample's placeholder")
    assert "set owner_email under [show] in assets/show.toml" in row(out, "feed owner email")
    assert row(out, "show website").startswith("warn") and "set website" in row(out,
                                                                                "show website")


def test_a_producers_own_show_is_ok(project, capsys) -> None:
    project.set_show(title="Agents Weekly", owner_email="pod@agents-weekly.net",
             base_url="https://agents-weekly.net/pod", website="")
    code, out, _ = run_doctor(capsys, project.root)
    assert code == 0
    assert row(out, "show title") == "ok    show title              Agents Weekly"
    assert row(out, "feed base URL").startswith("ok    feed base URL           https://agents")
    assert row(out, "feed owner email").startswith("ok") and "->" not in row(out,
                                                                            "feed owner email")
    assert row(out, "show website") == "ok    show website            not set"


def test_an_empty_owner_email_is_missing_not_a_placeholder(project, capsys) -> None:
    project.set_show(owner_email="")
    code, out, err = run_doctor(capsys, project.root)
    assert code == 1 and "required item(s) missing" in err
    assert row(out, "feed owner email") == ("MISS  feed owner email        not set  -> set "
                                            "owner_email under [show] in assets/show.toml")
