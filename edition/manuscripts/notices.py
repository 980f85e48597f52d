"""What the import tells the author: warnings, each at the file and line to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edition.diagnostics import Diagnostic
from edition.model import SourceLocation


@dataclass
class Notices:
    """Warnings gathered while a manuscript is converted. A warning may point
    at a written file by a search string (its line is found once it is written)."""

    manuscript: Path
    work: Path  # the work's folder, relative to the project (content/<slug>)
    items: list[tuple[str, str, Path | None, str]] = field(default_factory=list)

    def section(self, stem: str) -> Path:
        """A section file's path, relative to the project."""
        return self.work / "text" / f"{stem}.md"

    def warn(self, code: str, message: str, file: Path | None = None, find: str = "") -> None:
        self.items.append((code, message, file, find))

    def diagnostics(self, root: Path, texts: dict[Path, str]) -> list[Diagnostic]:
        """The warnings as diagnostics; a file (relative to the project,
        ``root``) is shown with the line of its search string in ``texts``."""
        out = []
        for code, message, file, find in self.items:
            if file is None:
                location = SourceLocation(self.manuscript)
            else:
                text = texts.get(file, "")
                line = text[: text.find(find)].count("\n") + 1 if find and find in text else None
                location = SourceLocation(root / file, line)
            out.append(Diagnostic(location, code, message, "warning"))
        return out
