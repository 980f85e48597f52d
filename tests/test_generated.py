"""Generated works and course readers keep every invariant of their outputs.

Hypothesis draws projects (``tests/generated.py``), each is built by the
command line in its own process, and its real outputs are checked
(``tests/invariants.py``): the build exits 0 (or 2 with diagnostics, never 1
or a traceback); every page number printed is the page of its target; every
link has an area over its glyphs that PDFium finds; every note is on its call's
page; the structure tree reads the text in source order and names headings by
their words; the CSV, the permissions page and the EPUB agree; EPUBCheck and
the PDF/UA checker pass.

The default run is a fixed seed and a few examples (about a minute); ``--slow``
draws many more (``--fuzz-examples N`` sets how many), and shrinks a failure to
its smallest example, which then becomes a plain regression test below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from . import generated, invariants
from .cdp import Browser
from .conftest import ROOT

#: Examples of each test in the default run, and with ``--slow``.
DEFAULT_EXAMPLES = 2
SLOW_EXAMPLES = 60
BUILD = "import sys, pathlib; from edition.cli import main; sys.exit(main(sys.argv[1:], project=pathlib.Path.cwd()))"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module: it prints the Chromium PDF
    readings and reads the EPUBs' accessibility trees."""
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def build(project: Path, slug: str, paper: str) -> subprocess.CompletedProcess:
    """``python build.py SLUG --paper PAPER`` in the project, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", BUILD, slug, "--paper", paper, "--out", "dist", "--no-cache", "-q"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900)


def problems(project: generated.Project, root: Path, browser: Browser) -> list[str]:
    """Every invariant the built project breaks (empty: it keeps them all)."""
    generated.write(project, root, browser)
    done = build(root, project.slug, project.paper)
    found = invariants.build_outcome(done.returncode, done.stderr)
    if done.returncode != 0:
        # a generated project is valid input: it must build
        return [*found, f"the build failed: {done.stderr.strip()[-2000:]}"]
    out = root / "dist"
    pdf = out / f"{project.slug}.pdf"
    claimed = "[pdf.untagged]" not in done.stderr  # a volume with an untagged reading claims nothing, and says so
    found += invariants.pdf_problems(pdf, project.headings, project.paragraphs, project.targets, claimed)
    found += invariants.pdf_problems(out / f"{project.slug}-pdfa.pdf", claimed=claimed)
    found += invariants.notes_on_call_pages(pdf)
    if (out / f"{project.slug}.permissions.csv").exists():
        found += invariants.permissions(out, project.slug)
    epub = out / f"{project.slug}.epub"
    found += invariants.epubcheck(epub)
    found += invariants.epub_heading_markup(epub)
    found += invariants.epub_names(epub, browser, project.headings)
    return found


def _settings(request: pytest.FixtureRequest) -> settings:
    slow = request.config.getoption("--slow")
    examples = request.config.getoption("--fuzz-examples") or (SLOW_EXAMPLES if slow else DEFAULT_EXAMPLES)
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not slow,  # the default run: a fixed seed
        database=None,
        # the default run reports the example it found; --slow shrinks it to the smallest
        phases=list(Phase) if slow else [Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def _drawn(request: pytest.FixtureRequest, papers: tuple[str, ...]) -> dict:
    """The default run draws rich projects (each holds every kind of thing, even
    the simplest example) on the papers in this order; ``--slow`` draws any."""
    if request.config.getoption("--slow"):
        return {}
    return {"rich": True, "papers": papers}


#: Projects built by each test of this run (printed at its end: ``-s`` shows it).
BUILT: dict[str, int] = {}


def _check(project: generated.Project, browser: Browser, name: str) -> None:
    BUILT[name] = BUILT.get(name, 0) + 1
    with tempfile.TemporaryDirectory(prefix="generated-") as folder:
        found = problems(project, Path(folder), browser)
    assert found == [], f"{project.describe()}:\n" + "\n".join(found[:40])


def _run(request: pytest.FixtureRequest, browser: Browser, projects) -> None:
    name = request.node.name

    @_settings(request)
    @given(projects)
    def run(project):
        _check(project, browser, name)

    try:
        run()
    finally:
        print(f"\n{name}: {BUILT.get(name, 0)} generated projects built")


def test_generated_works(request, browser):
    _run(request, browser, generated.projects(reader=False, **_drawn(request, ("6x9", "a4", "letter"))))


def test_generated_readers(request, browser):
    _run(request, browser, generated.projects(reader=True, **_drawn(request, ("letter", "a4", "6x9"))))
