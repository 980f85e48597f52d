"""PDF/UA-1 for every PDF the build writes: the structure tree finished after writing.

WeasyPrint 70 can tag a PDF, but its tree is built from layout boxes: notes are
``NonStruct``/``Span``, running heads and folios are marked content that no
element references, a contents entry is a ``Link`` in a ``Link`` with three
overlapping annotations whose ``Contents`` are internal ids, an anonymous block
makes an ``H1`` inside an ``H1``, and a typesetter's hyphen reads back as
U+2010. So the build writes with tagging on, records during the write which
layout box each marked-content id belongs to (``recording``: WeasyPrint hands
its own tagger that map, and ours takes its place), and then, with pikepdf,
builds the tree from the HTML elements (``structure``), rewrites the marked
content (``marked_content``), merges and describes the link annotations, links
each note call to its note, and sets the catalog entries PDF/UA asks for.

A file is claimed as PDF/UA-1 (``pdfuaid:part`` in its XMP) by ``claim``, once
it is complete (after the pages of PDF readings are laid in, ``pdfpages``), and
only when the structural checker (``pdfua_check``) finds no fault in it.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf
import weasyprint.pdf
from pikepdf import Array, Dictionary, Name, String

from edition.outputs.checks import pdfua as pdfua_check
from edition.outputs.pdf import marked_content
from edition.outputs.pdf import save as pdfsave
from edition.outputs.pdf.structure import Builder, Mark, Node, Structure, walk_boxes

log = logging.getLogger(__name__)

#: Builds the XMP packet from the Info dictionary; ``claim`` adds pdfuaid.
XmpBuilder = Callable[[dict, bool], bytes]


@dataclass
class Recording:
    """What one write marked: per page, MCID -> layout box, and the link
    annotations WeasyPrint made (object number, box)."""

    marks: list[dict[int, Any]] = field(default_factory=list)
    links: list[list[tuple[int, Any]]] = field(default_factory=list)


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Write with ``pdf_tags=True`` inside this block: WeasyPrint's tagger is
    replaced by one that records which box each MCID marks."""
    record = Recording()

    def take(_pdf, document, _version, page_streams) -> None:
        for page, stream in zip(document.pages, page_streams, strict=True):
            record.marks.append({tag["mcid"]: box for box, tag in stream._tags.items()})
            record.links.append(
                [
                    (box.link_annotation.number, box)
                    for box in walk_boxes(page._page_box)
                    if getattr(box, "link_annotation", None) is not None
                ]
            )
            stream._tags.clear()

    original = weasyprint.pdf.add_tags
    weasyprint.pdf.add_tags = take
    try:
        yield record
    finally:
        weasyprint.pdf.add_tags = original


def finish(data: bytes, record: Recording, document: Any, xmp: XmpBuilder | None = None, keyed: bool = False) -> bytes:
    """The written PDF with its structure tree (and, with ``xmp``, an XMP packet
    that makes no PDF/UA claim yet: ``claim`` does, once the file is complete;
    ``keyed``: each element marked with its place, for ``outputs.pdf.combine``)."""
    lang = document.metadata.lang or "en"
    with pikepdf.open(io.BytesIO(data)) as pdf:
        structure = Builder(document, record.marks, record.links, lang, keyed).build()
        renumbered = [
            marked_content.rewrite(
                pdf,
                page,
                {m: a for (p, m), a in structure.artifacts.items() if p == number},
                {m: t for (p, m), t in structure.actual_text.items() if p == number},
            )
            for number, page in enumerate(pdf.pages)
        ]
        annotations = _annotations(pdf, structure)
        _write_tree(pdf, structure, renumbered, annotations)
        _catalog(pdf, lang)
        if xmp is not None:
            set_xmp(pdf, xmp(info(pdf), False))
        return pdfsave.save(pdf, recompress=True)


