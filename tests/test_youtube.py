"""The upload stage against a YouTube stand-in on loopback, through the real
google-api-python-client, with faults injected. Nothing reaches the network."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from googleapiclient.errors import HttpError
from httplib2 import Response
from PIL import Image

from pipeline.cli import main
from pipeline.config import load_show
from pipeline.errors import PipelineError
from pipeline.formats import YouTubeRecord, YouTubeVideos
from pipeline.publish.youtube import auth, identity, login, metadata, resumable
from pipeline.publish.youtube.client import discovery_document, strip_secrets
from tests import builders
from tests.youtube_standin import Fault, Hold, StandIn

REPO = Path(__file__).resolve().parents[1]
SLUG = "2023-01-06-ai-improving-itself"
ACCESS = "ya29.FAKE-access-token-do-not-log"
REFRESH = "1//FAKE-refresh-token-do-not-log"
SECRET = "GOCSPX-FAKE-client-secret-do-not-log"
CHUNK = 256 * 1024
VIDEO_BYTES = 4 * CHUNK - 12345  # four chunks, the last one short
TITLE = "AI Improving Itself | ML & AI Safety Updates #1"
DESCRIPTION = "Research that improves AI with AI.\n\n0:00 Introduction\n0:12 Interpretability\n"
TAGS = ["AI safety", "machine learning", "alignment"]
EPISODE_TAG = f"episode-{SLUG}"  # the tag that marks the episode's video on the channel

SHOW_TOML = """
[show]
title = "ML & AI Safety Updates"
author = "Apart Research"
owner_name = "Apart Research"
language = "en"

