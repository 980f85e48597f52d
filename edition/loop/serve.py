"""The local preview of the edit loop: ``python build.py --serve [--port N]``.

A small HTTP server on 127.0.0.1 (the standard library's threading server)
shows, for each edition, the EPUB's XHTML pages with their CSS and fonts and the
latest print PDF, and reloads the browser when a rebuild finishes: the page
listens to ``/events`` (Server-Sent Events, an ``EventSource`` in a few lines of
inline-free JavaScript served from here). When the input or the build fails it
shows the diagnostics.

Only what the preview needs is served, by name: a page or asset is looked up
in the in-memory table of the edition's book (``Book.files``), a PDF by its
edition's slug, so no part of a URL ever becomes a filesystem path. A file of
the output folder (the PDF, the built EPUB) is served only when the last build
wrote it: the build's signed stamp names it with its size and SHA-256, and the
file is opened without following a link and checked against them
(``edition.infra.recorded``), so a ``dist/juche.pdf`` that is a link out of the
project, or a file put there by anyone else, is never served. The server's own
bounds (loopback only, connections, time, sizes, headers) are ``edition.loop.loopback``'s.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import mimetypes
import threading
import zipfile
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from edition.infra import cache, recorded
from edition.loop import loopback

#: Seconds between keep-alive comments on an idle event stream.
KEEP_ALIVE = 15.0

#: A font of the install the preview serves by path is never larger.
MAX_FONT = 64 * 1024 * 1024

MEDIA_TYPES = {
    ".xhtml": "application/xhtml+xml",
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}


@dataclass
class Book:
    """What the preview shows of one edition's EPUB."""

    title: str
    pages: list[tuple[str, str]]  # (file, title) in reading order
    files: dict[str, bytes | Path]  # name in the EPUB -> its bytes, or a font of the install
    source: str = "rendered"  # "rendered" (before the layout) or "epub" (the built file)


def epub_files(data: bytes) -> dict[str, bytes | Path]:
    """The content files of a built EPUB, by their name under ``EPUB/``."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name.removeprefix("EPUB/"): archive.read(name)
            for name in archive.namelist()
            if name.startswith("EPUB/") and not name.endswith("/")
        }


def read_output(out: Path, name: str, record: recorded.Record) -> bytes | None:
    """The bytes of an output the build recorded, read from the file checked
    (no link, a regular file, the recorded size and SHA-256); None otherwise."""
    try:
        with recorded.opened(out, name) as (fd, info):
            if info.st_size != record.size:
                return None
            data = b"".join(recorded.chunks(fd, record.size + 1))
    except recorded.Refused:
        return None
    return data if len(data) == record.size and hashlib.sha256(data).hexdigest() == record.sha256 else None


@dataclass
class State:
    """What the watching process knows; read by the server's threads."""

    out: Path
    editions: list[str]
    pdf: bool = True
    generation: int = 0
    books: dict[str, Book] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)  # slug -> diagnostics of its last failure
    status: dict[str, str] = field(default_factory=dict)  # slug -> what happens to it now
    events: deque = field(default_factory=lambda: deque(maxlen=64))  # the latest, oldest first
    #: What the last build wrote into ``out``, as its signed stamp records it: nothing else there is served.
    outputs: dict[str, recorded.Record] = field(default_factory=dict)
    #: The state (``recorded.identity``) in which each output was found to hold its recorded bytes.
    verified: dict[str, tuple] = field(default_factory=dict)
    closing: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, kind: str, editions: list[str], pages: list[str] | None = None) -> None:
        """A new state: the browser pages listening reload."""
        with self.changed:
            self.generation += 1
            self.events.append(
                {"generation": self.generation, "kind": kind, "editions": editions, "pages": pages or []}
            )
            self.changed.notify_all()

    def update(self, **changes) -> None:
        with self.changed:
            for name, value in changes.items():
                setattr(self, name, value)

    def close(self) -> None:
        with self.changed:
            self.closing = True
            self.changed.notify_all()


class Server(loopback.Server):
    def __init__(self, port: int, state: State) -> None:
        self.state = state
        super().__init__(port, Handler)

    @property
    def url(self) -> str:
        return f"http://{loopback.HOST}:{self.port}/"


def start(port: int, state: State) -> Server:
    """Bind 127.0.0.1:``port`` (0: any free port) and serve in a background thread."""
    server = Server(port, state)
    threading.Thread(target=server.serve_forever, name="edition-preview", daemon=True).start()
    return server


def stop(server: Server) -> None:
    server.state.close()
    server.shutdown()
    server.server_close()


