"""A YouTube stand-in on loopback for the real google-api-python-client.

It speaks the resumable upload protocol (initiation answered with a Location session URI,
chunks answered 308 with a Range header, the `Content-Range: bytes */N` status query, the
final 200 with the resource) for videos, thumbnails and captions, plus playlistItems,
the lists that find a channel's uploads (channels, the uploads playlist a page at a
time, videos, captions) and an OAuth token endpoint. Faults are queued and fire once: an
HTTP status, a connection reset in the middle of a chunk, a token revoked in the middle
of an upload, or a hold that parks a chunk until the test releases it.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# the client sends uploads to /upload/... with uploadType=resumable; Google also serves
# /resumable/upload/... (the discovery document's "resumable" path)
UPLOAD_PREFIXES = ("/upload/youtube/v3/", "/resumable/upload/youtube/v3/")
KINDS = {"videos": "videos", "captions": "captions", "thumbnails/set": "thumbnails"}
UPLOADS = "UUstandin"  # the channel's uploads playlist


@dataclass
class Fault:
    where: str  # "init" | "chunk" | "playlist"
    kind: str  # "videos" | "thumbnails" | "captions" | "playlistItems"
    action: int | str  # an HTTP status, "reset", or "revoke" (the token is revoked: 401)
    reason: str = ""  # the error reason in a JSON error body
    at: int = 0  # a chunk fault fires once the session holds at least this many bytes


@dataclass
class Hold:
    """Park the first chunk starting at `at` until `release` is set; `stored`: keep the
    chunk first and park only the answer (an upload that finished unbeknown to the client)."""

    kind: str
    at: int
    stored: bool = False
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    handled: threading.Event = field(default_factory=threading.Event)  # the parked chunk


@dataclass
class Session:
    kind: str
    query: dict[str, str]
    metadata: dict[str, Any]
    total: int
    data: bytearray = field(default_factory=bytearray)
    resource: dict[str, Any] | None = None


def error_body(status: int, reason: str) -> dict[str, Any]:
    message = f"stand-in error {reason or status}"
    return {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": "youtube", "reason": reason}]}}


class StandIn:
    def __init__(self, access_token: str, refresh_token: str):
        self.valid_tokens = {access_token}
        self.revoked: set[str] = set()  # tokens revoked server-side: 401 wherever shown
        self.refresh_token = refresh_token
        self.codes: set[str] = set()  # sign-in codes the token endpoint accepts
        self.reject_all_tokens = False
        self.force_private = False
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.thumbnails: dict[str, str] = {}
        self.captions: list[dict[str, Any]] = []
        self.playlist_items: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.hold: Hold | None = None
        self.page_size: int | None = None  # the most list items a page holds (default: asked)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.hold:
            self.hold.release.set()
        self.server.shutdown()
        self.server.server_close()

    # -- what the tests look at --

    def count(self, kind: str) -> int:
        """Requests of one kind: init, chunk, status, playlist, token, ..."""
        return sum(1 for r in self.requests if r["kind"] == kind)

    def take_fault(self, where: str, kind: str, held: int = 0) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.where == where and fault.kind == kind and held >= fault.at:
                    self.faults.remove(fault)
                    return fault
        return None

    # -- what the server does --

    def finish(self, session: Session) -> dict[str, Any]:
        digest = hashlib.sha256(session.data).hexdigest()
        if session.kind == "videos":
            return self._video(session, digest)
        if session.kind == "thumbnails":
            video_id = session.query.get("videoId", "")
            self.thumbnails[video_id] = digest
            return {"kind": "youtube#thumbnailSetResponse",
                    "items": [{"default": {"url": f"{self.url}vi/{video_id}/default.jpg"}}]}
        caption = {"kind": "youtube#caption", "id": f"cap{len(self.captions) + 1}",
                   "snippet": session.metadata.get("snippet", {})}
        self.captions.append({**caption, "sha256": digest})
        return caption

    def _video(self, session: Session, digest: str) -> dict[str, Any]:
        video_id = uuid.uuid4().hex[:11]
        status = dict(session.metadata.get("status", {}))
        if self.force_private:
            status["privacyStatus"] = "private"
        status["uploadStatus"] = "uploaded"
        published = f"2023-01-06T15:{len(self.videos):02d}:00Z"  # later for each video
        resource = {"kind": "youtube#video", "id": video_id,
                    "snippet": {**session.metadata.get("snippet", {}), "channelId": "UCstandin",
                                "publishedAt": published},
                    "status": status}
        self.videos[video_id] = {"metadata": session.metadata, "query": session.query,
                                 "sha256": digest, "bytes": len(session.data),
                                 "resource": resource}
        return resource


def _handler_for(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(YouTubeHandler):
        pass

    Handler.standin = standin
    return Handler


class YouTubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: StandIn

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (base signature)
        pass

    # -- plumbing --

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client is gone (killed): nothing to answer
            self.close_connection = True

    def send_error_json(self, status: int, reason: str = "") -> None:
        self.send_json(status, error_body(status, reason))

    def read_body(self, limit: int | None = None) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        want = length if limit is None else min(limit, length)
        self.connection.settimeout(10)
        return self.rfile.read(want) if want else b""

    def reset(self) -> None:
        """Drop the connection with a TCP reset, as a broken network would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def log(self, kind: str, **extra: Any) -> None:
        with self.standin.lock:
            self.standin.requests.append({"kind": kind, "method": self.command,
                                          "path": self.path, "headers": dict(self.headers),
                                          **extra})

    def authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        if auth.startswith("Bearer ") and token in self.standin.valid_tokens \
                and not self.standin.reject_all_tokens:
            return True
        self.send_error_json(401, "authError")
        return False

    def bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ")

    def revoked(self) -> bool:
        """A revoked token is refused even where no token is needed (a session URI)."""
        if self.bearer() not in self.standin.revoked:
            return False
        self.read_body()
        self.send_error_json(401, "authError")
        return True

    def apply(self, fault: Fault) -> None:
        if fault.action == "reset":
            self.reset()
        elif fault.action == "revoke":
            with self.standin.lock:
                self.standin.valid_tokens.discard(self.bearer())
                self.standin.revoked.add(self.bearer())
            self.send_error_json(401, "authError")
        else:
            self.send_error_json(int(fault.action), fault.reason)

    # -- routes --

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        if url.path == "/token":
            return self.token()
        if not self.authorised():
            self.read_body()
            return None
        for prefix in UPLOAD_PREFIXES:
            if url.path.startswith(prefix) and url.path.removeprefix(prefix) in KINDS:
                return self.initiate(KINDS[url.path.removeprefix(prefix)], url.path, url.query)
        if url.path == "/youtube/v3/playlistItems":
            return self.insert_playlist_item()
        self.send_error_json(404, "notFound")
        return None

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if not self.authorised():
            return
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        routes = {"/youtube/v3/playlistItems": self.list_playlist_items,
                  "/youtube/v3/channels": self.list_channels,
                  "/youtube/v3/videos": self.list_videos,
                  "/youtube/v3/captions": self.list_captions}
        route = routes.get(url.path)
        if route is None:
            self.send_error_json(404, "notFound")
            return
        route(query)

    def send_list(self, kind: str, items: list[dict[str, Any]], query: dict[str, str]) -> None:
        """One page of `items`, with nextPageToken when more follow."""
        size = self.standin.page_size or int(query.get("maxResults") or 5)
        start = int(query.get("pageToken") or 0)
        body: dict[str, Any] = {"kind": kind, "items": items[start:start + size]}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        self.send_json(200, body)

    def list_playlist_items(self, query: dict[str, str]) -> None:
        if query.get("playlistId") == UPLOADS:
            self.log("uploads-list")
            newest_first = reversed(list(self.standin.videos))
            items = [{"kind": "youtube#playlistItem", "contentDetails": {"videoId": v}}
                     for v in newest_first]
            return self.send_list("youtube#playlistItemListResponse", items, query)
        self.log("playlist-list")
        items = [{"id": i["id"]} for i in self.standin.playlist_items
                 if i["snippet"]["playlistId"] == query.get("playlistId")
                 and i["snippet"]["resourceId"]["videoId"] == query.get("videoId")]
        return self.send_list("youtube#playlistItemListResponse", items, query)

    def list_channels(self, query: dict[str, str]) -> None:
        self.log("channels-list")
        channel = {"kind": "youtube#channel", "id": "UCstandin",
                   "contentDetails": {"relatedPlaylists": {"uploads": UPLOADS}}}
        self.send_json(200, {"kind": "youtube#channelListResponse",
                             "items": [channel] if query.get("mine") == "true" else []})

    def list_videos(self, query: dict[str, str]) -> None:
        self.log("videos-list")
        wanted = query.get("id", "").split(",")
        items = [self.standin.videos[v]["resource"] for v in wanted if v in self.standin.videos]
        self.send_json(200, {"kind": "youtube#videoListResponse", "items": items})

    def list_captions(self, query: dict[str, str]) -> None:
        self.log("captions-list")
        items = [{k: v for k, v in c.items() if k != "sha256"} for c in self.standin.captions
                 if c["snippet"].get("videoId") == query.get("videoId")]
        self.send_json(200, {"kind": "youtube#captionListResponse", "items": items})

    def do_PUT(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        session = self.standin.sessions.get(query.get("upload_id", ""))
        if self.revoked():
            return
        if session is None:
            self.read_body()
            self.send_error_json(404, "notFound")
            return
        content_range = self.headers.get("Content-Range", "")
        if content_range.startswith("bytes */"):
            self.log("status")
            self.read_body()
            return self.report(session)
        return self.chunk(session, content_range)

    def token(self) -> None:
        """Refresh a token, or trade a sign-in code for tokens (installed-app flow)."""
        form = {k: v[0] for k, v in parse_qs(self.read_body().decode()).items()}
        self.log("token", grant=form.get("grant_type"))
        body: dict[str, Any] = {"expires_in": 3600, "token_type": "Bearer"}
        code = form.get("code")
        if form.get("grant_type") == "authorization_code" and code in self.standin.codes:
            body["refresh_token"] = self.standin.refresh_token
        elif form.get("refresh_token") != self.standin.refresh_token:
            self.send_json(400, {"error": "invalid_grant"})
            return
        body["access_token"] = f"refreshed-{uuid.uuid4().hex}"
        self.standin.valid_tokens.add(body["access_token"])
        self.send_json(200, body)

    def initiate(self, kind: str, path: str, raw_query: str) -> None:
        body = self.read_body()
        self.log("init", upload=kind)
        if fault := self.standin.take_fault("init", kind):
            return self.apply(fault)
        query = {k: v[0] for k, v in parse_qs(raw_query).items()}
        if query.get("uploadType") != "resumable" or "X-Upload-Content-Length" not in self.headers:
            return self.send_error_json(400, "badRequest")
        if kind == "thumbnails" and query.get("videoId") not in self.standin.videos:
            return self.send_error_json(404, "videoNotFound")
        upload_id = uuid.uuid4().hex
        self.standin.sessions[upload_id] = Session(
            kind=kind, query=query, metadata=json.loads(body) if body else {},
            total=int(self.headers["X-Upload-Content-Length"]))
        root = self.standin.url.rstrip("/")
        location = f"{root}{path}?uploadType=resumable&upload_id={upload_id}"
        self.send_json(200, None, {"Location": location})
        return None

    def report(self, session: Session) -> None:
        """Answer a status query or a chunk: 308 with what is held, or the resource."""
        if session.resource is not None:
            return self.send_json(200, session.resource)
        held = len(session.data)
        headers = {"Range": f"bytes=0-{held - 1}"} if held else {}
        return self.send_json(308, None, headers)

    def chunk(self, session: Session, content_range: str) -> None:
        start = int(content_range.removeprefix("bytes ").split("-")[0])
        self.log("chunk", upload=session.kind, start=start)
        held = len(session.data)
        hold = self.standin.hold
        if hold and hold.kind == session.kind and start == hold.at and not hold.held.is_set():
            return self.park(hold, session, start)
        if fault := self.standin.take_fault("chunk", session.kind, held):
            if fault.action == "reset":
                self.read_body(limit=int(self.headers.get("Content-Length") or 0) // 2)
            else:
                self.read_body()
            return self.apply(fault)
        return self.store(session, start)

    def park(self, hold: Hold, session: Session, start: int) -> None:
        try:
            if hold.stored:
                self.keep(session, self.read_body())
            hold.held.set()
            hold.release.wait(60)
            return self.report(session) if hold.stored else self.store(session, start)
        finally:
            hold.handled.set()

    def keep(self, session: Session, data: bytes) -> None:
        session.data.extend(data)
        if len(session.data) == session.total:
            with self.standin.lock:
                session.resource = self.standin.finish(session)

    def store(self, session: Session, start: int) -> None:
        """Keep a whole chunk that starts where the session ends; answer with the range."""
        held = len(session.data)
        try:
            data = self.read_body()
        except OSError:  # the promised bytes never came (a timeout) or the client went away
            data = None
        if data is None or len(data) < int(self.headers.get("Content-Length") or 0):
            self.log("short", upload=session.kind, start=start)
            self.close_connection = True  # keep nothing of a chunk cut short
            return None
        if session.resource is not None or start != held:
            return self.send_error_json(400, "badContentRange")
        self.keep(session, data)
        return self.report(session)

    def insert_playlist_item(self) -> None:
        body = json.loads(self.read_body())
        self.log("playlist")
        if fault := self.standin.take_fault("playlist", "playlistItems"):
            return self.apply(fault)
        if body["snippet"]["resourceId"]["videoId"] not in self.standin.videos:
            return self.send_error_json(404, "videoNotFound")
        item = {"kind": "youtube#playlistItem",
                "id": f"item{len(self.standin.playlist_items) + 1}", "snippet": body["snippet"]}
        self.standin.playlist_items.append(item)
        return self.send_json(200, item)
