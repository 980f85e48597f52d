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
   point (``commands.build.main``: the same writing, stamp and locking as
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
import multiprocessing
import multiprocessing.connection
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from edition import project as project_facts
from edition.commands import freshness
from edition.diagnostics import Diagnostic, suggest
from edition.loop import children, serve, watched
from edition.loop.children import Child
from edition.loop.dependents import Dependents

#: Options of the loop itself, not passed on to the builds.
LOOP_OPTIONS = ("watch", "serve", "port", "help")
#: A cancelled child has this long to clean up before its process group is killed.
CANCEL_TIMEOUT = 30.0
#: A line the build prints that belongs on the error page.
FAILURE_LINE = re.compile(r"(^|: )(error|warning): .*\[[a-z.-]+\]$|^internal error: |^build failed: ")


# --- the loop -------------------------------------------------------------------


@dataclass
class Job:
    """One round: check the editions, then build those whose input is good."""

    editions: list[str]
    works: list[str]
    saved: float  # when the newest changed file was written (the clock at start)
    cause: str = "the save"
    check: Child | None = None
    build: Child | None = None
    building: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    printed: set[str] = field(default_factory=set)
    build_lines: list[str] = field(default_factory=list)
    cancelled: bool = False

    def since(self) -> str:
        return f"{time.time() - self.saved:.2f} s after {self.cause}"

    @property
    def done(self) -> bool:
        return all(c is None or c.ended for c in (self.check, self.build))


class Loop:
    def __init__(self, args: argparse.Namespace, project: Path, out: Path, state: serve.State | None) -> None:
        self.args = args
        self.project = project
        self.out = out
        self.state = state
        self.context = children.context()
        self.alive, self._alive_writer = self.context.Pipe(duplex=False)  # see _stop_with_parent
        self.dependents = Dependents(project)
        self.rendered: dict[str, serve.Book] = {}  # the last preview rendered of each edition
        self.dirty: list[str] = []
        self.job: Job | None = None
        self.formats = tuple(args.format or ("pdf", "pdfa", "epub"))

    # what is watched
    def watched(self) -> tuple[list[str], list[str]]:
        works, readers = project_facts.works(self.project), project_facts.readers(self.project)
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

    def start_job(self, saved: float, cause: str = "the save") -> None:
        works, readers = self.watched()
        job = Job([s for s in works + readers if s in self.dirty], [s for s in works if s in self.dirty], saved, cause)
        self.job = job
        if self.state is not None:  # a work or reader added since is shown too
            self.state.update(editions=works + readers)
        job.check = children.start(
            self.context,
            self.alive,
            "check",
            self.project,
            job.works,
            [s for s in job.editions if s not in job.works],
            self.state is not None,
            None if self.args.no_cache else self.project / project_facts.CACHE_FOLDER,
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
        if kind == "exit":
            child.reported = True
        if kind == "line":
            self.on_line(job, *rest)
        elif job.cancelled:  # its checks, previews and builds are out of date
            return
        elif kind == "checked":
            self.on_checked(job, *rest)
        elif kind == "checked-all":
            self.on_checked_all(job)
        elif kind == "preview":
            self.on_preview(job, *rest)
        elif kind == "preview-failed":
            self.on_preview_failed(job, *rest)
        elif kind == "exit" and child is job.build:
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
        if not diagnostics:
            say(f"{slug}: input checked ({job.since()})")
        else:
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
            say(f"{', '.join(good)}: building")
            job.building = good
            job.build = children.start(self.context, self.alive, "build", build_argv(self.args, good), self.project)
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
        """The preview serves what the build wrote, as its signed stamp records it, and
        shows the built EPUB (with its print page breaks) once there is one."""
        outputs = freshness.records(self.out)
        with self.state.changed:
            self.state.outputs = outputs
        if "epub" not in self.formats:
            return
        for slug in slugs:
            name = f"{slug}.epub"
            book = self.state.books.get(slug)
            data = serve.read_output(self.out, name, outputs[name]) if book and name in outputs else None
            if data is not None:
                files = serve.epub_files(data)
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
    from edition.commands.arguments import parser

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
    with contextlib.suppress(OSError):  # the terminal is gone: SIGHUP stops the loop
        print(line, file=sys.stderr if err else sys.stdout, flush=True)


def _unknown(project: Path, slugs: list[str]) -> list[Diagnostic]:
    works, readers = project_facts.works(project), project_facts.readers(project)
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
    if not (project / "content").is_dir():
        problems.append(Diagnostic(None, "file.missing", "content/ holds no work (a folder with a work.yaml)"))
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 2
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    state = server = None
    if args.serve:
        works, readers = project_facts.works(project), project_facts.readers(project)
        shown = list(args.slugs) or works + readers
        state = serve.State(out=out, editions=shown, pdf="pdf" in (args.format or ("pdf",)))
        try:
            server = serve.start(args.port, state)
        except (OSError, OverflowError) as exc:
            reason = (exc.strerror if isinstance(exc, OSError) else str(exc)).rstrip(".")
            print(
                Diagnostic(
                    None,
                    "cli.option",
                    f"cannot serve on port {args.port}: {reason}; choose another with --port N",
                ),
                file=sys.stderr,
            )
            return 2
    loop = Loop(args, project, out, state)
    with Signals() as signals:
        return _run(loop, server, signals)


def _run(loop: Loop, server: serve.Server | None, signals: Signals) -> int:
    receive, send = multiprocessing.Pipe(duplex=False)
    stop = threading.Event()
    args = (loop.project, loop.out, send, stop)
    watcher = threading.Thread(target=watched.watch_files, args=args, name="edition-watch", daemon=True)
    watcher.start()
    folders = watched.folders(loop.project, loop.out)
    if len(folders) >= watched.MAX_FOLDERS:
        say(f"note: watching the first {watched.MAX_FOLDERS} folders of the project only", err=True)
    say(
        f"watching {', '.join(f'{name}/' for name in project_facts.INPUT_FOLDERS if loop.project / name in folders)} (Ctrl-C stops)"
    )
    if server is not None:
        say(f"preview at {server.url}")
    try:
        return _serve_changes(loop, receive, signals)
    finally:
        loop.stop()
        stop.set()
        watcher.join(timeout=5)
        if server is not None:
            serve.stop(server)
        say("stopped watching")


def _serve_changes(loop: Loop, receive: multiprocessing.connection.Connection, signals: Signals) -> int:
    """The first build, then one round per batch of changes, until a signal (130)."""
    loop.dirty = [s for part in loop.watched() for s in part]
    loop.start_job(time.time(), "start")
    while signals.received is None:
        children = {c.conn: c for c in loop.children()}
        for conn in multiprocessing.connection.wait([receive, signals.wake, *children]):
            if signals.received is not None:
                break
            if conn is signals.wake:
                signals.drain()
            elif conn is receive:
                changes = receive.recv()
                if isinstance(changes, str):
                    say(f"internal error: watching the files stopped: {changes}", err=True)
                    return 1
                loop.on_changes(changes)
            elif not children[conn].ended:
                loop.receive(children[conn])
    return 130


class Signals:
    """Ctrl-C, SIGTERM and SIGHUP as a flag that wakes the loop's wait, never as an exception
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
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
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
