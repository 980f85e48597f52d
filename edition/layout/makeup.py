"""Making up pages: where each page of a run of text ends, so that every note
stands on its call's page and no page is left short.

WeasyPrint sets a footnote on its call's page when the note fits; when it does
not, it moves the call's line over (leaving the page short by the note's
height), and sometimes it prints the note a page late or drops it
(Kozea/WeasyPrint #1564, #1924, #2502). It cannot split a note across pages
(its footnote area is laid out whole).

From one layout this module reads each *chunk* (the pages between two forced
breaks of the document's structure: a part, a document, the back matter) as a
list of lines with their heights, the space between them and the notes each
line calls, with the notes' heights. Where a chunk has a faulty page (a note
off its call's page, or a page more than two lines short), it makes up the
chunk again from that page, as a typesetter does:

- a page takes lines while they and their notes fit;
- it ends where a paragraph may break: never right after a heading, never
  leaving a paragraph's first line alone at the foot or its last line alone
  at the head of a page;
- if the line that did not fit misses the page by less than the lines that
  paragraphs above it can give up, those paragraphs are set a line tighter
  (slightly less word and letter spacing, LaTeX's ``\\looseness=-1``);
- if a line or more is left over, paragraphs of the page are set a line
  looser to fill it (``\\looseness=1``).

The page ends become forced breaks in the next layout (a paragraph ended with
a justified line, its rest starting the next page), which the next round
checks; a chunk whose make-up does not change is left as it is.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from weasyprint.document import Document
from weasyprint.formatting_structure import boxes

from edition.layout import htmlmarks, runon
from edition.layout.pages import (
    _line_chars,
    _line_index,
    _note_key,
    _page_start,
    _walk,
    is_continued,
    note_placement,
    text_blocks,
)
from edition.layout.runon import NoteText

FORCED = {"page", "left", "right", "recto", "verso"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
#: Paragraph parts made by a correction: their forced break is not the structure's.
CORRECTION_CLASSES = {"continued", "page-start", "page-end", "float-moved"}
#: A page end after a whole paragraph (before a heading or a table that follows it).
AFTER = -1
#: A page may end this many body lines short; more is a fault (where no chunk ends).
SHORT_LINES = 2.0
#: More than this many lines short is a hole (the preflight's fault).
HOLE_LINES = 3.0
#: Changes to a paragraph set a line tighter or looser (see print.css).
WORD_SPACING_EM = 0.05
LETTER_SPACING_EM = 0.01
MAX_LOOSENED = 3
#: A change of spacing is counted on to move a paragraph by one line only if it
#: frees (or takes) this much more than its last line needs, in measures
#: (measured on generated paragraphs: below a fifth, some move no line; above
#: four fifths, some move two). A tighter paragraph that keeps its lines would
#: push a line off a page made up for it, so tightening asks for a fifth;
#: a looser one that keeps its lines only leaves its page as short as it was.
SPARE = {-1: (0.2, 0.8), +1: (0.05, 0.8)}
MAX_TIGHTENED = 2

NoteKey = tuple[str, int]
Position = tuple[str, int, int]  # (work, paragraph ordinal, non-space characters before)
Block = tuple[str, str, int]  # ("#", id of the nearest element with one, index of the text block under it)
End = Position | Block


@dataclass
class Line:
    """One line of the main flow (or one table row, as a unit)."""

    page: int  # 0-based index in document.pages
    top: float
    bottom: float
    chain: list[boxes.Box]  # block boxes from the flow root down to the line's block
    box: boxes.Box | None  # the LineBox (None for a table row)
    calls: list[NoteKey]
    position: Position | None = None  # where the line begins, if its paragraph is addressable
    block: Block | None = None  # the block a first line begins, by the nearest id (for a break before it)
    index: int = 0  # the line's index among its element's lines
    total: int = 1  # the element's lines in the whole document
    float: int | None = None  # the figure or table the line belongs to (its number in the work's order)

    @property
    def element(self):
        return self.chain[-1].element

    @property
    def tag(self) -> str:
        return self.chain[-1].element_tag

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass
class Page:
    number: int  # 0-based
    top: float  # content box top
    bottom: float  # content box bottom
    lines: list[Line]
    notes_height: float  # the footnote area as laid out (0 without notes)
    carried: list[tuple[NoteKey, int]] = field(default_factory=list)  # parts of notes run on from before


@dataclass
class Flow:
    pages: list[Page]
    lines: list[Line]
    note_heights: dict[NoteKey, float]
    chrome: float  # the footnote area's margin, rule and padding
    notes_limit: float  # the footnote area's max-height
    line_height: float  # the body's line
    chunk_starts: list[int]  # page numbers that open a chunk
    texts: dict[NoteKey, NoteText] = field(default_factory=dict)  # each note's lines, all its parts

    def chunks(self) -> Iterator[list[Page]]:
        starts = [*self.chunk_starts, len(self.pages)]
        for a, b in zip(starts, starts[1:], strict=False):
            yield self.pages[a:b]


@dataclass
class Corrections:
    """What the layout asks of the next rendering: page ends inside
    paragraphs (by chunk) and paragraphs set a line tighter or looser."""

    ends: dict[tuple, list[tuple[int, End]]] = field(default_factory=dict)  # chunk -> (page in chunk, end)
    spacing: dict[tuple[str, int], int] = field(default_factory=dict)  # (work, paragraph) -> -1 | +1
    attempts: collections.Counter = field(default_factory=collections.Counter)
    filled: dict[tuple, bool] = field(default_factory=dict)  # short pages tried once (True: given an end)
    # notes that run on: chunk -> (page in chunk, note, non-space characters of the note on pages
    # before, the note called beside it that its later parts follow, if any)
    cuts: dict[tuple, list[tuple[int, NoteKey, int, NoteKey | None]]] = field(default_factory=dict)
    # figures and tables moved to the head of a page: chunk -> (page in chunk before it, float's number)
    floats: dict[tuple, list[tuple[int, int]]] = field(default_factory=dict)
    # element id -> page: the page numbers the next layout prints written out (``pagerefs``)
    page_numbers: dict[str, int] = field(default_factory=dict)

    def marks(self) -> dict[str, dict[int, tuple[tuple[int, ...], int]]]:
        """work -> paragraph ordinal -> (cuts, spacing), for the renderer."""
        out: dict[str, dict[int, tuple[list[int], int]]] = {}
        for ends in self.ends.values():
            for _, (work, paragraph, chars) in ends:
                if work == "#":
                    continue
                cuts, spacing = out.setdefault(work, {}).setdefault(paragraph, ([], 0))
                cuts.append(chars)
        for (work, paragraph), spacing in self.spacing.items():
            cuts, _ = out.setdefault(work, {}).setdefault(paragraph, ([], 0))
            out[work][paragraph] = (cuts, spacing)
        return {w: {p: (tuple(sorted(set(c))), s) for p, (c, s) in ps.items()} for w, ps in out.items()}

    def blocks(self) -> list[tuple[str, int]]:
        """(id, text block index) of the blocks a page must start with."""
        return sorted({(anchor, index) for ends in self.ends.values() for _, (w, anchor, index) in ends if w == "#"})

    def note_cuts(self) -> dict[NoteKey, tuple[tuple[int, ...], NoteKey | None]]:
        """note -> where it breaks (characters before each later part), and
        the note called beside it that its later parts follow."""
        out: dict[NoteKey, set[int]] = {}
        after: dict[NoteKey, NoteKey | None] = {}
        for cuts in self.cuts.values():
            for _, key, chars, beside in cuts:
                out.setdefault(key, set()).add(chars)
                after[key] = after.get(key) or beside
        return {key: (tuple(sorted(chars)), after[key]) for key, chars in sorted(out.items())}

    def float_moves(self) -> list[tuple[int, End]]:
        """(float's number, the end of the page it follows) of every moved float."""
        out = []
        for chunk, moves in self.floats.items():
            ends = dict(self.ends.get(chunk, []))
            out += [(index, ends[offset]) for offset, index in moves if offset in ends]
        return sorted(out, key=lambda m: m[0])

    @property
    def count(self) -> int:
        moved = sum(len(v) for v in self.floats.values())
        return (
            sum(len(v) for v in self.ends.values())
            + len(self.spacing)
            + sum(len(v) for v in self.cuts.values())
            + moved
        )


# -- reading the layout -----------------------------------------------------------------


def _px(value) -> float:
    return float(value.value) if getattr(value, "unit", None) == "px" else 0.0


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split()) if element is not None else set()