[youtube]
privacy = "{privacy}"
category_id = "28"
playlist_id = "{playlist}"
tags = ["AI safety", "machine learning", "alignment"]
made_for_kids = false
audio_language = "en-GB"
captions_name = "English"
"""

ISSUE = """---
title: AI Improving Itself
number: 1
date: 2023-01-06
summary: Research that improves AI with AI.
---
Welcome to this week's update.
"""


@functools.cache
def real_mp4() -> bytes:
    """A real 2 s MP4 (picture and sound), made once: the pre-flight check reads it."""
    out = Path(tempfile.mkdtemp(prefix="youtube-mp4-")) / "base.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "color=c=navy:s=64x36:r=30:d=2", "-f", "lavfi", "-i",
                    "sine=duration=2:sample_rate=48000", "-c:v", "libx264", "-preset",
                    "ultrafast", "-c:a", "aac", str(out)], check=True)
    return out.read_bytes()


def video_bytes(seed: int) -> bytes:
    """The real MP4 grown to VIDEO_BYTES by a trailing `free` box of random bytes (valid
    ISO BMFF: players skip it), different for every seed."""
    base = real_mp4()
    size = VIDEO_BYTES - len(base)
    return base + size.to_bytes(4, "big") + b"free" + random.Random(seed).randbytes(size - 8)


def make_project(root: Path, privacy: str = "unlisted", playlist: str = "PLstandin") -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "assets" / "show.toml").write_text(
        SHOW_TOML.format(privacy=privacy, playlist=playlist), encoding="utf-8")
    episode = root / "episodes" / SLUG
    build = episode / "build"
    build.mkdir(parents=True)
    (episode / "issue.md").write_text(ISSUE, encoding="utf-8")
    (build / "video.mp4").write_bytes(video_bytes(6))
    Image.new("RGB", (1280, 720), (20, 60, 120)).save(build / "thumbnail.jpg", quality=85)
    (build / "captions.vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nWelcome to this week's update.\n",
        encoding="utf-8")
    (build / "youtube-title.txt").write_text(TITLE + "\n", encoding="utf-8")
    (build / "youtube-description.txt").write_text(DESCRIPTION, encoding="utf-8")
    builders.timeline([builders.timed("intro/intro-1", 0.2, 1.8, 0)], 2.0).write(build)
    return episode


def write_token(path: Path, token_uri: str, expiry: str = "2099-01-01T00:00:00Z",
                **extra: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "token": ACCESS, "refresh_token": REFRESH, "token_uri": token_uri,
        "client_id": "1234-fake.apps.googleusercontent.com", "client_secret": SECRET,
        "scopes": auth.SCOPES, "expiry": expiry, **extra}), encoding="utf-8")
    path.chmod(0o600)


@pytest.fixture
def standin():
    with StandIn(ACCESS, REFRESH) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    token = tmp_path / "config" / "youtube-token.json"
    write_token(token, standin.url + "token")
    values = {
        "PIPELINE_YOUTUBE_ROOT_URL": standin.url,
        "PIPELINE_YOUTUBE_TOKEN": str(token),
        "PIPELINE_YOUTUBE_CHUNK_SIZE": str(CHUNK),
        "PIPELINE_YOUTUBE_BACKOFF_SCALE": "0.001",
        "PIPELINE_CACHE_DIR": str(tmp_path / "cache"),
    }
    monkeypatch.delenv("PIPELINE_ROOT", raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def episode(tmp_path: Path) -> Path:
    return make_project(tmp_path / "show")


def run_cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record(episode: Path) -> YouTubeRecord:
    return YouTubeRecord.read(episode / "build")


def assert_one_true_video(standin: StandIn, episode: Path) -> dict:
    """Exactly one video, holding the file's bytes and the episode's metadata."""
    assert len(standin.videos) == 1
    video = next(iter(standin.videos.values()))
    assert video["sha256"] == sha(episode / "build" / "video.mp4")
    assert video["bytes"] == VIDEO_BYTES
    assert video["metadata"] == {
        "snippet": {"title": TITLE, "description": DESCRIPTION.strip(),
                    "tags": [*TAGS, EPISODE_TAG], "categoryId": "28", "defaultLanguage": "en",
                    "defaultAudioLanguage": "en-GB"},
        "status": {"privacyStatus": "unlisted", "selfDeclaredMadeForKids": False,
                   "containsSyntheticMedia": True},
    }
    assert set(video["query"]["part"].split(",")) == {"snippet", "status"}
    assert record(episode).request == video["metadata"]  # the record holds what was sent
    return video


def assert_finished(standin: StandIn, episode: Path) -> None:
    video = assert_one_true_video(standin, episode)
    video_id = video["resource"]["id"]
    build = episode / "build"
    assert standin.thumbnails == {video_id: sha(build / "thumbnail.jpg")}
    assert [(c["snippet"]["videoId"], c["snippet"]["language"], c["sha256"])
            for c in standin.captions] == [(video_id, "en", sha(build / "captions.vtt"))]
    assert [(i["snippet"]["playlistId"], i["snippet"]["resourceId"]["videoId"])
            for i in standin.playlist_items] == [("PLstandin", video_id)]
    steps = record(episode).steps
    assert {name: s.status for name, s in steps.items()} == {
        "video": "done", "thumbnail": "done", "captions": "done", "playlist": "done"}
    assert steps["video"].id == video_id


# -- whole uploads against the stand-in --


def test_upload_sends_file_and_episode_metadata(env, standin, episode, capfd):
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    assert standin.count("init") == 3  # video, thumbnail, captions: one session each
    assert [r["start"] for r in standin.requests if r.get("upload") == "videos"
            and r["kind"] == "chunk"] == [0, CHUNK, 2 * CHUNK, 3 * CHUNK]
    err = capfd.readouterr().err
    assert "upload video: 100% (1.04/1.04 MB)" in err.splitlines()
    assert "watch?v=" in err


def test_503_on_a_chunk_is_retried(env, standin, episode, capfd):
    standin.faults.append(Fault("chunk", "videos", 503, at=CHUNK))
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    assert "video upload: HTTP 503; try 2 of 10" in capfd.readouterr().err
    assert standin.count("status") == 1  # asked the session before sending again
    assert standin.count("init") == 3


def test_connection_reset_mid_chunk_is_retried(env, standin, episode, capfd):
    standin.faults.append(Fault("chunk", "videos", "reset", at=2 * CHUNK))
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    err = capfd.readouterr().err
    assert "video upload: Connection" in err or "video upload: BrokenPipe" in err
    assert standin.count("init") == 3


def test_500_on_initiation_is_retried(env, standin, episode, capfd):
    standin.faults += [Fault("init", "videos", 500), Fault("init", "videos", 502)]
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    assert sum(1 for r in standin.requests if r["kind"] == "init" and r["upload"] == "videos") == 3
    assert "video upload (starting): HTTP 502; try 3 of 10" in capfd.readouterr().err


def test_quota_exceeded_stops_keeps_state_and_rerun_resumes(env, standin, episode, capfd):
    standin.faults.append(Fault("chunk", "videos", 403, reason="quotaExceeded", at=2 * CHUNK))
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err
    assert "quota used up" in err and "midnight Pacific time" in err
    assert "youtube.json" in err
    assert len(err.strip().splitlines()[-1]) < 400 and err.strip().splitlines()[-1].startswith(
        "error:")
    assert standin.videos == {}
    saved = record(episode).steps["video"]
    assert saved.status == "started" and "upload_id=" in (saved.session_uri or "")
    assert standin.count("chunk") == 3  # the third chunk was refused, not retried
    sent_before = len(standin.requests)

    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    video_inits = [r for r in standin.requests if r["kind"] == "init" and r["upload"] == "videos"]
    assert len(video_inits) == 1  # the rerun resumed the saved session
    assert standin.count("status") == 1
    assert [r["start"] for r in standin.requests[sent_before:]
            if r["kind"] == "chunk" and r["upload"] == "videos"] == [2 * CHUNK, 3 * CHUNK]


def default_sigint() -> None:
    """A suite run as a background job ignores SIGINT and its children inherit that; the
    upload a producer stops with Ctrl-C runs in the foreground, where SIGINT interrupts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_killed_upload_resumes_from_the_server_offset(env, standin, episode, sig):
    standin.hold = Hold("videos", at=2 * CHUNK)
    command = [sys.executable, "-m", "pipeline.cli", "upload", str(episode)]
    proc_env = {**os.environ, **env}
    proc = subprocess.Popen(command, cwd=REPO, env=proc_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=default_sigint)
    try:
        assert standin.hold.held.wait(60), proc.communicate(timeout=5)
        assert record(episode).steps["video"].status == "started"
        os.kill(proc.pid, sig)
        proc.wait(10)
    finally:
        standin.hold.release.set()
        if proc.poll() is None:
            proc.kill()
        _, stderr = proc.communicate()
    assert standin.hold.handled.wait(10)  # the parked chunk is kept or dropped by now
    if sig == signal.SIGINT:  # Ctrl-C: a clean stop that says how to go on
        assert proc.returncode == 130
        assert b"interrupted: progress is kept" in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
    assert standin.videos == {}

    done = subprocess.run(command, cwd=REPO, env=proc_env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert_finished(standin, episode)
    video_inits = [r for r in standin.requests if r["kind"] == "init" and r["upload"] == "videos"]
    assert len(video_inits) == 1
    assert standin.count("status") == 1
    assert "resuming at byte" in done.stderr


def test_5xx_gives_up_after_ten_tries_and_4xx_is_not_retried(env, standin, episode, capfd):
    standin.faults += [Fault("init", "videos", 503) for _ in range(10)]
    assert run_cli("upload", str(episode)) == 1
    assert "YouTube kept failing during the video upload (HTTP 503" in capfd.readouterr().err
    assert standin.count("init") == 10 and standin.sessions == {}

    standin.faults.append(Fault("chunk", "videos", 400, reason="invalidRange", at=CHUNK))
    assert run_cli("upload", str(episode)) == 1
    assert "YouTube rejected the video upload (HTTP 400 invalidRange" in capfd.readouterr().err
    assert standin.count("chunk") == 2  # the refused chunk was sent once
    assert record(episode).steps["video"].status == "started"


def test_partly_done_episode_sends_only_what_is_missing(env, standin, episode, capfd):
    standin.faults.append(Fault("init", "captions", 400, reason="invalidValue"))
    assert run_cli("upload", str(episode)) == 1
    assert "YouTube rejected the captions upload (HTTP 400 invalidValue" in capfd.readouterr().err
    video_id = record(episode).steps["video"].id
    (episode / "build" / "video.mp4").unlink()  # not needed any more
    assert run_cli("upload", "--dry-run", str(episode)) == 0
    out = capfd.readouterr().out
    assert out.startswith("captions: POST ") and f'"videoId": "{video_id}"' in out
    assert "video:" not in out and "thumbnail:" not in out
    sent = len(standin.requests)
    assert run_cli("upload", str(episode)) == 0
    assert [r["kind"] for r in standin.requests[sent:]] == [
        "init", "chunk", "playlist-list", "playlist"]
    assert len(standin.videos) == 1 and len(standin.captions) == 1
    assert run_cli("upload", str(episode)) == 0  # finished, even without the video file
    assert len(standin.requests) == sent + 4


def test_finished_episode_is_a_no_op_and_force_uploads_again(env, standin, episode, capfd):
    assert run_cli("upload", str(episode)) == 0
    first = record(episode).steps["video"].id
    sent = len(standin.requests)
    capfd.readouterr()

    assert run_cli("upload", str(episode)) == 0
    assert len(standin.requests) == sent  # zero requests
    assert "already on YouTube" in capfd.readouterr().err

    assert run_cli("upload", "--force", str(episode)) == 0
    err = capfd.readouterr().err
    assert ("costs 1 of the project's 100 uploads a day (videos.insert has its own quota) "
            "and 500 of its 10,000 units a day (thumbnail 50, captions 400, playlist 50)") in err
    assert len(standin.videos) == 2
    assert {v["sha256"] for v in standin.videos.values()} == {sha(episode / "build/video.mp4")}
    saved = record(episode)
    assert saved.steps["video"].id not in (first, "")
    assert saved.previous[0].steps["video"].id == first


def test_dry_run_prints_the_requests_and_sends_nothing(env, standin, episode, capfd):
    assert run_cli("upload", "--dry-run", str(episode)) == 0
    out = capfd.readouterr().out
    assert standin.requests == []
    assert not (episode / "build" / "youtube.json").exists()
    assert f"video: POST {standin.url}upload/youtube/v3/videos?" in out
    assert "uploadType=resumable" in out
    assert json.dumps(TITLE) in out and '"defaultAudioLanguage": "en-GB"' in out
    assert f"thumbnail: POST {standin.url}upload/youtube/v3/thumbnails/set?" in out
    assert '"playlistId": "PLstandin"' in out
    assert "chunks of 262,144 bytes" in out


def test_thumbnail_refused_warns_and_goes_on(env, standin, episode, capfd):
    standin.faults.append(Fault("init", "thumbnails", 403, reason="forbidden"))
    assert run_cli("upload", str(episode)) == 0
    assert "refused the thumbnail" in capfd.readouterr().err
    assert standin.thumbnails == {}
    assert len(standin.captions) == 1 and len(standin.playlist_items) == 1
    assert record(episode).steps["thumbnail"].status == "skipped"


def test_quota_used_up_at_the_thumbnail_is_not_a_refusal(env, standin, episode, capfd):
    standin.faults.append(Fault("init", "thumbnails", 403, reason="quotaExceeded"))
    assert run_cli("upload", str(episode)) == 1
    assert "quota used up during the thumbnail upload" in capfd.readouterr().err
    assert "thumbnail" not in record(episode).steps
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)


