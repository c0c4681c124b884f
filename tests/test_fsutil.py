"""Atomic writes: a failure inside the block leaves the old file and no temporary behind."""

from __future__ import annotations

import json

import pytest

from pipeline.util import fsutil


def test_write_json_replaces_atomically(tmp_path) -> None:
    target = tmp_path / "deep" / "out.json"
    fsutil.write_json(target, {"a": "é"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": "é"}
    fsutil.write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_failure_keeps_the_old_file(tmp_path) -> None:
    target = tmp_path / "out.txt"
    fsutil.write_text(target, "good")
    with pytest.raises(RuntimeError), fsutil.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_outputs_get_the_usual_mode_not_owner_only(tmp_path) -> None:
    import os

    target = tmp_path / "episode.json"
    fsutil.write_text(target, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
