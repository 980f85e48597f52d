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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from edition import project
from edition.diagnostics import BuildFailed, Collector, Diagnostic, suggest
from edition.fonts import faces
from edition.forked import WarningCounter, collect, in_child, silence
from edition.infra import cache, parallel, tools
from edition.infra.atomic import FolderLock, Transaction, recover
from edition.infra.progress import Timings
from edition.layout import print_layout
from edition.layout.cache import Laid
from edition.layout.print_layout import Typesetting
from edition.model import Edition
from edition.outputs.checks import epubcheck
from edition.outputs.epub import builder as epub
from edition.outputs.permissions import permissions_csv
from edition.read import clashes, course_reader, readlog
from edition.read.work import read_work
from edition.render import templates
from edition.render.environment import environment
from edition.render.print_html import PRINT_STYLESHEETS, PRINT_TEMPLATES, print_identifier
from edition.render.template_limits import build_scope
from edition.resolve import notices
from edition.resolve.edition import resolve_work, single_work_edition
from edition.resolve.volume import resolve_volume
from edition.settings import Options, cores

if TYPE_CHECKING:  # the layout engine is imported only where a layout is made
    from edition.layout import preflight

# The layout engine (WeasyPrint) and the PDF writers (pikepdf) are imported
# where they are used: an EPUB made from a cached layout needs neither.

log = logging.getLogger(__name__)

__all__ = ["Options", "Result", "build_date", "run"]


@dataclass
class Result:
    """What a build did: the files it staged, and what the command line and the tests report of it."""

    outputs: list[Path] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)
    layout_rounds: dict[str, int] = field(default_factory=dict)
    corrections: dict = field(default_factory=dict)  # slug -> the make-up's corrections (``makeup.Corrections``)
    warnings: list[str] = field(default_factory=list)
    preflight: dict[str, preflight.Report] = field(default_factory=dict)
    timings: Timings = field(default_factory=Timings)
    reads: dict[str, list[str]] = field(default_factory=dict)  # every file read: path -> SHA-256s
    # slug -> the PDF readings without tags: the volume must not claim PDF/UA (issue 14's finisher)
    pdfua_dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)
    chains: dict[str, tuple[int, int]] = field(default_factory=dict)  # slug -> (chains laid out, chains)


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


