"""`pipeline upload episodes/<slug>`: video, thumbnail, captions, playlist; never twice.

Never twice, whatever happens and wherever it runs:
- one upload of an episode at a time: a lock held for the whole run (lock.py); a second
  run waits for it, saying for whom, then finds nothing (or only what is left) to do;
- each step is recorded in build/youtube.json as soon as it happens, so a rerun does only
  what is missing and an interrupted upload resumes from the offset the server holds;
- a saved session is always asked for its status before a new one starts, changed file or
  not: a finished one's video is the episode's;
- the episode's video is also recorded in episodes/youtube.toml, which the producer
  commits, and before any video is created the channel's uploads are searched for one
  tagged as the episode's (identity.py), so a fresh clone carries on from an earlier upload.
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
from pipeline.publish.gate import preflight
from pipeline.publish.youtube.auth import SignIn, load_sign_in, refresh_refused
from pipeline.publish.youtube.client import build_service, strip_secrets
from pipeline.publish.youtube.failures import (
    QUOTA_REASONS,
    explain,
    http_reason,
    upload_cost,
)
from pipeline.publish.youtube.identity import (
    VIDEOS_FILE,
    CommittedVideos,
    episode_tag,
    search_channel,
)
from pipeline.publish.youtube.lock import LOCK_FILE, upload_lock
from pipeline.publish.youtube.metadata import (
    Inputs,
    captions_body,
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

PRIVATE_WARNING = (
    "YouTube made the video private although {asked} was asked: videos uploaded by an "
    "unverified API project stay private until the project passes Google's API audit "
    "(https://support.google.com/youtube/contact/yt_api_form); make it {asked} in "
    "YouTube Studio meanwhile")
WATCH = "https://www.youtube.com/watch?v="
COMMITTED = str(VIDEOS_FILE)
CAPTIONS_LIST_UNITS = 50


def say(message: str) -> None:
    note(message)


def warn(message: str) -> None:
    note(f"warning: {message}")


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
    committed: CommittedVideos
    backoff: Backoff
    chunk: int
    force: bool = False  # a new video, whatever YouTube already has of the episode
    service: Any = None  # attached once something is to be sent (or printed)
    sign_in: SignIn | None = None
    body: VideoBody | None = None  # the video resource, once prepare() found it pending

    def prepare(self) -> None:
        """Check the files the pending steps send and build the video resource if needed."""
        self.inputs.check(self.pending())
        if "video" in self.pending():
            self.body = episode_video_body(self.episode, self.inputs, dt.datetime.now(dt.UTC))

    @property
    def video_id(self) -> str:
        return self.state.video_id() or "VIDEO_ID"

    def steps(self) -> list[str]:
        steps = ["video", "thumbnail", "captions"]
        if self.episode.settings.youtube.playlist_id:
            steps.append("playlist")
        return steps

    def pending(self) -> list[str]:
        return [s for s in self.steps() if not self.state.finished(s)]

    # -- what is known without asking YouTube --

    def reconcile(self) -> None:
        """Bring build/youtube.json and episodes/youtube.toml together: the committed video
        wins over another one recorded here (a fresh clone has none), and a video recorded
        here only is committed."""
        entry = self.committed.entry()
        local = self.state.video_id()
        if entry is not None and entry.video_id != local:
            if local:
                warn(f"{self.state.path} records the video {WATCH}{local}, {COMMITTED} "
                     f"{WATCH}{entry.video_id}; going on with the committed one")
                self.state.start_over()
            say(f"this episode's video is {WATCH}{entry.video_id} (from {COMMITTED}); "
                "carrying on with it")
        if entry is not None:
            self.state.found(entry.video_id, WATCH + entry.video_id, COMMITTED, entry.done)
        self.commit()

    def commit(self) -> None:
        """Record the episode's video and the steps done after it in episodes/youtube.toml."""
        video = self.state.video_id()
        if video and self.state.keep:
            self.committed.record(video, self.state.done_after_video())

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

    def uploader(self, step: str, path: Path, request: Any) -> Upload:
        return Upload(request, path.stat().st_size, f"{step} upload", self.backoff, say)

    def ask_saved(self, step: str, upload: Upload, file: FileStamp) -> dict | None:
        """Ask the step's saved session, if any, for its status (whatever file it was for);
        the resource when it had finished."""
        saved = self.state.step(step)
        if saved is None or not saved.session_uri:
            return None
        resource = upload.ask(saved.session_uri, same_file=saved.file == file)
        if resource is not None and saved.file != file:
            name = saved.file.name if saved.file else file.name
            warn(f"the {step} upload of an earlier {name} had finished before it was "
                 f"recorded: YouTube has that one, and the changed file was not sent"
                 + ("; `pipeline upload --force` uploads it as a new video"
                    if step == "video" else ""))
        return resource

    def send(self, step: str, upload: Upload, file: FileStamp) -> dict:
        """A resumable upload whose session URI is recorded before the first byte."""

        def on_session(uri: str) -> None:
            self.state.mark(step, "started", session_uri=strip_secrets(uri), file=file)

        with task(f"upload {step}", upload.total, unit="B") as bar:
            upload.progress = bar.update
            return upload.run(on_session)

    def send_video(self) -> None:
        assert self.body is not None  # prepare() built it, as the video is pending
        file = fingerprint(self.inputs.video)
        upload = self.uploader("video", self.inputs.video, self.video_request())
        saved = self.state.step("video")
        if (resource := self.ask_saved("video", upload, file)) is not None:
            self.video_done(resource, (saved.file if saved else None) or file)
            return
        if not upload.resuming and (found := self.find_on_channel()) is not None:
            self.video_done(found, None, found_in="channel")
            return
        self.state.sending(file, self.body)
        self.video_done(self.send("video", upload, file), file)

    def video_done(self, resource: dict, file: FileStamp | None,
                   found_in: str | None = None) -> None:
        video_id = resource["id"]
        got = resource.get("status", {}).get("privacyStatus")
        asked = None if found_in else (self.state.record.request or self.body or {}).get(
            "status", {}).get("privacyStatus")
        self.state.mark("video", "done", id=video_id, url=WATCH + video_id,
                        privacy_asked=asked, privacy=got or asked, file=file,
                        found_in=found_in)
        self.commit()
        if found_in:
            say(f"this episode is already on the channel: {WATCH}{video_id} (tagged "
                f"{episode_tag(self.episode.slug)}); carrying on with it, not uploading again")
            return
        say(f"video uploaded: {WATCH}{video_id}")
        if asked and asked != "private" and got == "private":
            warn(PRIVATE_WARNING.format(asked=asked))

    def find_on_channel(self) -> dict | None:
        """Before a video is created: one already on the channel tagged as this episode's."""
        if self.force:
            return None
        assert self.body is not None
        tag = episode_tag(self.episode.slug)
        found = search_channel(self.service, self.execute, self.episode.slug,
                               self.body["snippet"]["title"])
        say(f"looked for {tag} among the channel's uploads ({found.calls} list calls, "
            f"about {found.calls} units)")
        if len(found.videos) > 1:
            others = ", ".join(WATCH + v["id"] for v in found.videos[1:])
            warn(f"{len(found.videos)} videos on the channel carry the tag {tag}; carrying "
                 f"on with the newest, {WATCH}{found.videos[0]['id']} (the others: {others})")
        if found.videos:
            return found.videos[0]
        if found.same_title:
            video = found.same_title[0]
            raise PipelineError(
                f"the channel already has a video with this episode's title, "
                f"{WATCH}{video['id']}, without the tag {tag}", self.state.path,
                f"if it is this episode, add the tag {tag} to it in YouTube Studio and run the "
                "same command again; `pipeline upload --force` uploads a new video anyway")
        return None

    def execute(self, request: Any) -> dict:
        return self.backoff_call(request.execute, "channel search")

    def send_thumbnail(self) -> None:
        file = fingerprint(self.inputs.thumbnail)
        upload = self.uploader("thumbnail", self.inputs.thumbnail, self.thumbnail_request())
        try:
            if self.ask_saved("thumbnail", upload, file) is None:
                self.send("thumbnail", upload, file)
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
        self.commit()
        say("thumbnail set")

    def send_captions(self) -> None:
        file = fingerprint(self.inputs.captions)
        if self.captions_found():
            return
        upload = self.uploader("captions", self.inputs.captions, self.captions_request())
        resource = self.ask_saved("captions", upload, file) or self.send("captions", upload,
                                                                         file)
        self.state.mark("captions", "done", id=resource.get("id", ""), file=file)
        self.commit()
        say("captions added")

    def captions_found(self) -> bool:
        """For a video found elsewhere, with no captions session saved here: a track of
        ours may already be there (captions.list, 50 units, against a second track)."""
        video = self.state.step("video")
        if video is None or not video.found_in or self.state.step("captions"):
            return False
        body = captions_body(self.episode.settings, self.video_id)["snippet"]
        listed = self.backoff_call(lambda: self.service.captions().list(
            part="snippet", videoId=self.video_id).execute(), "captions list")
        say(f"looked for this episode's captions on the video ({CAPTIONS_LIST_UNITS} units)")
        for track in listed.get("items") or []:
            snippet = track.get("snippet") or {}
            if (snippet.get("language"), snippet.get("name")) == (body["language"],
                                                                   body["name"]):
                self.state.mark("captions", "done", id=track.get("id", ""),
                                found_in="channel")
                self.commit()
                say("captions already on the video")
                return True
        return False

    def send_playlist(self) -> None:
        playlist = self.episode.settings.youtube.playlist_id
        self.state.mark("playlist", "started", playlist_id=playlist)
        item = self.backoff_call(lambda: self.find_playlist_item(playlist)
                                 or self.playlist_request().execute(), "playlist insert")
        self.state.mark("playlist", "done", playlist_id=playlist, id=item.get("id", ""))
        self.commit()
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
        now = dt.datetime.now(dt.UTC)
        if isinstance(exc, HttpError):
            return explain(exc, what, record, now)
        if isinstance(exc, RefreshError):
            assert self.sign_in is not None  # nothing is sent before the sign-in is loaded
            return refresh_refused(self.sign_in, now, what, record)
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
        if step == "video" and not publisher.force:
            click.echo(f"first: the channel's uploads are searched for the tag "
                       f"{episode_tag(publisher.episode.slug)} (2 units per 50 uploads)")
        request = publisher.requests()[step]()
        click.echo(f"{step}: {request.method} {request.uri}")
        if request.body:
            click.echo(json.dumps(json.loads(request.body), indent=2, ensure_ascii=False))
        if step in media:
            path = media[step]
            click.echo(f"  media: {path} ({path.stat().st_size:,} bytes, "
                       f"{request.resumable.mimetype()}, resumable, chunks of "
                       f"{publisher.chunk:,} bytes)")
    click.echo(f"dry run: nothing was sent; it would cost {upload_cost(pending)}")


