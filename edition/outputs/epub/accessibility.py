"""The EPUB's accessibility metadata, computed from the XHTML it holds.

Every claim is counted from the finished documents, not from the model: the
tables a reader prints (a work's table, the Note on the Text's register, the
permissions page), which of them have header cells and a caption, the images
and their text alternatives, the notes, the chapters, documents and readings,
and the print pages the page list gives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"
CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


@dataclass(frozen=True)
class Holdings:
    """What the book holds, counted in its XHTML."""

    chapters: int = 0
    documents: int = 0
    readings: int = 0
    pdf_readings: int = 0  # readings printed from a PDF, described in the e-book
    pdf_texts: int = 0  # of those, the ones whose extracted text is an appendix
    notes: int = 0
    tables: int = 0
    tables_with_headers: int = 0
    tables_with_captions: int = 0
    images: int = 0
    images_with_alt: int = 0
    cover_alt: bool = False

    @property
    def all_alt(self) -> bool:
        return self.images_with_alt == self.images and self.cover_alt


#: Parts counted by (element, attribute, a token of it, what it counts as); the
#: first that matches.
KINDS = (
    ("section", "class", "pdf-reading", "pdf_readings"),
    ("section", "class", "pdf-text", "pdf_texts"),
    ("section", EPUB_TYPE, "chapter", "chapters"),
    ("section", "class", "document", "documents"),
    ("header", "class", "reading-head", "readings"),
    ("aside", EPUB_TYPE, "footnote", "notes"),
)


def count(documents: Iterable[bytes]) -> Holdings:
    totals: dict[str, int] = {}
    cover_alt = False

    def add(name: str, n: int = 1) -> None:
        totals[name] = totals.get(name, 0) + n

    for data in documents:
        root = etree.fromstring(data)
        for element in root.iter("{*}section", "{*}aside", "{*}header", "{*}table", "{*}img"):
            tag = etree.QName(element).localname
            counted = next(
                (name for t, attr, token, name in KINDS if t == tag and token in (element.get(attr) or "").split()),
                None,
            )
            if counted is not None:
                add(counted)
            elif tag == "table":
                add("tables")
                add("tables_with_headers", int(element.find(".//{*}th") is not None))
                add("tables_with_captions", int(element.find("{*}caption") is not None))
            elif tag == "img" and element.get("role") == "doc-cover":
                cover_alt = bool((element.get("alt") or "").strip())
            elif tag == "img":
                add("images")
                add("images_with_alt", int(bool((element.get("alt") or "").strip())))
    return Holdings(**totals, cover_alt=cover_alt)


def metadata(holdings: Holdings, pages: int) -> list[tuple[str, str]]:
    """schema.org accessibility properties (and the conformance claim when
    every image has a text alternative and the print pages are navigable)."""
    features = ["tableOfContents", "readingOrder", "structuralNavigation"]
    if holdings.all_alt:
        features.append("alternativeText")
    if pages:
        features += ["pageBreakMarkers", "printPageNumbers", "pageNavigation"]
    pairs = [("schema:accessMode", "textual")]
    if holdings.images:
        pairs.append(("schema:accessMode", "visual"))
    pairs.append(("schema:accessModeSufficient", "textual" if holdings.all_alt else "textual,visual"))
    pairs += [("schema:accessibilityFeature", f) for f in features]
    pairs += [
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary", summary(holdings, pages)),
    ]
    if holdings.all_alt and pages:
        pairs.append(("dcterms:conformsTo", CONFORMANCE))
    return pairs


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def summary(h: Holdings, pages: int) -> str:
    parts = []
    if h.readings:
        parts.append(_n(h.readings, "reading"))
    parts.append(_n(h.chapters, "chapter") + " with headings")
    if h.documents:
        parts.append(_n(h.documents, "archival document"))
    if h.notes:
        parts.append(_n(h.notes, "note") + ", each linked to its call and back")
    if h.tables:
        parts.append(_tables(h))
    text = "This publication has " + ", ".join(parts) + "."
    if h.pdf_readings:
        are = "s are" if h.pdf_readings != 1 else " is"
        appendix = ", with the PDF's text, extracted and unedited, in an appendix" if h.pdf_texts else ""
        text += f" {h.pdf_readings} reading{are} printed from a PDF and described here with its print pages{appendix}."
    if pages:
        text += f" Page-break markers and a page list give the {pages} pages of the print edition."
    if h.images:
        alt = "all with" if h.images_with_alt == h.images else f"{h.images_with_alt} with"
        text += f" It has {_n(h.images, 'image')}, {alt} a text alternative."
    if h.cover_alt:
        text += " The cover image has a text description."
    return text


def _tables(h: Holdings) -> str:
    """'1 table (with header cells, with a caption)', '2 tables (all with header
    cells, 1 with a caption)'."""
    if h.tables == 1:
        headers = "with" if h.tables_with_headers else "without"
        caption = "with" if h.tables_with_captions else "without"
        return f"1 table ({headers} header cells, {caption} a caption)"

    def share(n: int) -> str:
        return "all" if n == h.tables else str(n)

    return (
        f"{h.tables} tables ({share(h.tables_with_headers)} with header cells, "
        f"{share(h.tables_with_captions)} with a caption)"
    )
