"""The build, phase by phase: read -> resolve -> render -> lay out -> write.

Everything is read and checked before anything is written (MkDocs' model).
Every output is staged in a ``Transaction`` and the set is swapped into
``dist/`` at the end (``atomic``): a build that fails, or is interrupted,
leaves ``dist/`` as it was.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import json
import logging
import os
import pickle
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from . import (
    __version__,
    cache,
    checks,
    fonts,
    ids,
    layoutcache,
    parallel,
    readlog,
    scripts,
    templates,
    volume,
)
from .atomic import FolderLock, Transaction, recover
from .diagnostics import BuildFailed, Collector, Diagnostic
from .layoutcache import Laid
from .links import check as check_links
from .model import Edition, SourceLocation
from .outputs import epub
from .outputs.permissions import permissions_csv
from .papers import PAPERS
from .progress import Timings
from .reader import read_work
from .render import (
    PRINT,
    Marks,
    build_locator,
    environment,
    permission_rows,
    render_bodies,
    render_introduction,
    render_template,
    toc_entries,
    volume_links,
    volume_toc,
)
from .resolve import resolve_work, single_work_edition
from .tools import pandoc_version
from .vocabulary import vocabulary

if TYPE_CHECKING:  # the layout engine is imported only where a layout is made
    from . import pagefit, preflight

# The layout engine (WeasyPrint) and the PDF writers (pikepdf) are imported
# where they are used: an EPUB made from a cached layout needs neither.

log = logging.getLogger(__name__)

FORMATS = ("pdf", "pdfa", "epub")
#: What the print builder loads from templates/ (the templates load the rest).
PRINT_TEMPLATES = ("print/book.html", "body/blocks.html")
PRINT_STYLESHEETS = {"base": "base.css", "print": "print/print.css", "press": "print/press.css"}


@dataclass(frozen=True)
class Options:
    project: Path
    out: Path
    slugs: tuple[str, ...] = ()
    formats: tuple[str, ...] = FORMATS
    paper: str = "letter"
    strict: bool = False
    press: bool = False
    cmyk_profile: Path | None = None
    jobs: int = 1
    check: bool = False
    cache: Path | None = None  # the cache folder (``edition.cache``); None: nothing is kept or reused


@dataclass
class Result:
    outputs: list[Path] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    layout_rounds: dict[str, int] = field(default_factory=dict)
    corrections: dict[str, pagefit.Corrections] = field(default_factory=dict)
    split_points: dict[str, pagefit.Corrections] = field(
        default_factory=dict
    )  # what print_html needs to redo the layout
    warnings: list[str] = field(default_factory=list)
    preflight: dict[str, preflight.Report] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    reads: dict[str, list[str]] = field(default_factory=dict)  # every file read: path -> SHA-256s
    fetched: dict[str, set[Path]] = field(default_factory=dict)  # slug -> files the layout loaded
    # slug -> the PDF readings without tags: the volume must not claim PDF/UA (issue 14's finisher)
    pdfua_dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pdf_scales: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)  # slug -> reading -> range
    layout_keys: dict[str, str] = field(default_factory=dict)  # slug -> ``layoutcache.key`` of its print layout
    layout_cached: dict[str, bool] = field(default_factory=dict)  # slug -> its page list came from the cache
    vocabulary: dict[str, set[str]] = field(default_factory=dict)  # slug -> the words its preflight accepts


def discover(project: Path) -> list[str]:
    content = project / "content"
    if not content.is_dir():
        return []
    return sorted(p.name for p in content.iterdir() if not p.name.startswith(".") and (p / "work.yaml").is_file())


def build_date(edition: Edition) -> datetime.datetime:
    """SOURCE_DATE_EPOCH if set, else the edition's date from its metadata:
    never the clock, so the same inputs give the same bytes."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    meta = edition.main.meta
    date = edition.reader.date if edition.reader else (meta.edition_date or meta.date)
    parts = [int(p) for p in date.split("-")] + [1, 1]
    return datetime.datetime(parts[0], parts[1], parts[2], tzinfo=datetime.UTC)


class _WarningCounter(logging.Handler):
    def __init__(self, result: Result) -> None:
        super().__init__(logging.WARNING)
        self.result = result

    def emit(self, record: logging.LogRecord) -> None:
        self.result.warnings.append(record.getMessage())


