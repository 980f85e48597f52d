"""A folder's outputs change together or not at all.

A build (or ``--extract``) publishes a *set* of files into a folder (``dist/``)
through a ``Transaction``:

1. every new file is written and synced under
   ``<folder>/.edition-staging.<pid>.<random>/new/`` (``stage``), while nothing
   in the folder itself changes;
2. ``commit`` keeps a hard link of each file it will replace under
   ``old/`` beside it, writes a journal naming the set
   (``.edition-journal.json``), renames every new file into place, and deletes
   the journal: the moment the journal is gone is the moment the set changed;
3. catchable signals (SIGINT, SIGTERM, SIGHUP, ...) are held while the journal
   exists, so they never split the set; one that arrived during the swap makes
   it put the previous files back (an interrupted build changes nothing), and is
   delivered after that; an error in the middle puts them back too.

Only SIGKILL (or a crash of the machine) can stop the process with the journal
still there; the next build or extraction into the folder calls ``recover``
before it does anything else, which puts the previous files back and removes
what the killed process staged. Stale temporary files of killed builds are
removed the same way. ``FolderLock`` keeps two processes from publishing into
one folder at once (``fcntl.flock`` on the folder itself, so no lock file is
left behind).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

#: Each transaction stages under ``.edition-staging.<pid>.<random>``: a process
#: left running by a killed build can never write into a later build's set.
STAGING = ".edition-staging"
JOURNAL = ".edition-journal.json"
#: Names a transaction keeps for itself start so: never an output's name.
RESERVED = (STAGING, JOURNAL)
#: What older versions left after SIGKILL: ``.<name>.<mkstemp suffix>.tmp``.
LEGACY_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")

#: Signals that end the process by default or by our handlers: held while a
#: set is being swapped (SIGKILL and SIGSTOP cannot be held; the journal covers them).
HELD_SIGNALS = tuple(
    getattr(signal, name)
    for name in (
        "SIGINT",
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGXCPU",
        "SIGVTALRM",
        "SIGPROF",
    )
    if hasattr(signal, name)
)


class Terminated(BaseException):
    """Raised in the build when the process receives SIGTERM or SIGHUP."""


class PublishError(OSError):
    """The set cannot be published (a target is a folder, a parent is a file)."""


#: The signals received while ``terminate_as_exception`` was in force.
_received: list[int] = []


@contextlib.contextmanager
def terminate_as_exception() -> Iterator[None]:
    """SIGTERM, SIGHUP and the other signals that end a process (SIGQUIT,
    SIGUSR1, SIGALRM…) become ``Terminated`` and SIGINT ``KeyboardInterrupt``,
    so cleanup runs; each is also remembered, and ``Transaction.commit`` refuses
    to publish after one, even if a library swallowed the exception."""

    def handler(signum, frame):  # noqa: ARG001
        _received.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(f"terminated by signal {signum}")

    # every signal that would end the process where it stands (``kill -USR1`` left the
    # staging folder behind, silently); not SIGXCPU, the CPU limit's own, nor one a
    # caller already handles or ignores
    wanted = [signal.SIGTERM, signal.SIGHUP]
    wanted += [s for s in HELD_SIGNALS if s not in (*wanted, signal.SIGINT, getattr(signal, "SIGXCPU", None))]
    wanted = [s for s in wanted if s in (signal.SIGTERM, signal.SIGHUP) or signal.getsignal(s) is signal.SIG_DFL]
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a background job ignores it
        wanted.append(signal.SIGINT)
    try:
        previous = {sig: signal.signal(sig, handler) for sig in wanted}
    except ValueError:  # not the main thread
        yield
        return
    _received.clear()
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _raise_if_interrupted() -> None:
    if _received:
        if _received[-1] == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(f"terminated by signal {_received[-1]}")


@contextlib.contextmanager
def held_signals() -> Iterator[Callable[[], bool]]:
    """Hold terminating signals for the block and deliver them after it; the
    block gets a function that tells whether one has arrived meanwhile.

    A Python handler that only records the signal is installed for each (a
    signal may arrive at any thread; Python runs handlers in the main thread),
    and the signals are blocked in this thread so no system call is cut short.
    On exit the previous handlers come back and each recorded signal is raised
    again, in order: ``KeyboardInterrupt``, ``Terminated`` or the default action.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in HELD_SIGNALS}  # noqa: ARG005
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield lambda: bool(arrived) or bool(signal.sigpending() & set(HELD_SIGNALS))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # pending ones are recorded now
        for sig, old in previous.items():
            signal.signal(sig, old)
        for sig in dict.fromkeys(arrived):
            signal.raise_signal(sig)


