"""Editions whose outputs would have one name, found before anything is read.

Every edition writes files named after it into one output folder:
``juche.pdf``, ``juche-pdfa.pdf``, ``juche-press.pdf``, ``juche.epub``,
``juche.preflight.json`` (and a reader ``<slug>.permissions.csv``). A work
named ``juche-pdfa`` would write its print PDF where ``juche`` writes its
PDF/A; a reader named as a work would write over the work's files; ``Juche``
and ``juche`` are one name on a file system that ignores case (macOS,
Windows). Each such pair is one diagnostic naming both editions and which to
rename, before a file is read, for every edition of the project that the
build would write (an edition not being built still has its files in the
folder).
"""

from __future__ import annotations

from pathlib import Path

from .diagnostics import Diagnostic
from .freshness import output_names
from .model import SourceLocation

FORMATS = ("pdf", "pdfa", "epub")
#: What each output is, by what its name adds to the edition's name.
KINDS = {
    ".pdf": "print PDF",
    "-pdfa.pdf": "PDF/A",
    "-press.pdf": "press PDF",
    ".epub": "EPUB",
    ".preflight.json": "preflight report",
    ".permissions.csv": "permissions report",
}


def check(project: Path, works: list[str], readers: list[str], building: list[str]) -> list[Diagnostic]:
    """One diagnostic for each pair of editions (one of them being built)
    whose outputs would have one name."""
    editions = [(slug, False) for slug in works] + [(slug, True) for slug in readers]
    owners: dict[str, list[tuple[str, bool, str]]] = {}
    for slug, is_reader in editions:
        for name in output_names(slug, is_reader, FORMATS, press=True):
            owners.setdefault(name.casefold(), []).append((slug, is_reader, name))
    wanted = set(building)
    pairs: dict[tuple[str, bool], list[tuple[tuple[str, bool, str], tuple[str, bool, str]]]] = {}
    for claims in owners.values():
        for first in range(len(claims)):
            for second in range(first + 1, len(claims)):
                a, b = claims[first], claims[second]
                if a[:2] != b[:2] and {a[0], b[0]} & wanted:
                    blamed, other = _blame(a, b)
                    pairs.setdefault(blamed[:2], []).append((blamed, other))
    # one diagnostic an edition, about its most telling output (the print PDF first)
    order = list(KINDS)
    return [
        _diagnostic(project, *min(found, key=lambda pair: order.index(_suffix(pair[0]))))
        for _, found in sorted(pairs.items())
    ]


def _suffix(claim: tuple[str, bool, str]) -> str:
    return claim[2][len(claim[0]) :]


def _blame(a: tuple[str, bool, str], b: tuple[str, bool, str]) -> tuple[tuple[str, bool, str], tuple[str, bool, str]]:
    """Which of two clashing editions to rename: the one whose name takes
    another's output name (``juche-pdfa`` beside ``juche``), else the reader
    (a reader named as a work), else the later name."""
    if len(a[0]) != len(b[0]):
        return (a, b) if len(a[0]) > len(b[0]) else (b, a)
    if a[1] != b[1]:
        return (a, b) if a[1] else (b, a)
    return (a, b) if a[0] > b[0] else (b, a)


def _where(project: Path, slug: str, is_reader: bool) -> tuple[str, Path]:
    if is_reader:
        return f"the reader readers/{slug}.yaml", project / "readers" / f"{slug}.yaml"
    return f"the work content/{slug}/", project / "content" / slug / "work.yaml"


def _diagnostic(project: Path, blamed: tuple[str, bool, str], other: tuple[str, bool, str]) -> Diagnostic:
    slug, is_reader, name = blamed
    what, path = _where(project, slug, is_reader)
    other_what, _ = _where(project, other[0], other[1])
    if other[0] == slug and is_reader:  # (the message the build has always given)
        message = (
            f"the reader {slug!r} has the name of the work content/{slug}/: both would write dist/{name}; "
            "rename the reader"
        )
    elif other[0] != slug and other[0].casefold() == slug.casefold():
        message = (
            f"{what} and {other_what} differ only in case: on a file system that ignores case (macOS, Windows) "
            f"both would write dist/{name}; rename {what.split(' ', 2)[2]}"
        )
    else:
        kind, other_kind = KINDS.get(_suffix(blamed), "output"), KINDS.get(_suffix(other), "output")
        message = (
            f"{what} would write its {kind} as dist/{name}, the name of the {other_kind} of {other_what}: "
            f"rename {what.split(' ', 2)[2]}"
        )
    return Diagnostic(SourceLocation(path), "file.name", message)
