"""Publishing public/: audio first, the feed last, never a dot-file; rsync argv from a pure
function; the ledger written only once the feed is delivered and checked there; published
audio never replaced; public/ swapped so that a kill at any moment leaves a whole one."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import tomli_w
from conftest import REPO
from test_feed import FeedProject, tone

from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.formats import Ledger, LedgerShow, PendingEpisode, PendingLedger
from pipeline.publish import deliver as publish
from pipeline.publish.ledger import PUBLIC_LOCK, item_guid, ledger_digest, podcast_guid
from pipeline.util import lock
from pipeline.util.hashing import sha256_file

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
         "--exclude=*", "--", "/p/public/", "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "--exclude=.*", "--exclude=/feed.xml",
         "--", "/p/public/", "me@host:/srv/pod/"],
        ["rsync", "--recursive", "--times", "--exclude=.*", "--", "/p/public/feed.xml",
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


def test_a_missing_project_folder_is_named_and_not_made(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="no such project folder"):
        publish.publish(tmp_path / "nowhere", str(tmp_path / "site"))
    assert not (tmp_path / "nowhere").exists()


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


# ---------------------------------------------------------------- destinations


@pytest.mark.parametrize("destination", [
    "-e touch pwned", "--rsh=touch pwned", "--remove-source-files", "me@-oProxyCommand=x:pod",
    "-oProxyCommand=x:pod", "rsync://-x/module", "site\nother",
])
def test_an_option_like_destination_is_refused_in_one_line(tmp_path: Path,
                                                           destination: str) -> None:
    make_public(tmp_path)
    show = write_show(tmp_path, OWN_SHOW + tomli_w.dumps({"feed": {"destination": destination}}))
    with pytest.raises(PipelineError) as caught:
        publish.publish(tmp_path, now=NOW)
    what = "has a control character" if "\n" in destination else "starts like an option"
    assert caught.value.line() == (f"{show}: the destination {destination!r} {what} (set a "
                                   "folder or [user@]host:path (a folder named -x is ./-x))")
    assert "\n" not in caught.value.line()
    assert not ledger(tmp_path).exists() and not list(tmp_path.rglob("pwned"))


def test_the_command_names_an_option_like_destination(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    make_public(tmp_path)
    with pytest.raises(SystemExit) as failed:
        main(["publish", "--root", str(tmp_path), "--destination", "--rsh=sh"])
    assert failed.value.code == 1
    assert capsys.readouterr().err == (
        "error: --destination: the destination '--rsh=sh' starts like an option (set a folder "
        "or [user@]host:path (a folder named -x is ./-x))\n")
    assert not ledger(tmp_path).exists()


def test_a_folder_named_like_an_option_is_reached_by_its_path(tmp_path: Path) -> None:
    make_public(tmp_path)
    assert publish.publish(tmp_path, "./-site", now=NOW).ledger_changed
    assert (tmp_path / "-site" / "feed.xml").read_bytes() == b"<rss/>"


# ---------------------------------------------------------------- rsync, over a remote shell

# ssh to a remote machine that is this one: rsync runs `$RSYNC_RSH host rsync --server ...`,
# and the remote shell runs that command line, so rsync speaks its real remote protocol.
LOCAL_SSH = '#!/bin/sh\nshift\nexec sh -c "$*"\n'


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An rsync target host:path whose remote shell is this machine."""
    ssh = tmp_path / "bin" / "ssh"
    ssh.parent.mkdir()
    ssh.write_text(LOCAL_SSH, encoding="utf-8")
    ssh.chmod(0o755)
    monkeypatch.setenv("RSYNC_RSH", str(ssh))
    return f"pod-host:{tmp_path / 'remote-site'}"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rsync_publishes_and_records_once_nothing_is_left_to_send(tmp_path: Path,
                                                                  remote: str) -> None:
    public = make_public(tmp_path)
    done = publish.publish(tmp_path, remote, now=NOW)
    assert done.ledger_changed and ledger(tmp_path).is_file()
    assert [step.split()[-1] for step in done.steps] == [remote + "/"] * 3
    site = tmp_path / "remote-site"
    assert files(site) == {name: data for name, data in files(public).items()
                           if not any(part.startswith(".") for part in name.split("/"))}