def relative_name(name: str) -> str:
    """A target's name relative to the folder, checked: it must stay inside."""
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or path.parts[0].startswith(RESERVED)
        or "\0" in name
    ):
        raise PublishError(errno.EINVAL, f"{name!r} is not a name inside the folder")
    return path.as_posix()


class Transaction:
    """A set of files published into ``root`` together (see the module doc)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.staging = root / f"{STAGING}.{os.getpid()}.{secrets.token_hex(4)}"
        self.names: list[str] = []
        self.state = "open"  # open -> committed | discarded | in doubt

    def stage(self, target: Path | str, data: bytes) -> Path:
        """Write ``data`` for ``target`` (a path in ``root`` or a name relative to it)."""
        return self.stage_chunks(target, [data])

    def stage_chunks(self, target: Path | str, chunks: Iterable[bytes]) -> Path:
        """Write ``target``'s bytes as they come, never holding them all."""
        name = self._name(target)
        path = self.staging / "new" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        self._add(name)
        return self.root / name

    def adopt(self, target: Path | str) -> Path:
        """Take over a file staged for ``target`` by another process (``--jobs``)."""
        name = self._name(target)
        if not (self.staging / "new" / name).is_file():
            raise PublishError(errno.ENOENT, f"no staged file for {name}")
        self._add(name)
        return self.root / name

    def staged(self, target: Path | str) -> Path:
        """Where the new file for ``target`` is staged."""
        return self.staging / "new" / self._name(target)

    def commit(self) -> None:
        """Swap the staged set into place, all of it or none of it."""
        if not self.names:
            self.discard()
            return
        self._check_targets()
        previous = self._keep_previous()
        _raise_if_interrupted()
        with held_signals() as interrupted:
            journal = [{"name": n, "previous": n in previous} for n in self.names]
            _write_json(self.root / JOURNAL, {"staging": self.staging.name, "files": journal, "folders": []})
            self.state = "in doubt"
            try:
                self._swap(journal)
                _fsync_dir(self.root)
                if interrupted():  # a signal came during the swap: the build is interrupted, so undo it
                    recover(self.root)
                    self.state = "discarded"
                    return  # the signal is delivered as the block ends
                (self.root / JOURNAL).unlink()
                _fsync_dir(self.root)
            except BaseException:
                with contextlib.suppress(OSError):
                    recover(self.root)
                    self.state = "discarded"
                raise
            self.state = "committed"
            _remove(self.staging)

    def discard(self) -> None:
        """Remove what was staged, unless the set was committed (or is in doubt)."""
        if self.state == "open":
            with held_signals():
                _remove(self.staging)
                self.state = "discarded"

    # -- the steps ---------------------------------------------------------

    def _name(self, target: Path | str) -> str:
        if isinstance(target, Path):
            try:
                target = target.relative_to(self.root).as_posix()
            except ValueError:
                raise PublishError(errno.EINVAL, f"{target} is not inside {self.root}") from None
        return relative_name(target)

    def _add(self, name: str) -> None:
        if name in self.names:
            raise PublishError(errno.EEXIST, f"two outputs of this build are named {name}")
        self.names.append(name)

    def _check_targets(self) -> None:
        """Every target is a file (or absent) below real folders inside ``root``."""
        for name in self.names:
            path = self.root
            parts = PurePosixPath(name).parts
            for part in parts[:-1]:
                path = path / part
                if path.is_symlink() or (path.exists() and not path.is_dir()):
                    raise PublishError(errno.ENOTDIR, f"cannot write {self.root / name}: {path} is not a folder")
            target = self.root / name
            if target.is_dir() and not target.is_symlink():
                raise PublishError(errno.EISDIR, f"cannot write {target}: it is a folder")

    def _keep_previous(self) -> set[str]:
        """Hard links (or copies) of the files about to be replaced."""
        kept = set()
        for name in self.names:
            target = self.root / name
            if not (target.exists() or target.is_symlink()):
                continue
            keep = self.staging / "old" / name
            keep.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(target, keep, follow_symlinks=False)
            except OSError:
                shutil.copy2(target, keep, follow_symlinks=False)
            kept.add(name)
        return kept

    def _swap(self, journal: list[dict]) -> None:
        for entry in journal:
            name = entry["name"]
            if not (self.root / name).parent.is_dir():
                self._make_folders(name)
            self._replace(self.staging / "new" / name, self.root / name)
        for folder in {(self.root / n).parent for n in self.names}:
            _fsync_dir(folder)

    def _make_folders(self, name: str) -> None:
        """Folders the set needs, recorded in the journal first so that recovery removes them."""
        parts = PurePosixPath(name).parts[:-1]
        missing = [
            "/".join(parts[: i + 1]) for i in range(len(parts)) if not (self.root / "/".join(parts[: i + 1])).exists()
        ]
        data = json.loads((self.root / JOURNAL).read_text(encoding="utf-8"))
        data["folders"] += missing
        _write_json(self.root / JOURNAL, data)
        for folder in missing:
            (self.root / folder).mkdir()

    def _replace(self, source: Path, target: Path) -> None:
        """One rename of the swap (a separate step, so tests can pause between two)."""
        os.replace(source, target)


