"""The paper is built once per test session; tests read the real outputs."""

from __future__ import annotations

import logging
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

    @property
    def pdf(self) -> Path:
        return self.out / "juche.pdf"

    @property
    def epub(self) -> Path:
        return self.out / "juche.epub"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def build_into(out: Path, slugs: tuple[str, ...] = ("juche",), **kwargs) -> Built:
    capture = _Capture()
    logger = logging.getLogger("edition")
    logger.addHandler(capture)
    try:
        result = run(Options(project=ROOT, out=out, slugs=slugs, **kwargs))
    finally:
        logger.removeHandler(capture)
    return Built(out, result, capture.records)


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