def test_the_rsync_check_lists_what_the_destination_lacks(tmp_path: Path) -> None:
    public = make_public(tmp_path)
    site = tmp_path / "site"
    publish.copy_to_folder(public, site)
    check = publish.rsync_verify_argv(public, str(site))
    assert check[-3:] == ["--", f"{public}/", f"{site}/"]
    assert publish.itemized(publish._rsync(check)) == []
    (site / "2024-05-17-b" / "chapters.json").unlink()
    (site / "feed.xml").write_bytes(b"<rss>half")
    assert [path for _, path in publish.itemized(publish._rsync(check))] == [
        "feed.xml", "2024-05-17-b/chapters.json"]


# ---------------------------------------------------------------- published audio stays


@pytest.fixture
def show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FeedProject:
    """A show with two built episodes and real MP3s of two kinds."""
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    made = FeedProject(tmp_path / "show", {"short": tone(tmp_path / "a.mp3", 1, 440),
                                           "long": tone(tmp_path / "b.mp3", 2, 660)})
    made.episode(FIRST, "First", 1, "Hello.\n")
    made.episode(SECOND, "Second", 2, "Again.\n")
    return made


FIRST, SECOND = "2024-05-10-first", "2024-05-17-second"


@pytest.mark.parametrize("over_rsync", [False, True], ids=["folder", "rsync"])
def test_a_lost_ledger_never_replaces_published_audio(show: FeedProject, tmp_path: Path,
                                                      remote: str, over_rsync: bool) -> None:
    site = tmp_path / "remote-site"
    target = remote if over_rsync else str(site)
    show.build()
    publish.publish(show.root, target, now=NOW)
    published, committed = files(site), show.ledger.read_bytes()
    show.ledger.unlink()  # lost: a fresh clone without it, a `git clean`
    remastered = show.root / "episodes" / FIRST / "build" / "episode.mp3"
    shutil.copy(show.tones["long"], remastered)
    show.build()  # knowing no published name, the feed calls the new audio episode.mp3 again
    with pytest.raises(PipelineError) as caught:
        publish.publish(show.root, target, now=NOW)
    assert caught.value.line() == (
        f"{target}: {FIRST}/episode.mp3 is already published there with other audio, which "
        "the ledger episodes/published.toml does not know (lost or out of date); nothing was "
        "sent (restore episodes/published.toml from git, then make feed and make publish "
        "again)")
    assert files(site) == published and not show.ledger.exists()
    # With the ledger back, the new audio gets a name of its own; the old URL keeps its audio.
    show.ledger.write_bytes(committed)
    show.build()
    publish.publish(show.root, target, now=NOW)
    new_name = f"episode-{sha256_file(remastered)[:12]}.mp3"
    assert (site / FIRST / "episode.mp3").read_bytes() == published[f"{FIRST}/episode.mp3"]
    assert (site / FIRST / new_name).read_bytes() == remastered.read_bytes()


def test_the_same_audio_copied_again_is_no_clash(show: FeedProject, tmp_path: Path) -> None:
    show.build()
    publish.publish(show.root, str(tmp_path / "site"), now=NOW)
    show.ledger.unlink()
    mp3 = show.root / "episodes" / FIRST / "build" / "episode.mp3"
    os.utime(mp3, (1, 1))  # the same bytes with another time, as a rebuild leaves them
    show.build()
    assert publish.publish(show.root, str(tmp_path / "site"), now=NOW).ledger_changed


