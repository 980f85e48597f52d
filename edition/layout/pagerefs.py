"""The page numbers the print edition prints, read back from the laid-out pages.

The contents, the permissions page, cross-references ("(p. 4)") and links in
notes (", p. 17") print the page their target stands on with CSS
``target-counter()``. WeasyPrint 70 does not always print the final page: it
records what such a number waits for under the unresolved ``attr(href)``
token instead of the target's name (``formatting_structure/build.py``:
``anchor_name_from_token`` is given the ``attr()`` token and returns None), so
when a later repagination pass moves the target to another page, the page
that prints the number is not laid out again. The demo reader on Letter said
"Bibliography … 16" for a heading on page 17.

So the numbers are never trusted: after a layout, ``wrong`` compares each
printed number with the page its target stands on in that same layout; the
build then lays out again with every number written out (``mark``: a
``data-page`` attribute the print stylesheet prints instead of the counter),
until the numbers printed are the pages (``settle``); and the preflight
reports any that still differ (``page_numbers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from weasyprint.formatting_structure import boxes

#: The attribute that carries a page number written out (the print stylesheet
#: prints it in place of ``target-counter()``).
ATTRIBUTE = "data-page"
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class PageRef:
    """A page number printed after a link: on ``page`` (1-based), naming the
    element ``target``, printed as ``printed``."""

    page: int
    target: str
    printed: int


def _walk(box: boxes.Box) -> Iterator[boxes.Box]:
    """The boxes under ``box``, leader dots left out."""
    box = getattr(box, "_box", box)  # an absolutely placed box stands behind a placeholder
    if getattr(box, "is_leader", False):
        return
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _walk(child)


def target_pages(document) -> dict[str, int]:
    """Each element id -> the page (1-based) where the element begins."""
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, 1):
        for name in page.anchors:
            pages.setdefault(name, number)
    return pages


def printed(document) -> list[PageRef]:
    """Every page number generated after an internal link, in page order: the
    last number in the text of the link's ``::after`` (over every line and
    page it is set on; its leader dots left out)."""
    texts: dict[int, list[str]] = {}
    where: dict[int, tuple[int, str]] = {}
    for number, page in enumerate(document.pages, 1):
        for box in _walk(page._page_box):
            element = box.element
            if not (box.element_tag or "").endswith("::after") or element is None:
                continue
            href = element.get("href") or ""
            if not href.startswith("#") or not isinstance(box, boxes.TextBox):
                continue
            texts.setdefault(id(element), []).append(box.text)
            where.setdefault(id(element), (number, href[1:]))
    refs = []
    for key, (page, target) in where.items():
        numbers = _NUMBER.findall("".join(texts[key]))
        if numbers:
            refs.append(PageRef(page, target, int(numbers[-1])))
    return refs


def wrong(document) -> list[tuple[PageRef, int | None]]:
    """The printed numbers that are not the page their target begins on,
    each with that page (None: the target is on no page)."""
    pages = target_pages(document)
    return [(ref, pages.get(ref.target)) for ref in printed(document) if ref.printed != pages.get(ref.target)]


def settle(document, numbers: dict[str, int]) -> bool:
    """After a layout: when a printed number is not its target's page, write
    out every number the next layout prints, as the pages of this one
    (``numbers``, id -> page, updated). Whether anything changed."""
    if not wrong(document):
        return False
    pages = target_pages(document)
    wanted = {ref.target: pages[ref.target] for ref in printed(document) if ref.target in pages}
    if all(numbers.get(target) == page for target, page in wanted.items()):
        return False  # written out already, and still not the pages: another layout would not help
    numbers.update(wanted)
    return True


def mark(html: str, numbers: dict[str, int]) -> str:
    """The print HTML with each internal link whose page is written out
    carrying it (``data-page``)."""
    if not numbers:
        return html
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html)
    for link in root.iter("a"):
        href = link.get("href") or ""
        if href.startswith("#") and href[1:] in numbers:
            link.set(ATTRIBUTE, str(numbers[href[1:]]))
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