def finished_already(publisher: Publisher) -> bool:
    """True when there is nothing to do; with --force, forget a finished upload."""
    state = publisher.state
    if not state.finished("video"):
        return False
    video_step = state.step("video")
    url = (video_step.url if video_step else None) or ""
    if publisher.force:
        state.start_over()
        warn(f"--force: uploading the episode again as a NEW video (the old one, {url}, "
             f"stays on YouTube); this costs {upload_cost(publisher.pending())}")
        return False
    if publisher.pending():
        return False
    video = publisher.inputs.video
    if video.is_file() and video_step and video_step.file and \
            fingerprint(video) != video_step.file:
        warn(f"{publisher.inputs.video} has changed since it was uploaded; `pipeline upload "
             f"--force` uploads it as a new video ({upload_cost(publisher.steps())})")
    say(f"already on YouTube: {url} (nothing to do; --force uploads again)")
    return True


def make_publisher(episode: Episode, force: bool, keep: bool = True) -> Publisher:
    path = episode.build / "youtube.json"
    state = UploadState.load(path)
    if not keep:
        state = UploadState(path, state.record, keep=False)
    return Publisher(episode, Inputs.of(episode.build), state,
                     CommittedVideos(episode.root / VIDEOS_FILE, episode.slug),
                     Backoff.from_env(), chunk_size(), force=force)


