"""Word's text boxes, made paragraphs of the text before Pandoc reads it.

A text box (a shape holding text: a sidebar, a pull quote) sits in a run of
the paragraph it is anchored to. Pandoc's reader keeps the box's text but
drops the rest of that paragraph, the author's own words. So each box's
paragraphs are moved out here, to stand after the paragraph that anchors it
(its text in the order of the file), and a warning says so. Word writes a box
twice (the shape, and a VML copy for older readers, in one
``mc:AlternateContent``): the first copy is kept, never both.
"""

from __future__ import annotations

import copy

from lxml import etree

from edition.manuscripts.notices import Notices
from edition.manuscripts.package import Package

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: The parts of a .docx whose text boxes are moved.
PARTS = ("word/document.xml", "word/footnotes.xml", "word/endnotes.xml")
QUOTED = 60


def settle(package: Package, notices: Notices) -> None:
    if package.kind != "docx":
        return
    for name in PARTS:
        root = package.xml(name)
        if root is not None and _move_boxes(root, notices):
            package.members[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _move_boxes(root: etree._Element, notices: Notices) -> bool:
    moved = False
    for paragraph in list(root.iter(W + "p")):
        if _in_box(paragraph):
            continue
        place = paragraph
        for run in [r for r in paragraph.iter(W + "r") if _paragraph_of(r) is paragraph]:
            box = next(run.iter(W + "txbxContent"), None)
            if box is None:
                continue
            blocks = [copy.deepcopy(child) for child in box if child.tag in (W + "p", W + "tbl")]
            holder = next(a for a in [box, *box.iterancestors()] if a.getparent() is run)
            run.remove(holder)  # the run's own text, if it holds any beside the box, stays
            for block in blocks:
                place.addnext(block)
                place = block
            words = " ".join("".join(t.text or "" for b in blocks for t in b.iter(W + "t")).split())
            if words:
                notices.warn(
                    "import.moved",
                    f"a text box ('{words if len(words) <= QUOTED else words[: QUOTED - 1] + '…'}') is now "
                    "paragraphs after the paragraph it was anchored to; check its place",
                )
            moved = True
    return moved


def _in_box(element: etree._Element) -> bool:
    return any(a.tag == W + "txbxContent" for a in element.iterancestors())


def _paragraph_of(element: etree._Element) -> etree._Element | None:
    return next(element.iterancestors(W + "p"), None)
