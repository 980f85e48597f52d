"""What a tagged PDF holds, read for the PDF/UA checker: its structure tree
(elements, their content items and annotations) and its marked content, page
by page and through form XObjects, with each sequence's text (decoded with the
fonts' ToUnicode maps, read by pdfminer's CMap parser) and baselines."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import pikepdf
from pdfminer.cmapdb import CMapParser, FileUnicodeMap

#: ISO 32000-1 standard structure types.
STANDARD = {
    *("Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index", "NonStruct"),
    *("Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl", "LBody"),
    *("Table", "TR", "TH", "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note", "Reference", "BibEntry"),
    *("Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu", "WT", "WP", "Figure", "Formula", "Form"),
}
Key = tuple[int, "tuple[int, int] | None", int]  # (page, form or None, MCID)
PAINT = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "Do", "INLINE IMAGE"}
TEXT_SHOW = {"Tj", "TJ", "'", '"'}


@dataclass
class Sequence:
    """A marked-content sequence (``tag`` '' for graphics drawn outside any)."""

    page: int
    tag: str
    props: dict
    parent: Sequence | None
    stream: tuple[int, int] | None = None  # a form XObject with its own parent-tree key, else the page
    text: str = ""
    graphics: bool = False
    baselines: list[float] = field(default_factory=list)

    @property
    def mcid(self) -> int | None:
        value = self.props.get("/MCID")
        return int(value) if value is not None else None

    @property
    def key(self) -> Key:
        """Where the structure tree finds this content: page, stream, MCID."""
        return (self.page, self.stream, self.mcid)

    def ancestors(self) -> Iterator[Sequence]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    @property
    def artifact(self) -> bool:
        return self.tag == "Artifact" or any(a.tag == "Artifact" for a in self.ancestors())

    def tagged(self) -> Sequence | None:
        """The sequence with an MCID this content belongs to, if any."""
        if self.mcid is not None:
            return self
        return next((a for a in self.ancestors() if a.mcid is not None), None)


@dataclass
class Element:
    obj: pikepdf.Dictionary
    role: str
    parent: Element | None
    kids: list = field(default_factory=list)  # Element | ("mcid", Key) | ("objr", annotation)

    def walk(self) -> Iterator[Element]:
        yield self
        for kid in self.kids:
            if isinstance(kid, Element):
                yield from kid.walk()

    def elements(self) -> list[Element]:
        return [k for k in self.kids if isinstance(k, Element)]

    def content(self) -> list[Key]:
        """The keys of the marked content this element holds directly."""
        return [k[1] for k in self.kids if not isinstance(k, Element) and k[0] == "mcid"]

    def annotations(self) -> list[pikepdf.Object]:
        return [k[1] for k in self.kids if not isinstance(k, Element) and k[0] == "objr"]


class File:
    def __init__(self, pdf: pikepdf.Pdf) -> None:
        self.pdf = pdf
        self.pages = [p.obj for p in pdf.pages]
        self.page_index = {p.objgen: i for i, p in enumerate(self.pages)}
        self._unicode_maps: dict[tuple[int, int], FileUnicodeMap | None] = {}
        self.unmapped = False  # a character code without Unicode, found while reading the content

    @cached_property
    def role_map(self) -> dict[str, str]:
        root = self.pdf.Root.get("/StructTreeRoot")
        role_map = (root or {}).get("/RoleMap") or {}
        return {str(k)[1:]: str(v)[1:] for k, v in role_map.items()}

    def standard(self, role: str) -> str:
        seen = set()
        while role not in STANDARD and role in self.role_map and role not in seen:
            seen.add(role)
            role = self.role_map[role]
        return role

    @cached_property
    def id_index(self) -> dict[str, tuple[int, int]]:
        """The structure tree's ID tree: element ID -> the element's object."""
        root = self.pdf.Root.get("/StructTreeRoot")
        if root is None or "/IDTree" not in root:
            return {}
        return {str(k): v.objgen for k, v in pikepdf.NameTree(root.IDTree).items()}

    @cached_property
    def tree(self) -> Element | None:
        root = self.pdf.Root.get("/StructTreeRoot")
        if root is None or "/K" not in root:
            return None
        top = Element(root, "StructTreeRoot", None)
        self._kids(top, root.K, None)
        return top

    def _kids(self, element: Element, kids, page) -> None:
        items = list(kids) if isinstance(kids, pikepdf.Array) else [kids]
        page = element.obj.get("/Pg", page) if element.role != "StructTreeRoot" else None
        for kid in items:
            if isinstance(kid, int):
                element.kids.append(("mcid", (self._page(page), None, int(kid))))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                stream = kid.Stm.objgen if "/Stm" in kid else None
                element.kids.append(("mcid", (self._page(kid.get("/Pg", page)), stream, int(kid.MCID))))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                element.kids.append(("objr", kid.Obj))
            elif isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                child = Element(kid, self.standard(str(kid.S)[1:]), element)
                element.kids.append(child)
                self._kids(child, kid.get("/K", pikepdf.Array()), page)

    def _page(self, page) -> int | None:
        return self.page_index.get(page.objgen) if page is not None else None

    @cached_property
    def elements(self) -> list[Element]:
        return [e for e in self.tree.walk() if e.role != "StructTreeRoot"] if self.tree else []

    @cached_property
    def sequences(self) -> list[Sequence]:
        out: list[Sequence] = []
        for number, page in enumerate(self.pdf.pages):
            reader = _ContentReader(self, number)
            reader.read(page.obj, pikepdf.parse_content_stream(page), [1.0, 0, 0, 1.0, 0, 0], None)
            out += reader.out
            self.unmapped |= reader.unmapped
        return out

    def fonts(self, resources: pikepdf.Object) -> dict[str, tuple[int, FileUnicodeMap | None]]:
        """Font resource name -> (bytes per code, ToUnicode map)."""
        fonts = {}
        for name, font in (resources.get("/Font") or {}).items():
            if font.objgen not in self._unicode_maps:
                self._unicode_maps[font.objgen] = _unicode_map(font)
            width = 2 if font.get("/Subtype") == "/Type0" else 1
            fonts[name] = (width, self._unicode_maps[font.objgen])
        return fonts

    @cached_property
    def mcid_text(self) -> dict[Key, str]:
        """The text of each tagged sequence, nested sequences included; an
        ActualText stands for the text it replaces."""
        out: dict[tuple[int, int], str] = {}
        for seq in self.sequences:
            owner = seq.tagged()
            if owner is None:
                continue
            key = owner.key
            if "/ActualText" in owner.props:
                out[key] = str(owner.props["/ActualText"])
            else:
                out[key] = out.get(key, "") + seq.text
        return out

    def text_of(self, element: Element) -> str:
        """The text an element's content items hold, in order (ActualText wins)."""
        out = []
        for kid in element.kids:
            if isinstance(kid, Element):
                actual = kid.obj.get("/ActualText")
                out.append(str(actual) if actual is not None else self.text_of(kid))
            elif kid[0] == "mcid":
                out.append(self.mcid_text.get(kid[1], ""))
        return "".join(out)


