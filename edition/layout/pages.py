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

# where a page begins, in terms both outputs share (kept apart: the EPUB needs no layout engine)
from edition.layout.pagestart import (  # noqa: F401
    FLOAT_MOVED,
    TEXT_BLOCKS,
    PageStart,
    is_marker_element,
    local_name,
    text_blocks,
)


@dataclass
class NotePlacement:
    calls: dict[tuple[str, int], int] = field(default_factory=dict)  # (work, note) -> page
    texts: dict[tuple[str, int], int] = field(default_factory=dict)
    # a note that runs on: the page of each later part, by part number (2, 3, ...)
    parts: dict[tuple[str, int], dict[int, int]] = field(default_factory=dict)

    def faults(self) -> list[tuple[str, int, int | None, int | None]]:
        """(work, note, call page, text page) for every note not on its call's page."""
        out = []
        for key in sorted(set(self.calls) | set(self.texts), key=lambda k: (k[0], k[1])):
            call, text = self.calls.get(key), self.texts.get(key)
            if call != text:
                out.append((key[0], key[1], call, text))
        return out

    def broken(self) -> list[tuple[str, int, int, int | None]]:
        """(work, note, page it should run on to, page it does) for every part
        of a note that does not stand on the page after the part before it."""
        out = []
        for key, parts in sorted(self.parts.items()):
            previous = self.texts.get(key)
            for number in sorted(parts):
                page = parts[number]
                if previous is not None and page != previous + 1:
                    out.append((key[0], key[1], previous + 1, page))
                previous = page
        return out


#: The class of the later parts of a note that runs on (``edition/layout/htmlmarks.py``): the
#: stylesheet gives them no call and no number, and ``footnote-policy: auto``, with which
#: WeasyPrint carries a part that does not fit over to the next page, whole, at the head of its notes.
CONTINUED = "footnote-continued"


def is_continued(element) -> bool:
    return element is not None and CONTINUED in (element.get("class") or "").split()


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
            if footnote is not None and not is_continued(footnote.element):
                key = _note_key(footnote.element)
                if key:
                    placement.calls.setdefault(key, page_number)
        for area in areas:
            if not isinstance(area, boxes.FootnoteAreaBox):
                continue
            for box in _walk(area):
                key = _note_key(box.element) if box.element_tag == "span" else None
                if key and is_continued(box.element):
                    part = int(box.element.get("data-part") or 2)
                    placement.parts.setdefault(key, {}).setdefault(part, page_number)
                elif key:
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


def _is_generated(box: boxes.Box) -> bool:
    """A box of a pseudo-element (``::after``, ``::footnote-marker``): text the
    stylesheet adds (a cross-reference's page), not the source's."""
    return "::" in (box.element_tag or "")


def _line_chars(line: boxes.Box) -> int:
    """Non-space characters of the paragraph's own text on a line (as the
    source has them: not a note call, a page marker or generated text)."""
    count = 0

    def visit(box: boxes.Box) -> None:
        nonlocal count
        if _is_marker(box) or _is_generated(box):
            return
        if isinstance(box, boxes.TextBox):
            count += sum(1 for c in box.text if not c.isspace() and c != HYPHENATE_CHARACTER)
        for child in getattr(box, "children", ()) or ():
            visit(child)

    visit(line)
    return count


LineIndex = dict[int, list[tuple[int, list[boxes.LineBox]]]]


def _line_index(document: Document) -> LineIndex:
    """Each block element's lines, page by page, from one walk of the layout."""
    index: LineIndex = {}
    for number, page in enumerate(document.pages, 1):
        for box in _walk(page._page_box.children[0]):
            if isinstance(box, boxes.BlockContainerBox) and box.element is not None:
                lines = [c for c in box.children if isinstance(c, boxes.LineBox)]
                if lines:
                    index.setdefault(id(box.element), []).append((number, lines))
    return index


def _chars_before(index: LineIndex, element, page: int, stop_line: boxes.LineBox | None = None) -> int:
    """Non-space characters of a paragraph printed before ``page`` (and, on that
    page, before ``stop_line``), counted from the paragraph's start:
    ``data-chars`` is where a paragraph continuing an earlier split begins."""
    chars = int(element.get("data-chars") or 0)
    for number, lines in index.get(id(element), []):
        if number > page or (number == page and stop_line is None):
            break
        for line in lines:
            if line is stop_line:
                return chars
            chars += _line_chars(line)
    return chars


