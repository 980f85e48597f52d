"""Where a reader meets an original-page marker.

The marker ``[2]`` stands in the text where page 2 of the original begins. In
print it is set in the margin; to a screen reader it is a labelled element read
as "original page 2". Inside an element whose text is an accessible name (a
heading, a table header cell, a caption, a link) it would become part of that
name ("[1]Juche and…", a row header "[4]1974"), so it is read just before that
element instead: before the heading; for a row header, at the end of the row
before it (the original's page begins with this row), or before the table.

One rule for both outputs: the EPUB moves the element (``relocate_xhtml``);
the PDF finisher places the marker's structure element (``reading_place``).
The EPUB's print page-break markers follow the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lxml import etree

#: Elements whose text content is an accessible name.
NAMED = {"h1", "h2", "h3", "h4", "h5", "h6", "th", "caption", "a", "dt", "figcaption", "summary", "label"}

Parent = Callable[[Any], Any]


def local_name(element: Any) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def is_marker(element: Any) -> bool:
    return isinstance(element.tag, str) and element.get("data-original-page") is not None


def reading_place(marker: Any, parent_of: Parent) -> tuple[Any, str] | None:
    """Where the marker is read, when not where it stands: ``(element, "before")``
    or ``(element, "end")`` (the marker is the element's last child)."""
    holder, node = None, parent_of(marker)
    while node is not None:
        if local_name(node) in NAMED:
            holder = node  # the outermost one: a link inside a heading leaves both
        node = parent_of(node)
    if holder is None:
        return None
    if local_name(holder) == "th":
        return _before_row(holder, parent_of)
    if local_name(holder) == "caption":
        return parent_of(holder), "before"
    if local_name(holder) == "dt":
        return _before_term(holder, parent_of)
    return holder, "before"


def _before_term(term: Any, parent_of: Parent) -> tuple[Any, str]:
    """The end of the description before a term, else before the list (a
    definition list holds terms and descriptions, nothing else)."""
    items = [e for e in parent_of(term) if isinstance(e.tag, str)]
    index = next((i for i, e in enumerate(items) if e is term), 0)
    if index > 0 and local_name(items[index - 1]) == "dd":
        return items[index - 1], "end"
    return parent_of(term), "before"


def _before_row(cell: Any, parent_of: Parent) -> tuple[Any, str]:
    """The end of the last data cell of the row before, else before the table."""
    row = parent_of(cell)
    group = parent_of(row)
    rows = [r for r in group if local_name(r) == "tr"] if group is not None else []
    index = next((i for i, r in enumerate(rows) if r is row), 0)
    if index > 0:
        cells = [c for c in rows[index - 1] if local_name(c) in ("td", "th")]
        if cells and local_name(cells[-1]) == "td":
            return cells[-1], "end"
    table = group
    while table is not None and local_name(table) != "table":
        table = parent_of(table)
    return (table if table is not None else row), "before"


def is_page_break(element: Any) -> bool:
    """An EPUB's print page-break marker (``role="doc-pagebreak"``)."""
    return isinstance(element.tag, str) and element.get("role") == "doc-pagebreak"


def relocate_xhtml(xhtml: bytes) -> bytes:
    """The EPUB document with every marker moved to where it is read: the
    original-page markers and the print page-break markers alike (DPUB-ARIA
    places ``doc-pagebreak`` before a heading, never inside its name)."""
    root = etree.fromstring(xhtml)
    markers = [e for e in root.iter() if is_marker(e) or is_page_break(e)]
    moved = False
    for marker in markers:
        place = reading_place(marker, lambda e: e.getparent())
        if place is None:
            continue
        _detach(marker)
        target, where = place
        navigation = next((a for a in target.iterancestors() if local_name(a) == "nav"), None)
        if navigation is not None:
            # a navigation holds its heading and its list of links, nothing else
            target, where = navigation, "before"
        if where == "end":
            target.append(marker)
        else:
            target.addprevious(marker)
        moved = True
    if not moved:
        return xhtml
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>")


def _detach(element: etree._Element) -> None:
    """Remove an element, keeping its tail text where it was."""
    parent, tail = element.getparent(), element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    element.tail = None
    parent.remove(element)