def run(options: Options, transaction: Transaction | None = None) -> Result:
    """Build; the outputs are staged in ``transaction`` (the caller commits it),
    or, without one, published into ``options.out`` together at the end."""
    result = Result()
    counter = _WarningCounter(result)
    logging.getLogger("edition").addHandler(counter)
    readlog.start()
    try:
        with cache.use(options.cache) as store:
            try:
                if transaction is not None:
                    return _run(options, result, transaction)
                with FolderLock(options.out):
                    recover(options.out)
                    own = Transaction(options.out)
                    try:
                        _run(options, result, own)
                        own.commit()
                    finally:
                        own.discard()
                    return result
            finally:
                if store is not None:
                    store.prune()
    finally:
        result.reads = readlog.digests()
        readlog.stop()
        logging.getLogger("edition").removeHandler(counter)


def _run(options: Options, result: Result, transaction: Transaction) -> Result:
    missing = fonts.missing()
    if missing:
        raise OSError(f"font file {missing[0]} is missing: run the set-up (README) first")
    readers = volume.discover(options.project)
    slugs = list(options.slugs) or discover(options.project) + readers
    _check_slugs(options.project, slugs)
    if options.jobs > 1 and len(slugs) > 1:
        return _run_parallel(options, slugs, readers, result, transaction)
    with result.timings.stage("read"):
        works = _read_all(options.project, [s for s in slugs if s not in readers])
    with result.timings.stage("resolve citations"):
        editions = [single_work_edition(resolve_work(w)) for w in works]
    with result.timings.stage("read readers"):
        editions += _read_readers(options.project, [s for s in slugs if s in readers])
    env = environment(options.project / "templates")
    for edition in editions:
        build(edition, env, options, result, transaction)
    return result


def _run_parallel(
    options: Options, slugs: list[str], readers: list[str], result: Result, transaction: Transaction
) -> Result:
    """Each edition in its own process; all input is checked first, as in a
    serial build, so bad input still stops the build before anything is written.
    The children stage their files in the parent's transaction."""
    with result.timings.stage("read"):
        _read_all(options.project, [s for s in slugs if s not in readers])
        _read_readers(options.project, [s for s in slugs if s in readers])
    with concurrent.futures.ProcessPoolExecutor(max_workers=options.jobs) as pool:
        done = pool.map(
            _run_one, [replace(options, slugs=(slug,), jobs=1) for slug in slugs], [transaction] * len(slugs)
        )
        for one in done:
            result.outputs += [transaction.adopt(path) for path in one.outputs]
            readlog.merge(one.reads)
            result.pages.update(one.pages)
            result.warnings += one.warnings
            result.timings.stages += one.timings.stages
    return result


def _run_one(options: Options, transaction: Transaction) -> Result:
    return run(options, transaction)


def _read_readers(project: Path, slugs: list[str]) -> list[Edition]:
    editions, problems = [], []
    for slug in slugs:
        try:
            editions.append(volume.read_reader(project, slug))
        except BuildFailed as failed:
            problems.extend(failed.diagnostics)
    if problems:
        raise BuildFailed(problems)
    return editions


def _profile_dirs(options: Options, press: bool) -> list[Path]:
    return [options.cmyk_profile.resolve().parent] if press and options.cmyk_profile else []


def volume_pages(document, edition: Edition) -> dict[str, tuple[int, int]]:
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


