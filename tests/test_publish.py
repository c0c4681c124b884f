"""Publishing public/: audio first, the feed last, never a dot-file; rsync argv from a pure
function; the ledger written only once the feed is delivered."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from test_feed import FeedProject, tone

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.formats import Ledger, LedgerShow, PendingEpisode, PendingLedger
from pipeline.publish import deliver as publish
from pipeline.publish.ledger import item_guid, ledger_digest, podcast_guid

FEED_URL = "https://agents-weekly.net/p/feed.xml"
OWN_SHOW = '[show]\ntitle = "T"\nauthor = "A"\nowner_name = "O"\n'  # no placeholder in it
NOW = dt.datetime(2026, 11, 29, 14, 0, tzinfo=dt.UTC)


SHOW = LedgerShow(feed_url=FEED_URL, guid=podcast_guid(FEED_URL))


def pending_text(built_against: str = "") -> bytes:
    """public/.ledger.toml as `pipeline feed` writes it, for one never-published episode."""
    episode = PendingEpisode(
        slug="2024-05-10-a", number=1, guid=item_guid(SHOW.guid, "2024-05-10-a"),
        enclosure_url="https://agents-weekly.net/p/2024-05-10-a/episode.mp3", sha256="a" * 64)
    ledger = PendingLedger(built_against=built_against, show=SHOW, episodes=[episode])
    return ledger.text().encode()


def write_show(root: Path, text: str = OWN_SHOW) -> Path:
    path = root / "assets" / "show.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_public(root: Path) -> Path:
    write_show(root)
    public = root / "public"
    for relative, data in {
        "feed.xml": b"<rss/>",
        "artwork-abc.png": b"png",
        "2024-05-10-a/episode.mp3": b"a" * 100,
        "2024-05-10-a/captions.vtt": b"WEBVTT\n",
        "2024-05-10-a/index.html": b"<html>",
        "2024-05-10-a/.notes.swp": b"editor",
        "2024-05-17-b/episode-0123456789ab.mp3": b"b" * 200,
        "2024-05-17-b/chapters.json": b"{}",
        ".ledger.toml": pending_text(),
    }.items():
        (public / relative).parent.mkdir(parents=True, exist_ok=True)
        (public / relative).write_bytes(data)
    return public


def ledger(root: Path) -> Path:
    return root / "episodes" / "published.toml"


def test_rsync_argvs() -> None:
    assert publish.rsync_argvs(Path("/p/public"), "me@host:/srv/pod") == [
        ["rsync", "--recursive", "--times", "--exclude=.*", "--include=*/", "--include=*.mp3",
         "--exclude=*", "/p/public/", "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "--exclude=.*", "--exclude=/feed.xml",
         "/p/public/", "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "--exclude=.*", "/p/public/feed.xml",
         "me@host:/srv/pod/"],
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
    everything = {p.relative_to(public).as_posix() for p in public.rglob("*") if p.is_file()}
    assert sorted(copied) == sorted(everything - {".ledger.toml", "2024-05-10-a/.notes.swp"})
    for name in copied:
        assert (site / name).read_bytes() == (public / name).read_bytes()
    assert not [p for p in site.rglob(".*")]  # no dot-file sent, no temporary file left
    # A second run sends nothing; a new feed is sent alone, and old audio stays there.
    assert publish.copy_to_folder(public, site) == []
    (public / "feed.xml").write_bytes(b"<rss>new</rss>")
    os.utime(public / "feed.xml", (1, 1))
    (public / "2024-05-10-a" / "episode.mp3").rename(public / "2024-05-10-a" / "episode-x.mp3")
    assert publish.copy_to_folder(public, site) == ["2024-05-10-a/episode-x.mp3", "feed.xml"]
    assert (site / "2024-05-10-a" / "episode.mp3").is_file()


def test_publish_reads_the_destination_from_the_show(tmp_path: Path) -> None:
    make_public(tmp_path)
    write_show(tmp_path, OWN_SHOW + '\n[feed]\ndestination = "out"\n')
    assert not ledger(tmp_path).exists()
    done = publish.publish(tmp_path, now=NOW)
    copied = done.steps
    assert copied[-1] == "feed.xml" and (tmp_path / "out" / "feed.xml").read_bytes() == b"<rss/>"
    assert done.ledger_changed
    recorded = tomllib.loads(ledger(tmp_path).read_text(encoding="utf-8"))
    assert recorded["show"]["feed_url"] == FEED_URL and "built_against" not in recorded
    assert [(e["slug"], e["first_published"]) for e in recorded["episodes"]] == [
        ("2024-05-10-a", NOW)]
    # Publishing the same public/ again sends nothing and keeps the first publication's time.
    again = publish.publish(tmp_path, now=NOW + dt.timedelta(days=1))
    assert again == publish.Published([], ledger_changed=False)
    assert tomllib.loads(ledger(tmp_path).read_text(encoding="utf-8")) == recorded


def test_empty_destination_is_refused(tmp_path: Path) -> None:
    make_public(tmp_path)
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


def test_rsync_missing_leaves_the_ledger_as_it_was(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_public(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(PipelineError, match="rsync is not installed"):
        publish.publish(tmp_path, "me@host:/srv/pod")
    assert not ledger(tmp_path).exists()


def test_an_unwritable_destination_is_one_line_and_leaves_the_ledger(tmp_path: Path) -> None:
    public = make_public(tmp_path)
    Ledger(show=SHOW).write_toml(ledger(tmp_path))  # the show, no episode yet
    committed = ledger(tmp_path).read_bytes()
    (public / ".ledger.toml").write_bytes(pending_text(ledger_digest(ledger(tmp_path))))
    blocker = tmp_path / "site"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(PipelineError, match="cannot write 2024-05-10-a/episode.mp3") as caught:
        publish.publish(tmp_path, str(blocker))
    assert caught.value.fix == "make the destination folder writable"
    assert "\n" not in caught.value.line()
    assert ledger(tmp_path).read_bytes() == committed
    assert publish.publish(tmp_path, str(tmp_path / "site2")).ledger_changed  # it would have


def test_public_without_a_pending_ledger_is_refused_before_sending(tmp_path: Path) -> None:
    (make_public(tmp_path) / ".ledger.toml").unlink()
    site = tmp_path / "site"
    with pytest.raises(PipelineError, match="public/ has no pending ledger") as caught:
        publish.publish(tmp_path, str(site))
    assert caught.value.fix == "rebuild it: make feed"
    assert not site.exists() and not ledger(tmp_path).exists()


SAMPLE = (REPO / "assets" / "show.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "named"), [
    (SAMPLE, "owner_email and base_url are still the sample show's: podcast@example.org, "
             "https://example.org/mlaisu/podcast"),
    (SAMPLE.replace("podcast@example.org", "me@mlaisu.ai"),
     "base_url is still the sample show's: https://example.org/mlaisu/podcast"),
    (OWN_SHOW + 'owner_email = "pod@www.example.com"\n',
     "owner_email is still the sample show's: pod@www.example.com"),
])
def test_the_sample_shows_placeholders_are_never_published(tmp_path: Path, text: str,
                                                           named: str) -> None:
    make_public(tmp_path)
    show = write_show(tmp_path, text)
    site = tmp_path / "site"
    with pytest.raises(PipelineError) as caught:
        publish.publish(tmp_path, str(site))
    assert caught.value.line() == (
        f"{show}: {named} (set your own under [show], then make publish)")
    assert not site.exists() and not ledger(tmp_path).exists()


def test_the_sample_title_alone_does_not_stop_publishing(tmp_path: Path) -> None:
    make_public(tmp_path)
    write_show(tmp_path, OWN_SHOW.replace('"T"', '"ML & AI Safety Updates"'))
    assert publish.publish(tmp_path, str(tmp_path / "site"), now=NOW).ledger_changed


def test_a_public_built_before_the_base_url_was_set_is_refused(tmp_path: Path) -> None:
    public = make_public(tmp_path)
    stale = LedgerShow(feed_url="https://example.org/mlaisu/podcast/feed.xml",
                       guid=podcast_guid("https://example.org/mlaisu/podcast/feed.xml"))
    (public / ".ledger.toml").write_text(PendingLedger(built_against="", show=stale,
                                                       episodes=[]).text(), encoding="utf-8")
    with pytest.raises(PipelineError) as caught:
        publish.publish(tmp_path, str(tmp_path / "site"))
    assert caught.value.line() == (f"{public}: built with the placeholder feed URL "
                                   "https://example.org/mlaisu/podcast/feed.xml "
                                   "(rebuild it: make feed)")
    assert not (tmp_path / "site").exists()


def test_the_command_refuses_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_public(tmp_path)
    show = write_show(tmp_path, SAMPLE)
    with pytest.raises(SystemExit) as failed:
        main(["publish", "--root", str(tmp_path), "--destination", str(tmp_path / "site")])
    assert failed.value.code == 1
    err = capsys.readouterr().err
    assert err == (f"error: {show}: owner_email and base_url are still the sample show's: "
                   "podcast@example.org, https://example.org/mlaisu/podcast (set your own under "
                   "[show], then make publish)\n")


def test_the_feed_builds_with_the_placeholders_and_warns(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    made = FeedProject(tmp_path / "show", {"short": tone(tmp_path / "a.mp3", 1, 440)})
    made.episode("2024-05-10-first", "First", 1, "Hello.\n")
    made.set_show("base_url", "https://example.org/mlaisu/podcast")
    main(["feed", "--root", str(made.root)])  # `make demo` builds the sample show like this
    out, err = capsys.readouterr()
    assert "https://example.org/mlaisu/podcast/2024-05-10-first/episode.mp3" in out
    assert err == ("warning: assets/show.toml: base_url is still the sample show's: fine for a "
                   "preview, but make publish refuses the feed until you set your own under "
                   "[show]\n")
    made.set_show("base_url", "https://mlaisu.test/podcast")
    main(["feed", "--root", str(made.root)])
    assert capsys.readouterr().err == ""
