"""`pipeline upload episodes/<slug>`: video, thumbnail, captions, playlist; never twice.

Each step is recorded in build/youtube.json as soon as it happens, so a rerun does only
what is missing, an interrupted upload resumes from the offset the server holds, and a
finished episode sends nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload
from httplib2 import HttpLib2Error

from pipeline.episode import Episode, load_episode
from pipeline.errors import PipelineError
from pipeline.formats import FileStamp, VideoBody
from pipeline.publish.youtube.auth import RELOGIN_FIX, load_credentials
from pipeline.publish.youtube.client import build_service, strip_secrets
from pipeline.publish.youtube.metadata import (
    Inputs,
    captions_body,
    describe_reset,
    episode_video_body,
    playlist_body,
)
from pipeline.publish.youtube.resumable import (
    RETRY_EXCEPTIONS,
    Backoff,
    Upload,
    chunk_size,
    with_retries,
)
from pipeline.publish.youtube.state import UploadState
from pipeline.util.hashing import sha256_file
from pipeline.util.progress import note, task

QUOTA_REASONS = {"quotaExceeded", "uploadLimitExceeded", "dailyLimitExceeded",
                 "rateLimitExceeded"}
QUOTA_COST = ("about 1,600 units for the video (plus 50 thumbnail, 400 captions, "
              "50 playlist) of the default 10,000 a day")
PRIVATE_WARNING = (
    "YouTube made the video private although {asked} was asked: videos uploaded by an "
    "unverified API project stay private until the project passes Google's API audit "
    "(https://support.google.com/youtube/contact/yt_api_form); make it {asked} in "
    "YouTube Studio meanwhile")
WATCH = "https://www.youtube.com/watch?v="


def say(message: str) -> None:
    note(message)


def warn(message: str) -> None:
    note(f"warning: {message}")


def http_reason(exc: HttpError) -> tuple[str, str]:
    """(reason, message) from a Google API error body."""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        first = (error.get("errors") or [{}])[0]
        return first.get("reason", ""), error.get("message") or first.get("message", "")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        return "", ""


def explain(exc: HttpError, step: str, record: Path, now: dt.datetime) -> PipelineError:
    """Turn an HTTP error into one line saying what to do; nothing secret is quoted."""
    status = exc.status_code
    reason, message = http_reason(exc)
    detail = f"HTTP {status}" + (f" {reason}" if reason else "") + (
        f": {message}" if message else "")
    if status == 401:
        return PipelineError(f"YouTube refused the sign-in during the {step} ({detail})",
                             record, RELOGIN_FIX)
    if status in (403, 429) and reason in QUOTA_REASONS:
        return PipelineError(
            f"YouTube quota used up during the {step} ({detail}); progress is kept", record,
            f"run the same command again after the quota resets at {describe_reset(now)}")
    if reason == "insufficientPermissions":
        return PipelineError(f"the sign-in lacks a permission for the {step} ({detail})", record,
                             RELOGIN_FIX + " and allow every permission")
    if reason == "youtubeSignupRequired":
        return PipelineError(f"the signed-in Google account has no YouTube channel ({detail})",
                             record, "create a channel on youtube.com, then run it again")
    if status >= 500:
        return PipelineError(f"YouTube kept failing during the {step} ({detail}); progress "
                             "is kept", record, "run the same command again later")
    return PipelineError(f"YouTube rejected the {step} ({detail})", record)


class RewindableMedia(MediaFileUpload):
    """A file sent as one bytes object per chunk, not a stream: the client's 401 handler
    refreshes the token and sends the same body again, and a stream slice cannot be
    rewound (the chunk went out empty and the upload stalled until the socket timed out)."""

    def has_stream(self) -> bool:
        return False


@dataclass
class Publisher:
    episode: Episode
    inputs: Inputs
    state: UploadState
    backoff: Backoff
    chunk: int
    service: Any = None  # attached once something is to be sent (or printed)
    body: VideoBody | None = None  # the video resource, once prepare() found it pending

    def prepare(self) -> None:
        """Check the files the pending steps send and build the video resource if needed."""
        self.inputs.check(self.pending())
        if "video" in self.pending():
            self.body = episode_video_body(self.episode, self.inputs, dt.datetime.now(dt.UTC))

    @property
    def video_id(self) -> str:
        step = self.state.step("video")
        return (step.id if step else None) or "VIDEO_ID"

    def pending(self) -> list[str]:
        steps = ["video", "thumbnail", "captions"]
        if self.episode.settings.youtube.playlist_id:
            steps.append("playlist")
        return [s for s in steps if not self.state.finished(s)]

    # -- building the requests (also what --dry-run prints) --

    def media(self, path: Path, mimetype: str) -> MediaFileUpload:
        return RewindableMedia(str(path), mimetype=mimetype, chunksize=self.chunk,
                               resumable=True)

    def video_request(self) -> Any:
        return self.service.videos().insert(
            part="snippet,status", body=self.body,
            notifySubscribers=self.episode.settings.youtube.notify_subscribers,
            media_body=self.media(self.inputs.video, "video/mp4"))

    def thumbnail_request(self) -> Any:
        kind = "image/png" if self.inputs.thumbnail.suffix == ".png" else "image/jpeg"
        return self.service.thumbnails().set(videoId=self.video_id,
                                             media_body=self.media(self.inputs.thumbnail, kind))

    def captions_request(self) -> Any:
        return self.service.captions().insert(
            part="snippet", body=captions_body(self.episode.settings, self.video_id),
            media_body=self.media(self.inputs.captions, "text/vtt"))

    def playlist_request(self) -> Any:
        body = playlist_body(self.episode.settings.youtube.playlist_id, self.video_id)
        return self.service.playlistItems().insert(part="snippet", body=body)

    def requests(self) -> dict[str, Callable[[], Any]]:
        return {"video": self.video_request, "thumbnail": self.thumbnail_request,
                "captions": self.captions_request, "playlist": self.playlist_request}

    # -- sending --

    def upload(self, step: str, path: Path, request: Any, file: FileStamp) -> dict:
        """A resumable upload whose session URI is recorded before the first byte."""
        saved = self.state.step(step)
        session = saved.session_uri if saved and saved.file == file else None
        total = path.stat().st_size

        def on_session(uri: str) -> None:
            self.state.mark(step, "started", session_uri=strip_secrets(uri), file=file)

        with task(f"upload {step}", total, unit="B") as bar:
            return Upload(request, total, f"{step} upload", self.backoff, say,
                          bar.update).run(session, on_session)

    def send_video(self) -> None:
        assert self.body is not None  # prepare() built it, as the video is pending
        file = fingerprint(self.inputs.video)
        self.state.sending(file, self.body)
        resource = self.upload("video", self.inputs.video, self.video_request(), file)
        asked = self.body["status"]["privacyStatus"]
        got = resource.get("status", {}).get("privacyStatus", asked)
        self.state.mark("video", "done", id=resource["id"], url=WATCH + resource["id"],
                        privacy_asked=asked, privacy=got, file=file)
        say(f"video uploaded: {WATCH}{resource['id']}")
        if asked != "private" and got == "private":
            warn(PRIVATE_WARNING.format(asked=asked))

    def send_thumbnail(self) -> None:
        file = fingerprint(self.inputs.thumbnail)
        try:
            self.upload("thumbnail", self.inputs.thumbnail, self.thumbnail_request(), file)
        except HttpError as exc:
            reason, message = http_reason(exc)
            if exc.status_code != 403 or reason in QUOTA_REASONS:
                raise
            self.state.mark("thumbnail", "skipped", reason=f"HTTP 403 {reason}".strip())
            warn(f"YouTube refused the thumbnail (HTTP 403 {reason}: {message}); custom "
                 "thumbnails need a verified channel (https://www.youtube.com/verify); "
                 "set it in YouTube Studio once verified")
            return
        self.state.mark("thumbnail", "done", file=file)
        say("thumbnail set")

    def send_captions(self) -> None:
        file = fingerprint(self.inputs.captions)
        resource = self.upload("captions", self.inputs.captions, self.captions_request(), file)
        self.state.mark("captions", "done", id=resource.get("id", ""), file=file)
        say("captions added")

    def send_playlist(self) -> None:
        playlist = self.episode.settings.youtube.playlist_id
        self.state.mark("playlist", "started", playlist_id=playlist)
        item = self.backoff_call(lambda: self.find_playlist_item(playlist)
                                 or self.playlist_request().execute(), "playlist insert")
        self.state.mark("playlist", "done", playlist_id=playlist, id=item.get("id", ""))
        say(f"added to playlist {playlist}")

    def find_playlist_item(self, playlist: str) -> dict | None:
        """An earlier, unrecorded try may have added it: look before adding (1 unit)."""
        found = self.service.playlistItems().list(
            part="id", playlistId=playlist, videoId=self.video_id).execute()
        items = found.get("items") or []
        return items[0] if items else None

    def backoff_call(self, call: Callable[[], Any], what: str) -> Any:
        return with_retries(call, what, self.backoff, say)

    def run(self) -> None:
        senders = {"video": self.send_video, "thumbnail": self.send_thumbnail,
                   "captions": self.send_captions, "playlist": self.send_playlist}
        for step in self.pending():
            try:
                senders[step]()
            except (HttpError, RefreshError, TransportError, HttpLib2Error,
                    *RETRY_EXCEPTIONS) as exc:
                raise self.failure(step, exc) from None

    def failure(self, step: str, exc: Exception) -> PipelineError:
        """One line for a step that failed; the exception's own text is never shown (a
        transport error could quote a request)."""
        what = "playlist insert" if step == "playlist" else f"{step} upload"
        record = self.state.path
        if isinstance(exc, HttpError):
            return explain(exc, what, record, dt.datetime.now(dt.UTC))
        if isinstance(exc, RefreshError):
            return PipelineError(f"Google refused to refresh the YouTube sign-in during the "
                                 f"{what} (revoked or expired)", record, RELOGIN_FIX)
        tries = f", {self.backoff.tries} tries" if isinstance(exc, RETRY_EXCEPTIONS) else ""
        return PipelineError(f"lost the connection to YouTube during the {what} "
                             f"({type(exc).__name__}{tries}); progress is kept", record,
                             "check the network and run the same command again")


def fingerprint(path: Path) -> FileStamp:
    """What identifies a file sent: a changed file is never resumed into an old session."""
    return FileStamp(name=path.name, bytes=path.stat().st_size, sha256=sha256_file(path))


def dry_run(publisher: Publisher) -> None:
    """Print each pending request (method, URL, JSON body, media) and send nothing."""
    pending = publisher.pending()
    if not pending:
        click.echo("nothing to send: every step is recorded in " + str(publisher.state.path))
        return
    media = {"video": publisher.inputs.video, "thumbnail": publisher.inputs.thumbnail,
             "captions": publisher.inputs.captions}
    for step in pending:
        request = publisher.requests()[step]()
        click.echo(f"{step}: {request.method} {request.uri}")
        if request.body:
            click.echo(json.dumps(json.loads(request.body), indent=2, ensure_ascii=False))
        if step in media:
            path = media[step]
            click.echo(f"  media: {path} ({path.stat().st_size:,} bytes, "
                       f"{request.resumable.mimetype()}, resumable, chunks of "
                       f"{publisher.chunk:,} bytes)")
    click.echo("dry run: nothing was sent")


def finished_already(publisher: Publisher, force: bool) -> bool:
    """True when there is nothing to do; with --force, forget a finished upload."""
    state = publisher.state
    if not state.finished("video"):
        return False
    video_step = state.step("video")
    url = (video_step.url if video_step else None) or ""
    if force:
        warn(f"--force: uploading the episode again as a NEW video (the old one, {url}, "
             f"stays on YouTube); this costs {QUOTA_COST}")
        state.start_over()
        return False
    if publisher.pending():
        return False
    video = publisher.inputs.video
    if video.is_file() and video_step and fingerprint(video) != video_step.file:
        warn(f"{publisher.inputs.video} has changed since it was uploaded; `pipeline upload "
             f"--force` uploads it as a new video ({QUOTA_COST})")
    say(f"already on YouTube: {url} (nothing to do; --force uploads again)")
    return True


def show_dry_run(publisher: Publisher, force: bool) -> None:
    import httplib2

    if force and publisher.state.finished("video"):
        # show what --force would send, without forgetting anything
        publisher.state = UploadState(publisher.state.path)
    publisher.prepare()
    # a bare transport: no token needed, and nothing is sent
    publisher.service = build_service(http=httplib2.Http())
    dry_run(publisher)


def publish(episode_dir: Path, force: bool = False, dry: bool = False) -> None:
    """Upload whatever of the episode YouTube does not have yet."""
    episode = load_episode(episode_dir)
    publisher = Publisher(episode, Inputs.of(episode.build),
                          UploadState.load(episode.build / "youtube.json"),
                          Backoff.from_env(), chunk_size())
    if dry:
        show_dry_run(publisher, force)
        return
    if finished_already(publisher, force):
        return
    publisher.prepare()
    publisher.service = build_service(credentials=load_credentials())
    try:
        publisher.run()
    except KeyboardInterrupt:
        say(f"interrupted: progress is kept in {publisher.state.path}; run the same command "
            "to resume")
        raise
    done = publisher.state.step("video")
    say(f"done: {done.url if done else ''}")


@click.command()
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Upload again even though this episode is already on YouTube (costs quota).")
@click.option("--dry-run", is_flag=True, help="Print the requests' metadata; send nothing.")
def command(episode_dir: Path, force: bool, dry_run: bool) -> None:
    """Upload the episode's video, thumbnail, captions (and playlist entry) to YouTube."""
    publish(episode_dir, force=force, dry=dry_run)
