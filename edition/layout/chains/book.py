"""The print edition laid out chain by chain, on all cores, and put together.

The print HTML is read and its boxes built once (``pagination.build``); the
document then falls apart into chains (``breaks``), each laid out in a child
forked from that state (``infra.workers``), as many at once as the build may
use. A chain:

1. lays its pages out and makes them up (``makeup``: each correction laid
   out again only from the page it moves, ``pagination.paginate``), numbering
   them from 1, and says how many pages it has, where its anchors stand, the
   running strings it leaves and the anchors outside it that it cites;
2. is *settled* (``pagination.settle``) once the parent knows from the chains
   before it the number of its first page, whether a blank page goes before
   it, the running strings it inherits and the pages it cites, then made up
   again if those moved a line; a chain whose settling changed what it said
   moves the chains after it, which are laid out again from the start in
   fresh children (so a chain's pages never depend on the order things were
   settled in);
3. writes and tags its pages (``Setup.write``: the PDF writer's, handed down
   by the pipeline, as the writer is a stage above the layout).

The parent puts the chains' PDFs together (``Setup.combine``) and gathers what
the other outputs need of the layout: where each page begins, the preflight
report, the places of the PDF readings' pages, and every note's page. A chain
laid out, or written, by an earlier build of the same inputs comes from the
cache (``chains.cache``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edition import ids
from edition.infra import workers
from edition.layout import makeup, pagerefs, preflight, reading_pages
from edition.layout.chains import breaks, pagination
from edition.layout.chains import cache as chaincache
from edition.layout.chains.pagination import Sandbox, weasyprint_warnings
from edition.layout.pages import NotePlacement, following_starts, found_starts, note_placement
from edition.layout.pagestart import PageStart
from edition.model import Edition
from edition.read import readlog

if TYPE_CHECKING:
    from weasyprint.document import Document

    from edition.layout.print_layout import Typesetting

log = logging.getLogger(__name__)

#: Bound on the layout rounds that move note calls to their note's page (``print_layout``).
MAX_LAYOUT_ROUNDS = 30
#: Bound on the times the chains are settled again after one changed its page count.
MAX_SETTLINGS = 6


def available() -> bool:
    """Chains are laid out in forked children (not on a system without ``fork``)."""
    return hasattr(os, "fork")


@dataclass(frozen=True)
class Settling:
    """What the chains before one decide for it."""

    first: int  # the number of its first page with text
    blank: bool  # a blank page goes before it (the page before it is on its side)
    strings: tuple[tuple[str, str], ...]  # the running strings it inherits
    targets: tuple[tuple[str, int], ...]  # the pages of the anchors outside it that it cites
    total: int  # the document's pages


@dataclass
class Said:
    """A chain's answer to being laid out or settled."""

    pages: int  # its pages, a blank page it begins with included
    blank: bool
    anchors: dict[str, int]  # anchor -> its page in the chain (0-based)
    strings: dict[str, str]  # running strings as it leaves them (set in it)
    cited: set[str]  # anchors it cites with a page number
    messages: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Part:
    """One chain's PDF and what putting the chains together needs of its layout."""

    pdf: bytes
    anchors: set[str]  # the anchors its pages hold (its other destinations are stand-ins)
    bookmarks: list[list[tuple]] = field(default_factory=list)  # per page, WeasyPrint's (level, label, (x, y), state)
    heights: list[float] = field(default_factory=list)  # per page, CSS px