def print_identifier(edition: Edition, paper: str) -> str:
    """The print edition's own identifier, derived from the edition's and the paper."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{edition.identifier}/print/{paper}')}"


def _check_slugs(project: Path, slugs: list[str]) -> None:
    diags = Collector()
    known = discover(project) + volume.discover(project)
    from .diagnostics import suggest

    works = set(discover(project))
    for slug in dict.fromkeys(slugs):
        if slug not in known:
            diags.error(None, "cli.option", f"no work {slug!r} in content/ or readers/{suggest(slug, known)}")
        elif slug in works and slug in volume.discover(project):
            diags.error(
                SourceLocation(project / "readers" / f"{slug}.yaml"),
                "file.name",
                f"the reader {slug!r} has the name of the work content/{slug}/: both would write dist/{slug}.pdf; "
                "rename the reader",
            )
    if not slugs:
        diags.error(None, "file.missing", "content/ holds no work (a folder with a work.yaml)")
    diags.check()


def _read_all(project: Path, slugs: list[str]) -> list:
    works, problems = [], []
    for slug in slugs:
        try:
            works.append(read_work(project, slug))
        except BuildFailed as failed:
            problems.extend(failed.diagnostics)
    if problems:
        raise BuildFailed(problems)
    return works


def build(edition: Edition, env, options: Options, result: Result, transaction: Transaction) -> None:
    """One edition's outputs, staged in ``transaction``.

    The work is spread over two cores: the EPUB is rendered in a child while
    this process lays out the print edition (the child waits for the page
    starts, then inserts the page breaks and packs); after the layout, the
    print PDF is written once and finished here, and the PDF/A is made from it
    in a second child while this process checks and claims the print PDF. A
    build that writes no PDF takes the layout's summary from the cache when the
    layout would be the same (``layoutcache``), and lays out nothing."""
    date = build_date(edition)
    files: dict[Path, bytes] = {}
    _check_pdf_readings(edition, options, result)
    printed = bool({"pdf", "pdfa"} & set(options.formats)) or options.press
    laid = None if printed else _cached_layout(edition, env, options, date, result)
    epub_child = _start_epub(edition, env, options, date) if "epub" in options.formats and laid is None else None
    try:
        document = None
        if laid is None:
            document, laid, placements = _lay_out(edition, env, options, date, result)
        _report_layout(edition, laid, options, result, files)
        if epub_child is not None:
            epub_child.feed((laid.starts, laid.reading_pages))
        if document is not None and {"pdf", "pdfa"} & set(options.formats):
            files.update(_write_pdfs(document, edition, env, options, date, placements, result))
        if options.press:
            files[options.out / f"{edition.slug}-press.pdf"] = _write_press(edition, env, options, date, result)
        if "epub" in options.formats:
            name = options.out / f"{edition.slug}.epub"
            if epub_child is not None:
                with result.timings.stage(f"{edition.slug}: wait for epub"):
                    files[name] = _collect(epub_child.wait)
                epub_child = None
            else:
                with result.timings.stage(f"{edition.slug}: build epub"):
                    files[name] = _build_epub(edition, env, options, date, laid)
    finally:  # a child never outlives its build
        if epub_child is not None:
            epub_child.close()
            with contextlib.suppress(BaseException):
                epub_child.wait()
    if options.check and "epub" in options.formats:
        with result.timings.stage(f"{edition.slug}: epubcheck"):
            problems = checks.epubcheck(files[options.out / f"{edition.slug}.epub"], f"{edition.slug}.epub")
        if problems:
            raise BuildFailed(problems)
    if options.strict and result.warnings:
        raise BuildFailed([Diagnostic(None, "build.warning", w) for w in result.warnings])
    with result.timings.stage(f"{edition.slug}: stage files"):
        for path in sorted(files, key=lambda p: OUTPUT_ORDER.index(_kind(p.name, edition.slug))):
            result.outputs.append(transaction.stage(path, files[path]))


#: The order the outputs are staged and named in (reports first, then the books).
OUTPUT_ORDER = (".preflight.json", ".permissions.csv", "-press.pdf", ".epub", ".pdf", "-pdfa.pdf")


def _kind(name: str, slug: str) -> str:
    return name.removeprefix(slug)


#: Bound on the layout rounds that move note calls to their note's page.
MAX_LAYOUT_ROUNDS = 30


def _lay_out(edition: Edition, env, options: Options, date, result: Result):
    """The print layout, its summary (kept in the cache for a later EPUB-only
    build) and the places of the PDF readings' pages."""
    from . import preflight
    from .outputs import pdfpages

    said = _Listen()
    logger = logging.getLogger("edition")
    logger.addHandler(said)
    try:
        document = lay_out_with_notes_in_place(edition, env, options, date, result)
        placements = pdfpages.plan(document, edition)
        _log_placements(edition, placements, result)
        with result.timings.stage(f"{edition.slug}: preflight"):
            report = preflight.preflight(document, _words(edition, env, result))
        log.info("preflight: %s", report.summary())
    finally:
        logger.removeHandler(said)
    starts = pdfpages.page_starts(page_starts(document), edition, placements)
    laid = Laid(
        pages=len(document.pages),
        starts=tuple(starts),
        reading_pages=volume_pages(document, edition),
        scales=result.pdf_scales.get(edition.slug, {}),
        preflight=report.as_dict(),
        rounds=result.layout_rounds[edition.slug],
        messages=tuple(said.messages),
    )
    # the files it was made from beyond its HTML: what WeasyPrint loaded, and the PDF
    # readings, whose pages are laid in (their sizes and turns are not in the HTML)
    loaded = {*result.fetched.get(edition.slug, ()), *(work.pdf.path for work in edition.parts if work.pdf)}
    layoutcache.store(result.layout_keys[edition.slug], laid, loaded)
    return document, laid, placements


