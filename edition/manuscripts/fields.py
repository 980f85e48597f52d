"""Word's fields, settled in the XML before Pandoc reads it.

A field is Word's generated text: ``w:fldChar begin``, its instruction
(``w:instrText``, often split over several runs), ``separate``, the text it
shows, ``end`` (or one ``w:fldSimple``). Pandoc reads the shown text of most,
and three kinds need more than it does:

- citation fields (Zotero's ``ADDIN ZOTERO_ITEM CSL_CITATION {json}``,
  Mendeley's ``ADDIN CSL_CITATION {json}``): Pandoc keeps one reference per
  item id, and Mendeley numbers the items of *each* citation from
  ``ITEM-1``, so two citations of two works would become two citations of one
  (the other work lost, its citation pointing at the wrong one). Each
  distinct item (by its URIs, or else its data) gets an id of its own here. A
  field whose JSON cannot be read, or whose items carry no data (an old
  Zotero's), would be a citation of nothing: it stays the text it shows, said;
- the citation manager's bibliography (``ADDIN ZOTERO_BIBL``, Mendeley's
  ``CSL_BIBLIOGRAPHY``, EndNote's ``ADDIN EN.REFLIST``), which Pandoc drops
  without a word: its text is kept between two marker paragraphs, and the
  conversion drops it when the document's citations give the build the data
  to print the bibliography itself (``convert.settle_bibliography``), and
  keeps it as text when they do not (no entry lost);
- Word's generated lists (a table of contents ``TOC``, an index ``INDEX``, a
  table of authorities ``TOA``), which Pandoc reads as paragraphs of links to
  Word's page numbers: the edition makes its own contents, so they are
  dropped, with the content control (``w:sdt``) and the "TOC Heading"
  paragraph that hold them, said.

A page reference (``PAGEREF``, ``PAGE``, ``NUMPAGES``) shows a page number of
Word's, which the edition's pages do not keep: its text stays, and a warning
names it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from edition.manuscripts.notices import Notices
from edition.manuscripts.package import Package

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: The parts of a .docx whose fields are settled.
PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
#: The marker paragraphs around a bibliography field's text (see ``convert``).
BIBLIOGRAPHY_START = "EDITIONIMPORTBIBLIOGRAPHYSTART"
BIBLIOGRAPHY_END = "EDITIONIMPORTBIBLIOGRAPHYEND"

CSL_CITATION_RE = re.compile(r"^\s*ADDIN\s+(?:ZOTERO_ITEM\s+)?CSL_CITATION\b", re.I)
BIBLIOGRAPHY_RE = re.compile(
    r"^\s*ADDIN\s+(?:ZOTERO_BIBL\b|Mendeley\s+Bibliography\b|EN\.REFLIST\b|.*CSL_BIBLIOGRAPHY)", re.I
)
GENERATED_RE = re.compile(r"^\s*(TOC|INDEX|TOA)\b", re.I)
PAGE_RE = re.compile(r"^\s*(PAGEREF|PAGE|NUMPAGES|SECTIONPAGES)\b", re.I)
#: Longest quotation of a field's text in a warning.
QUOTED = 60


@dataclass
class Field:
    """One field: its instruction's elements and, for a complex field, the
    runs of its ``begin``, ``separate`` and ``end`` marks; for a simple field
    the ``w:fldSimple`` element."""

    begin: etree._Element | None = None
    instructions: list[etree._Element] = field(default_factory=list)
    separate: etree._Element | None = None
    end: etree._Element | None = None
    simple: etree._Element | None = None

    def instruction(self) -> str:
        if self.simple is not None:
            return self.simple.get(W + "instr") or ""
        return "".join(e.text or "" for e in self.instructions)

    def set_instruction(self, text: str) -> None:
        if self.simple is not None:
            self.simple.set(W + "instr", text)
            return
        self.instructions[0].text = text
        for extra in self.instructions[1:]:
            extra.text = ""

    def shown(self) -> str:
        """The text the field shows (its result)."""
        if self.simple is not None:
            return _words(self.simple)
        if self.separate is None or self.end is None:
            return ""
        return " ".join("".join(_text(e) for e in _range(self.separate, self.end)).split())

    def first_paragraph(self) -> etree._Element | None:
        return _paragraph(self.simple if self.simple is not None else self.begin)

    def last_paragraph(self) -> etree._Element | None:
        return _paragraph(self.simple if self.simple is not None else self.end)


@dataclass
class Settled:
    """What the fields held, for the conversion."""

    bibliographies: int = 0
    ids: dict[str, str] = field(default_factory=dict)  # a cited work (see _identity) -> its id


def settle(package: Package, notices: Notices) -> Settled:
    """Settle the fields of a ``.docx`` (see the module's docstring), in its
    XML and its members, before Pandoc reads it."""
    settled = Settled()
    if package.kind != "docx":
        return settled
    roots = {name: root for name in PARTS if (root := package.xml(name)) is not None}
    found = [(name, fld) for name, root in roots.items() for fld in _fields(root)]
    changed = {name for name, fld in found if _distinct_items(fld, settled, notices)}
    contents_dropped = False
    for name, fld in found:
        if not _attached(fld, roots[name]):  # inside a field dropped before it
            continue
        instruction = fld.instruction()
        if BIBLIOGRAPHY_RE.match(instruction):
            _mark_bibliography(fld)
            settled.bibliographies += 1
            changed.add(name)
        elif (generated := GENERATED_RE.match(instruction)) and name == "word/document.xml":
            kind = generated.group(1).upper()
            _drop(fld)
            notices.warn("import.field", _generated_said(kind))
            contents_dropped |= kind == "TOC"
            changed.add(name)
        elif (page := PAGE_RE.match(instruction)) and fld.shown():
            notices.warn(
                "import.field",
                f"a page number field ({page.group(1).upper()}) shows '{_cut(fld.shown())}', a page of Word's, "
                "which the edition's pages do not keep: its text is kept; check the sentence around it",
            )
    document = roots.get("word/document.xml")
    if document is not None and _drop_contents_controls(package, document, contents_dropped, notices):
        changed.add("word/document.xml")
    for name in changed:
        package.members[name] = etree.tostring(roots[name], xml_declaration=True, encoding="UTF-8", standalone=True)
    return settled


def _attached(fld: Field, root: etree._Element) -> bool:
    element = fld.simple if fld.simple is not None else fld.begin
    return element is root or any(a is root for a in element.iterancestors())


def _generated_said(kind: str) -> str:
    what, instead = {
        "TOC": ("a table of contents", "the edition makes its own"),
        "INDEX": ("an index", "the edition makes no index from Word's index entries"),
        "TOA": ("a table of authorities", "the edition makes no such table from Word's entries"),
    }[kind]
    return f"{what} (Word's {kind} field, made from the text and Word's page numbers) was left out: {instead}"


# -- finding fields ---------------------------------------------------------------------


def _fields(root: etree._Element) -> Iterator[Field]:
    """Every field of a part, in the order of their beginnings (outer fields
    before the fields nested in them)."""
    stack: list[Field] = []
    done: list[Field] = []
    for element in root.iter(W + "fldChar", W + "instrText", W + "fldSimple"):
        if element.tag == W + "fldSimple":
            done.append(Field(simple=element))
            continue
        if element.tag == W + "instrText":
            if stack and stack[-1].separate is None:
                stack[-1].instructions.append(element)
            continue
        kind = element.get(W + "fldCharType")
        run = element.getparent()
        if kind == "begin":
            fld = Field(begin=run)
            stack.append(fld)
            done.append(fld)
        elif kind == "separate" and stack:
            stack[-1].separate = run
        elif kind == "end" and stack:
            stack.pop().end = run
    return (f for f in done if f.simple is not None or (f.instructions and f.end is not None))


def _range(start: etree._Element, end: etree._Element) -> list[etree._Element]:
    """The largest elements wholly after ``start`` and before ``end`` in
    document order (``end``'s ancestors are not among them)."""
    holding_end = set(end.iterancestors())
    out: list[etree._Element] = []
    node: etree._Element | None = start
    while node is not None:
        for sibling in node.itersiblings():
            if sibling is end:
                return out
            if sibling in holding_end:
                return out + _before(sibling, end, holding_end)
            out.append(sibling)
        node = node.getparent()
    return out


def _before(container: etree._Element, end: etree._Element, holding_end: set) -> list[etree._Element]:
    out: list[etree._Element] = []
    for child in container:
        if child is end:
            return out
        if child in holding_end:
            return out + _before(child, end, holding_end)
        out.append(child)
    return out


def _paragraph(element: etree._Element | None) -> etree._Element | None:
    if element is None:
        return None
    return next((a for a in element.iterancestors(W + "p")), None)


def _text(element: etree._Element) -> str:
    return "".join(t.text or "" for t in element.iter(W + "t"))


def _words(element: etree._Element) -> str:
    return " ".join(_text(element).split())


def _cut(text: str) -> str:
    return text if len(text) <= QUOTED else text[: QUOTED - 1] + "…"


# -- citations ---------------------------------------------------------------------------


def _csl_json(instruction: str) -> dict[str, Any] | None:
    """The CSL JSON of a citation field's instruction, or None."""
    match = CSL_CITATION_RE.match(instruction)
    if not match:
        return None
    text = instruction[match.end() :].strip()
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _distinct_items(fld: Field, settled: Settled, notices: Notices) -> bool:
    """A citation field's items each given the id of their work across the
    document; a field that cites nothing readable unwrapped to the text it
    shows. Whether the field changed."""
    instruction = fld.instruction()
    head = CSL_CITATION_RE.match(instruction)
    if not head:
        return False
    citation = _csl_json(instruction)
    items = citation.get("citationItems") if citation else None
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(i, dict) and isinstance(i.get("itemData"), dict) for i in items)
    ):
        shown = fld.shown()
        _unwrap(fld)
        what = "data the import cannot read" if citation is None else "no data for the works it cites"
        notices.warn(
            "import.citation",
            f"a citation field holds {what}: it is kept as the text it shows, '{_cut(shown)}'; "
            "to make it a citation, add the work to the BibTeX file and write [@key] in its place",
        )
        return True
    for item in items:
        identity = _identity(item)
        if identity not in settled.ids:
            base = str(item.get("id", item["itemData"].get("id", "item")))
            new, n = base, 2
            while new in settled.ids.values():
                new, n = f"{base}-{n}", n + 1
            settled.ids[identity] = new
        item["id"] = item["itemData"]["id"] = settled.ids[identity]
    fld.set_instruction(f" {head.group(0).strip()} {json.dumps(citation, ensure_ascii=False)} ")
    return True


