"""A structural PDF/UA-1 checker: one rule per Matterhorn Protocol failure
condition that a machine can check, read from the file alone (pikepdf for the
objects and content streams, pdfminer's CMap parser for ToUnicode; see
``pdfua_read``).

The build runs it on every print PDF and PDF/A and claims PDF/UA-1 only when it
passes; the tests run it too, and break each rule once to see it fail. Which
Matterhorn conditions each rule covers, and which ones only a person (or
veraPDF / PAC) can judge, is listed in the README ("Accessibility").
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf

from edition.outputs.checks.pdfua_read import STANDARD, Element, File

HEADINGS = {f"H{n}" for n in range(1, 7)}
LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?(-[A-Za-z0-9]{5,8}|-\d[A-Za-z0-9]{3})*$")
MARKER_TEXT = re.compile(r"^\s*\[\d+\]\s*$")
LEADERS = re.compile(r"(\.\s*){4,}")
#: The band at the top and bottom of a page where running heads and folios stand.
FURNITURE_BAND = 43.2  # points: 0.6 in from the trim edge
HYPHENATE = "\u2010"
#: Rules that state a claim rather than check structure: the build checks
#: every other rule before it makes the claim.
CLAIMS = ("pdfua_identification",)


# -- the rules ------------------------------------------------------------------------

Rule = Callable[[File], bool]


def pdfua_identification(f: File) -> bool:
    """06-002: the XMP identifies the file as PDF/UA-1."""
    if "/Metadata" not in f.pdf.Root:
        return False
    return f.pdf.open_metadata(set_pikepdf_as_editor=False).get("pdfuaid:part") == "1"


def xmp_title(f: File) -> bool:
    """06-001, 06-003: an XMP metadata stream with a dc:title."""
    if "/Metadata" not in f.pdf.Root:
        return False
    title = f.pdf.open_metadata(set_pikepdf_as_editor=False).get("dc:title")
    return bool(title and str(title).strip())


def display_doc_title(f: File) -> bool:
    """07-001, 07-002: ViewerPreferences DisplayDocTitle is true."""
    prefs = f.pdf.Root.get("/ViewerPreferences")
    return prefs is not None and prefs.get("/DisplayDocTitle") is True


def tagged(f: File) -> bool:
    """01-007 and the premise of every other rule: MarkInfo Marked true, no
    Suspects, a structure tree."""
    mark = f.pdf.Root.get("/MarkInfo")
    return (
        mark is not None
        and mark.get("/Marked") is True
        and mark.get("/Suspects") is not True
        and f.tree is not None
        and bool(f.elements)
    )


def document_language(f: File) -> bool:
    """11-001 to 11-007: the catalog's Lang is a language tag (so every text,
    Alt, ActualText, annotation and outline entry has a language), and every
    Lang in the tree is a well-formed tag."""
    lang = str(f.pdf.Root.get("/Lang", ""))
    if not LANG_TAG.match(lang):
        return False
    return all(LANG_TAG.match(str(e.obj.Lang)) for e in f.elements if "/Lang" in e.obj)


def standard_types(f: File) -> bool:
    """02-001, 02-003, 02-004: every type is standard or maps to one, without
    remapping a standard type or a circular mapping."""
    if any(role in STANDARD for role in f.role_map):
        return False
    return all(e.role in STANDARD for e in f.elements)


def content_tagged_or_artifact(f: File) -> bool:
    """01-005: all content is either real content (in a sequence with an MCID)
    or an artifact."""
    for seq in f.sequences:
        if not (seq.text or seq.graphics):
            continue
        if not seq.artifact and seq.tagged() is None:
            return False
    return True


def artifacts_and_content_apart(f: File) -> bool:
    """01-003, 01-004: no artifact inside tagged content, no tagged content
    inside an artifact."""
    for seq in f.sequences:
        if seq.tag == "Artifact" and any(a.mcid is not None for a in seq.ancestors()):
            return False
        if seq.mcid is not None and any(a.tag == "Artifact" for a in seq.ancestors()):
            return False
    return True


def marked_content_in_tree(f: File) -> bool:
    """01-005 (the other half): every MCID on a page (or in a form keyed in the
    parent tree) belongs to exactly one structure element, and the parent tree
    says which."""
    in_content = {s.key for s in f.sequences if s.mcid is not None}
    owners: dict = {}
    for element in f.elements:
        for key in element.content():
            if key in owners:
                return False
            owners[key] = element
    if in_content != set(owners):
        return False
    parent_tree = _parent_tree(f)
    for (page, stream, mcid), element in owners.items():
        holder = f.pages[page] if stream is None else f.pdf.get_object(stream)
        found = parent_tree.get(holder.get("/StructParents"))
        if not isinstance(found, pikepdf.Array) or mcid >= len(found) or found[mcid].objgen != element.obj.objgen:
            return False
    return True


def _parent_tree(f: File) -> dict:
    tree = f.pdf.Root.StructTreeRoot.get("/ParentTree")
    return dict(pikepdf.NumberTree(tree).items()) if tree is not None else {}


def headings(f: File) -> bool:
    """14-002, 14-003, 14-007: numbered headings only, the first an H1, no level
    skipped on the way down; and no heading inside a heading."""
    levels = [int(e.role[1]) for e in f.elements if e.role in HEADINGS]
    if any(e.role == "H" for e in f.elements) and levels:
        return False
    if levels and levels[0] != 1:
        return False
    if any(b > a + 1 for a, b in zip(levels, levels[1:], strict=False)):
        return False
    return not any(
        e.role in HEADINGS and any(d.role in HEADINGS or d.role == "H" for d in e.walk() if d is not e)
        for e in f.elements
    )


def _kids_within(f: File, parent_roles: dict[str, set[str]]) -> bool:
    """Elements of the given types hold only elements of the allowed types
    (no content item directly)."""
    for element in f.elements:
        allowed = parent_roles.get(element.role)
        if allowed is None:
            continue
        for kid in element.kids:
            if not isinstance(kid, Element) or kid.role not in allowed:
                return False
    return True


def table_structure(f: File) -> bool:
    """09-004: tables are built as ISO 32000-1 Table 337 says (rows in the
    table or its groups, cells in rows)."""
    return _kids_within(
        f,
        {
            "Table": {"TR", "THead", "TBody", "TFoot", "Caption"},
            "THead": {"TR"},
            "TBody": {"TR"},
            "TFoot": {"TR"},
            "TR": {"TH", "TD"},
        },
    ) and all(e.parent is not None and e.parent.role == "TR" for e in f.elements if e.role in ("TH", "TD"))


def table_headers(f: File) -> bool:
    """15-003, 15-005: every table has header cells; each TH has a Scope or an
    ID its data cells name in Headers, and every Headers id is a TH of the table,
    found under that ID in the structure tree's ID tree (where a reader looks it up)."""
    for table in (e for e in f.elements if e.role == "Table"):
        cells = [e for e in table.walk() if e.role in ("TH", "TD")]
        headers = {str(c.obj.ID): c for c in cells if c.role == "TH" and "/ID" in c.obj}
        if not any(c.role == "TH" for c in cells):
            return False
        if any(f.id_index.get(name) != cell.obj.objgen for name, cell in headers.items()):
            return False
        named = _named(cells)
        for cell in cells:
            attrs = attributes(cell)
            if cell.role == "TH" and "/Scope" not in attrs and str(cell.obj.get("/ID", "")) not in named:
                return False
            if cell.role == "TD" and any(str(h) not in headers for h in _headers(attrs)):
                return False
    return True


