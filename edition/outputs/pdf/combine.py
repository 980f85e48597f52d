"""The chains' PDFs put together into the print PDF.

Each chain of the document (``layout.chains.breaks``) is laid out, written and tagged
in a process of its own (``layout.chains.book``): a complete tagged PDF of its pages, whose
structure elements carry their element's place in the document
(``structure.KEY``). This module makes one PDF of them, in order: the pages
(with their content, fonts, images and annotations as written); one structure
tree, the elements that stand for one element of the document on both sides
of a seam (the ``Document``, a work's ``Div``, a list broken by a forced
break) made one again; the parent tree renumbered page by page and link by
link; the element ids, the named destinations and the outline of all of them.
Each font is embedded once, its subset holding the glyphs of every chain where
the subsets agree (``subsets``). A chain names the anchors of the other chains its links go to as stand-ins
(``layout.chains.book``: WeasyPrint drops a link whose anchor it does not see); only
each anchor's own chain gives its destination.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from weasyprint.anchors import make_page_bookmark_tree
from weasyprint.matrix import Matrix

from edition.layout.chains.book import Part
from edition.outputs.pdf import save as pdfsave
from edition.outputs.pdf import subsets
from edition.outputs.pdf import ua as pdfua
from edition.outputs.pdf.structure import KEY

#: The id ``structure`` gives a table's header cell that has none of its own.
HEADER_CELL = re.compile(r"header-cell-(\d+)")
#: PDF points per CSS pixel.
SCALE = 0.75


def combine(parts: list[Part], xmp: Callable[[dict], bytes] | None = None) -> bytes:
    """One PDF of the parts' pages, structure, destinations and outline (with
    ``xmp``, the XMP packet made from its Info dictionary)."""
    sources = [pikepdf.open(io.BytesIO(part.pdf)) for part in parts]
    pdf = sources[0]
    try:
        counts = [len(source.pages) for source in sources]
        firsts = [sum(counts[:n]) for n in range(len(counts))]
        with warnings.catch_warnings():  # the destinations are made again below
            warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
            for source in sources[1:]:
                pdf.pages.extend(source.pages)
        subsets.merge(pdf)
        _structure(pdf, sources, firsts, counts)
        _destinations(pdf, sources, parts)
        _outline(pdf, parts)
        if xmp is not None:
            pdfua.set_xmp(pdf, xmp(pdfua.info(pdf)))
        return pdfsave.save(pdf)
    finally:
        for source in sources:
            source.close()


# -- the structure tree ------------------------------------------------------------


def _structure(pdf: pikepdf.Pdf, sources: list[pikepdf.Pdf], firsts: list[int], counts: list[int]) -> None:
    roots = [pdf.Root.StructTreeRoot] + [pdf.copy_foreign(s.Root.StructTreeRoot) for s in sources[1:]]
    numbered = 0
    for root in roots:
        numbered += _number_header_cells(root, numbered)
    document = roots[0].K
    survivors: dict[tuple[int, int], Any] = {}
    for root in roots[1:]:
        _graft(document, root.K, survivors)
    entries: dict[int, Any] = {}  # key -> its entry (a number tree's keys go in ascending order)
    ids: dict[str, Any] = {}
    next_key = len(pdf.pages)
    for part, root in enumerate(roots):
        tree = _number_tree(root.ParentTree)
        pages = counts[part]
        keys: dict[int, int] = {}
        for local in range(pages):
            entries[firsts[part] + local] = Array([_survivor(e, survivors) for e in tree.get(local, Array())])
        for local in sorted(k for k in tree if k >= pages):
            keys[local] = next_key
            entries[next_key] = _survivor(tree[local], survivors)
            next_key += 1
        for local in range(pages):
            page = pdf.pages[firsts[part] + local].obj
            page.StructParents = firsts[part] + local
            for annotation in page.get("/Annots") or []:
                if "/StructParent" in annotation:
                    annotation.StructParent = keys[int(annotation.StructParent)]
        if "/IDTree" in root:
            names = root.IDTree.Names
            for i in range(0, len(names), 2):
                ids[str(names[i])] = _survivor(names[i + 1], survivors)
    tree_root = pdf.Root.StructTreeRoot
    tree_root.K = document
    nums = Array([item for key in sorted(entries) for item in (key, entries[key])])
    tree_root.ParentTree = pdf.make_indirect(Dictionary(Nums=nums))
    tree_root.ParentTreeNextKey = next_key
    if ids:
        tree_root.IDTree = pdf.make_indirect(
            Dictionary(Names=Array([v for key in sorted(ids) for v in (String(key), ids[key])]))
        )
    elif "/IDTree" in tree_root:
        del tree_root.IDTree
    document.P = tree_root
    _unkey(document)


def _number_header_cells(root: Any, before: int) -> int:
    """The ids a write gives table header cells (``header-cell-N``, from 1 in
    each write) counted on from the ``before`` of the chains before, as one
    write of the document numbers them (else two chains' tables would share
    ids, and a cell's ``Headers`` name another chain's header); the cells
    numbered here are returned."""

    def renamed(name: Any) -> Any:
        match = HEADER_CELL.fullmatch(str(name))
        return String(f"header-cell-{int(match[1]) + before}") if match else name

    count = 0
    stack = list(_kids(root))
    while stack:
        element = stack.pop()
        if not _is_element(element):
            continue
        if "/ID" in element and HEADER_CELL.fullmatch(str(element.ID)):
            element.ID = renamed(element.ID)
            count += 1
        attributes = element.get("/A")
        for owner in attributes if isinstance(attributes, Array) else [attributes]:
            if isinstance(owner, Dictionary) and "/Headers" in owner:
                owner.Headers = Array([renamed(h) for h in owner.Headers])
        stack.extend(_kids(element))
    if before and "/IDTree" in root:
        names = root.IDTree.Names
        root.IDTree.Names = Array([renamed(n) if i % 2 == 0 else n for i, n in enumerate(names)])
    return count


def _number_tree(tree: Any) -> dict[int, Any]:
    """A flat number tree (the finisher writes one ``Nums`` array)."""
    nums = tree.Nums
    return {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, Array) else [kids]


def _is_element(kid: Any) -> bool:
    return isinstance(kid, Dictionary) and "/S" in kid and kid.get("/Type") != Name.MCR


def _graft(target: Any, source: Any, survivors: dict) -> None:
    """``source``'s kids after ``target``'s, the elements at the seam that
    stand for one element made one (recursively)."""
    kids, added = _kids(target), _kids(source)
    if (
        kids
        and added
        and _is_element(kids[-1])
        and _is_element(added[0])
        and "/" + KEY in kids[-1]  # pikepdf names a key with its slash
        and kids[-1].get("/" + KEY) == added[0].get("/" + KEY)
        and kids[-1].S == added[0].S
    ):
        _graft(kids[-1], added[0], survivors)
        added = added[1:]
    page = source.get("/Pg")
    for kid in added:
        if _is_element(kid):
            kid.P = target
        elif isinstance(kid, int):  # a marked-content id on ``source``'s page: now named with it
            kid = Dictionary(Type=Name.MCR, Pg=page, MCID=kid)
        kids.append(kid)
    target.K = Array(kids)
    survivors[source.objgen] = target


def _survivor(element: Any, survivors: dict) -> Any:
    if isinstance(element, Dictionary) and element.is_indirect:
        while element.objgen in survivors:
            element = survivors[element.objgen]
    return element


def _unkey(element: Any) -> None:
    if "/" + KEY in element:
        del element["/" + KEY]
    for kid in _kids(element):
        if _is_element(kid):
            _unkey(kid)


# -- destinations and outline ------------------------------------------------------


def _destinations(pdf: pikepdf.Pdf, sources: list[pikepdf.Pdf], parts: list[Part]) -> None:
    """Each anchor's destination from the chain that holds it, sorted by name
    (as WeasyPrint writes them)."""
    found: dict[str, Any] = {}
    for number, (source, part) in enumerate(zip(sources, parts, strict=True)):
        names = source.Root.get("/Names")
        if names is None or "/Dests" not in names:
            continue
        flat = names.Dests.Names
        for i in range(0, len(flat), 2):
            name = str(flat[i])
            if name in part.anchors and name not in found:
                found[name] = flat[i + 1] if number == 0 else _copy(pdf, flat[i + 1])
    if "/Names" not in pdf.Root:
        pdf.Root.Names = Dictionary()
    if found:
        pdf.Root.Names.Dests = Dictionary(
            Names=Array([v for name in sorted(found) for v in (String(name), found[name])])
        )
    elif "/Dests" in pdf.Root.Names:
        del pdf.Root.Names.Dests


def _copy(pdf: pikepdf.Pdf, value: Any) -> Any:
    """A value of another PDF in ``pdf`` (its objects copied, or found copied already)."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return pdf.copy_foreign(value)
    if isinstance(value, Array):
        return Array([_copy(pdf, v) for v in value])
    if isinstance(value, Dictionary):
        return Dictionary({k: _copy(pdf, v) for k, v in value.items()})
    return value


