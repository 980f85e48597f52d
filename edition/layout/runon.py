"""Notes that run on: a note's lines as laid out, and where a note that does
not fit on its call's page breaks.

WeasyPrint lays a footnote out whole on one page (Kozea/WeasyPrint #1564,
#1924, #2502). A typesetter breaks a long note between two lines and runs it
on at the foot of the next page, above that page's own notes; the make-up
does the same: it reads each note's lines (their heights and the characters
of the note before each), chooses the line after which the note breaks, and
the print HTML gets the note as parts (``htmlmarks.run_on``), each a footnote
of its own that WeasyPrint carries over to the next page when it does not fit
(``footnote-policy: auto``).

A break leaves at least ``MIN_LINES`` lines on each side, and falls in
mid-sentence where it can (so that the reader turns the page): a line that
ends a sentence is not the last before the break if the line above it will do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from weasyprint.formatting_structure import boxes

from edition.layout.pages import (
    HYPHENATE_CHARACTER,
    _is_generated,
    _is_marker,
    _note_key,
    is_continued,
)

NoteKey = tuple[str, int]
#: Lines of a note that stay together on either side of a break.
MIN_LINES = 2
#: A line that ends a sentence (a full stop, a question or exclamation mark,
#: perhaps inside a closing quotation mark or parenthesis).
SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*$")


@dataclass(frozen=True)
class NoteLine:
    height: float
    gap: float  # space between the line above it (in the same part) and it
    chars: int  # non-space characters of the note before this line
    ends_sentence: bool


@dataclass
class NoteText:
    """The lines of one note, all its parts put end to end."""

    lines: list[NoteLine] = field(default_factory=list)
    padding: float = 0.0  # what a part's box adds to its lines' height

    def height(self, start: int = 0, end: int | None = None) -> float:
        """The height of a part holding lines ``start`` to ``end`` (exclusive)."""
        end = len(self.lines) if end is None else end
        if end <= start:
            return 0.0
        chosen = self.lines[start:end]
        return self.padding + sum(line.height for line in chosen) + sum(line.gap for line in chosen[1:])

    def lines_within(self, start: int, room: float) -> int:
        """How many lines from ``start`` a part of at most ``room`` holds."""
        count = 0
        for end in range(start + 1, len(self.lines) + 1):
            if self.height(start, end) > room + 0.01:
                break
            count = end - start
        return count

    def line_at(self, chars: int) -> int:
        """The index of the line that begins at (or holds) character ``chars``."""
        index = 0
        for i, line in enumerate(self.lines):
            if line.chars <= chars:
                index = i
        return index


def break_after(note: NoteText, start: int, room: float) -> int | None:
    """The number of lines (from line ``start``) the part that stays on this
    page takes, given ``room``: as many as fit, keeping ``MIN_LINES`` on
    either side, and one fewer if the last would end a sentence and the one
    above it does not; None if the note cannot break there."""
    total = len(note.lines) - start
    count = min(note.lines_within(start, room), total - MIN_LINES)
    if count < MIN_LINES:
        return None
    last = note.lines[start + count - 1]
    if last.ends_sentence and count - 1 >= MIN_LINES and not note.lines[start + count - 2].ends_sentence:
        count -= 1
    return count


def read_notes(areas: list[list[boxes.Box]]) -> dict[NoteKey, NoteText]:
    """Every note's lines, from the footnote areas' children of each page
    (its parts, in order of their ``data-part``)."""
    parts: dict[NoteKey, dict[int, boxes.Box]] = {}
    for children in areas:
        for child in children:
            key = _note_key(child.element)
            if key is None:
                continue
            number = int(child.element.get("data-part") or 2) if is_continued(child.element) else 1
            parts.setdefault(key, {}).setdefault(number, child)
    out: dict[NoteKey, NoteText] = {}
    for key, by_number in parts.items():
        if 1 not in by_number or sorted(by_number) != list(range(1, len(by_number) + 1)):
            continue  # a part is missing: the note is measured apart
        text = NoteText()
        for number in sorted(by_number):
            box = by_number[number]
            start = int(box.element.get("data-chars") or 0) if number > 1 else 0
            lines = note_lines(box, start)
            if lines and number == 1:
                text.padding = max(0.0, box.margin_height() - _span(box))
            text.lines.extend(lines)
        out[key] = text
    return out


def _span(box: boxes.Box) -> float:
    found = _line_boxes(box)
    return found[-1].position_y + found[-1].height - found[0].position_y if found else 0.0


def _line_boxes(box: boxes.Box) -> list[boxes.LineBox]:
    """The note's own lines in reading order (not the line inside its
    number's inline block)."""
    out: list[boxes.LineBox] = []

    def visit(b: boxes.Box) -> None:
        if isinstance(b, boxes.InlineBlockBox):
            return
        for child in getattr(b, "children", ()) or ():
            if isinstance(child, boxes.LineBox):
                out.append(child)
            elif isinstance(child, boxes.BlockContainerBox):
                visit(child)

    visit(box)
    return out


def note_lines(box: boxes.Box, chars: int = 0) -> list[NoteLine]:
    """The lines of one part of a note, counted on from ``chars``."""
    out = []
    previous = None
    for line in _line_boxes(box):
        text = _text(line)
        gap = line.position_y - (previous.position_y + previous.height) if previous is not None else 0.0
        out.append(NoteLine(line.height, max(0.0, gap), chars, bool(SENTENCE_END.search(text.rstrip()))))
        chars += sum(1 for c in text if not c.isspace() and c != HYPHENATE_CHARACTER)
        previous = line
    return out


def _text(line: boxes.Box) -> str:
    """A line's own text: not a note number or a generated page reference."""
    parts = []

    def visit(b: boxes.Box) -> None:
        if _is_marker(b) or _is_generated(b):
            return
        if isinstance(b, boxes.TextBox):
            parts.append(b.text)
        for child in getattr(b, "children", ()) or ():
            visit(child)

    visit(line)
    return "".join(parts)


def first_parts(areas: list[list[boxes.Box]]) -> dict[NoteKey, float]:
    """The laid-out height of each note's first part (the whole note when it
    does not run on)."""
    out: dict[NoteKey, float] = {}
    for children in areas:
        for child in children:
            key = _note_key(child.element)
            if key is not None and not is_continued(child.element):
                out.setdefault(key, child.margin_height())
    return out


def carried(children: list[boxes.Box]) -> list[tuple[NoteKey, int]]:
    """The parts of notes run on from an earlier page that head a page's
    notes: (note, part number)."""
    out = []
    for child in children:
        if not is_continued(child.element):
            break
        key = _note_key(child.element)
        if key is not None:
            out.append((key, int(child.element.get("data-part") or 2)))
    return out