def test_private_when_public_asked_warns_about_the_audit(env, standin, tmp_path, capfd):
    episode = make_project(tmp_path / "public", privacy="public", playlist="")
    standin.force_private = True
    assert run_cli("upload", str(episode)) == 0
    err = capfd.readouterr().err
    assert "made the video private although public was asked" in err
    assert "unverified API project" in err
    assert record(episode).steps["video"].privacy == "private"
    assert "playlist" not in record(episode).steps


def test_401_after_refresh_says_sign_in_again(env, standin, episode, capfd):
    standin.reject_all_tokens = True
    assert run_cli("upload", str(episode)) == 1
    assert "pipeline youtube-login` to sign in again" in capfd.readouterr().err
    assert standin.count("token") >= 1  # the client refreshed before giving up
    assert standin.videos == {}
    standin.refresh_token = "revoked"  # now the refresh itself is refused
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err
    assert "Google refused to refresh the YouTube sign-in during the video upload" in err
    assert "sign in again" in err and "Traceback" not in err


def test_no_token_says_run_login(env, standin, episode, capfd, monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_YOUTUBE_TOKEN", str(tmp_path / "none.json"))
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err
    assert "not signed in to YouTube" in err and "run `pipeline youtube-login`" in err
    assert standin.requests == []


def test_no_secret_reaches_logs_or_build_files(env, standin, episode, capfd, caplog):
    caplog.set_level("DEBUG")
    # expired: the token is refreshed (and rewritten) before the upload
    write_token(Path(env["PIPELINE_YOUTUBE_TOKEN"]), standin.url + "token",
                expiry="2001-01-01T00:00:00Z")
    standin.faults += [Fault("chunk", "videos", 503, at=CHUNK),
                       Fault("chunk", "videos", "reset", at=2 * CHUNK),
                       Fault("chunk", "videos", 403, reason="quotaExceeded", at=3 * CHUNK)]
    assert run_cli("upload", str(episode)) == 1
    standin.reject_all_tokens = True
    assert run_cli("upload", str(episode)) == 1
    standin.reject_all_tokens = False
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)

    captured = capfd.readouterr()
    texts = [captured.out, captured.err, caplog.text]
    texts += [p.read_text(errors="replace") for p in (episode / "build").rglob("*")
              if p.is_file() and p.suffix in (".json", ".txt", ".vtt")]
    refreshed = {t for t in standin.valid_tokens if t != ACCESS}
    assert refreshed  # the stand-in handed out a new token, which must not leak either
    for text in texts:
        for secret in (ACCESS, REFRESH, SECRET, *refreshed, "Bearer", "Authorization"):
            assert secret not in text
    sent = [v for r in standin.requests for k, v in r["headers"].items()
            if k.lower() == "authorization"]
    assert any(h.startswith("Bearer refreshed-") for h in sent)  # it was really used
    token = Path(env["PIPELINE_YOUTUBE_TOKEN"])
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert json.loads(token.read_text())["token"] in refreshed


