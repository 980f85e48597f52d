"""What a project is: its input folders, the works and course readers in them,
the formats a build writes, the names of the output files and the cache folder.

Every other module asks here, so that the build, the no-change check and the
edit loop never disagree on which editions exist (a hidden old copy of a work,
``content/.old-copy/``, is no edition anywhere). Imports nothing of the
project and nothing heavy: the no-change check and the edit loop start fast.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: The folders a build reads, relative to the project.
CONTENT = "content"
BIB = "bib"
READERS = "readers"
TEMPLATES = "templates"
INPUT_FOLDERS = (CONTENT, BIB, READERS, TEMPLATES)
#: A work's folder holds this file; a reader is ``readers/<slug>.yaml``.
WORK_FILE = "work.yaml"
READER_SUFFIX = ".yaml"
#: What a build writes, by default all three.
FORMATS = ("pdf", "pdfa", "epub")
#: Where results are kept between builds (``edition.infra.cache``), in the project.
CACHE_FOLDER = ".edition-cache"
#: The default output folder, in the project.
OUT_FOLDER = "dist"

#: The name of each output file of an edition, by kind.
_OUTPUT_NAMES = {
    "preflight": "{slug}.preflight.json",
    "permissions": "{slug}.permissions.csv",
    "press": "{slug}-press.pdf",
    "epub": "{slug}.epub",
    "pdf": "{slug}.pdf",
    "pdfa": "{slug}-pdfa.pdf",
}
#: The order a build writes its outputs in: the PDF/A last, the print PDF just
#: before it, so a reader of ``dist/`` never sees a PDF/A newer than its PDF.
OUTPUT_ORDER = ("preflight", "permissions", "press", "epub", "pdf", "pdfa")


def hidden(name: str) -> bool:
    """A name no build reads: hidden (an old copy, an editor's lock) or a backup."""
    return name.startswith(".") or name.endswith("~")


def works(project: Path) -> list[str]:
    """The slugs of the works in ``content/``: each folder with a ``work.yaml``."""
    folder = project / CONTENT
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if not hidden(p.name) and (p / WORK_FILE).is_file())


def readers(project: Path) -> list[str]:
    """The slugs of the course readers: each ``readers/<slug>.yaml``."""
    folder = project / READERS
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*" + READER_SUFFIX) if not hidden(p.name))


def work_folder(project: Path, slug: str) -> Path:
    return project / CONTENT / slug


def reader_definition(project: Path, slug: str) -> Path:
    return project / READERS / f"{slug}{READER_SUFFIX}"


def editions(project: Path, slugs: Iterable[str] = ()) -> list[tuple[str, bool]] | None:
    """``(slug, is_reader)`` for the requested editions (every work, then every
    reader, when none is named); None when a name is neither a work nor a reader."""
    found_works, found_readers = works(project), readers(project)
    wanted = list(slugs) or found_works + found_readers
    if not wanted or any(s not in found_works and s not in found_readers for s in wanted):
        return None
    return [(s, s in found_readers) for s in wanted]


def output_name(slug: str, kind: str) -> str:
    """The file name of one output of an edition (``kind``: one of ``OUTPUT_ORDER``)."""
    return _OUTPUT_NAMES[kind].format(slug=slug)


def output_kinds(is_reader: bool, formats: Iterable[str], press: bool) -> list[str]:
    """The kinds of output a build of one edition writes, in ``OUTPUT_ORDER``."""
    kinds = {"preflight", *formats}
    if is_reader:
        kinds.add("permissions")
    if press:
        kinds.add("press")
    return [kind for kind in OUTPUT_ORDER if kind in kinds]


def output_names(slug: str, is_reader: bool, formats: Iterable[str], press: bool) -> list[str]:
    """The files a build of one edition writes into the output folder."""
    return [output_name(slug, kind) for kind in output_kinds(is_reader, formats, press)]
