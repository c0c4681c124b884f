"""What an installed pipeline carries: a wheel built from a copy of the project holds the
code and the default templates, and names each dependency once."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from pipeline.config import PACKAGE_TEMPLATES

REPO = Path(__file__).resolve().parent.parent


def test_the_package_templates_are_the_assets_templates() -> None:
    ours = sorted(p.name for p in (REPO / "assets" / "templates").iterdir())
    assert sorted(p.name for p in PACKAGE_TEMPLATES.iterdir()) == ours


@pytest.mark.slow
def test_a_wheel_carries_the_templates_and_each_dependency_once(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "pipeline", source / "pipeline", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "assets" / "templates", source / "assets" / "templates")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path / "dist"), str(source)], check=True)
    [wheel] = (tmp_path / "dist").glob("pipeline-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith("/METADATA"))).decode()
    templates = {p.name for p in (REPO / "assets" / "templates").iterdir()}
    assert {f"pipeline/templates/{name}" for name in templates} <= names
    assert {"pipeline/formats.py", "pipeline/stages/video.py", "pipeline/media/ffmpeg.py"} <= names
    requires = Parser().parsestr(metadata).get_all("Requires-Dist")
    plain = [r.split(";")[0].split(">")[0].split("=")[0].split("[")[0].strip() for r in requires
             if "extra ==" not in r]
    assert len(plain) == len(set(plain)), plain
    assert any(r.startswith("audioop-lts") and 'python_version >= "3.13"' in r for r in requires)