def _calls(box: boxes.Box) -> list[NoteKey]:
    out = []
    for b in _walk(box):
        footnote = getattr(b, "footnote", None)
        if footnote is not None and not is_continued(footnote.element):
            key = _note_key(footnote.element)
            if key:
                out.append(key)
    return out


def _page_lines(page_number: int, root: boxes.Box) -> list[Line]:
    """The page's lines in flow order: line boxes of block containers and
    table rows as units; floats and absolutely placed boxes are not flow."""
    out: list[Line] = []

    def visit(box: boxes.Box, chain: list[boxes.Box]) -> None:
        for child in getattr(box, "children", ()) or ():
            if isinstance(child, boxes.LineBox):
                out.append(
                    Line(page_number, child.position_y, child.position_y + child.height, chain, child, _calls(child))
                )
            elif isinstance(child, boxes.TableRowBox):
                top, bottom = child.position_y, child.position_y + child.margin_height()
                out.append(Line(page_number, top, bottom, [*chain, child], None, _calls(child)))
            elif (
                isinstance(child, boxes.BlockLevelBox)
                and child.is_in_normal_flow()
                or isinstance(child, (boxes.TableBox, boxes.TableRowGroupBox))
                and child.is_in_normal_flow()
            ):
                visit(child, [*chain, child])

    visit(root, [root])
    return out


def read_flow(document: Document) -> Flow:
    pages: list[Page] = []
    lines: list[Line] = []
    note_heights: dict[NoteKey, float] = {}
    chromes: list[float] = []
    limits: list[float] = []
    notes_of_pages: list[list[boxes.Box]] = []
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        root, *areas = page_box.children
        notes_height = 0.0
        carried: list[tuple[NoteKey, int]] = []
        for area in areas:
            if isinstance(area, boxes.FootnoteAreaBox):
                limit = area.style["max_height"]
                if getattr(limit, "unit", None) == "%":
                    limits.append(limit.value / 100 * page_box.height)
                elif getattr(limit, "unit", None) == "px":
                    limits.append(limit.value)
            if isinstance(area, boxes.FootnoteAreaBox) and area.children:
                heights = [c.margin_height() for c in area.children]
                # the area is held to its max-height; notes it cannot hold (a part run on,
                # set whole) reach past it, off the foot of the page: count them
                notes_height = max(area.margin_height(), sum(heights) + area.margin_height() - area.height)
                if sum(heights) <= area.height + 0.5:  # (an area its notes overflow says nothing of its chrome)
                    chromes.append(notes_height - sum(heights))
                for child in area.children:
                    key = _note_key(child.element)
                    if key and not is_continued(child.element):
                        note_heights.setdefault(key, child.margin_height())
                notes_of_pages.append(list(area.children))
                carried = runon.carried(list(area.children))
        page_lines = _page_lines(number, root)
        top = page_box.content_box_y()
        pages.append(Page(number, top, top + page_box.height, page_lines, notes_height, carried))
        lines.extend(page_lines)
    _number_lines(lines)
    _mark_floats(document, lines)
    heights = collections.Counter(round(line.height, 1) for line in lines if line.tag == "p")
    return Flow(
        pages,
        lines,
        note_heights,
        min(chromes) if chromes else 0.0,
        min(limits) if limits else float("inf"),
        heights.most_common(1)[0][0] if heights else 16.0,
        _chunk_starts(pages),
        runon.read_notes(notes_of_pages),
    )


