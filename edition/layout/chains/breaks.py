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
before it are laid out (``pagination.settle``).

The breaks are found the way WeasyPrint finds them while it lays out
(``block_level_page_break`` and ``block_level_page_name`` between in-flow
siblings), on the boxes before layout, so a chain begins exactly where
WeasyPrint's own pagination would stand after the break: the same path of
child indexes (``resume_at``), the same break, the same page name.
"""

from __future__ import annotations

import hashlib
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
    stop: tuple[int, ...] | None  # ``end`` as a tuple (None: the document's end)


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
                stop=following,
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


def digest(root_box: boxes.Box, chain: Chain, following: bool = False) -> str:
    """What a chain's layout is made from, as the document's boxes say it
    (with the stylesheets, which the caller adds): the break and page name
    that open it; its boxes, their elements' names and attributes, their text
    (generated text too: note numbers, list markers), running strings and
    bookmark labels, and the notes they call; and around it, its ancestors and
    their children before it (for selectors such as ``:first-child`` or
    ``+``), and whether any follows it (``:last-child``); with ``following``
    (the stylesheets count from the end: ``:nth-last-child``, ``:last-of-type``),
    the children after it too. A chain added after it changes none of this."""
    sha = hashlib.sha256()
    sha.update(repr((chain.path, chain.next_page, chain.right_page)).encode())

    def visit(box: boxes.Box, path: tuple[int, ...]) -> None:
        inside = chain.path <= path and (chain.stop is None or (path < chain.stop and chain.stop[: len(path)] != path))
        if inside:
            _subtree(sha, box)
            return
        if not _leads_to(path, chain.path) and not (chain.stop is not None and _leads_to(path, chain.stop)):
            return
        sha.update(b"\x01" + _describe(box))
        children = getattr(box, "children", None) or []
        if not children or isinstance(children[0], boxes.LineBox):
            return
        after = []
        for index, child in enumerate(children):
            child_path = (*path, index)
            if child_path < chain.path and not _leads_to(child_path, chain.path):
                sha.update(b"\x02" + _describe(child))  # a sibling before the chain
            elif chain.stop is not None and child_path >= chain.stop and not _leads_to(child_path, chain.stop):
                after.append(child)  # a sibling after it
            else:
                visit(child, child_path)
        sha.update(b"\x05" + repr(bool(after)).encode())
        if following:
            for child in after:
                sha.update(b"\x06" + _describe(child))

    visit(root_box, ())
    return sha.hexdigest()


def _leads_to(path: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether the box at ``path`` is ``target``'s or one of its ancestors."""
    return target[: len(path)] == path


def _describe(box: boxes.Box) -> bytes:
    element = box.element
    attributes = sorted(element.attrib.items()) if element is not None else []
    parts = (
        type(box).__name__,
        box.element_tag,
        attributes,
        getattr(box, "text", None),
        box.string_set,
        box.bookmark_label,
    )
    return repr(parts).encode()


def _subtree(sha, box: boxes.Box) -> None:
    sha.update(b"\x03" + _describe(box))
    footnote = getattr(box, "footnote", None)
    if footnote is not None:
        _subtree(sha, footnote)
    for child in getattr(box, "children", None) or []:
        if isinstance(child, boxes.Box):
            _subtree(sha, child)
    sha.update(b"\x04")