def page_starts(document):
    from .layout import page_starts as starts

    return starts(document)


def _cached_layout(edition: Edition, env, options: Options, date, result: Result) -> Laid | None:
    """The summary of this edition's print layout from an earlier build, if it
    would be laid out the same; its messages are said again."""
    if cache.active() is None:
        return None
    html = print_html(edition, env, options, date)
    laid = layoutcache.load(_layout_key(edition, env, options, html, result))
    if laid is None:
        return None
    result.layout_cached[edition.slug] = True
    log.info(
        "%s: the EPUB's page list comes from the cached print layout (%d pages, %s paper) of the same inputs: "
        "nothing was laid out",
        edition.slug,
        laid.pages,
        options.paper,
    )
    for level, message in laid.messages:
        log.log(level, "%s", message)
    result.layout_rounds[edition.slug] = laid.rounds
    result.pdf_scales[edition.slug] = laid.scales
    return laid


def _layout_key(edition: Edition, env, options: Options, html: str, result: Result) -> str:
    """The layout's cache key: the first round's print HTML, and the words the
    preflight accepts (``vocabulary``: its report is part of what is kept)."""
    return layoutcache.key(html, options.paper, "\n".join(sorted(_words(edition, env, result))))


def _words(edition: Edition, env, result: Result) -> set[str]:
    """The edition's ``vocabulary``, made once per build."""
    if edition.slug not in result.vocabulary:
        result.vocabulary[edition.slug] = vocabulary(edition, env)
    return result.vocabulary[edition.slug]


def _report_layout(edition: Edition, laid: Laid, options: Options, result: Result, files: dict[Path, bytes]) -> None:
    """The preflight report and, for a volume, the permissions table (both from the layout)."""
    from .preflight import Report, diagnostics

    result.pages[edition.slug] = laid.pages
    report = Report(pages=laid.preflight["pages"], faults=laid.preflight["faults"])
    result.preflight[edition.slug] = report
    files[options.out / f"{edition.slug}.preflight.json"] = (
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    ).encode()
    if options.strict and report.total:
        raise BuildFailed(diagnostics(report))
    if edition.reader:
        scales = result.pdf_scales.get(edition.slug, {})
        files[options.out / f"{edition.slug}.permissions.csv"] = permissions_csv(edition, laid.reading_pages, scales)


class _Listen(logging.Handler):
    """What the build says while it lays out (kept with the layout's summary)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.messages: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.levelno, record.getMessage()))


# -- the EPUB -------------------------------------------------------------------------


def _build_epub(edition: Edition, env, options: Options, date, laid: Laid) -> bytes:
    return epub.build_epub(
        edition,
        env,
        options.project,
        date,
        laid.starts,
        print_identifier(edition, options.paper),
        laid.reading_pages,
    )


def _start_epub(edition: Edition, env, options: Options, date) -> parallel.Fed:
    """The EPUB, in a child that starts now: it renders the book once without
    page breaks while the layout runs (templates compiled, fonts cut, cover
    drawn), then, given the layout's page starts, makes the EPUB itself."""

    def work(receive: Callable) -> bytes:
        def make() -> bytes:
            with contextlib.suppress(Exception), _silence():  # the real run below says everything
                epub.build_epub(edition, env, options.project, date, (), "", None)
            starts, reading_pages = receive()
            identifier = print_identifier(edition, options.paper)
            return epub.build_epub(edition, env, options.project, date, starts, identifier, reading_pages)

        return _in_child(make)

    return parallel.start_fed(work)


# -- the PDFs -------------------------------------------------------------------------