def _mark_floats(document: Document, lines: list[Line]) -> None:
    """Which lines belong to a figure or table (``htmlmarks.floats_in``), by
    its number in the order the text places them."""
    if not document.pages:
        return
    html = document.pages[0]._page_box.children[0].element
    numbers = {id(e): int(e.get("data-float") or i) for i, e in enumerate(htmlmarks.floats_in(html))}
    if not numbers:
        return
    for line in lines:
        line.float = next((numbers[id(b.element)] for b in line.chain if id(b.element) in numbers), None)


def _number_lines(lines: list[Line]) -> None:
    """Each line's index among its element's lines, the element's total, and
    where an addressable paragraph's line begins (data-p, data-chars)."""
    by_element: dict[int, list[Line]] = {}
    for line in lines:
        by_element.setdefault(id(line.element), []).append(line)
    for group in by_element.values():
        element = group[0].element
        address = element.get("data-p") if element is not None and group[0].tag == "p" else None
        work, _, ordinal = (address or "").rpartition(":")
        chars = int(element.get("data-chars") or 0) if address else 0
        for i, line in enumerate(group):
            line.index, line.total = i, len(group)
            if address and work and ordinal.isdigit():
                line.position = (work, int(ordinal), chars)
                chars += _line_chars(line.box) if line.box is not None else 0
    _name_blocks(by_element)
    # a paragraph split by an earlier correction is one paragraph: count its parts together
    logical: dict[tuple[str, int], list[Line]] = {}
    for line in lines:
        if line.position:
            logical.setdefault(line.position[:2], []).append(line)
    for group in logical.values():
        for i, line in enumerate(group):
            line.index, line.total = i, len(group)


def _name_blocks(by_element: dict[int, list[Line]]) -> None:
    """Name the block each element's first line begins as the nearest element
    with an id and the block's index among its text blocks (a table row by
    its first cell), as the EPUB's page starts are named."""
    blocks_of: dict[int, dict[int, int]] = {}  # anchor -> its text blocks' positions
    for group in by_element.values():
        line = group[0]
        element = line.element
        if line.box is None and line.chain[-1].children:  # a table row: its first cell
            cells = [c for c in line.chain[-1].children if c.element is not None]
            element = cells[0].element if cells else None
        anchor = next(
            (
                b.element
                for b in reversed(line.chain[:-1] if line.box is None else line.chain)
                if b.element is not None and b.element.get("id") and b.element is not element
            ),
            None,
        )
        if element is None or anchor is None:
            continue
        if id(anchor) not in blocks_of:  # found once per anchor (``setdefault`` would walk it for every line)
            blocks_of[id(anchor)] = {id(b): n for n, b in enumerate(text_blocks(anchor))}
        position = blocks_of[id(anchor)].get(id(element))
        if position is not None:
            line.block = ("#", anchor.get("id"), position)


def _first_of(line: Line, lines_of: dict[int, Line]) -> list[boxes.Box]:
    return [b for b in line.chain if b.element is not None and lines_of.get(id(b.element)) is line]


def _chunk_starts(pages: list[Page]) -> list[int]:
    """Pages that begin after a forced break of the structure (not one made
    by a correction), or after a page without lines."""
    first_line: dict[int, Line] = {}
    last_line: dict[int, Line] = {}
    for page in pages:
        for line in page.lines:
            for b in line.chain:
                if b.element is not None:
                    first_line.setdefault(id(b.element), line)
                    last_line[id(b.element)] = line
    starts = [0]
    for number in range(1, len(pages)):
        page, previous = pages[number], pages[number - 1]
        if not page.lines or not previous.lines:
            starts.append(number)
            continue
        head, tail = page.lines[0], previous.lines[-1]
        opened = [
            b
            for b in head.chain
            if b.element is not None and first_line.get(id(b.element)) is head and b.style["break_before"] in FORCED
        ]
        closed = [
            b
            for b in tail.chain
            if b.element is not None
            and last_line.get(id(b.element)) is tail
            and b.style["break_after"] in FORCED
            and not _classes(b.element) & CORRECTION_CLASSES
        ]
        if any(not (_classes(b.element) & CORRECTION_CLASSES) for b in opened) or closed:
            starts.append(number)
    return starts


# -- what is wrong ------------------------------------------------------------------------


def page_shortfall(flow: Flow, page: Page) -> float:
    """Empty space at the foot of the text block, in body lines."""
    if not page.lines:
        return 0.0
    used = max(line.bottom for line in page.lines) + page.notes_height
    return (page.bottom - used) / flow.line_height


def short_pages(flow: Flow, limit: float = SHORT_LINES) -> list[tuple[int, float]]:
    """(page, lines short) for every page more than ``limit`` lines short
    where no section ends: the chunk goes on (no forced break follows), and
    the next page does not open with a heading that needs more room than was
    left (a heading is kept with two lines of its text)."""
    out = []
    for chunk in flow.chunks():
        for page, following in zip(chunk, chunk[1:], strict=False):
            short = page_shortfall(flow, page)
            if short > limit and not _heading_needs(following) > short * flow.line_height:
                out.append((page.number, short))
    return out


#: Lines of text a heading is kept with at the foot of a page (the paragraph's orphans).
KEPT_WITH_HEADING = 2


