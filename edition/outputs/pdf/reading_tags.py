"""The structure tree of a volume with PDF readings (see ``pdfpages``).

WeasyPrint tags each placeholder page with one empty ``Art`` element. An
untagged source page turns it into a ``Figure`` with a text alternative; a
tagged source's own structure is copied into the volume's tree under one
``Part`` (``Graft``), its marked content reached through the placed forms.
"""

from __future__ import annotations

import zlib

import pikepdf
from pikepdf import Array, Dictionary, Name

from edition.model import Work


class StructTree:
    """The volume's structure tree as WeasyPrint wrote it: each placeholder page
    holds one empty ``Art`` element (the ``article.pdf-page``)."""

    def __init__(self, volume: pikepdf.Pdf) -> None:
        self.volume = volume
        self.root = volume.Root.StructTreeRoot
        self.parents = pikepdf.NumberTree(self.root.ParentTree)
        self.next_key = (
            max([int(k) for k, _ in self.parents.items()] + [int(self.root.get("/ParentTreeNextKey", 0)) - 1]) + 1
        )
        self.placeholders: dict[tuple[int, int], tuple[pikepdf.Object, pikepdf.Object]] = {}
        self._numbers: dict[tuple[int, int], int] = {}
        self._numbers_for = -1
        self._find(self.root)

    def _find(self, element: pikepdf.Object) -> None:
        kids = element.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, Array) else [kids]:
            if not isinstance(kid, Dictionary) or kid.get("/Type") in ("/MCR", "/OBJR"):
                continue
            if kid.get("/S") == "/Art" and "/Pg" in kid and len(kid.get("/K") or []) == 0:
                self.placeholders[kid.Pg.objgen] = (kid, element)
            else:
                self._find(kid)

    def key(self) -> int:
        key = self.next_key
        self.next_key += 1
        return key

    def placeholder(self, page: pikepdf.Page) -> tuple[pikepdf.Object, pikepdf.Object]:
        """The page's placeholder element and its parent. Should a finisher
        have dropped it (it is empty), a new one stands among the top-level
        elements after the last one on an earlier page."""
        if page.obj.objgen not in self.placeholders:
            document = self.root.K[0] if isinstance(self.root.K, Array) else self.root.K
            kids = document.K if isinstance(document.K, Array) else Array([document.K])
            numbers = self._page_numbers
            number = numbers[page.obj.objgen]
            at = sum(1 for k in kids if numbers.get(_first_page(k), 0) <= number)
            element = self.volume.make_indirect(
                Dictionary(Type=Name.StructElem, S=Name.Art, P=document, Pg=page.obj, K=Array())
            )
            kids.insert(at, element)
            document.K = kids
            self.placeholders[page.obj.objgen] = (element, document)
        return self.placeholders[page.obj.objgen]

    @property
    def _page_numbers(self) -> dict[tuple[int, int], int]:
        """Page numbers by page object, made again only when the page count
        changes (a 300-page scan asks for them once per page)."""
        count = len(self.volume.pages)
        if self._numbers_for != count:
            self._numbers = {p.obj.objgen: n for n, p in enumerate(self.volume.pages, 1)}
            self._numbers_for = count
        return self._numbers

    def figure(
        self, page: pikepdf.Page, source_page: int, rect: tuple[float, ...], work: Work, drawing: bytes
    ) -> bytes:
        """An untagged source page: a Figure with a text alternative, its
        drawing marked as the figure's content."""
        element, _ = self.placeholder(page)
        mcids = self.parents[int(page.obj.StructParents)]
        mcid = len(mcids)
        mcids.append(element)
        element.S = Name.Figure
        element.K = Array([mcid])
        element.Alt = pikepdf.String(
            f"Page {source_page} of the PDF of “{work.reading.title}”, printed as a picture of the page: "
            "the PDF has no tags, so its text is not marked up here"
        )
        element.A = Dictionary(O=Name.Layout, BBox=Array(list(rect)))
        return b"/Figure <</MCID %d>> BDC " % mcid + drawing + b" EMC"

    def links(self, page: pikepdf.Page, annots: list[pikepdf.Object]) -> None:
        """Link elements for the links of an untagged source page, after its
        Figure, each with a text alternative saying where it leads."""
        figure, parent = self.placeholder(page)
        kids = parent.K if isinstance(parent.K, Array) else Array([parent.K])
        at = next(i for i, k in enumerate(kids) if k.objgen == figure.objgen) + 1
        numbers = self._page_numbers
        for annot in annots:
            alt = f"Link to {annot.A.URI}" if "/A" in annot else f"Link to page {numbers[annot.Dest[0].objgen]}"
            key = self.key()
            element = self.volume.make_indirect(
                Dictionary(
                    Type=Name.StructElem,
                    S=Name.Link,
                    P=parent,
                    Pg=page.obj,
                    K=Array([Dictionary(Type=Name.OBJR, Obj=annot, Pg=page.obj)]),
                    Alt=pikepdf.String(alt),
                )
            )
            annot.StructParent = key
            self.parents[key] = element
            kids.insert(at, element)
            at += 1
        parent.K = kids

    def remove(self, page: pikepdf.Page) -> None:
        element, parent = self.placeholder(page)
        parent.K = Array([k for k in parent.K if not (isinstance(k, Dictionary) and k.objgen == element.objgen)])

    def finish(self) -> None:
        self.root.ParentTreeNextKey = self.next_key


