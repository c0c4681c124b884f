"""The preview server: byte ranges as podcast apps ask of an audio host, and MIME types."""

from __future__ import annotations

import http.client
import json
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
    ("bytes=١-٩", None),  # digits, but not the ASCII ones HTTP means: ignored
    (f"bytes=0-{'9' * 5000}", (0, 10239)),  # past int()'s 4,300 digits
    (f"bytes={'0' * 5000}7-8", (7, 8)),
])
def test_byte_range(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, len(AUDIO)) == expected


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=20000-20010", "bytes=-0", "bytes=9-3",
                                    f"bytes={'9' * 5000}-"])
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


# -- what is never served, and requests that are malformed ---------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside public/ holding a secret, and links into it from public/."""
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.mp3").write_bytes(b"not for the web")
    public = tmp_path / "public"
    (public / "ep" / "escape.mp3").symlink_to(secret / "secret.mp3")
    (public / "linked").symlink_to(secret, target_is_directory=True)
    (public / ".ledger.toml").write_text("[show]\n")
    (public / ".public.old-1234").mkdir()
    (public / ".public.old-1234" / "feed.xml").write_text("<rss/>")
    (public / "ep" / ".hidden.mp3").write_bytes(AUDIO)
    (public / "ep" / "notes.txt").write_text("a file the feed does not publish")
    (public / "ep" / "alias.mp3").symlink_to(public / ".ledger.toml")
    return secret


@pytest.mark.parametrize("path", [
    "/ep/escape.mp3", "/linked/secret.mp3", "/.ledger.toml", "/.public.old-1234/feed.xml",
    "/ep/.hidden.mp3", "/ep/%2ehidden.mp3", "/ep/notes.txt", "/ep/alias.mp3", "/ep/",
    "/ep/index.html",
])
def test_what_is_not_in_the_published_site_is_not_found(server: tuple[str, int], outside: Path,
                                                        path: str) -> None:
    response, body = fetch(server, path)
    assert response.status == 404, body
    assert b"not for the web" not in body and b"[show]" not in body
    assert b"episode.mp3" not in body  # no directory listing either


@pytest.mark.parametrize("path", [
    "/%00", "/ep/episode.mp3%00.txt", "/ep/%zz", "/ep/episode.mp3%", "/ep/%ff.mp3",
    "/../feed.xml", "/ep/../feed.xml", "/%2e%2e/feed.xml", "/ep/%2E%2E/%2E%2E/etc/passwd",
    "/./feed.xml", "/ep/%0a.mp3", "feed.xml", "http://example.org/feed.xml",
])
def test_a_malformed_path_is_400_and_the_server_carries_on(server: tuple[str, int],
                                                           path: str) -> None:
    response, _ = fetch(server, path)
    assert response.status == 400
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": "bytes=0-9"})
    assert (response.status, body) == (206, AUDIO[:10])


HUGE = "9" * 5000  # int() refuses more than 4,300 digits


@pytest.mark.parametrize(("header", "status", "expected"), [
    (f"bytes={HUGE}-", 416, b""),
    (f"bytes={HUGE}-{HUGE}", 416, b""),
    (f"bytes=0-{HUGE}", 206, AUDIO),
    (f"bytes=-{HUGE}", 206, AUDIO),
    (f"bytes={'0' * 5000}5-9", 206, AUDIO[5:10]),
    ("bytes=²-", 200, AUDIO),  # not ASCII digits: no range HTTP knows, so the whole file
])
def test_a_range_of_any_length_is_answered(server: tuple[str, int], header: str, status: int,
                                           expected: bytes) -> None:
    response, body = fetch(server, "/ep/episode.mp3", headers={"Range": header})
    assert (response.status, body) == (status, expected)
    response, _ = fetch(server, "/feed.xml")
    assert response.status == 200


def test_a_folder_without_its_slash_is_redirected_to_its_page(server: tuple[str, int],
                                                              tmp_path: Path) -> None:
    (tmp_path / "public" / "ep" / "index.html").write_text("<p>episode page</p>")
    response, _ = fetch(server, "/ep?x=1")
    assert (response.status, response.getheader("Location")) == (301, "/ep/?x=1")
    response, _ = fetch(server, "//ep")
    assert (response.status, response.getheader("Location")) == (301, "/ep/")
    response, body = fetch(server, "/ep/")
    assert (response.status, body) == (200, b"<p>episode page</p>")


def test_the_root_leads_to_the_feed_not_a_listing(server: tuple[str, int]) -> None:
    response, body = fetch(server, "/")
    assert (response.status, response.getheader("Location"), body) == (302, "/feed.xml", b"")


def test_the_review_server_serves_the_page_and_media_but_no_build_state(
        tmp_path: Path) -> None:
    build = tmp_path / "episodes" / "2024-05-17-x" / "build"
    (build / "slides").mkdir(parents=True)
    (build / "review.html").write_text("<html>review</html>")
    (build / "slides" / "001.png").write_bytes(b"\x89PNG")
    (build / "video.mp4").write_bytes(AUDIO)
    (build / "chapters.json").write_text("{}")
    session = "https://uploads.example/upload?upload_id=LIVE-SESSION"
    (build / "youtube.json").write_text(json.dumps({"session_uri": session}))
    for name in ("script.json", "timeline.json", "qa.json", "youtube-title.txt"):
        (build / name).write_text("{}")
    httpd = make_server(build, port=0, index="review.html")
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    address = httpd.server_address[:2]
    try:
        for path, status in [("/review.html", 200), ("/slides/001.png", 200),
                             ("/video.mp4", 200), ("/chapters.json", 200),
                             ("/youtube.json", 404), ("/script.json", 404),
                             ("/timeline.json", 404), ("/qa.json", 404),
                             ("/youtube-title.txt", 404), ("/slides/", 404),
                             ("/", 302)]:
            response, body = fetch(address, path)
            assert response.status == status, path
            assert b"LIVE-SESSION" not in body
        assert fetch(address, "/video.mp4")[0].getheader("Content-Type") == "video/mp4"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_it_listens_on_localhost_unless_told(tmp_path: Path) -> None:
    from pipeline.publish.serve import command

    public = tmp_path / "public"
    public.mkdir()
    (public / "feed.xml").write_text("<rss/>")
    httpd = make_server(public, port=0)
    assert httpd.server_address[0] == "127.0.0.1"
    httpd.server_close()
    host = next(p for p in command.params if p.name == "host")
    assert host.default == "127.0.0.1"


def test_review_refuses_an_episode_folder_linked_from_elsewhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    elsewhere = tmp_path / "other" / "episodes" / "2024-05-17-x"
    (elsewhere / "build").mkdir(parents=True)
    (elsewhere / "build" / "review.html").write_text("<html>someone else's</html>")
    link = tmp_path / "show" / "episodes" / "2024-05-17-x"
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--review", str(link), "--port", "0"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and len(err.splitlines()) == 1
    assert err.startswith(f"error: {link}: resolves to {elsewhere}, outside this project's")
