"""Shared builds, made once per test session; tests read the real outputs.

The paper (Letter, every format; A4 and 6x9), the demo reader and the kitchen
sink are built once and read by every test that looks at them. Helpers are in
``tests/builds.py`` (running builds), ``tests/projects.py`` (making projects)
and ``tests/outputs.py`` (reading outputs; EPUBCheck and Ace, run once per file).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edition.project import CACHE_FOLDER

from . import outputs, refusals, transcript
from .builds import Built, WarmCache, build_into, build_project, run_cli
from .projects import (
    BIB_MIN,
    DEMO_READER,
    KITCHEN_SINK,
    MAKEUP_WORKS,
    ROOT,
    SOURCE,
    make_project,
    project_with_every_input,
)
from .watcher import Watcher

__all__ = ["READER", "ROOT", "SOURCE", "Built", "build_into"]

#: The demo course reader (kept here for the test files that import it from conftest).
READER = DEMO_READER


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="run the long stress and fuzz runs")
    parser.addoption("--fuzz-examples", type=int, default=None, help="hypothesis examples per fuzz test")
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="write the reviewed page images in tests/golden/ anew from this build (review them before committing)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long run: use --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The paper on Letter in every format, and its press file (``juche-press.pdf``)."""
    return build_into(tmp_path_factory.mktemp("dist"), press=True)


@pytest.fixture(scope="session")
def built_reader(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The demo reader built once per session, with the warnings its build logged."""
    return build_into(tmp_path_factory.mktemp("reader"), slugs=(DEMO_READER,))


@pytest.fixture(scope="session")
def reader_dist(built_reader: Built) -> Path:
    """The demo reader built once per session (its tests and the PDF readings' read it)."""
    return built_reader.out


@pytest.fixture(scope="session")
def pdf_pages(built: Built) -> list[dict]:
    return outputs.pdf_pages(built.pdf)


@pytest.fixture(scope="session")
def epub_items(built: Built) -> list:
    return outputs.epub_items(built.epub)


@pytest.fixture(scope="session")
def source() -> transcript.Transcript:
    return transcript.read(SOURCE)


#: The formats built on each other paper: A4's EPUB is read too (its page list follows the A4 pages).
PAPER_FORMATS = {"a4": ("pdf", "epub"), "6x9": ("pdf",)}


@pytest.fixture(scope="session")
def paper_build(built: Built, tmp_path_factory: pytest.TempPathFactory):
    """The paper on a paper size, built once per session (Letter is ``built``)."""
    cache = {"letter": built}

    def get(paper: str) -> Built:
        if paper not in cache:
            out = tmp_path_factory.mktemp(f"dist-{paper}")
            cache[paper] = build_into(out, formats=PAPER_FORMATS[paper], paper=paper)
        return cache[paper]

    return get


@pytest.fixture(scope="session")
def a4(paper_build) -> Built:
    """The paper on A4, print PDF and EPUB, built once per session."""
    return paper_build("a4")


@pytest.fixture(scope="session")
def sink(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The kitchen sink (tests/kitchen-sink/) built once into every output: its
    project folder, the build's result and warnings, the outputs' paths."""
    project = tmp_path_factory.mktemp("kitchen-sink") / "project"
    shutil.copytree(KITCHEN_SINK, project)
    shutil.copytree(ROOT / "templates", project / "templates")
    build = build_project(project, project / "dist", ("kitchen-sink",))
    return {
        "project": project,
        "result": build.result,
        "warnings": [r.getMessage() for r in build.warnings],
        "pdf": build.out / "kitchen-sink.pdf",
        "pdfa": build.out / "kitchen-sink-pdfa.pdf",
        "epub": build.out / "kitchen-sink.epub",
    }


@pytest.fixture(scope="session")
def valid_project(tmp_path_factory: pytest.TempPathFactory):
    """A valid small project, built: ``valid_project(folder, **shape)`` copies
    into ``folder`` the project ``projects.make_project`` makes of ``shape``
    (its sections, extra files...) with ``BIB_MIN``, with the EPUB its build
    wrote into ``dist/``. Each shape is made and built once per session (the
    build must succeed and say nothing); its cache is not copied, so a test's
    build runs as on the project it built itself, minus the time."""
    made: dict[str, Path] = {}

    def copy(folder: Path, **shape: object) -> Path:
        key = repr(sorted(shape.items()))
        if key not in made:
            project = make_project(tmp_path_factory.mktemp("valid") / "project", bib=BIB_MIN, **shape)
            assert run_cli(project, "--format", "epub") == (0, []), f"the valid project {shape} does not build"
            made[key] = project
        shutil.copytree(made[key], folder, symlinks=True, ignore=shutil.ignore_patterns(CACHE_FOLDER))
        return folder

    return copy


@pytest.fixture(scope="session")
def every_input_built(tmp_path_factory: pytest.TempPathFactory) -> WarmCache:
    """``projects.project_with_every_input`` built once with its cache, and once
    without (``.clean``): ``warm_project`` gives it to a test."""
    return WarmCache.make(tmp_path_factory.mktemp("warm"), project_with_every_input)


@pytest.fixture
def warm_project(every_input_built: WarmCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The every-input project with the cache its build left (as a second
    build finds it), under the secret it was written with (this test's
    ``XDG_CACHE_HOME``, ``tmp_path / "user-cache"``). Its outputs are
    ``every_input_built.outputs``."""
    home = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return every_input_built.restore(home)


@pytest.fixture
def watch():
    """``watch(project, *args)`` starts ``python build.py --watch *args`` in the
    project (a ``watcher.Watcher``); whatever is still running is killed when
    the test ends."""
    started: list[Watcher] = []

    def start(project: Path, *args: str) -> Watcher:
        watcher = Watcher(project, *args)
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.close()


@pytest.fixture
def refused(tmp_path: Path, capsys, valid_project):
    """``refused(change, expected, bounded=False, fresh=False, **project)``:
    take a valid project, built (a copy of the session's ``valid_project``;
    with ``fresh``, made and built here, under the limits the test patched),
    break it, build again: exit 2, exactly the expected lines, dist/ unchanged,
    no temporary file left. The project's folder is returned."""

    def check(
        change: refusals.Change, expected: list[str], bounded: bool = False, fresh: bool = False, **project
    ) -> Path:
        return refusals.refuse(tmp_path, capsys, valid_project, change, expected, bounded, fresh, **project)

    return check


@pytest.fixture(scope="session")
def makeup_build(tmp_path_factory: pytest.TempPathFactory):
    """A stress work of the make-up (``law-review``, ``chapter``; issue 24)
    built with --strict (or without, to read what a fault left) once per
    session and paper: the print PDF, and on Letter the EPUB."""
    cache: dict[tuple[str, str, bool], Built] = {}

    def get(slug: str, paper: str = "letter", strict: bool = True) -> Built:
        if (slug, paper, strict) not in cache:
            project = tmp_path_factory.mktemp(f"{slug}-{paper}") / "project"
            shutil.copytree(MAKEUP_WORKS, project)
            shutil.copytree(ROOT / "templates", project / "templates")
            formats = ("pdf", "epub") if paper == "letter" else ("pdf",)
            cache[(slug, paper, strict)] = build_project(
                project, project / "dist", (slug,), formats=formats, paper=paper, strict=strict
            )
        return cache[(slug, paper, strict)]

    return get
