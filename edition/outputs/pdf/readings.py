"""The pages of PDF readings, laid into the volume WeasyPrint wrote.

The print layout reserves one page per source page (an empty ``article.pdf-page``
that WeasyPrint sets like any page: running heads and folio in the volume's
font, counted by the contents and by every ``target-counter``). After WeasyPrint
has written the PDF, this step puts each source page on its placeholder as a
Form XObject drawn *under* WeasyPrint's content, scaled to fit the page's
content box (inside the margins, never enlarged, never cropped), centred.

The source page is copied, not re-rendered: its content stream and resources
(images, fonts) are copied as they are with ``Pdf.copy_foreign``. Its links are
kept with their rectangles moved onto the volume page (a link to a page the
reading leaves out is removed, as is any action other than a web link or a
jump); annotations that print are flattened into the page, the rest dropped.

When the volume is tagged (the PDF/A, and the print PDF once it is PDF/UA),
a tagged source keeps its structure: its structure elements are copied under
one ``Part`` in the volume's tree, each marked-content reference pointing into
the placed form (``/Stm``), each form keyed in the parent tree. An untagged
source page becomes a ``Figure`` with a text alternative, and the volume cannot
claim PDF/UA (``Edition.untagged_pdf_readings``).

This is a separate step on finished PDF bytes, so a later finisher (PDF/UA)
can process its output like any other.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pikepdf
from pikepdf import Array, Dictionary, Name

from edition.diagnostics import BuildFailed, Diagnostic
from edition.layout.reading_pages import Placement
from edition.model import Edition, Work
from edition.outputs.pdf import save as pdfsave
from edition.outputs.pdf.reading_tags import Graft, StructTree
from edition.read.pdf import trim
from edition.resolve.links import external_href


def insert(
    data: bytes, edition: Edition, placements: list[Placement], finish: Callable[[pikepdf.Pdf], None] | None = None
) -> bytes:
    """The volume's PDF with every PDF reading's pages laid onto their
    placeholders; ``finish`` may change it further before it is written (the
    PDF/A embeds the source PDFs so, stored as they are)."""
    if not placements and finish is None:
        return data
    with pikepdf.open(io.BytesIO(data)) as volume:
        tree = StructTree(volume) if "/StructTreeRoot" in volume.Root else None
        for work in edition.parts:
            mine = [p for p in placements if p.reading == work.slug]
            if work.pdf is not None and mine:
                try:
                    _insert_reading(volume, work, mine, tree)
                except (pikepdf.PdfError, TypeError, ValueError, AttributeError, KeyError) as exc:
                    # a structure of the file the reader stage did not walk, of another kind than PDF says
                    raise BuildFailed([_unplaceable(work, exc)]) from exc
        if tree is not None:
            tree.finish()
        if finish is not None:
            finish(volume)
        return pdfsave.save(volume)


def _unplaceable(work: Work, exc: Exception) -> Diagnostic:
    source = work.pdf
    assert source is not None
    detail = " ".join(str(exc).split())[:120]
    return Diagnostic(
        source.location,
        "pdf.unreadable",
        f"{source.name} cannot be printed: an object on its pages is not of the kind PDF prescribes ({detail}); "
        "give a repaired copy",
    )


def _insert_reading(volume: pikepdf.Pdf, work: Work, placements: list[Placement], tree: StructTree | None) -> None:
    source = work.pdf
    assert source is not None
    with pikepdf.open(io.BytesIO(source.data)) as src:
        transparent = {p.page for p in source.problems if p.kind == "transparency"}
        destinations = _destinations(src)
        links = {p.source_page: _take_links(src.pages[p.source_page - 1]) for p in placements}
        _flatten(src)
        for p in placements:  # the reader's trim: the placed form's box is the trimmed page
            trim.apply(src.pages[p.source_page - 1], source.trim)
        forms = {p.source_page: src.pages[p.source_page - 1].as_form_xobject() for p in placements}
        targets = {p.source_page: (volume.pages[p.page - 1].obj, _matrix(forms[p.source_page], p)) for p in placements}
        graft = Graft(volume, tree, work) if tree is not None and source.tagged else None
        for placement in placements:
            page = volume.pages[placement.page - 1]
            form = forms[placement.source_page]
            _clean_form(form, keep_groups=placement.source_page in transparent)
            placed = volume.copy_foreign(form)
            name = _add_xobject(volume, page, placed, f"/PdfReading{placement.source_page}")
            matrix = targets[placement.source_page][1]
            drawing = f"q {' '.join(_num(v) for v in matrix)} cm {name} Do Q".encode()
            if tree is not None and graft is None:
                drawing = tree.figure(page, placement.source_page, placement.rect, work, drawing)
            page.contents_add(volume.make_stream(drawing + b"\n"), prepend=True)
            annots = _place_links(volume, page, links[placement.source_page], matrix, destinations, targets, src)
            if graft is not None:
                graft.place(
                    src.pages[placement.source_page - 1], page, placed, [(link.annot, annot) for link, annot in annots]
                )
            elif tree is not None:
                tree.links(page, [annot for _, annot in annots])
        if graft is not None:
            graft.finish(src, [volume.pages[p.page - 1] for p in placements])
        _graft_outline(volume, src, work, destinations, targets)


def _graft_outline(volume: pikepdf.Pdf, src: pikepdf.Pdf, work: Work, destinations: dict, targets: dict) -> None:
    """The source's own bookmarks that lead to printed pages, under the
    reading's entry in the volume's outline (one left out gives way to its children)."""
    with src.open_outline() as outline:
        items = _outline_items(list(outline.root), src, destinations, targets)
    if not items:
        return
    with volume.open_outline() as outline:
        entry = next((item for item in outline.root if item.title == work.reading.title), None)
        if entry is not None:
            entry.children.extend(items)


def _outline_items(items: list, src: pikepdf.Pdf, destinations: dict, targets: dict) -> list[pikepdf.OutlineItem]:
    out = []
    for item in items:
        dest = item.destination
        if dest is None and item.action is not None and item.action.get("/S") == "/GoTo":
            dest = item.action.get("/D")
        found = _resolve(dest, destinations, src) if dest is not None else None
        children = _outline_items(list(item.children), src, destinations, targets)
        if found is None or found[0] not in targets:
            out.extend(children)
            continue
        page, matrix = targets[found[0]]
        copy = pikepdf.OutlineItem(item.title, Array([page, *_transform_view(found[1], matrix)]))
        copy.children.extend(children)
        out.append(copy)
    return out


# -- the source page ---------------------------------------------------------------------


def _flatten(src: pikepdf.Pdf) -> None:
    """Annotations that print become page content (form fields with their
    values); the others, which do not print, are dropped with any JavaScript."""
    if "/AcroForm" in src.Root:
        # a field QPDF cannot draw is flattened blank, as it would print
        with contextlib.suppress(pikepdf.PdfError):
            src.generate_appearance_streams()
    src.flatten_annotations("print")
    for page in src.pages:
        if "/Annots" in page.obj:
            del page.obj["/Annots"]
        if "/AA" in page.obj:
            del page.obj["/AA"]


def _clean_form(form: pikepdf.Object, keep_groups: bool) -> None:
    """What PDF/A forbids and printing does not need: a transparency group with
    nothing transparent in it, image interpolation, structure keys of another tree."""
    for stream in _streams(form, set()):
        if not keep_groups and "/Group" in stream:
            del stream["/Group"]
        if stream.get("/Subtype") == "/Image" and "/Interpolate" in stream:
            del stream["/Interpolate"]
        if stream is not form and "/StructParents" in stream:
            del stream["/StructParents"]


def _streams(form: pikepdf.Object, seen: set) -> Iterator[pikepdf.Object]:
    """The form and every form and image it draws, once each."""
    yield form
    resources = form.get("/Resources") or Dictionary()
    for _, xobject in (resources.get("/XObject") or {}).items():
        if xobject.is_indirect and xobject.objgen in seen:
            continue
        if xobject.is_indirect:
            seen.add(xobject.objgen)
        if xobject.get("/Subtype") == "/Form":
            yield from _streams(xobject, seen)
        elif xobject.get("/Subtype") == "/Image":
            yield xobject


def _add_xobject(volume: pikepdf.Pdf, page: pikepdf.Page, form: pikepdf.Object, name: str) -> str:
    """Give the page resources of its own (WeasyPrint's pages share one
    dictionary) and the placed form in them."""
    shared = page.obj.Resources
    resources = Dictionary({k: v for k, v in shared.items() if k != "/XObject"})
    xobjects = Dictionary({k: v for k, v in (shared.get("/XObject") or {}).items()})
    xobjects[name] = form
    resources["/XObject"] = xobjects
    page.obj.Resources = volume.make_indirect(resources)
    return name


def _matrix(form: pikepdf.Object, placement: Placement) -> tuple[float, ...]:
    """The ``cm`` that draws the form at the placement's scale, centred in its box."""
    x0, y0, x1, y1 = (float(v) for v in form.BBox)
    a, b, c, d, e, f = (float(v) for v in form.get("/Matrix", [1, 0, 0, 1, 0, 0]))
    xs = [a * x + c * y + e for x in (x0, x1) for y in (y0, y1)]
    ys = [b * x + d * y + f for x in (x0, x1) for y in (y0, y1)]
    s = placement.scale
    rx0, ry0, rx1, ry1 = placement.rect
    tx = rx0 + (rx1 - rx0 - s * (max(xs) - min(xs))) / 2 - s * min(xs)
    ty = ry0 + (ry1 - ry0 - s * (max(ys) - min(ys))) / 2 - s * min(ys)
    return s, 0.0, 0.0, s, tx, ty


