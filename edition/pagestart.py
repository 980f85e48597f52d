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


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def is_marker_element(element) -> bool:
    """Elements whose text is not the flow's: page markers, note calls and notes."""
    classes = (element.get("class") or "").split()
    return bool({"original-page", "footnote", "noteref"} & set(classes))


def text_blocks(anchor) -> list:
    """The text blocks under an element, in order; a paragraph's continuation
    (``p.continued``, from a note correction) belongs to the block before it."""
    blocks = []
    for element in anchor.iter():
        if not isinstance(element.tag, str) or local_name(element.tag) not in TEXT_BLOCKS:
            continue
        if "continued" in (element.get("class") or "").split():
            continue
        if any(is_marker_element(e) for e in _ancestors_within(anchor, element)):
            continue
        blocks.append(element)
    return blocks


def _ancestors_within(anchor, element) -> list:
    """The ancestors of ``element`` below ``anchor`` (ElementTree has no parent links)."""
    path: list = []

    def visit(node, trail) -> bool:
        if node is element:
            path.extend(trail)
            return True
        return any(visit(child, [*trail, child]) for child in node)

    visit(anchor, [])
    return path[:-1]


@dataclass(frozen=True)
class PageStart:
    """Where a printed page begins, in terms both outputs share: the id of the
    nearest enclosing element with an id, the index of the text block within
    it, and the non-space characters of that block printed on earlier pages."""

    page: int
    anchor: str
    block: int
    chars: int
