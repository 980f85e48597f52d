"""A stranger's folder, round two: what small inputs may cost, and bad input
that was an internal error (issue 27).

- PDF readings: a stream many pages share is decoded and parsed once, a file
  named by many readings read once; what the pages draw is counted each time
  it is drawn; a volume's PDF pages are limited; a page box no viewer could
  show, and objects of the wrong kind, are diagnostics.
- Tables: rows, columns and cells are bounded before any layout (a 1.4 MB CSV
  asked for 500,000 cells and gigabytes of layout memory), in CSV and in
  Markdown, and in all the tables of a work or a reader.
- Files that are no input are never read: a 20 GB sparse file in the project
  cost a build 88 s (the freshness snapshot hashed it twice).
- ``--extract`` checks every embedded name (the project's own rule for
  control characters) and every file specification before writing anything.
- Two editions whose outputs share a name, and an output folder that is a
  file or a named pipe, are said before anything is read.
- The EPUB cover's layout is checked against its schema.

Resource cases run the build in a child under ``setrlimit`` (``tests/bounded.py``):
before the fixes each was killed by its CPU limit (or exited 1); the sizes are
just over the limits, so each takes seconds.
"""

from __future__ import annotations

import io
import os
import subprocess
import zlib
from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.read import bibliography, sandbox, tablesize
from edition.read.pdf import readings as pdfreadings

from . import pdfs
from .bounded import ROOT, build_bounded, killed_by_limit
from .projects import BIB_MIN, make_project, reader_head, section
from .refusals import build, snapshot

COURSE_BIB = "@book{scan2020,\n  author = {Doe, Jane},\n  title = {A Scan},\n  publisher = {P},\n  date = {2020},\n}\n"
READER = "readers/r.yaml"
CPU = 30


