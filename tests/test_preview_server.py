"""The ``--serve`` preview's server (issue 27): every item of the book served, only
what the last build wrote, loopback only, bounded, and headers that forbid framing.

One small project (a section with an image) is built once; each test starts the
real server in this process on a free port, with the book the edit loop's check
renders (``preview.check``) or the built EPUB, and talks to it over real sockets.
The end-to-end test drives a real ``python build.py --serve`` (``tests/watcher.py``'s
``Watcher``).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import logging
import os
import socket
import threading
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from edition.cli import main
from edition.commands import freshness
from edition.loop import loopback, serve, watched
from edition.loop.preview import check

from .projects import BIB_MIN, ROOT, make_project, section, small_project

SECRET = b"only the owner may read this\n"


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(data, format="PNG")
    return data.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A project with an image, built (PDF and EPUB) into its dist/ once."""
    project = make_project(
        tmp_path_factory.mktemp("preview") / "p",
        sections={"01-one.md": section("Words of the preview.\n\n![A red map](map.png)\n")},
        bib=BIB_MIN,
        extra={"content/test/text/map.png": _png()},
    )
    assert main(["-q", "--format", "epub", "--format", "pdf", "--out", str(project / "dist")], project=project) == 0
    return project


def rendered_book(project: Path) -> serve.Book:
    sent: list[tuple] = []
    check(sent.append, project, ["test"], [], True, None)
    return next(message[2] for message in sent if message[0] == "preview")


def built_book(project: Path, book: serve.Book) -> serve.Book:
    out = project / "dist"
    data = serve.read_output(out, "test.epub", freshness.records(out)["test.epub"])
    return serve.Book(book.title, book.pages, serve.epub_files(data), "epub")


@pytest.fixture
def server(built):
    """The preview's server on a free port, serving the built project's dist/."""
    started = []

    def start(book: serve.Book | None = None, out: Path | None = None) -> tuple[serve.Server, str]:
        state = serve.State(out=out or built / "dist", editions=["test"])
        state.books["test"] = book or rendered_book(built)
        state.outputs = freshness.records(state.out)
        running = serve.start(0, state)
        started.append(running)
        return running, running.url

    yield start
    for running in started:
        serve.stop(running)