def run(options: Options, transaction: Transaction | None = None) -> Result:
    """Build; the outputs are staged in ``transaction`` (the caller commits it),
    or, without one, published into ``options.out`` together at the end."""
    result = Result()
    counter = WarningCounter(result.warnings)
    logging.getLogger("edition").addHandler(counter)
    readlog.start()
    tools.forget_runs()  # Pandoc's runs are shared within a build (a reader's readings), never between builds
    try:
        with cache.use(options.cache) as store, build_scope():
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
    missing = faces.missing()
    if missing:
        raise OSError(f"font file {missing[0]} is missing: run the set-up (README) first")
    readers = project.readers(options.project)
    slugs = list(options.slugs) or project.works(options.project) + readers
    _check_slugs(options.project, slugs)
    if options.jobs > 1 and len(slugs) > 1:
        return _run_parallel(options, slugs, readers, result, transaction)
    with result.timings.stage("read"):
        works = _read_works(options.project, [s for s in slugs if s not in readers])
    with result.timings.stage("resolve citations"):
        editions = [single_work_edition(resolve_work(w)) for w in works]
    with result.timings.stage("read readers"):
        editions += _read_readers(options.project, [s for s in slugs if s in readers])
    env = environment(options.templates)
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
        _read_works(options.project, [s for s in slugs if s not in readers])
        _read_readers(options.project, [s for s in slugs if s in readers])
    with concurrent.futures.ProcessPoolExecutor(max_workers=options.jobs) as pool:
        each = replace(options, jobs=1, cores=max(1, cores() // options.jobs))  # the cores shared out
        done = pool.map(_run_one, [replace(each, slugs=(slug,)) for slug in slugs], [transaction] * len(slugs))
        for one in done:
            result.outputs += [transaction.adopt(path) for path in one.outputs]
            readlog.merge(one.reads)
            result.pages.update(one.pages)
            result.warnings += one.warnings
            result.timings.stages += one.timings.stages
    return result


def _run_one(options: Options, transaction: Transaction) -> Result:
    return run(options, transaction)


def _check_slugs(folder: Path, slugs: list[str]) -> None:
    diags = Collector()
    works, readers = project.works(folder), project.readers(folder)
    known = works + readers
    for slug in dict.fromkeys(slugs):
        if slug not in known:
            diags.error(None, "cli.option", f"no work {slug!r} in content/ or readers/{suggest(slug, known)}")
    if not slugs:
        diags.error(None, "file.missing", "content/ holds no work (a folder with a work.yaml)")
    diags.check()
    # editions whose outputs would have one name: said before a file is read
    clashing = clashes.check(folder, works, readers, slugs)
    if clashing:
        raise BuildFailed(clashing)


def _read_works(folder: Path, slugs: list[str]) -> list:
    works, problems = [], []
    for slug in slugs:
        try:
            works.append(read_work(folder, slug))
        except BuildFailed as failed:
            problems.extend(failed.diagnostics)
    if problems:
        raise BuildFailed(problems)
    return works


def _read_readers(folder: Path, slugs: list[str]) -> list[Edition]:
    editions, problems = [], []
    for slug in slugs:
        try:
            editions.append(resolve_volume(course_reader.read_reader(folder, slug)))
        except BuildFailed as failed:
            problems.extend(failed.diagnostics)
    if problems:
        raise BuildFailed(problems)
    return editions


def build(
    edition: Edition, env: jinja2.Environment, options: Options, result: Result, transaction: Transaction
) -> None:
    """One edition's outputs, staged in ``transaction``.

    The work is spread over two cores: the EPUB is rendered in a child while
    this process lays out the print edition (the child waits for the page
    starts, then inserts the page breaks and packs); after the layout, the
    print PDF is written once and finished here, and the PDF/A is made from it
    in a second child while this process checks and claims the print PDF. A
    build that writes no PDF takes the layout's summary from the cache when the
    layout would be the same (``layout.cache``), and lays out nothing."""
    job = Typesetting(edition, env, options, build_date(edition), result.timings)
    files: dict[Path, bytes] = {}
    notices.report(edition)
    _check_pdf_readings(edition, options, result)
    printed = bool({"pdf", "pdfa"} & set(options.formats)) or options.press
    laid = None if printed else print_layout.cached(job)
    epub_child = _start_epub(job) if "epub" in options.formats and laid is None else None
    try:
        document = None
        if laid is None:
            document, laid, placements = print_layout.lay_out(job, _chain_writer(job))
            result.chains[edition.slug] = job.chains
        result.layout_rounds[edition.slug] = job.rounds
        if job.corrections is not None:
            result.corrections[edition.slug] = job.corrections
        files.update(_reports(job, laid, result))
        if epub_child is not None:
            epub_child.feed((laid.starts, laid.reading_pages))
        if document is not None and {"pdf", "pdfa"} & set(options.formats):
            files.update(_write_pdfs(job, document, placements))
        if options.press:
            files[_output(job, "press")] = _write_press(job)
        if "epub" in options.formats:
            name = _output(job, "epub")
            if epub_child is not None:
                with job.stage("wait for epub"):
                    files[name] = collect(epub_child.wait)
                epub_child = None
            else:
                with job.stage("build epub"):
                    files[name] = _build_epub(job, laid)
    finally:  # a child never outlives its build
        if epub_child is not None:
            epub_child.close()
            with contextlib.suppress(BaseException):
                epub_child.wait()
    if options.check and "epub" in options.formats:
        with job.stage("epubcheck"):
            problems = epubcheck.epubcheck(files[name], name.name)
        if problems:
            raise BuildFailed(problems)
    if options.strict and result.warnings:
        raise BuildFailed([Diagnostic(None, "build.warning", w) for w in result.warnings])
    with job.stage("stage files"):
        for path in sorted(files, key=lambda p: _order(p.name, edition.slug)):
            result.outputs.append(transaction.stage(path, files[path]))


def _output(job: Typesetting, kind: str) -> Path:
    return job.options.out / project.output_name(job.edition.slug, kind)


def _order(name: str, slug: str) -> int:
    """Where an output is staged: in ``project.OUTPUT_ORDER`` (reports first, then the books)."""
    return next(i for i, kind in enumerate(project.OUTPUT_ORDER) if project.output_name(slug, kind) == name)


def _reports(job: Typesetting, laid: Laid, result: Result) -> dict[Path, bytes]:
    """The preflight report and, for a volume, the permissions table (both from the layout)."""
    from edition.layout.preflight import Report, diagnostics

    edition = job.edition
    result.pages[edition.slug] = laid.pages
    report = Report(pages=laid.preflight["pages"], faults=laid.preflight["faults"])
    result.preflight[edition.slug] = report
    files = {
        _output(job, "preflight"): (
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        ).encode()
    }
    if job.options.strict and report.total:
        raise BuildFailed(diagnostics(report))
    if edition.reader:
        files[_output(job, "permissions")] = permissions_csv(edition, laid.reading_pages, job.scales)
    return files


def _check_pdf_readings(edition: Edition, options: Options, result: Result) -> None:
    """Before any layout: what the PDF/A cannot carry fails the build; what the
    build fixes is said; an untagged PDF reading drops the PDF/UA claim."""
    if "pdfa" in options.formats and any(w.pdf for w in edition.parts):
        from edition.read.pdf import problems as pdfproblems

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


# -- the EPUB -------------------------------------------------------------------------


def _build_epub(job: Typesetting, laid: Laid) -> bytes:
    options = job.options
    identifier = print_identifier(job.edition, options.paper)
    return epub.build_epub(job.edition, job.env, options.project, job.date, laid.starts, identifier, laid.reading_pages)


def _start_epub(job: Typesetting) -> parallel.Fed:
    """The EPUB, in a child that starts now: it renders the book once without
    page breaks while the layout runs (templates compiled, fonts cut, cover
    drawn), then, given the layout's page starts, makes the EPUB itself."""
    edition, env, project_folder, date = job.edition, job.env, job.options.project, job.date

    def work(receive) -> bytes:
        def make() -> bytes:
            with contextlib.suppress(Exception), silence():  # the real run below says everything
                epub.build_epub(edition, env, project_folder, date, (), "", None)
            starts, reading_pages = receive()
            identifier = print_identifier(edition, job.options.paper)
            return epub.build_epub(edition, env, project_folder, date, starts, identifier, reading_pages)

        return in_child(make)

    return parallel.start_fed(work)


# -- the PDFs -------------------------------------------------------------------------


def _chain_writer(job: Typesetting) -> print_layout.Writer:
    """How a layout made chain by chain writes each chain and puts them together."""
    from edition.outputs.pdf import archival, combine

    edition = job.edition
    return print_layout.Writer(
        write=lambda document: archival.write_print(document, edition, keyed=True),
        combine=lambda parts: combine.combine(parts, lambda info: archival.xmp_packet(info, edition, False, False)),
    )


def _write_pdfs(job: Typesetting, document, placements) -> dict[Path, bytes]:
    """The print PDF and the PDF/A from one write of the layout: written and
    tagged once (the PDF readings' pages laid in; a layout made chain by chain
    is written already), then claimed as PDF/UA-1 here, and made into the
    PDF/A in a child at the same time."""
    from edition.layout.chains.book import Book
    from edition.outputs.pdf import archival
    from edition.outputs.pdf import readings as pdfpages

    edition, options = job.edition, job.options
    out: dict[Path, bytes] = {}
    with job.stage("write pdf"):
        written = document.pdf if isinstance(document, Book) else archival.write_print(document, edition)
        data = pdfpages.insert(written, edition, list(placements))
    pdfa = None
    if "pdfa" in options.formats:
        sources = _pdfa_sources(job)
        sources.append(archival.manifest(edition, sources, job.date, {"paper": options.paper}))

        def make_pdfa() -> bytes:
            return archival.claim(archival.to_pdfa(data, edition, sources, job.date), edition, pdfa=True)

        if "pdf" in options.formats:
            pdfa = parallel.start(lambda: in_child(make_pdfa))
        else:
            with job.stage("make pdf/a"):
                out[_output(job, "pdfa")] = make_pdfa()
    try:
        if "pdf" in options.formats:
            with job.stage("check and claim pdf"):
                out[_output(job, "pdf")] = archival.claim(data, edition, pdfa=False)
    finally:  # always collect the child
        if pdfa is not None:
            with job.stage("wait for pdf/a"):
                out[_output(job, "pdfa")] = collect(pdfa)
    return out


def _write_press(job: Typesetting) -> bytes:
    from edition.layout import reading_pages
    from edition.outputs.pdf import archival
    from edition.outputs.pdf import readings as pdfpages

    press_document = print_layout.lay_out_with_notes_in_place(job, press=True)
    with job.stage("write press pdf"):
        press = archival.write_press(press_document, job.edition, pdfx=bool(job.options.cmyk_profile))
        return pdfpages.insert(press, job.edition, reading_pages.plan(press_document, job.edition))


def _pdfa_sources(job: Typesetting) -> list:
    """What the PDF/A embeds: the edition's inputs and the templates, stylesheets,
    images and layouts its builders load, whichever formats this build writes."""
    from edition.outputs.pdf import archival

    css = job.options.templates
    used = templates.closure(job.env, PRINT_TEMPLATES + epub.TEMPLATES)
    used += [css / name for name in PRINT_STYLESHEETS.values()]
    used += [css / name for name in epub.CSS_FILES.values()] + [css / epub.COVER_LAYOUT]
    used += sorted(job.fetched)
    return archival.edition_sources(job.edition, job.options.project, used)