def claim(data: bytes, xmp: XmpBuilder, name: str, explain: Callable[[list[str]], bool] | None = None) -> bytes:
    """The finished PDF identified as PDF/UA-1 when the checker finds no fault
    in it; else unchanged, and a warning names the rules it breaks (or
    ``explain`` says, with the input that breaks them, and returns True)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        faults = [f for f in pdfua_check.check(pdf) if f not in pdfua_check.CLAIMS]
        if faults:
            if explain is None or not explain(faults):
                log.warning("%s is not claimed as PDF/UA-1: it breaks %s", name, ", ".join(faults))
            return data
        set_xmp(pdf, xmp(info(pdf), True))
        return pdfsave.save(pdf)  # only the XMP packet changed


def info(pdf: pikepdf.Pdf) -> dict[str, str]:
    return {str(k)[1:]: str(v) for k, v in pdf.docinfo.items()}


def set_xmp(pdf: pikepdf.Pdf, packet: bytes) -> None:
    stream = pdf.make_stream(packet)
    stream.Type = Name.Metadata
    stream.Subtype = Name.XML
    pdf.Root.Metadata = stream


def _catalog(pdf: pikepdf.Pdf, lang: str) -> None:
    pdf.Root.MarkInfo = Dictionary(Marked=True)
    pdf.Root.Lang = String(lang)
    viewer = pdf.Root.get("/ViewerPreferences") or Dictionary()
    viewer.DisplayDocTitle = True
    pdf.Root.ViewerPreferences = viewer
    for page in pdf.pages:
        if "/Annots" in page.obj:
            page.obj.Tabs = Name.S


# -- annotations ----------------------------------------------------------------


@dataclass
class Placed:
    """An annotation in the tree: its object, page and Link node."""

    annotation: pikepdf.Dictionary
    page: int
    node: Node


def _annotations(pdf: pikepdf.Pdf, structure: Structure) -> list[Placed]:
    """One annotation per link, page and line (WeasyPrint's others removed),
    each with a readable ``Contents``; a new one for each note call.

    A link set on two lines gets an annotation on each, not one whose
    rectangle spans both with QuadPoints for the lines: a viewer that finds a
    link by its rectangle alone (PDFium, so Chrome's) would take any other link
    under that rectangle, on either line, for this one."""
    placed: list[Placed] = []
    dropped: set[tuple[int, int]] = set()
    for group in structure.links:
        annotations = [pdf.get_object((n, 0)) for n in group.numbers]
        kept = []
        for line, first in _lines([[float(v) for v in a.Rect] for a in annotations]):
            keep = annotations[first]  # WeasyPrint's first on that line
            keep.Rect = Array(line)
            if "/QuadPoints" in keep:
                del keep.QuadPoints
            keep.Contents = String(group.contents)
            keep.F = 4
            kept.append(keep.objgen)
            placed.append(Placed(keep, group.page, group.node))
        dropped |= {a.objgen for a in annotations if a.objgen not in kept}
    destinations = _destinations(pdf)
    for call in structure.calls:
        if call.destination not in destinations:
            continue
        annotation = pdf.make_indirect(
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=Array(call.rect),
                Border=Array([0, 0, 0]),
                Dest=String(call.destination),
                Contents=String(call.contents),
                F=4,
            )
        )
        page = pdf.pages[call.page].obj
        if "/Annots" not in page:
            page.Annots = Array()
        page.Annots.append(annotation)
        placed.append(Placed(annotation, call.page, call.node))
    for page in pdf.pages:
        if "/Annots" in page.obj:
            page.obj.Annots = Array([a for a in page.obj.Annots if a.objgen not in dropped])
    return placed


def _destinations(pdf: pikepdf.Pdf) -> set[str]:
    names = pdf.Root.get("/Names")
    if names is None or "/Dests" not in names:
        return set()
    return set(pikepdf.NameTree(names.Dests).keys())


def _box(rect: list[float]) -> list[float]:
    """A rectangle as ``[left, bottom, right, top]``: WeasyPrint writes a link's
    top before its bottom, and a reader takes the corners in either order."""
    return [min(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[0], rect[2]), max(rect[1], rect[3])]


def _lines(rects: list[list[float]]) -> list[tuple[list[float], int]]:
    """The rectangles merged line by line (those that overlap vertically),
    top line first: each line's area and the index of its first rectangle."""
    lines: list[tuple[list[float], int]] = []
    order = sorted(range(len(rects)), key=lambda i: (-_box(rects[i])[3], _box(rects[i])[0]))
    for index in order:
        x1, y1, x2, y2 = _box(rects[index])
        for line, _first in lines:
            if y1 < line[3] and y2 > line[1]:
                line[:] = [min(line[0], x1), min(line[1], y1), max(line[2], x2), max(line[3], y2)]
                break
        else:
            lines.append(([x1, y1, x2, y2], index))
    return lines


# -- the structure tree -----------------------------------------------------------

PDF_NAMES = {"O", "Scope", "ListNumbering"}


def _write_tree(pdf: pikepdf.Pdf, structure: Structure, renumbered: list[dict[int, int]], placed: list[Placed]) -> None:
    pages = [p.obj for p in pdf.pages]
    annotated = {id(item.node) for item in placed}
    nodes = [n for n in structure.root.walk() if _has_content(n, annotated)]
    keep = set(map(id, nodes))
    objects = {id(n): pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name("/" + n.role))) for n in nodes}
    parent_tree: list[dict[int, Any]] = [{} for _ in pages]
    annotations: dict[int, list[Placed]] = {}
    for item in placed:
        annotations.setdefault(id(item.node), []).append(item)
    ids: dict[str, Any] = {}
    next_key = len(pages)
    objr_keys: list[tuple[int, Any]] = []
    for node in nodes:
        element = objects[id(node)]
        if node.parent is not None:
            element.P = objects[id(node.parent)]
        marks = [k for k in node.kids if isinstance(k, Mark) and k.mcid in renumbered[k.page]]
        home = marks[0].page if marks else None
        if home is not None:
            element.Pg = pages[home]
        kids = Array()
        for kid in node.kids:
            if isinstance(kid, Node):
                if id(kid) in keep:
                    kids.append(objects[id(kid)])
            elif isinstance(kid, Mark) and kid.mcid in renumbered[kid.page]:
                mcid = renumbered[kid.page][kid.mcid]
                parent_tree[kid.page][mcid] = element
                if kid.page == home:
                    kids.append(mcid)
                else:
                    kids.append(Dictionary(Type=Name.MCR, Pg=pages[kid.page], MCID=mcid))
        for item in annotations.get(id(node), []):
            item.annotation.StructParent = next_key
            objr_keys.append((next_key, element))
            next_key += 1
            kids.append(Dictionary(Type=Name.OBJR, Obj=item.annotation, Pg=pages[item.page]))
        element.K = kids
        for key, value in node.attrs.items():
            element[Name("/" + key)] = _pdf_value(key, value)
        if "ID" in node.attrs:
            ids[node.attrs["ID"]] = element
    nums = Array()
    for number, page in enumerate(parent_tree):
        nums.append(number)
        nums.append(Array([page.get(m) for m in range(max(page) + 1)] if page else []))
    for key, element in objr_keys:
        nums.append(key)
        nums.append(element)
    root = Dictionary(
        Type=Name.StructTreeRoot,
        K=objects[id(structure.root)],
        ParentTree=pdf.make_indirect(Dictionary(Nums=nums)),
        ParentTreeNextKey=next_key,
    )
    if ids:
        root.IDTree = pdf.make_indirect(
            Dictionary(Names=Array([v for key in sorted(ids) for v in (String(key), ids[key])]))
        )
    pdf.Root.StructTreeRoot = pdf.make_indirect(root)
    objects[id(structure.root)].P = pdf.Root.StructTreeRoot
    for number, page in enumerate(pages):
        page.StructParents = number


def _has_content(node: Node, annotated: set[int]) -> bool:
    """Whether a node holds content (or an annotation): empty ones are left out."""
    return id(node) in annotated or any(
        isinstance(k, Mark) or (isinstance(k, Node) and _has_content(k, annotated)) for k in node.kids
    )


def _pdf_value(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return Dictionary({"/" + k: _pdf_value(k, v) for k, v in value.items()})
    if isinstance(value, list):
        return Array([_pdf_value(key, v) for v in value])
    if key in PDF_NAMES:
        return Name("/" + value)
    if isinstance(value, str):
        return String(value)
    return value