def _path_to(root: boxes.Box, found, skip=None) -> list[boxes.Box] | None:
    """The boxes from ``root`` down to the first box ``found`` accepts, in
    document order, not entering boxes ``skip`` accepts (WeasyPrint's boxes
    have no parent links, so the path is the only way back up)."""
    stack: list[boxes.Box] = []

    def visit(box: boxes.Box) -> bool:
        if skip is not None and skip(box):
            return False
        stack.append(box)
        if found(box) or any(visit(child) for child in getattr(box, "children", ()) or ()):
            return True
        stack.pop()
        return False

    return stack if visit(root) else None


def page_starts(document: Document) -> list[PageStart]:
    """Where every page begins. A blank page (the verso before a part that
    opens on a recto) begins where the next page does: its marker stands just
    before the next page's, so the page list still has every page."""
    return following_starts(found_starts(document))


def found_starts(document: Document) -> list[PageStart | None]:
    """Where each page begins, None for a page with no text of its own."""
    found = []
    seen_headers: set[int] = set()  # table heads already printed: a repeat is not where a page begins
    index = _line_index(document)
    blocks_of: dict[int, dict[int, int]] = {}  # anchor -> its text blocks' positions, found once per layout
    for number, page in enumerate(document.pages, 1):
        found.append(_page_start(index, number, page, seen_headers, blocks_of))
        seen_headers |= {id(b.element) for b in _walk(page._page_box.children[0]) if getattr(b, "is_header", False)}
    return found


def following_starts(found: list[PageStart | None]) -> list[PageStart]:
    """A page with no text begins where the next page with text does (a page
    after the last one with text has no start)."""
    starts: list[PageStart] = []
    for number, start in enumerate(found, 1):
        if start is None:
            following = next((s for s in found[number:] if s is not None), None)
            if following is None:
                continue
            start = PageStart(number, following.anchor, following.block, following.chars)
        starts.append(start)
    return starts


def _page_start(
    index: LineIndex, number: int, page, seen_headers: set[int], blocks_of: dict[int, dict[int, int]] | None = None
) -> PageStart | None:
    """Where one page begins, or None for a page with no text."""
    blocks_of = {} if blocks_of is None else blocks_of
    found = _first_text(page._page_box.children[0], seen_headers)
    if found is None:
        return None
    stack, _ = found
    block = next(
        (
            b
            for b in reversed(stack)
            if isinstance(b, boxes.BlockContainerBox) and b.element is not None and b.element.tag in TEXT_BLOCKS
        ),
        None,
    )
    anchor = next(
        (
            b.element
            for b in reversed(stack)
            if b.element is not None and b.element.get("id") and b.element.tag not in ("span", "a")
        ),
        None,
    )
    if block is None or anchor is None:
        return None
    element = block.element
    head = _logical_block(anchor, element)
    if id(anchor) not in blocks_of:
        blocks_of[id(anchor)] = {id(b): n for n, b in enumerate(text_blocks(anchor))}
    position = blocks_of[id(anchor)].get(id(head))
    if position is None:
        raise ValueError(f"{head!r} is not a text block of {anchor!r}")
    return PageStart(number, anchor.get("id"), position, _chars_before(index, element, number))


def _logical_block(anchor, element):
    """A continued paragraph's first part (the block the EPUB has): the part
    with its ordinal (``data-p``), else the paragraph before it in the flow.
    A figure or table the make-up moved between the parts is not the flow's:
    its own paragraphs (a table's notes) are never the first part."""
    if "continued" not in (element.get("class") or "").split():
        return element
    ordinal = element.get("data-p")
    moved = {id(e) for f in anchor.iter() if FLOAT_MOVED in (f.get("class") or "").split() for e in f.iter()}
    previous = None
    for candidate in anchor.iter():
        if candidate is element:
            return previous
        if (
            isinstance(candidate.tag, str)
            and candidate.tag == "p"
            and id(candidate) not in moved
            and "continued" not in (candidate.get("class") or "").split()
        ):
            if ordinal and candidate.get("data-p") == ordinal:
                return candidate
            previous = candidate
    return element


def _first_text(root: boxes.Box, seen_headers: set[int]) -> tuple[list[boxes.Box], boxes.Box] | None:
    """The boxes from the root down to the page's first line of flow text."""

    def skip(box: boxes.Box) -> bool:
        # a table header repeated at the top of the page is not where the page begins, nor a
        # figure or table moved to its head (the EPUB has it where the text places it)
        return (
            _is_marker(box)
            or (getattr(box, "is_header", False) and id(box.element) in seen_headers)
            or (box.element is not None and FLOAT_MOVED in (box.element.get("class") or "").split())
        )

    path = _path_to(root, lambda box: isinstance(box, boxes.TextBox) and bool(box.text.strip()), skip)
    if path is None:
        return None
    line = next((b for b in reversed(path) if isinstance(b, boxes.LineBox)), None)
    return path, line