def _lines(err: str, project: Path) -> list[str]:
    lines = err.strip().splitlines()
    return [line.replace(str(project) + "/", "") for line in lines if line and not line.startswith("build failed")]


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def shared_pages(pages: int, content_bytes: int) -> bytes:
    """A PDF of ``pages`` pages that all draw one content stream of
    ``content_bytes`` bytes (small on disk: it compresses well)."""
    pdf = pikepdf.new()
    operators = b"0 0 m 10 10 l S\n" * (content_bytes // 16)
    content = pdf.make_stream(zlib.compress(operators, 9))
    content.Filter = pikepdf.Name.FlateDecode
    for _ in range(pages):
        pdf.add_blank_page(page_size=(300, 400))
        pdf.pages[-1].obj.Contents = content
    return _save(pdf)


def pdf_reader(tmp_path: Path, data: bytes, readings: int = 1, more: str = "", name: str = "x.pdf") -> Path:
    """A project with a work and a reader of ``readings`` readings of one PDF."""
    reading = f"  - pdf: readings/{name}\n    cite: scan2020\n{more}"
    return make_project(
        tmp_path / "project",
        bib=BIB_MIN,
        extra={
            READER: reader_head("PDF Bounds") + "bibliography: course.bib\nreadings:\n" + reading * readings,
            "bib/course.bib": COURSE_BIB,
            f"readers/readings/{name}": data,
        },
    )


def bounded_build(project: Path, *args: str, cpu: int = CPU) -> tuple[int, list[str]]:
    """The build in a child, under the CPU and memory limits; killed is a failure."""
    result = build_bounded(project, "-q", *args, "--out", str(project / "dist"), cpu_seconds=cpu)
    assert not killed_by_limit(result), result.stderr[-2000:]
    return result.returncode, _lines(result.stderr, project)


# -- PDF readings: each stream decoded and parsed once, what is drawn counted as drawn ------------------


def test_pages_sharing_one_stream_are_parsed_once_and_the_file_read_once(tmp_path, monkeypatch):
    """Every page of the file draws the one content stream, and two readings
    name the file: it was parsed once a page and a reading (0.9 s a page for
    a large stream), and the file read again for each reading."""
    from edition.read import course_reader

    project = pdf_reader(tmp_path, shared_pages(40, 4000), readings=2)
    parsed: list[object] = []
    real_parse = pikepdf.parse_content_stream
    monkeypatch.setattr(pikepdf, "parse_content_stream", lambda *a, **k: parsed.append(a[0]) or real_parse(*a, **k))
    opened: list[Path] = []
    real_read = sandbox.read_checked
    monkeypatch.setattr(sandbox, "read_checked", lambda path, *a, **k: opened.append(path) or real_read(path, *a, **k))
    edition = course_reader.read_reader(project, "r").edition
    assert [p.pdf.pages for p in edition.parts if p.pdf] == [40, 40]
    assert len(parsed) == 1
    assert [p.name for p in opened].count("x.pdf") == 1


def test_a_thousand_pages_sharing_one_large_stream(tmp_path):
    """241 KB on disk, 1,000 pages of one 1 MiB stream: 15 minutes in "read
    readers" before; now the drawn content is counted on every page that
    draws it and passes the volume's limit at page 129, in a second."""
    project = pdf_reader(tmp_path, shared_pages(1000, 1024 * 1024))
    assert (project / "readers/readings/x.pdf").stat().st_size < 300_000
    status, lines = bounded_build(project, "r", "--format", "pdf")
    assert status == 2
    assert lines == [
        f"{READER}:12: error: readers/readings/x.pdf: with page 129, the PDF pages of this volume draw more than "
        "134217728 bytes of content (a stream counted each time it is drawn); give fewer or simpler pages [file.size]"
    ]


def _form_drawn(times: int, form_bytes: int) -> bytes:
    """A tagged page whose content draws one form ``times`` times."""
    with pikepdf.open(io.BytesIO(pdfs.typeset("<p>A page.</p>", tags=True))) as pdf:
        form = pdf.make_stream(b"0 0 m 1 1 l S\n" * (form_bytes // 14))
        form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 10, 10]
        page = pdf.pages[0]
        page.obj.Resources.XObject = pikepdf.Dictionary(Fm=form)
        page.contents_add(pdf.make_stream(b"/Fm Do\n" * times))
        return _save(pdf)


def test_a_form_drawn_ten_thousand_times_on_one_page(tmp_path):
    """70 KB of ``/Fm Do`` and a 1 KB form: 10 MB drawn. The PDF/UA checker
    reads the form each time it is drawn (minutes of CPU); now the page's
    drawn content is over the limit for one page, said at the reader stage."""
    project = pdf_reader(tmp_path, _form_drawn(10_000, 1024))
    status, lines = bounded_build(project, "r", "--format", "pdf")
    assert status == 2
    assert lines == [
        f"{READER}:12: error: readers/readings/x.pdf: page 1 draws more than 8388608 bytes of content (a stream "
        "counted each time it is drawn), the limit for one page; give a simpler page (or a scan of it) [file.size]"
    ]


def test_a_volume_of_three_thousand_pdf_pages(tmp_path):
    """A reader of readings of one 1,000-page PDF asked for a volume of
    thousands of pages (200 readings: 200,000 pages, killed after 125 s). A
    volume prints at most 2,000 PDF pages, said at the first reading over it."""
    assert pdfreadings.MAX_VOLUME_PDF_PAGES == 2000
    project = pdf_reader(tmp_path, shared_pages(1000, 16), readings=5)
    status, lines = bounded_build(project, "r", "--format", "pdf")
    assert status == 2
    assert lines == [
        f"{READER}:16: error: readers/readings/x.pdf: with this reading's 1000 pages the volume prints 3000 pages "
        "of PDF readings, over the limit of 2000; split the reader into several volumes [pdf.pages]"
    ]


def _with_page(change) -> bytes:
    data = pdfs.scan([(300, 400)])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        change(pdf, pdf.pages[0].obj)
        return _save(pdf)


def _raw(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda _pdf, page: setattr(page, "MediaBox", pikepdf.Array([0, 0, 0, 400])),
            "page 1 is 0 × 400 points (its box [0 0 0 400]); a page is 3 to 14400 points wide and high",
        ),
        (
            lambda _pdf, page: setattr(page, "CropBox", pikepdf.Array([10, 10, 10, 10])),
            "page 1 is 0 × 0 points (its box [10 10 10 10]); a page is 3 to 14400 points wide and high",
        ),
        (
            lambda _pdf, page: setattr(page, "MediaBox", pikepdf.Array([0, 0, 300, 10_000_000])),
            "page 1 is 300 × 10000000 points (its box [0 0 300 10000000]); a page is 3 to 14400 points wide and high",
        ),
        (
            lambda _pdf, page: setattr(page, "UserUnit", 1000),
            "page 1 is 300000 × 400000 points (its box [0 0 300 400]); a page is 3 to 14400 points wide and high",
        ),
        (
            lambda _pdf, page: setattr(page, "Rotate", 45),
            "page 1 is turned by /Rotate 45; a page turns by a multiple of 90 degrees",
        ),
        (
            lambda pdf, _page: setattr(pdf.Root.Pages, "Rotate", 45),  # inherited from the page tree
            "page 1 is turned by /Rotate 45; a page turns by a multiple of 90 degrees",
        ),
    ],
    ids=["zero-width", "empty-crop-box", "huge", "user-unit", "rotate-45", "inherited-rotate"],
)
def test_a_page_no_viewer_could_show(tmp_path, capsys, change, message):
    """A zero width was a ZeroDivisionError (exit 1); the others were printed
    at a scale of nothing, or turned as no viewer turns them."""
    project = pdf_reader(tmp_path, _with_page(change))
    assert main(["-q", "--format", "pdf", "--out", str(project / "dist"), "r"], project=project) == 2
    assert _lines(capsys.readouterr().err, project) == [
        f"{READER}:12: error: readers/readings/x.pdf: {message}; give a repaired copy [pdf.unreadable]"
    ]


