"""Resumable, chunked uploads with retries, resumable across processes.

The session URI is handed to `on_session` (which records it) before the first byte is
sent. A later process always asks that URI how much it holds (`Content-Range: bytes
*/TOTAL`), whether or not the file has changed since: a finished upload answers with its
resource, which is used; an unfinished one is carried on from there for the same file.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from googleapiclient.errors import HttpError

from pipeline.errors import PipelineError

CHUNK_ENV = "PIPELINE_YOUTUBE_CHUNK_SIZE"
BACKOFF_ENV = "PIPELINE_YOUTUBE_BACKOFF_SCALE"  # multiplies every sleep; tests set it small
CHUNK_UNIT = 256 * 1024
DEFAULT_CHUNK = 32 * CHUNK_UNIT  # 8 MiB
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# dropped connections: reset, refused, broken pipe (ConnectionError), timeouts, short reads
RETRY_EXCEPTIONS = (ConnectionError, TimeoutError, http.client.IncompleteRead,
                    http.client.BadStatusLine)
T = TypeVar("T")


def chunk_size() -> int:
    """Bytes per chunk: $PIPELINE_YOUTUBE_CHUNK_SIZE (a multiple of 256 KiB) or 8 MiB."""
    raw = os.environ.get(CHUNK_ENV)
    if not raw:
        return DEFAULT_CHUNK
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if size <= 0 or size % CHUNK_UNIT:
        raise PipelineError(f"${CHUNK_ENV}={raw!r} is not a positive multiple of 262144",
                            fix="set it to a number of bytes like 8388608 (8 MiB)")
    return size


@dataclass
class Backoff:
    """Exponential backoff with full jitter: try n waits random() * 2**n seconds first."""

    tries: int = 10
    scale: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    waits: list[float] = field(default_factory=list)  # what was slept, for the record

    @classmethod
    def from_env(cls) -> Backoff:
        return cls(scale=float(os.environ.get(BACKOFF_ENV) or 1.0))

    def delay(self, attempt: int) -> float:
        return self.rand() * 2**attempt * self.scale


def is_retryable(exc: BaseException) -> bool:
    """Server errors and dropped connections are worth another try; 4xx never are."""
    if isinstance(exc, HttpError):
        return exc.status_code in RETRY_STATUSES
    return isinstance(exc, RETRY_EXCEPTIONS)


def describe_failure(exc: BaseException) -> str:
    if isinstance(exc, HttpError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__


def with_retries(call: Callable[[], T], what: str, backoff: Backoff,
                 say: Callable[[str], None]) -> T:
    """Run `call`, trying again after retryable failures, at most `backoff.tries` times."""
    for attempt in range(1, backoff.tries + 1):
        try:
            return call()
        except Exception as exc:
            if not is_retryable(exc) or attempt == backoff.tries:
                raise
            wait = backoff.delay(attempt)
            say(f"{what}: {describe_failure(exc)}; try {attempt + 1} of {backoff.tries} "
                f"in {wait:.1f} s")
            backoff.waits.append(wait)
            backoff.sleep(wait)
    raise AssertionError("unreachable")


def start_session(request: Any, total: int) -> str:
    """Open a resumable session (the metadata goes here) and return its URI."""
    headers = dict(request.headers)
    headers["X-Upload-Content-Type"] = request.resumable.mimetype()
    headers["X-Upload-Content-Length"] = str(total)
    headers["content-length"] = str(len(request.body or ""))
    resp, content = request.http.request(request.uri, method=request.method,
                                         body=request.body, headers=headers)
    if resp.status == 200 and "location" in resp:
        return resp["location"]
    raise HttpError(resp, content, uri=request.uri)


def query_session(http_: Any, uri: str, total: int) -> tuple[dict | None, int | None]:
    """Ask a session how much it holds: (resource, total) when complete, (None, offset)
    while incomplete, (None, None) when the session no longer exists."""
    resp, content = http_.request(uri, "PUT", headers={"Content-Range": f"bytes */{total}",
                                                       "content-length": "0"})
    if resp.status in (200, 201):
        return json.loads(content), total
    if resp.status == 308:
        held = resp.get("range")
        return None, int(held.split("-")[1]) + 1 if held else 0
    if resp.status in (404, 410):
        return None, None
    raise HttpError(resp, content, uri=uri)


@dataclass
class Upload:
    """One resumable upload: the built request, its size and how to report."""

    request: Any
    total: int
    what: str
    backoff: Backoff
    say: Callable[[str], None]
    progress: Callable[[int], None] = lambda done: None

    @property
    def resuming(self) -> bool:
        return self.request.resumable_uri is not None

    def ask(self, session_uri: str, same_file: bool) -> dict | None:
        """Ask a saved session how much it holds, whatever file it was for: the resource if
        it had finished. An unfinished one is resumed only for the same file."""
        resource, offset = with_retries(
            lambda: query_session(self.request.http, session_uri, self.total),
            f"{self.what} (asking the saved session)", self.backoff, self.say)
        if resource is not None:
            return resource
        if offset is None:
            self.say(f"{self.what}: the saved upload session has expired; starting again")
        elif not same_file:
            self.say(f"{self.what}: the saved session holds {offset:,} bytes of an earlier "
                     "file, which has changed since; starting again with the new one")
        else:
            self.request.resumable_uri = session_uri
            self.request.resumable_progress = offset
            if offset:
                self.say(f"{self.what}: resuming at byte {offset:,} of {self.total:,}")
        return None

    def run(self, on_session: Callable[[str], None]) -> dict:
        """Upload everything the server does not hold yet and return the resource."""
        if not self.resuming:
            uri = with_retries(lambda: start_session(self.request, self.total),
                               f"{self.what} (starting)", self.backoff, self.say)
            on_session(uri)
            self.request.resumable_uri = uri
        self.progress(self.request.resumable_progress)
        body = None
        while body is None:
            _, body = with_retries(self.request.next_chunk, self.what, self.backoff, self.say)
            self.progress(self.total if body is not None else self.request.resumable_progress)
        return body
