"""Every file the build reads, with the bytes it read.

Readers, the template loader, the resource fetcher and the output builders
note here each file they read (``record``), so that

- the PDF/A embeds the bytes the edition was made from, not a later copy;
- the up-to-date stamp certifies an output only when every file was read
  with the content it has before and after the build (an editor rewriting a
  file during the build cannot leave a stale output called up to date).

One log per process, kept only while a build runs (``start`` ... ``stop``):
outside a build (the preview's checks, a test) a read is a plain read, never
an earlier build's bytes. It imports nothing from the pipeline, so every stage
may use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from edition.infra import fingerprints

#: The largest file any input may be (a PDF reading); a file read here again
#: (a style, a source for the PDF/A) has passed its own, smaller limit when it
#: was first read, so this only stops one that has grown since.
LARGEST_INPUT = 256 * 1024 * 1024

_bytes: dict[Path, bytes] = {}
_digests: dict[Path, set[str]] = {}
_active = [False]


def start() -> None:
    """A build begins: forget what an earlier one read, and keep what this one reads."""
    _bytes.clear()
    _digests.clear()
    _active[0] = True


def stop() -> None:
    """The build is over: keep nothing more (and free what was kept)."""
    _active[0] = False
    _bytes.clear()
    _digests.clear()


def record(path: Path, data: bytes) -> bytes:
    """Note that ``path`` was read and held ``data`` (during a build); returns ``data``."""
    if not _active[0]:
        return data
    key = Path(path).absolute()
    _bytes.setdefault(key, data)
    _digests.setdefault(key, set()).add(fingerprints.sha256(data))
    return data


def read_bytes(path: Path) -> bytes:
    """Read a file and note it: a regular file, opened without blocking, of
    at most ``LARGEST_INPUT`` bytes (``OSError`` for anything else)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        data = handle.read(LARGEST_INPUT + 1)
    if len(data) > LARGEST_INPUT:
        raise OSError(f"{path} is over {LARGEST_INPUT} bytes")
    return record(path, data)


def read_once(path: Path) -> bytes:
    """The bytes this build first read from ``path``, reading it now if it has not:
    every output is made from the same bytes, even if the file changes meanwhile."""
    data = bytes_of(path)
    return read_bytes(path) if data is None else data


def bytes_of(path: Path) -> bytes | None:
    """The bytes first read from ``path`` in this build, if it was read."""
    return _bytes.get(Path(path).absolute())


def digests() -> dict[str, list[str]]:
    """SHA-256 of every file read, by absolute path (several if it changed between reads)."""
    return {str(path): sorted(found) for path, found in _digests.items()}


def merge(other: dict[str, list[str]]) -> None:
    """Add what another process of the same build read (``--jobs``)."""
    for path, found in other.items():
        _digests.setdefault(Path(path), set()).update(found)
