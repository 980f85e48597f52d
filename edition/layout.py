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
