"""The paper is built once per test session; tests read the real outputs."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from edition.pipeline import Options, Result, run

from . import outputs, transcript

ROOT = Path(__file__).resolve().parents[1]
#: The copy-text: the transcript of the published PDF the edition is made from,
#: kept inside the work (named by its work.yaml) so the project stands alone.
SOURCE = ROOT / "content" / "juche" / "copy-text.txt"


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


@dataclass
class Built:
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


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def build_into(out: Path, slugs: tuple[str, ...] = ("juche",), project: Path = ROOT, **kwargs) -> Built:
    capture = _Capture()
    logger = logging.getLogger("edition")
    logger.addHandler(capture)
    try:
        result = run(Options(project=project, out=out, slugs=slugs, **kwargs))
    finally:
        logger.removeHandler(capture)
    return Built(out, result, capture.records, slugs[0])


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_into(tmp_path_factory.mktemp("dist"))


#: The demo course reader: typeset readings and a PDF reading.
READER = "north-korea-and-the-world"


@pytest.fixture(scope="session")
def built_reader(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The demo reader built once per session, with the warnings its build logged."""
    return build_into(tmp_path_factory.mktemp("reader"), slugs=(READER,))


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


@pytest.fixture(scope="session")
def paper_build(built: Built, tmp_path_factory: pytest.TempPathFactory):
    """The paper's print PDF on a paper size, built once per session."""
    cache = {"letter": built}

    def get(paper: str) -> Built:
        if paper not in cache:
            cache[paper] = build_into(tmp_path_factory.mktemp(f"dist-{paper}"), formats=("pdf",), paper=paper)
        return cache[paper]

    return get


#: The works the page make-up is tested on (made by tests/makeup_works.py).
MAKEUP_WORKS = ROOT / "tests" / "makeup-works"


@pytest.fixture(scope="session")
def makeup_build(tmp_path_factory: pytest.TempPathFactory):
    """A stress work of the make-up (``law-review``, ``chapter``) built with
    --strict once per session and paper: the print PDF, and on Letter the EPUB."""
    cache: dict[tuple[str, str], Built] = {}

    def get(slug: str, paper: str = "letter") -> Built:
        if (slug, paper) not in cache:
            project = tmp_path_factory.mktemp(f"{slug}-{paper}") / "project"
            shutil.copytree(MAKEUP_WORKS, project)
            shutil.copytree(ROOT / "templates", project / "templates")
            formats = ("pdf", "epub") if paper == "letter" else ("pdf",)
            cache[(slug, paper)] = build_into(
                project / "dist", (slug,), project=project, formats=formats, paper=paper, strict=True
            )
        return cache[(slug, paper)]

    return get
