"""The settings of one build, as the command line (or a test) gives them."""

from __future__ import annotations

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
    jobs: int = 1
    check: bool = False
    cache: Path | None = None  # the cache folder (``edition.infra.cache``); None: nothing is kept or reused

    @property
    def templates(self) -> Path:
        return self.project / project.TEMPLATES

    def profile_dirs(self, press: bool) -> list[Path]:
        """Folders the layout may load from beyond the project: the CMYK profile's, for the press file."""
        return [self.cmyk_profile.resolve().parent] if press and self.cmyk_profile else []