@dataclass
class Written:
    """A chain written: its PDF and what the other outputs need of its layout."""

    part: Part
    starts: list[PageStart | None]  # pages numbered in the chain, from 1; None: no text of its own
    page_anchors: list[list[str]]
    report: dict  # ``preflight.Report.as_dict`` (pages in the chain), the edition's own words left unchecked
    words: list[tuple[int, str]]  # the edition's own words (``preflight.edition_words``)
    contents: list[tuple[int, str, str]]  # the contents' entries (``preflight.contents_links``), checked by the parent
    refs: list[pagerefs.PageRef]  # the page numbers printed after links (``pagerefs.printed``), checked by the parent
    calls: dict[tuple[str, int], int]  # note -> page of its call (in the chain, from 1)
    texts: dict[tuple[str, int], int]  # note -> page of its text
    parts: dict[tuple[str, int], dict[int, int]]  # a note that runs on -> page of each later part
    placements: list  # ``reading_pages.Placement`` (pages in the chain)
    corrections: makeup.Corrections
    rounds: int
    fetched: set[Path]
    reads: dict[str, list[str]]
    messages: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Book:
    """The laid-out print edition, written: the PDF (tagged, not yet claimed)
    and the layout's summary."""

    pdf: bytes
    pages: int
    starts: list[PageStart]
    page_anchors: list[list[str]]
    report: preflight.Report
    placements: list
    corrections: makeup.Corrections
    rounds: int
    chains: int
    laid_out: int  # chains laid out by this build (the others came from the cache)
    notes: NotePlacement

    def reading_pages(self, edition: Edition) -> dict[str, tuple[int, int]]:
        """The first and last page of each part of a volume (``print_layout.volume_pages``)."""
        pages: dict[str, tuple[int, int]] = {}
        for work in edition.parts:
            first, last = ids.output_id(work.slug, "titlepage"), ids.output_id(work.slug, "end")
            numbers = {
                name: n for n, names in enumerate(self.page_anchors, 1) for name in names if name in (first, last)
            }
            if first in numbers and last in numbers:
                pages[work.slug] = (numbers[first], numbers[last])
        return pages


@dataclass
class Setup:
    """What every chain's child needs to lay its chain out and write it."""

    job: Typesetting
    sandbox: Sandbox
    html: str  # the first round's print HTML
    write: Callable[[Document], bytes]  # a chain's pages as a tagged PDF (``archival.write_print``, keyed)
    combine: Callable[[list[Part]], bytes]  # the chains' PDFs as one (``outputs.pdf.combine``)

    @property
    def edition(self) -> Edition:
        return self.job.edition


# -- a chain, in its child ----------------------------------------------------------