def _kept_with_heading(first: Line | None) -> int:
    """The lines of the text after a heading that go with it to the foot of a
    page: two, or the whole paragraph when it is too short to leave two on
    either side of a break (three lines cannot break without a widow)."""
    if first is None or first.index != 0 or first.total >= 2 * KEPT_WITH_HEADING:
        return KEPT_WITH_HEADING
    return first.total


def _heading_needs(page: Page) -> float:
    """The height a page's opening heading would need at the foot of the page
    before: the space its style asks above it, its lines, and the lines kept
    with it; 0 when the page does not open with a heading."""
    lines = page.lines
    if not lines or not (lines[0].tag in HEADINGS or _in_header(lines[0])):
        return 0.0
    last = 0
    while last < len(lines) and (lines[last].tag in HEADINGS or _in_header(lines[last])):
        last += 1
    last = min(len(lines), last + _kept_with_heading(lines[last] if last < len(lines) else None)) - 1
    above = max((_px(b.style["margin_top"]) for b in lines[0].chain[1:]), default=0.0)
    return above + lines[last].bottom - lines[0].top


# -- making up pages -------------------------------------------------------------------


def _margin_top(line: Line, first: dict[int, Line]) -> float:
    return max((_px(b.style["margin_top"]) for b in _first_of(line, first)), default=0.0)


def _margin_bottom(line: Line, last: dict[int, Line]) -> float:
    return max((_px(b.style["margin_bottom"]) for b in _first_of(line, last)), default=0.0)


@dataclass
class _Run:
    """The lines of a chunk from the first faulty page on, with the space
    before each line as it would be on the same page."""

    lines: list[Line]
    gaps: list[float]  # gaps[i]: space between lines[i-1] and lines[i]
    tops: list[float]  # margin a line keeps at the head of a page (after a forced break)


def _run(flow: Flow, pages: list[Page], back: dict[int, Line] | None = None) -> _Run:
    """The lines of ``pages`` with the space before each; the floats of
    ``back`` (a float's number -> the line it stood before in the text) put
    back where the text places them (their move is being made again)."""
    first: dict[int, Line] = {}
    last: dict[int, Line] = {}
    for line in flow.lines:
        for b in line.chain:
            if b.element is not None:
                first.setdefault(id(b.element), line)
                last[id(b.element)] = line
    lines = [line for page in pages for line in page.lines]
    for number, anchor in (back or {}).items():
        moved = [line for line in lines if line.float == number]
        if moved and anchor in lines and anchor not in moved:
            lines = [line for line in lines if line.float != number]
            at = lines.index(anchor)
            lines[at:at] = moved
    order = {id(line): n for n, line in enumerate(flow.lines)}
    gaps, tops = [0.0], []
    for i, line in enumerate(lines):
        tops.append(_margin_top(line, first) if line.index == 0 else 0.0)
        if i == 0:
            continue
        before = lines[i - 1]
        if before.page == line.page and order[id(line)] == order[id(before)] + 1:
            gaps.append(line.top - before.bottom)
        elif before.element is line.element or (
            before.position and line.position and before.position[:2] == line.position[:2]
        ):
            gaps.append(0.0)
        else:
            gaps.append(max(_margin_bottom(before, last), _margin_top(line, first)))
    return _Run(lines, gaps, tops)


def _in_header(line: Line) -> bool:
    return any(b.element_tag == "header" for b in line.chain)


def _may_end_before(run: _Run, b: int, start: int) -> str | None:
    """Whether a page that began at line ``start`` may end before line ``b``:
    "pin" where a forced break must be made (inside or before a paragraph of
    the text), "after" after a paragraph (before a heading or a table),
    "block" before another block named by the nearest id, "natural" where the
    layout is left to break by itself; None where a page must not end (after a
    heading or inside a header block or a figure or table kept whole,
    leaving an orphan or a widow)."""
    line, before = run.lines[b], run.lines[b - 1]
    if b <= start or before.tag in HEADINGS or before.tag == "caption" or _in_header(before) or _in_header(line):
        return None
    if line.float is not None and line.float == before.float:
        return None
    if line.position is None:
        if line.index != 0:
            return None
        if before.position is not None and before.index == before.total - 1:
            return "after"
        return "block" if line.block else "natural"
    if line.index == 0:
        return "pin"
    on_page = sum(
        1 for k in range(start, b) if run.lines[k].position and run.lines[k].position[:2] == line.position[:2]
    )
    return "pin" if on_page >= 2 and line.total - line.index >= 2 else None


def _natural_width(line: Line) -> tuple[float, int, int]:
    """(width without justification, spaces, characters) of a line."""
    width, spaces, chars = 0.0, 0, 0
    if line.box is None:
        return 0.0, 0, 0
    for b in _walk(line.box):
        if isinstance(b, boxes.TextBox):
            n = b.text.count(" ") + b.text.count("\u00a0")
            width += b.width - (getattr(b, "justification_spacing", 0) or 0) * n
            spaces += n
            chars += len(b.text)
    return width, spaces, chars


def _respaced_by_a_line(lines: list[Line], sign: int, high: float | None = None) -> float | None:
    """Whether setting a paragraph tighter (sign -1) or looser (+1) makes it
    exactly one line shorter or longer (or, with ``high``, at least one): the
    width the change frees or takes, against what its last line holds or lacks
    (with a margin, as words do not break anywhere). Returns how sure (the
    spare width, in measures), or None."""
    if len(lines) < 3 or any(line.box is None for line in lines):
        return None
    em = lines[0].box.style["font_size"]
    delta_word, delta_letter = WORD_SPACING_EM * em, LETTER_SPACING_EM * em
    body = [_natural_width(line) for line in lines]
    counted = body if sign > 0 else body[:-1]
    change = sum(spaces * delta_word + chars * delta_letter for _, spaces, chars in counted)
    measure = lines[0].chain[-1].width
    last = body[-1][0]
    need = last if sign < 0 else measure - last
    spare = (change - need) / measure
    # words do not break anywhere: a small spare may not move a line; a large one may move two
    low, most = SPARE[sign]
    return spare if low <= spare <= (most if high is None else high) else None