def _write_pdfs(document, edition: Edition, env, options: Options, date, placements, result: Result) -> dict:
    """The print PDF and the PDF/A from one write of the layout: written and
    tagged once (the PDF readings' pages laid in), then claimed as PDF/UA-1
    here, and made into the PDF/A in a child at the same time."""
    from .outputs import archival, pdfpages

    out: dict[Path, bytes] = {}
    with result.timings.stage(f"{edition.slug}: write pdf"):
        data = pdfpages.insert(archival.write_print(document, edition), edition, list(placements))
    pdfa = None
    if "pdfa" in options.formats:
        sources = _pdfa_sources(edition, env, options, result)
        sources.append(archival.manifest(edition, sources, date, {"paper": options.paper}))

        def make_pdfa() -> bytes:
            return archival.claim(archival.to_pdfa(data, edition, sources, date), edition, pdfa=True)

        if "pdf" in options.formats:
            pdfa = parallel.start(lambda: _in_child(make_pdfa))
        else:
            with result.timings.stage(f"{edition.slug}: make pdf/a"):
                out[options.out / f"{edition.slug}-pdfa.pdf"] = make_pdfa()
    try:
        if "pdf" in options.formats:
            with result.timings.stage(f"{edition.slug}: check and claim pdf"):
                out[options.out / f"{edition.slug}.pdf"] = archival.claim(data, edition, pdfa=False)
    finally:  # always collect the child
        if pdfa is not None:
            with result.timings.stage(f"{edition.slug}: wait for pdf/a"):
                out[options.out / f"{edition.slug}-pdfa.pdf"] = _collect(pdfa)
    return out


def _write_press(edition: Edition, env, options: Options, date, result: Result) -> bytes:
    from .outputs import archival, pdfpages

    press_document = lay_out_with_notes_in_place(edition, env, options, date, result, press=True)
    with result.timings.stage(f"{edition.slug}: write press pdf"):
        press = archival.write_press(press_document, edition, pdfx=bool(options.cmyk_profile))
        return pdfpages.insert(press, edition, pdfpages.plan(press_document, edition))


def _pdfa_sources(edition: Edition, env, options: Options, result: Result) -> list:
    """What the PDF/A embeds: the edition's inputs and the templates, stylesheets,
    images and layouts its builders load, whichever formats this build writes."""
    from .outputs import archival

    css = options.project / "templates"
    used = templates.closure(env, PRINT_TEMPLATES + epub.TEMPLATES)
    used += [css / name for name in PRINT_STYLESHEETS.values()]
    used += [css / name for name in epub.CSS_FILES.values()] + [css / epub.COVER_LAYOUT]
    used += sorted(result.fetched.get(edition.slug, ()))
    return archival.edition_sources(edition, options.project, used)


# -- children -------------------------------------------------------------------------


def _in_child(make: Callable[[], bytes]) -> bytes:
    """Run ``make`` in a child: the warnings it logs are sent back with its
    result, not printed (the parent logs them once, where --strict counts
    them), and so are the files it read."""
    warnings = Result()
    counter = _WarningCounter(warnings)
    logger = logging.getLogger("edition")
    held = _HoldWarnings()
    for handler in logger.handlers:
        handler.addFilter(held)
    logger.addHandler(counter)
    try:
        value = make()
    finally:
        logger.removeHandler(counter)
        for handler in logger.handlers:
            handler.removeFilter(held)
    return pickle.dumps((value, warnings.warnings, readlog.digests()))


def _collect(wait: Callable[[], bytes]) -> bytes:
    """A child's result; its warnings logged here, the files it read noted here."""
    value, child_warnings, reads = pickle.loads(wait())
    for message in child_warnings:
        log.warning("%s", message)
    readlog.merge(reads)
    return value


class _HoldWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


@contextlib.contextmanager
def _silence():
    """Nothing logged in the block reaches a handler."""
    logger = logging.getLogger("edition")
    mute = _Mute()
    handlers = list(logger.handlers)
    for handler in handlers:
        handler.addFilter(mute)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(mute)


class _Mute(logging.Filter):
    def filter(self, _record: logging.LogRecord) -> bool:
        return False


def _check_pdf_readings(edition: Edition, options: Options, result: Result) -> None:
    """Before any layout: what the PDF/A cannot carry fails the build; what the
    build fixes is said; an untagged PDF reading drops the PDF/UA claim."""
    if "pdfa" in options.formats and any(w.pdf for w in edition.parts):
        from . import pdfproblems

        errors, fixes = pdfproblems.pdfa_diagnostics(edition)
        if errors:
            raise BuildFailed(errors)
        for line in fixes:
            log.info("fixed for PDF/A: %s", line)
    untagged = edition.untagged_pdf_readings
    result.pdfua_dropped[edition.slug] = untagged
    for name in untagged:
        where = next(w.pdf.location for w in edition.parts if w.pdf and w.pdf.name == name)
        message = f"{name} has no tags: its pages are tagged as figures, and {edition.slug} does not claim PDF/UA"
        log.warning("%s", Diagnostic(where, "pdf.untagged", message, "warning"))


