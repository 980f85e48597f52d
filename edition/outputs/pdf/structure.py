"""The logical structure of a laid-out document, for a tagged PDF.

WeasyPrint marks the content of every text box and image with a marked-content
id (MCID) on its page. This module walks the layout page by page and gives each
MCID its place in a structure tree built from the HTML elements the boxes come
from, not from the boxes: a paragraph split over two pages or wrapped in an
anonymous box is one ``P``, a heading holding an absolutely positioned marker is
one ``H1``. What is not the document's content becomes an artifact: running
heads and folios (margin boxes), leader dots. Footnotes become ``Note`` elements
(with their element id) standing after a ``Reference``/``Link`` for the call;
original-page markers become labelled spans read where ``markers.reading_place``
says; lists and contents get ``L``/``LI``/``LBody`` and ``TOC``/``TOCI``;
table cells get ``Scope``, ids and ``Headers``; every element whose language
differs from its parent's carries ``Lang``.

The mapping is declared as data (``ROLES`` and ``WRAPPERS``) so that any
structure the templates produce (headings of any level, lists, definition
lists, figures, tables of any shape) is tagged without a new code path.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder

from edition.layout.pages import FLOAT_MOVED, is_continued
from edition.outputs.pdf.markers import is_marker, local_name, reading_place

#: PDF points per CSS pixel.
SCALE = 0.75

#: HTML element -> standard structure type (ISO 32000-1, 14.8.4). Elements not
#: listed are transparent: their content belongs to the nearest listed ancestor.
ROLES = {
    "html": "Document",
    "body": "Document",
    "main": "Part",
    "article": "Art",
    "section": "Sect",
    "div": "Div",
    "header": "Div",
    "footer": "Div",
    "aside": "Div",
    "nav": "Div",
    "address": "Div",
    "figure": "Div",
    "p": "P",
    "pre": "P",
    "blockquote": "BlockQuote",
    **{f"h{n}": f"H{n}" for n in range(1, 7)},
    "ul": "L",
    "ol": "L",
    "dl": "L",
    "li": "LI",
    "dt": "Lbl",
    "dd": "LBody",
    "table": "Table",
    "caption": "Caption",
    "figcaption": "Caption",
    "thead": "THead",
    "tbody": "TBody",
    "tfoot": "TFoot",
    "tr": "TR",
    "th": "TH",
    "td": "TD",
    "img": "Figure",
    "svg": "Figure",
    "a": "Link",
    "q": "Quote",
    "code": "Code",
}

#: A kid that a parent may not hold directly is wrapped: parent type ->
#: (types it holds, wrapper type). Content items are always wrapped.
WRAPPERS = {
    "L": ({"LI", "L", "Caption"}, "LI"),
    "LI": ({"Lbl", "LBody"}, "LBody"),
    "TOC": ({"TOCI", "TOC", "Caption"}, "TOCI"),
    "TOCI": ({"Lbl", "Reference", "NonStruct", "P", "TOC"}, "NonStruct"),
    "Table": ({"Caption", "THead", "TBody", "TFoot", "TR"}, "TR"),
    "THead": ({"TR"}, "TR"),
    "TBody": ({"TR"}, "TR"),
    "TFoot": ({"TR"}, "TR"),
    "TR": ({"TH", "TD"}, "TD"),
}

LIST_NUMBERING = {
    "decimal": "Decimal",
    "decimal-leading-zero": "Decimal",
    "lower-roman": "LowerRoman",
    "upper-roman": "UpperRoman",
    "lower-alpha": "LowerAlpha",
    "lower-latin": "LowerAlpha",
    "upper-alpha": "UpperAlpha",
    "upper-latin": "UpperAlpha",
    "disc": "Disc",
    "circle": "Circle",
    "square": "Square",
    "none": "None",
}
SCOPES = {"col": "Column", "colgroup": "Column", "row": "Row", "rowgroup": "Row"}
SOFT_HYPHEN = "\u00ad"
#: The attribute a keyed structure element carries until the chains' PDFs are combined.
KEY = "EditionKey"


@dataclass(frozen=True)
class Mark:
    """A marked-content sequence: the MCID of one box on one page (0-based)."""

    page: int
    mcid: int


@dataclass(frozen=True)
class Artifact:
    """Content that is not the document's: ``Pagination`` (with a ``Header`` or
    ``Footer`` subtype) or ``Layout``."""

    kind: str
    subtype: str = ""


@dataclass(eq=False)
class Node:
    """A structure element: its type, the HTML element it stands for, its
    attributes (``Lang``, ``Alt``, ``ActualText``, ``ID``, ``A``) and kids
    (nodes, marks, and annotation object numbers as ``("annot", page, number)``)."""

    role: str
    element: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    kids: list = field(default_factory=list)
    parent: Node | None = None

    def add(self, kid: Any, index: int | None = None) -> None:
        """Add a kid (at ``index``, else last), inside the wrapper this type needs."""
        holds, wrapper = WRAPPERS.get(self.role, (None, None))
        role = kid.role if isinstance(kid, Node) else None
        if wrapper and (role is None or role not in holds):
            if self.role == "TOCI" and role == "Link":
                wrapper = "Reference"
            target = self.kids[-1] if index is None and self.kids else None
            if not (isinstance(target, Node) and target.role == wrapper and target.element is None):
                target = Node(wrapper)
                self._insert(target, index)
            target.add(kid)
            return
        self._insert(kid, index)

    def _insert(self, kid: Any, index: int | None) -> None:
        if isinstance(kid, Node):
            kid.parent = self
        if index is None:
            self.kids.append(kid)
        else:
            self.kids.insert(index, kid)

    def walk(self) -> Iterator[Node]:
        yield self
        for kid in self.kids:
            if isinstance(kid, Node):
                yield from kid.walk()


@dataclass
class LinkGroup:
    """The link annotations WeasyPrint made for one element on one page (a
    contents entry gets three: its text, its leader, its page number): the
    finisher keeps one, covering them all."""

    page: int
    numbers: list[int]
    node: Node
    contents: str


@dataclass
class NoteCall:
    """A footnote call, to be made a link to its note."""

    page: int
    rect: tuple[float, float, float, float]
    destination: str
    contents: str
    node: Node


@dataclass
class Structure:
    root: Node
    artifacts: dict[tuple[int, int], Artifact] = field(default_factory=dict)
    actual_text: dict[tuple[int, int], str] = field(default_factory=dict)
    links: list[LinkGroup] = field(default_factory=list)
    calls: list[NoteCall] = field(default_factory=list)


ARTIFACT = Node("Artifact")  # the owner of content that is not the document's


def unwrap(box: Any) -> Any:
    return box._box if isinstance(box, AbsolutePlaceholder) else box


def walk_boxes(box: Any) -> Iterator[Any]:
    box = unwrap(box)
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from walk_boxes(child)


class Builder:
    """Builds the ``Structure`` of one write of a document."""

    def __init__(
        self,
        document: Any,
        marks: list[dict[int, Any]],
        links: list[list[tuple[int, Any]]],
        lang: str,
        keyed: bool = False,
    ):
        self.document = document
        self.keyed = keyed  # each element's place in the document as ``EditionKey`` (``outputs.pdf.combine``)
        self.mcids = [{id(box): mcid for mcid, box in page.items()} for page in marks]
        self.recorded_links = links
        self.lang = lang
        html = document.pages[0]._page_box.children[0].element
        self.parents = {id(child): parent for parent in html.iter() for child in parent}
        self.root = Node("Document", html)
        self.nodes: dict[int, Node] = {id(html): self.root}
        self.calls: dict[int, Node] = {}
        self._ids: dict[str, Any] | None = None  # element by id, made when a note runs on
        self.structure = Structure(self.root)
        self.page = 0
        self.caption_calls: dict[int, int] = {}  # id(Table node) -> note calls of its caption read after it
        self.group_pages: dict[int, int] = {}  # id(thead or tfoot element) -> the page it is first set on

    def parent_of(self, element: Any) -> Any:
        return self.parents.get(id(element))

    def build(self) -> Structure:
        for number, page in enumerate(self.document.pages):
            self.page = number
            self._visit(page._page_box)
            self._group_links(number)
        ids = itertools.count(1)
        for node in list(self.root.walk()):
            if node.role == "Table":
                _table_headers(node, ids)
        return self.structure

    # -- the walk -----------------------------------------------------------

    def _visit(self, box: Any, artifact: Artifact | None = None, after_leader: bool = False) -> None:
        box = unwrap(box)
        if isinstance(box, boxes.MarginBox):
            artifact = _margin_artifact(box.at_keyword)
        elif getattr(box, "is_leader", False):
            artifact = Artifact("Layout")
        elif self._repeated_group(box):
            artifact = Artifact("Pagination")
        mcid = self.mcids[self.page].get(id(box))
        if mcid is not None:
            self._content(box, Mark(self.page, mcid), artifact, after_leader)
        for child in getattr(box, "children", ()) or ():
            self._visit(child, artifact, after_leader)
            after_leader = after_leader or getattr(unwrap(child), "is_leader", False)

    def _repeated_group(self, box: Any) -> bool:
        """Whether a box is a table's header (or footer) rows repeated on a
        page after the one they were first set on: the rows are read once,
        where they stand first, and their repeats are pagination artifacts."""
        if not isinstance(box, boxes.TableRowGroupBox) or not (box.is_header or box.is_footer):
            return False
        if box.element is None:
            return False
        first = self.group_pages.setdefault(id(box.element), self.page)
        return first != self.page

    def _content(self, box: Any, mark: Mark, artifact: Artifact | None, after_leader: bool = False) -> None:
        key = (mark.page, mark.mcid)
        owner = ARTIFACT if artifact else self._owner(box)
        if owner is ARTIFACT:
            self.structure.artifacts[key] = artifact or Artifact("Layout")
            return
        owner.add(mark)
        if owner.role == "Figure":
            owner.attrs.setdefault("A", {"O": "Layout", "BBox": self._bbox(box)})
        text = getattr(box, "text", "") or ""
        hyphen = box.style["hyphenate_character"] if isinstance(box, boxes.TextBox) else ""
        if hyphen and text.endswith(hyphen):
            self.structure.actual_text[key] = text[: -len(hyphen)] + SOFT_HYPHEN
        elif after_leader and text and not text[0].isspace():
            # the leader dots are an artifact: the page number after them is read
            # with a space before it ("Engaging the World 3", not "World3")
            self.structure.actual_text[key] = " " + text
        elif text and text.isspace():
            # WeasyPrint draws no glyph for a box that is only a space (between a
            # note call and a link): the space is read all the same, not "republiccongress"
            self.structure.actual_text[key] = " "

    def _owner(self, box: Any) -> Node:
        element = box.element
        if element is None:
            return self.root
        tag = box.element_tag or ""
        pseudo = tag.split("::", 1)[1] if "::" in tag else ""
        if pseudo == "footnote-call":
            return self._call(element, box)
        if pseudo in ("footnote-marker", "marker"):
            return self._label(self.node_for(element, box))
        return self.node_for(element, box)

    # -- elements -> nodes --------------------------------------------------

    def node_for(self, element: Any, box: Any = None) -> Node:
        known = self.nodes.get(id(element))
        if known is not None:
            return known
        parent_element = self.parent_of(element)
        parent = self.node_for(parent_element, None) if parent_element is not None else self.root
        node = ARTIFACT if parent is ARTIFACT else self._create(element, parent, box)
        self.nodes[id(element)] = node
        return node

    def _create(self, element: Any, parent: Node, box: Any) -> Node:
        tag = local_name(element)
        if tag == "body":
            return self.root
        if is_marker(element):
            node = Node("Span", element, {"ActualText": _marker_label(element)})
            self._place_marker(node, element, parent)
            return node
        if tag == "span" and is_continued(element):
            first = self._first_part(element)
            if first is not None:  # a part of a note that runs on: the note's own ``Note``
                return self.node_for(first)
        role = self._role(element, tag, parent, box)
        if role is None:
            return self._language_span(element, parent)
        if tag == "p" and "continued" in (element.get("class") or "").split():
            previous = self._previous_sibling(element)
            if previous is not None and id(previous) in self.nodes:
                return self.nodes[id(previous)]
        node = Node(role, element, self._attrs(element, role, box))
        if self.keyed:
            node.attrs[KEY] = self.key(element)
        if tag == "dt" or (tag == "dd" and not (parent.kids and getattr(parent.kids[-1], "role", "") == "LI")):
            item = Node("LI")
            parent.add(item)
            item.add(node)
        elif tag == "dd":
            parent.kids[-1].add(node)
        else:
            parent.add(node)
        return node

    def _role(self, element: Any, tag: str, parent: Node, box: Any) -> str | None:
        if tag in ("ul", "ol") and self._inside(element, "nav"):
            return "TOC"
        if tag == "li" and parent.role == "TOC":
            return "TOCI"
        if tag == "a" and not element.get("href"):
            return None
        if tag == "img":
            # the reader refuses an image without alt text (md.alt-text); should one
            # reach the layout it stays a Figure without Alt, and no claim is made
            figure = self.parent_of(element)
            if figure is not None and local_name(figure) == "figure" and self._single_image(figure):
                return None  # the figure is the Figure
            return "Figure"
        if tag == "figure" and self._single_image(element):
            return "Figure"
        if tag in ROLES:
            return ROLES[tag]
        if box is not None and isinstance(box, boxes.BlockBox):
            return "Div"
        return None

    def _attrs(self, element: Any, role: str, box: Any) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        lang = self._own_lang(element)
        if lang:
            attrs["Lang"] = lang
        if role == "Figure":
            if _alt(element):
                attrs["Alt"] = _alt(element)
        elif role in ("TH", "TD"):
            attrs["A"] = {"O": "Table"}
            for name, key in (("colspan", "ColSpan"), ("rowspan", "RowSpan")):
                span = _span(element.get(name))
                if span != 1:
                    attrs["A"][key] = span
            if role == "TH" and element.get("scope") in SCOPES:
                attrs["A"]["Scope"] = SCOPES[element.get("scope")]
        elif role == "L" and box is not None:
            attrs["A"] = {"O": "List", "ListNumbering": LIST_NUMBERING.get(box.style["list_style_type"], "None")}
        if element.get("id") and role == "TH":
            attrs["ID"] = element.get("id")
        return attrs

    def _language_span(self, element: Any, parent: Node) -> Node:
        """A transparent element (span, em…) is a ``Span`` when it changes the language."""
        lang = self._own_lang(element)
        if not lang:
            return parent
        node = Node("Span", element, {"Lang": lang})
        parent.add(node)
        return node

    def _own_lang(self, element: Any) -> str:
        """The element's language when it differs from its parent's."""
        lang = element.get("lang") or element.get("{http://www.w3.org/XML/1998/namespace}lang")
        if not lang or element is self.root.element:
            return ""
        return lang if lang != self._lang_of(self.parent_of(element)) else ""

    def _lang_of(self, element: Any) -> str:
        while element is not None:
            lang = element.get("lang")
            if lang:
                return lang
            element = self.parent_of(element)
        return self.lang

    # -- notes, labels, markers ---------------------------------------------

    def _call(self, footnote: Any, box: Any) -> Node:
        """The ``Link`` (in a ``Reference``) a footnote call is read as; the
        ``Note`` stands right after it."""
        link = self.calls.get(id(footnote))
        if link is not None:
            return link
        reference, link = Node("Reference"), Node("Link")
        reference.add(link)
        note = Node("Note", footnote, {"ID": footnote.get("id") or f"note-{len(self.calls) + 1}"})
        holder, index = self._call_place(footnote)
        holder.add(reference, index)
        holder.add(note, None if index is None else index + 1)
        self.nodes[id(footnote)] = note
        self.calls[id(footnote)] = link
        number = "".join(c for c in _box_text(box) if c.isdigit())
        self.structure.calls.append(
            NoteCall(self.page, self._glyph_rect(box), note.attrs["ID"], f"Note {number}", link)
        )
        return link

    def _call_place(self, footnote: Any) -> tuple[Node, int | None]:
        """Where a note's call and its note are read: where the call stands, or,
        for a call in a table's caption, right after the table, so that the
        caption (the table's name) is its words alone ("…, 1971 – 1980", not
        "…, 1971 – 198014" and the note's text)."""
        element = self.parent_of(footnote)
        caption = element
        while caption is not None and local_name(caption) != "caption":
            caption = self.parent_of(caption)
        if caption is None:
            return self.node_for(element), None
        table = self.node_for(self.parent_of(caption))
        holder = table.parent if table.parent is not None else self.root
        earlier = self.caption_calls.get(id(table), 0)  # calls of this caption placed already, in order
        self.caption_calls[id(table)] = earlier + 1
        return holder, holder.kids.index(table) + 1 + 2 * earlier

    def _first_part(self, element: Any) -> Any:
        """The first part (the one with the call) of a note that runs on
        (``<id>-part-2`` continues ``<id>``)."""
        if self._ids is None:
            self._ids = {e.get("id"): e for e in self.root.element.iter() if e.get("id")}
        return self._ids.get((element.get("id") or "").rsplit("-part-", 1)[0])

    def _label(self, node: Node) -> Node:
        if node.kids and isinstance(node.kids[0], Node) and node.kids[0].role == "Lbl":
            return node.kids[0]
        label = Node("Lbl")
        node.add(label, 0)
        return label

    def _place_marker(self, node: Node, element: Any, parent: Node) -> None:
        place = reading_place(element, self.parent_of)
        if place is None:
            parent.add(node)
            return
        target_element, where = place
        target = self.node_for(target_element)
        if where == "end" or target.parent is None:
            target.add(node)
            return
        holder = target.parent
        holder.add(node, holder.kids.index(target))

    # -- helpers ------------------------------------------------------------

    def key(self, element: Any) -> str:
        """Where an element stands in the document, as the indexes of it and
        its ancestors among their siblings (a paragraph's continuation made by
        the page make-up not counted): the same in every chain's layout of
        the document, whatever each chain's make-up did."""
        steps = []
        parent = self.parent_of(element)
        while parent is not None:
            siblings = [
                e for e in parent if isinstance(e.tag, str) and "continued" not in (e.get("class") or "").split()
            ]
            steps.append(next((i for i, e in enumerate(siblings) if e is element), len(siblings)))
            element, parent = parent, self.parent_of(parent)
        return ".".join(map(str, reversed(steps)))

    def _inside(self, element: Any, tag: str) -> bool:
        node = self.parent_of(element)
        while node is not None:
            if local_name(node) == tag:
                return True
            node = self.parent_of(node)
        return False

    def _single_image(self, figure: Any) -> bool:
        return len([e for e in figure.iter() if local_name(e) in ("img", "svg")]) == 1

    def _previous_sibling(self, element: Any) -> Any:
        """The element before ``element``, passing over a figure or table the
        print make-up moved between a paragraph's parts."""
        parent = self.parent_of(element)
        siblings = (
            [e for e in parent if isinstance(e.tag, str) and FLOAT_MOVED not in (e.get("class") or "").split()]
            if parent is not None
            else []
        )
        index = next((i for i, e in enumerate(siblings) if e is element), 0)
        return siblings[index - 1] if index > 0 else None

    def _rect(self, box: Any) -> tuple[float, float, float, float]:
        height = self.document.pages[self.page].height
        x, y = box.position_x, box.position_y
        w, h = box.margin_width(), box.margin_height()
        return (x * SCALE, (height - y - h) * SCALE, (x + w) * SCALE, (height - y) * SCALE)

    def _glyph_rect(self, box: Any) -> tuple[float, float, float, float]:
        """The area a box's glyphs cover: the content boxes of its text (a note
        call is set with ``line-height: 0``, which WeasyPrint gives the text box
        as negative margins, so its margin box has no height at all)."""
        texts = [b for b in walk_boxes(box) if isinstance(b, boxes.TextBox) and b.text]
        if not texts:
            return self._rect(box)
        height = self.document.pages[self.page].height
        left = min(b.content_box_x() for b in texts)
        right = max(b.content_box_x() + b.width for b in texts)
        top = min(b.content_box_y() for b in texts)
        bottom = max(b.content_box_y() + b.height for b in texts)
        return (left * SCALE, (height - bottom) * SCALE, right * SCALE, (height - top) * SCALE)

    def _bbox(self, box: Any) -> list[float]:
        return list(self._rect(box))

    def _group_links(self, page: int) -> None:
        groups: dict[int, list[tuple[int, Any]]] = {}
        for number, box in self.recorded_links[page]:
            if box.element is not None:
                groups.setdefault(id(box.element), []).append((number, box))
        for entries in groups.values():
            element = entries[0][1].element
            node = self.node_for(element)
            if node is ARTIFACT or node.role != "Link":
                continue
            self.structure.links.append(LinkGroup(page, [n for n, _ in entries], node, _link_text(element, entries)))


def _alt(element: Any) -> str:
    """A figure's text alternative: an image's alt, an SVG's title, or those of
    the one image a figure holds."""
    for each in element.iter():
        tag = local_name(each)
        if tag == "img":
            return " ".join((each.get("alt") or "").split())
        if tag == "title":
            return " ".join("".join(each.itertext()).split())
    return ""


def _span(value: str | None) -> int:
    """A colspan or rowspan, as HTML reads it (1 when absent or not a number)."""
    try:
        return max(1, int(value or 1))
    except ValueError:
        return 1


def _margin_artifact(at_keyword: str) -> Artifact:
    if at_keyword.startswith("@top"):
        return Artifact("Pagination", "Header")
    if at_keyword.startswith("@bottom"):
        return Artifact("Pagination", "Footer")
    return Artifact("Pagination")


def _marker_label(element: Any) -> str:
    label = element.get("aria-label") or f"original page {element.get('data-original-page')}"
    return f" ({label}) "


def _box_text(box: Any) -> str:
    return "".join(
        b.text for b in walk_boxes(box) if isinstance(b, boxes.TextBox) and not getattr(b, "is_leader", False)
    )


def _link_text(element: Any, entries: list[tuple[int, Any]]) -> str:
    """What a link says, for its annotation's ``Contents``: its text (or, for a
    link that prints only a page number, its ``aria-label``), and the page
    number generated after it (a contents entry, a cross-reference), all of it
    even when the link wraps onto the next line."""
    own = " ".join("".join(element.itertext()).split()) or " ".join((element.get("aria-label") or "").split())
    parts: list[str] = []
    seen: set[int] = set()
    line = None
    for _, box in entries:
        if "::" not in (box.element_tag or ""):
            continue
        for text in walk_boxes(box):
            if isinstance(text, boxes.TextBox) and id(text) not in seen and not _in_leader(box, text):
                seen.add(id(text))
                if line is not None and text.position_y != line:
                    parts.append(" ")  # the line broke here, at a space the line end took
                parts.append(text.text)
                line = text.position_y
    generated = " ".join("".join(parts).split())
    if generated.isdigit():
        return f"{own}, page {generated}"
    href = element.get("href") or ""
    text = f"{own}{generated}" if generated[:1] in ",.;:" else " ".join(filter(None, [own, generated]))
    if href.startswith(("http://", "https://", "mailto:")) and href not in text:
        text = f"{text} ({href})" if text else href
    return text or href


def _in_leader(root: Any, target: Any) -> bool:
    """Whether ``target`` lies inside a leader box under ``root``."""
    for box in walk_boxes(root):
        if getattr(box, "is_leader", False) and any(b is target for b in walk_boxes(box)):
            return True
    return False


def _table_headers(table: Node, ids: Iterator[int]) -> None:
    """Give every header cell a scope and an id, and every data cell the ids of
    its row's and its column's header cells (after rowspan and colspan)."""
    rows = [n for n in table.walk() if n.role == "TR" and _table_of(n) is table]
    taken: dict[tuple[int, int], Node] = {}
    grid: list[list[tuple[int, Node]]] = []
    for r, row in enumerate(rows):
        c, cells = 0, []
        for cell in (k for k in row.kids if isinstance(k, Node) and k.role in ("TH", "TD")):
            while (r, c) in taken:
                c += 1
            spans = cell.attrs.get("A", {})
            for dr in range(spans.get("RowSpan", 1)):
                for dc in range(spans.get("ColSpan", 1)):
                    taken[(r + dr, c + dc)] = cell
            cells.append((c, cell))
            c += spans.get("ColSpan", 1)
        grid.append(cells)
    for r, cells in enumerate(grid):
        in_head = rows[r].parent is not None and rows[r].parent.role == "THead"
        for c, cell in cells:
            if cell.role != "TH":
                continue
            attrs = cell.attrs.setdefault("A", {"O": "Table"})
            attrs.setdefault("Scope", "Column" if in_head or c > 0 else "Row")
            if "ID" not in cell.attrs:
                cell.attrs["ID"] = f"header-cell-{next(ids)}"
    for r, cells in enumerate(grid):
        for c, cell in cells:
            if cell.role != "TD":
                continue
            headers = []
            for (hr, hc), header in taken.items():
                if header.role != "TH" or header is cell:
                    continue
                scope = header.attrs["A"]["Scope"]
                same_row = scope in ("Row", "Both") and hr == r and hc < c
                same_column = scope in ("Column", "Both") and hc == c and hr < r
                if (same_row or same_column) and header.attrs["ID"] not in headers:
                    headers.append(header.attrs["ID"])
            cell.attrs.setdefault("A", {"O": "Table"})["Headers"] = headers


def _table_of(node: Node) -> Node | None:
    parent = node.parent
    while parent is not None and parent.role != "Table":
        parent = parent.parent
    return parent
