"""Where the pages of PDF readings go in the laid-out volume.

The print layout reserves one page per source page (an empty ``article.pdf-page``
that WeasyPrint sets like any page: running heads and folio in the volume's
font). This module reads, from the laid-out document, which volume page and
which content box each source page is given (``plan``); the PDF writer lays the
source pages in there (``edition.outputs.pdf.readings``).
"""

from __future__ import annotations

from dataclasses import dataclass

from edition import ids
from edition.layout.pagestart import PageStart
from edition.model import Edition, Work

PT_PER_PX = 0.75  # WeasyPrint: 96 CSS px per inch, 72 pt per inch


@dataclass(frozen=True)
class Placement:
    """Where one source page goes in the volume."""

    page: int  # volume page, from 1
    reading: str  # the reading's slug
    source_page: int  # page of the source file, from 1
    rect: tuple[float, float, float, float]  # the page's content box, PDF points (x0, y0, x1, y1)
    scale: float  # source page size -> printed size (1.0 at most)


def placeholder_id(work: Work, page: int) -> str:
    return ids.output_id(work.slug, f"pdf-page-{page}")


def plan(document, edition: Edition) -> list[Placement]:
    """Each source page's volume page and box, from the laid-out pages."""
    pages = {name: number for number, page in enumerate(document.pages, 1) for name in page.anchors}
    out = []
    for work in edition.parts:
        if work.pdf is None or placeholder_id(work, work.pdf.page_numbers[0]) not in pages:
            continue  # no PDF, or its pages are in another chain of the layout (``layout.chains.book``)
        for (width, height), n in zip(work.pdf.sizes, work.pdf.page_numbers, strict=True):
            number = pages[placeholder_id(work, n)]
            page = document.pages[number - 1]
            box = page._page_box
            x, y = box.content_box_x(), box.content_box_y()
            rect = (
                x * PT_PER_PX,
                (page.height - y - box.height) * PT_PER_PX,
                (x + box.width) * PT_PER_PX,
                (page.height - y) * PT_PER_PX,
            )
            scale = min(1.0, (rect[2] - rect[0]) / width, (rect[3] - rect[1]) / height)
            out.append(Placement(number, work.slug, n, tuple(round(v, 3) for v in rect), round(scale, 4)))
    return out


def with_reading_pages(starts: list[PageStart], edition: Edition, placements: list[Placement]) -> list[PageStart]:
    """Where the pages of PDF readings begin, for the EPUB's page list: at the
    element that stands for each (the layout finds no text of ours there)."""
    by_page = {p.page: p for p in placements}
    works = {w.slug: w for w in edition.parts}
    out = []
    for start in starts:
        placement = by_page.get(start.page)
        if placement is not None:
            start = PageStart(start.page, placeholder_id(works[placement.reading], placement.source_page), 0, 0)
        out.append(start)
    return out


def scales(placements: list[Placement]) -> dict[str, tuple[float, float]]:
    """The smallest and largest scale of each reading's pages."""
    out: dict[str, tuple[float, float]] = {}
    for p in placements:
        low, high = out.get(p.reading, (p.scale, p.scale))
        out[p.reading] = (min(low, p.scale), max(high, p.scale))
    return out