class ChainJob:
    """One chain: laid out, made up, settled and written on request."""

    def __init__(self, setup: Setup, built: pagination.Built, index: int) -> None:
        self.setup = setup
        self.built = built
        self.index = index
        self.corrections = makeup.Corrections()
        self.rounds = 0
        self.targets: dict[str, int] = {}
        self.settling: Settling | None = None
        self.layout: pagination.Pagination | None = None
        self.html = setup.html

    def handle(self, request: tuple[str, Any]) -> Any:
        kind, value = request
        began = time.process_time()
        with _said() as messages:
            if kind == "lay out":
                answer: Any = self._lay_out()
            elif kind == "settle":
                answer = self._settle(value)
            else:
                answer = self._write()
        answer.messages = messages
        log.debug("chain %d: %s in %.2f s of CPU", self.index + 1, kind, time.process_time() - began)
        return answer

    def _lay_out(self) -> Said:
        with weasyprint_warnings():
            built = self.built
            self.layout = pagination.paginate(built, chain=breaks.find(built.root_box)[self.index])
            self._make_up()
        return self._said()

    def _settle(self, settling: Settling) -> Said:
        self.settling = settling
        self.targets = dict(settling.targets)
        with weasyprint_warnings():
            pagination.settle(
                self.layout, settling.first, settling.blank, dict(settling.strings), self.targets, settling.total
            )
            self._make_up()
        return self._said()

    def _make_up(self) -> None:
        """Make the chain's pages up (``makeup``) until nothing changes."""
        while self.rounds < MAX_LAYOUT_ROUNDS:
            self.rounds += 1
            document = pagination.document(self.layout)
            changed = makeup.next_corrections(
                document, self.corrections, self._measure, fill=self.rounds <= makeup.FILL_ROUNDS
            )
            if not changed:
                return
            log.info(
                "layout %d: pages made up again (%d page ends, %d paragraphs respaced)",
                self.rounds,
                sum(len(v) for v in self.corrections.ends.values()),
                len(self.corrections.spacing),
            )
            from edition.layout.print_layout import html

            setup = self.setup
            self.html = html(setup.job, self.corrections)
            built = setup.sandbox.build(self.html)
            chain = breaks.find(built.root_box)[self.index]
            layout = pagination.paginate(built, self.layout, chain=chain, targets=self.targets)
            if self.settling is not None and not layout.settled:
                s = self.settling
                pagination.settle(layout, s.first, s.blank, dict(s.strings), self.targets, s.total)
            self.layout = layout

    def _measure(self, keys: list) -> dict:
        from edition.layout import engine

        project = self.setup.job.options.project
        extra = self.setup.sandbox.allowed[2:]
        return makeup.measure_notes(self.html, keys, lambda h: engine.lay_out(h, project, extra_allowed=extra))

    def _said(self) -> Said:
        layout = self.layout
        return Said(
            pages=len(layout.pages),
            blank=layout.blank,
            anchors=pagination.anchors(layout),
            strings=pagination.set_strings(layout),
            cited=pagination.cited(layout),
        )

    def _write(self) -> Written:
        setup = self.setup
        with weasyprint_warnings():
            document = pagination.document(self.layout)
            own = {name for page in document.pages for name in page.anchors}
            stand_ins = {
                target
                for page in document.pages
                for kind, target, _, _ in page.links
                if kind == "internal" and target not in own
            }
            if stand_ins and document.pages:
                document.pages[0].anchors.update({name: (0, 0, 0, 0) for name in sorted(stand_ins)})
            data = setup.write(document)
        for name in stand_ins:
            document.pages[0].anchors.pop(name, None)
        placement = note_placement(document)
        return Written(
            part=Part(
                data,
                own,
                [list(page.bookmarks) for page in document.pages],
                [page.height for page in document.pages],
            ),
            starts=found_starts(document),
            page_anchors=[sorted(page.anchors) for page in document.pages],
            # the edition's words and the contents' entries (their targets are in other chains) are checked by the parent
            report=preflight.preflight(document, whole=False).as_dict(),
            words=preflight.edition_words([page._page_box for page in document.pages]),
            contents=preflight.contents_links([page._page_box for page in document.pages]),
            refs=pagerefs.printed(document),
            calls=dict(placement.calls),
            texts=dict(placement.texts),
            parts={key: dict(parts) for key, parts in placement.parts.items()},
            placements=reading_pages.plan(document, setup.edition),
            corrections=self.corrections,
            rounds=self.rounds,
            fetched=set(setup.sandbox.fetched),
            reads=readlog.digests(),
        )


@contextlib.contextmanager
def _said() -> Iterator[list[tuple[int, str]]]:
    """What the build says in the block, kept (sent to the parent, which says it)."""
    messages: list[tuple[int, str]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append((record.levelno, record.getMessage()))

    logger = logging.getLogger("edition")
    handler = Keep(logging.NOTSET)
    saved = (list(logger.handlers), logger.propagate, logger.level)
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield messages
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])


# -- the parent ----------------------------------------------------------------------


