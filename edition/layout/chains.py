"""Where a print document falls apart: its chains of runs.

A *run* is the pages between two forced page breaks of the document's
structure (a part, a document, the back matter). A run's pages depend only on
its own boxes, on where it begins (its page number and side) and on what it
inherits (running strings, the page numbers it cites). Where a run begins on
a side of its own (a break to a recto or a verso: a part, the appendix, a
reading) its side is known before anything before it is laid out; such a run
begins a *chain*, the runs up to the next one. A chain can be laid out as soon
as the document's boxes are built, apart from the chains before it, given
only its first page number (which moves its folios, and a blank page before
it), its running strings and the pages it cites, all settled once the chains
before it are laid out (``engine.settle``).

The breaks are found the way WeasyPrint finds them while it lays out
(``block_level_page_break`` and ``block_level_page_name`` between in-flow
siblings), on the boxes before layout, so a chain begins exactly where
WeasyPrint's own pagination would stand after the break: the same path of
child indexes (``resume_at``), the same break, the same page name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from weasyprint.formatting_structure import boxes
from weasyprint.layout.block import block_level_page_break, block_level_page_name

#: Breaks that fix the side of the page after them (left-to-right documents).
SIDED = {"left": False, "right": True, "recto": True, "verso": False}


@dataclass(frozen=True)
class Chain:
    """Where a chain begins and ends in the box tree (WeasyPrint ``resume_at``
    paths: None is the document's start or end), the break that opens it and
    the side of its first page with text (True: a right-hand page)."""

    start: dict | None
    end: dict | None
    next_page: dict | None  # {'break': ..., 'page': ...}; None for the document's start
    right_page: bool | None  # None for the document's start (WeasyPrint decides)
    path: tuple[int, ...]  # ``start`` as a tuple of child indexes (empty: the document's start)


def find(root_box: boxes.Box) -> list[Chain]:
    """The document's chains, in order."""
    starts = [(path, page_break, name) for path, page_break, name in _sided_breaks(root_box, ())]
    chains = []
    bounds = [((), None, None), *starts]
    for n, (path, page_break, name) in enumerate(bounds):
        following = bounds[n + 1][0] if n + 1 < len(bounds) else None
        chains.append(
            Chain(
                start=_nest(path) if path else None,
                end=_nest(following) if following is not None else None,
                next_page={"break": page_break, "page": name} if path else None,
                right_page=SIDED[page_break] if path else None,
                path=path,
            )
        )
    return chains


def _in_flow(box: boxes.Box) -> bool:
    return box.is_in_normal_flow() or box.is_floated()


def _sided_breaks(box: boxes.Box, path: tuple[int, ...]) -> Iterator[tuple[tuple[int, ...], str, str | None]]:
    """(path of the box after the break, break, page name) for every forced
    break to a side between in-flow siblings of a block container, in order."""
    children = getattr(box, "children", None) or []
    if not isinstance(box, boxes.BlockContainerBox) or not children or isinstance(children[0], boxes.LineBox):
        return
    if (
        isinstance(box, (boxes.TableBox, boxes.FlexContainerBox, boxes.GridContainerBox))
        or getattr(box, "is_table_wrapper", False)
        or box.style["position"] in ("absolute", "fixed")
    ):
        return
    previous = None
    for index, child in enumerate(children):
        if not isinstance(child, boxes.BlockLevelBox) or not _in_flow(child):
            continue
        if previous is not None:
            page_break = block_level_page_break(previous, child)
            if page_break in SIDED:
                yield (*path, index), page_break, block_level_page_name(previous, child)
        previous = child
        if child.style["float"] == "none":
            yield from _sided_breaks(child, (*path, index))


def _nest(path: tuple[int, ...]) -> dict:
    """(2, 0, 3) -> {2: {0: {3: None}}}: where WeasyPrint resumes after a break."""
    nested: dict | None = None
    for index in reversed(path):
        nested = {index: nested}
    assert nested is not None
    return nested