def _first_page(element) -> tuple[int, int] | None:
    """The page of an element's first content, as far as its /Pg entries say."""
    if not isinstance(element, Dictionary):
        return None
    if "/Pg" in element:
        return element.Pg.objgen
    kids = element.get("/K")
    for kid in kids if isinstance(kids, Array) else [kids] if kids is not None else []:
        found = _first_page(kid)
        if found is not None:
            return found
    return None


#: Keys of a source structure element that are copied as they are.
ELEMENT_KEYS = ("/S", "/Alt", "/ActualText", "/E", "/Lang", "/T", "/C", "/R")


class Graft:
    """A tagged source's structure, copied into the volume's tree.

    Marked content of a source page is referred to through the form XObject
    that draws it (``/MCR`` with ``/Stm``); each form gets a parent-tree key.
    Elements with nothing on the pages the reading uses are left out."""

    def __init__(self, volume: pikepdf.Pdf, tree: StructTree, work: Work) -> None:
        self.volume = volume
        self.tree = tree
        self.work = work
        self.pages: dict[tuple[int, int], tuple[pikepdf.Object, pikepdf.Object]] = {}  # source page -> (page, form)
        self.annots: dict[tuple[int, int], pikepdf.Object] = {}  # source annotation -> volume annotation
        self.mcids: dict[tuple[int, int], dict[int, pikepdf.Object]] = {}  # form -> MCID -> element
        self.ids: dict[str, pikepdf.Object] = {}  # the copied elements' IDs (renamed) -> element

    def place(
        self,
        source_page: pikepdf.Page,
        page: pikepdf.Page,
        form: pikepdf.Object,
        annots: list[tuple[pikepdf.Object, pikepdf.Object]],
    ) -> None:
        """Where a source page went: the volume page, the placed form, and each
        of its link annotations (source, volume)."""
        self.pages[source_page.obj.objgen] = (page.obj, form)
        for source, annot in annots:
            self.annots[source.objgen] = annot

    def finish(self, src: pikepdf.Pdf, pages: list[pikepdf.Page]) -> None:
        """Copy the source tree under the first placeholder (made a ``Part``);
        the other placeholders go."""
        part, _ = self.tree.placeholder(pages[0])  # the Part stands where the first page's placeholder was
        for page in pages[1:]:
            self.tree.remove(page)
        top = src.Root.StructTreeRoot.get("/K")
        tops = list(top) if isinstance(top, Array) else [top] if top is not None else []
        if len(tops) == 1 and tops[0].get("/S") == "/Document":  # the source's own Document: its children
            kid = tops[0].get("/K")
            tops = list(kid) if isinstance(kid, Array) else [kid]
        part.S = Name.Part
        part.T = pikepdf.String(self.work.reading.title)
        part.K = Array([e for e in (self._copy(t, None, part) for t in tops) if e is not None])
        self._merge_maps(src.Root.StructTreeRoot)
        self._index_ids()
        for _, form in self.pages.values():
            _artifacts(form, set(self.mcids.get(form.objgen, {})))
        for objgen, mcids in self.mcids.items():
            form = self.volume.get_object(objgen)
            key = self.tree.key()
            form.StructParents = key
            self.tree.parents[key] = Array([mcids.get(n) for n in range(max(mcids) + 1)])

    def _copy(
        self, element: pikepdf.Object, page: pikepdf.Object | None, parent: pikepdf.Object
    ) -> pikepdf.Object | None:
        if isinstance(element, int) or not isinstance(element, Dictionary) or "/S" not in element:
            return None
        page = element.get("/Pg", page)
        new = self.volume.make_indirect(Dictionary(Type=Name.StructElem, P=parent))
        for key in ELEMENT_KEYS:
            if key in element:
                new[key] = _plain(element[key])
        if "/ID" in element:
            new.ID = pikepdf.String(f"{self.work.slug}-{element.ID}")
            self.ids[str(new.ID)] = new
        if "/A" in element:
            new.A = _attributes(element.A, self.work.slug)
        kids = element.get("/K")
        out = Array()
        for kid in kids if isinstance(kids, Array) else [kids] if kids is not None else []:
            made = self._kid(kid, page, new)
            if made is not None:
                out.append(made)
        if not len(out):
            return None
        new.K = out
        if new.get("/S") == "/Link" and not any(isinstance(k, Dictionary) and k.get("/Type") == "/OBJR" for k in out):
            new.S = Name.Span  # its link led to a page the reading leaves out: now plain text
        return new

    def _kid(self, kid, page, parent: pikepdf.Object):
        if isinstance(kid, int):
            return self._mcr(kid, page, None, parent)
        if not isinstance(kid, Dictionary):
            return None
        if kid.get("/Type") == "/MCR":
            return self._mcr(int(kid.MCID), kid.get("/Pg", page), kid.get("/Stm"), parent)
        if kid.get("/Type") == "/OBJR":
            annot = self.annots.get(kid.Obj.objgen) if "/Obj" in kid else None
            if annot is None:
                return None
            key = self.tree.key()
            annot.StructParent = key
            self.tree.parents[key] = parent
            return Dictionary(Type=Name.OBJR, Obj=annot, Pg=self._volume_page(kid.get("/Pg", page)))
        return self._copy(kid, page, parent)

    def _mcr(self, mcid: int, page, stream, parent: pikepdf.Object):
        if page is None or page.objgen not in self.pages:
            return None  # content on a page the reading leaves out
        volume_page, form = self.pages[page.objgen]
        if stream is not None:  # content in a form the page draws: the copy of that form
            form = self.volume.copy_foreign(stream)
        self.mcids.setdefault(form.objgen, {})[mcid] = parent
        return Dictionary(Type=Name.MCR, Pg=volume_page, Stm=form, MCID=mcid)

    def _volume_page(self, page) -> pikepdf.Object | None:
        return self.pages[page.objgen][0] if page is not None and page.objgen in self.pages else None

    def _index_ids(self) -> None:
        """The copied elements' IDs in the volume's ID tree, where a table's
        ``Headers`` are looked up (ISO 32000-1, 14.7.2)."""
        if not self.ids:
            return
        if "/IDTree" not in self.tree.root:
            self.tree.root.IDTree = pikepdf.NameTree.new(self.volume).obj
        index = pikepdf.NameTree(self.tree.root.IDTree)
        for name, element in self.ids.items():
            index[name] = element

    def _merge_maps(self, src_root: pikepdf.Object) -> None:
        """The source's role and class maps, where the volume has no entry of that name."""
        for key in ("/RoleMap", "/ClassMap"):
            if key not in src_root:
                continue
            mine = self.tree.root.get(key)
            if mine is None:
                mine = self.tree.root[key] = Dictionary()
            for name, value in src_root[key].items():
                if name not in mine:
                    mine[name] = _plain(value)