def _unicode_map(font: pikepdf.Dictionary) -> FileUnicodeMap | None:
    stream = font.get("/ToUnicode")
    if stream is None:
        return None
    cmap = FileUnicodeMap()
    CMapParser(cmap, io.BytesIO(stream.read_bytes())).run()
    return cmap


_HEX_STRING = re.compile(rb"<([0-9A-Fa-f\s]*)>")


def _tj_bytes(array: pikepdf.Object) -> bytes:
    """The strings of a TJ array, joined. Read from the array's unparsed form
    when it holds only hex strings, empty strings and numbers (as WeasyPrint
    writes glyph ids): one call into qpdf instead of one per element."""
    raw = array.unparse()
    if raw.startswith(b"[") and raw.endswith(b"]"):
        rest = _HEX_STRING.sub(b" ", raw[1:-1]).replace(b"()", b" ")
        if not rest.strip(b" \t\r\n\f-+.0123456789"):
            strings = [found.translate(None, b" \t\r\n\f") for found in _HEX_STRING.findall(raw)]
            return bytes.fromhex(b"".join(h + b"0" if len(h) % 2 else h for h in strings).decode("ascii"))
    return b"".join(bytes(i) for i in array if isinstance(i, pikepdf.String))


def _decode(data: bytes, width: int, cmap: FileUnicodeMap | None) -> tuple[str, bool]:
    """The text of a string shown in a font, and whether every code mapped."""
    if cmap is None:
        return "", not data
    table = cmap.cid2unichr
    codes = [int.from_bytes(data[i : i + width], "big") for i in range(0, len(data) - width + 1, width)]
    chars = [table.get(code) for code in codes]
    return "".join(c for c in chars if c is not None), None not in chars


