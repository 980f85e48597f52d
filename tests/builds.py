"""Running builds in the tests: the build in this process (``build_into``,
``cli``), and the stages before the outputs, for tests that look at a layout
(``edition_of``, ``typesetting``, ``first_layout``).

The test projects come from ``tests/projects.py``; what the outputs say is read
by ``tests/outputs.py``. Shared builds (the paper on each paper size, the demo
reader, the kitchen sink, a valid baseline project, a warm cache) are session
fixtures in ``tests/conftest.py``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edition.cli import main
from edition.layout import print_layout
from edition.model import Edition
from edition.pipeline import Options, Result, build_date, run
from edition.read.work import read_work
from edition.render.body import environment
from edition.resolve.edition import resolve_work, single_work_edition

from .projects import ROOT

if TYPE_CHECKING:
    import pytest
    from weasyprint.document import Document

    from edition.layout.makeup import Corrections


@dataclass
class Built:
    """A build of this repository's project: its output folder, result and warnings."""

    out: Path
    result: Result
    warnings: list[logging.LogRecord]

    @property
    def pdf(self) -> Path:
        return self.out / "juche.pdf"

    @property
    def epub(self) -> Path:
        return self.out / "juche.epub"


class Capture(logging.Handler):
    """The warnings (and worse) the build logs while it is attached."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def messages(self) -> list[str]:
        return [r.getMessage() for r in self.records]


def build_project(project: Path, out: Path, slugs: tuple[str, ...] = (), **kwargs) -> Built:
    """``project`` built in this process (``pipeline.run``), with the warnings it logged."""
    capture = Capture()
    logger = logging.getLogger("edition")
    logger.addHandler(capture)
    try:
        result = run(Options(project=project, out=out, slugs=slugs, **kwargs))
    finally:
        logger.removeHandler(capture)
    return Built(out, result, capture.records)


def build_into(out: Path, slugs: tuple[str, ...] = ("juche",), **kwargs) -> Built:
    """This repository's project (the paper by default) built into ``out``."""
    return build_project(ROOT, out, slugs, **kwargs)


def relative(lines: list[str], project: Path) -> list[str]:
    """Diagnostic lines with the project's path left out, as the tests spell them."""
    return [line.replace(str(project) + "/", "") for line in lines]


def diagnostic_lines(err: str, project: Path) -> list[str]:
    """What a build printed on stderr, one line each, paths relative to the
    project, without the closing "build failed" line."""
    return relative([line for line in err.strip().splitlines() if not line.startswith("build failed")], project)


def cli(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """The command line run on ``project`` into its ``dist/`` (``-q``): the exit
    status, and what it printed on stderr, one line each, paths relative to the
    project, without the closing "build failed" line."""
    code = main(["-q", "--out", str(project / "dist"), *args], project=project)
    return code, diagnostic_lines(capsys.readouterr().err, project)


def cli_epub(project: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """``cli`` building the EPUB alone (the quickest build that reads everything
    and lays out the print pages for the EPUB's page list)."""
    return cli(project, capsys, "--format", "epub", *args)


def edition_of(project: Path, slug: str = "test") -> Edition:
    """A work read and resolved: the edition of it alone."""
    return single_work_edition(resolve_work(read_work(project, slug)))


def typesetting(
    project: Path, slug: str = "test", paper: str = "letter", out: Path | None = None
) -> print_layout.Typesetting:
    """A work read, resolved and ready to lay out (``print_layout.Typesetting``):
    ``print_layout.html(job)`` is its print HTML, ``lay_out_with_notes_in_place(job)``
    its made-up layout."""
    edition = edition_of(project, slug)
    options = Options(project=project, out=out or project / "dist", paper=paper)
    return print_layout.Typesetting(edition, environment(project / "templates"), options, build_date(edition))


def first_layout(job: print_layout.Typesetting, corrections: Corrections | None = None) -> Document:
    """WeasyPrint's layout of the job's print HTML (with ``corrections``, the
    make-up's marks), before any make-up round: what the preflight is run on."""
    from edition.layout.engine import lay_out

    return lay_out(print_layout.html(job, corrections), job.options.project)
