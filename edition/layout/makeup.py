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

from edition.layout.pages import _line_chars, _line_index, _note_key, _page_start, _walk, note_placement, text_blocks

FORCED = {"page", "left", "right", "recto", "verso"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
#: Paragraph parts made by a correction: their forced break is not the structure's.
CORRECTION_CLASSES = {"continued", "page-start", "page-end"}
#: A page end after a whole paragraph (before a heading or a table that follows it).
AFTER = -1
#: A page may end this many body lines short; more is a fault (where no chunk ends).
SHORT_LINES = 2.0
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


@dataclass
class Flow:
    pages: list[Page]
    lines: list[Line]
    note_heights: dict[NoteKey, float]
    chrome: float  # the footnote area's margin, rule and padding
    notes_limit: float  # the footnote area's max-height
    line_height: float  # the body's line
    chunk_starts: list[int]  # page numbers that open a chunk

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

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.ends.values()) + len(self.spacing)


# -- reading the layout -----------------------------------------------------------------


def _px(value) -> float:
    return float(value.value) if getattr(value, "unit", None) == "px" else 0.0


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split()) if element is not None else set()


def _calls(box: boxes.Box) -> list[NoteKey]:
    out = []
    for b in _walk(box):
        footnote = getattr(b, "footnote", None)
        if footnote is not None:
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
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        root, *areas = page_box.children
        notes_height = 0.0
        for area in areas:
            if isinstance(area, boxes.FootnoteAreaBox):
                limit = area.style["max_height"]
                if getattr(limit, "unit", None) == "%":
                    limits.append(limit.value / 100 * page_box.height)
                elif getattr(limit, "unit", None) == "px":
                    limits.append(limit.value)
            if isinstance(area, boxes.FootnoteAreaBox) and area.children:
                notes_height = area.margin_height()
                heights = [c.margin_height() for c in area.children]
                chromes.append(notes_height - sum(heights))
                for child in area.children:
                    key = _note_key(child.element)
                    if key:
                        note_heights.setdefault(key, child.margin_height())
        page_lines = _page_lines(number, root)
        top = page_box.content_box_y()
        pages.append(Page(number, top, top + page_box.height, page_lines, notes_height))
        lines.extend(page_lines)
    _number_lines(lines)
    heights = collections.Counter(round(line.height, 1) for line in lines if line.tag == "p")
    return Flow(
        pages,
        lines,
        note_heights,
        min(chromes) if chromes else 0.0,
        min(limits) if limits else float("inf"),
        heights.most_common(1)[0][0] if heights else 16.0,
        _chunk_starts(pages),
    )


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


def short_pages(flow: Flow) -> list[tuple[int, float]]:
    """(page, lines short) for every page more than SHORT_LINES short where
    no section ends: the chunk goes on, and the next page does not open with
    a heading (a heading needs room for itself and two lines after it)."""
    out = []
    for chunk in flow.chunks():
        for page, following in zip(chunk, chunk[1:], strict=False):
            short = page_shortfall(flow, page)
            opens_section = bool(following.lines) and following.lines[0].tag in HEADINGS
            if short > SHORT_LINES and not opens_section:
                out.append((page.number, short))
    return out


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


def _run(flow: Flow, pages: list[Page]) -> _Run:
    first: dict[int, Line] = {}
    last: dict[int, Line] = {}
    for line in flow.lines:
        for b in line.chain:
            if b.element is not None:
                first.setdefault(id(b.element), line)
                last[id(b.element)] = line
    lines = [line for page in pages for line in page.lines]
    gaps, tops = [0.0], []
    for i, line in enumerate(lines):
        tops.append(_margin_top(line, first) if line.index == 0 else 0.0)
        if i == 0:
            continue
        before = lines[i - 1]
        if before.page == line.page:
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
    heading or inside a header block, leaving an orphan or a widow)."""
    line, before = run.lines[b], run.lines[b - 1]
    if b <= start or before.tag in HEADINGS or before.tag == "caption" or _in_header(before) or _in_header(line):
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


def _respaced_by_a_line(lines: list[Line], sign: int) -> float | None:
    """Whether setting a paragraph tighter (sign -1) or looser (+1) makes it
    exactly one line shorter or longer: the width the change frees or takes,
    against what its last line holds or lacks (with a margin, as words do not
    break anywhere). Returns how sure (the spare width, in measures), or None."""
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
    low, high = SPARE[sign]
    return spare if low <= spare <= high else None


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
    paragraphs to respace, and how short the page is predicted to be."""

    end: End | None
    spacing: dict[tuple[str, int], int]
    short: float  # in body lines


