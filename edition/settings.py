"""The settings of one build, as the command line (or a test) gives them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edition import project


@dataclass(frozen=True)
class Options:
    project: Path
    out: Path
    slugs: tuple[str, ...] = ()
    formats: tuple[str, ...] = project.FORMATS
    paper: str = "letter"
    strict: bool = False
    press: bool = False
    cmyk_profile: Path | None = None
    jobs: int = 0  # processes the build may use (0: one edition at a time, its layout on every core)
    cores: int = 0  # processes one edition's layout may use (0: ``jobs``, or every core)
    check: bool = False
    cache: Path | None = None  # the cache folder (``edition.infra.cache``); None: nothing is kept or reused

    @property
    def templates(self) -> Path:
        return self.project / project.TEMPLATES

    def layout_processes(self) -> int:
        """How many chains of one edition's print layout are laid out at once."""
        return self.cores or self.jobs or cores()

    def profile_dirs(self, press: bool) -> list[Path]:
        """Folders the layout may load from beyond the project: the CMYK profile's, for the press file."""
        return [self.cmyk_profile.resolve().parent] if press and self.cmyk_profile else []


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