def test_a_bad_copy_stops_before_the_feed_and_the_ledger(show: FeedProject,
                                                         tmp_path: Path) -> None:
    show.build()
    site = tmp_path / "site"

    def spoil(name: str) -> None:  # a disk that loses what it was given
        if name.endswith(".mp3"):
            (site / name).write_bytes(b"\0" * 100)

    with pytest.raises(PipelineError) as caught:
        publish.publish(show.root, str(site), on_copy=spoil, now=NOW)
    assert caught.value.line() == (
        f"{site}: delivery not verified: {FIRST}/episode.mp3 differs there from public/; "
        "episodes/published.toml was not written (check the destination's disk, then make "
        "publish again)")
    assert not (site / "feed.xml").exists() and not (site / FIRST / "episode.mp3").exists()
    assert not show.ledger.exists()
    assert publish.publish(show.root, str(site), now=NOW).ledger_changed
    assert files(site) == {name: data for name, data in files(show.public).items()
                           if not name.startswith(".")}


def test_publish_waits_while_the_feed_is_built(show: FeedProject, tmp_path: Path) -> None:
    show.build()
    with lock.exclusive(show.root / PUBLIC_LOCK, "pipeline feed"):
        child = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "publish", "--root", str(show.root),
             "--destination", str(tmp_path / "site")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stderr.readline() == (
            f"publish: waiting for pipeline feed (pid {os.getpid()}) to finish with public/\n")
        assert not (tmp_path / "site").exists()
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert (tmp_path / "site" / "feed.xml").read_bytes() == show.feed_bytes()


# ---------------------------------------------------------------- public/ killed mid-swap

# `pipeline feed` in a child that stops at one point of the swap until it is killed; the
# swap itself is the real one, on the real filesystem.
PAUSED_FEED = """
import os, sys
from pipeline.cli import main
from pipeline.util import fsutil

def pause():
    print("paused", flush=True)
    sys.stdin.read()  # until the test kills this process

point, root = sys.argv[1:]
exchange, rename = fsutil.exchange, os.rename
if point == "before the swap":
    def paused(a, b):
        pause()
        return exchange(a, b)
    fsutil.exchange = paused
elif point == "after the swap":
    def paused(a, b):
        done = exchange(a, b)
        pause()
        return done
    fsutil.exchange = paused
else:  # between the two renames, on a filesystem that cannot swap in one step
    fsutil.exchange = lambda a, b: False
    def paused(src, dst):
        rename(src, dst)
        if os.path.basename(dst).startswith(".public.old-"):
            pause()
    os.rename = paused
main(["feed", "--root", root])
"""


def feed_killed_at(root: Path, point: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", PAUSED_FEED, point, str(root)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "paused\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)


def scratch(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".public.*") if p.name != PUBLIC_LOCK)


@pytest.mark.parametrize(("point", "left"), [
    ("before the swap", "old"), ("after the swap", "new"), ("between the renames", "old")])
def test_a_feed_build_killed_mid_swap_leaves_a_whole_public(show: FeedProject, point: str,
                                                            left: str) -> None:
    show.build()
    old = show.snapshot()
    show.episode("2024-05-24-third", "Third", 3, "Three.\n")
    feed_killed_at(show.root, point)
    assert scratch(show.root)  # the killed build's leftovers
    if point == "between the renames":
        # Only where the filesystem cannot swap in one step: no public/ until the next run,
        # which puts the old one back from where the first rename left it.
        assert not show.public.exists()
        [aside] = [p for p in show.root.glob(".public.old-*")]
        assert {p.relative_to(aside).as_posix(): p.read_bytes()
                for p in sorted(aside.rglob("*")) if p.is_file()} == old
        publish.publish(show.root, str(show.root.parent / "site"), now=NOW)
        assert show.snapshot() == old and scratch(show.root) == []
        return
    now = show.snapshot()
    assert (now == old) is (left == "old")
    assert ("2024-05-24-third/episode.mp3" in now) is (left == "new")
    show.build()  # the next run cleans up
    assert scratch(show.root) == []
    assert "2024-05-24-third/episode.mp3" in show.snapshot()