def show_dry_run(episode: Episode, force: bool) -> None:
    import httplib2

    publisher = make_publisher(episode, force, keep=False)
    publisher.reconcile()
    if force and publisher.state.finished("video"):
        # show what --force would send, without forgetting anything
        publisher.state = UploadState(publisher.state.path, keep=False)
    publisher.prepare()
    # a bare transport: no token needed, and nothing is sent
    publisher.service = build_service(http=httplib2.Http())
    dry_run(publisher)


def signed_in() -> SignIn:
    sign_in = load_sign_in()
    if warning := sign_in.warning(dt.datetime.now(dt.UTC)):
        warn(warning)
    return sign_in


def waiting(who: str) -> None:
    say(f"waiting for another upload of this episode to finish ({who}); Ctrl-C stops waiting")


def publish(episode_dir: Path, force: bool = False, dry: bool = False) -> None:
    """Upload whatever of the episode YouTube does not have yet."""
    episode = load_episode(episode_dir)
    if dry:
        show_dry_run(episode, force)
        return
    with upload_lock(episode.build / LOCK_FILE, waiting):
        publisher = make_publisher(episode, force)
        publisher.reconcile()
        if finished_already(publisher):
            return
        if not publisher.state.finished("video"):  # checked before the video went
            preflight(episode, ["youtube"], "the upload", warn)
        publisher.prepare()
        publisher.sign_in = signed_in()
        publisher.service = build_service(credentials=publisher.sign_in.credentials)
        try:
            publisher.run()
        except KeyboardInterrupt:
            say(f"interrupted: progress is kept in {publisher.state.path}; run the same "
                "command to resume")
            raise
        say(f"done: {WATCH}{publisher.state.video_id()}")


@click.command()
@click.argument("episode_dir", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Upload a new video even though this episode is already on YouTube "
                   "(costs quota).")
@click.option("--dry-run", is_flag=True, help="Print the requests' metadata; send nothing.")
def command(episode_dir: Path, force: bool, dry_run: bool) -> None:
    """Upload the episode's video, thumbnail, captions (and playlist entry) to YouTube."""
    publish(episode_dir, force=force, dry=dry_run)
