"""A PDF reading's margins trimmed, and the text of its own furniture found.

A page printed from a browser carries the browser's header and footer in its
margins (the date, the page's title, a ``file://`` address, "1/5"); a journal's
PDF its running heads and page numbers. Laid into the volume, they stand
beside the volume's own running head and folio: two page numbers on a page.
``trim:`` in the reader cuts the page's edges before it is placed (the
placed form's box is the trimmed box, so what lies outside is not drawn)::

    trim: browser                 # Chromium's print margins (the header and footer), top and bottom
    trim: 36                      # points from every edge
    trim: {top: 30, bottom: 40}   # points from the edges named (top, right, bottom, left)

and, for a reading that does not trim, the build warns (``pdf.furniture``)
when furniture of the source stands within 0.6 in of the top or bottom of the
page (the band the PDF/UA checker takes for pagination), where the reader
meets it as a second running head or folio: text a tagged file's structure
does not name, or, in a file without tags, a line that comes back at its place
from page to page (``furniture``). Once a reader trims, the compiler has
looked at the pages' edges: a page's text may well begin 0.5 in from the
trimmed edge. Sides are as the page is displayed (``/Rotate`` followed).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pikepdf

log = logging.getLogger(__name__)

#: Named trims: Chromium prints its header and footer within 26 pt of the
#: page's top and bottom, and the page's own content from 27.7 pt (its default
#: margins) on.
PRESETS = {"browser": (26.0, 0.0, 26.0, 0.0), "none": (0.0, 0.0, 0.0, 0.0)}
SIDES = ("top", "right", "bottom", "left")
#: Text this close to the printed top or bottom edge is page furniture (as ``pdfua_check``).
BAND = 43.2
#: Pages of a reading looked at for furniture: a header or a footer is on every page.
PAGES_LOOKED_AT = 5
#: Numbers, which change from page to page in a header or footer (a folio, "1/5").
DIGITS = re.compile(r"\d+")
#: The Latin ligatures of Unicode's presentation forms (ﬀ to ﬆ).
LIGATURES = ("\ufb00", "\ufb06")
#: Least a trimmed page may keep of its width and height, in points.
LEAST = 72.0

Trim = tuple[float, float, float, float]  # top, right, bottom, left: points, as displayed


def parse(value: Any) -> Trim | str:
    """The trim a reading's ``trim:`` gives, or the message that says what to write."""
    advice = "write trim: browser, trim: 36 (points from every edge) or trim: {top: 30, bottom: 40}"
    if isinstance(value, str) and value in PRESETS:
        return PRESETS[value]
    if _points(value):
        return (float(value),) * 4
    if isinstance(value, dict) and value and set(map(str, value)) <= set(SIDES) and all(map(_points, value.values())):
        return tuple(float(value.get(side, 0)) for side in SIDES)  # type: ignore[return-value]
    return f"'trim' in a PDF reading is {value!r}: {advice}"