def _candidates(run: _Run, start: int, end: int, sign: int, taken: set) -> list[tuple[str, int]]:
    """Paragraphs wholly between lines ``start`` and ``end`` (not parts of a
    split one) that a change of spacing would shorten or lengthen by exactly
    a line, surest first."""
    groups: dict[tuple[str, int], list[Line]] = {}
    for k in range(start, end):
        line = run.lines[k]
        if line.position:
            groups.setdefault(line.position[:2], []).append(line)
    out = []
    for key, lines in groups.items():
        whole = len(lines) == lines[0].total and lines[0].index == 0 and not lines[0].position[2]
        if key in taken or not whole or "continued" in _classes(lines[0].element):
            continue
        sure = _respaced_by_a_line(lines, sign)
        if sure is not None:
            out.append((sure, key))
    return [key for _, key in sorted(out, reverse=True)]


@dataclass
class Plan:
    """How one page is to end: the forced break (if one is needed), the
    paragraphs to respace, how short the page is predicted to be, and the
    note that breaks at its foot to run on (its key and the characters of it
    the page keeps)."""

    end: End | None
    spacing: dict[tuple[str, int], int]
    short: float  # in body lines
    cut: tuple[NoteKey, int, NoteKey | None] | None = None
    float: int | None = None  # a figure or table moved to the head of the next page


@dataclass
class _Page:
    """What planning one page knows: the run's lines from the page's head,
    each line's bottom, the notes' heights and lines, the note run on from
    the page before (and from which of its lines), and where the page ends."""

    flow: Flow
    run: _Run
    notes: dict[NoteKey, float]
    texts: dict[NoteKey, NoteText]
    bottom: float
    carried: tuple[NoteKey, int] | None = None
    bottoms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        position = self.run.lines[0].top
        for i, line in enumerate(self.run.lines):
            position += (self.run.gaps[i] if i else 0.0) + line.height
            self.bottoms.append(position)

    @property
    def lines(self) -> list[Line]:
        return self.run.lines

    def base(self) -> float:
        """The height of the part run on from the page before, all of it."""
        if self.carried is None:
            return 0.0
        key, start = self.carried
        return self.texts[key].height(start)

    def keys(self, upto: int, without: NoteKey | None = None) -> list[NoteKey]:
        keys: list[NoteKey] = []
        for i in range(upto + 1):
            keys += [k for k in self.lines[i].calls if k != without and k not in keys]
        return keys

    def notes_height(self, upto: int, without: NoteKey | None = None, base: float | None = None) -> float:
        """The footnote area with the notes called on lines 0 to ``upto``
        (and the part run on from the page before)."""
        base = self.base() if base is None else base
        keys = self.keys(upto, without)
        if not keys and not base:
            return 0.0
        return self.flow.chrome + base + sum(self.notes.get(k, self.flow.line_height) for k in keys)

    def fits(self, i: int, lift: float = 0.0) -> bool:
        notes = self.notes_height(i)
        if self.bottoms[i] - lift + notes > self.bottom:
            return False
        return notes <= self.flow.notes_limit  # the area keeps to its limit (CSS max-height)

    def short(self, end: int, allowance: float = 0.0, notes: float | None = None) -> float:
        notes = self.notes_height(end - 1) if notes is None else notes
        return (self.bottom - (self.bottoms[end - 1] - allowance + notes)) / self.flow.line_height


def plan_page(
    flow: Flow,
    run: _Run,
    notes: dict[NoteKey, float],
    taken: set,
    safety: float,
    carried: tuple[NoteKey, int] | None = None,
) -> Plan | None:
    """The make-up of the first page of ``run``: it takes lines while they and
    their notes fit, ends where a page may end, then gives room to the line
    that did not fit by setting paragraphs above it tighter, or fills what is
    left by setting paragraphs looser. Where that leaves the page short (a
    note too long for the room its call's line leaves), a note breaks at the
    page's foot and runs on (``runon``): the one called last on the line that
    did not fit, or the part run on from the page before (``carried``: the
    note and its first line on this page). None if the page cannot end before
    the run does (it is the run's last page) or has no place to end."""
    page = _Page(flow, run, notes, flow.texts, flow.pages[run.lines[0].page].bottom - safety, carried)
    fit = _last_fitting(page)
    if fit >= len(run.lines) - 1:
        return None
    whole = _plan_whole(page, fit, taken)
    if whole is not None and whole.short <= SHORT_LINES:
        return whole
    broken = [p for p in (_break_carried(page), _break_called(page, fit), _float_on(page, fit, taken)) if p is not None]
    options = [p for p in (whole, *broken) if p is not None]
    return min(options, key=lambda p: p.short) if options else None


def _last_fitting(page: _Page, allowance: float = 0.0, after: int = 0) -> int:
    fit = 0
    for i in range(1, len(page.lines)):
        if not page.fits(i, allowance if i >= after else 0.0):
            break
        fit = i
    return fit


def _end_at_or_before(page: _Page, fit: int) -> int | None:
    return next((b for b in range(fit + 1, 0, -1) if _may_end_before(page.run, b, 0)), None)