def test_an_inverted_page_box_is_a_page(tmp_path):
    """A box given corner to corner the other way round is the same page."""
    project = pdf_reader(
        tmp_path, _with_page(lambda _pdf, page: setattr(page, "MediaBox", pikepdf.Array([300, 400, 0, 0])))
    )
    assert main(["-q", "--format", "pdf", "--out", str(project / "dist"), "r"], project=project) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda _pdf, page: setattr(page, "Annots", pikepdf.Array([pikepdf.Name.X, 5])),
            "cannot be printed: a page's /Annots is not a list of annotations",
        ),
        (
            lambda _pdf, page: setattr(page.Resources, "Font", pikepdf.Dictionary(F1=pikepdf.Name.X)),
            "cannot be printed: its resource /Font /F1 is not a Font resource",
        ),
        (
            lambda _pdf, page: setattr(
                page.Resources, "ExtGState", pikepdf.Dictionary(G=pikepdf.Dictionary(CA=pikepdf.Name.X))
            ),
            "cannot be printed: a graphics state's /CA is not a number",
        ),
        (
            lambda pdf, page: setattr(pdf.Root.Pages, "Kids", pikepdf.Array([page, pdf.Root.Pages])),
            "cannot be read as a PDF: (object 3 0): Loop detected in /Pages structure (getAllPages)",
        ),
    ],
    ids=["annotations-of-junk", "font-of-junk", "graphics-state-of-junk", "page-tree-loop"],
)
def test_objects_of_the_wrong_kind_are_diagnostics(tmp_path, capsys, change, message):
    """Each was an internal error (exit 1): an AttributeError while placing the
    pages, a ValueError or TypeError while looking for what PDF/A forbids; a
    loop in the page tree named the Python object of the bytes read."""
    project = pdf_reader(tmp_path, _with_page(change))
    assert main(["-q", "--format", "pdf", "--out", str(project / "dist"), "r"], project=project) == 2
    tail = "; give a repaired copy [pdf.unreadable]" if "printed" in message else " [pdf.unreadable]"
    assert _lines(capsys.readouterr().err, project) == [f"{READER}:12: error: readers/readings/x.pdf {message}{tail}"]