# -- sign-in --


def test_expired_token_is_refreshed_and_saved_owner_only(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_YOUTUBE_ROOT_URL", standin.url)
    token = tmp_path / "t" / "youtube-token.json"
    write_token(token, standin.url + "token", expiry="2001-01-01T00:00:00Z")
    credentials = auth.load_credentials(token)
    assert credentials.token.startswith("refreshed-") and credentials.valid
    assert json.loads(token.read_text())["token"] == credentials.token
    assert stat.S_IMODE(token.stat().st_mode) == 0o600


def test_revoked_refresh_token_says_sign_in_again(standin, tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_YOUTUBE_ROOT_URL", standin.url)
    token = tmp_path / "youtube-token.json"
    write_token(token, standin.url + "token", expiry="2001-01-01T00:00:00Z")
    standin.refresh_token = "another"
    with pytest.raises(PipelineError, match="sign in again") as info:
        auth.load_credentials(token)
    assert REFRESH not in str(info.value) and SECRET not in str(info.value)


def test_login_paste_flow_stores_the_token_owner_only(standin, tmp_path, monkeypatch, capsys):
    secrets = tmp_path / "client_secret.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "1234-fake.apps.googleusercontent.com", "client_secret": SECRET,
        "auth_uri": standin.url + "auth", "token_uri": standin.url + "token",
        "redirect_uris": ["http://localhost"]}}), encoding="utf-8")
    token = tmp_path / "config" / "youtube-token.json"
    monkeypatch.setenv("PIPELINE_YOUTUBE_TOKEN", str(token))
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the stand-in speaks plain http
    standin.codes.add("4/code-from-google")
    shown: list[str] = []

    def browser_lands(text: str, hide_input: bool) -> str:
        # what the producer pastes: the loopback address the browser was sent to
        shown.append(capsys.readouterr().out)
        url = next(line for line in shown[-1].splitlines() if line.startswith(standin.url))
        query = dict(parse_qsl(urlsplit(url).query))
        assert set(query["scope"].split()) == set(auth.SCOPES)
        assert query["access_type"] == "offline" and hide_input
        return f"{query['redirect_uri']}?state={query['state']}&code=4/code-from-google"

    monkeypatch.setattr(login.click, "prompt", browser_lands)
    assert run_cli("youtube-login", "--paste", "--client-secrets", str(secrets)) == 0
    saved = json.loads(token.read_text())
    assert saved["refresh_token"] == REFRESH and saved["token"].startswith("refreshed-")
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    printed = capsys.readouterr()
    assert "signed in" in printed.out and REFRESH not in printed.out
    assert saved["token"] not in printed.out + printed.err
    signed_in = dt.datetime.fromisoformat(saved["pipeline_signed_in"].replace("Z", "+00:00"))
    assert dt.timedelta(0) <= dt.datetime.now(dt.UTC) - signed_in < dt.timedelta(hours=1)
    assert "note: if the OAuth app is in Testing status, Google ends this sign-in after 7 " \
        "days" in printed.err and "OAuth consent screen > Publish app" in printed.err

    # an earlier sign-in of this client outlived 7 days: the app is published, no note
    saved["pipeline_outlived_testing"] = True
    token.write_text(json.dumps(saved), encoding="utf-8")
    assert run_cli("youtube-login", "--paste", "--client-secrets", str(secrets)) == 0
    assert "Testing" not in capsys.readouterr().err
    assert json.loads(token.read_text())["pipeline_outlived_testing"] is True


