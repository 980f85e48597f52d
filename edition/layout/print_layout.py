"""The print layout of one edition: laid out by WeasyPrint, made up again until
every note stands on its call's page and no page is left short, checked by the
preflight, and summarised (``Laid``) for the outputs that need only its page
numbers (the EPUB's page list, the permissions table).

Where processes can be forked, the layout is made chain by chain and each
chain written as it is laid out (``chains.book``, given the PDF writer); every
round of the make-up is laid out only from the page it moves (``chains.pagination``).

A build that writes no PDF takes that summary from the layout cache when the
layout would be the same, and lays out nothing (``cached``).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from edition import ids
from edition.diagnostics import BuildFailed
from edition.infra import cache
from edition.infra.progress import Timings
from edition.layout import cache as layoutcache
from edition.layout import reading_pages
from edition.layout.cache import Laid
from edition.layout.vocabulary import vocabulary
from edition.model import Edition
from edition.render.print_html import print_html
from edition.settings import Options

if TYPE_CHECKING:  # the layout engine is imported only where a layout is made
    from weasyprint.document import Document

    from edition.layout.chains.book import Book
    from edition.layout.makeup import Corrections

log = logging.getLogger(__name__)

#: Bound on the layout rounds that move note calls to their note's page.
MAX_LAYOUT_ROUNDS = 30


@dataclass
class Typesetting:
    """One edition's print layout in the making, and what laying it out finds."""

    edition: Edition
    env: jinja2.Environment
    options: Options
    date: datetime.datetime
    timings: Timings = field(default_factory=Timings)
    fetched: set[Path] = field(default_factory=set)  # the files WeasyPrint loaded
    key: str = ""  # the layout cache's key: the first round's print HTML (``layout_key``)
    rounds: int = 0  # the layout rounds of the make-up
    corrections: Corrections | None = None  # the make-up's last corrections
    chains: tuple[int, int] = (0, 0)  # chains laid out by this build (the others from the cache), chains
    scales: dict[str, tuple[float, float]] = field(default_factory=dict)  # reading -> scale range of its pages
    _words: set[str] | None = None

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with self.timings.stage(f"{self.edition.slug}: {name}"):
            yield

    def words(self) -> set[str]:
        """The edition's ``vocabulary`` (the words its preflight accepts), made once."""
        if self._words is None:
            self._words = vocabulary(self.edition, self.env)
        return self._words


def html(job: Typesetting, corrections: Corrections | None = None, press: bool = False) -> str:
    """The print HTML with the make-up's marks: its paragraphs' cuts and
    spacing, a page break before each block a page must start with, and the
    page numbers written out where WeasyPrint's counters were stale (``pagerefs``)."""
    if corrections is None:
        return print_html(job.edition, job.env, job.options, job.date, press=press)
    from edition.layout import htmlmarks, pagerefs

    marked = print_html(job.edition, job.env, job.options, job.date, corrections.marks(), press)
    marked = htmlmarks.apply(marked, corrections.blocks(), corrections.note_cuts(), corrections.float_moves())
    return pagerefs.mark(marked, corrections.page_numbers)


def layout_key(job: Typesetting, first_html: str) -> str:
    """The layout's cache key: the first round's print HTML, and the words the
    preflight accepts (``vocabulary``: its report is part of what is kept)."""
    return layoutcache.key(first_html, job.options.paper, "\n".join(sorted(job.words())))


def cached(job: Typesetting) -> Laid | None:
    """The summary of this edition's print layout from an earlier build, if it
    would be laid out the same; its messages are said again."""
    if cache.active() is None:
        return None
    laid = layoutcache.load(layout_key(job, html(job)))
    if laid is None:
        return None
    log.info(
        "%s: the EPUB's page list comes from the cached print layout (%d pages, %s paper) of the same inputs: "
        "nothing was laid out",
        job.edition.slug,
        laid.pages,
        job.options.paper,
    )
    for level, message in laid.messages:
        log.log(level, "%s", message)
    job.rounds = laid.rounds
    job.scales = laid.scales
    return laid


def lay_out(job: Typesetting, writer: Writer | None = None) -> tuple[Document | Book, Laid, list]:
    """The print layout, its summary (kept in the cache for a later EPUB-only
    build) and the places of the PDF readings' pages. With ``writer`` (and
    ``fork``), laid out chain by chain and written: a ``Book``, its PDF made."""
    from edition.layout import preflight
    from edition.layout.chains import book
    from edition.layout.pages import page_starts

    said = _Listen()
    logger = logging.getLogger("edition")
    logger.addHandler(said)
    try:
        if writer is not None and book.available():
            document = _lay_out_chains(job, writer)
            placements, report, starts = document.placements, document.report, document.starts
            pages, parts = document.pages, document.reading_pages(job.edition)
            _log_placements(job, placements)
        else:
            document = lay_out_with_notes_in_place(job)
            placements = reading_pages.plan(document, job.edition)
            _log_placements(job, placements)
            with job.stage("preflight"):
                report = preflight.preflight(document, job.words())
            starts, pages, parts = page_starts(document), len(document.pages), volume_pages(document, job.edition)
        log.info("preflight: %s", report.summary())
    finally:
        logger.removeHandler(said)
    starts = reading_pages.with_reading_pages(starts, job.edition, placements)
    laid = Laid(
        pages=pages,
        starts=tuple(starts),
        reading_pages=parts,
        scales=job.scales,
        preflight=report.as_dict(),
        rounds=job.rounds,
        messages=tuple(said.messages),
    )
    # the files it was made from beyond its HTML: what WeasyPrint loaded, and the PDF
    # readings, whose pages are laid in (their sizes and turns are not in the HTML)
    loaded = {*job.fetched, *(work.pdf.path for work in job.edition.parts if work.pdf)}
    layoutcache.store(job.key, laid, loaded)
    return document, laid, placements


