"""The build, phase by phase: read -> resolve -> render -> lay out -> write.

Everything is read and checked before anything is written (MkDocs' model).
Every output is staged in a ``Transaction`` and the set is swapped into
``dist/`` at the end (``atomic``): a build that fails, or is interrupted,
leaves ``dist/`` as it was.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import json
import logging
import os
import pickle
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from markupsafe import Markup

from . import (
    __version__,
    checks,
    fonts,
    ids,
    pagefit,
    parallel,
    pdf,
    pdfproblems,
    preflight,
    readlog,
    scripts,
    templates,
    volume,
)
from .atomic import FolderLock, Transaction, recover
from .diagnostics import BuildFailed, Collector, Diagnostic
from .layout import page_starts
from .links import check as check_links
from .model import Edition, SourceLocation
from .outputs import archival, epub, pdfpages
from .outputs.permissions import permissions_csv
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
    date = build_date(edition)
    files: dict[Path, bytes] = {}
    _check_pdf_readings(edition, options, result)
    # the EPUB's print page numbers come from this layout too
    document = lay_out_with_notes_in_place(edition, env, options, date, result)
    result.pages[edition.slug] = len(document.pages)
    placements = pdfpages.plan(document, edition)
    _log_placements(edition, placements, result)
    with result.timings.stage(f"{edition.slug}: preflight"):
        report = preflight.preflight(document, vocabulary(edition, env))
    result.preflight[edition.slug] = report
    log.info("preflight: %s", report.summary())
    files[options.out / f"{edition.slug}.preflight.json"] = (
        json.dumps(report.as_dict(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    ).encode()
    if options.strict and report.total:
        raise BuildFailed(preflight.diagnostics(report))
    reading_pages = volume_pages(document, edition)
    if edition.reader:
        scales = result.pdf_scales.get(edition.slug, {})
        files[options.out / f"{edition.slug}.permissions.csv"] = permissions_csv(edition, reading_pages, scales)
    sources = _pdfa_sources(edition, env, options, result) if "pdfa" in options.formats else []
    # the two PDF writes run in a child process while this one builds the EPUB
    with result.timings.stage(f"{edition.slug}: start pdf writes"):
        pdfs = parallel.start(lambda: _write_pdfs(document, edition, options, date, sources, placements))
    try:
        if options.press:
            press_document = lay_out_with_notes_in_place(edition, env, options, date, result, press=True)
            with result.timings.stage(f"{edition.slug}: write press pdf"):
                press = archival.write_press(press_document, edition, pdfx=bool(options.cmyk_profile))
                press = pdfpages.insert(press, edition, pdfpages.plan(press_document, edition))
                files[options.out / f"{edition.slug}-press.pdf"] = press
        if "epub" in options.formats:
            with result.timings.stage(f"{edition.slug}: build epub"):
                starts = pdfpages.page_starts(page_starts(document), edition, placements)
                files[options.out / f"{edition.slug}.epub"] = epub.build_epub(
                    edition, env, options.project, date, starts, print_identifier(edition, options.paper), reading_pages
                )
    finally:  # always collect the child, even when the EPUB fails
        with result.timings.stage(f"{edition.slug}: wait for pdf writes"):
            written, child_warnings = pickle.loads(pdfs())
    for message in child_warnings:  # logged in the child: counted here, where --strict sees them
        log.warning("%s", message)
    files.update({options.out / name: data for name, data in written.items()})
    if options.check and "epub" in options.formats:
        with result.timings.stage(f"{edition.slug}: epubcheck"):
            problems = checks.epubcheck(files[options.out / f"{edition.slug}.epub"], f"{edition.slug}.epub")
        if problems:
            raise BuildFailed(problems)
    if options.strict and result.warnings:
        raise BuildFailed([Diagnostic(None, "build.warning", w) for w in result.warnings])
    with result.timings.stage(f"{edition.slug}: stage files"):
        for path, data in files.items():
            result.outputs.append(transaction.stage(path, data))


#: Bound on the layout rounds that move note calls to their note's page.
MAX_LAYOUT_ROUNDS = 30


def _pdfa_sources(edition: Edition, env, options: Options, result: Result) -> list[archival.SourceFile]:
    """What the PDF/A embeds: the edition's inputs and the templates, stylesheets,
    images and layouts its builders load, whichever formats this build writes."""
    css = options.project / "templates"
    used = templates.closure(env, PRINT_TEMPLATES + epub.TEMPLATES)
    used += [css / name for name in PRINT_STYLESHEETS.values()]
    used += [css / name for name in epub.CSS_FILES.values()] + [css / epub.COVER_LAYOUT]
    used += sorted(result.fetched.get(edition.slug, ()))
    return archival.edition_sources(edition, options.project, used)


def _write_pdfs(
    document,
    edition: Edition,
    options: Options,
    date: datetime.datetime,
    sources: list[archival.SourceFile],
    placements=(),
) -> bytes:
    """The print PDF and the PDF/A, from the one layout (run in a child process),
    with the warnings the writes logged: the pages of PDF readings are laid in
    after WeasyPrint has written each, then the file is claimed as PDF/UA-1 if
    the checker passes it (never with an untagged PDF reading in it)."""
    out: dict[str, bytes] = {}
    warnings = Result()
    counter = _WarningCounter(warnings)
    logger = logging.getLogger("edition")
    shown = _HoldWarnings()  # the parent logs them once: the child's handlers must not print them too
    for handler in logger.handlers:
        handler.addFilter(shown)
    logger.addHandler(counter)
    try:
        if "pdf" in options.formats:
            data = pdfpages.insert(archival.write_print(document, edition), edition, list(placements))
            out[f"{edition.slug}.pdf"] = archival.claim(data, edition, pdfa=False)
        if "pdfa" in options.formats:
            sources = list(sources)
            sources.append(archival.manifest(edition, sources, date, {"paper": options.paper}))
            stored = [s for s in sources if s.suffix in archival.STORED]
            data = archival.write_pdfa(document, edition, [s for s in sources if s not in stored], date)
            attach = (lambda pdf: archival.attach(pdf, stored, date)) if stored else None
            data = pdfpages.insert(data, edition, list(placements), attach)
            out[f"{edition.slug}-pdfa.pdf"] = archival.claim(data, edition, pdfa=True)
    finally:
        logger.removeHandler(counter)
        for handler in logger.handlers:
            handler.removeFilter(shown)
    return pickle.dumps((out, warnings.warnings))


class _HoldWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def _check_pdf_readings(edition: Edition, options: Options, result: Result) -> None:
    """Before any layout: what the PDF/A cannot carry fails the build; what the
    build fixes is said; an untagged PDF reading drops the PDF/UA claim."""
    if "pdfa" in options.formats:
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
    corrections = pagefit.Corrections()
    extra = _profile_dirs(options, press)
    for round_number in range(1, MAX_LAYOUT_ROUNDS + 1):
        with result.timings.stage(f"{edition.slug}: render print html"):
            html = print_html(edition, env, options, date, corrections, press)
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
            break
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
        paper=pdf.PAPERS[options.paper],
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
    return pagefit.mark_blocks(html, corrections.blocks()) if corrections else html
