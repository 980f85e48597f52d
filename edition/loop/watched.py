"""What the edit loop watches: the project's own folders, never a folder elsewhere.

watchfiles' recursive watch follows symbolic links (the Rust ``notify`` crate
walks with ``follow_links``): a link in ``content/`` to a folder elsewhere had
every change out there (a build folder, a download, ``/usr``) reach the loop
as a save in the work, and each one cancelled the running build. So the loop
walks the input folders itself and watches each folder it finds on its own
(``recursive=False``):

- a folder is watched only when it lies inside the project, not hidden (the
  build reads no hidden file), not the project's root (which holds the output
  folder and the caches) and not the output folder; a link to a folder is
  followed only when it leads to such a folder not watched already (a link
  out of the project, or a loop, is never followed);
- at most ``MAX_FOLDERS`` folders (the system's inotify watches are shared by
  every program of the user);
- when a batch of changes adds or removes a folder, the set is walked again and
  the watch restarted; the files of a new folder, and every file changed while
  the new watch started, are reported as changed;
- a changed path is reported only when it lies inside the project, resolved,
  and no name in it below the project is hidden.

This module imports nothing heavy: it runs in the long-lived watching process.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import threading
import time
from pathlib import Path

from edition.project import INPUT_FOLDERS, hidden

#: Folders watched at most (each takes one of the user's inotify watches).
MAX_FOLDERS = 10_000
#: watchfiles: a batch ends after this many ms without a new change (at most DEBOUNCE_MS in all).
STEP_MS = 50
DEBOUNCE_MS = 1600
#: watchfiles: without changes, the watch still answers this often (ms).
TICK_MS = 500


def folders(project: Path, out: Path | None = None) -> list[Path]:
    """The folders to watch, by the names the build reads them by, in a fixed order."""
    root = project.resolve()
    skipped = out.resolve() if out is not None else None
    seen: set[Path] = set()
    found: list[Path] = []
    pending = [project / name for name in INPUT_FOLDERS]
    while pending and len(found) < MAX_FOLDERS:
        folder = pending.pop(0)
        real = _resolved(folder)
        if real is None or real in seen or not _own(real, root, skipped) or not real.is_dir():
            continue
        seen.add(real)
        found.append(folder)
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if not hidden(e.name) and _is_dir(e))
        except OSError:
            continue
        pending += [folder / name for name in names]
    return found


def relevant(path: Path, project: Path) -> bool:
    """A change the build may care about: inside the project (resolved, when
    it still exists), no hidden name below the project."""
    try:
        below = path.relative_to(project).parts
    except ValueError:
        return False
    if any(hidden(part) for part in below):
        return False
    real = _resolved(path)
    return real is None or not real.exists() or real.is_relative_to(project.resolve())


def watch_files(
    project: Path, out: Path | None, conn: multiprocessing.connection.Connection, stop: threading.Event
) -> None:
    """Send each batch of changed paths (a sorted list); a message (str) if watching fails."""
    watched = folders(project, out)
    since: float | None = None  # the watch was restarted: what changed from then on is reported
    failures = 0
    try:
        while not stop.is_set():
            if not watched:  # every input folder is gone: look again now and then
                stop.wait(TICK_MS / 1000)
                watched, since = folders(project, out), time.time()
                continue
            batches = _batches(watched, stop)
            try:
                for batch in batches:
                    failures = 0
                    paths = {Path(path) for _, path in batch}
                    if since is not None:  # this watch is on: the changes while it started are reported too
                        paths.update(_changed_since(watched, since))
                        since = None
                    if not paths:
                        continue
                    now = folders(project, out)
                    if now != watched:  # a folder came or went: what a new one holds, then the new set
                        for folder in set(now) - set(watched):
                            paths.update(_files_in(folder))
                        watched, since = now, time.time()
                    found = sorted(p for p in paths if relevant(p, project))
                    if found:
                        conn.send(found)
                    if since is not None:
                        break
                else:
                    return  # stopped
            except FileNotFoundError:  # a folder went away as the watch started: watch those still there
                failures += 1
                if failures > 3:
                    raise
                watched, since = folders(project, out), time.time()
            finally:
                batches.close()
    except Exception as exc:  # e.g. the system's limit of inotify watches
        conn.send(f"{type(exc).__name__}: {exc}")


def _batches(watched: list[Path], stop: threading.Event):
    """watchfiles' batches of changes in ``watched`` (each folder on its own); an
    empty batch every ``TICK_MS`` without changes, so the caller knows the watch is on."""
    import watchfiles

    return watchfiles.watch(
        *watched,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        raise_interrupt=False,
        recursive=False,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
    )


def _changed_since(watched: list[Path], since: float) -> set[Path]:
    changed = set()
    for folder in watched:
        for path in _files_in(folder):
            try:
                info = path.lstat()
            except OSError:
                continue
            if max(info.st_mtime, info.st_ctime) >= since:
                changed.add(path)
    return changed


def _files_in(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [folder / e.name for e in entries if not hidden(e.name)]
    except OSError:
        return []


def _own(real: Path, root: Path, skipped: Path | None) -> bool:
    if not real.is_relative_to(root) or real == root:
        return False
    if skipped is not None and real.is_relative_to(skipped):
        return False
    return not any(hidden(part) for part in real.relative_to(root).parts)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()  # a link to a folder too: checked where it leads by ``folders``
    except OSError:
        return False


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None