def test_a_source_line_is_formatted_once_for_all_the_readings_of_one_source(tmp_path, monkeypatch):
    """Three readings of one PDF ran Pandoc's citeproc three times for one
    and the same source line (with --no-cache, every build; a reader of 200
    readings spent 100 s there)."""
    from edition.infra import fingerprints, tools
    from edition.read import course_reader
    from edition.resolve.volume import resolve_volume

    project = pdf_reader(tmp_path, shared_pages(2, 16), readings=3)
    runs: list[str] = []
    real = fingerprints.pandoc_path
    monkeypatch.setattr(fingerprints, "pandoc_path", lambda: runs.append("pandoc") or real())
    monkeypatch.setattr(bibliography, "_CSL_CACHE", {})
    monkeypatch.setattr(tools, "_RUNS", type(tools._RUNS)())
    resolve_volume(course_reader.read_reader(project, "r"))
    assert len(runs) == 2  # the reader's BibTeX to CSL, and one citeproc run


def test_a_reader_reads_its_works_within_one_bound(tmp_path, capsys, monkeypatch):
    """Each reading of a work read the work afresh under a bound of its own:
    200 readings of one large work read it 200 times. What a reader reads is
    counted together, each reading counted; tried at 2,000 bytes."""
    monkeypatch.setattr(sandbox, "MAX_TOTAL_BYTES", 2000)
    body = section("Word " * 150 + "\n")
    readings = "  - work: test\n" * 3
    project = make_project(
        tmp_path / "project",
        sections={"01-one.md": body},
        bib=BIB_MIN,
        extra={READER: reader_head("Twice") + "readings:\n" + readings},
    )
    assert main(["-q", "--format", "epub", "--out", str(project / "dist"), "r"], project=project) == 2
    lines = _lines(capsys.readouterr().err, project)
    assert lines and all("over 2000 bytes in all; split the work or the reader [file.size]" in line for line in lines)


# -- tables: rows, columns and cells bounded before any layout -------------------------------------


def _csv_project(tmp_path: Path, rows: int, columns: int) -> Path:
    names = [f"c{n}" for n in range(columns)]
    data = ",".join(names) + "\n" + (",".join("x" for _ in names) + "\n") * rows
    return make_project(
        tmp_path / "project",
        sections={"01-one.md": section("::: {.table #t}\nA table\n:::\n")},
        bib=BIB_MIN,
        extra={
            "content/test/tables/t.csv": data,
            "content/test/tables/t.yaml": "columns:\n" + "".join(f"  {n}: text\n" for n in names),
        },
    )


def test_a_csv_of_5000_rows_of_100_columns(tmp_path):
    """1.4 MB of one-character cells: 500,000 cells, gigabytes of layout
    memory, a segfault of the layout engine's C libraries when the memory ran
    out (-11 after 106 s). Refused from its header."""
    project = _csv_project(tmp_path, 5000, 100)
    status, lines = bounded_build(project, "--format", "pdf")
    assert status == 2
    assert lines == [
        "content/test/tables/t.csv:1: error: the table has 100 columns, over the limit of 50; split it [csv.size]"
    ]