def test_token_path_defaults_outside_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("PIPELINE_YOUTUBE_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert auth.token_path() == tmp_path / "xdg" / "episode-pipeline" / "youtube-token.json"
    monkeypatch.setenv("PIPELINE_YOUTUBE_TOKEN", str(tmp_path / "elsewhere.json"))
    assert auth.token_path() == tmp_path / "elsewhere.json"


def test_client_secrets_missing_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPELINE_YOUTUBE_CLIENT_SECRETS", raising=False)
    make_project(tmp_path)
    settings = load_show(tmp_path).youtube
    with pytest.raises(PipelineError, match="youtube.client_secrets"):
        auth.client_secrets_path(settings, tmp_path)


def test_corrupt_token_file_is_named_without_its_contents(tmp_path):
    token = tmp_path / "youtube-token.json"
    token.write_text('{"token": "' + ACCESS + '"', encoding="utf-8")
    token.chmod(0o600)
    with pytest.raises(PipelineError, match="not a valid token") as info:
        auth.load_credentials(token)
    assert ACCESS not in str(info.value)


# -- pure parts --


def test_backoff_schedule_is_jittered_exponential_and_skips_4xx():
    slept: list[float] = []
    backoff = resumable.Backoff(tries=4, sleep=slept.append, rand=lambda: 0.5)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionResetError("reset")
        return "ok"

    assert resumable.with_retries(flaky, "x", backoff, lambda m: None) == "ok"
    assert slept == [1.0, 2.0, 4.0]  # 0.5 * 2**1, 2**2, 2**3

    refused = HttpError(Response({"status": 400}), b"{}", uri="u")
    backoff = resumable.Backoff(tries=4, sleep=slept.append, rand=lambda: 0.5)

    def bad():
        calls.append(1)
        raise refused

    calls.clear()
    with pytest.raises(HttpError):
        resumable.with_retries(bad, "x", backoff, lambda m: None)
    assert len(calls) == 1


def test_retry_gives_up_after_the_last_try():
    backoff = resumable.Backoff(tries=3, sleep=lambda s: None)
    down = HttpError(Response({"status": 503}), b"{}", uri="u")
    calls = []

    def failing():
        calls.append(1)
        raise down

    with pytest.raises(HttpError):
        resumable.with_retries(failing, "x", backoff, lambda m: None)
    assert len(calls) == 3


def test_chunk_size_must_be_a_multiple_of_256_kib(monkeypatch):
    monkeypatch.setenv("PIPELINE_YOUTUBE_CHUNK_SIZE", str(3 * CHUNK))
    assert resumable.chunk_size() == 3 * CHUNK
    monkeypatch.setenv("PIPELINE_YOUTUBE_CHUNK_SIZE", "1000000")
    with pytest.raises(PipelineError, match="multiple of 262144"):
        resumable.chunk_size()
    monkeypatch.delenv("PIPELINE_YOUTUBE_CHUNK_SIZE")
    assert resumable.chunk_size() == 8 * 1024 * 1024


@pytest.mark.parametrize(("now", "reset"), [
    ("2023-01-06T12:00:00+00:00", "2023-01-07T08:00:00+00:00"),  # PST, UTC-8
    ("2023-07-06T06:59:00+00:00", "2023-07-06T07:00:00+00:00"),  # PDT, UTC-7
    ("2023-03-12T09:00:00+00:00", "2023-03-13T07:00:00+00:00"),  # the day clocks go forward
])
def test_quota_resets_at_midnight_pacific(now, reset):
    assert metadata.quota_reset(dt.datetime.fromisoformat(now)) == dt.datetime.fromisoformat(
        reset)


def test_publish_at_forces_private_and_is_sent_in_utc(tmp_path):
    make_project(tmp_path, privacy="public")
    settings = load_show(tmp_path)
    now = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    when = metadata.parse_publish_at("2023-01-06T16:00:00+01:00", now, tmp_path)
    assert when == "2023-01-06T15:00:00Z"
    body = metadata.video_body(settings, "t", "d", [], when, synthetic=True)
    assert body["status"] == {"privacyStatus": "private", "publishAt": when,
                              "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True}
    with pytest.raises(PipelineError, match="no time zone"):
        metadata.parse_publish_at("2023-01-06T16:00:00", now, tmp_path)
    with pytest.raises(PipelineError, match="in the past"):
        metadata.parse_publish_at("2022-01-06T16:00:00Z", now, tmp_path)


def test_the_recorded_request_is_the_video_body_and_nothing_else(tmp_path):
    make_project(tmp_path)
    body = metadata.video_body(load_show(tmp_path), "t", "d", ["a b"], "2023-01-06T15:00:00Z",
                               synthetic=False)
    path = YouTubeRecord(request=body).write(tmp_path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert json.dumps(saved["request"]) == json.dumps(body)  # the same keys, in order
    assert YouTubeRecord.read(tmp_path).request == body
    saved["request"]["snippet"]["madeUp"] = "x"
    path.write_text(json.dumps(saved), encoding="utf-8")
    with pytest.raises(PipelineError, match=r"request\.snippet\.madeUp: an unknown field"):
        YouTubeRecord.read(tmp_path)


def test_bad_title_and_missing_video_are_one_line_errors(env, standin, episode, capfd):
    title = episode / "build" / "youtube-title.txt"
    title.write_text("x" * 101, encoding="utf-8")
    assert run_cli("upload", str(episode)) == 1
    assert ("build/youtube-title.txt: the upload refused by the pre-flight check: the YouTube "
            "title has 101 characters") in capfd.readouterr().err
    title.write_text(TITLE, encoding="utf-8")
    (episode / "build" / "video.mp4").unlink()
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err
    assert (f"build/video.mp4: the upload refused by the pre-flight check: no video.mp4 "
            f"(build it: make video EP={episode.name})") in err
    assert standin.requests == []


def test_tags_are_counted_as_youtube_counts_them():
    assert metadata.tags_length(["AI safety", "ml"]) == len('"AI safety",ml')
    with pytest.raises(PipelineError, match="more than 500"):
        metadata.check_tags([f"tag number {i:03d}" for i in range(40)], Path("show.toml"))


def test_discovery_document_moves_every_root():
    doc = discovery_document("http://127.0.0.1:9/")
    assert doc["rootUrl"] == doc["mtlsRootUrl"] == "http://127.0.0.1:9/"
    assert doc["baseUrl"] == "http://127.0.0.1:9/"  # the method paths hold youtube/v3/
    assert discovery_document(None)["rootUrl"] == "https://youtube.googleapis.com/"


def test_session_uri_loses_credential_parameters():
    uri = "https://up.example/resumable?upload_id=abc&access_token=SECRET&uploadType=resumable"
    assert strip_secrets(uri) == "https://up.example/resumable?upload_id=abc&uploadType=resumable"


def test_401_mid_chunk_refreshes_and_resends_the_chunks_bytes(env, standin, episode, capfd):
    standin.faults.append(Fault("chunk", "videos", "revoke", at=2 * CHUNK))
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)
    assert standin.revoked and standin.count("token") == 1
    starts = [r["start"] for r in standin.requests if r["kind"] == "chunk"
              and r["upload"] == "videos"]
    assert starts == [0, CHUNK, 2 * CHUNK, 2 * CHUNK, 3 * CHUNK]  # resent once, at once
    assert standin.count("short") == 0  # with its bytes: nothing waited for a body
    assert standin.count("status") == 0


# -- never twice, anywhere --


def committed(episode: Path) -> YouTubeVideos:
    return YouTubeVideos.read(episode.parent / "youtube.toml")


def start_upload(episode: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "upload", str(episode)],
                            cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=default_sigint)


def video_inits(standin: StandIn) -> int:
    return sum(1 for r in standin.requests if r["kind"] == "init" and r["upload"] == "videos")


def test_a_second_upload_of_the_episode_at_once_waits_saying_for_whom(env, standin,
                                                                      episode):
    standin.hold = Hold("videos", at=CHUNK)
    first = start_upload(episode, env)
    second = None
    try:
        assert standin.hold.held.wait(60), first.communicate(timeout=5)
        second = start_upload(episode, env)  # while the first one is mid-upload
        line = second.stderr.readline().decode()  # blocks until it says something
        assert line.startswith("waiting for another upload of this episode to finish (pid "
                               f"{first.pid} on {socket.gethostname()} since "), line
        assert line.count("\n") == 1 and "Ctrl-C stops waiting" in line
        assert video_inits(standin) == 1  # the second one sent nothing meanwhile
    finally:
        standin.hold.release.set()
        _, first_err = first.communicate(timeout=60)
        _, second_err = second.communicate(timeout=60) if second else (b"", b"")
    assert first.returncode == 0, first_err
    assert second is not None and second.returncode == 0, second_err
    assert b"already on YouTube" in second_err
    assert_finished(standin, episode)
    assert video_inits(standin) == 1 and standin.count("channels-list") == 1


def test_a_finished_but_unrecorded_upload_is_used_though_the_video_was_rebuilt(
        env, standin, episode):
    video = episode / "build" / "video.mp4"
    sent = sha(video)
    standin.hold = Hold("videos", at=3 * CHUNK, stored=True)  # YouTube has it all
    proc = start_upload(episode, env)
    try:
        assert standin.hold.held.wait(60), proc.communicate(timeout=5)
        os.kill(proc.pid, signal.SIGKILL)  # before the answer: nothing recorded it
        proc.wait(10)
    finally:
        standin.hold.release.set()
        proc.communicate()
    assert standin.hold.handled.wait(10)
    assert len(standin.videos) == 1 and record(episode).steps["video"].status == "started"
    video.write_bytes(video_bytes(7))  # a rebuilt video.mp4

    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "upload", str(episode)],
                          cwd=REPO, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "the video upload of an earlier video.mp4 had finished" in done.stderr
    assert len(standin.videos) == 1 and video_inits(standin) == 1
    (only,) = standin.videos.values()
    assert only["sha256"] == sent
    assert standin.count("status") == 1
    assert standin.count("channels-list") == 1  # the first run's, before its upload
    steps = record(episode).steps
    assert steps["video"].id == only["resource"]["id"] and steps["video"].file.sha256 == sent
    assert {s.status for s in steps.values()} == {"done"}
    assert len(standin.captions) == 1 and len(standin.playlist_items) == 1


