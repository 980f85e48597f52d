"""The print builder: print HTML -> one WeasyPrint layout -> PDF files."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import weasyprint

from .diagnostics import BuildFailed, Collector
from .fetcher import SandboxFetcher
from .fonts import FONT_DIR
from .layout import note_placement

log = logging.getLogger(__name__)

PAPERS = {"letter": "letter", "a4": "A4", "6x9": "6in 9in"}


@dataclass(frozen=True)
class Paper:
    name: str

    @property
    def size(self) -> str:
        return PAPERS[self.name]


class WeasyLog(logging.Handler):
    """Collects WeasyPrint's own warnings so the build can report them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def lay_out(html: str, project: Path) -> weasyprint.Document:
    """Lay the print HTML out once; resources only from the project and fonts."""
    fetcher = SandboxFetcher([project, FONT_DIR])
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
    diags = Collector()
    for url in fetcher.refused:
        diags.error(None, "resource.refused", f"resource {url} is outside the project and was not loaded")
    diags.check()
    for message in handler.messages:
        log.warning("weasyprint: %s", message)
    return document


def check_notes(document: weasyprint.Document) -> list[str]:
    """Every note must be on its call's page; returns the faults as messages."""
    faults = []
    for work, number, call, text in note_placement(document).faults():
        if text is None:
            faults.append(f"{work}: note {number} (called on page {call}) is missing from the PDF")
        else:
            faults.append(f"{work}: note {number} is called on page {call} but printed on page {text}")
    return faults


def fail_on_note_faults(document: weasyprint.Document) -> None:
    faults = check_notes(document)
    if faults:
        diags = Collector()
        for fault in faults:
            code = "layout.note-missing" if "missing" in fault else "layout.note-misplaced"
            diags.error(None, code, fault)
        raise BuildFailed(diags.items)


def pdf_bytes(document: weasyprint.Document, **options: Any) -> bytes:
    return document.write_pdf(**options)