def test_a_csv_of_too_many_cells(tmp_path):
    """5,000 rows of 11 columns, each within its own limit: 55,000 cells."""
    project = _csv_project(tmp_path, 5000, 11)
    status, lines = bounded_build(project, "--format", "pdf")
    assert status == 2
    assert lines == [
        "content/test/tables/t.csv:4547: error: the table has more than 50000 cells (4546 rows of 11 columns); "
        "split it or print an extract [csv.size]"
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "|" + "a|" * 60 + "\n|" + "-|" * 60 + "\n" + ("|" + "a|" * 60 + "\n") * 3,
            "the table has 60 columns, over the limit of 50; split it",
        ),
        (
            ("+" + "-+" * 300 + "\n" + "|" + "a|" * 300 + "\n") * 300 + "+" + "-+" * 300 + "\n",
            "the table has 300 columns, over the limit of 50; split it",
        ),
        (
            ("+" + "-+" * 11 + "\n" + "|" + "a|" * 11 + "\n") * 4600 + "+" + "-+" * 11 + "\n",
            "the table has more than 50000 cells (4600 rows of 11 columns); split it or print an extract",
        ),
    ],
    ids=["pipe-60-columns", "grid-300-by-300", "grid-50600-cells"],
)
def test_markdown_tables_are_bounded_as_csv_tables_are(tmp_path, table, message):
    """A grid of 300 x 300 took docutils half a minute to read before the
    layout ran out of memory; it is measured by its borders first."""
    project = make_project(tmp_path / "project", sections={"01-one.md": section(table)}, bib=BIB_MIN)
    status, lines = bounded_build(project, "--format", "epub")
    assert status == 2
    assert lines == [f"content/test/text/01-one.md:4: error: {message} [md.size]"]


def test_the_tables_of_a_work_are_bounded_together(refused, monkeypatch):
    """Each table within its limits, a thousand of them would not be: 100,000
    cells in all for a work, or a reader with all its readings; tried at 5."""
    assert tablesize.MAX_EDITION_CELLS == 100_000
    monkeypatch.setattr(tablesize, "MAX_EDITION_CELLS", 5)
    pipe = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    refused(
        {"content/test/text/02-two.md": section(pipe, "Two")},
        [
            "content/test/text/02-two.md:4: error: with this table the edition's tables hold 8 cells, over the "
            "limit of 5 for all the tables of a work or reader; split it or print extracts [md.size]"
        ],
        fresh=True,
        sections={"01-one.md": section(pipe)},
    )