def _plan_whole(page: _Page, fit: int, taken: set) -> Plan | None:
    """The page ends where its lines and their notes, each whole, fit."""
    flow, run, lines = page.flow, page.run, page.lines
    end = _end_at_or_before(page, fit)
    if end is None:
        return None
    spacing: dict[tuple[str, int], int] = {}
    short = page.short(end)
    if short >= 1:  # give the line that did not fit the room it lacks
        tight = _candidates(run, 0, fit + 1, -1, taken)[:MAX_TIGHTENED]
        for count in range(1, len(tight) + 1):
            last_line = max(i for i, line in enumerate(lines) if line.position and line.position[:2] in tight[:count])
            allowance = count * flow.line_height
            later = _end_at_or_before(page, _last_fitting(page, allowance, last_line + 1))
            if later is not None and later > end and 0 <= page.short(later, allowance) < short:
                end, short = later, page.short(later, allowance)
                spacing.update({key: -1 for key in tight[:count]})
                break
    if short >= 2:  # fill what is left, keeping a line in hand
        for key in _candidates(run, 0, end, +1, taken | set(spacing))[: min(MAX_LOOSENED, int(short) - 1)]:
            spacing[key] = +1
            short -= 1
    if short > HOLE_LINES:  # still a hole: the paragraph the page ends in, a line looser, gives it one more
        key = _straddling(run, end, taken | set(spacing))
        if key is not None:
            # no cut: one at the characters the looser lines no longer end on would leave the
            # page's last line short and stretched (text-align-last: justify); the layout ends
            # the page where the looser lines fall, keeping its widows and orphans
            return Plan(None, {**spacing, key: +1}, short - 1)
    return Plan(_end_position(run, end), spacing, short)


def _straddling(run: _Run, end: int, taken: set) -> tuple[str, int] | None:
    """The paragraph a page that ends before line ``end`` ends in, if a line
    looser it fills one more line of the page (set looser, it takes a line
    more before its own lines at the head of the next page, which the layout
    keeps two or more)."""
    if end >= len(run.lines) or end < 3:
        return None
    line = run.lines[end]
    if line.position is None or line.index == 0 or line.position[:2] in taken:
        return None
    on_page = [x for x in run.lines[:end] if x.position and x.position[:2] == line.position[:2]]
    if len(on_page) < 3 or on_page[0].index != 0 or "continued" in _classes(on_page[0].element):
        return None
    whole = [x for x in run.lines if x.position and x.position[:2] == line.position[:2]]
    if len(whole) != line.total:
        return None
    # a line more or two: the layout keeps its lines at the next page's head together either way
    return line.position[:2] if _respaced_by_a_line(whole, +1, high=2.0) is not None else None


def _end_position(run: _Run, end: int) -> End | None:
    """How the page that ends before line ``end`` is told to end."""
    kind = _may_end_before(run, end, 0) if end < len(run.lines) else None
    if kind == "pin":
        return run.lines[end].position
    if kind == "after":  # before a heading or a table: the paragraph before it ends the page
        work, paragraph, _ = run.lines[end - 1].position
        return (work, paragraph, AFTER)
    if kind == "block":
        return run.lines[end].block
    return None


def _break_called(page: _Page, fit: int) -> Plan | None:
    """A note called on the line that did not fit breaks at the foot of the
    page and runs on: the page ends on that line (or on the lines after it
    that call no note, while the area keeps to its limit), and the note keeps
    what the room left holds. The note called last on the line breaks; if it
    is too short to, the longest one called before it on the page does, and
    its later parts follow the last note called (the notes called after it
    are set whole on the page, between its first part and the next page's)."""
    j = fit + 1
    if j >= len(page.lines) or not page.lines[j].calls:
        return None
    last = page.lines[j].calls[-1]
    earlier = sorted(page.keys(j, without=last), key=lambda k: -len(page.texts[k].lines) if k in page.texts else 0)
    for key in [last, *earlier]:
        plan = _break_note(page, j, key, last if key != last else None)
        if plan is not None:
            return plan
    return None


def _break_note(page: _Page, j: int, key: NoteKey, beside: NoteKey | None) -> Plan | None:
    lines = page.lines
    text = page.texts.get(key)
    if text is None or len(text.lines) < 2 * runon.MIN_LINES:
        return None
    others = page.notes_height(j, without=key)
    chrome = 0.0 if others else page.flow.chrome
    best = None
    b = j + 1
    while b <= len(lines):
        if b > j + 1 and lines[b - 1].calls:
            break
        if b == len(lines) or _may_end_before(page.run, b, 0):
            room = page.bottom - page.bottoms[b - 1] - others - chrome
            cap = page.flow.notes_limit - others - chrome
            count = runon.break_after(text, 0, min(room, cap))
            if count is not None:
                short = (room - text.height(0, count)) / page.flow.line_height
                if best is None or short < best.short - 0.01:
                    best = Plan(_end_position(page.run, b), {}, short, (key, text.lines[count].chars, beside))
                if short < 1:
                    break
        b += 1
    return best


def _float_on(page: _Page, fit: int, taken: set) -> Plan | None:
    """A figure or table that does not fit on the page (wholly, or only in
    part) moves to the head of the next page, and the text after it runs on
    to fill this one."""
    lines = page.lines
    j = fit + 1
    if j >= len(lines) or lines[j].float is None:
        return None
    number = lines[j].float
    first = min(i for i, line in enumerate(lines) if line.float == number)
    last = max(i for i, line in enumerate(lines) if line.float == number)
    if first == 0 or last + 1 >= len(lines):
        return None  # it heads the page already, or ends the run
    kept = [k for k in range(len(lines)) if not first <= k <= last]
    gaps = [0.0 if k == last + 1 else page.run.gaps[k] for k in kept]
    rest = _Page(
        page.flow,
        _Run([lines[k] for k in kept], gaps, [page.run.tops[k] for k in kept]),
        page.notes,
        page.texts,
        page.bottom,
        page.carried,
    )
    rest_fit = _last_fitting(rest)
    if rest_fit < first or rest_fit >= len(rest.lines) - 1:
        return None  # no text from after it comes onto the page, or the run ends here
    plan = _plan_whole(rest, rest_fit, taken)
    if plan is None or plan.end is None or not _after(rest.run, plan.end, first):
        return None
    plan.float = number
    return plan