def _identity(item: dict[str, Any]) -> str:
    """What makes two cited items one work: the citation manager's URIs for
    it, or else its data (without the id, which Mendeley reuses)."""
    uris = item.get("uris") or item.get("uri")
    if isinstance(uris, list) and uris and all(isinstance(u, str) for u in uris):
        return "uris:" + json.dumps(sorted(uris))
    data = {k: v for k, v in item["itemData"].items() if k != "id"}
    return "data:" + json.dumps(data, sort_keys=True, ensure_ascii=False)


# -- changing the XML -------------------------------------------------------------------


def _unwrap(fld: Field) -> None:
    """The field's shown text stays as plain runs; its marks and instruction go."""
    if fld.simple is not None:
        parent = fld.simple.getparent()
        index = parent.index(fld.simple)
        for offset, child in enumerate(list(fld.simple)):
            parent.insert(index + offset, child)
        parent.remove(fld.simple)
        return
    for element in [*fld.instructions, fld.begin, fld.separate, fld.end]:
        if element is None:
            continue
        for mark in list(element.iter(W + "fldChar")):
            mark.getparent().remove(mark)
        if element.tag == W + "instrText":
            element.getparent().remove(element)


def _mark_bibliography(fld: Field) -> None:
    """The field's text kept, between marker paragraphs (see the module's docstring)."""
    first, last = fld.first_paragraph(), fld.last_paragraph()
    _unwrap(fld)
    if first is None or last is None:
        return
    first.addprevious(_marker(BIBLIOGRAPHY_START))
    last.addnext(_marker(BIBLIOGRAPHY_END))