def test_the_tables_of_a_reader_are_counted_in_every_reading(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(tablesize, "MAX_EDITION_CELLS", 5)
    pipe = "| a |\n|---|\n| 1 |\n| 2 |\n"
    project = make_project(
        tmp_path / "project",
        sections={"01-one.md": section(pipe)},
        bib=BIB_MIN,
        extra={READER: reader_head("Tables") + "readings:\n" + "  - work: test\n" * 2},
    )
    assert main(["-q", "--format", "epub", "--out", str(project / "dist"), "r"], project=project) == 2
    assert _lines(capsys.readouterr().err, project) == [
        f"{READER}:12: error: reading 2: with this table the edition's tables hold 6 cells, over the limit of 5 "
        "for all the tables of a work or reader; split it or print extracts [meta.length]"
    ]


def test_a_bibtex_file_of_too_many_entries(refused, monkeypatch):
    """330,000 one-line entries in 8 MB: 33 s to parse, then Pandoc ran out of
    its heap after 105 s. At most 20,000 entries, counted before parsing; tried at 3."""
    assert bibliography.MAX_ENTRIES == 20_000
    monkeypatch.setattr(bibliography, "MAX_ENTRIES", 3)
    entries = "".join(f"@misc{{k{n},\n  title = {{T}},\n}}\n" for n in range(4))
    refused(
        {"bib/test.bib": BIB_MIN + entries},
        [
            "bib/test.bib:13: error: more than 3 BibTeX entries in one file; give the work a file of the entries "
            "it cites [file.size]"
        ],
        fresh=True,
    )


# -- files that are no input are never read ---------------------------------------------------------


def test_a_20_gb_sparse_file_in_the_project_is_never_read(tmp_path):
    """0 blocks on disk, 20 GB to read: the snapshot of the inputs hashed it
    before and after the build (88 s), and on every no-change check (21 s)."""
    project = make_project(tmp_path / "project", bib=BIB_MIN)
    subprocess.run(["truncate", "-s", "20G", str(project / "content/test/notes.bin")], check=True)
    subprocess.run(["truncate", "-s", "20G", str(project / "content/test/.hidden.bin")], check=True)
    assert bounded_build(project, "--format", "epub", cpu=20) == (0, [])
    result = build_bounded(project, "--format", "epub", "--out", str(project / "dist"), cpu_seconds=10)
    assert not killed_by_limit(result), result.stderr[-2000:]
    assert result.stdout == f"up to date: nothing to build in {project / 'dist'}\n"


def test_an_input_that_grew_to_20_gb_is_not_read_to_find_it_changed(tmp_path):
    """The no-change check reads again the files the build read outside the
    input folders (an image in assets/): it read one that had become 20 GB."""
    from PIL import Image

    body = section("![A square](../../../assets/square.png)\n")
    project = make_project(tmp_path / "project", sections={"01-one.md": body}, bib=BIB_MIN)
    (project / "assets").mkdir()
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(picture, format="PNG")
    (project / "assets/square.png").write_bytes(picture.getvalue())
    assert bounded_build(project, "--format", "epub") == (0, [])
    subprocess.run(["truncate", "-s", "20G", str(project / "assets/square.png")], check=True)
    status, lines = bounded_build(project, "--format", "epub", cpu=8)
    assert status == 2
    assert lines == [
        "content/test/text/01-one.md:4: error: image '../../../assets/square.png' is 21474836480 bytes, over the 16777216-byte "
        "limit for images; make it smaller [file.size]"
    ]


# -- --extract: every name and file specification checked before a byte is written ----------------


def _pdf_with(path: Path, files: dict[str, bytes], change=None) -> Path:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    for name, data in files.items():
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename="x")
    if change is not None:
        change(pdf)
    pdf.save(path)
    return path


def _name_tree_entry(name: bytes, spec) -> object:
    """A change adding an entry to the embedded files' name tree as raw bytes
    (a NUL in a name), with the given file specification."""

    def change(pdf: pikepdf.Pdf) -> None:
        names = pdf.Root.Names.EmbeddedFiles.Names
        names.append(pikepdf.String(name))
        names.append(pdf.make_indirect(spec(pdf)))

    return change


def _utf16(name: str) -> bytes:
    """A PDF text string as UTF-16 (with its byte order mark), which can hold any character."""
    return "\ufeff".encode("utf-16-be") + name.encode("utf-16-be")


