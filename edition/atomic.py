"""Outputs are written whole or not at all.

Each file is written to a hidden temporary name in its own folder and renamed
into place once complete, so a failed, interrupted or killed build leaves the
previous file untouched. SIGTERM is turned into an exception while a build runs
so the temporary files are removed on ``kill`` as on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto it if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


class Terminated(BaseException):
    """Raised in the build when the process receives SIGTERM."""


@contextlib.contextmanager
def terminate_as_exception() -> Iterator[None]:
    def handler(signum, frame):  # noqa: ARG001
        raise Terminated(f"terminated by signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
