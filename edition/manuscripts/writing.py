"""The new work's files, written all at once and never over anything.

The work's folder is written and synced under a hidden staging folder in
``content/`` (``.edition-import.<pid>.<random>/<slug>``), then renamed into
place: a rename of a folder fails when the target is a folder that holds
anything, so an existing work is never replaced, even one made between the
check and the rename. The BibTeX file is published first with a hard link,
which fails if the name exists; if the folder's rename then fails, the link
is removed again. An interrupted import leaves nothing but, after SIGKILL, the
hidden staging folder, which no build reads.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path

from edition import project as projects
from edition.diagnostics import BuildFailed, Diagnostic
from edition.model import SourceLocation

STAGING = ".edition-import"


def reimport_advice(slug: str) -> str:
    return (
        f"to import a revised manuscript, import it under a new name (--slug {slug}-2) and compare the two "
        f"folders, or remove content/{slug}/ and bib/{slug}.bib first"
    )


def check_free(project: Path, slug: str, with_bib: bool) -> None:
    """Refuse early when the work or its BibTeX file exists, or a course
    reader has the name (the build refuses a work and a reader of one name:
    both would write ``dist/<slug>.pdf``)."""
    reader = projects.reader_definition(project, slug)
    if os.path.lexists(reader):
        raise BuildFailed(
            [
                Diagnostic(
                    SourceLocation(reader),
                    "import.exists",
                    f"a course reader has the name {slug!r}, and a work cannot share it (both would write "
                    f"dist/{slug}.pdf); import the manuscript under another name (--slug {slug}-text)",
                )
            ]
        )
    for path in (project / "content" / slug, *((project / "bib" / f"{slug}.bib",) if with_bib else ())):
        if os.path.lexists(path):
            raise BuildFailed([_exists(path, slug)])


def _exists(path: Path, slug: str) -> Diagnostic:
    return Diagnostic(
        SourceLocation(path),
        "import.exists",
        f"{'a work' if path.suffix != '.bib' else 'a BibTeX file'} of this name exists and is never overwritten; "
        + reimport_advice(slug),
    )


def publish(project: Path, slug: str, files: dict[str, bytes], bib: bytes | None) -> None:
    """Write ``files`` (paths relative to the work's folder) as ``content/<slug>/``
    and ``bib`` as ``bib/<slug>.bib``, all or nothing, never over an existing file."""
    content = project / "content"
    content.mkdir(parents=True, exist_ok=True)
    staging = content / f"{STAGING}.{os.getpid()}.{secrets.token_hex(4)}"
    staging.mkdir()
    bib_target = project / "bib" / f"{slug}.bib"
    linked = False
    try:
        work = staging / slug
        for name, data in sorted(files.items()):
            _write(work / name, data)
        if bib is not None:
            bib_target.parent.mkdir(exist_ok=True)
            staged_bib = staging / f"{slug}.bib"
            _write(staged_bib, bib)
            try:
                os.link(staged_bib, bib_target)
            except FileExistsError:
                raise BuildFailed([_exists(bib_target, slug)]) from None
            linked = True
        try:
            os.rename(work, content / slug)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
                raise BuildFailed([_exists(content / slug, slug)]) from None
            raise
        linked = False
        _fsync_dir(content)
        if bib is not None:
            _fsync_dir(bib_target.parent)
    finally:
        if linked:
            with contextlib.suppress(OSError):
                bib_target.unlink()
        shutil.rmtree(staging, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
