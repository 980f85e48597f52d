"""An HTTP server for this machine's own browser, with every resource bounded.

The ``--serve`` preview (``edition.loop.serve``) is built on it. It is the standard
library's threading server (one thread per connection, which the preview's
long-lived event streams need), with the bounds that server lacks:

- it binds the loopback address only and answers only a request whose one
  ``Host`` header names it (``127.0.0.1:PORT`` or ``localhost:PORT``): a web
  page elsewhere cannot reach it by DNS rebinding;
- at most ``MAX_CONNECTIONS`` connections at once (``MAX_STREAMS`` of them
  event streams); one more is answered ``503`` and closed at once;
- a request's line and headers must arrive whole within ``REQUEST_TIMEOUT``
  seconds of the connection (an idle connection, or one that trickles its
  headers a byte at a time, is closed), at most ``MAX_REQUEST_LINE`` bytes
  of request line and ``MAX_HEAD`` bytes in all; every write to the client
  must go through within ``SEND_TIMEOUT`` seconds;
- one request per connection (HTTP/1.0): nothing is left on a connection for
  a second request to be smuggled in; a request with a body, a
  ``Transfer-Encoding`` or an absolute URL is refused, and methods other than
  GET and HEAD are answered ``405``;
- every response, errors included, carries headers that forbid framing by
  another site and sniffing, and send no referrer; a failure while serving
  closes the connection with one line in the log, never a traceback.

Written on ``http.server`` rather than a server library: the event streams
hold a thread each for as long as a page is open, which the worker pools of
WSGI servers are not made for, and the bounds above are a few dozen lines.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import logging
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edition.diagnostics import printable

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: Connections served at once; one more is answered 503 and closed.
MAX_CONNECTIONS = 32
#: Of those, event streams (each open preview page holds one).
MAX_STREAMS = 8
#: Seconds for a request's line and headers to arrive, from the connection on.
REQUEST_TIMEOUT = 10.0
#: Seconds for one write to the client to go through.
SEND_TIMEOUT = 30.0
#: Bytes of the request line, and of the request line and headers together.
MAX_REQUEST_LINE = 8 * 1024
MAX_HEAD = 32 * 1024

#: Headers every response carries (the Content-Security-Policy is the handler's, per response).
COMMON_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
#: Responses meant to be shown in the preview's own frame (a page, the PDF) may be
#: framed by the preview itself; everything else by nothing.
FRAMED_BY_SELF = "frame-ancestors 'self'"
FRAMED_BY_NONE = "frame-ancestors 'none'"
#: What a response that is not a page needs: nothing (an SVG opened on its own runs no script).
RESOURCE_CSP = f"default-src 'none'; style-src 'unsafe-inline'; sandbox; {FRAMED_BY_NONE}"


class Server(ThreadingHTTPServer):
    """A threading HTTP server on the loopback, bounded (see the module doc)."""

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    #: Connections the system holds until they are accepted (a browser opens several at once).
    request_queue_size = 2 * MAX_CONNECTIONS

    def __init__(self, port: int, handler: type[Handler]) -> None:
        self.connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        super().__init__((HOST, port), handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def verify_request(self, request, client_address) -> bool:  # noqa: ARG002
        """Only this machine: the socket is bound to the loopback, and so must the peer be."""
        try:
            return ipaddress.ip_address(client_address[0]).is_loopback
        except ValueError:
            return False

    def process_request(self, request: socket.socket, client_address) -> None:
        """A thread per connection, at most ``MAX_CONNECTIONS``; past that, a 503 and close."""
        if not self.connections.acquire(blocking=False):
            _refuse(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request, client_address) -> None:  # noqa: ARG002
        """One line in the log, never a traceback on the terminal."""
        kind, error = sys.exc_info()[:2]
        if kind is not None and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        log.warning(printable(f"preview: a request failed: {getattr(kind, '__name__', kind)}: {error}"))


def _refuse(request: socket.socket) -> None:
    """Tell a connection past the limit so, without waiting on it (with the
    headers of every response)."""
    body = b"503 the preview serves at most %d connections at once\n" % MAX_CONNECTIONS
    headers = [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("Retry-After", "1"),
        *COMMON_HEADERS,
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", RESOURCE_CSP),
        ("Connection", "close"),
    ]
    head = "HTTP/1.0 503 Service Unavailable\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    with contextlib.suppress(OSError):
        request.send(head.encode("latin-1") + body, socket.MSG_DONTWAIT)


class _DeadlineReader(io.RawIOBase):
    """The socket, read with a deadline for all the reads together (not each):
    a client trickling a byte at a time cannot hold the connection."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request did not arrive in time")
            self.sock.settimeout(left)
        try:
            return self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(SEND_TIMEOUT)