def _spec_of(data: bytes):
    return lambda pdf: pikepdf.AttachedFileSpec(pdf, data, filename="x").obj


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        (
            _name_tree_entry(b"a\x00b.md", _spec_of(b"nul")),
            "embedded file 'a\\x00b.md' holds a control character or a backslash [extract.name]",
        ),
        (
            _name_tree_entry(_utf16("a\x85b.md"), _spec_of(b"c1")),
            "embedded file 'a\\x85b.md' holds a control character or a backslash [extract.name]",
        ),
        (
            _name_tree_entry(_utf16("x\x9b31m.md"), _spec_of(b"csi")),
            "embedded file 'x\\x9b31m.md' holds a control character or a backslash [extract.name]",
        ),
        (
            _name_tree_entry(("/".join(["d" * 250] * 17) + "/x.md").encode(), _spec_of(b"deep")),
            "embedded file '{long}' has a path longer than 1024 bytes [extract.name]",
        ),
        (
            _name_tree_entry(b"z.md", lambda _pdf: pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F="z.md")),
            "embedded file 'z.md' has no file stream: its file specification is not one a build writes [extract.stream]",
        ),
        (
            _name_tree_entry(b"z.md", lambda _pdf: pikepdf.Dictionary(EF=pikepdf.Dictionary(F=pikepdf.Name.X))),
            "embedded file 'z.md' has no file stream: its file specification is not one a build writes [extract.stream]",
        ),
    ],
    ids=["nul", "c1-next-line", "c1-csi", "path-of-4267-bytes", "spec-without-ef", "ef-without-stream"],
)
def test_extract_refuses_what_it_cannot_write_and_writes_nothing(tmp_path, capsys, extra, line):
    """A NUL was a KeyError, a path over the system's limit an OSError, a file
    specification without a stream an AttributeError (exit 1); C1 control
    characters (U+0085, U+009B: an escape sequence) were written to disk."""
    pdf_path = _pdf_with(tmp_path / "a.pdf", {"ok.md": b"fine", "b.md": b"also fine"}, extra)
    target = tmp_path / "out"
    status = main(["--extract", str(pdf_path), str(target)])
    long = "/".join(["d" * 250] * 17) + "/x.md"
    assert capsys.readouterr().err.splitlines() == [
        f"{pdf_path}: error: {line.format(long=long)}",
        f"extraction failed; {target}/ was not changed",
    ]
    assert status == 2
    assert not target.exists()


# -- outputs that would share a name; an output folder that is none -------------------------------