def _points(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 10_000


def rotation(page: pikepdf.Page) -> int:
    """The page's /Rotate, its own or the nearest page-tree node's above it."""
    node, seen = page.obj, set()
    while isinstance(node, pikepdf.Dictionary) and node.objgen not in seen:
        if "/Rotate" in node:
            return int(node.get("/Rotate")) % 360
        seen.add(node.objgen)
        node = node.get("/Parent")
    return 0


def visible_box(page: pikepdf.Page) -> list[float]:
    """The box a viewer shows: the trim box, else the crop box, else the media box (inherited)."""
    x0, y0, x1, y1 = (float(v) for v in page.trimbox)
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


def trimmed_box(page: pikepdf.Page, trim: Trim) -> list[float]:
    """The visible box with ``trim`` taken off its displayed sides."""
    x0, y0, x1, y1 = visible_box(page)
    top, right, bottom, left = trim
    # each displayed side, as a side of the unrotated page: (x0, y0, x1, y1) insets
    inset = {
        0: (left, bottom, right, top),
        90: (top, left, bottom, right),
        180: (right, top, left, bottom),
        270: (bottom, right, top, left),
    }[rotation(page) if rotation(page) in (0, 90, 180, 270) else 0]
    return [x0 + inset[0], y0 + inset[1], x1 - inset[2], y1 - inset[3]]


def apply(page: pikepdf.Page, trim: Trim) -> None:
    """Make the trimmed box the page's trim box (what ``as_form_xobject`` places)."""
    if any(trim):
        page.obj.TrimBox = pikepdf.Array(trimmed_box(page, trim))


@contextmanager
def trimmed(page: pikepdf.Page, trim: Trim) -> Iterator[pikepdf.Page]:
    """The page with ``trim`` applied while the block runs, as it was after:
    a file opened once is shared by every reading of the volume that names it."""
    if not any(trim):
        yield page
        return
    before = page.obj.get("/TrimBox")
    apply(page, trim)
    try:
        yield page
    finally:
        if before is None:
            del page.obj["/TrimBox"]
        else:
            page.obj.TrimBox = before


def too_small(page: pikepdf.Page, trim: Trim) -> bool:
    x0, y0, x1, y1 = trimmed_box(page, trim)
    return x1 - x0 < LEAST or y1 - y0 < LEAST


def furniture(data: bytes, first: int, last: int, trim: Trim) -> tuple[str, ...]:
    """The lines of text (the first few) standing within ``BAND`` of the
    printed top or bottom edge of the reading's first pages that are not the
    page's own text. In a tagged file, text its structure does not name (an
    artifact, or content outside every tag: a browser's header and footer, a
    journal's running heads), whose body text may run close to the edge. In
    an untagged one, a line that stands at the same place on another of the
    pages looked at, the same but for its numbers (a running head, "Page 3",
    "1/5"): body text that runs into the band says something else on every
    page. A one-page untagged reading has nothing to compare: any text there.

    The warning is advice: a file whose pages pdfminer cannot read through
    (a font without the entries it expects, which qpdf and the volume's
    outputs never need) is not looked at, and the log says so with ``-v``."""
    try:
        return _furniture(data, first, min(last, first + PAGES_LOOKED_AT - 1), trim)
    except Exception as exc:  # pdfminer's errors are of every kind (KeyError, TypeError, its own, ...)
        log.debug(
            "the edges of pages %d-%d were not looked at for furniture: %s: %s", first, last, type(exc).__name__, exc
        )
        return ()


def _furniture(data: bytes, first: int, last: int, trim: Trim) -> tuple[str, ...]:
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tagged = "/StructTreeRoot" in pdf.Root
        boxes = {n: (trimmed_box(pdf.pages[n - 1], trim), rotation(pdf.pages[n - 1])) for n in range(first, last + 1)}
    pages: list[list[Line]] = []
    for number, chars in _pages_chars(data, first, last):
        box, turn = boxes[number]
        shown = (_shown(c, box, turn) for c in chars if not (tagged and c.tagged))
        pages.append([line for line in _lines([s for s in shown if s is not None]) if line.distance < BAND])
    if not tagged and len(pages) > 1:
        pages = [[line for line in lines if _repeated(line, pages, index)] for index, lines in enumerate(pages)]
    found: dict[str, str] = {}  # each line once, a folio once whatever its number
    for line in (line for lines in pages for line in lines if line.text):
        found.setdefault(DIGITS.sub("#", line.text), line.text)
    return tuple(found.values())[:4]


@dataclass(frozen=True)
class Shown:
    """A character as the page is displayed: its extent across the page, its
    distance from the top and the bottom edge, in points."""

    start: float
    end: float
    top: float
    bottom: float
    size: float
    text: str


@dataclass(frozen=True)
class Line:
    """A line of text near an edge: which edge, how far from it, and its words."""

    edge: str  # "top" or "bottom"
    distance: float
    text: str


def _repeated(line: Line, pages: list[list[Line]], index: int) -> bool:
    """Whether another page has the line at the same place (within 3 pt), the same but for its numbers."""
    masked = DIGITS.sub("#", line.text)
    return any(
        other.edge == line.edge and abs(other.distance - line.distance) <= 3 and DIGITS.sub("#", other.text) == masked
        for number, lines in enumerate(pages)
        if number != index
        for other in lines
    )


def _pages_chars(data: bytes, first: int, last: int) -> Iterator[tuple[int, list]]:
    """Each page's characters as pdfminer reads them (no layout analysis),
    each marked ``tagged`` when it is in a marked-content sequence with an MCID."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    class Marked(PDFPageAggregator):
        """The characters, with whether the structure tree names them."""

        def __init__(self, resources) -> None:
            super().__init__(resources, laparams=None)
            self.marks: list[bool] = []

        def begin_tag(self, _tag, props=None) -> None:
            self.marks.append(isinstance(props, dict) and "MCID" in props)

        def end_tag(self) -> None:
            if self.marks:
                self.marks.pop()

        def render_char(self, *args, **kwargs) -> float:
            advance = super().render_char(*args, **kwargs)
            item = self.cur_item._objs[-1] if self.cur_item._objs else None
            if isinstance(item, LTChar):
                item.tagged = any(self.marks)
            return advance

    resources = PDFResourceManager()
    device = Marked(resources)
    interpreter = PDFPageInterpreter(resources, device)
    for number, page in enumerate(PDFPage.get_pages(io.BytesIO(data), pagenos=set(range(first - 1, last))), first):
        interpreter.process_page(page)
        yield number, list(_chars(device.get_result()))


def _chars(item) -> Iterator:
    from pdfminer.layout import LTChar

    for child in item:
        if isinstance(child, LTChar):
            yield child
        elif hasattr(child, "__iter__"):
            yield from _chars(child)


def _shown(char, box: list[float], turn: int) -> Shown | None:
    """The character where the displayed page has it; ``None`` when the trim cuts it away."""
    x, y = (char.x0 + char.x1) / 2, (char.y0 + char.y1) / 2
    x0, y0, x1, y1 = box
    if not (x0 <= x <= x1 and y0 <= y <= y1):
        return None  # trimmed away: not printed
    start, end, top, bottom = {
        0: (char.x0 - x0, char.x1 - x0, y1 - y, y - y0),
        90: (char.y0 - y0, char.y1 - y0, x - x0, x1 - x),
        180: (x1 - char.x1, x1 - char.x0, y - y0, y1 - y),
        270: (y1 - char.y1, y1 - char.y0, x1 - x, x - x0),
    }.get(turn, (char.x0 - x0, char.x1 - x0, y1 - y, y - y0))
    return Shown(start, end, top, bottom, char.size, _unligated(char.get_text()))


def _unligated(text: str) -> str:
    """A typeface's ligature (ﬁ, ﬂ) as its letters, so the warning quotes "file://" as written."""
    return "".join(unicodedata.normalize("NFKC", c) if LIGATURES[0] <= c <= LIGATURES[1] else c for c in text)


def _lines(chars: list[Shown]) -> list[Line]:
    """Characters as lines of words, top to bottom of the displayed page."""
    rows: dict[int, list[Shown]] = {}
    for char in chars:
        rows.setdefault(round(char.top / 2), []).append(char)  # rows of 2 pt
    out = []
    for _, row in sorted(rows.items()):
        row.sort(key=lambda c: c.start)
        text, last = "", None
        for char in row:
            if last is not None and char.start - last.end > 0.25 * max(char.size, 1):
                text += " "
            text += char.text
            last = char
        top, bottom = sum(c.top for c in row) / len(row), sum(c.bottom for c in row) / len(row)
        edge, distance = ("top", top) if top <= bottom else ("bottom", bottom)
        out.append(Line(edge, distance, " ".join(text.split())))
    return out
