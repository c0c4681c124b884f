"""Preview `public/` on localhost, answering HTTP byte-range requests (206, Content-Range,
416) as podcast apps expect of an audio host, with the right MIME types.

By default the feed and pages are served with the show's base URL replaced by this
server's own, so a podcast app subscribed to the preview fetches the audio from here;
`--exact` serves the files byte for byte.

Only what a podcast app or the review page fetches is served: the media, pages, feed and
captions by their suffix, and of JSON only chapters.json, the one file the feed links
(podcast:chapters). Build state (youtube.json holds a live upload session's URI, and
script.json, qa.json, timeline.json), dot-files (public/.ledger.toml, scratch folders) and
anything a link leads to outside the folder are not found; there are no directory
listings. A malformed path (a NUL, bad percent-encoding, not UTF-8, a `.` or `..`
segment) is answered 400."""

from __future__ import annotations

import functools
import io
import re
import urllib.parse
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import click

from pipeline.config import load_show, project_root
from pipeline.episode import episode_folder
from pipeline.errors import PipelineError

MIME_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".mp4": "video/mp4",
}
SERVED_SUFFIXES = frozenset(MIME_TYPES) - {".json"}
SERVED_NAMES = frozenset({"chapters.json"})
RANGE_RE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")
# past any file's size; a longer number is clamped to it rather than given to int()
BEYOND = 10**18
BAD_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
CHUNK = 64 * 1024
REWRITTEN = (".xml", ".html")  # files whose URLs the preview points at itself


class RangeNotSatisfiable(ValueError):
    """The Range header asks for bytes the file does not have."""


class BadRequest(ValueError):
    """A request path no browser or podcast app sends."""