def request(url: str, raw: bytes, timeout: float = 10.0) -> bytes:
    """Send ``raw`` as it is; everything the server answers until it closes."""
    address = url.removeprefix("http://").rstrip("/")
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def get(url: str, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A GET of ``path`` sent exactly as written, with ``host`` as its Host header."""
    answer, body = response(url, path, headers={"Host": host} if host is not None else None)
    return answer.status, body


def response(url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    address = url.removeprefix("http://").rstrip("/")
    connection = http.client.HTTPConnection(address, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in {"Host": address, **(headers or {})}.items():
        connection.putheader(name, value)
    connection.endheaders()
    answer = connection.getresponse()
    return answer, answer.read()


# -- every kind of item ---------------------------------------------------------------


def test_every_kind_of_item_of_the_rendered_book_is_served(server):
    """An image of the previewed EPUB closed the connection with a traceback
    (``TypeError: object of type 'Image' has no len()``)."""
    _, url = server()
    kinds = {
        "/epub/test/test-01-one.xhtml": ("application/xhtml+xml", b"Words of the preview."),
        "/epub/test/css/base.css": ("text/css; charset=utf-8", b"@font-face"),
        "/epub/test/css/epub.css": ("text/css; charset=utf-8", b""),
        "/epub/test/fonts/CharisSIL-Regular.ttf": ("font/ttf", b"\x00\x01\x00\x00"),
        "/epub/test/images/test-map.png": ("image/png", _png()),
    }
    for path, (media, start) in kinds.items():
        answer, body = response(url, path)
        assert (answer.status, answer.getheader("Content-Type")) == (200, media), path
        assert start in body and len(body) == int(answer.getheader("Content-Length")), path
    assert response(url, "/epub/test/images/test-map.png")[1] == _png()


def test_every_kind_of_item_of_the_built_epub_is_served(built, server):
    """Pages, navigation, cover page and image, stylesheets, fonts, images, package files."""
    _, url = server(built_book(built, rendered_book(built)))
    with zipfile.ZipFile(built / "dist/test.epub") as epub:
        names = [n.removeprefix("EPUB/") for n in epub.namelist() if n.startswith("EPUB/")]
        for kind in ("nav.xhtml", "cover.xhtml", "images/cover.png", "images/test-map.png", "css/base.css"):
            assert kind in names, kind
        assert any(n.startswith("fonts/") for n in names)
        for name in names:
            answer, body = response(url, f"/epub/test/{name}")
            assert answer.status == 200, name
            assert body == epub.read(f"EPUB/{name}"), name


# -- only what the last build wrote ------------------------------------------------------


def test_the_pdf_is_served_only_as_the_last_build_wrote_it(built, server, tmp_path):
    """``dist/test.pdf`` as a link out of the project (a file of another user's
    that only root can read) was served to any local user through the port."""
    out = tmp_path / "dist"
    out.mkdir()
    for name in ("test.pdf", "test.epub", "test.preflight.json", ".edition-build.json"):
        (out / name).write_bytes((built / "dist" / name).read_bytes())
    running, url = server(out=out)
    pdf = (out / "test.pdf").read_bytes()
    assert response(url, "/pdf/test.pdf")[1] == pdf
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)

    def refused() -> None:
        answer, body = response(url, "/pdf/test.pdf")
        assert answer.status == 404 and SECRET not in body and not body.startswith(b"%PDF")

    (out / "test.pdf").unlink()
    (out / "test.pdf").symlink_to(secret)  # a link out
    refused()
    (out / "copy.pdf").write_bytes(pdf)
    (out / "test.pdf").unlink()
    (out / "test.pdf").symlink_to("copy.pdf")  # a link, even to the same bytes
    refused()
    (out / "test.pdf").unlink()
    (out / "test.pdf").write_bytes(pdf.replace(b"%%EOF", b"%%EOF\n% doctored"))  # other bytes
    refused()
    (out / "test.pdf").unlink()
    os.mkfifo(out / "test.pdf")  # a pipe: never opened for reading
    refused()
    (out / "test.pdf").unlink()
    (out / "test.pdf").write_bytes(pdf)
    assert response(url, "/pdf/test.pdf")[1] == pdf
    # swapped after it was checked and served once: the new file is checked again
    (out / "other.pdf").write_bytes(pdf[:-10] + b"%%EOF\n% x\n")
    os.replace(out / "other.pdf", out / "test.pdf")
    refused()
    # a stamp that is not the build's (edited to name other bytes): nothing is served
    stamp = json.loads((out / ".edition-build.json").read_text())
    doctored = pdf.replace(b"%%EOF", b"%%EOF\n% doctored")
    (out / "test.pdf").write_bytes(doctored)
    stamp["outputs"]["test.pdf"].update(sha256=hashlib.sha256(doctored).hexdigest(), size=len(doctored))
    (out / ".edition-build.json").write_text(json.dumps(stamp))
    running.state.outputs = freshness.records(out)
    assert running.state.outputs == {}
    refused()


def test_a_file_swapped_between_the_check_and_the_send_is_never_sent(built, server, tmp_path, monkeypatch):
    """The file is checked and sent from one open descriptor: a rename over it
    after the check (a time-of-check race) changes nothing that is sent."""
    out = tmp_path / "dist"
    out.mkdir()
    for name in ("test.pdf", ".edition-build.json"):
        (out / name).write_bytes((built / "dist" / name).read_bytes())
    _, url = server(out=out)
    pdf = (out / "test.pdf").read_bytes()
    real = serve.recorded.matches

    def swap_after_check(fd, info, record):
        ok = real(fd, info, record)
        (out / "evil.pdf").write_bytes(SECRET)
        os.replace(out / "evil.pdf", out / "test.pdf")
        return ok

    monkeypatch.setattr(serve.recorded, "matches", swap_after_check)
    assert response(url, "/pdf/test.pdf")[1] == pdf


def test_no_url_reaches_a_file_by_its_path(built, server):
    (built.parent / "secret.txt").write_bytes(SECRET)
    _, url = server()
    for path in (
        "/epub/test/../../secret.txt",
        "/epub/test/%2e%2e/%2e%2e/secret.txt",
        "/epub/test/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/epub/test/..%5c..%5csecret.txt",
        "/epub/test/images\\..\\..\\secret.txt",
        "/epub/test/%00",
        "/epub/test/images/test-map.png%00.xhtml",
        "/epub/test/%c0%ae%c0%ae/secret.txt",
        "/epub/test/%252e%252e/secret.txt",
        "/pdf/..%2fsecret.pdf",
        "/pdf/test.pdf%00",
        "/pdf/%2e%2e%2fp%2fdist%2ftest.pdf",
        "/dist/test.pdf",
        "/content/test/text/map.png",
    ):
        status, body = get(url, path)
        assert status in (400, 404) and SECRET not in body, path


# -- loopback only ---------------------------------------------------------------------------


def test_the_preview_answers_only_loopback_names(server):
    running, url = server()
    assert running.server_address[0] == "127.0.0.1"
    port = running.port
    assert get(url, "/", host=f"127.0.0.1:{port}")[0] == 200
    for host in (
        "attacker.example",
        f"attacker.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"localhost.:{port}",
        f"localhost.attacker.example:{port}",
        f"127.1:{port}",
        f"2130706433:{port}",
        f"0x7f000001:{port}",
        f"[::1]:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"127.0.0.1:{port}@attacker.example",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
    ):
        status, body = get(url, "/", host=host)
        assert status == 403, host
        assert b"<html" not in body
    # no Host, an empty one, or two of them (the first one right)
    assert request(url, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 403 ")
    assert request(url, b"GET / HTTP/1.0\r\nHost: \r\n\r\n").startswith(b"HTTP/1.0 403 ")
    two = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nHost: attacker.example\r\n\r\n".encode()
    assert request(url, two).startswith(b"HTTP/1.0 403 ")
    assert get(url, "/", host=f"LOCALHOST:{port}")[0] == 200  # host names are not case-sensitive


# -- every response's headers ------------------------------------------------------------


def test_every_response_forbids_framing_sniffing_and_referrers(built, server):
    """The shell could be framed by any page (no X-Frame-Options, no frame-ancestors)."""
    _, url = server(built_book(built, rendered_book(built)))
    port = url.rstrip("/").rsplit(":", 1)[1]
    cases = {
        ("GET", "/"): (200, "DENY", "frame-ancestors 'none'"),
        ("GET", "/preview.js"): (200, "DENY", "frame-ancestors 'none'"),
        ("GET", "/preview.css"): (200, "DENY", "frame-ancestors 'none'"),
        ("GET", "/epub/test/test-01-one.xhtml"): (200, "SAMEORIGIN", "frame-ancestors 'self'"),
        ("GET", "/epub/test/nav.xhtml"): (200, "SAMEORIGIN", "frame-ancestors 'self'"),
        ("GET", "/epub/test/images/test-map.png"): (200, "DENY", "frame-ancestors 'none'"),
        ("GET", "/pdf/test.pdf"): (200, "SAMEORIGIN", "frame-ancestors 'self'"),
        ("HEAD", "/"): (200, "DENY", "frame-ancestors 'none'"),
        ("GET", "/nothing"): (404, "DENY", "frame-ancestors 'none'"),
        ("POST", "/"): (405, "DENY", "frame-ancestors 'none'"),
        ("OPTIONS", "/"): (405, "DENY", "frame-ancestors 'none'"),
    }
    for (method, path), (status, frame, ancestors) in cases.items():
        answer, body = response(url, path, method)
        assert answer.status == status, (method, path)
        assert answer.getheader("X-Frame-Options") == frame, (method, path)
        policy = answer.getheader("Content-Security-Policy")
        assert ancestors in policy and policy.startswith("default-src 'none'"), (method, path)
        assert answer.getheader("X-Content-Type-Options") == "nosniff"
        assert answer.getheader("Referrer-Policy") == "no-referrer"
        if method == "HEAD":
            assert body == b"" and int(answer.getheader("Content-Length")) > 0
    answer, _ = response(url, "/", headers={"Host": f"attacker.example:{port}"})
    assert answer.status == 403 and answer.getheader("X-Frame-Options") == "DENY"
    assert response(url, "/", "DELETE")[0].getheader("Allow") == "GET, HEAD"
    raw = request(url, b"GET /" + b"a" * 9000 + b" HTTP/1.0\r\n\r\n")  # refused before its Host is read
    assert raw.startswith(b"HTTP/1.0 414 ") and b"\r\nX-Frame-Options: DENY\r\n" in raw
    assert b"\r\nContent-Security-Policy: default-src 'none'" in raw


def test_a_real_browser_shows_everything_under_these_headers(built, server, tmp_path):
    """The policies are tight, not broken: Chromium shows the page with its font and
    image in the preview's frame, and the PDF in its PDF viewer."""
    from .cdp import Browser

    _, url = server(built_book(built, rendered_book(built)))
    browser = Browser(tmp_path / "profile")
    try:
        browser.navigate(url + "?e=test&p=test-01-one.xhtml")
        frame = "document.getElementById('view').contentDocument"
        assert "Words of the preview." in browser.evaluate(f"{frame}.body.textContent")
        image = f"{frame}.querySelector('img')"
        assert browser.evaluate(f"{image}.decode().then(() => {image}.naturalWidth)") == 40
        fonts = f"{frame}.fonts.ready.then((f) => [...f].filter((x) => x.status === 'loaded').map((x) => x.family))"
        assert "Charis Edition" in browser.evaluate(fonts)
        browser.navigate(url + "?e=test&v=pdf")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            targets = browser.send("Target.getTargets")["targetInfos"]
            if any(t["url"].startswith("chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/") for t in targets):
                break  # Chromium's PDF viewer, inside the preview's frame
            time.sleep(0.2)
        else:
            pytest.fail(f"no PDF viewer: {targets}")
    finally:
        browser.close()


# -- bounded ------------------------------------------------------------------------------------


def test_idle_and_slow_connections_are_closed(server, monkeypatch):
    """A connection that sends nothing, or trickles its headers a byte at a time,
    stayed open for ever (a thread each)."""
    monkeypatch.setattr(loopback, "REQUEST_TIMEOUT", 1.0)
    running, url = server()
    port = running.port
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:
        assert idle.recv(100) == b""  # closed by the server, not by the 10 s of the test
    assert time.monotonic() - started < 5
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"GET / HTTP/1.1\r\n")
        closed = False
        for _ in range(40):  # a header byte every 0.1 s: each read is quick, the whole is not
            try:
                slow.sendall(b"X")
            except OSError:
                closed = True
                break
            time.sleep(0.1)
            slow.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                closed = slow.recv(100) == b""
            slow.setblocking(True)
            if closed:
                break
        assert closed
    assert time.monotonic() - started < 3