def _two_works(tmp_path: Path, other: str, broken: bool = True) -> Path:
    """The test work, and another whose work.yaml could not even be read."""
    project = make_project(tmp_path / "project", bib=BIB_MIN)
    make_project(project, slug=other, bib=BIB_MIN)
    if broken:
        (project / f"content/{other}/work.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    return project


@pytest.mark.parametrize(
    ("other", "line"),
    [
        (
            "test-pdfa",
            "content/test-pdfa/work.yaml: error: the work content/test-pdfa/ would write its print PDF as "
            "dist/test-pdfa.pdf, the name of the PDF/A of the work content/test/: rename content/test-pdfa/ [file.name]",
        ),
        (
            "test-press",
            "content/test-press/work.yaml: error: the work content/test-press/ would write its print PDF as "
            "dist/test-press.pdf, the name of the press PDF of the work content/test/: rename content/test-press/ "
            "[file.name]",
        ),
        (
            "Test",
            "content/test/work.yaml: error: the work content/test/ and the work content/Test/ differ only in case: "
            "on a file system that ignores case (macOS, Windows) both would write dist/test.pdf; rename "
            "content/test/ [file.name]",
        ),
    ],
    ids=["work-named-as-a-pdfa", "work-named-as-a-press-file", "case-only"],
)
def test_editions_whose_outputs_share_a_name_are_said_before_reading(tmp_path, capsys, other, line):
    """``juche-pdfa`` beside ``juche``: a PublishError after 14 s of building
    (exit 1). Now one line before a file is read (the other work's broken
    metadata is not even reached), also when only one of the two is built."""
    project = _two_works(tmp_path, other)
    for wanted in ([], ["test"]):
        assert main(["-q", "--out", str(project / "dist"), *wanted], project=project) == 2
        assert _lines(capsys.readouterr().err, project) == [line]
    assert not (project / "dist").exists()


def test_a_reader_named_as_a_works_output(tmp_path, capsys):
    project = make_project(
        tmp_path / "project",
        bib=BIB_MIN,
        extra={"readers/test-pdfa.yaml": reader_head("R") + "readings:\n  - work: test\n"},
    )
    assert main(["-q", "--out", str(project / "dist"), "test"], project=project) == 2
    assert _lines(capsys.readouterr().err, project) == [
        "readers/test-pdfa.yaml: error: the reader readers/test-pdfa.yaml would write its print PDF as "
        "dist/test-pdfa.pdf, the name of the PDF/A of the work content/test/: rename readers/test-pdfa.yaml "
        "[file.name]"
    ]


@pytest.mark.parametrize("kind", ["file", "fifo", "file-above"])
def test_an_output_folder_that_is_no_folder(tmp_path, capsys, kind):
    """A ``dist`` that is a file or a named pipe: NotADirectoryError (exit 1)."""
    project = make_project(tmp_path / "project", bib=BIB_MIN)
    dist = project / "dist"
    if kind == "fifo":
        os.mkfifo(dist)
    else:
        dist.write_bytes(b"not a folder")
    out = dist / "inner" if kind == "file-above" else dist
    assert main(["-q", "--out", str(out)], project=project) == 2
    what = {"file": "is a file, not a folder", "fifo": "is a named pipe, not a folder"}.get(
        kind, f"cannot be made: {dist} is a file"
    )
    assert capsys.readouterr().err.splitlines() == [
        f"error: the output folder {out} {what}; remove it, or name another folder with --out [cli.option]"
    ]
    assert dist.is_fifo() if kind == "fifo" else dist.read_bytes() == b"not a folder"


# -- the EPUB cover's layout, checked against its schema -------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "face: bold",
            "face: heavy",
            9,
            "'face' of block 2 of the cover is 'heavy'; it must be one of bold, italic, regular [meta.type]",
        ),
        (
            "text: title",
            "text: titel",
            9,
            "'text' of block 2 of the cover is 'titel'; it must be one of author_line, publisher, series_line, "
            "title (did you mean 'title'?) [meta.type]",
        ),
        (
            'colour: "#ffffff"',
            'colour: "#ffffzz"',
            9,
            "'colour' of block 2 of the cover is '#ffffzz', not a colour: write #rrggbb (#1f3a4d) or a colour "
            "name (white) [meta.type]",
        ),
        (
            "size: 118",
            "size: 50000",
            9,
            "'size' of block 2 of the cover must be a whole number from 1 to 1000, not 50000 [meta.type]",
        ),
        (
            "leading: 1.18",
            "leading: 1.18, weight: 9",
            9,
            "unknown key 'weight' in block 2 of the cover [meta.unknown-key]",
        ),
        (
            "background:",
            "backdrop:",
            5,
            "unknown key 'backdrop' in the cover layout (did you mean 'background'?) [meta.unknown-key]",
        ),
    ],
    ids=["face", "text", "colour", "type-size", "unknown-block-key", "unknown-key"],
)
def test_the_cover_layout_is_checked_against_its_schema(tmp_path, capsys, old, new, line, message):
    """``face: heavy`` was a KeyError (exit 1) when the cover was drawn."""
    layout = (ROOT / "templates/epub/cover.yaml").read_text(encoding="utf-8")
    assert old in layout
    project = make_project(tmp_path / "project", bib=BIB_MIN)
    (project / "templates/epub/cover.yaml").write_text(layout.replace(old, new, 1), encoding="utf-8")
    status, lines = build(project, capsys)
    assert status == 2
    expected = [f"templates/epub/cover.yaml:{line}: error: {message}"]
    if new == "backdrop:":
        expected.append(
            "templates/epub/cover.yaml:1: error: the cover layout lacks the required key 'background' [meta.missing]"
        )
        expected.sort()
    assert sorted(lines) == expected


def test_dist_is_untouched_by_a_refused_pdf_reading(tmp_path, capsys):
    """The refusals above come before anything is written: a project built
    once keeps its outputs byte for byte when a reading goes bad."""
    project = pdf_reader(tmp_path, shared_pages(2, 16))
    args = ["-q", "--format", "epub", "--out", str(project / "dist"), "r"]
    assert main(args, project=project) == 0
    before = snapshot(project / "dist")
    (project / "readers/readings/x.pdf").write_bytes(_with_page(lambda _pdf, page: setattr(page, "Rotate", 45)))
    assert main([*args, "--force"], project=project) == 2
    capsys.readouterr()
    assert snapshot(project / "dist") == before
