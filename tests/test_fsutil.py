"""Atomic writes: a failure inside the block leaves the old file and no temporary behind."""

from __future__ import annotations

import json
import os

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
    target = tmp_path / "episode.json"
    fsutil.write_text(target, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_the_umask_is_read_without_setting_it(monkeypatch) -> None:
    """Threads write files at once (the review's probes, master's encodes): a umask set to 0
    for a moment would make a file another thread creates then writable by all."""
    umask = os.umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", lambda mask: pytest.fail("the umask was set"))
        assert fsutil._umask() == 0o027
    finally:
        monkeypatch.undo()
        os.umask(umask)


def tree(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("one_step", [True, False], ids=["exchange", "two renames"])
def test_replace_dir_swaps_in_the_new_folder_and_removes_the_old(tmp_path, monkeypatch,
                                                                 one_step: bool) -> None:
    if not one_step:  # a filesystem without renameat2 RENAME_EXCHANGE
        monkeypatch.setattr(fsutil, "exchange", lambda a, b: False)
    target = tmp_path / "public"
    umask = os.umask(0)
    os.umask(umask)
    for generation in ("first", "second"):
        new = fsutil.scratch_dir(target)  # a web server must read it: not mkdtemp's 0700
        assert new.name.startswith(".public.new-")
        assert new.stat().st_mode & 0o777 == 0o777 & ~umask
        (new / "sub").mkdir()
        (new / "sub" / "file.txt").write_text(generation)
        fsutil.replace_dir(new, target)
        assert tree(target) == {"sub/file.txt": generation}
        assert [p.name for p in tmp_path.iterdir()] == ["public"]


def test_exchange_swaps_two_folders_in_one_step(tmp_path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "f").write_text("a")
    (b / "f").write_text("b")
    if not fsutil.exchange(a, b):
        pytest.skip("this filesystem cannot swap in one step")
    assert ((a / "f").read_text(), (b / "f").read_text()) == ("b", "a")


def test_clear_scratch_puts_the_old_folder_back_and_removes_the_rest(tmp_path) -> None:
    target = tmp_path / "public"
    old = tmp_path / ".public.old-1234abcd"  # a crash came between the two renames
    old.mkdir()
    (old / "feed.xml").write_text("old")
    fsutil.scratch_dir(target)
    (tmp_path / ".publicity").mkdir()  # not ours
    removed = fsutil.clear_scratch(target)
    assert len(removed) == 1 and removed[0].name.startswith(".public.new-")
    assert tree(target) == {"feed.xml": "old"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".publicity", "public"]
    assert fsutil.clear_scratch(target) == []