def attributes(element: Element) -> dict[str, pikepdf.Object]:
    """A structure element's attributes, from its ``/A``: one attribute
    dictionary, or an array of them, each perhaps followed by its revision
    number (ISO 32000-1, 14.7.5), as Chromium writes a table cell's
    ``[<</O /Table /Scope /Column>> <</O /Table /RowSpan 1>>]``. The first
    value of a name wins."""
    given = element.obj.get("/A")
    found: dict[str, pikepdf.Object] = {}
    for item in given if isinstance(given, pikepdf.Array) else [given]:
        if isinstance(item, pikepdf.Dictionary):
            for name, value in item.items():
                found.setdefault(name, value)
    return found


def _headers(attrs: dict[str, pikepdf.Object]) -> list[pikepdf.Object]:
    """The ids a cell's ``/Headers`` names: an array of strings, or one string."""
    value = attrs.get("/Headers")
    if value is None:
        return []
    return list(value) if isinstance(value, pikepdf.Array) else [value]


def _named(cells: list[Element]) -> set[str]:
    return {str(h) for c in cells for h in _headers(attributes(c))}


def list_structure(f: File) -> bool:
    """09-005: lists hold items, items hold a label and a body."""
    return _kids_within(f, {"L": {"LI", "L", "Caption"}, "LI": {"Lbl", "LBody"}}) and all(
        e.parent is not None and e.parent.role == "L" for e in f.elements if e.role == "LI"
    )