def lay_out(setup: Setup, html: str, jobs: int) -> Book:
    """Lay the print edition out chain by chain (``jobs`` at once) and write
    it; a chain laid out, or written, by an earlier build of the same inputs
    is taken from the cache (``chains.cache``)."""
    built = setup.sandbox.build(html)
    found = breaks.find(built.root_box)
    count = len(found)
    fetched = setup.sandbox.fetched
    keys = [chaincache.key(built, chain, setup.job.options.paper, setup.edition.identifier) for chain in found]
    pool: dict[int, workers.Worker] = {}
    settled: dict[int, Settling] = {}  # chain -> how the child laying it out settled it
    spoken: dict[int, list] = {}  # chain -> what its child said laying it out

    def fresh(indexes: list[int]) -> list[Said]:
        """Each chain laid out in a child of its own (forked from the boxes as built)."""
        for k in indexes:
            if k in pool:
                pool[k].close()
            pool[k] = workers.Worker(lambda channel, k=k: workers.answer(channel, ChainJob(setup, built, k).handle))
            settled.pop(k, None)
        answers = _ask_all([pool[k] for k in indexes], [("lay out", None)] * len(indexes), jobs)
        for k, answer in zip(indexes, answers, strict=True):
            spoken[k] = answer.messages
        return answers

    try:
        laid = [chaincache.load_laid(key, fetched) for key in keys]
        missing = [k for k in range(count) if laid[k] is None]
        for k, answer in zip(missing, fresh(missing), strict=True):
            laid[k] = answer
            chaincache.store_laid(keys[k], answer, fetched)
        settlings = _settlings(built, laid)
        done: dict[int, tuple[Said, Written | None, Settling]] = {}
        for _ in range(MAX_SETTLINGS):
            needed = []
            for k in range(count):
                if k in done and done[k][2] == settlings[k]:
                    continue
                cached = chaincache.load_written(keys[k], settlings[k], fetched)
                if cached is not None:
                    done[k] = (*cached, settlings[k])
                else:
                    needed.append(k)
            fresh([k for k in needed if k not in pool or k in settled])
            answers = _ask_all([pool[k] for k in needed], [("settle", settlings[k]) for k in needed], jobs)
            for k, answer in zip(needed, answers, strict=True):
                answer.messages = spoken[k] + answer.messages
                done[k] = (answer, None, settlings[k])
                settled[k] = settlings[k]
            again = _settlings(built, [done[k][0] for k in range(count)])
            if again == settlings:
                break
            settlings = again
        writing = [k for k in range(count) if done[k][1] is None]
        answers = _ask_all([pool[k] for k in writing], [("write", None)] * len(writing), jobs)
        for k, written in zip(writing, answers, strict=True):
            said = done[k][0]
            done[k] = (said, written, settlings[k])
            # a PDF reading's pages are laid in at its placeholders: its file (sizes, turns) shapes them
            readings = {p.reading for p in written.placements}
            pdfs = {work.pdf.path for work in setup.edition.parts if work.pdf and work.slug in readings}
            chaincache.store_written(keys[k], settlings[k], said, written, written.fetched | pdfs)
    finally:
        for worker in pool.values():
            worker.close()
    ids = preflight.element_ids([built.root_box])  # the contents' targets, in every chain
    book = _book(setup, settlings, [done[k][0] for k in range(count)], [done[k][1] for k in range(count)], ids)
    book.laid_out = len(writing)
    return book


def _ask_all(pool: list[workers.Worker], requests: list, jobs: int) -> list:
    """Each worker's answer to its request, ``jobs`` workers at work at a time."""
    answers: list = [None] * len(pool)
    waiting = list(range(len(pool)))
    busy: dict[int, int] = {}  # fd -> worker index
    while waiting or busy:
        while waiting and len(busy) < max(1, jobs):
            k = waiting.pop(0)
            pool[k].send(requests[k])
            busy[pool[k].fileno()] = k
        ready, _, _ = select.select(list(busy), [], [])
        for fd in ready:
            k = busy.pop(fd)
            answers[k] = pool[k].receive()
    return answers


def _settlings(built: pagination.Built, said: list[Said]) -> list[Settling]:
    """Each chain's first page, blank page, inherited strings and cited pages,
    from what the chains say of themselves; the document's page count only if
    its stylesheets show it (``counter(pages)``): else a chain is not settled
    again because a page was added elsewhere."""
    found = breaks.find(built.root_box)
    shows_total = _counts_pages(built)
    right_first = built.root_box.style["break_before"] not in ("left", "verso")  # page 1's side
    firsts, blanks, inherited = [], [], []
    number = 0  # the last page so far
    strings: dict[str, str] = {}
    anchors: dict[str, int] = {}
    for chain, answer in zip(found, said, strict=True):
        start = number + 1
        blank = chain.right_page is not None and ((start % 2 == 1) == right_first) != chain.right_page
        first = start + blank
        offset = first - (1 if answer.blank else 0)  # the number of its page 0
        for name, page in answer.anchors.items():
            anchors.setdefault(name, offset + page)
        firsts.append(first)
        blanks.append(blank)
        inherited.append(tuple(sorted(strings.items())))
        strings = {**strings, **answer.strings}
        number = offset + answer.pages - 1
    total = number if shows_total else 0
    return [
        Settling(
            first,
            blank,
            strings_in,
            tuple(sorted((a, anchors[a]) for a in answer.cited if a in anchors and a not in answer.anchors)),
            total,
        )
        for first, blank, strings_in, answer in zip(firsts, blanks, inherited, said, strict=True)
    ]