def _bytes_number(digits: str) -> int:
    """A Range number; any number of digits (int() refuses more than 4,300)."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < len(str(BEYOND)) else BEYOND


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes a Range header asks of a file of `size` bytes.

    None means send the whole file: no header, or one this server ignores as HTTP allows
    (another unit, several ranges). RangeNotSatisfiable means answer 416."""
    match = RANGE_RE.match(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # a suffix: the last N bytes
        suffix = _bytes_number(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - suffix), size - 1
    start = _bytes_number(first)
    end = min(_bytes_number(last), size - 1) if last else size - 1
    if start >= size or (last and _bytes_number(last) < start):
        raise RangeNotSatisfiable(header)
    return start, end


def url_segments(target: str) -> list[str]:
    """The decoded path segments of a request target; BadRequest for a malformed one."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise BadRequest("not a path")
    if BAD_PERCENT_RE.search(path):
        raise BadRequest("bad percent-encoding")
    try:  # http.server reads the request line as Latin-1: this gives back its bytes
        text = urllib.parse.unquote_to_bytes(path.encode("latin-1")).decode("utf-8")
    except UnicodeError:
        raise BadRequest("not UTF-8") from None
    if CONTROL_RE.search(text):
        raise BadRequest("a control character")
    segments = [part for part in text.split("/") if part]
    if {".", ".."} & set(segments):
        raise BadRequest("a . or .. segment")
    return segments


def _published(parts: tuple[str, ...]) -> bool:
    return not any(part.startswith(".") for part in parts)


def _servable(name: str) -> bool:
    return Path(name).suffix.lower() in SERVED_SUFFIXES or name in SERVED_NAMES


def local_path(folder: Path, segments: list[str]) -> Path | None:
    """What the segments name inside `folder` (a file or a folder), or None: a dot-name,
    or a link that leads outside `folder` (`folder` is resolved)."""
    if not _published(tuple(segments)):
        return None
    try:
        real = folder.joinpath(*segments).resolve()
    except (OSError, RuntimeError):  # a link loop, a name too long
        return None
    if not real.is_relative_to(folder) or not _published(real.relative_to(folder).parts):
        return None
    return real


def served_file(folder: Path, segments: list[str]) -> tuple[Path, bool] | None:
    """The file to send, and whether the path named a folder (whose page is its index.html);
    None when there is nothing to serve."""
    real = local_path(folder, segments)
    if real is None:
        return None
    try:
        is_folder = real.is_dir()
        real = real / "index.html" if is_folder else real
        if not real.is_file():
            return None
    except OSError:
        return None
    names = (real.name if is_folder else segments[-1], real.name)
    return (real, is_folder) if all(_servable(name) for name in names) else None


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows which URL prefix to swap for its own, if any."""

    rewrite: tuple[bytes, bytes] | None = None
    index = "feed.xml"  # the page / leads to


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler that serves single byte ranges of files."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    server: PreviewServer
    _remaining = 0

    def _open(self, path: Path) -> tuple[BinaryIO, int, float]:
        """The file's bytes (its URLs pointed here for the feed and pages), size, mtime."""
        stat = path.stat()
        rewrite = getattr(self.server, "rewrite", None)
        if rewrite and path.suffix in REWRITTEN:
            data = path.read_bytes().replace(*rewrite)
            return io.BytesIO(data), len(data), stat.st_mtime
        return path.open("rb"), stat.st_size, stat.st_mtime

    def _redirect(self, segments: list[str]) -> None:
        """To a folder's path with its slash (its page's relative links need it), or from
        / to the page this server is for. Built from the segments, never the raw path, so
        a request for //other.host/ cannot send the browser elsewhere."""
        path = "/".join(urllib.parse.quote(part) for part in segments)
        query = urllib.parse.urlsplit(self.path).query
        location = f"/{path}/" if segments else f"/{self.server.index}"
        self.send_response(HTTPStatus.MOVED_PERMANENTLY if segments else HTTPStatus.FOUND)
        self.send_header("Location", location + (f"?{query}" if query and segments else ""))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _target(self) -> Path | None:
        """The file to send, or None once an error or redirect has been answered."""
        try:
            segments = url_segments(self.path)
        except BadRequest as exc:
            self.send_error(HTTPStatus.BAD_REQUEST, str(exc))
            return None
        found = served_file(Path(self.directory).resolve(), segments)
        at_folder = self.path.split("?", 1)[0].endswith("/")
        if found is None and not segments:
            self._redirect(segments)
        elif found is None:
            self.send_error(HTTPStatus.NOT_FOUND)
        elif found[1] and not at_folder:
            self._redirect(segments)
        else:
            return found[0]
        return None

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._remaining = 0
        path = self._target()
        if path is None:
            return None
        handle, size, mtime = self._open(path)
        try:
            span = byte_range(self.headers.get("Range"), size)
        except RangeNotSatisfiable:
            handle.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = span or (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Last-Modified", self.date_time_string(int(mtime)))
        self.end_headers()
        handle.seek(start)
        self._remaining = end - start + 1
        return handle

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        remaining = self._remaining
        while remaining > 0:
            chunk = source.read(min(CHUNK, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000,
                base_url: str | None = None, index: str = "feed.xml",
                fix: str = "run: make feed") -> PreviewServer:
    """An HTTP server for `folder` (port 0 picks a free one); call serve_forever() on it.
    With `base_url`, the feed and pages are served with it replaced by the server's URL."""
    if not (folder / index).is_file():
        raise PipelineError(f"{folder.name}/ is not built (no {index})", folder, fix)
    handler = functools.partial(RangeRequestHandler, directory=str(folder))
    server = PreviewServer((host, port), handler)
    server.index = index
    if base_url:
        here = f"http://{host}:{server.server_address[1]}"
        server.rewrite = (base_url.rstrip("/").encode(), here.encode())
    return server


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding public/ (default: $PIPELINE_ROOT, else here).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port (0 picks a free one).")
@click.option("--exact", is_flag=True,
              help="Serve the feed as published, its URLs on the show's host, not this one.")
@click.option("--review", "episode_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Serve an episode's review page (episodes/<slug>) instead.")
def command(root: Path | None, host: str, port: int, exact: bool,
            episode_dir: Path | None) -> None:
    """Preview public/ over HTTP with byte ranges, as a podcast host would serve it."""
    if episode_dir is not None:
        folder = episode_folder(episode_dir)
        fix = f"run: make review EP={folder.name}"
        server = make_server(folder / "build", host, port, None, "review.html", fix)
        page = "review.html"
    else:
        root = root or project_root()
        base_url = None if exact else load_show(root).show.base_url
        server = make_server(root / "public", host, port, base_url)
        page = "feed.xml"
    address, bound = server.server_address[:2]
    click.echo(f"serving http://{address}:{bound}/{page} (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