def toc_structure(f: File) -> bool:
    """09-006: contents are TOC and TOCI as ISO 32000-1 says; and each entry
    is one link: one Link element, whose annotations on a page do not overlap
    (one per line it is set on, not WeasyPrint's three over the same words)."""
    if not _kids_within(f, {"TOC": {"TOCI", "TOC", "Caption"}, "TOCI": {"Lbl", "Reference", "NonStruct", "P", "TOC"}}):
        return False
    for item in (e for e in f.elements if e.role == "TOCI"):
        links = [d for d in _walk_without(item, "TOC") if d.role == "Link"]
        if len(links) > 1:
            return False
        for link in links:
            placed = [(_annotation_page(f, a), _rect(a)) for a in link.annotations()]
            if any(p == q and _overlap(r, s) for i, (p, r) in enumerate(placed) for q, s in placed[i + 1 :]):
                return False
    return True


def _rect(annotation: pikepdf.Dictionary) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annotation.get("/Rect") or (0, 0, 0, 0))
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _overlap(a: tuple[float, ...], b: tuple[float, ...], tolerance: float = 0.5) -> bool:
    """Whether two rectangles share an area (not an edge: two lines of a link touch)."""
    return min(a[2], b[2]) - max(a[0], b[0]) > tolerance and min(a[3], b[3]) - max(a[1], b[1]) > tolerance


def _walk_without(element: Element, stop: str) -> Iterator[Element]:
    for kid in element.elements():
        if kid.role == stop:
            continue
        yield kid
        yield from _walk_without(kid, stop)


def _annotation_page(f: File, annotation: pikepdf.Dictionary) -> int | None:
    for number, page in enumerate(f.pages):
        if any(a.objgen == annotation.objgen for a in page.get("/Annots") or []):
            return number
    return None


def notes(f: File) -> bool:
    """19-003, 19-004: every Note has an ID, each ID once; and a Reference
    standing just before a Note (its call) holds a Link whose annotation goes to it."""
    ids = [str(e.obj.get("/ID", "")) for e in f.elements if e.role == "Note"]
    if any(not i for i in ids) or len(ids) != len(set(ids)):
        return False
    for note in (e for e in f.elements if e.role == "Note"):
        siblings = note.parent.elements() if note.parent else []
        index = siblings.index(note)
        reference = siblings[index - 1] if index > 0 else None
        if reference is None or reference.role != "Reference":
            continue  # a note without a call of ours (a grafted PDF's): IDs are what PDF/UA asks
        targets = {
            str(annotation.get("/Dest", ""))
            for link in reference.walk()
            if link.role == "Link"
            for annotation in link.annotations()
        }
        if str(note.obj.ID) not in targets:
            return False
    return True


def figures_alt(f: File) -> bool:
    """13-004: every Figure (and Formula) has alternative or replacement text."""
    return all(
        str(e.obj.get("/Alt", "")).strip() or str(e.obj.get("/ActualText", "")).strip()
        for e in f.elements
        if e.role in ("Figure", "Formula")
    )


def annotations_in_structure(f: File) -> bool:
    """28-002, 28-011: every link annotation is the kid of a Link element, any
    other (but widgets and printer's marks) of an Annot element."""
    owners = {annotation.objgen: e.role for e in f.elements for annotation in e.annotations()}
    parent_tree = _parent_tree(f)
    for page in f.pages:
        for annotation in page.get("/Annots") or []:
            subtype = annotation.get("/Subtype")
            if subtype in ("/Widget", "/PrinterMark", "/Popup"):
                continue
            want = "Link" if subtype == "/Link" else "Annot"
            if owners.get(annotation.objgen) != want:
                return False
            owner = parent_tree.get(annotation.get("/StructParent"))
            if owner is None or owners.get(annotation.objgen) != f.standard(str(owner.get("/S", ""))[1:]):
                return False
    return True


def link_contents(f: File) -> bool:
    """28-012: every link annotation has a Contents a person can read: words,
    not the name of the destination it jumps to (a web address is words)."""
    for page in f.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get("/Subtype") != "/Link":
                continue
            contents = str(annotation.get("/Contents", "")).strip()
            destination = annotation.get("/Dest")
            name = str(destination) if isinstance(destination, pikepdf.String) else ""
            if not re.search(r"\w", contents) or (name and contents == name):
                return False
    return True


def tab_order(f: File) -> bool:
    """28-008, 28-009: a page with annotations has Tabs /S."""
    return all(p.get("/Tabs") == "/S" for p in f.pages if p.get("/Annots"))


