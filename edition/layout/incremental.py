"""The rounds of the page make-up, each laid out from the pages its change can move.

``pdf.lay_out`` lays a print HTML out from nothing. The page make-up
(``pipeline.lay_out_with_notes_in_place``) lays out the same document again
after each correction, which changes a page or two; a ``Layouter`` keeps the
last layout (``engine.Pagination``) and lays the next version out only from
the first page each change can move, taking the other pages over (their page
ends, then their boxes) once the layout meets them again. The result is the
layout a fresh one would give, page for page and byte for byte in the PDF
(``tests/test_incremental.py``); one font configuration serves every round.

``Sandbox`` builds a document's boxes the way ``pdf.lay_out`` does: resources
only from the project and the fonts (a refused one stops the build), the files
read noted, WeasyPrint's warnings said as the build's own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import weasyprint
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration

from ..diagnostics import Collector
from ..fetcher import SandboxFetcher
from ..fonts import FONT_DIR
from ..pdf import WeasyLog
from . import engine

log = logging.getLogger(__name__)


@contextlib.contextmanager
def weasyprint_warnings() -> Iterator[None]:
    """WeasyPrint's warnings in the block, said afterwards as the build's."""
    handler = WeasyLog()
    weasy_logger = logging.getLogger("weasyprint")
    weasy_logger.addHandler(handler)
    previous = weasy_logger.propagate
    weasy_logger.propagate = False
    try:
        yield
    finally:
        weasy_logger.removeHandler(handler)
        weasy_logger.propagate = previous
        for message in handler.messages:
            log.warning("weasyprint: %s", message)


class Sandbox:
    """Builds print documents with resources only from the project and fonts."""

    def __init__(self, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None):
        self.project = project
        self.allowed = [project, FONT_DIR, *(extra_allowed or [])]
        self.fetched = fetched if fetched is not None else set()
        self.font_config = FontConfiguration()

    @contextlib.contextmanager
    def fetching(self) -> Iterator[SandboxFetcher]:
        """A fetcher for one document; what it read is noted, what it refused stops the build."""
        fetcher = SandboxFetcher(self.allowed)
        yield fetcher
        self.fetched.update(fetcher.fetched)
        diags = Collector()
        for url in fetcher.refused:
            diags.error(None, "resource.refused", f"resource {url} was not loaded: {fetcher.reasons[url]}")
        diags.check()

    def build(self, html: str) -> engine.Built:
        with self.fetching() as fetcher, weasyprint_warnings():
            document = weasyprint.HTML(string=html, base_url=str(self.project) + "/", url_fetcher=fetcher)
            return engine.build(document, self.font_config)


class Layouter:
    """Lays out successive versions of one print document."""

    def __init__(self, project: Path, extra_allowed: list[Path] | None = None, fetched: set[Path] | None = None):
        self.sandbox = Sandbox(project, extra_allowed, fetched)
        self.last: engine.Pagination | None = None
        self.made: list[int] = []  # pages made by each layout (the others were taken over)

    def lay_out(self, html: str) -> Document:
        """Lay ``html`` out, from the pages where it differs from the last
        version laid out; resources only from the project and fonts."""
        with self.sandbox.fetching() as fetcher, weasyprint_warnings():
            document = weasyprint.HTML(string=html, base_url=str(self.sandbox.project) + "/", url_fetcher=fetcher)
            built = engine.build(document, self.sandbox.font_config)
            self.last = engine.paginate(built, self.last)
            rendering = engine.document(self.last)
        self.made.append(self.last.made)
        return rendering