def _num(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".") or "0"


# -- links -------------------------------------------------------------------------------


@dataclass
class Link:
    """A link of the source page: its rectangle and where it goes."""

    rect: tuple[float, float, float, float]
    annot: pikepdf.Object  # the annotation in the source
    uri: str = ""
    dest: object = None  # a destination: explicit array, or a name


def _take_links(page: pikepdf.Page) -> list[Link]:
    """The page's web links and jumps; every other action (JavaScript, launching
    files, remote documents) is left behind, and so is a web link the
    project's own links could not be (``links.external_href``: ``http://``
    without a host, a space or a control character, a port out of range)."""
    out = []
    for annot in page.obj.get("/Annots") or []:
        if annot.get("/Subtype") != "/Link" or "/Rect" not in annot:
            continue
        rect = tuple(float(v) for v in annot.Rect)
        action = annot.get("/A")
        if isinstance(action, Dictionary) and action.get("/S") == "/URI":
            uri = external_href(str(action.get("/URI", "")))
            if uri is not None:
                out.append(Link(rect, annot, uri=uri))
        elif isinstance(action, Dictionary) and action.get("/S") == "/GoTo":
            out.append(Link(rect, annot, dest=action.get("/D")))
        elif action is None and "/Dest" in annot:
            out.append(Link(rect, annot, dest=annot.Dest))
    return out


