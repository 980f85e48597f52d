"""A table's accessible name in the EPUB is its caption's words alone.

A table is named by its caption (HTML-AAM), and its scrolling region by the
caption too (``aria-labelledby``); a note call in the caption is a link whose
text, the note's number, would be read into that name with nothing between:
"…, 1971 – 198014". Where a caption holds a note call, the table and its region
are given the caption's words as their name (``aria-label``); the caption, and
the call in it, stay as they are.
"""

from __future__ import annotations

from lxml import etree

from edition.outputs.pdf.markers import is_marker, is_page_break

EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def _is_call(element: etree._Element) -> bool:
    return element.get("role") == "doc-noteref" or "noteref" in (element.get(EPUB_TYPE) or "").split()


def caption_words(caption: etree._Element) -> str:
    """The caption's text without note calls and page markers."""
    parts = [caption.text or ""]
    for child in caption:
        if isinstance(child.tag, str) and not (_is_call(child) or is_marker(child) or is_page_break(child)):
            parts.append(caption_words(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def name_tables(xhtml: bytes) -> bytes:
    """The document with each table whose caption holds a note call named by
    the caption's words (the table, and the region that names it by its caption)."""
    root = etree.fromstring(xhtml)
    named = False
    for caption in root.iter("{*}caption"):
        if not any(_is_call(e) for e in caption.iter() if isinstance(e.tag, str)):
            continue
        name = caption_words(caption)
        table = caption.getparent()
        table.set("aria-label", name)
        region = table.getparent()
        caption_id = caption.get("id")
        if region is not None and caption_id and region.get("aria-labelledby") == caption_id:
            del region.attrib["aria-labelledby"]
            region.set("aria-label", name)
        named = True
    if not named:
        return xhtml
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", doctype="<!DOCTYPE html>")
