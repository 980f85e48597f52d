"""Print page numbers in the EPUB: a page-break marker where each printed page
begins, found from the print layout (``layout.page_starts``)."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from edition.layout.pagestart import PageStart, is_marker_element, text_blocks

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"


def page_id(page: int) -> str:
    return f"page-{page}"


def _marker(page: int) -> etree._Element:
    span = etree.Element(f"{{{XHTML_NS}}}span", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    span.set(f"{{{EPUB_NS}}}type", "pagebreak")
    span.set("role", "doc-pagebreak")
    span.set("id", page_id(page))
    span.set("aria-label", str(page))
    return span


def insert(xhtml: bytes, starts: Sequence[PageStart]) -> bytes:
    """The document with a marker before the first character of each page that
    starts in it; the markers go inside the text, never between blocks."""
    if not starts:
        return xhtml
    root = etree.fromstring(xhtml)
    for start in starts:
        anchor = root.find(f".//*[@id='{start.anchor}']")
        if anchor is None:
            raise LookupError(f"page {start.page}: no element {start.anchor!r}")
        block = text_blocks(anchor)[start.block]
        if not _insert_at(block, start.chars, _marker(start.page)):
            raise LookupError(
                f"page {start.page}: block {start.block} of {start.anchor!r} is shorter than {start.chars}"
            )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>")


def _insert_at(block: etree._Element, chars: int, marker: etree._Element) -> bool:
    """Put ``marker`` before the ``chars``-th non-space character of the block's
    own text (page markers and note calls do not count)."""
    seen = 0
    # (element, which) pairs: its .text, or the .tail of a child, in reading order
    for holder, attribute, parent, index in _text_slots(block):
        text = getattr(holder, attribute) or ""
        for offset, char in enumerate(text):
            if char.isspace():
                continue
            if seen == chars:
                before, after = text[:offset], text[offset:]
                setattr(holder, attribute, before)
                marker.tail = after
                parent.insert(index, marker)
                return True
            seen += 1
    return False


def _text_slots(element: etree._Element):
    """Where text lives, in order: (holder, 'text'|'tail', parent, insert index)."""
    yield element, "text", element, 0
    for index, child in enumerate(element):
        if isinstance(child.tag, str) and not is_marker_element(child):
            yield from _text_slots(child)
        yield child, "tail", element, index + 1


NCX_NS = "http://www.daisy.org/z3986/2005/ncx/"


def ncx_page_list(ncx: bytes, page_list: Sequence[dict]) -> bytes:
    """The NCX (the EPUB 2 navigation older readers and Kindle conversions use)
    with a ``pageList`` of the print pages, as the navigation document has."""
    if not page_list:
        return ncx
    root = etree.fromstring(ncx)
    head = root.find(f"{{{NCX_NS}}}head")
    for meta in head.iterfind(f"{{{NCX_NS}}}meta"):
        if meta.get("name") in ("dtb:totalPageCount", "dtb:maxPageNumber"):
            meta.set("content", str(max(entry["page"] for entry in page_list)))
    pages = etree.SubElement(root, f"{{{NCX_NS}}}pageList")
    label = etree.SubElement(etree.SubElement(pages, f"{{{NCX_NS}}}navLabel"), f"{{{NCX_NS}}}text")
    label.text = "Pages of the print edition"
    for entry in page_list:
        target = etree.SubElement(
            pages,
            f"{{{NCX_NS}}}pageTarget",
            id=f"ncx-{page_id(entry['page'])}",
            type="normal",
            value=str(entry["page"]),
        )
        text = etree.SubElement(etree.SubElement(target, f"{{{NCX_NS}}}navLabel"), f"{{{NCX_NS}}}text")
        text.text = str(entry["page"])
        etree.SubElement(target, f"{{{NCX_NS}}}content", src=entry["href"])
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