class _HeadReader:
    """``readline`` over the request's head, at most ``budget`` bytes in all
    (``http.client.LineTooLong`` past it, which the handler answers 431)."""

    def __init__(self, raw: io.BufferedReader, budget: int) -> None:
        self.raw = raw
        self.budget = budget

    def readline(self, limit: int = -1) -> bytes:
        wanted = self.budget + 1 if limit < 0 else min(limit, self.budget + 1)
        line = self.raw.readline(wanted)
        self.budget -= len(line)
        if self.budget < 0:
            raise http.client.LineTooLong(f"the request's line and headers are over {MAX_HEAD} bytes")
        return line

    def read(self, size: int = -1) -> bytes:  # noqa: ARG002 - the head is all a request may have
        return b""

    def close(self) -> None:
        self.raw.close()


class Handler(BaseHTTPRequestHandler):
    """One request per connection, checked before it is routed (``route``)."""

    server: Server
    server_version = "edition-preview"
    protocol_version = "HTTP/1.0"
    #: The Content-Security-Policy of the response being sent.
    csp = RESOURCE_CSP
    #: Whether this response may be shown in the preview's own frame.
    framed = False

    def log_message(self, format, *args) -> None:  # noqa: A002, ARG002 - the loop prints its own lines
        return

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(SEND_TIMEOUT)
        self.rfile.close()
        self._reader = _DeadlineReader(self.connection)
        self._reader.deadline = time.monotonic() + REQUEST_TIMEOUT
        self.rfile = _HeadReader(io.BufferedReader(self._reader), MAX_HEAD)

    def handle(self) -> None:
        """Exactly one request (HTTP/1.0), read within the bounds."""
        self.close_connection = True
        self.command = self.request_version = self.requestline = ""
        try:
            try:
                self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
            except http.client.LineTooLong:
                self.raw_requestline = b"x" * (MAX_REQUEST_LINE + 1)
            if len(self.raw_requestline) > MAX_REQUEST_LINE:
                return self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, f"over {MAX_REQUEST_LINE} bytes")
            if len(self.raw_requestline.split()) != 3:  # HTTP/0.9 (no headers to send an answer with), or junk
                return None
            if not self.parse_request():
                return None
            self._reader.deadline = None
            if (problem := self._refusal()) is not None:
                status, message = problem
                if status == HTTPStatus.METHOD_NOT_ALLOWED:
                    self.allow = True
                return self.send_error(status, message)
            self.route(head=self.command == "HEAD")
        except (ConnectionError, TimeoutError):
            return None
        except Exception as exc:  # a bug: one line in the log, and the connection closed
            log.warning(printable(f"preview: {self.command} {self.path[:200]} failed: {type(exc).__name__}: {exc}"))
            return None
        return None

    def _refusal(self) -> tuple[HTTPStatus, str] | None:
        """Why this request is not routed at all, or None."""
        if not self._host_allowed():
            return HTTPStatus.FORBIDDEN, f"this preview answers only to {HOST} and localhost"
        if not self.path.startswith("/"):  # an absolute URL (a proxy's request) or '*'
            return HTTPStatus.BAD_REQUEST, "the request must name a path on this server"
        lengths = self.headers.get_all("Content-Length") or []
        if self.headers.get_all("Transfer-Encoding") or lengths not in ([], ["0"]):
            return HTTPStatus.BAD_REQUEST, "the preview takes no request body"
        if self.command not in ("GET", "HEAD"):
            return HTTPStatus.METHOD_NOT_ALLOWED, "the preview answers GET and HEAD only"
        return None

    def _host_allowed(self) -> bool:
        """One ``Host`` header, naming this server by its loopback address or
        ``localhost``, with its port (a page elsewhere cannot pass for it)."""
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            return False
        port = self.server.port
        names = {f"{HOST}:{port}", f"localhost:{port}"}
        if port == 80:
            names |= {HOST, "localhost"}
        return hosts[0].strip().lower() in names

    def route(self, head: bool) -> None:
        raise NotImplementedError

    # -- every response ----------------------------------------------------------

    allow = False

    def end_headers(self) -> None:
        for name, value in COMMON_HEADERS:
            self.send_header(name, value)
        self.send_header("X-Frame-Options", "SAMEORIGIN" if self.framed else "DENY")
        self.send_header("Content-Security-Policy", self.csp)
        if self.allow:
            self.send_header("Allow", "GET, HEAD")
        self.send_header("Connection", "close")
        super().end_headers()

    def send_error(self, code, message=None, explain=None) -> None:  # noqa: ARG002
        """An error: plain text, with the headers of every response."""
        self.csp, self.framed = RESOURCE_CSP, False
        status = HTTPStatus(code)
        data = f"{status.value} {message or status.phrase}\n".encode("utf-8", "replace")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
