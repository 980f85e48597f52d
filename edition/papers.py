"""Paper sizes, kept apart from the layout engine so the CLI starts fast."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    """A page size and what changes with it: the margins (top, inside, bottom,
    outside, for a recto) and the body type size."""

    name: str
    size: str
    margins: tuple[str, str, str, str]
    font_size: str

    @property
    def landscape(self) -> str:
        """The CSS size of the same paper turned sideways (a page for a wide table)."""
        parts = self.size.split()
        return f"{parts[1]} {parts[0]}" if len(parts) == 2 else f"{self.size} landscape"


PAPERS = {
    "letter": Paper("letter", "letter", ("0.9in", "1.05in", "0.95in", "0.85in"), "10.5pt"),
    "a4": Paper("a4", "A4", ("23mm", "27mm", "24mm", "21mm"), "10.5pt"),
    "6x9": Paper("6x9", "6in 9in", ("0.7in", "0.75in", "0.75in", "0.55in"), "10pt"),
}