def _multiply(a: list[float], b: list[float]) -> list[float]:
    return [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]


class _ContentReader:
    """Reads a page's content stream, and the form XObjects it draws, into
    marked-content sequences (and one per run of graphics drawn outside any),
    with their text and text baselines."""

    def __init__(self, file: File, page: int) -> None:
        self.file = file
        self.page = page
        self.out: list[Sequence] = []
        self.unmapped = False
        self.loose: Sequence | None = None

    def read(
        self, holder: pikepdf.Object, ops, ctm: list[float], parent: Sequence | None, stream: tuple | None = None
    ) -> None:
        resources = holder.get("/Resources") or {}
        fonts = self.file.fonts(resources)
        xobjects = resources.get("/XObject") or {}
        stack: list[Sequence | None] = [parent]
        ctm_stack: list[list[float]] = []
        tm, font = [1.0, 0, 0, 1.0, 0, 0], (1, None)
        for instruction in ops:
            op = str(instruction.operator) if hasattr(instruction, "operator") else "INLINE IMAGE"
            operands = getattr(instruction, "operands", [])
            if op in ("BDC", "BMC"):
                props = operands[1] if op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) else {}
                seq = Sequence(self.page, str(operands[0])[1:], dict(props.items()) if props else {}, stack[-1], stream)
                self.out.append(seq)
                stack.append(seq)
                continue
            if op == "EMC":
                if len(stack) > 1:
                    stack.pop()
                continue
            if op == "q":
                ctm_stack.append(ctm)
            elif op == "Q" and ctm_stack:
                ctm = ctm_stack.pop()
            elif op == "cm":
                ctm = _multiply([float(v) for v in operands], ctm)
            elif op == "BT":
                tm = [1.0, 0, 0, 1.0, 0, 0]
            elif op == "Tm":
                tm = [float(v) for v in operands]
            elif op in ("Td", "TD"):
                tm = _multiply([1, 0, 0, 1, float(operands[0]), float(operands[1])], tm)
            elif op == "Tf":
                font = fonts.get(str(operands[0]), (1, None))
            elif op == "Do":
                xobject = xobjects.get(str(operands[0]))
                if xobject is not None and xobject.get("/Subtype") == "/Form":
                    matrix = [float(v) for v in xobject.get("/Matrix", [1, 0, 0, 1, 0, 0])]
                    # a form keyed in the parent tree holds MCIDs of its own; any other shares the page's
                    inner = xobject.objgen if "/StructParents" in xobject else stream
                    self.read(xobject, pikepdf.parse_content_stream(xobject), _multiply(matrix, ctm), stack[-1], inner)
                    continue
            if op in TEXT_SHOW or op in PAINT:
                self._paint(stack[-1], op, operands, font, _multiply(tm, ctm)[5])

    def _paint(self, current: Sequence | None, op: str, operands, font, baseline: float) -> None:
        if current is None:
            if self.loose is None:
                self.loose = Sequence(self.page, "", {}, None)
                self.out.append(self.loose)
            current = self.loose
        if op not in TEXT_SHOW:
            current.graphics = True
            return
        shown = _tj_bytes(operands[0]) if op == "TJ" else bytes(operands[-1])
        text, complete = _decode(shown, *font)
        current.text += text
        self.unmapped |= not complete
        current.baselines.append(baseline)