_PAGES = re.compile(r"counters?\(\s*pages\b")


def _counts_pages(built: pagination.Built) -> bool:
    """Whether the document's stylesheets use the ``pages`` counter."""
    return bool(_PAGES.search(pagination.stylesheets_text(built)))


def _book(
    setup: Setup, settlings: list[Settling], said: list[Said], written: list[Written], ids: dict[str, object]
) -> Book:
    """The chains' PDFs put together, and their summaries in the document's page numbers."""
    for answer, done in zip(said, written, strict=True):
        for level, message in answer.messages + done.messages:
            logging.getLogger("edition").log(level, "%s", message)
        setup.sandbox.fetched.update(done.fetched)
        readlog.merge(done.reads)
    starts: list[PageStart | None] = []
    page_anchors: list[list[str]] = []
    report = preflight.Report()
    contents: list[tuple[int, str, str]] = []
    refs: list[pagerefs.PageRef] = []
    placements: list = []
    notes = NotePlacement()
    corrections = makeup.Corrections()
    for settling, answer, done in zip(settlings, said, written, strict=True):
        offset = settling.first - (1 if answer.blank else 0) - 1  # page n of the chain is page offset + n
        starts += [s if s is None else PageStart(s.page + offset, s.anchor, s.block, s.chars) for s in done.starts]
        page_anchors += done.page_anchors
        for kind, faults in done.report["faults"].items():
            for fault in faults:
                moved = dict(fault)
                for key in ("page", "printed_on"):
                    if isinstance(moved.get(key), int):
                        moved[key] += offset
                report.faults[kind].append(moved)
        preflight.joined_words(report, [(page + offset, word) for page, word in done.words], setup.job.words())
        contents += [(page + offset, entry, href) for page, entry, href in done.contents]
        refs += [pagerefs.PageRef(ref.page + offset, ref.target, ref.printed) for ref in done.refs]
        placements += [
            reading_pages.Placement(p.page + offset, p.reading, p.source_page, p.rect, p.scale) for p in done.placements
        ]
        notes.calls.update({k: v + offset for k, v in done.calls.items()})
        notes.texts.update({k: v + offset for k, v in done.texts.items()})
        notes.parts.update({k: {n: v + offset for n, v in parts.items()} for k, parts in done.parts.items()})
        corrections.ends.update(done.corrections.ends)
        corrections.spacing.update(done.corrections.spacing)
        corrections.cuts.update(done.corrections.cuts)
        corrections.floats.update(done.corrections.floats)
    preflight.contents_faults(report, contents, ids)
    targets: dict[str, int] = {}  # each anchor's page, the first it is on (``pagerefs.target_pages``)
    for number, names in enumerate(page_anchors, 1):
        for name in names:
            targets.setdefault(name, number)
    preflight.page_number_faults(report, refs, targets)
    report.pages = len(page_anchors)
    starts = following_starts(starts)  # a page with no text begins where the next one does, in any chain
    book = Book(
        pdf=setup.combine([done.part for done in written]),
        pages=len(page_anchors),
        starts=starts,
        page_anchors=page_anchors,
        report=report,
        placements=placements,
        corrections=corrections,
        rounds=max(done.rounds for done in written),
        chains=len(written),
        laid_out=len(written),
        notes=notes,
    )
    return book
