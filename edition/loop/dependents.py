"""Which editions a changed file affects, for the edit loop (``--watch``).

A work's edition depends on its folder ``content/<work>/`` and its BibTeX
file; a course reader on its definition ``readers/<slug>.yaml``, on every work
it reads and on the PDFs it prints; every edition on ``templates/``. What a work or reader reads is
learnt from its last successful check (the ``Work.inputs`` the reader records);
an edition never read successfully is assumed to depend on every input, so a
fix anywhere gets it checked again. This module imports nothing heavy: it runs
in the long-lived watching process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from edition.project import INPUT_FOLDERS


@dataclass(frozen=True)
class Inputs:
    """What one edition was last read from."""

    works: frozenset[str]  # slugs of the works in content/ it reads
    files: frozenset[Path]  # every file it read (absolute)


@dataclass
class Dependents:
    project: Path
    known: dict[str, Inputs] = field(default_factory=dict)

    def learn(self, slug: str, inputs: Inputs | None) -> None:
        """Record what ``slug`` was read from; ``None`` forgets it (its read failed)."""
        if inputs is None:
            self.known.pop(slug, None)
        else:
            self.known[slug] = inputs

    def affected(self, paths: Iterable[Path], watched: Iterable[str]) -> list[str]:
        """The editions among ``watched`` that one of ``paths`` (absolute) may change, in order."""
        watched = list(watched)
        hit: set[str] = set()
        for path in paths:
            hit.update(slug for slug in watched if self._depends(slug, path))
        return [slug for slug in watched if slug in hit]

    def _depends(self, slug: str, path: Path) -> bool:
        try:
            parts = path.relative_to(self.project).parts
        except ValueError:
            return False
        if len(parts) < 2 or parts[0] not in INPUT_FOLDERS:
            return False
        if parts[0] == "templates":
            return True
        if parts[0] == "readers" and len(parts) == 2 and path.suffix == ".yaml":
            return path.stem == slug  # a reader's definition
        inputs = self.known.get(slug)
        if inputs is None:
            return parts[0] != "content" or len(parts) > 2
        if parts[0] == "content" and len(parts) > 2 and parts[1] in inputs.works:
            return True  # a file of a work it reads, a new one too
        return path in inputs.files  # its BibTeX file, a PDF it reads
