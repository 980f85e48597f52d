"""Small projects on disk, one per behaviour, built from a few strings, and
the files they hold (images; the small PDFs are in ``tests/pdfs.py``)."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

from PIL import Image

#: This repository: the paper, the demo reader, the templates every test project copies.
ROOT = Path(__file__).resolve().parents[1]
#: The copy-text: the transcript of the published PDF the edition is made from,
#: kept inside the work (named by its work.yaml) so the project stands alone.
SOURCE = ROOT / "content" / "juche" / "copy-text.txt"
#: The demo course reader: typeset readings and a PDF reading.
DEMO_READER = "north-korea-and-the-world"
#: The kitchen-sink project (every construct the pipeline supports), without templates.
KITCHEN_SINK = ROOT / "tests" / "kitchen-sink"
#: The works the page make-up is tested on (issue 24; written by tests/makeup_works.py).
MAKEUP_WORKS = ROOT / "tests" / "makeup-works"

WORK_YAML = """\
title: A Test Work
authors:
  - name: Ada Tester
    affiliation: Test University
publisher: Test Press
date: 2020-01
language: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000001
rights: Test rights.
bibliography: {slug}.bib
"""


def make_project(
    root: Path,
    slug: str = "test",
    sections: dict[str, str] | None = None,
    bib: str = "",
    work_yaml: str | None = None,
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """A project folder with the real templates and one work."""
    shutil.copytree(ROOT / "templates", root / "templates", dirs_exist_ok=True)
    work = root / "content" / slug
    (work / "text").mkdir(parents=True, exist_ok=True)
    (work / "work.yaml").write_text(
        work_yaml if work_yaml is not None else WORK_YAML.format(slug=slug), encoding="utf-8"
    )
    for name, text in (sections or {"01-one.md": '---\ntitle: "One"\n---\nText.\n'}).items():
        (work / "text" / name).write_text(text, encoding="utf-8")
    (root / "bib").mkdir(exist_ok=True)
    (root / "bib" / f"{slug}.bib").write_text(bib, encoding="utf-8")
    write_files(root, extra or {})
    return root


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write each file (a path under ``root``: text as UTF-8, or bytes)."""
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")


def reader_head(title: str, course: str = "TEST 101", uuid_tail: str = "99") -> str:
    """The metadata every test reader gives (a reader's required keys), before
    its own introduction, bibliography and readings."""
    return (
        f"title: {title}\ncourse_code: {course}\ninstructor: Ina Structor\ninstitution: Test University\n"
        f"term: Fall 2027\nidentifier: urn:uuid:00000000-0000-4000-8000-0000000000{uuid_tail}\n"
        "date: 2027-09\nlanguage: en\nrights: Test.\n"
    )


def section(body: str, title: str = "One") -> str:
    return f'---\ntitle: "{title}"\n---\n{body}'


#: One valid entry, for projects that cite nothing in particular.
BIB_MIN = "@book{suh1988,\n  author = {Suh, Dae-Sook},\n  title = {Kim Il Sung},\n  publisher = {Columbia University Press},\n  date = {1988},\n}\n"


def png(width: int = 8, height: int = 8, colour: str = "white", claimed: tuple[int, int] | None = None) -> bytes:
    """A PNG of one colour; with ``claimed``, one whose header claims another
    size over a single pixel of data (a "decompression bomb" a few bytes long)."""
    if claimed is None:
        out = io.BytesIO()
        Image.new("RGB", (width, height), colour).save(out, format="PNG")
        return out.getvalue()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", *claimed, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


#: A course reader of a typeset reading (the work ``test``) and a PDF reading (``pdf_project``).
PDF_READER_YAML = (
    reader_head("PDF Readings", "TEST 102", "98")
    + """bibliography: course.bib
readings:
  - work: test
  - pdf: {pdf}
    cite: {cite}
{more}"""
)
PDF_COURSE_BIB = "@book{scan2020,\n  author = {Doe, Jane},\n  title = {A Scanned Chapter},\n  publisher = {Scan Press},\n  date = {2020},\n}\n"
PDF_WORK_BIB = (
    "@book{suh1988,\n  author = {Suh, Dae-Sook},\n  title = {Kim Il Sung},\n  publisher = {P},\n  date = {1988},\n}\n"
)


def pdf_project(
    root: Path, files: dict[str, bytes], pdf: str = "readings/scan.pdf", cite: str = "scan2020", more: str = ""
) -> Path:
    """A project with the reader ``readers/r.yaml``: the work ``test``, then the
    PDF reading ``pdf`` (``files`` are put in ``readers/readings/``)."""
    return make_project(
        root,
        sections={"01-one.md": section("A typeset reading.\n")},
        bib=PDF_WORK_BIB,
        extra={
            "readers/r.yaml": PDF_READER_YAML.format(pdf=pdf, cite=cite, more=more),
            "bib/course.bib": PDF_COURSE_BIB,
            **{f"readers/readings/{k}": v for k, v in files.items()},
        },
    )


#: The every-input project's reader, section text and table description.
EVERY_INPUT_READER = (
    reader_head("A Test Reader")
    + """introduction: Read the test work first.
readings:
  - work: test
"""
)
EVERY_INPUT_TEXT = (
    "Opening words of the test.[^1] A second sentence.\n\n"
    "::: {.table #t}\nTABLE: Diplomatic relations\n:::\n\n"
    "![A square](square.png)\n\n"
    "[^1]: [@suh1988, 12]\n"
)
EVERY_INPUT_TABLE = "columns:\n  year: integer\n  country: text\n"


def project_with_every_input(root: Path) -> Path:
    """A work and a reader of it, with one of each kind of input: section text
    with a note citing the BibTeX, a table (CSV and description), an image,
    ``work.yaml``, the templates and CSS, the reader's YAML."""
    return make_project(
        root,
        sections={"01-one.md": section(EVERY_INPUT_TEXT)},
        bib=BIB_MIN,
        extra={
            "content/test/tables/t.csv": "year,country\n1971,Malta\n1972,Chile\n",
            "content/test/tables/t.yaml": EVERY_INPUT_TABLE,
            "content/test/text/square.png": png(colour="red"),
            "readers/r.yaml": EVERY_INPUT_READER,
        },
    )


def small_project(root: Path, text: str = "First words of the test.\n") -> Path:
    """A project of one work of one short section (the edit loop's tests)."""
    return make_project(root, sections={"01-one.md": section(text)}, bib=BIB_MIN)