def recover(root: Path) -> str | None:
    """Undo what an interrupted publish left in ``root``; a line saying what, or None.

    With a journal (the process was killed during a swap), the previous files
    are put back and the new ones removed; then staged and stale temporary
    files go. Run under the folder's lock, with signals held."""
    journal = root / JOURNAL
    restored = 0
    with held_signals():
        if journal.is_file() and not journal.is_symlink():
            restored = _roll_back(root, journal)
            journal.unlink()
            _fsync_dir(root)
        leftovers = []
        with contextlib.suppress(OSError):
            leftovers = [
                p
                for p in root.iterdir()
                if p.name.startswith(RESERVED) or (LEGACY_TEMP.match(p.name) and not p.is_dir())
            ]
        for path in leftovers:
            _remove(path)
    if restored:
        return f"an interrupted build had left {root} half-written: restored the previous files ({restored})"
    if leftovers:
        return f"removed the temporary files of an interrupted build from {root}"
    return None


def _roll_back(root: Path, journal: Path) -> int:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        staging = str(data["staging"])
        if not staging.startswith(STAGING + ".") or "/" in staging:
            raise ValueError(f"not a staging folder: {staging!r}")
        entries = [(relative_name(str(e["name"])), bool(e["previous"])) for e in data["files"]]
        folders = [relative_name(str(f)) for f in data.get("folders", [])]
    except (OSError, ValueError, KeyError, TypeError):
        return 0  # a journal we did not write: touch nothing (it and the staged files are removed)
    old = root / staging / "old"
    for name, had_previous in entries:
        if not _plain_folders(root, name):
            continue  # never follow a link out of the folder
        target = root / name
        keep = old / name
        if had_previous:
            if keep.exists() or keep.is_symlink():
                os.replace(keep, target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    for folder in sorted(folders, key=lambda f: -f.count("/")):
        with contextlib.suppress(OSError):
            (root / folder).rmdir()
    _fsync_dir(root)
    return len(entries)


class FolderLock:
    """An exclusive ``flock`` on the folder itself, made if missing.

    A second process waits (``on_wait`` is told, once) until the first is done.
    If this process made the folder and leaves it empty, it removes it again:
    a failed build into a new ``--out`` leaves nothing behind."""

    def __init__(self, root: Path, on_wait: Callable[[str], None] | None = None) -> None:
        self.root = root
        self.on_wait = on_wait
        self.fd: int | None = None
        self.created = False

    def __enter__(self) -> FolderLock:
        told = False
        while True:
            created = False
            try:
                self.root.mkdir(parents=True)
                created = True
            except FileExistsError:
                pass
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if self.on_wait and not told:
                        self.on_wait(f"waiting for another build writing into {self.root} to finish")
                        told = True
                    fcntl.flock(fd, fcntl.LOCK_EX)
                if _same_file(fd, self.root):
                    self.fd, self.created = fd, created
                    return self
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # the folder was removed (and perhaps made again) while we waited

    def __exit__(self, *exc: object) -> None:
        assert self.fd is not None
        try:
            if self.created:
                with contextlib.suppress(OSError):
                    self.root.rmdir()  # only if empty
        finally:
            os.close(self.fd)
            self.fd = None


def _plain_folders(root: Path, name: str) -> bool:
    """True when every folder on the way from ``root`` to ``name`` is a real folder."""
    path = root
    for part in PurePosixPath(name).parts[:-1]:
        path = path / part
        if path.is_symlink() or not path.is_dir():
            return False
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
