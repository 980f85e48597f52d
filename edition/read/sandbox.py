"""The one rule for every file the build reads.

A path the build is about to read is resolved (symlinks followed) and must
lie inside one of the allowed roots: the project, and for the layout engine
also the font folder the set-up installs. Below its root no part of it may be
hidden (a name starting with ``.``: ``.env``, ``.git``, an editor's lock
file). It must be a regular file (not a folder, a named pipe or a device) no
larger than the limit for its kind. Everything else is refused with a
diagnostic naming the file and line that referred to it.

Reads open the file without blocking and check it with ``fstat`` before a
byte is read, so a named pipe never hangs the build, and a file swapped for a
larger one between the check and the read is still caught. The readers go
through a ``Sandbox``, which records every file it opened: those, and only
those, are the edition's sources (embedded in the PDF/A).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edition.diagnostics import Collector
from edition.model import SourceLocation
from edition.read import readlog

#: Largest Markdown, YAML, CSV or BibTeX file read.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Largest image (or font, or stylesheet) read.
MAX_IMAGE_BYTES = 16 * 1024 * 1024
#: Most bytes one sandbox (a work, or a reader's own files) reads in all: a
#: thousand files each under its limit would still fill the memory.
MAX_TOTAL_BYTES = 512 * 1024 * 1024


#: A file name no output can carry: bytes that are not UTF-8 (decoded to
#: surrogates), control characters (a line break, an escape sequence).
BAD_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Refusal:
    """Why a path may not be read: a diagnostic code and its message."""

    code: str
    message: str


@dataclass(frozen=True)
class Limit:
    """The most bytes a kind of file may have, how messages name the kind, and the fix."""

    bytes: int
    kind: str
    fix: str = "split it"


CONTENT = Limit(MAX_FILE_BYTES, "content files")
IMAGES = Limit(MAX_IMAGE_BYTES, "images", "make it smaller")
#: What WeasyPrint fetches: images, fonts, stylesheets.
RESOURCES = Limit(MAX_IMAGE_BYTES, "images, fonts and stylesheets", "make it smaller")


def place(path: Path, roots: Sequence[Path], name: str = "this path", project: Path | None = None) -> Refusal | None:
    """``None`` if ``path``, resolved, lies inside a root and nothing of it
    below the root is hidden; else why not."""
    resolved = path.resolve()
    root = next((r.resolve() for r in roots if resolved.is_relative_to(r.resolve())), None)
    if root is None:
        written = Path(os.path.normpath(path))
        if any(written.is_relative_to(r) for r in roots):
            return Refusal("resource.refused", f"{name} is a symbolic link to {resolved}, outside the project")
        return Refusal("resource.refused", f"{name} is outside the project")
    below = resolved.relative_to(root).parts
    if project is not None and path.is_absolute() and path.is_relative_to(project):
        below += path.relative_to(project).parts
    if any(part.startswith(".") and part not in (".", "..") for part in below):
        return Refusal(
            "resource.refused",
            f"{name} is hidden (a name in its path starts with '.'); the build never reads hidden files",
        )
    return None


def check(
    path: Path, roots: Sequence[Path], limit: Limit, name: str | None = None, project: Path | None = None
) -> Refusal | None:
    """The rule, without reading: ``None`` if ``path`` may be read.

    ``name`` is how the messages call the file (``"image 'map.png'"``); by
    default the diagnostic stands at the file itself."""
    refusal = place(path, roots, name or "this path", project)
    if refusal is not None:
        return refusal
    if BAD_NAME.search(str(path)):
        return Refusal(
            "file.name",
            f"{name or 'this path'} has a name that is not UTF-8 text or holds a control character; rename it",
        )
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return Refusal("file.missing", f"{name or 'this path'} does not exist")
    except OSError as exc:
        return Refusal("file.unreadable", f"{name or 'this path'} cannot be read: {exc.strerror or exc}")
    return _check_stat(info, limit, name)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _check_stat(info: os.stat_result, limit: Limit, name: str | None) -> Refusal | None:
    if not stat.S_ISREG(info.st_mode):
        return Refusal(
            "file.unreadable", f"{name or 'this path'} is {_kind(info.st_mode)}, not a file; the build reads files"
        )
    if info.st_size > limit.bytes:
        return Refusal(
            "file.size",
            f"{name or 'file'} is {info.st_size} bytes, over the {limit.bytes}-byte limit for {limit.kind}; {limit.fix}",
        )
    return None


def read_checked(
    path: Path, roots: Sequence[Path], limit: Limit, name: str | None = None, project: Path | None = None
) -> bytes | Refusal:
    """The file's bytes under the rule, or why it may not be read."""
    refusal = check(path, roots, limit, name, project)
    if refusal is not None:
        return refusal
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path.resolve(), flags)
    except OSError as exc:
        return Refusal("file.unreadable", f"{name or 'this path'} cannot be read: {exc.strerror or exc}")
    with os.fdopen(fd, "rb") as handle:
        # checked again on the open file: a folder of its path may have been
        # swapped for a link, or the file for another, since the check
        opened = _opened_path(handle.fileno())
        if opened is not None and place(opened, roots, name or "this path") is not None:
            return Refusal("resource.refused", f"{name or 'this path'} changed into a path outside the project")
        refusal = _check_stat(os.fstat(handle.fileno()), limit, name)
        if refusal is not None:
            return refusal
        try:
            data = handle.read(limit.bytes + 1)
        except OSError as exc:
            return Refusal("file.unreadable", f"{name or 'this path'} cannot be read: {exc.strerror or exc}")
    if len(data) > limit.bytes:
        return Refusal("file.size", f"{name or 'file'} grew over the {limit.bytes}-byte limit while it was read")
    return readlog.record(path, data)  # the bytes this build read: the PDF/A embeds them, the stamp checks them


def _opened_path(fd: int) -> Path | None:
    """The path the kernel opened for ``fd``, where ``/proc`` tells it."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        return None


@dataclass
class Sandbox:
    """Reads for one edition's readers, inside the project; remembers what it read."""

    project: Path
    opened: dict[Path, None] = field(default_factory=dict)  # the files read, in order (a set that keeps it)
    texts: dict[Path, str] = field(
        default_factory=dict
    )  # the files read as text and accepted (UTF-8, no forbidden character)

    total: int = 0  # bytes read, each file once

    def __post_init__(self) -> None:
        self.project = self.project.absolute()

    def read_bytes(
        self,
        path: Path,
        diags: Collector,
        where: SourceLocation | None = None,
        name: str | None = None,
        limit: Limit = CONTENT,
    ) -> bytes | None:
        """The file's bytes, or ``None`` after a diagnostic at ``where`` (the
        reference to the file; by default the file itself)."""
        path = self.absolute(path)
        left = MAX_TOTAL_BYTES - self.total
        result = read_checked(
            path, [self.project], Limit(min(limit.bytes, left), limit.kind, limit.fix), name, self.project
        )
        if isinstance(result, Refusal):
            if result.code == "file.size" and left < limit.bytes:
                result = Refusal(
                    "file.size",
                    f"{name or 'this file'} would bring what is read for this edition over {MAX_TOTAL_BYTES} bytes "
                    f"in all; split the work or the reader",
                )
            diags.error(where or SourceLocation(path), result.code, result.message)
            return None
        if path not in self.opened:
            self.total += len(result)
        self.opened.setdefault(path, None)
        return result

    def absolute(self, path: Path) -> Path:
        return path if path.is_absolute() else self.project / path