def _artifacts(form: pikepdf.Object, referenced: set[int]) -> None:
    """Marked content the source's own tree never refers to (WeasyPrint leaves
    its running heads so) is marked as an artifact: the drawing is untouched."""
    orphans = [
        op
        for op in pikepdf.parse_content_stream(form, "BDC")
        if isinstance(op.operands[1], Dictionary) and int(op.operands[1].get("/MCID", -1)) not in referenced | {-1}
    ]
    if not orphans:
        return
    instructions = []
    for operands, operator in pikepdf.parse_content_stream(form):
        tagged = str(operator) == "BDC" and isinstance(operands[1], Dictionary) and "/MCID" in operands[1]
        if tagged and int(operands[1].MCID) not in referenced:
            operands = [Name.Artifact, Dictionary()]
        instructions.append((operands, operator))
    form.write(zlib.compress(pikepdf.unparse_content_stream(instructions)), filter=Name.FlateDecode)


def _plain(value, depth: int = 0):
    """A direct copy of a value of another PDF (no references into it)."""
    if depth > 20 or isinstance(value, pikepdf.Stream):
        return None
    if isinstance(value, Dictionary):
        return Dictionary({k: _plain(v, depth + 1) for k, v in value.items() if k not in ("/P", "/Pg", "/NS")})
    if isinstance(value, Array):
        return Array([_plain(v, depth + 1) for v in value])
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return _plain(value.get_object() if hasattr(value, "get_object") else value, depth + 1)
    return value


def _attributes(value, prefix: str):
    """Attribute objects, with the IDs table headers refer to made unique in the volume."""
    copied = _plain(value)
    for attributes in copied if isinstance(copied, Array) else [copied]:
        if isinstance(attributes, Dictionary) and "/Headers" in attributes:
            attributes.Headers = Array([pikepdf.String(f"{prefix}-{h}") for h in attributes.Headers])
    return copied
