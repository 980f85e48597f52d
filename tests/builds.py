"""Running builds in the tests: the build in this process (``build_into``,
``cli``), and the stages before the outputs, for tests that look at a layout
(``edition_of``, ``typesetting``, ``first_layout``).

The test projects come from ``tests/projects.py``; what the outputs say is read
by ``tests/outputs.py``. Shared builds (the paper on each paper size, the demo
reader, the kitchen sink, a valid baseline project, a warm cache) are session
fixtures in ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edition.cli import main
from edition.infra import cache
from edition.layout import print_layout
from edition.model import Edition
from edition.pipeline import Options, Result, build_date, run
from edition.read.work import read_work
from edition.render.environment import environment
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
    slug: str = "juche"

    @property
    def pdf(self) -> Path:
        return self.out / f"{self.slug}.pdf"

    @property
    def epub(self) -> Path:
        return self.out / f"{self.slug}.epub"


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
    return Built(out, result, capture.records, *slugs[:1])


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


def run_cli(project: Path, *args: str, out: Path | None = None) -> tuple[int, list[str]]:
    """``cli`` without pytest's ``capsys`` (for a session fixture): stderr is
    caught here. The outputs go to ``out`` (by default the project's ``dist/``)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["-q", "--out", str(out or project / "dist"), *args], project=project)
    return code, diagnostic_lines(err.getvalue(), project)


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


def outputs_of(project: Path, out: Path, *args: str) -> dict[str, bytes]:
    """Build every edition (``--force``) into ``out``: the outputs by name (the stamp left out)."""
    code, lines = run_cli(project, "--force", *args, out=out)
    assert code == 0, lines
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


@dataclass
class WarmCache:
    """A project built once with its cache (``.edition-cache/``) kept, for the
    tests that start from a warm cache.

    The layout cache's entries name the files the layout loaded by their
    absolute paths, and entries are signed with the user's secret: a test gets
    the project back, as it was after the build, at the very path it was built
    in (``restore``), and the secret it was built with."""

    project: Path  # where the project lies for every test (the path the entries name)
    pristine: Path  # the project as the build left it, cache included
    home: Path  # the XDG_CACHE_HOME the build ran under (its secret)
    outputs: dict[str, bytes]  # what the build wrote, by name
    clean: dict[str, bytes]  # what a build without cache writes (``--no-cache``)

    @classmethod
    def make(cls, base: Path, make_project: Callable[[Path], Path]) -> WarmCache:
        home = base / "user-cache"
        project = make_project(base / "project")
        previous = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(home)
        cache.secret.cache_clear()
        try:
            outputs = outputs_of(project, base / "cached")
            clean = outputs_of(project, base / "clean", "--no-cache")
        finally:
            if previous is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = previous
            cache.secret.cache_clear()
        pristine = base / "pristine"
        shutil.copytree(project, pristine, symlinks=True)
        return cls(project, pristine, home, outputs, clean)

    def restore(self, home: Path) -> Path:
        """The project as the build left it, at its path, and the build's secret
        in ``home`` (make it the test's ``XDG_CACHE_HOME``)."""
        shutil.rmtree(self.project)
        shutil.copytree(self.pristine, self.project, symlinks=True)
        shutil.copytree(self.home, home, symlinks=True, dirs_exist_ok=True)
        cache.secret.cache_clear()
        return self.project