def _after(run: _Run, end: End, first: int) -> bool:
    """Whether the page that ends at ``end`` holds lines from ``first`` on."""
    return any(line.position == end or line.block == end for line in run.lines[first + 1 :]) or (
        end[-1] == AFTER and any(line.position and line.position[:2] == end[:2] for line in run.lines[first:])
    )


def _break_carried(page: _Page) -> Plan | None:
    """The part run on from the page before breaks again: the page holds the
    lines that call no note (WeasyPrint sets no note of the page while a part
    waits for the next), and the part keeps what the room left holds."""
    if page.carried is None:
        return None
    key, start = page.carried
    text = page.texts[key]
    lines = page.lines
    first_call = next((i for i, line in enumerate(lines) if line.calls), len(lines))
    for b in range(first_call, 0, -1):
        if b < len(lines) and not _may_end_before(page.run, b, 0):
            continue
        room = min(page.bottom - page.bottoms[b - 1], page.flow.notes_limit) - page.flow.chrome
        count = runon.break_after(text, start, room)
        if count is None:
            continue
        short = (room - text.height(start, start + count)) / page.flow.line_height
        return Plan(_end_position(page.run, b), {}, short, (key, text.lines[start + count].chars, None))
    return None


#: Rounds after which only notes off their page are corrected (no more filling of short pages).
FILL_ROUNDS = 20


def next_corrections(
    document: Document,
    corrections: Corrections,
    measure: Callable[[list[NoteKey]], dict[NoteKey, NoteText]],
    fill: bool = True,
) -> bool:
    """For every chunk, the first page that is faulty and can be mended gets a
    new end (and respaced paragraphs, or a note that runs on); the pages after
    it are left to the next layout. A page is faulty when a note is off its
    call's page, a note that runs on skips a page, or its notes overflow it;
    it is always mended. A short page is filled only if the make-up predicts
    it full enough. Returns whether anything changed."""
    flow = read_flow(document)
    placement = note_placement(document)
    misplaced = {call - 1 for _, _, call, _ in placement.faults() if call is not None}
    misplaced |= {page - 1 for _, _, page, _ in placement.broken()}
    misplaced |= {p.number for p in flow.pages if _overflows(flow, p)}
    short = dict(short_pages(flow)) if fill else {}
    index = _line_index(document)
    changed = False
    for chunk in flow.chunks():
        key = _chunk_key(document, index, chunk[0])
        unfollowed = _not_followed(chunk, key, corrections)
        for page in (p for p in chunk if p.number in misplaced or p.number in short or p.number in unfollowed):
            must = page.number in misplaced or page.number in unfollowed
            if page.lines and _mend(flow, chunk, page, key, must, short.get(page.number), corrections, measure):
                changed = True
                break
    return changed


def _not_followed(chunk: list[Page], key: tuple, corrections: Corrections) -> set[int]:
    """Pages the layout did not end where the make-up said (a line more or less
    than predicted): they are made up again, freer at the foot."""
    out = set()
    for offset, end in corrections.ends.get(key, []):
        if offset + 1 >= len(chunk):
            continue
        page, following = chunk[offset], chunk[offset + 1]
        if not _ends_at(page, following, end):
            out.add(page.number)
    return out


def _ends_at(page: Page, following: Page, end: End) -> bool:
    if end[0] == "#":
        return any(line.block == end for line in following.lines[:3])
    if end[-1] == AFTER:
        return bool(page.lines) and any(
            line.position and line.position[:2] == end[:2] and line.index == line.total - 1 for line in page.lines
        )
    return any(line.position == end for line in following.lines)


def _overflows(flow: Flow, page: Page) -> bool:
    """Whether a page's notes and lines reach past its foot (a part run on
    that was not broken to fit)."""
    return bool(page.lines) and page_shortfall(flow, page) < -0.5


#: Tries per page and round, each with half a line more kept free at the foot,
#: when the layout did not follow the make-up of an earlier round.
MAX_TRIES = 4


