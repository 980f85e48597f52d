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
    items: list[tuple[str, str, Path | None, str, int]] = field(default_factory=list)

    def section(self, stem: str) -> Path:
        """A section file's path, relative to the project."""
        return self.work / "text" / f"{stem}.md"

    def warn(self, code: str, message: str, file: Path | None = None, find: str = "", nth: int = 0) -> None:
        """A warning; at ``file``'s line of the ``nth`` (from 0) occurrence of ``find``."""
        self.items.append((code, message, file, find, nth))

    def diagnostics(self, root: Path, texts: dict[Path, str]) -> list[Diagnostic]:
        """The warnings as diagnostics; a file (relative to the project,
        ``root``) is shown with the line of its search string in ``texts``."""
        out = []
        for code, message, file, find, nth in self.items:
            if file is None:
                location = SourceLocation(self.manuscript)
            else:
                location = SourceLocation(root / file, _line(texts.get(file, ""), find, nth))
            out.append(Diagnostic(location, code, message, "warning"))
        return out


def _line(text: str, find: str, nth: int) -> int | None:
    """The line of the ``nth`` occurrence of ``find`` in ``text``, if there is one."""
    at = -1
    for _ in range(nth + 1):
        at = text.find(find, at + 1) if find else -1
        if at < 0:
            return None
    return text[:at].count("\n") + 1