def test_connections_are_bounded(server, monkeypatch):
    """50 idle connections stayed open (a thread each), indefinitely."""
    monkeypatch.setattr(loopback, "REQUEST_TIMEOUT", 3.0)
    running, url = server()
    sockets = [socket.create_connection(("127.0.0.1", running.port), timeout=10) for _ in range(50)]
    try:
        time.sleep(0.5)
        answers = []
        for sock in sockets:
            sock.setblocking(False)
            try:
                answers.append(sock.recv(2000))
            except BlockingIOError:
                answers.append(None)  # held, waiting for its request
        held = [a for a in answers if a is None]
        assert len(held) == loopback.MAX_CONNECTIONS
        assert all(a.startswith(b"HTTP/1.0 503 ") for a in answers if a is not None)
        assert all(b"\r\nX-Frame-Options: DENY\r\n" in a for a in answers if a is not None)
        assert get(url, "/")[0] == 503  # the preview is full
        time.sleep(3.5)  # the idle ones time out, and the server answers again
        assert get(url, "/")[0] == 200
        assert all(_closed(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def _closed(sock: socket.socket) -> bool:
    """The server closed it (the read ends), not the test's timeout."""
    sock.settimeout(5)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


def test_a_client_that_does_not_read_is_let_go(server, monkeypatch):
    """A write that does not go through within ``SEND_TIMEOUT`` ends the connection."""
    monkeypatch.setattr(loopback, "SEND_TIMEOUT", 1.0)
    big = serve.Book("T", [("a.xhtml", "A")], {"a.xhtml": b"<p/>", "big.css": b"/* */" * 4_000_000})
    running, url = server(big)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", running.port))
        sock.sendall(f"GET /epub/test/big.css HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n\r\n".encode())
        held = lambda: running.connections._value < loopback.MAX_CONNECTIONS  # noqa: E731 - the server's own count
        deadline = time.monotonic() + 10
        while not held():
            assert time.monotonic() < deadline, "the request was never taken"
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while held():
            assert time.monotonic() < deadline, "the connection is still held"
            time.sleep(0.1)


def test_the_readme_states_the_bounds_the_code_has():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    safety = readme[readme.index("## Safety") : readme.index("## Scripts and fonts")]
    for stated in (
        f"at most {loopback.MAX_CONNECTIONS}\n  connections at once, {loopback.MAX_STREAMS} of them event streams",
        f"must arrive within {loopback.REQUEST_TIMEOUT:.0f} seconds",
        f"the request line at most {loopback.MAX_REQUEST_LINE // 1024} KiB",
        f"line and headers together {loopback.MAX_HEAD // 1024} KiB",
        f"within {loopback.SEND_TIMEOUT:.0f} seconds",
        f"| folders `--watch` watches | {watched.MAX_FOLDERS:,} |",
        f"| {loopback.MAX_CONNECTIONS} / {loopback.MAX_STREAMS} (one more: `503`) |",
        f"of at most {freshness.MAX_STAMP // 2**20} MiB",
    ):
        assert stated in safety, stated


def test_event_streams_are_bounded(server):
    running, url = server()
    port = running.port
    streams = []
    try:
        for _ in range(loopback.MAX_STREAMS):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert sock.recv(100).startswith(b"HTTP/1.0 200 ")
            streams.append(sock)
        status, body = get(url, "/events")
        assert status == 503
        assert get(url, "/")[0] == 200  # pages are still served
    finally:
        for sock in streams:
            sock.close()


def test_request_sizes_are_bounded(server):
    running, url = server()
    host = f"Host: 127.0.0.1:{running.port}\r\n".encode()
    line = b"GET /?" + b"a" * loopback.MAX_REQUEST_LINE + b" HTTP/1.1\r\n" + host + b"\r\n"
    assert request(url, line).startswith(b"HTTP/1.0 414 ")
    big = b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"b" * loopback.MAX_HEAD + b"\r\n\r\n"
    assert request(url, big).startswith(b"HTTP/1.0 431 ")
    many = b"GET / HTTP/1.1\r\n" + host + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n"
    assert request(url, many).startswith(b"HTTP/1.0 431 ")
    # a huge Range is no reason to fail: the whole file, once
    answer, body = response(url, "/preview.css", headers={"Range": "bytes=0-" + "9" * 4000})
    assert answer.status == 200 and body.startswith(b"html, body")


def test_nothing_is_smuggled_on_a_connection(server):
    running, url = server()
    host = f"Host: 127.0.0.1:{running.port}\r\n".encode()
    # two requests on one connection: one answer, then the connection is closed
    two = b"GET /preview.css HTTP/1.1\r\n" + host + b"\r\nGET /preview.js HTTP/1.1\r\n" + host + b"\r\n"
    answer = request(url, two)
    assert answer.count(b"HTTP/1.0 ") == 1 and b"use strict" not in answer
    for extra in (
        b"Content-Length: 44\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 0\r\nContent-Length: 5\r\n",
    ):
        body = b"GET /preview.js HTTP/1.1\r\n" + host + b"\r\n"
        raw = b"POST / HTTP/1.1\r\n" + host + extra + b"\r\n" + body
        answer = request(url, raw)
        assert answer.startswith(b"HTTP/1.0 400 ") and answer.count(b"HTTP/1.0 ") == 1, extra
    absolute = b"GET http://attacker.example/ HTTP/1.1\r\n" + host + b"\r\n"
    assert request(url, absolute).startswith(b"HTTP/1.0 400 ")
    assert request(url, b"OPTIONS * HTTP/1.1\r\n" + host + b"\r\n").startswith(b"HTTP/1.0 400 ")
    assert request(url, b"GET /\r\n") == b""  # HTTP/0.9: no headers could be sent, so no answer


def test_a_failure_while_serving_is_one_line_never_a_traceback(server, capfd):
    """An item of a type the server does not expect was a traceback on the terminal."""
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("edition.loop.loopback").addHandler(handler)
    book = serve.Book("T", [("a.xhtml", "A")], {"a.xhtml": b"<p/>", "broken.png": object()})  # type: ignore[dict-item]
    _, url = server(book)
    assert get(url, "/epub/test/broken.png")[0] == 404
    book.pages.append(("only a name",))  # type: ignore[arg-type] - the page list cannot be shown: a bug
    with pytest.raises(http.client.RemoteDisconnected):
        get(url, "/")
    port = url.rstrip("/").rsplit(":", 1)[1]  # the path as the log shows it: escaped
    assert request(url, f"GET /?\x1b[31m HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()) == b""
    assert get(url, "/preview.css")[0] == 200  # the server goes on
    logging.getLogger("edition.loop.loopback").removeHandler(handler)
    assert "Traceback" not in capfd.readouterr().err
    failed = "failed: ValueError: not enough values to unpack (expected 2, got 1)"
    assert lines == [f"preview: GET / {failed}", f"preview: GET /?\\x1b[31m {failed}"]


# -- end to end: python build.py --serve ------------------------------------------------------


def test_the_preview_never_serves_a_dist_link_the_project_brings(tmp_path, watch):  # noqa: F811 - the fixture
    """A project whose build fails (so dist/ is kept) and whose dist/test.pdf is a
    link to a file outside: ``--serve`` served that file."""
    project = small_project(tmp_path / "p", "A call to a note never written.[^9]\n")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    (project / "dist").mkdir()
    (project / "dist/test.pdf").symlink_to(secret)
    watcher = watch(project, "--serve", "--port", "0", "--format", "pdf", "--out", "dist")
    url = watcher.expect(r"^preview at (http://127\.0\.0\.1:\d+/)$").group(1)
    watcher.expect(r"^test: 1 error\(s\) in the input")
    status, body = get(url, "/pdf/test.pdf")
    assert status == 404 and SECRET not in body
    assert watcher.interrupt() == 130


def test_threads_do_not_pile_up(server, monkeypatch):
    """Each connection's thread ends with it."""
    monkeypatch.setattr(loopback, "REQUEST_TIMEOUT", 1.0)
    running, url = server()
    before = threading.active_count()
    for _ in range(60):
        assert get(url, "/preview.css")[0] == 200
    time.sleep(0.3)
    assert threading.active_count() <= before + 2
