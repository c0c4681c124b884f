"""Publishing public/: audio first, the feed last; rsync argv from a pure function."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import publish
from pipeline.errors import PipelineError


def make_public(root: Path) -> Path:
    public = root / "public"
    for relative, data in {
        "feed.xml": b"<rss/>",
        "artwork-abc.png": b"png",
        "2024-05-10-a/episode.mp3": b"a" * 100,
        "2024-05-10-a/captions.vtt": b"WEBVTT\n",
        "2024-05-10-a/index.html": b"<html>",
        "2024-05-17-b/episode-0123456789ab.mp3": b"b" * 200,
        "2024-05-17-b/chapters.json": b"{}",
    }.items():
        (public / relative).parent.mkdir(parents=True, exist_ok=True)
        (public / relative).write_bytes(data)
    return public


def test_rsync_argvs() -> None:
    assert publish.rsync_argvs(Path("/p/public"), "me@host:/srv/pod") == [
        ["rsync", "--recursive", "--times", "--include=*/", "--include=*.mp3", "--exclude=*",
         "/p/public/", "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "--exclude=/feed.xml", "/p/public/",
         "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "/p/public/feed.xml", "me@host:/srv/pod/"],
    ]


@pytest.mark.parametrize(("destination", "remote"), [
    ("host:path", True), ("me@host:/srv/pod", True), ("rsync://host/module", True),
    ("/srv/www/pod", False), ("site/pod", False), ("./a:b", False), ("~/pod", False),
])
def test_is_rsync_target(destination: str, remote: bool) -> None:
    assert publish.is_rsync_target(destination) is remote


def test_folder_gets_audio_first_and_the_feed_last(tmp_path: Path) -> None:
    public = make_public(tmp_path)
    site = tmp_path / "site"
    seen: list[str] = []
    copied = publish.copy_to_folder(public, site, on_copy=seen.append)
    assert copied == seen
    assert copied[:2] == ["2024-05-10-a/episode.mp3", "2024-05-17-b/episode-0123456789ab.mp3"]
    assert copied[-1] == "feed.xml"
    assert sorted(copied) == sorted(p.relative_to(public).as_posix()
                                    for p in public.rglob("*") if p.is_file())
    for name in copied:
        assert (site / name).read_bytes() == (public / name).read_bytes()
    assert not [p for p in site.rglob(".*")]  # no temporary files left
    # A second run sends nothing; a new feed is sent alone, and old audio stays there.
    assert publish.copy_to_folder(public, site) == []
    (public / "feed.xml").write_bytes(b"<rss>new</rss>")
    os.utime(public / "feed.xml", (1, 1))
    (public / "2024-05-10-a" / "episode.mp3").rename(public / "2024-05-10-a" / "episode-x.mp3")
    assert publish.copy_to_folder(public, site) == ["2024-05-10-a/episode-x.mp3", "feed.xml"]
    assert (site / "2024-05-10-a" / "episode.mp3").is_file()


def test_publish_reads_the_destination_from_the_show(tmp_path: Path) -> None:
    make_public(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "show.toml").write_text(
        '[show]\ntitle = "T"\nauthor = "A"\nowner_name = "O"\n\n[feed]\ndestination = "out"\n',
        encoding="utf-8")
    copied = publish.publish(tmp_path)
    assert copied[-1] == "feed.xml" and (tmp_path / "out" / "feed.xml").read_bytes() == b"<rss/>"


def test_empty_destination_is_refused(tmp_path: Path) -> None:
    make_public(tmp_path)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "show.toml").write_text(
        '[show]\ntitle = "T"\nauthor = "A"\nowner_name = "O"\n', encoding="utf-8")
    with pytest.raises(PipelineError, match="feed.destination is empty") as caught:
        publish.publish(tmp_path)
    assert caught.value.path.endswith("show.toml")


def test_unbuilt_public_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="public/ is not built"):
        publish.publish(tmp_path, str(tmp_path / "site"))


def test_missing_rsync_is_named_with_its_install(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("rsync") is None
    with pytest.raises(PipelineError, match=r"rsync is not installed.*apt-get install rsync"):
        publish.run_rsync(publish.rsync_argvs(make_public(tmp_path), "host:pod"))
