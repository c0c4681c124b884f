"""The preview server: byte ranges as podcast apps ask of an audio host, and MIME types."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import PipelineError
from pipeline.publish.serve import RangeNotSatisfiable, byte_range, make_server

AUDIO = bytes(range(256)) * 40  # 10,240 bytes, every offset distinguishable mod 256


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", (0, 99)),
    ("bytes=100-", (100, 10239)),
    ("bytes=-500", (9740, 10239)),
    ("bytes=-20000", (0, 10239)),
    ("bytes=10000-99999", (10000, 10239)),
    ("bytes=5-5", (5, 5)),
    ("items=0-10", None),  # another unit: ignored, whole file
    ("bytes=0-1,5-9", None),  # several ranges: ignored, whole file
    ("bytes=-", None),
])
def test_byte_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, len(AUDIO)) == expected


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0", "bytes=9-3"])
def test_unsatisfiable_ranges(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, len(AUDIO))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    public = tmp_path / "public"
    (public / "ep").mkdir(parents=True)
    (public / "feed.xml").write_text("<rss version='2.0'><channel/></rss>", encoding="utf-8")
    (public / "ep" / "episode.mp3").write_bytes(AUDIO)
    (public / "ep" / "captions.vtt").write_text("WEBVTT\n", encoding="utf-8")
    (public / "ep" / "captions.srt").write_text("1\n", encoding="utf-8")
    (public / "ep" / "chapters.json").write_text("{}", encoding="utf-8")
    httpd = make_server(public, port=0)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd.server_address[0], httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def fetch(address: tuple[str, int], path: str, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def test_range_request_gets_206_and_the_right_bytes(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": "bytes=1000-1999"})
    assert response.status == 206
    assert body == AUDIO[1000:2000]
    assert response.getheader("Content-Range") == f"bytes 1000-1999/{len(AUDIO)}"
    assert response.getheader("Content-Length") == "1000"
    assert response.getheader("Content-Type") == "audio/mpeg"
    assert response.getheader("Accept-Ranges") == "bytes"


def test_open_and_suffix_ranges(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": "bytes=10000-"})
    assert (response.status, body) == (206, AUDIO[10000:])
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": "bytes=-16"})
    assert (response.status, body) == (206, AUDIO[-16:])


def test_whole_file_without_range(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/ep/episode.mp3")
    assert (response.status, body) == (200, AUDIO)
    assert response.getheader("Accept-Ranges") == "bytes"
    assert response.getheader("Content-Length") == str(len(AUDIO))


def test_unsatisfiable_range_is_416(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": "bytes=20000-"})
    assert response.status == 416
    assert response.getheader("Content-Range") == f"bytes */{len(AUDIO)}"
    assert body == b""


def test_head_with_range_sends_headers_only(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/ep/episode.mp3", "HEAD", {"Range": "bytes=0-1"})
    assert (response.status, body) == (206, b"")
    assert response.getheader("Content-Length") == "2"


@pytest.mark.parametrize(("path", "mime"), [
    ("/ep/episode.mp3", "audio/mpeg"),
    ("/ep/captions.vtt", "text/vtt; charset=utf-8"),
    ("/ep/captions.srt", "application/x-subrip; charset=utf-8"),
    ("/ep/chapters.json", "application/json"),
    ("/feed.xml", "application/rss+xml; charset=utf-8"),
])
def test_mime_types(server: tuple[str, int], path: str, mime: str) -> None:
    response, _ = fetch(server, path)
    assert (response.status, response.getheader("Content-Type")) == (200, mime)


def test_missing_file_is_404(server: tuple[str, int]) -> None:
    response, _ = fetch(server, "/ep/nothing.mp3", headers={"Range": "bytes=0-1"})
    assert response.status == 404


def test_unbuilt_public_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="public/ is not built"):
        make_server(tmp_path / "public", port=0)


def test_the_review_page_is_served_from_the_build_folder(tmp_path: Path) -> None:
    import threading
    import urllib.request

    build = tmp_path / "episodes" / "2024-05-17-x" / "build"
    with pytest.raises(PipelineError, match="build/ is not built .no review.html") as caught:
        make_server(build, port=0, index="review.html", fix="run: make review EP=2024-05-17-x")
    assert "make review" in caught.value.line()
    build.mkdir(parents=True)
    (build / "review.html").write_text("<html>review</html>")
    (build / "captions.vtt").write_text("WEBVTT\n")
    httpd = make_server(build, port=0, index="review.html")
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with urllib.request.urlopen(f"{url}/review.html") as response:
            assert response.read() == b"<html>review</html>"
        with urllib.request.urlopen(f"{url}/captions.vtt") as response:
            assert response.headers["Content-Type"].startswith("text/vtt")
    finally:
        httpd.shutdown()
        httpd.server_close()