@dataclass(frozen=True)
class Writer:
    """The PDF writer's part in a layout made chain by chain (a stage above the
    layout, so handed down): a chain's pages as a tagged PDF, and the chains'
    PDFs as one."""

    write: Callable[[Document], bytes]
    combine: Callable[[list], bytes]


def _lay_out_chains(job: Typesetting, writer: Writer) -> Book:
    """The print layout made chain by chain and written (``chains.book``)."""
    from edition.layout import engine
    from edition.layout.chains import book
    from edition.layout.chains.pagination import Sandbox

    with job.stage("render print html"):
        first = html(job)
    job.key = layout_key(job, first)
    sandbox = Sandbox(job.options.project, [], job.fetched)
    setup = book.Setup(job, sandbox, first, writer.write, writer.combine)
    with job.stage("lay out and write pages"):
        laid = book.lay_out(setup, first, job.options.layout_processes())
    job.rounds, job.corrections, job.chains = laid.rounds, laid.corrections, (laid.laid_out, laid.chains)
    faults = engine.note_faults(laid.notes, engine.note_sources(job.edition))
    if faults:
        raise BuildFailed(faults)
    return laid


def lay_out_with_notes_in_place(job: Typesetting, press: bool = False) -> Document:
    """Lay out, then make up again every run of pages where a note is off its
    call's page or a page is left short (``makeup``: page ends as forced
    breaks, paragraphs set a line tighter or looser), and lay out again until
    nothing changes and every page number printed is its target's page;
    fail if a note is still off its call's page."""
    from edition.layout import engine, makeup, pagerefs
    from edition.layout.chains.pagination import Layouter

    options = job.options
    corrections = makeup.Corrections()
    extra = options.profile_dirs(press)
    layouter = Layouter(options.project, extra, job.fetched)
    for round_number in range(1, MAX_LAYOUT_ROUNDS + 1):
        with job.stage("render print html"):
            marked = html(job, corrections, press)
        if round_number == 1 and not press:  # what the layout is made from (``layoutcache``)
            job.key = layout_key(job, marked)
        with job.stage("lay out pages"):
            document = layouter.lay_out(marked)
        with job.stage("make up pages"):
            changed = makeup.next_corrections(
                document,
                corrections,
                lambda keys, marked=marked: makeup.measure_notes(
                    marked, keys, lambda h: engine.lay_out(h, options.project, extra_allowed=extra)
                ),
                fill=round_number <= makeup.FILL_ROUNDS,
            )
        if not changed:
            # the pages are made up: the page numbers printed (contents, permissions,
            # cross-references) must be theirs; if one is not, lay out again with the
            # numbers written out (``pagerefs``: WeasyPrint's counters can be stale)
            if not pagerefs.settle(document, corrections.page_numbers):
                break
            log.info("layout %d: page numbers written out (%d)", round_number, len(corrections.page_numbers))
            continue
        log.info(
            "layout %d: pages made up again (%d page ends, %d paragraphs respaced)",
            round_number,
            sum(len(v) for v in corrections.ends.values()),
            len(corrections.spacing),
        )
    if not press:
        job.rounds = round_number
        job.corrections = corrections
    engine.fail_on_note_faults(document, engine.note_sources(job.edition))
    return document


def volume_pages(document: Document, edition: Edition) -> dict[str, tuple[int, int]]:
    """The first and last page of each part of a volume, from the layout."""
    pages: dict[str, tuple[int, int]] = {}
    for work in edition.parts:
        first = ids.output_id(work.slug, "titlepage")
        last = ids.output_id(work.slug, "end")
        numbers = {
            name: n for n, page in enumerate(document.pages, 1) for name in page.anchors if name in (first, last)
        }
        if first in numbers and last in numbers:
            pages[work.slug] = (numbers[first], numbers[last])
    return pages


def _log_placements(job: Typesetting, placements: list) -> None:
    """How much each PDF reading was scaled to fit inside the margins."""
    job.scales = reading_pages.scales(placements)
    for work in job.edition.parts:
        if work.pdf is None:
            continue
        low, high = job.scales[work.slug]
        pages = [p.page for p in placements if p.reading == work.slug]
        shown = f"{low:.0%}" if low == high else f"{low:.0%} to {high:.0%}"
        log.info(
            "%s: pages %d–%d of %s printed on pages %d–%d at %s of their size",
            work.slug,
            work.pdf.first,
            work.pdf.last,
            work.pdf.name,
            pages[0],
            pages[-1],
            shown,
        )


class _Listen(logging.Handler):
    """What the build says while it lays out (kept with the layout's summary)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))
