"""`pipeline doctor`: one table of what this machine has and lacks, each with its fix."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from pipeline.config import ShowSettings, load_show, project_root
from pipeline.errors import PipelineError
from pipeline.media.ffmpeg import INSTALL, encoders
from pipeline.publish.placeholders import SHOW_FILE, Placeholder, placeholders

ENCODERS = ("libx264", "aac", "libmp3lame", "mov_text")
SETUP_FIX = "run `make setup` (installs it with apt-get)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def check_tools() -> list[Check]:
    checks = []
    for tool in ("ffmpeg", "ffprobe"):
        path = shutil.which(tool)
        checks.append(Check(tool, path is not None, path or "not on PATH", INSTALL))
    espeak = shutil.which("espeak-ng")
    checks.append(Check("espeak-ng", espeak is not None, espeak or "not on PATH",
                        SETUP_FIX + " (the last-resort voice)", required=False))
    browser = shutil.which("chromium")
    checks.append(Check("chromium", browser is not None, browser or "not on PATH",
                        SETUP_FIX + " (the review page's browser test)", required=False))
    return checks


def check_encoders() -> list[Check]:
    if shutil.which("ffmpeg") is None:
        return [Check(f"encoder {e}", False, "no ffmpeg", INSTALL) for e in ENCODERS]
    names = encoders()
    return [Check(f"encoder {e}", e in names, "present" if e in names else "missing", INSTALL)
            for e in ENCODERS]


def check_assets(root: Path, settings: ShowSettings) -> list[Check]:
    assets = root / "assets"
    files = {"font": settings.video.font, "bold font": settings.video.bold_font,
             "artwork": settings.show.artwork}
    checks = []
    for label, rel in files.items():
        path = assets / rel
        checks.append(Check(label, path.is_file(), str(path) if path.is_file() else
                            f"{path} missing", "restore it from git (`git checkout assets/`)"))
    return checks


def check_voices(settings: ShowSettings) -> list[Check]:
    from pipeline.speech import voices

    have = voices.installed()
    engine = settings.voice.engine
    return [
        Check("voices", bool(have), ", ".join(have) or "none", SETUP_FIX),
        Check(f"voice '{engine}' (show)", engine in have,
              "installed" if engine in have else "not installed",
              f"pip install the engine, or set [voice] engine to one of: {', '.join(have)}"),
    ]


def check_whisper(settings: ShowSettings) -> list[Check]:
    from pipeline.speech.asr import cuda_available, pick_device
    from pipeline.speech.asr.models import default_model, installed_models

    models = installed_models()
    backend = settings.whisper.backend
    device, _ = pick_device(settings.whisper.device, cuda_available(backend))
    model = settings.whisper.model or default_model(device)
    return [
        Check("whisper models", bool(models), ", ".join(models) or "none", SETUP_FIX),
        Check("whisper device", True, f"{device} ({backend}, model {model})",
              required=False),
    ]


def check_youtube(root: Path, settings: ShowSettings) -> list[Check]:
    from pipeline.publish.youtube.auth import client_secrets_path, token_path

    token = token_path()
    checks = [Check("youtube sign-in", token.is_file(),
                    f"token at {token}" if token.is_file() else "not signed in",
                    "run `pipeline youtube-login` (needs the client-secrets file)",
                    required=False)]
    if token.is_file() and stat.S_IMODE(token.stat().st_mode) & 0o077:
        checks.append(Check("youtube token permissions", False, oct(token.stat().st_mode),
                            f"chmod 600 {token}"))
    try:
        secrets = client_secrets_path(settings.youtube, root)
        checks.append(Check("youtube client secrets", secrets.is_file(), str(secrets),
                            "download it from the Google Cloud console", required=False))
    except PipelineError as exc:
        checks.append(Check("youtube client secrets", False, exc.message, exc.fix or "",
                            required=False))
    return checks


def _show_value(label: str, value: str, placeholder: Placeholder | None, fix: str) -> Check:
    """Missing fails the doctor; the sample's placeholder is a warning with its fix."""
    if not value:
        return Check(label, False, "not set", fix)
    if placeholder is not None:
        detail = f"{value} (the sample's placeholder: `make publish` refuses it)"
        return Check(label, False, detail, placeholder.fix, required=False)
    return Check(label, True, value)


def _sample_value(label: str, value: str, placeholder: Placeholder | None) -> Check:
    """A value the sample show's would be wrong for another show: a warning, never missing."""
    if placeholder is not None:
        return Check(label, False, f"{value} (the sample show's)", placeholder.fix,
                     required=False)
    return Check(label, True, value or "not set")


def check_feed(settings: ShowSettings) -> list[Check]:
    show, feed = settings.show, settings.feed
    found = {p.key: p for p in placeholders(show)}
    return [
        _sample_value("show title", show.title, found.get("title")),
        _show_value("feed base URL", show.base_url, found.get("base_url"),
                    f"set base_url under [show] in {SHOW_FILE}"),
        _show_value("feed owner email", show.owner_email, found.get("owner_email"),
                    f"set owner_email under [show] in {SHOW_FILE}"),
        _sample_value("show website", show.website, found.get("website")),
        Check("feed destination", bool(feed.destination), feed.destination or "not set",
              "set [feed] destination (a folder or host:path) for `make publish`",
              required=False),
    ]


def _guarded(label: str, probe: Callable[[], list[Check]]) -> list[Check]:
    """A probe that fails outright becomes one failed row rather than a traceback."""
    try:
        return probe()
    except PipelineError as exc:
        return [Check(label, False, exc.message, exc.fix or "")]
    except ImportError as exc:
        return [Check(label, False, f"cannot import: {exc}", SETUP_FIX)]


def run_checks(root: Path) -> list[Check]:
    """Every check, in the order a producer would fix them."""
    checks = check_tools() + _guarded("encoders", check_encoders)
    try:
        settings = load_show(root)
    except PipelineError as exc:
        return checks + [Check("show settings", False, exc.line(), "fix assets/show.toml")]
    checks += check_assets(root, settings)
    checks += _guarded("voices", lambda: check_voices(settings))
    checks += _guarded("whisper", lambda: check_whisper(settings))
    checks += _guarded("youtube", lambda: check_youtube(root, settings))
    return checks + check_feed(settings)


def table(checks: list[Check]) -> str:
    """The checks as aligned rows: status, name, what was found, and the fix when needed."""
    width = max(len(c.name) for c in checks)
    rows = []
    for c in checks:
        mark = "ok  " if c.ok else ("MISS" if c.required else "warn")
        fix = f"  -> {c.fix}" if not c.ok and c.fix else ""
        rows.append(f"{mark}  {c.name.ljust(width)}  {c.detail}{fix}")
    return "\n".join(rows)


@click.command("doctor")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Project folder holding assets/ (default: here).")
def command(root: Path | None) -> None:
    """What this machine has and lacks for the pipeline, each with its fix."""
    checks = run_checks(root or project_root())
    click.echo(table(checks))
    missing = [c for c in checks if not c.ok and c.required]
    if missing:
        click.echo(f"doctor: {len(missing)} required item(s) missing", err=True)
        raise click.exceptions.Exit(1)
    click.echo("doctor: everything required is here", err=True)
