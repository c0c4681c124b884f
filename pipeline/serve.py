"""Preview `public/` on localhost, answering HTTP byte-range requests (206, Content-Range,
416) as podcast apps expect of an audio host, with the right MIME types."""

from __future__ import annotations

import functools
import os
import re
import shutil
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

import click

from pipeline.config import project_root
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


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler that serves single byte ranges of files."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    _remaining = 0

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        self._remaining = 0
        path = Path(self.translate_path(self.path))
        if not path.is_file() or self.path.split("?")[0].endswith("/"):
            return super().send_head()  # directories, redirects and 404s as usual
        handle = path.open("rb")
        stat = os.fstat(handle.fileno())
        try:
            span = byte_range(self.headers.get("Range"), stat.st_size)
        except RangeNotSatisfiable:
            handle.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{stat.st_size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, end = span or (0, stat.st_size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if span:
            self.send_header("Content-Range", f"bytes {start}-{end}/{stat.st_size}")
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
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


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server for `folder` (port 0 picks a free one); call serve_forever() on it."""
    if not (folder / "feed.xml").is_file():
        raise PipelineError("public/ is not built (no feed.xml)", folder, "run: make feed")
    handler = functools.partial(RangeRequestHandler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)


@click.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding public/ (default: $PIPELINE_ROOT, else here).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port (0 picks a free one).")
def command(root: Path | None, host: str, port: int) -> None:
    """Preview public/ over HTTP with byte ranges, as a podcast host would serve it."""
    server = make_server((root or project_root()) / "public", host, port)
    address, bound = server.server_address[:2]
    click.echo(f"serving public/ at http://{address}:{bound}/feed.xml (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()