def plan_page(flow: Flow, run: _Run, notes: dict[NoteKey, float], taken: set, safety: float) -> Plan | None:
    """The make-up of the first page of ``run``: it takes lines while they and
    their notes fit, ends where a page may end, then gives room to the line
    that did not fit by setting paragraphs above it tighter, or fills what is
    left by setting paragraphs looser. None if the page cannot end before the
    run does (it is the run's last page) or has no place to end."""
    lines = run.lines
    page = flow.pages[lines[0].page]
    page_bottom = page.bottom - safety

    def notes_height(upto: int) -> float:
        keys = [k for i in range(upto + 1) for k in lines[i].calls]
        return flow.chrome + sum(notes.get(k, flow.line_height) for k in keys) if keys else 0.0

    bottoms, position = [], lines[0].top
    for i, line in enumerate(lines):
        position += (run.gaps[i] if i else 0.0) + line.height
        bottoms.append(position)

    def last_fitting(allowance: float = 0.0, after: int = 0) -> int:
        fit = 0
        for i in range(1, len(lines)):
            lift = allowance if i >= after else 0.0
            notes_i = notes_height(i)
            if bottoms[i] - lift + notes_i > page_bottom or notes_i > flow.notes_limit:
                break
            fit = i
        return fit

    def end_at_or_before(fit: int) -> int | None:
        return next((b for b in range(fit + 1, 0, -1) if _may_end_before(run, b, 0)), None)

    def short_with(end: int, allowance: float = 0.0) -> float:
        return (page_bottom - (bottoms[end - 1] - allowance + notes_height(end - 1))) / flow.line_height

    fit = last_fitting()
    if fit >= len(lines) - 1:
        return None
    end = end_at_or_before(fit)
    if end is None:
        return None
    spacing: dict[tuple[str, int], int] = {}
    short = short_with(end)
    if short >= 1:  # give the line that did not fit the room it lacks
        tight = _candidates(run, 0, fit + 1, -1, taken)[:MAX_TIGHTENED]
        for count in range(1, len(tight) + 1):
            last_line = max(i for i, line in enumerate(lines) if line.position and line.position[:2] in tight[:count])
            allowance = count * flow.line_height
            later = end_at_or_before(last_fitting(allowance, last_line + 1))
            if later is not None and later > end and 0 <= short_with(later, allowance) < short:
                end, short = later, short_with(later, allowance)
                spacing.update({key: -1 for key in tight[:count]})
                break
    if short >= 2:  # fill what is left, keeping a line in hand
        for key in _candidates(run, 0, end, +1, taken | set(spacing))[: min(MAX_LOOSENED, int(short) - 1)]:
            spacing[key] = +1
            short -= 1
    kind = _may_end_before(run, end, 0)
    if kind == "pin":
        position = lines[end].position
    elif kind == "after":  # before a heading or a table: the paragraph before it ends the page
        work, paragraph, _ = lines[end - 1].position
        position = (work, paragraph, AFTER)
    elif kind == "block":
        position = lines[end].block
    else:
        position = None
    return Plan(position, spacing, short)


#: Rounds after which only notes off their page are corrected (no more filling of short pages).
FILL_ROUNDS = 10


def next_corrections(
    document: Document,
    corrections: Corrections,
    measure: Callable[[list[NoteKey]], dict[NoteKey, float]],
    fill: bool = True,
) -> bool:
    """For every chunk, the first page that is faulty and can be mended gets a
    new end (and respaced paragraphs); the pages after it are left to the
    next layout. A page off whose note is off its call's page is always
    mended; a short page only if the make-up predicts it full enough.
    Returns whether anything changed."""
    flow = read_flow(document)
    misplaced = {call - 1 for _, _, call, _ in note_placement(document).faults() if call is not None}
    short = dict(short_pages(flow)) if fill else {}
    index = _line_index(document)
    changed = False
    for chunk in flow.chunks():
        key = _chunk_key(document, index, chunk[0])
        for page in (p for p in chunk if p.number in misplaced or p.number in short):
            if page.lines and _mend(
                flow, chunk, page, key, page.number in misplaced, short.get(page.number), corrections, measure
            ):
                changed = True
                break
    return changed