def _log_placements(edition: Edition, placements: list, result: Result) -> None:
    """How much each PDF reading was scaled to fit inside the margins."""
    from .outputs import pdfpages

    scales = pdfpages.scales(placements)
    result.pdf_scales[edition.slug] = scales
    for work in edition.parts:
        if work.pdf is None:
            continue
        low, high = scales[work.slug]
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


def lay_out_with_notes_in_place(edition: Edition, env, options: Options, date, result: Result, press: bool = False):
    """Lay out, then make up again every run of pages where a note is off its
    call's page or a page is left short (edition/pagefit.py: page ends as
    forced breaks, paragraphs set a line tighter or looser), and lay out again
    until nothing changes; fail if a note is still off its call's page."""
    from . import pagefit, pagerefs, pdf

    corrections = pagefit.Corrections()
    extra = _profile_dirs(options, press)
    for round_number in range(1, MAX_LAYOUT_ROUNDS + 1):
        with result.timings.stage(f"{edition.slug}: render print html"):
            html = print_html(edition, env, options, date, corrections, press)
        if round_number == 1 and not press:  # what the layout is made from (``layoutcache``)
            result.layout_keys[edition.slug] = _layout_key(edition, env, options, html, result)
        with result.timings.stage(f"{edition.slug}: lay out pages"):
            document = pdf.lay_out(
                html,
                options.project,
                extra_allowed=extra,
                fetched=result.fetched.setdefault(edition.slug, set()),
            )
        with result.timings.stage(f"{edition.slug}: make up pages"):
            changed = pagefit.next_corrections(
                document,
                corrections,
                lambda keys, html=html: pagefit.measure_notes(
                    html, keys, lambda h: pdf.lay_out(h, options.project, extra_allowed=extra)
                ),
                fill=round_number <= pagefit.FILL_ROUNDS,
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
    result.layout_rounds[edition.slug] = round_number
    result.corrections[edition.slug] = corrections
    result.split_points[edition.slug] = corrections
    pdf.fail_on_note_faults(document)
    return document


def _font_faces(edition: Edition) -> str:
    """``@font-face`` rules: Charis, and the faces for other scripts the text uses."""
    rules = [fonts.font_face_css(lambda p: p.resolve().as_uri()), scripts.print_css(edition.characters)]
    return "\n".join(filter(None, rules))


def print_html(
    edition: Edition,
    env,
    options: Options,
    date: datetime.datetime,
    corrections: pagefit.Corrections | None = None,
    press: bool = False,
) -> str:
    marks = corrections.marks() if corrections else {}
    links = volume_links(edition.parts)
    bodies = {
        work.slug: render_bodies(
            work,
            PRINT,
            env,
            {n: Marks(cuts, spacing) for n, (cuts, spacing) in marks.get(work.slug, {}).items()},
            links.get(work.slug),
        )[0]
        for work in edition.parts
    }
    css = options.project / "templates"
    html = render_template(
        env,
        "print/book.html",
        edition=edition,
        bodies=bodies,
        blocks=env.get_template("body/blocks.html").module,
        tocs={work.slug: toc_entries(work, build_locator(work, PRINT)) for work in edition.parts},
        volume_toc=volume_toc(edition, PRINT),
        introduction=render_introduction(edition, PRINT, env),
        permissions_rows=permission_rows(edition, None),
        paper=PAPERS[options.paper],
        fonts_css=Markup(_font_faces(edition)),
        stylesheets={
            kind: (css / name).resolve().as_uri() if press or kind != "press" else ""
            for kind, name in PRINT_STYLESHEETS.items()
        },
        cmyk_profile=options.cmyk_profile.resolve().as_uri() if press and options.cmyk_profile else "",
        keywords=", ".join(
            filter(None, [edition.main.meta.series, edition.reader.course_code if edition.reader else ""])
        ),
        generator=f"edition {__version__} (WeasyPrint, Pandoc {pandoc_version()})",
        build_date=date.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    html = check_links(html, "the print HTML")
    if corrections is None:
        return html
    from . import pagefit, pagerefs

    return pagerefs.mark(pagefit.mark_blocks(html, corrections.blocks()), corrections.page_numbers)
