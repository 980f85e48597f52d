"""The files a build wrote into its output folder, read back on its record's word.

The stamp (``freshness``) names each output with its size and SHA-256 and is
signed with the user's secret. Whatever takes an output in the folder for the
one the build wrote (the no-change check, the ``--serve`` preview) opens it
here: relative to the open folder, never through a symbolic link
(``O_NOFOLLOW``), never blocking on a pipe (``O_NONBLOCK``), only a regular
file (``fstat`` of the open descriptor), of the recorded size, and with the
recorded SHA-256 of the bytes read from that same descriptor. A file swapped
for another after the check is never the one read: the caller reads (or
serves) the descriptor that was checked.

This module imports nothing heavy: the no-change check uses it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Record:
    """What the build recorded of one output."""

    sha256: str
    size: int


class Refused(Exception):
    """The file in the folder is not the one recorded (the message says why)."""


def plain_name(name: str) -> bool:
    """A file name right in the folder: no folder part, no ``..``, no NUL, not hidden."""
    return bool(name) and "/" not in name and "\0" not in name and not name.startswith(".")


@contextlib.contextmanager
def opened(folder: Path, name: str) -> Iterator[tuple[int, os.stat_result]]:
    """``name`` in ``folder`` open for reading, with its ``fstat``; ``Refused``
    when it is missing, a symbolic link or not a regular file."""
    if not plain_name(name):
        raise Refused(f"{name!r} is not a file name in the folder")
    try:
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(f"{folder} cannot be opened: {exc.strerror}") from None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(f"{name} is a symbolic link") from None
        if exc.errno == errno.ENOENT:
            raise Refused(f"{name} is missing") from None
        raise Refused(f"{name} cannot be opened: {exc.strerror}") from None
    finally:
        os.close(folder_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"{name} is not a regular file")
        yield fd, info
    finally:
        os.close(fd)


def chunks(fd: int, size: int) -> Iterator[bytes]:
    """The first ``size`` bytes of the open file, in chunks (``pread``: the
    descriptor's position is never used, so two readers never disturb each other)."""
    offset = 0
    while offset < size:
        data = os.pread(fd, min(CHUNK, size - offset), offset)
        if not data:
            return
        offset += len(data)
        yield data


def matches(fd: int, info: os.stat_result, record: Record) -> bool:
    """The open file holds exactly the recorded bytes (its size is checked
    first, so a huge or sparse file costs nothing)."""
    if info.st_size != record.size:
        return False
    digest = hashlib.sha256()
    read = 0
    for data in chunks(fd, record.size + 1):
        digest.update(data)
        read += len(data)
    return read == record.size and digest.hexdigest() == record.sha256


def why_not(folder: Path, name: str, record: Record) -> str | None:
    """None when ``name`` in ``folder`` is the recorded file; else why not."""
    try:
        with opened(folder, name) as (fd, info):
            if not matches(fd, info, record):
                return f"{name} is not the file the stamp records (changed since it was built)"
    except Refused as refused:
        return str(refused)
    return None


def identity(info: os.stat_result) -> tuple[int, ...]:
    """Which file, in which state: a file written, renamed over or touched since
    has another (``st_ctime`` cannot be set back by a user)."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
