"""What the laid-out pages say: where each note's call and text landed.

Walks WeasyPrint's layout tree (``Document.pages[i]._page_box``): a page box's
children are the main flow, the footnote area and the note area. A footnote
call is the box carrying ``.footnote``; a note's text is a box of the footnote
area whose element is the ``span.footnote`` with our ``data-note`` number.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from weasyprint.document import Document
from weasyprint.formatting_structure import boxes


@dataclass
class NotePlacement:
    calls: dict[tuple[str, int], int] = field(default_factory=dict)  # (work, note) -> page
    texts: dict[tuple[str, int], int] = field(default_factory=dict)

    def faults(self) -> list[tuple[str, int, int | None, int | None]]:
        """(work, note, call page, text page) for every note not on its call's page."""
        out = []
        for key in sorted(set(self.calls) | set(self.texts), key=lambda k: (k[0], k[1])):
            call, text = self.calls.get(key), self.texts.get(key)
            if call != text:
                out.append((key[0], key[1], call, text))
        return out


def _walk(box: boxes.Box) -> Iterator[boxes.Box]:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _walk(child)


def _note_key(element) -> tuple[str, int] | None:
    if element is None:
        return None
    number = element.get("data-note")
    if number is None:
        return None
    work = element.get("id", "").split("--")[0]
    return work, int(number)


def note_placement(document: Document) -> NotePlacement:
    placement = NotePlacement()
    for page_number, page in enumerate(document.pages, 1):
        root, *areas = page._page_box.children
        for box in _walk(root):
            footnote = getattr(box, "footnote", None)
            if footnote is not None:
                key = _note_key(footnote.element)
                if key:
                    placement.calls.setdefault(key, page_number)
        for area in areas:
            if not isinstance(area, boxes.FootnoteAreaBox):
                continue
            for box in _walk(area):
                key = _note_key(box.element) if box.element_tag == "span" else None
                if key:
                    placement.texts.setdefault(key, page_number)
    return placement


#: WeasyPrint's hyphenate-character: never in a source text, so stripping it from
#: laid-out text gives back the characters of the source.
HYPHENATE_CHARACTER = "\u2010"


def _is_marker(box: boxes.Box) -> bool:
    """Boxes whose text is not the paragraph's own: note calls, page markers."""
    if getattr(box, "footnote", None) is not None:
        return True
    element = box.element
    return element is not None and "original-page" in (element.get("class") or "").split()


def _line_chars(line: boxes.Box) -> int:
    """Non-space characters of the paragraph's own text on a line."""
    count = 0

    def visit(box: boxes.Box) -> None:
        nonlocal count
        if _is_marker(box):
            return
        if isinstance(box, boxes.TextBox):
            count += sum(1 for c in box.text if not c.isspace() and c != HYPHENATE_CHARACTER)
        for child in getattr(box, "children", ()) or ():
            visit(child)

    visit(line)
    return count


def _paragraph_lines(page_box: boxes.PageBox, element: object) -> list[boxes.LineBox]:
    for box in _walk(page_box.children[0]):
        if isinstance(box, boxes.BlockContainerBox) and box.element is element:
            lines = [c for c in box.children if isinstance(c, boxes.LineBox)]
            if lines:
                return lines
    return []


def _call_line(page_box: boxes.PageBox, key: tuple[str, int]) -> tuple[object, boxes.LineBox] | None:
    """The paragraph element and the line box that hold a note's call."""
    stack: list[boxes.Box] = []

    def visit(box: boxes.Box) -> tuple[object, boxes.LineBox] | None:
        stack.append(box)
        footnote = getattr(box, "footnote", None)
        if footnote is not None and _note_key(footnote.element) == key:
            line = next((b for b in reversed(stack) if isinstance(b, boxes.LineBox)), None)
            if line is not None:
                block = stack[stack.index(line) - 1]
                return block.element, line
        for child in getattr(box, "children", ()) or ():
            found = visit(child)
            if found:
                return found
        stack.pop()
        return None

    return visit(page_box.children[0])


def split_for_first_fault(document: Document) -> tuple[tuple[str, int], int] | None:
    """The first note printed off its call's page, and where to end the call's
    paragraph so the call's line starts the next page: the count of non-space
    characters of the paragraph's text before that line (``data-chars`` is the
    offset of a paragraph that continues an earlier split).

    Only the first fault is fixed per layout: moving a line shifts every page
    after it, so later faults must be found again in the next layout. A note
    WeasyPrint dropped altogether is a fault like any other.
    """
    for work, number, call_page, _ in note_placement(document).faults():
        if call_page is None:
            continue
        found = _call_line(document.pages[call_page - 1]._page_box, (work, number))
        if found is None or getattr(found[0], "tag", None) != "p":
            return None
        element, call_line = found
        chars = int(element.get("data-chars") or 0)
        for page in document.pages[:call_page]:
            for line in _paragraph_lines(page._page_box, element):
                if line is call_line:
                    break
                chars += _line_chars(line)
        return (work, number), chars
    return None