def _mend(flow, chunk, page, key, must: bool, short: float | None, corrections: Corrections, measure) -> bool:
    """Give a faulty page a new end; whether the corrections changed. A page
    whose note is off its call's page is always given one (kept freer at the
    foot each time the layout did not follow). A short page is filled once,
    and only if the make-up predicts it full enough; if the layout did not
    follow, its end is taken back."""
    offset = page.number - chunk[0].number
    current = corrections.ends.get(key, [])
    kept = [(k, end) for k, end in current if k < offset]
    cuts = corrections.cuts.get(key, [])
    kept_cuts = [c for c in cuts if c[0] < offset]
    moves = corrections.floats.get(key, [])
    kept_moves = [m for m in moves if m[0] < offset]
    attempt = (key, offset, _first_position(page))
    # a short page is filled once in each state of the pages after it (of their make-up)
    later = (
        tuple(e for e in current if e[0] > offset),
        tuple(c for c in corrections.cuts.get(key, []) if c[0] > offset),
        tuple(m for m in corrections.floats.get(key, []) if m[0] > offset),
    )
    state = (*attempt, later)
    if not must:
        if state in corrections.filled:
            if corrections.filled[state] and (
                any(k == offset for k, _ in current) or any(c[0] == offset for c in cuts)
            ):
                corrections.filled[state] = False  # the layout did not follow: leave the page to it
                corrections.ends[key] = kept
                corrections.cuts[key] = kept_cuts
                corrections.floats[key] = kept_moves
                return True
            return False
        corrections.filled[state] = False
    dropped = {number for k, number in moves if k >= offset}
    run = _run(flow, [p for p in chunk if p.number >= page.number], _origins(flow, dropped))
    texts = flow.texts
    missing = [k for line in run.lines for k in line.calls if k not in texts]
    carried = _carried(kept_cuts, offset, texts)
    if missing:
        texts.update(measure(missing))
    # a note is as high as all its lines: the laid-out height of its first
    # part, unless it runs on (then all its parts) or was measured apart
    running = {k for p in flow.pages for k, _ in p.carried}
    notes = {k: texts[k].height() if k in running and k in texts else h for k, h in flow.note_heights.items()}
    notes.update({k: texts[k].height() for k in missing if k in texts})
    if carried is not None and carried[0] not in texts:
        carried = None
    for _ in range(MAX_TRIES if must else 1):
        # kept freer at the foot each time the layout did not follow (a page made up
        # to run a note on or move a float, too: its prediction was missed before)
        tried = corrections.attempts[attempt]
        safety = tried * flow.line_height / 2 if must or (tried and _moved(corrections, key, offset)) else 0.0
        corrections.attempts[attempt] += 1
        plan = plan_page(flow, run, notes, set(corrections.spacing), safety, carried)
        if plan is None:
            return False
        if not must and not _fills(plan, short or 0):
            return False
        ends = kept + ([(offset, plan.end)] if plan.end else [])
        new_cuts = kept_cuts + ([(offset, *plan.cut)] if plan.cut else [])
        new_moves = kept_moves + ([(offset, plan.float)] if plan.float is not None else [])
        changed = ends != current or new_cuts != cuts or new_moves != moves
        if changed or any(k not in corrections.spacing for k in plan.spacing):
            corrections.ends[key] = ends
            corrections.cuts[key] = new_cuts
            corrections.floats[key] = new_moves
            corrections.spacing.update(plan.spacing)
            if not must:
                corrections.filled[state] = True
            return True
    return False


def _origins(flow: Flow, numbers: set[int]) -> dict[int, Line]:
    """For each moved float of ``numbers``, the line it stood before in the
    text: the first line after its ``span.float-origin``."""
    if not numbers or not flow.lines:
        return {}
    first: dict[int, Line] = {}
    for line in flow.lines:
        for b in line.chain:
            if b.element is not None:
                first.setdefault(id(b.element), line)
    elements = list(_root_of(flow).iter())
    out = {}
    for k, element in enumerate(elements):
        number = element.get("data-float-origin")
        if number is None or int(number) not in numbers:
            continue
        after = next(
            (first[id(e)] for e in elements[k + 1 :] if id(e) in first and e.get("data-float") != number), None
        )
        if after is not None:
            out[int(number)] = after
    return out


def _root_of(flow: Flow):
    """The document's root element (the flow root's)."""
    return flow.lines[0].chain[0].element


def _moved(corrections: Corrections, key: tuple, offset: int) -> bool:
    """Whether the page at ``offset`` was made up to run a note on or move a float."""
    return any(c[0] == offset for c in corrections.cuts.get(key, [])) or any(
        m[0] == offset for m in corrections.floats.get(key, [])
    )


def _fills(plan: Plan, short: float) -> bool:
    """Whether a plan for a short page fills it: to within ``SHORT_LINES``;
    or, if it moves a float, runs a note on or mends a hole, to within a
    hole's measure and a line better than the page was."""
    if plan.short <= SHORT_LINES and plan.short < short - 0.5:
        return True
    moves = plan.float is not None or plan.cut is not None
    return (moves or short > HOLE_LINES) and plan.short <= HOLE_LINES and plan.short < short - 1


def _carried(cuts: list[tuple[int, NoteKey, int, NoteKey | None]], offset: int, texts: dict[NoteKey, NoteText]):
    """The note a page at ``offset`` of its chunk begins with, run on from the
    page before (a break kept for that page), and its first line here."""
    for k, note, chars, _ in reversed(cuts):
        if k == offset - 1 and note in texts:
            return note, texts[note].line_at(chars)
    return None


def _first_position(page: Page) -> Position | None:
    return next((line.position for line in page.lines if line.position), None)


def _chunk_key(document: Document, index, page: Page) -> tuple:
    """Where a chunk begins, in terms that survive the make-up of earlier chunks."""
    start = _page_start(index, page.number + 1, document.pages[page.number], set())
    return (start.anchor, start.block, start.chars) if start else (page.number,)


def measure_notes(html: str, keys: list[NoteKey], lay_out: Callable[[str], Document]) -> dict[NoteKey, NoteText]:
    """The lines of notes the layout dropped or set only in part, from a
    layout of those notes alone, each whole (its parts put back together),
    with the same stylesheets (their links point at empty anchors, so a page
    reference takes its place)."""
    import copy

    from lxml import html as lxml_html

    from edition.ids import note_id
    from edition.layout import htmlmarks

    root = lxml_html.document_fromstring(html)
    body = root.find("body")
    wanted = {note_id(work, number) for work, number in keys}
    works = {w.get("data-work"): w for w in root.iter("div") if "work" in _classes(w)}
    spans = [htmlmarks.whole(copy.deepcopy(s), s) for s in root.iter("span") if s.get("id") in wanted]
    for child in list(body):
        body.remove(child)
    for span in spans:
        span.tail = None
        work = span.get("id").split("--")[0]
        holder = lxml_html.Element("div", {"class": "work", "data-work": work})
        if work in works and works[work].get("data-note-digits"):
            holder.set("data-note-digits", works[work].get("data-note-digits"))
        paragraph = lxml_html.Element("p")
        paragraph.append(span)
        holder.append(paragraph)
        for link in span.iter("a"):
            href = link.get("href") or ""
            if href.startswith("#"):
                holder.append(lxml_html.Element("span", {"id": href[1:]}))
        body.append(holder)
    document = lay_out(lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>"))
    return read_flow(document).texts
