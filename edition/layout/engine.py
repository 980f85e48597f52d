"""The print builder: print HTML -> one WeasyPrint layout -> PDF files."""

from __future__ import annotations

import logging
from pathlib import Path

import weasyprint

from edition.diagnostics import BuildFailed, Collector, Diagnostic
from edition.fonts.faces import FONT_DIR
from edition.layout.fetcher import SandboxFetcher
from edition.layout.linebreaks import apply as _correct_line_breaks  # noqa: F401 (applied on import)
from edition.layout.pages import NotePlacement, note_placement

log = logging.getLogger(__name__)


class WeasyLog(logging.Handler):
    """Collects WeasyPrint's own warnings so the build can report them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def lay_out(
    html: str, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None
) -> weasyprint.Document:
    """Lay the print HTML out once; resources only from the project and fonts
    (the files read are added to ``fetched``)."""
    fetcher = SandboxFetcher([project, FONT_DIR, *(extra_allowed or [])])
    handler = WeasyLog()
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(handler)
    previous = weasy_logger.propagate
    weasy_logger.propagate = False
    try:
        document = weasyprint.HTML(string=html, base_url=str(project) + "/", url_fetcher=fetcher).render()
    finally:
        weasy_logger.removeHandler(handler)
        weasy_logger.propagate = previous
    if fetched is not None:
        fetched.update(fetcher.fetched)
    diags = Collector()
    for url in fetcher.refused:
        diags.error(None, "resource.refused", f"resource {url} was not loaded: {fetcher.reasons[url]}")
    diags.check()
    for message in handler.messages:
        log.warning("weasyprint: %s", message)
    return document


def note_faults(placement: NotePlacement) -> list[Diagnostic]:
    """One diagnostic per note that is missing or not on its call's page."""
    out = []
    for work, number, call, text in placement.faults():
        if text is None:
            out.append(
                Diagnostic(
                    None,
                    "layout.note-missing",
                    f"{work}: note {number} (called on page {call}) is missing from the PDF",
                )
            )
        elif call is None:
            out.append(
                Diagnostic(None, "layout.note-missing", f"{work}: the call of note {number} is missing from the PDF")
            )
        else:
            out.append(
                Diagnostic(
                    None,
                    "layout.note-misplaced",
                    f"{work}: note {number} is called on page {call} but printed on page {text}",
                )
            )
    return out


def fail_on_note_faults(document: weasyprint.Document) -> None:
    faults = note_faults(note_placement(document))
    if faults:
        raise BuildFailed(faults)