def test_a_changed_file_is_not_resumed_into_the_old_session(env, standin, episode):
    standin.faults.append(Fault("chunk", "videos", 403, reason="quotaExceeded", at=CHUNK))
    assert run_cli("upload", str(episode)) == 1
    (episode / "build" / "video.mp4").write_bytes(video_bytes(8))
    assert run_cli("upload", str(episode)) == 0
    assert standin.count("status") == 1  # the saved session was asked all the same
    assert video_inits(standin) == 2
    assert_finished(standin, episode)  # one video, with the new file's bytes


def test_a_clone_without_build_state_carries_on_from_the_committed_file(env, standin,
                                                                        episode, capfd):
    standin.faults.append(Fault("init", "captions", 400, reason="invalidValue"))
    assert run_cli("upload", str(episode)) == 1
    video_id = record(episode).steps["video"].id
    entry = committed(episode).episodes[SLUG]
    assert (entry.video_id, entry.done) == (video_id, ["thumbnail"])
    (episode / "build" / "youtube.json").unlink()  # a fresh clone or `git clean`
    capfd.readouterr()
    sent = len(standin.requests)

    assert run_cli("upload", str(episode)) == 0
    assert f"this episode's video is https://www.youtube.com/watch?v={video_id}" in (
        capfd.readouterr().err)
    assert [r["kind"] for r in standin.requests[sent:]] == [
        "captions-list", "init", "chunk", "playlist-list", "playlist"]
    assert len(standin.videos) == 1 and len(standin.thumbnails) == 1
    assert len(standin.captions) == 1 and len(standin.playlist_items) == 1
    assert committed(episode).episodes[SLUG].done == ["captions", "playlist", "thumbnail"]
    assert record(episode).steps["video"].found_in == "episodes/youtube.toml"


