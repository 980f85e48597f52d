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

from . import outputs, transcript
from .builds import Built, build_into, build_project
from .projects import DEMO_READER, KITCHEN_SINK, ROOT, SOURCE

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
    return build_into(tmp_path_factory.mktemp("dist"))


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
