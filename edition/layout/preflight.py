"""A typesetter's preflight of the laid-out print document.

Reads the same layout tree the note verification reads and reports, page by
page: notes not on their call's page, widows and orphans (one line of a
paragraph alone at the top or the foot of a page), headings stranded at the
foot of a page, lines wider than the measure, runs of more than two hyphenated
line ends, holes (pages more than three lines short, except before a forced
break or a heading that could not have stood at their foot with two lines of
its text, or a whole paragraph too short to break), headings with less space
above them than their style asks (or than half a line), running heads on
pages that open a part, contents entries that give only a label ("DOCUMENT
No. 1"), page numbers printed after a link (contents, permissions page,
cross-references) that are not the page their target stands on, and words of the edition's own text found in none of its sources
(two words a template joined).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from weasyprint.document import Document
from weasyprint.formatting_structure import boxes

from edition.diagnostics import Diagnostic
from edition.layout import makeup as pagefit
from edition.layout import pagerefs
from edition.layout.pages import HYPHENATE_CHARACTER, TEXT_BLOCKS, _walk, note_placement, text_blocks
from edition.layout.vocabulary import is_number, words

KINDS = (
    "notes_misplaced",
    "widows",
    "orphans",
    "stranded_headings",
    "overfull_lines",
    "hyphenation_runs",
    "underfull_pages",
    "heading_space",
    "running_heads",
    "contents_entries",
    "page_numbers",
    "joined_words",
)
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
FORCED = {"page", "left", "right", "recto", "verso"}
#: A line may stick out of the measure by this much (CSS px) before it counts.
OVERFULL_TOLERANCE = 0.5
MAX_HYPHEN_RUN = 2
#: A page may end this many body lines short before the text goes on (more is a hole).
HOLE_LINES = pagefit.HOLE_LINES
#: A heading that does not open its page has at least this share of a body line above it.
MIN_HEADING_SPACE = 0.5
#: Elements whose text the edition writes (checked word by word against its sources).
EDITION_TEXT = {
    "toc",
    "title-block",
    "imprint",
    "series-line",
    "document-head",
    "reading-head",
    "editorial-note",
    "note-on-text",
    "bibliography",
    "permissions",
    "introduction",
}
#: Elements inside those whose text is another's (a note's, a page marker's).
NOT_OWN_TEXT = {"footnote", "original-page"}


@dataclass
class Report:
    pages: int = 0
    faults: dict[str, list[dict]] = field(default_factory=lambda: {k: [] for k in KINDS})

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.faults.values())

    def as_dict(self) -> dict:
        return {"pages": self.pages, "counts": {k: len(v) for k, v in self.faults.items()}, "faults": self.faults}

    def summary(self) -> str:
        return ", ".join(f"{k.replace('_', ' ')} {len(v)}" for k, v in self.faults.items())


def _flow_blocks(root: boxes.Box) -> Iterator[boxes.Box]:
    """Text blocks of the main flow that hold lines, in order."""
    for box in _walk(root):
        if (
            isinstance(box, boxes.BlockContainerBox)
            and box.element is not None
            and box.element.tag in TEXT_BLOCKS
            and any(isinstance(c, boxes.LineBox) for c in box.children)
        ):
            yield box


def _lines(block: boxes.Box) -> list[boxes.LineBox]:
    return [c for c in block.children if isinstance(c, boxes.LineBox)]


def _line_text(line: boxes.Box) -> str:
    return "".join(b.text for b in _walk(line) if isinstance(b, boxes.TextBox))


def _excerpt(line: boxes.Box) -> str:
    return " ".join(_line_text(line).split())[:60]


def preflight(document: Document, vocabulary: set[str] | None = None, whole: bool = True) -> Report:
    """The faults of a laid-out document; ``vocabulary`` (edition/layout/vocabulary.py)
    enables the check of the edition's own words; ``whole=False`` leaves out
    the checks that look across the document, of the contents' entries and of
    the page numbers printed after links (a chain's pages: their targets may be
    in other chains; ``contents_faults`` and ``page_number_faults`` check them)."""
    report = Report(pages=len(document.pages))
    for work, note, call, text in note_placement(document).faults():
        report.faults["notes_misplaced"].append({"page": call, "note": note, "work": work, "printed_on": text})
    pages = [page._page_box for page in document.pages]
    blocks_by_page = [list(_flow_blocks(page.children[0])) for page in pages]
    flow = pagefit.read_flow(document)
    for number, (page, blocks) in enumerate(zip(pages, blocks_by_page, strict=True), 1):
        _widows_orphans(report, number, blocks, blocks_by_page)
        _stranded_heading(report, number, page)
        for block in blocks:
            _overfull(report, number, block)
            _hyphen_runs(report, number, block)
        _overfull_tables(report, number, page)
    for number, short in pagefit.short_pages(flow, HOLE_LINES):
        report.faults["underfull_pages"].append({"page": number + 1, "lines_short": round(short, 1)})
    _heading_space(report, flow)
    _running_heads(report, flow, pages)
    if whole:
        contents_faults(report, contents_links(pages), element_ids([page.children[0] for page in pages]))
        _page_numbers(report, document)
    if vocabulary is not None:
        _joined_words(report, pages, vocabulary)
    return report


def _heading_space(report: Report, flow: pagefit.Flow) -> None:
    """A heading after text on its page needs the space its style asks above
    it, and never less than half a body line (a rule that sets it to 0 is the
    fault: "A Global Development Model" sat on the line before it)."""
    for page in flow.pages:
        for before, line in zip(page.lines, page.lines[1:], strict=False):
            if line.tag not in HEADINGS or line.index != 0:
                continue
            asks = max(pagefit._px(line.chain[-1].style["margin_top"]), MIN_HEADING_SPACE * flow.line_height)
            space = line.top - before.bottom
            if space < asks - OVERFULL_TOLERANCE:
                report.faults["heading_space"].append(
                    {
                        "page": page.number + 1,
                        "heading": _excerpt(line.box),
                        "space_px": round(space, 1),
                        "asks_px": round(asks, 1),
                    }
                )


def _margin_text(page: boxes.PageBox, where: str) -> str:
    texts = []
    for child in page.children:
        if isinstance(child, boxes.MarginBox) and child.at_keyword.startswith(f"@{where}-"):
            texts.extend(b.text for b in _walk(child) if isinstance(b, boxes.TextBox))
    return " ".join(" ".join(texts).split())


def _opens_a_part(page: pagefit.Page) -> bool:
    """A page that begins, after a forced break of the structure, with a
    heading or a heading block (a document's or a reading's head): not a
    table or a figure set on a page of its own, nor the text after it."""
    if not page.lines:
        return False
    first = page.lines[0]
    return first.tag in HEADINGS or any(b.element_tag == "header" for b in first.chain)


def _running_heads(report: Report, flow: pagefit.Flow, pages: list) -> None:
    """A page that opens a part carries no running head."""
    for number in flow.chunk_starts:
        if not _opens_a_part(flow.pages[number]):
            continue
        head = _margin_text(pages[number], "top")
        if head:
            report.faults["running_heads"].append({"page": number + 1, "head": head[:60]})


def _chains(root: boxes.Box) -> Iterator[tuple[boxes.Box, list]]:
    """Every box with the elements above it."""
    stack: list = []

    def visit(box: boxes.Box) -> Iterator[tuple[boxes.Box, list]]:
        yield box, stack
        if box.element is not None:
            stack.append(box.element)
        for child in getattr(box, "children", ()) or ():
            yield from visit(child)
        if box.element is not None:
            stack.pop()

    yield from visit(root)


def _classes(element) -> set[str]:
    return set((element.get("class") or "").split()) if element is not None else set()


def element_ids(roots: list) -> dict[str, object]:
    """Each id of an element with a box below ``roots`` (each page's root box,
    or a document's before it is laid out): the element, the first of that id."""
    ids: dict[str, object] = {}
    for root in roots:
        for box in _walk(root):
            if box.element is not None and box.element.get("id"):
                ids.setdefault(box.element.get("id"), box.element)
    return ids


def contents_links(pages: list) -> list[tuple[int, str, str]]:
    """(page, its text, the id it points to) for each entry of a contents."""
    links = []
    seen: set[int] = set()
    for number, page in enumerate(pages, 1):
        for box, chain in _chains(page.children[0]):
            element = box.element
            if box.element_tag != "a" or id(element) in seen or not any("toc" in _classes(e) for e in chain):
                continue
            seen.add(id(element))
            entry = " ".join("".join(element.itertext()).split())
            links.append((number, entry, (element.get("href") or "").lstrip("#")))
    return links


def contents_faults(report: Report, links: list[tuple[int, str, str]], ids: dict[str, object]) -> None:
    """A contents entry must say more than the label of what it points to
    ("DOCUMENT No. 1" alone, where the document has a title)."""
    for number, entry, href in links:
        target = ids.get(href)
        blocks = text_blocks(target) if target is not None else []
        # a label is what stands before the title (a document's "DOCUMENT No. 1"); a
        # chapter opens with its title, and its subheadings are no title of it
        label = " ".join(_own_text(blocks[0]).split()) if blocks and blocks[0].tag not in HEADINGS else ""
        titles = [t for t in (" ".join(_own_text(b).split()) for b in blocks if b.tag in HEADINGS) if t != label]
        if not entry or (titles and set(words(entry)) <= set(words(label))):
            report.faults["contents_entries"].append(
                {"page": number, "entry": entry, "target_title": titles[0][:60] if titles else ""}
            )


def _page_numbers(report: Report, document: Document) -> None:
    """Every page number printed after a link (the contents, the permissions
    page, a cross-reference, a link in a note) is the page its target stands on."""
    page_number_faults(report, pagerefs.printed(document), pagerefs.target_pages(document))


def page_number_faults(report: Report, refs: list[pagerefs.PageRef], pages: dict[str, int]) -> None:
    """The numbers of ``refs`` (``pagerefs.printed``) that are not the page
    their target begins on (``pages``: id -> page, ``pagerefs.target_pages``)."""
    for ref in refs:
        page = pages.get(ref.target)
        if ref.printed != page:
            report.faults["page_numbers"].append(
                {"page": ref.page, "target": ref.target, "printed": ref.printed, "target_page": page}
            )


def _own_text(element) -> str:
    """An element's text without the text of notes and page markers inside it
    (each stands for a word boundary)."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and not _classes(child) & NOT_OWN_TEXT:
            parts.append(_own_text(child))
        else:
            parts.append(" ")
        parts.append(child.tail or "")
    return "".join(parts)


def _joined_words(report: Report, pages: list, vocabulary: set[str]) -> None:
    """Every word of the edition's own text is a word of its sources, data or templates."""
    joined_words(report, edition_words(pages), vocabulary)


def joined_words(report: Report, found: list[tuple[int, str]], vocabulary: set[str]) -> None:
    """The words of ``edition_words`` that are in none of the edition's sources."""
    for number, word in found:
        if word not in vocabulary:
            report.faults["joined_words"].append({"page": number, "word": word})


def edition_words(pages: list) -> list[tuple[int, str]]:
    """(page, word) for the words of the edition's own text (numbers left out)."""
    found = []
    seen: set[int] = set()
    for number, page in enumerate(pages, 1):
        for box, chain in _chains(page.children[0]):
            element = box.element
            if element is None or box.element_tag not in TEXT_BLOCKS or id(element) in seen:
                continue
            if not any(_classes(e) & EDITION_TEXT or e.get("data-edition") == "apparatus" for e in [*chain, element]):
                continue
            seen.add(id(element))
            found += [(number, word) for word in words(_own_text(element)) if not is_number(word)]
    return found


def _widows_orphans(report: Report, number: int, blocks: list, blocks_by_page: list) -> None:
    if not blocks:
        return
    first, last = blocks[0], blocks[-1]
    if number > 1 and len(_lines(first)) == 1 and _continues_from(first, blocks_by_page[number - 2]):
        report.faults["widows"].append({"page": number, "line": _excerpt(_lines(first)[0])})
    if (
        number < len(blocks_by_page)
        and len(_lines(last)) == 1
        and _continues_from(last, blocks_by_page[number], forward=True)
    ):
        report.faults["orphans"].append({"page": number, "line": _excerpt(_lines(last)[0])})


def _continues_from(block: boxes.Box, other_page: list, forward: bool = False) -> bool:
    """Whether the paragraph of ``block`` also has lines on the other page."""
    if not other_page:
        return False
    neighbour = other_page[0] if forward else other_page[-1]
    return neighbour.element is block.element


def _stranded_heading(report: Report, number: int, page: boxes.PageBox) -> None:
    last_text = None
    for box in _walk(page.children[0]):
        if isinstance(box, boxes.LineBox):
            last_text = box
            last_parent = None
    if last_text is None:
        return
    # the block holding the page's last line
    holder = next(
        (b for b in _walk(page.children[0]) if isinstance(b, boxes.BlockContainerBox) and last_text in b.children),
        None,
    )
    del last_parent
    if holder is not None and holder.element is not None and holder.element.tag in HEADINGS:
        report.faults["stranded_headings"].append({"page": number, "heading": _excerpt(last_text)})


def _overfull(report: Report, number: int, block: boxes.Box) -> None:
    right = block.content_box_x() + block.width
    for line in _lines(block):
        # floats (the margin page markers) stand outside the measure on purpose
        inline = [c for c in line.children if not c.is_floated()]
        extent = max((c.position_x + c.margin_width() for c in inline), default=right)
        if extent > right + OVERFULL_TOLERANCE:
            report.faults["overfull_lines"].append(
                {"page": number, "line": _excerpt(line), "over_by_px": round(extent - right, 2)}
            )


def _overfull_tables(report: Report, number: int, page: boxes.PageBox) -> None:
    """A table wider than the page's measure (its columns cannot shrink to fit):
    give it ``wide: small`` or ``wide: rotate``."""
    right = page.content_box_x() + page.width
    for box in _walk(page.children[0]):
        if isinstance(box, boxes.TableBox):
            extent = box.position_x + box.margin_width()
            if extent > right + OVERFULL_TOLERANCE:
                caption = next((e for e in box.element if str(e.tag).endswith("caption")), None)
                title = " ".join("".join(caption.itertext()).split())[:60] if caption is not None else ""
                report.faults["overfull_lines"].append(
                    {"page": number, "line": f"table: {title}", "over_by_px": round(extent - right, 2)}
                )


def _hyphen_runs(report: Report, number: int, block: boxes.Box) -> None:
    run = 0
    for line in _lines(block):
        run = run + 1 if _line_text(line).rstrip().endswith(HYPHENATE_CHARACTER) else 0
        if run == MAX_HYPHEN_RUN + 1:
            report.faults["hyphenation_runs"].append({"page": number, "line": _excerpt(line)})


def diagnostics(report: Report) -> list[Diagnostic]:
    out = []
    for kind, faults in report.faults.items():
        for fault in faults:
            detail = ", ".join(f"{k} {v}" for k, v in fault.items() if k != "page")
            out.append(
                Diagnostic(None, "preflight.fault", f"page {fault.get('page')}: {kind.replace('_', ' ')}: {detail}")
            )
    return out
