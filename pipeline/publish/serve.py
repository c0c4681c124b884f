"""Preview `public/` on localhost, answering HTTP byte-range requests (206, Content-Range,
416) as podcast apps expect of an audio host, with the right MIME types.

By default the feed and pages are served with the show's base URL replaced by this
server's own, so a podcast app subscribed to the preview fetches the audio from here;
`--exact` serves the files byte for byte."""

from __future__ import annotations

import functools
import io
import re
import shutil
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import click

from pipeline.config import load_show, project_root
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
}
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024
REWRITTEN = (".xml", ".html")  # files whose URLs the preview points at itself


class RangeNotSatisfiable(ValueError):
    """The Range header asks for bytes the file does not have."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) bytes a Range header asks of a file of `size` bytes.

    None means send the whole file: no header, or one this server ignores as HTTP allows
    (another unit, several ranges). RangeNotSatisfiable means answer 416."""
    match = RANGE_RE.match(header.strip()) if header else None
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # a suffix: the last N bytes
        if int(last) == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable(header)
    return start, end


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that knows which URL prefix to swap for its own, if any."""

    rewrite: tuple[bytes, bytes] | None = None


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

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._remaining = 0
        path = Path(self.translate_path(self.path))
        if not path.is_file() or self.path.split("?")[0].endswith("/"):
            return super().send_head()  # directories, redirects and 404s as usual
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
        if not self._remaining:  # a directory listing or index page from the base class
            shutil.copyfileobj(source, outputfile)
            return
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
        fix = f"run: make review EP={episode_dir.resolve().name}"
        server = make_server(episode_dir / "build", host, port, None, "review.html", fix)
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
