"""The print builder: print HTML -> one WeasyPrint layout -> PDF files."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import weasyprint

from edition.diagnostics import BuildFailed, Collector, Diagnostic
from edition.fonts.faces import FONT_DIR
from edition.layout.fetcher import SandboxFetcher
from edition.layout.linebreaks import apply as _correct_line_breaks  # noqa: F401 (applied on import)
from edition.layout.pages import NotePlacement, note_placement
from edition.model import SourceLocation

log = logging.getLogger(__name__)


class WeasyLog(logging.Handler):
    """Collects WeasyPrint's own warnings so the build can report them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def weasyprint_kept() -> Iterator[WeasyLog]:
    """WeasyPrint's warnings in the block kept in the handler yielded, not printed."""
    handler = WeasyLog()
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(handler)
    previous = weasy_logger.propagate
    weasy_logger.propagate = False
    try:
        yield handler
    finally:
        weasy_logger.removeHandler(handler)
        weasy_logger.propagate = previous


@contextlib.contextmanager
def weasyprint_warnings() -> Iterator[None]:
    """WeasyPrint's warnings in the block, said afterwards as the build's."""
    with weasyprint_kept() as handler:
        try:
            yield
        finally:
            for message in handler.messages:
                log.warning("weasyprint: %s", message)


def lay_out(
    html: str, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None
) -> weasyprint.Document:
    """Lay the print HTML out once; resources only from the project and fonts
    (the files read are added to ``fetched``)."""
    fetcher = SandboxFetcher([project, FONT_DIR, *(extra_allowed or [])])
    with weasyprint_kept() as handler:
        document = weasyprint.HTML(string=html, base_url=str(project) + "/", url_fetcher=fetcher).render()
    if fetched is not None:
        fetched.update(fetcher.fetched)
    diags = Collector()
    for url in fetcher.refused:
        diags.error(None, "resource.refused", f"resource {url} was not loaded: {fetcher.reasons[url]}")
    diags.check()
    for message in handler.messages:
        log.warning("weasyprint: %s", message)
    return document


#: (work, note number) -> where the note is written and how many words it has
NoteSources = dict[tuple[str, int], tuple[SourceLocation, int]]
ADVICE = "shorten the note, make it two notes, or move its call"


def note_faults(placement: NotePlacement, sources: NoteSources | None = None) -> list[Diagnostic]:
    """One diagnostic per note that is missing, not on its call's page, or
    runs on to another page than the next; with ``sources``, each names the
    file and line where the note is written, its length and what to do."""
    sources = sources or {}
    out = []
    for work, number, call, text in placement.faults():
        where, words = sources.get((work, number), (None, 0))
        length = f" ({words} words)" if words else ""
        advice = f"; {ADVICE}" if where is not None else ""
        if text is None:
            message = f"{work}: note {number}{length} (called on page {call}) is missing from the PDF{advice}"
            out.append(Diagnostic(where, "layout.note-missing", message))
        elif call is None:
            out.append(
                Diagnostic(where, "layout.note-missing", f"{work}: the call of note {number} is missing from the PDF")
            )
        else:
            message = f"{work}: note {number}{length} is called on page {call} but printed on page {text}{advice}"
            out.append(Diagnostic(where, "layout.note-misplaced", message))
    for work, number, expected, page in placement.broken():
        where, words = sources.get((work, number), (None, 0))
        length = f" ({words} words)" if words else ""
        message = f"{work}: note {number}{length} runs on to page {page}, not to the next page ({expected}); {ADVICE}"
        out.append(Diagnostic(where, "layout.note-misplaced", message))
    return out


def note_sources(edition) -> NoteSources:
    """Where each note of an edition is written, and its length in words."""
    return {
        (work.slug, note.number): (note.location, len(note.source.split()))
        for work in edition.parts
        for note in work.notes
    }


def fail_on_note_faults(document: weasyprint.Document, sources: NoteSources | None = None) -> None:
    faults = note_faults(note_placement(document), sources)
    if faults:
        raise BuildFailed(faults)