def _marker(text: str) -> etree._Element:
    paragraph = etree.Element(W + "p")
    run = etree.SubElement(paragraph, W + "r")
    etree.SubElement(run, W + "t").text = text
    return paragraph


def _drop(fld: Field) -> None:
    """The field and everything it shows removed; a paragraph it leaves
    without text goes with it."""
    if fld.simple is not None:
        paragraph = _paragraph(fld.simple)
        fld.simple.getparent().remove(fld.simple)
        _drop_if_empty(paragraph)
        return
    touched = [fld.first_paragraph(), fld.last_paragraph()]
    for element in [fld.begin, *_range(fld.begin, fld.end), fld.end]:
        if element.getparent() is not None:
            element.getparent().remove(element)
    for paragraph in touched:
        _drop_if_empty(paragraph)


def _drop_if_empty(paragraph: etree._Element | None) -> None:
    if paragraph is None or paragraph.getparent() is None:
        return
    holds = any(
        (e.tag == W + "t" and (e.text or "").strip()) or e.tag in (W + "drawing", W + "pict", W + "object")
        for e in paragraph.iter()
    )
    if not holds:
        paragraph.getparent().remove(paragraph)


def _drop_contents_controls(package: Package, document: etree._Element, dropped: bool, notices: Notices) -> bool:
    """Word wraps its table of contents in a content control (``w:sdt``, in the
    "Table of Contents" gallery) with its heading: the control goes whole. The
    heading of a table of contents that stood outside one (a paragraph in the
    "TOC Heading" style) goes too."""
    said = dropped
    for sdt in list(document.iter(W + "sdt")):
        gallery = next(sdt.iter(W + "docPartGallery"), None)
        if gallery is not None and (gallery.get(W + "val") or "").lower() == "table of contents":
            sdt.getparent().remove(sdt)
            dropped = True
    if dropped and not said:
        notices.warn("import.field", _generated_said("TOC"))
    if not dropped:
        return False
    heading_styles = _toc_heading_styles(package.xml("word/styles.xml"))
    for paragraph in list(document.iter(W + "p")):
        style = next(paragraph.iter(W + "pStyle"), None)
        if style is not None and style.get(W + "val") in heading_styles and paragraph.getparent() is not None:
            paragraph.getparent().remove(paragraph)
    return True


def _toc_heading_styles(styles: etree._Element | None) -> set[str]:
    """The ids of the "TOC Heading" paragraph style (a localised Word gives it
    another id, never another name)."""
    found = {"TOCHeading"}
    if styles is not None:
        for style in styles.iter(W + "style"):
            name = next(style.iter(W + "name"), None)
            if name is not None and (name.get(W + "val") or "").lower() == "toc heading":
                found.add(style.get(W + "styleId") or "")
    return found
