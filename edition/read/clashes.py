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

from dataclasses import dataclass
from pathlib import Path

from edition import project as projects
from edition.diagnostics import Diagnostic
from edition.model import SourceLocation

#: What each output is, in the order a diagnostic prefers to name them.
KINDS = {
    "pdf": "print PDF",
    "pdfa": "PDF/A",
    "press": "press PDF",
    "epub": "EPUB",
    "preflight": "preflight report",
    "permissions": "permissions report",
}


@dataclass(frozen=True)
class _Claim:
    """One output file an edition would write."""

    slug: str
    is_reader: bool
    kind: str

    @property
    def name(self) -> str:
        return projects.output_name(self.slug, self.kind)

    @property
    def edition(self) -> tuple[str, bool]:
        return self.slug, self.is_reader

    @property
    def what(self) -> str:
        return f"readers/{self.slug}.yaml" if self.is_reader else f"content/{self.slug}/"


def check(project: Path, works: list[str], readers: list[str], building: list[str]) -> list[Diagnostic]:
    """One diagnostic for each edition (of a pair, one of them being built)
    whose outputs would have another edition's output name."""
    owners: dict[str, list[_Claim]] = {}
    for slug, is_reader in [(s, False) for s in works] + [(s, True) for s in readers]:
        for kind in projects.output_kinds(is_reader, projects.FORMATS, press=True):
            claim = _Claim(slug, is_reader, kind)
            owners.setdefault(claim.name.casefold(), []).append(claim)
    wanted = set(building)
    pairs: dict[tuple[str, bool], list[tuple[_Claim, _Claim]]] = {}
    for claims in owners.values():
        for first, a in enumerate(claims):
            for b in claims[first + 1 :]:
                if a.edition != b.edition and {a.slug, b.slug} & wanted:
                    blamed, other = _blame(a, b)
                    pairs.setdefault(blamed.edition, []).append((blamed, other))
    order = list(KINDS)
    # one diagnostic an edition, about its most telling output (the print PDF first)
    return [
        _diagnostic(project, *min(found, key=lambda pair: order.index(pair[0].kind)))
        for _, found in sorted(pairs.items())
    ]


def _blame(a: _Claim, b: _Claim) -> tuple[_Claim, _Claim]:
    """Which of two clashing editions to rename: the one whose name takes
    another's output name (``juche-pdfa`` beside ``juche``), else the reader
    (a reader named as a work), else the later name."""
    if len(a.slug) != len(b.slug):
        return (a, b) if len(a.slug) > len(b.slug) else (b, a)
    if a.is_reader != b.is_reader:
        return (a, b) if a.is_reader else (b, a)
    return (a, b) if a.slug > b.slug else (b, a)


def _diagnostic(project: Path, blamed: _Claim, other: _Claim) -> Diagnostic:
    if blamed.is_reader:
        path = projects.reader_definition(project, blamed.slug)
    else:
        path = projects.work_folder(project, blamed.slug) / projects.WORK_FILE
    what = f"the {'reader' if blamed.is_reader else 'work'} {blamed.what}"
    other_what = f"the {'reader' if other.is_reader else 'work'} {other.what}"
    if other.slug == blamed.slug:  # a reader named as a work (the message the build has always given)
        message = (
            f"the reader {blamed.slug!r} has the name of the work content/{blamed.slug}/: both would write "
            f"dist/{blamed.name}; rename the reader"
        )
    elif other.slug.casefold() == blamed.slug.casefold():
        message = (
            f"{what} and {other_what} differ only in case: on a file system that ignores case (macOS, Windows) "
            f"both would write dist/{blamed.name}; rename {blamed.what}"
        )
    else:
        message = (
            f"{what} would write its {KINDS[blamed.kind]} as dist/{blamed.name}, the name of the "
            f"{KINDS[other.kind]} of {other_what}: rename {blamed.what}"
        )
    return Diagnostic(SourceLocation(path), "file.name", message)