class _Page:
    """What WeasyPrint's outline builder reads of a page."""

    def __init__(self, bookmarks: list[tuple], height: float) -> None:
        self.bookmarks = bookmarks
        self.height = height


def _outline(pdf: pikepdf.Pdf, parts: list[Part]) -> None:
    """The outline of all pages, as WeasyPrint makes one (``make_bookmark_tree``
    and ``add_outlines``): a chain's first heading may sit under the last of
    the chain before."""
    pages = [_Page(b, h) for part in parts for b, h in zip(part.bookmarks, part.heights, strict=True)]
    root: list = []
    skipped: list = []
    last_by_depth = [root]
    previous = 0
    for number, page in enumerate(pages):
        matrix = Matrix(a=SCALE, d=-SCALE, f=page.height * SCALE)
        previous = make_page_bookmark_tree(page, skipped, last_by_depth, previous, number, matrix)
    if "/Outlines" in pdf.Root:
        del pdf.Root.Outlines
    if root:
        items, count = _outline_items(pdf, root, None)
        outlines = pdf.make_indirect(Dictionary(Count=count, First=items[0], Last=items[-1]))
        for item in items:
            item.Parent = outlines
        pdf.Root.Outlines = outlines


def _outline_items(pdf: pikepdf.Pdf, bookmarks: list, parent: Any) -> tuple[list, int]:
    count = len(bookmarks)
    items: list = []
    for title, (page, x, y), children, state in bookmarks:
        destination = Array([pdf.pages[page].obj, Name.XYZ, x, y, 0])
        item = pdf.make_indirect(Dictionary(Title=String(title), Dest=destination))
        kids, kids_count = _outline_items(pdf, children, item)
        item.Count = -kids_count if state == "closed" else kids_count
        if state != "closed":
            count += kids_count
        if items:
            item.Prev = items[-1]
            items[-1].Next = item
        if kids:
            item.First = kids[0]
            item.Last = kids[-1]
        if parent is not None:
            item.Parent = parent
        items.append(item)
    return items, count