def page_furniture(f: File) -> bool:
    """18-001 (as far as a machine can tell): text in the band where running
    heads and folios stand, within 0.6 in of the top or bottom trim edge,
    is a pagination artifact."""
    for seq in f.sequences:
        if not seq.text.strip() or not seq.baselines:
            continue
        box = [float(v) for v in f.pages[seq.page].get("/TrimBox", f.pages[seq.page].MediaBox)]
        in_band = any(y > box[3] - FURNITURE_BAND or y < box[1] + FURNITURE_BAND for y in seq.baselines)
        if in_band and not any(
            s.tag == "Artifact" and s.props.get("/Type") == "/Pagination" for s in [seq, *seq.ancestors()]
        ):
            return False
    return True


def leaders_and_rules(f: File) -> bool:
    """Leader dots and rules are artifacts: no element's text holds a run of
    leader dots, and no tagged sequence outside a Figure or Formula draws
    graphics without text."""
    for element in f.elements:
        if element.role in ("P", "Link", "TOCI", "Reference", "Span", "LBody", "TD") and LEADERS.search(
            f.text_of(element)
        ):
            return False
    figures = {key for e in f.elements if e.role in ("Figure", "Formula") for d in e.walk() for key in d.content()}
    for seq in f.sequences:
        tagged_seq = seq.tagged()
        graphic_only = seq.graphics and not seq.text and tagged_seq is not None and not seq.artifact
        if graphic_only and tagged_seq.key not in figures:
            return False
    return True


def page_markers(f: File) -> bool:
    """Margin page markers ("[12]") are artifacts, or elements labelled with
    ActualText or Alt that stand outside headings, header cells, captions and
    links (so no accessible name and no word reads "[12]…")."""
    owners = {key: e for e in f.elements for key in e.content()}
    for seq in f.sequences:
        if seq.stream is not None or not MARKER_TEXT.match(seq.text) or seq.artifact or seq.mcid is None:
            continue
        element = owners.get(seq.key)
        if element is None:
            return False
        labelled = [e for e in _up(element) if "/ActualText" in e.obj or "/Alt" in e.obj]
        if not labelled and "/ActualText" not in seq.props:
            return False
        if any(e.role in HEADINGS | {"TH", "Caption", "Link", "Lbl", "H"} for e in _up(element)):
            return False
    return True


def _up(element: Element) -> Iterator[Element]:
    while element is not None and element.role != "StructTreeRoot":
        yield element
        element = element.parent


def hyphenation(f: File) -> bool:
    """A word hyphenated at a line end reads back whole: the line's text ending
    in the typesetter's hyphen (U+2010) carries an ActualText ending in a soft
    hyphen instead."""
    for seq in f.sequences:
        if seq.mcid is None or seq.stream is not None or not seq.text.rstrip().endswith(HYPHENATE):
            continue
        actual = str(seq.props.get("/ActualText", ""))
        if not actual.endswith("\u00ad") or HYPHENATE in actual[-2:]:
            return False
    return True


def unicode_mapping(f: File) -> bool:
    """10-001: every character code shown maps to Unicode."""
    f.sequences  # noqa: B018 - reading the content notes any code without Unicode
    return not f.unmapped


def fonts_embedded(f: File) -> bool:
    """31-001 (and the premise of 31-*): every font program is embedded."""
    for page in f.pdf.pages:
        for _, font in ((page.obj.get("/Resources") or {}).get("/Font") or {}).items():
            for each in [font, *(font.get("/DescendantFonts") or [])]:
                if each.get("/Subtype") in ("/Type0", "/Type3"):
                    continue
                descriptor = each.get("/FontDescriptor")
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    return False
    return True


RULES: list[Rule] = [
    pdfua_identification,
    xmp_title,
    display_doc_title,
    tagged,
    document_language,
    standard_types,
    content_tagged_or_artifact,
    artifacts_and_content_apart,
    marked_content_in_tree,
    headings,
    table_structure,
    table_headers,
    list_structure,
    toc_structure,
    notes,
    figures_alt,
    annotations_in_structure,
    link_contents,
    tab_order,
    page_furniture,
    leaders_and_rules,
    page_markers,
    hyphenation,
    unicode_mapping,
    fonts_embedded,
]


#: Rules judged from the catalog and metadata alone, without a structure tree.
FILE_LEVEL = (pdfua_identification, xmp_title, display_doc_title, fonts_embedded)


def check(source: bytes | Path | pikepdf.Pdf) -> list[str]:
    """The names of the rules the file breaks (empty when it passes)."""
    if isinstance(source, pikepdf.Pdf):
        return _check(source)
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return _check(pdf)


def _check(pdf: pikepdf.Pdf) -> list[str]:
    f = File(pdf)
    if not tagged(f):  # no tree to check: only the file-level rules are judged
        return [r.__name__ for r in RULES if r in FILE_LEVEL and not r(f) or r not in FILE_LEVEL]
    return [rule.__name__ for rule in RULES if not rule(f)]
