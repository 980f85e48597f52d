"""Where a printed page begins, in terms both outputs share.

The print layout (``layout.page_starts``) finds them; the EPUB inserts its page
breaks at them (``outputs.pagebreaks``). Kept apart from ``layout`` so that
the EPUB builder never imports the layout engine: an EPUB built from a cached
layout (``pipeline``) does without it.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Elements whose text is a unit of reading: a page break is placed inside one.
TEXT_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "caption", "dt", "dd"}


#: The class of a figure or table the print make-up moved to the head of a page.
FLOAT_MOVED = "float-moved"


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def is_marker_element(element) -> bool:
    """Elements whose text is not the flow's: page markers, note calls and notes."""
    classes = (element.get("class") or "").split()
    return bool({"original-page", "footnote", "noteref"} & set(classes))


def text_blocks(anchor) -> list:
    """The text blocks under an element (itself included), in document order;
    a paragraph's continuation (``p.continued``, from a note correction)
    belongs to the block before it, and blocks inside a marker element (below
    ``anchor``) are not the flow's. One walk: a page's start is found in its
    anchor's blocks, and an anchor may be a whole part."""
    blocks: list = []
    # a figure or table the print make-up moved is counted where the text places it
    moved = {e.get("data-float"): e for e in anchor.iter() if FLOAT_MOVED in (e.get("class") or "").split()}

    def take(element, under_marker: bool) -> None:
        if under_marker or not isinstance(element.tag, str) or local_name(element.tag) not in TEXT_BLOCKS:
            return
        if "continued" not in (element.get("class") or "").split():
            blocks.append(element)

    def visit(node, under_marker: bool) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            if moved and FLOAT_MOVED in (child.get("class") or "").split():
                continue
            origin = moved.get(child.get("data-float-origin")) if moved else None
            if origin is not None:
                child = origin
            take(child, under_marker)
            visit(child, under_marker or is_marker_element(child))

    take(anchor, False)
    visit(anchor, False)
    return blocks


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins, in terms both outputs share: the id of the
    nearest enclosing element with an id, the index of the text block within
    it, and the non-space characters of that block printed on earlier pages."""

    page: int
    anchor: str
    block: int
    chars: int