def test_a_clone_with_nothing_recorded_finds_the_video_on_the_channel(env, standin, episode,
                                                                      capfd):
    standin.page_size = 1  # one upload a page: the search turns pages
    for other in range(2):  # other videos on the channel, uploaded before and after
        standin.videos[f"other{other}"] = {"resource": {
            "id": f"other{other}", "snippet": {"title": "Another", "tags": ["x"]},
            "status": {"privacyStatus": "public"}}}
        if other == 0:
            assert run_cli("upload", str(episode)) == 0
    video_id = record(episode).steps["video"].id
    (episode / "build" / "youtube.json").unlink()
    (episode.parent / "youtube.toml").unlink()  # never committed
    capfd.readouterr()
    sent = len(standin.requests)

    assert run_cli("upload", str(episode)) == 0
    err = capfd.readouterr().err
    assert f"already on the channel: https://www.youtube.com/watch?v={video_id}" in err
    assert "(7 list calls, about 7 units)" in err  # channels, then 3 pages of uploads and videos
    later = [r["kind"] for r in standin.requests[sent:]]
    assert "init" in later and later.count("init") == 1  # the thumbnail, set again
    assert [r["upload"] for r in standin.requests[sent:] if r["kind"] == "init"] == [
        "thumbnails"]
    assert "captions-list" in later and "playlist" not in later
    uploaded = {k: v for k, v in standin.videos.items() if not k.startswith("other")}
    assert list(uploaded) == [video_id]
    assert len(standin.captions) == 1 and len(standin.playlist_items) == 1
    steps = record(episode).steps
    assert steps["video"].found_in == steps["captions"].found_in == "channel"
    assert committed(episode).episodes[SLUG].video_id == video_id


def test_an_untagged_video_with_the_title_stops_the_upload(env, standin, episode, capfd):
    standin.videos["older"] = {"resource": {
        "id": "older", "snippet": {"title": TITLE, "tags": TAGS},
        "status": {"privacyStatus": "public"}}}
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err
    assert "already has a video with this episode's title" in err
    assert f"add the tag {EPISODE_TAG} to it in YouTube Studio" in err
    assert video_inits(standin) == 0
    assert run_cli("upload", "--force", str(episode)) == 0  # the producer's call
    assert video_inits(standin) == 1


def test_force_records_the_new_video_and_keeps_the_old_one(env, standin, episode):
    assert run_cli("upload", str(episode)) == 0
    first = record(episode).steps["video"].id
    assert run_cli("upload", "--force", str(episode)) == 0
    entry = committed(episode).episodes[SLUG]
    assert entry.video_id == record(episode).steps["video"].id != first
    assert entry.previous == [first]
    assert standin.count("channels-list") == 1  # --force does not look