class Handler(loopback.Handler):
    server: Server

    def route(self, head: bool) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        segments = [unquote(s) for s in url.path.split("/")[1:]]
        if any(s in (".", "..") or "/" in s or "\\" in s or "\0" in s for s in segments):
            return self.send_error(HTTPStatus.NOT_FOUND, "not found")
        state = self.server.state
        match segments:
            case [""]:
                self._send(shell(state, query), "text/html; charset=utf-8", head, SHELL_CSP)
            case ["preview.js"]:
                self._send(SCRIPT.encode(), "text/javascript; charset=utf-8", head)
            case ["preview.css"]:
                self._send(STYLE.encode(), "text/css; charset=utf-8", head)
            case ["events"] if not head:
                self._events(max(_int(query.get("since")), _int(self.headers.get("Last-Event-ID"))))
            case ["pdf", name] if state.pdf and name.endswith(".pdf") and name[:-4] in state.editions:
                self._send_output(name, "application/pdf", head)
            case ["epub", slug, *rest] if rest and slug in state.books:
                self._send_book_file(state.books[slug], "/".join(rest), head)
            case _:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")

    def _send_book_file(self, book: Book, name: str, head: bool) -> None:
        data = book.files.get(name)
        if isinstance(data, Path):  # a font of the install (which may be a link), never a file of the project
            data = cache.read_regular(data.resolve(), limit=MAX_FONT)
        if not isinstance(data, bytes):
            return self.send_error(HTTPStatus.NOT_FOUND, "not found")
        suffix = Path(name).suffix.lower()
        media = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        page = suffix in (".xhtml", ".html", ".htm")
        self._send(data, media, head, PAGE_CSP if page else loopback.RESOURCE_CSP, framed=page)

    def _send_output(self, name: str, media: str, head: bool) -> None:
        """A file the last build wrote, checked and served from one open descriptor."""
        state = self.server.state
        record = state.outputs.get(name)
        if record is None:
            return self.send_error(HTTPStatus.NOT_FOUND, "not built yet")
        try:
            with recorded.opened(state.out, name) as (fd, info):
                found = (recorded.identity(info), record)
                if state.verified.get(name) != found:
                    if not recorded.matches(fd, info, record):
                        return self.send_error(HTTPStatus.NOT_FOUND, "not the file the last build wrote")
                    state.verified[name] = found
                self._head(HTTPStatus.OK, media, record.size, PDF_CSP, framed=True)
                if not head:
                    for chunk in recorded.chunks(fd, record.size):
                        self.wfile.write(chunk)
        except recorded.Refused:
            return self.send_error(HTTPStatus.NOT_FOUND, "not built yet")

    def _send(
        self, data: bytes, media: str, head: bool, csp: str = loopback.RESOURCE_CSP, framed: bool = False
    ) -> None:
        self._head(HTTPStatus.OK, media, len(data), csp, framed)
        if not head:
            self.wfile.write(data)

    def _head(self, status: HTTPStatus, media: str, length: int | None, csp: str, framed: bool = False) -> None:
        self.csp, self.framed = csp, framed
        self.send_response(status)
        self.send_header("Content-Type", media)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _events(self, since: int) -> None:
        """Server-Sent Events: one ``build`` event per new state, from ``since`` on
        (at most ``loopback.MAX_STREAMS`` streams at once)."""
        if not self.server.streams.acquire(blocking=False):
            return self.send_error(HTTPStatus.SERVICE_UNAVAILABLE, "too many preview pages are open")
        try:
            self._stream(since)
        finally:
            self.server.streams.release()

    def _stream(self, since: int) -> None:
        state = self.server.state
        self._head(HTTPStatus.OK, "text/event-stream", None, loopback.RESOURCE_CSP)
        try:
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            seen = since
            while True:
                with state.changed:
                    state.changed.wait_for(lambda: state.closing or state.generation > seen, KEEP_ALIVE)  # noqa: B023
                    closing = state.closing
                    new = [dict(e) for e in state.events if e["generation"] > seen]
                if closing:
                    return
                for event in new:
                    seen = event["generation"]
                    self.wfile.write(f"id: {seen}\nevent: build\ndata: {json.dumps(event)}\n\n".encode())
                if not new:
                    self.wfile.write(b": still watching\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


#: The preview page: its own script, stylesheet and event stream, the frame of a
#: page or the PDF; nothing else, and framed by nothing.
SHELL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    f"frame-src 'self'; base-uri 'none'; form-action 'none'; {loopback.FRAMED_BY_NONE}"
)
#: A page of the book, shown in the preview's frame: its stylesheets, fonts and images; no script.
PAGE_CSP = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; font-src 'self'; "
    f"base-uri 'none'; form-action 'none'; {loopback.FRAMED_BY_SELF}"
)
#: The PDF, shown in the preview's frame by the browser's PDF viewer.
PDF_CSP = f"default-src 'none'; object-src 'self'; {loopback.FRAMED_BY_SELF}"


