"""A typesetter's preflight of the laid-out print document.

Reads the same layout tree the note verification reads and reports, page by
page: notes not on their call's page, widows and orphans (one line of a
paragraph alone at the top or the foot of a page), headings stranded at the
foot of a page, lines wider than the measure, runs of more than two hyphenated
line ends, and pages left less than half full where no section ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from weasyprint.document import Document
from weasyprint.formatting_structure import boxes

from .diagnostics import Diagnostic
from .layout import HYPHENATE_CHARACTER, TEXT_BLOCKS, _walk, note_placement

KINDS = (
    "notes_misplaced",
    "widows",
    "orphans",
    "stranded_headings",
    "overfull_lines",
    "hyphenation_runs",
    "underfull_pages",
)
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
FORCED = {"page", "left", "right", "recto", "verso"}
#: A line may stick out of the measure by this much (CSS px) before it counts.
OVERFULL_TOLERANCE = 0.5
MAX_HYPHEN_RUN = 2


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


def preflight(document: Document) -> Report:
    report = Report(pages=len(document.pages))
    for work, note, call, text in note_placement(document).faults():
        report.faults["notes_misplaced"].append({"page": call, "note": note, "work": work, "printed_on": text})
    pages = [page._page_box for page in document.pages]
    blocks_by_page = [list(_flow_blocks(page.children[0])) for page in pages]
    for number, (page, blocks) in enumerate(zip(pages, blocks_by_page, strict=True), 1):
        _widows_orphans(report, number, blocks, blocks_by_page)
        _stranded_heading(report, number, page)
        for block in blocks:
            _overfull(report, number, block)
            _hyphen_runs(report, number, block)
        _overfull_tables(report, number, page)
        _underfull(report, number, page, pages)
    return report


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


def _main_children(page: boxes.PageBox) -> list[boxes.Box]:
    """The page's boxes in flow order, leaves of the block tree."""
    return [b for b in _walk(page.children[0]) if isinstance(b, boxes.BlockBox) and b.element is not None]


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


def _underfull(report: Report, number: int, page: boxes.PageBox, pages: list) -> None:
    if number == len(pages):
        return
    nxt = pages[number]
    if _starts_with_forced_break(nxt) or _ends_with_forced_break(page):
        return  # a section, document or part ends here
    bottoms = [b.position_y + b.margin_height() for b in _walk(page.children[0]) if isinstance(b, boxes.LineBox)]
    if not bottoms:
        return
    top = page.content_box_y()
    used = max(bottoms) - top
    footnotes = page.children[1].margin_height() if len(page.children) > 1 else 0
    if used + footnotes < page.height / 2:
        report.faults["underfull_pages"].append({"page": number, "filled": round((used + footnotes) / page.height, 2)})


def _ends_with_forced_break(page: boxes.PageBox) -> bool:
    """True if something on the page forces the break after it (a title page, the contents)."""
    return any(box.element is not None and box.style["break_after"] in FORCED for box in _walk(page.children[0]))


def _starts_with_forced_break(page: boxes.PageBox) -> bool:
    """True if the page opens with a forced break, or is blank (a verso left
    empty so the next part opens on a recto)."""
    for box in _walk(page.children[0]):
        if isinstance(box, boxes.LineBox):
            return False
        if box.element is not None and box.style["break_before"] in FORCED:
            return True
    return True


def diagnostics(report: Report) -> list[Diagnostic]:
    out = []
    for kind, faults in report.faults.items():
        for fault in faults:
            detail = ", ".join(f"{k} {v}" for k, v in fault.items() if k != "page")
            out.append(
                Diagnostic(None, "preflight.fault", f"page {fault.get('page')}: {kind.replace('_', ' ')}: {detail}")
            )
    return out