#: Tries per page and round, each with half a line more kept free at the foot,
#: when the layout did not follow the make-up of an earlier round.
MAX_TRIES = 4


def _mend(flow, chunk, page, key, must: bool, short: float | None, corrections: Corrections, measure) -> bool:
    """Give a faulty page a new end; whether the corrections changed. A page
    whose note is off its call's page is always given one (kept freer at the
    foot each time the layout did not follow). A short page is filled once,
    and only if the make-up predicts it full enough (a page a long note's line
    had to leave cannot be filled without splitting the note, which WeasyPrint
    does not); if the layout did not follow, its end is taken back."""
    offset = page.number - chunk[0].number
    current = corrections.ends.get(key, [])
    kept = [(k, end) for k, end in current if k < offset]
    attempt = (key, offset, _first_position(page))
    if not must:
        if attempt in corrections.filled:
            if corrections.filled[attempt] and any(k == offset for k, _ in current):
                corrections.filled[attempt] = False  # the layout did not follow: leave the page to it
                corrections.ends[key] = kept
                return True
            return False
        corrections.filled[attempt] = False
    run = _run(flow, [p for p in chunk if p.number >= page.number])
    notes = dict(flow.note_heights)
    missing = [k for line in run.lines for k in line.calls if k not in notes]
    if missing:
        notes.update(measure(missing))
    for _ in range(MAX_TRIES if must else 1):
        safety = corrections.attempts[attempt] * flow.line_height / 2 if must else 0.0
        corrections.attempts[attempt] += 1
        plan = plan_page(flow, run, notes, set(corrections.spacing), safety)
        if plan is None:
            return False
        if not must and not (plan.short <= SHORT_LINES and plan.short < (short or 0) - 0.5):
            return False
        ends = kept + ([(offset, plan.end)] if plan.end else [])
        if ends != current or any(k not in corrections.spacing for k in plan.spacing):
            corrections.ends[key] = ends
            corrections.spacing.update(plan.spacing)
            if not must:
                corrections.filled[attempt] = True
            return True
    return False


def _first_position(page: Page) -> Position | None:
    return next((line.position for line in page.lines if line.position), None)


def _chunk_key(document: Document, index, page: Page) -> tuple:
    """Where a chunk begins, in terms that survive the make-up of earlier chunks."""
    start = _page_start(index, page.number + 1, document.pages[page.number], set())
    return (start.anchor, start.block, start.chars) if start else (page.number,)


def measure_notes(html: str, keys: list[NoteKey], lay_out: Callable[[str], Document]) -> dict[NoteKey, float]:
    """The height of notes the layout dropped, from a layout of those notes
    alone with the same stylesheets (their links point at empty anchors, so
    a page reference takes its place)."""
    import copy

    from lxml import html as lxml_html

    from edition.ids import note_id

    root = lxml_html.document_fromstring(html)
    body = root.find("body")
    wanted = {note_id(work, number) for work, number in keys}
    works = {w.get("data-work"): w for w in root.iter("div") if "work" in _classes(w)}
    spans = [copy.deepcopy(s) for s in root.iter("span") if s.get("id") in wanted]
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
    return read_flow(document).note_heights


def mark_blocks(html: str, blocks: list[tuple[str, int]]) -> str:
    """The print HTML with a page break before each named block (a block the
    renderer does not number: a table row, a template's paragraph)."""
    if not blocks:
        return html
    from lxml import html as lxml_html

    root = lxml_html.document_fromstring(html)
    for anchor_id, index in blocks:
        found = root.get_element_by_id(anchor_id, None)
        texts = text_blocks(found) if found is not None else []
        if index >= len(texts):
            continue
        target = texts[index]
        if target.tag in ("td", "th"):
            target = target.getparent()
        target.set("class", " ".join([*(target.get("class") or "").split(), "page-start"]))
    return lxml_html.tostring(root, encoding="unicode", doctype="<!DOCTYPE html>")