def shell(state: State, query: dict[str, str]) -> bytes:
    """The preview page: editions, the book's pages, the chosen page or the PDF,
    and the diagnostics when the last check or build failed."""
    with state.changed:
        generation = state.generation
        books = dict(state.books)
        errors = {slug: list(lines) for slug, lines in state.errors.items()}
        status = dict(state.status)
    slug = query.get("e") if query.get("e") in state.editions else (state.editions[0] if state.editions else "")
    view = "pdf" if query.get("v") == "pdf" and state.pdf else "epub"
    book = books.get(slug)
    files = [file for file, _ in book.pages] if book else []
    page = query.get("p") if query.get("p") in files else (files[0] if files else "")
    esc = html.escape

    def link(**params: str) -> str:
        return esc("/?" + urlencode({"e": slug, **params}))

    editions = " ".join(
        f'<a href="/?{esc(urlencode({"e": s}))}"{" aria-current=page" if s == slug else ""}>{esc(s)}</a>'
        for s in state.editions
    )
    views = f'<a href="{link(v="epub")}">EPUB</a>' + (f' <a href="{link(v="pdf")}">PDF</a>' if state.pdf else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(book.title if book else slug)} · preview</title>",
        '<link rel="stylesheet" href="/preview.css"><script src="/preview.js" defer></script></head>',
        f'<body data-generation="{generation}" data-edition="{esc(slug)}" data-view="{view}" data-page="{esc(page)}">',
        f'<header><nav class="editions">{editions}</nav><nav class="views">{views}</nav>',
        f'<span id="status">{esc(status.get(slug, ""))}</span></header>',
    ]
    failed = [(s, lines) for s, lines in errors.items() if lines and (s == slug or s not in books)]
    if failed:
        parts.append('<section id="diagnostics" role="alert"><h1>The build failed</h1>')
        parts.append("<p>The outputs of the last good build are kept; fix the input and save.</p><pre>")
        parts.append("\n".join(esc(line) for _, lines in failed for line in lines))
        parts.append("</pre></section>")
    parts.append('<div class="main">')
    if book:
        items = "".join(
            f'<li><a href="{link(p=file)}"{" aria-current=page" if file == page and view == "epub" else ""}>'
            f"{esc(title)}</a></li>"
            for file, title in book.pages
        )
        parts.append(f'<ol class="pages">{items}</ol>')
    if view == "pdf":
        src = f"/pdf/{slug}.pdf?g={generation}"
        parts.append(f'<iframe id="view" title="Print PDF" src="{esc(src)}"></iframe>')
    elif book and page:
        src = f"/epub/{slug}/{page}?g={generation}"
        parts.append(f'<iframe id="view" title="{esc(dict(book.pages)[page])}" src="{esc(src)}"></iframe>')
    else:
        parts.append('<p class="waiting">Nothing to show yet: the first build is running.</p>')
    parts.append("</div></body></html>\n")
    return "\n".join(parts).encode()


#: Reload when a rebuild finishes; on the EPUB view, go to the page that changed
#: and keep the reading position of the page shown.
SCRIPT = """\
"use strict";
(() => {
  const body = document.body.dataset;
  const frame = document.getElementById("view");
  const key = "edition-scroll:" + body.edition + ":" + body.page;
  if (frame && body.view === "epub") {
    frame.addEventListener("load", () => {
      const win = frame.contentWindow;
      const y = Number(sessionStorage.getItem(key) || 0);
      if (y) win.scrollTo(0, y);
      win.addEventListener("scroll", () => sessionStorage.setItem(key, String(win.scrollY)), { passive: true });
    });
  }
  const events = new EventSource("/events?since=" + body.generation);
  events.addEventListener("build", (message) => {
    const event = JSON.parse(message.data);
    if (!event.editions.includes(body.edition)) return;
    if (body.view === "pdf" && event.kind === "preview") return;
    const url = new URL(location.href);
    if (body.view === "epub" && event.pages.length && !event.pages.includes(body.page)) {
      url.searchParams.set("p", event.pages[0]);
    }
    events.close();
    location.replace(url.href);
  });
})();
"""

STYLE = """\
html, body { margin: 0; height: 100%; font: 15px/1.4 system-ui, sans-serif; }
body { display: flex; flex-direction: column; }
header { display: flex; gap: 1.5em; align-items: baseline; padding: .4em .8em; background: #eee; }
header a[aria-current] { font-weight: bold; }
#status { margin-left: auto; color: #555; }
#diagnostics { background: #fde8e8; border-bottom: 2px solid #b00; padding: .2em .8em; }
#diagnostics h1 { font-size: 1.1em; margin: .4em 0; color: #900; }
#diagnostics pre { white-space: pre-wrap; font-size: 13px; }
.main { flex: 1; display: flex; min-height: 0; }
.pages { width: 16em; overflow: auto; margin: 0; padding: .5em .5em .5em 2.2em; background: #f7f7f7; }
.pages a[aria-current] { font-weight: bold; }
#view { flex: 1; border: 0; }
.waiting { padding: 1em; }
"""