def _destinations(src: pikepdf.Pdf) -> dict[str, pikepdf.Object]:
    """Named destinations of the source (the name tree and the older /Dests)."""
    out: dict[str, pikepdf.Object] = {}
    names = (src.Root.get("/Names") or {}).get("/Dests")
    if names is not None:
        for key, value in pikepdf.NameTree(names).items():
            out[str(key)] = value
    for key, value in (src.Root.get("/Dests") or {}).items():
        out[str(key)[1:]] = value
    return out


def _resolve(dest, destinations: dict, src: pikepdf.Pdf) -> tuple[int, list] | None:
    """A destination as (source page from 1, view)."""
    if isinstance(dest, pikepdf.String):
        dest = destinations.get(str(dest))
    elif isinstance(dest, Name):
        dest = destinations.get(str(dest)[1:])
    if isinstance(dest, Dictionary):
        dest = dest.get("/D")
    if not isinstance(dest, Array) or len(dest) < 2 or not isinstance(dest[0], Dictionary):
        return None
    for number, page in enumerate(src.pages, 1):
        if page.obj.objgen == dest[0].objgen:
            return number, list(dest[1:])
    return None


def _place_links(
    volume: pikepdf.Pdf,
    page: pikepdf.Page,
    links: list[Link],
    matrix: tuple[float, ...],
    destinations: dict,
    targets: dict[int, tuple[pikepdf.Object, tuple[float, ...]]],
    src: pikepdf.Pdf,
) -> list[tuple[Link, pikepdf.Object]]:
    """The links that still lead somewhere, moved onto the volume page: a jump
    to a page the reading leaves out is removed, never left pointing elsewhere."""
    placed = []
    for link in links:
        annot = Dictionary(
            Type=Name.Annot,
            Subtype=Name.Link,
            Rect=Array([round(v, 3) for v in _transform_rect(link.rect, matrix)]),
            Border=Array([0, 0, 0]),
            F=4,
        )
        if link.uri:
            annot.A = Dictionary(Type=Name.Action, S=Name.URI, URI=pikepdf.String(link.uri))
            described = f"Link to {link.uri}"
        else:
            found = _resolve(link.dest, destinations, src)
            if found is None or found[0] not in targets:
                continue
            target_page, target_matrix = targets[found[0]]
            annot.Dest = Array([target_page, *_transform_view(found[1], target_matrix)])
            described = f"Link to page {_page_number(volume, target_page)}"
        # what the link says to a screen reader (PDF/UA): the source's own description, else where it leads
        source_contents = str(link.annot.get("/Contents", "")).strip()
        annot.Contents = pikepdf.String(source_contents or described)
        annot = volume.make_indirect(annot)
        if "/Annots" not in page.obj:
            page.obj.Annots = Array()
        page.obj.Annots.append(annot)
        placed.append((link, annot))
    return placed


def _page_number(volume: pikepdf.Pdf, page: pikepdf.Object) -> int:
    return next(n for n, p in enumerate(volume.pages, 1) if p.obj.objgen == page.objgen)


def _transform_rect(rect, m) -> tuple[float, float, float, float]:
    a, b, c, d, e, f = m
    xs = [a * x + c * y + e for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
    ys = [b * x + d * y + f for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
    return min(xs), min(ys), max(xs), max(ys)


def _transform_view(view: list, m) -> list:
    """``/XYZ left top zoom`` moved onto the volume page; any other view fits the page."""
    if len(view) >= 3 and view[0] == Name.XYZ:
        a, _, _, d, e, f = m
        left = None if view[1] is None else round(a * float(view[1]) + e, 2)
        top = None if view[2] is None else round(d * float(view[2]) + f, 2)
        return [Name.XYZ, left, top, None]
    return [Name.Fit]