def test_upload_limit_is_the_channels_not_the_quota(env, standin, episode, capfd):
    standin.faults.append(Fault("init", "videos", 400, reason="uploadLimitExceeded"))
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err.strip().splitlines()[-1]
    assert "the channel's daily upload limit is reached (HTTP 400 uploadLimitExceeded" in err
    assert "this is not the API quota" in err and "quota used up" not in err
    assert "UTC (YouTube asks to wait 24 hours)" in err
    assert standin.videos == {}
    assert run_cli("upload", str(episode)) == 0
    assert_finished(standin, episode)


def test_quota_message_names_the_bucket(env, standin, episode, capfd):
    standin.faults.append(Fault("init", "videos", 403, reason="quotaExceeded"))
    assert run_cli("upload", str(episode)) == 1
    assert "quota used up during the video upload (100 uploads a day;" in (
        capfd.readouterr().err)
    standin.faults.append(Fault("init", "captions", 403, reason="quotaExceeded"))
    assert run_cli("upload", str(episode)) == 1
    assert "quota used up during the captions upload (10,000 units a day;" in (
        capfd.readouterr().err)


def days_ago(days: float) -> str:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_sign_in_six_days_old_is_warned_about_before_the_upload(env, standin, episode,
                                                                  capfd):
    token = Path(env["PIPELINE_YOUTUBE_TOKEN"])
    write_token(token, standin.url + "token", pipeline_signed_in=days_ago(6.5))
    assert run_cli("upload", str(episode)) == 0
    warning = next(line for line in capfd.readouterr().err.splitlines()
                   if "sign-in" in line)
    assert warning.startswith("warning: the YouTube sign-in is 6 days old")
    assert "still in Testing status" in warning and "after 7 days" in warning
    assert "OAuth consent screen > Publish app" in warning
    assert standin.count("token") == 0


def test_a_sign_in_that_outlives_seven_days_is_not_warned_about_again(standin, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("PIPELINE_YOUTUBE_ROOT_URL", standin.url)
    token = tmp_path / "youtube-token.json"
    write_token(token, standin.url + "token", pipeline_signed_in=days_ago(8))
    sign_in = auth.load_sign_in(token)
    assert standin.count("token") == 1  # refreshed to see whether Google still takes it
    assert sign_in.outlived_testing and sign_in.warning(dt.datetime.now(dt.UTC)) == ""
    assert json.loads(token.read_text())["pipeline_outlived_testing"] is True
    auth.load_sign_in(token)
    assert standin.count("token") == 1


def test_a_refused_refresh_after_seven_days_names_the_testing_status(standin, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("PIPELINE_YOUTUBE_ROOT_URL", standin.url)
    token = tmp_path / "youtube-token.json"
    write_token(token, standin.url + "token", pipeline_signed_in=days_ago(8))
    standin.refresh_token = "expired by Google"
    with pytest.raises(PipelineError) as info:
        auth.load_sign_in(token)
    assert "it is 8 days old, and an OAuth app in Testing status" in str(info.value)
    assert "Publish app), then run `pipeline youtube-login`" in str(info.value)


def test_a_token_others_can_read_is_refused_with_the_chmod(env, standin, episode, capfd):
    token = Path(env["PIPELINE_YOUTUBE_TOKEN"])
    token.chmod(0o644)
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert err[-1] == (f"error: {token}: the YouTube token file can be read or changed by "
                       f"other users (mode 0644) (chmod 600 {token})")
    assert standin.requests == []
    assert ACCESS not in "".join(err)


def test_committed_videos_keep_the_other_episodes(tmp_path):
    path = tmp_path / "episodes" / "youtube.toml"
    one = identity.CommittedVideos(path, SLUG)
    two = identity.CommittedVideos(path, "2023-01-13-compiling-code-into-transformers")
    one.record("aaaaaaaaaaa", [])
    two.record("bbbbbbbbbbb", ["captions"])
    one.record("aaaaaaaaaaa", ["thumbnail"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Each episode's video on YouTube")
    videos = YouTubeVideos.read_toml(path).episodes
    assert {slug: (v.video_id, v.done) for slug, v in videos.items()} == {
        SLUG: ("aaaaaaaaaaa", ["thumbnail"]),
        "2023-01-13-compiling-code-into-transformers": ("bbbbbbbbbbb", ["captions"])}
    one.record("ccccccccccc", [])  # --force: a new video; the old one is kept
    assert one.entry().previous == ["aaaaaaaaaaa"] and one.entry().done == []


def test_a_committed_video_deleted_on_youtube_says_force(env, standin, episode, capfd):
    identity.CommittedVideos(episode.parent / "youtube.toml", SLUG).record("deleted1234", [])
    assert run_cli("upload", str(episode)) == 1
    err = capfd.readouterr().err.strip().splitlines()[-1]
    assert "the episode's video is not on YouTube any more during the thumbnail upload" in err
    assert "`pipeline upload --force` uploads the episode as a new video" in err
    assert standin.videos == {}
    assert run_cli("upload", "--force", str(episode)) == 0
    assert_finished(standin, episode)
    assert committed(episode).episodes[SLUG].previous == ["deleted1234"]
