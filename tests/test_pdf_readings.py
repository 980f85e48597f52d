"""Readings printed from existing PDFs: the demo reader's study guide, a scan,
and the PDFs a build must refuse or repair."""

from __future__ import annotations

import csv
import io
import logging
import re
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree

from edition.cli import main
from edition.pipeline import Options, run
from edition.read.pdf import readings as pdfreadings

from . import outputs, pdfa_check, pdfs
from .builds import Capture, cli
from .projects import DEMO_READER as READER
from .projects import ROOT, pdf_project
from .study_guide import TARGET, make

GUIDE = "readers/readings/hist389-study-guide.pdf"
TITLE = "Study Guide: North Korea and the World, 1967–1984"
SLUG = "r2-hist389-study-guide"


@pytest.fixture(scope="module")
def row(reader_dist) -> dict:
    rows = list(csv.DictReader((reader_dist / f"{READER}.permissions.csv").open(encoding="utf-8")))
    return next(r for r in rows if r["kind"] == "pdf")


@pytest.fixture(scope="module")
def volume_pages(row) -> dict[int, int]:
    """Volume page -> page of the study guide it prints."""
    first = int(row["first_page"])
    start, end = (int(n) for n in row["source_pages"].split("-"))
    return {first + 1 + k: n for k, n in enumerate(range(start, end + 1))}


def _words(page) -> list[dict]:
    return page.extract_words(extra_attrs=["size", "fontname"])


# -- the demo reader ----------------------------------------------------------------------


def test_the_permissions_report_gives_the_pdf_readings_pages(row):
    assert row["title"] == TITLE and row["work"] == GUIDE
    assert row["source"].startswith("Reproduced from HIST 389 Teaching Team, Study Guide")
    assert (row["source_pages"], row["source_pages_used"], row["source_total_pages"]) == ("2-4", "3", "4")
    assert (row["share_basis"], row["share_of_original"]) == ("pages", "0.750")
    assert int(row["last_page"]) - int(row["first_page"]) + 1 == int(row["pages"]) == 4  # title page + 3
    assert 0.5 < float(row["scale"]) < 1  # A4 pages inside the Letter volume's margins
    assert row["words"] == row["original_words"] == ""


def test_folios_run_on_through_the_pdf_pages_in_the_volumes_font(reader_dist, row, volume_pages):
    """Every page after the title page carries its own number, in Charis, at the
    foot; on the pages of the PDF too (the number read from the page's text)."""
    with pdfplumber.open(reader_dist / f"{READER}.pdf") as pdf:
        assert len(pdf.pages) > int(row["last_page"])  # typeset readings follow the PDF reading
        for number, page in enumerate(pdf.pages, 1):
            words = _words(page)
            foot = [w for w in words if w["top"] > page.height - 0.9 * 72]
            if number == 1 or not words:
                continue  # the title page, blank versos
            assert [w["text"] for w in foot] == [str(number)], f"page {number}: foot {foot}"
            if number in volume_pages:
                assert "Charis-Edition" in foot[0]["fontname"] and foot[0]["size"] == pytest.approx(9, abs=0.05)


def test_running_heads_are_stamped_on_the_pdf_pages(reader_dist, volume_pages):
    with pdfplumber.open(reader_dist / f"{READER}.pdf") as pdf:
        for number in volume_pages:
            page = pdf.pages[number - 1]
            head = [w for w in _words(page) if w["top"] < 0.75 * 72]
            text = " ".join(w["text"] for w in head)
            expected = TITLE if number % 2 else "HIST 389 Teaching Team"  # recto: the title; verso: the author
            assert text == expected, number
            assert all(
                "Charis-Edition-Italic" in w["fontname"] and w["size"] == pytest.approx(8.5, abs=0.01) for w in head
            )


#: The demo reader trims the study guide's foot, its own footer ("Study guide · page 2"), in points.
TRIMMED_FOOT = 45


def test_the_source_pages_are_printed_scaled_inside_the_margins(reader_dist, row, volume_pages):
    """The source's own text is on its page of the volume, every word the
    reader's trim keeps inside the type area (never cropped), set at the
    scale the report gives; the trimmed footer is clipped away."""
    scale = float(row["scale"])
    with pdfplumber.open(GUIDE_PATH) as source, pdfplumber.open(reader_dist / f"{READER}.pdf") as volume:
        for number, source_page in volume_pages.items():
            words = _words(source.pages[source_page - 1])
            original = [w for w in words if w["bottom"] < source.pages[source_page - 1].height - TRIMMED_FOOT]
            assert [w["text"] for w in words if w not in original] == ["Study", "guide", "·", "page", str(source_page)]
            page = volume.pages[number - 1]
            # (a text extractor still reads the clipped footer, outside the printed box)
            printed = [w for w in _words(page) if 0.85 * 72 < w["top"] < page.height - 0.9 * 72][: len(original)]
            # (compared as sets of words: at another scale, a list's number may sit a hair off its line)
            by_word = lambda w: (w["text"], round(w["size"], 1))  # noqa: E731
            assert sorted(w["text"] for w in printed) == sorted(w["text"] for w in original), number
            inside = 0.8 * 72, page.width - 0.8 * 72  # the narrower of the two side margins
            assert all(inside[0] <= w["x0"] and w["x1"] <= inside[1] for w in printed)
            for a, b in zip(sorted(original, key=by_word), sorted(printed, key=by_word), strict=True):
                assert b["size"] == pytest.approx(a["size"] * scale, rel=0.01)


def _drawing(stream) -> bytes:
    """The operators of a content stream, with its marked-content tags left out."""
    ops = [op for op in pikepdf.parse_content_stream(stream) if str(op.operator) not in ("BDC", "BMC", "EMC")]
    return pikepdf.unparse_content_stream(ops)


@pytest.mark.parametrize("kind", ["", "-pdfa"])
def test_the_pages_are_copied_not_rendered_again(reader_dist, volume_pages, kind):
    """The volume draws the source page's own content stream, operator for
    operator (in the PDF/A, content the source never tagged is marked as an
    artifact), with the source's own font programs."""
    with pikepdf.open(GUIDE_PATH) as source, pikepdf.open(reader_dist / f"{READER}{kind}.pdf") as volume:
        for number, source_page in volume_pages.items():
            placed = [x for _, x in volume.pages[number - 1].Resources.XObject.items() if x.Subtype == "/Form"]
            assert len(placed) == 1
            original = source.pages[source_page - 1]
            assert _drawing(placed[0]) == _drawing(original)
            fonts = {k: f.FontDescriptor.FontFile2.read_raw_bytes() for k, f in _cid_fonts(original.Resources)}
            assert fonts == {k: f.FontDescriptor.FontFile2.read_raw_bytes() for k, f in _cid_fonts(placed[0].Resources)}


def _cid_fonts(resources):
    return [(k, f.DescendantFonts[0]) for k, f in resources.Font.items()]


def test_contents_and_permissions_pages_list_it_with_its_pages(reader_dist, row):
    pages = outputs.pdf_pages(reader_dist / f"{READER}.pdf")
    contents = re.sub(r"\s+", " ", pages[1]["text"])
    assert re.search(rf"{re.escape(TITLE)}[ .]+{row['first_page']}\b", contents)
    permissions = re.sub(r"\s+", " ", pages[-1]["text"])
    assert f"{row['first_page']}–{row['last_page']}" in permissions and "3 of 4 pages (75%)" in permissions
    title_page = re.sub(r"\s+", " ", pages[int(row["first_page"]) - 1]["text"])
    assert TITLE in title_page and "Pages 2–4 of the source PDF, which has 4 pages." in title_page
    assert "Written for this course and dedicated to the public domain (CC0 1.0)." in title_page


def test_the_outline_has_an_entry_for_it_with_the_sources_bookmarks(reader_dist, row, volume_pages):
    """The reading's entry leads to its title page; under it, the study guide's
    own bookmarks of the pages printed (its cover's is left out)."""
    with pikepdf.open(reader_dist / f"{READER}.pdf") as pdf, pdf.open_outline() as outline:
        entry = next(item for item in outline.root if item.title == TITLE)
        assert pdf.pages.index(pikepdf.Page(entry.destination[0])) + 1 == int(row["first_page"])
        children = [(c.title, pdf.pages.index(pikepdf.Page(c.destination[0])) + 1) for c in entry.children]
    assert children == [
        ("1. Reading the essay", min(volume_pages)),
        ("2. Reading the documents", min(volume_pages) + 1),
        ("3. Chronology: the DPRK’s new diplomatic relations, 1971–1980", min(volume_pages) + 2),
    ]


def test_links_keep_working_or_are_removed(reader_dist, volume_pages):
    """The study guide links to its chronology (printed), to a web page and to
    its cover (left out): the first two lead where they led, the third is gone."""
    by_source = {n: page for page, n in volume_pages.items()}
    with pikepdf.open(reader_dist / f"{READER}.pdf") as pdf:
        annots = pdf.pages[by_source[2] - 1].Annots
        uris = [str(a.A.URI) for a in annots if "/A" in a]
        jumps = [pdf.pages.index(pikepdf.Page(a.Dest[0])) + 1 for a in annots if "/Dest" in a]
        assert uris == ["https://digitalarchive.wilsoncenter.org/"]
        assert jumps == [by_source[4]]  # the chronology's page; the cover (page 1) is not in the reader
        for number in volume_pages:
            for annot in pdf.pages[number - 1].get("/Annots") or []:
                box = [float(v) for v in annot.Rect]
                assert 0 < box[0] < box[2] < float(pdf.pages[number - 1].MediaBox[2])
    with pdfplumber.open(reader_dist / f"{READER}.pdf") as pdf:
        chronology = pdf.pages[by_source[4] - 1].extract_text()
        assert "3. Chronology: the DPRK’s new diplomatic relations, 1971–1980" in chronology


def test_the_pdfa_passes_the_checks_with_the_source_fonts(reader_dist):
    pdfa = reader_dist / f"{READER}-pdfa.pdf"
    assert pdfa_check.check(pdfa) == []
    subprocess.run(["qpdf", "--check", str(pdfa)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdfa)], check=True, capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert all(" yes yes yes " in r for r in rows)
    with pikepdf.open(GUIDE_PATH) as source:
        names = {str(f.BaseFont)[1:] for p in source.pages for _, f in p.Resources.Font.items()}
    assert names <= {r.split()[0] for r in rows}  # the study guide's own fonts are in the volume, embedded


def test_the_source_pdf_is_embedded_as_a_source(reader_dist):
    with pikepdf.open(reader_dist / f"{READER}-pdfa.pdf") as pdf:
        spec = pdf.attachments[GUIDE]
        assert spec.obj.AFRelationship == "/Source"
        assert spec.get_file().mime_type == "application/pdf"
        assert spec.get_file().read_bytes() == GUIDE_PATH.read_bytes()
        assert spec.get_file().read_bytes() == (ROOT / GUIDE).read_bytes()
        assert "bib/hist389.bib" in pdf.attachments


def test_a_tagged_source_keeps_its_structure(reader_dist, volume_pages):
    """The study guide's headings, lists and links stand in the PDF/A's tree
    under one Part, each piece of content reached through the placed page."""
    with pikepdf.open(reader_dist / f"{READER}-pdfa.pdf") as pdf:
        root = pdf.Root.StructTreeRoot
        parts = [e for e in _elements(root) if e.get("/S") == "/Part"]
        assert [str(p.T) for p in parts] == [TITLE]
        roles = [str(e.S) for e in _elements(parts[0])]
        assert roles.count("/H2") == 3 and "/L" in roles and "/Table" in roles and "/Link" in roles
        parents = pikepdf.NumberTree(root.ParentTree)
        for number in volume_pages:
            form = next(x for _, x in pdf.pages[number - 1].Resources.XObject.items() if x.Subtype == "/Form")
            mcids = [
                int(op.operands[1].MCID)
                for op in pikepdf.parse_content_stream(form, "BDC")
                if isinstance(op.operands[1], pikepdf.Dictionary) and "/MCID" in op.operands[1]
            ]
            table = parents[int(form.StructParents)]
            assert mcids and all(table[m] is not None for m in mcids)
            for m in mcids:  # the element the table names refers back to this content
                kids = table[m].K if isinstance(table[m].K, pikepdf.Array) else [table[m].K]
                assert any(
                    k.get("/MCID") == m and k.Stm.objgen == form.objgen
                    for k in kids
                    if isinstance(k, pikepdf.Dictionary)
                )
        assert not [e for e in _elements(root) if e.get("/S") == "/Art"]  # no placeholder left


def _elements(element):
    kids = element.get("/K")
    for kid in kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []:
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
            yield kid
            yield from _elements(kid)


def test_the_epub_gives_its_print_pages_and_its_text(reader_dist, row, volume_pages):
    spine = dict(outputs.epub_spine(reader_dist / f"{READER}.epub"))
    names = list(spine)
    head = f"{SLUG}-titlepage.xhtml"
    assert names.index(head) + 1 == names.index(f"{SLUG}-pdf-text.xhtml")  # in the reading order, its text after it
    root = etree.fromstring(spine[head])
    text = " ".join(root.itertext())
    assert TITLE in text and "Reproduced from HIST 389 Teaching Team" in text and "CC0 1.0" in text
    assert f"pages {row['first_page']}–{row['last_page']} of the print edition" in text
    items = root.findall(".//{*}ol[@class='pdf-pages']/{*}li")
    for li, (number, source_page) in zip(items, volume_pages.items(), strict=True):
        marker = li.find("{*}span[@role='doc-pagebreak']")
        assert marker.get("id") == f"page-{number}"
        assert "".join(li.itertext()).startswith(f"Print page {number}: page {source_page} of the PDF")
    nav = etree.fromstring(spine["nav.xhtml"])
    hrefs = {a.text: a.get("href") for a in nav.iterfind(".//{*}nav[@id='page-list']//{*}a")}
    for number in [int(row["first_page"]), *volume_pages]:
        assert hrefs[str(number)] == f"{head}#page-{number}"
    toc = nav.find(".//{*}nav[@role='doc-toc']")
    entry = next(li for li in toc.iter("{*}li") if li.find("{*}a").text == TITLE)
    assert [a.text for a in entry.iterfind("{*}ol/{*}li/{*}a")] == ["Text extracted from the PDF"]


def test_the_extracted_text_is_marked_and_unedited(reader_dist, volume_pages):
    spine = dict(outputs.epub_spine(reader_dist / f"{READER}.epub"))
    root = etree.fromstring(spine[f"{SLUG}-pdf-text.xhtml"])
    assert root.find(".//{*}section").get("{http://www.idpf.org/2007/ops}type") == "appendix"
    note = " ".join(root.find(".//{*}p[@class='extracted-note']").itertext())
    assert "extracted by machine and not edited" in note
    with pdfplumber.open(GUIDE_PATH) as source:
        for number, source_page in volume_pages.items():
            part = root.find(f".//{{*}}section[@id='{SLUG}--pdf-text-{source_page}']")
            assert part.find("{*}h3").text == f"Page {source_page} of the PDF (print page {number})"
            extracted = " ".join(" ".join(p.itertext()) for p in part.iterfind("{*}p")).split()
            assert extracted == (source.pages[source_page - 1].extract_text() or "").split()


def test_ace_reports_no_violation_in_the_reader(reader_dist, tmp_path):
    epub = reader_dist / f"{READER}.epub"
    report = outputs.ace_report(epub, tmp_path / "ace")
    assert outputs.violations(report) == [] and report["earl:result"]["earl:outcome"] == "pass"
    with zipfile.ZipFile(epub) as z:
        assert f"EPUB/{SLUG}-pdf-text.xhtml" in z.namelist()


def test_the_study_guide_is_made_by_the_project():
    """No third-party file: the committed PDF is what tests/study_guide.py makes."""
    assert make() == TARGET.read_bytes()
    assert TARGET == GUIDE_PATH


GUIDE_PATH = ROOT / GUIDE


# -- small readers: a scan, repairs, bad files ---------------------------------------------

YAML = "readers/r.yaml"


@pytest.fixture
def build_log():
    """The build's own log, INFO and up (on the "edition" logger itself: the
    command line stops it propagating to pytest's handler)."""
    logger = logging.getLogger("edition")
    records, level = Capture(logging.INFO), logger.level
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(records)
    logger.setLevel(level)


def test_a_scan_is_placed_whole_and_drops_the_pdfua_claim(tmp_path, build_log):
    """An untagged scan: small pages are not enlarged, a landscape page and a
    rotated one are fitted whole; each page is a Figure with a text alternative
    in the PDF/A, which still passes; the build warns that the volume cannot
    claim PDF/UA, names the file, and says how much each page was scaled."""
    scan = pdfs.scan([(300, 400), (842, 595), (595, 842)], rotate={2: 90})
    project = pdf_project(tmp_path, {"scan.pdf": scan})
    result = run(Options(project=project, out=tmp_path / "dist", slugs=("r",)))
    assert result.pdfua_dropped == {"r": ("readers/readings/scan.pdf",)}
    warnings = [r.getMessage() for r in build_log.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"{project / YAML}:13: warning: readers/readings/scan.pdf has no tags: its pages are tagged as figures, "
        "and r does not claim PDF/UA [pdf.untagged]"
    ]
    assert any(
        "pages 1–3 of readers/readings/scan.pdf printed on pages" in m and "% of their size" in m
        for m in build_log.messages
    )
    rows = list(csv.DictReader((tmp_path / "dist/r.permissions.csv").open(encoding="utf-8")))
    row = rows[1]
    low, high = (float(v) for v in row["scale"].split("-"))
    assert high == 1.0 and low < 1.0  # the small page prints at its size; the landscape ones shrink
    first = int(row["first_page"])
    with pdfplumber.open(tmp_path / "dist/r.pdf") as pdf:
        for k in range(3):
            page = pdf.pages[first + k]
            (image,) = page.images
            margin = 0.8 * 72
            assert margin <= image["x0"] < image["x1"] <= page.width - margin
            assert 0.85 * 72 <= image["top"] < image["bottom"] <= page.height - 0.9 * 72
            assert page.extract_text().split()[-1] == str(first + k + 1)  # the folio, over the scan
        assert pdf.pages[first + 1].images[0]["width"] == pytest.approx(
            pdf.pages[first + 1].images[0]["height"] * 842 / 595, rel=0.01
        )
        # a portrait page turned by /Rotate 90 shows, and prints, in landscape
        assert pdf.pages[first + 2].images[0]["width"] == pytest.approx(
            pdf.pages[first + 2].images[0]["height"] * 842 / 595, rel=0.01
        )
        assert pdf.pages[first].images[0]["width"] == pytest.approx(300)  # not enlarged
    pdfa = tmp_path / "dist/r-pdfa.pdf"
    assert pdfa_check.check(pdfa) == []
    with pikepdf.open(pdfa) as pdf:
        figures = [e for e in _elements(pdf.Root.StructTreeRoot) if e.get("/S") == "/Figure"]
        assert [str(f.Alt).split(" of the PDF")[0] for f in figures] == ["Page 1", "Page 2", "Page 3"]
        parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
        for k, figure in enumerate(figures):
            page = pdf.pages[first + k]
            (mcid,) = list(figure.K)
            assert parents[int(page.StructParents)][int(mcid)].objgen == figure.objgen
            marked = [op for op in pikepdf.parse_content_stream(page, "BDC") if op.operands[0] == "/Figure"]
            assert [int(op.operands[1].MCID) for op in marked] == [int(mcid)]


def test_what_pdfa_forbids_and_printing_does_not_need_is_fixed_and_said(tmp_path, build_log):
    """JavaScript is dropped, a form field is flattened into the page as it
    prints, a hidden comment is dropped; the build says so, and the PDF/A passes."""
    source = pdfs.with_javascript_form_and_hidden_note(pdfs.typeset("<p>A page with a form on it.</p>"))
    project = pdf_project(tmp_path, {"scan.pdf": source})
    run(Options(project=project, out=tmp_path / "dist", slugs=("r",), formats=("pdfa",)))
    fixed = sorted(m for m in build_log.messages if m.startswith("fixed for PDF/A"))
    assert fixed == [
        "fixed for PDF/A: readers/readings/scan.pdf: JavaScript in the document: dropped",
        "fixed for PDF/A: readers/readings/scan.pdf: form fields on page 1: flattened into the page as printed",
        "fixed for PDF/A: readers/readings/scan.pdf: non-printing annotations on page 1: dropped (they are not printed)",
    ]
    pdfa = tmp_path / "dist/r-pdfa.pdf"
    assert pdfa_check.check(pdfa) == []
    with pikepdf.open(pdfa) as pdf:
        assert "/AcroForm" not in pdf.Root and "/OpenAction" not in pdf.Root
        assert not [a for p in pdf.pages for a in p.get("/Annots") or [] if a.Subtype != "/Link"]
    with pdfplumber.open(pdfa) as pdf:
        page = next(p for p in pdf.pages if "A page with a form on it." in (p.extract_text() or ""))
        boxes = [r for r in page.rects if r["non_stroking_color"] in ((0.2,), [0.2], 0.2)]
        assert len(boxes) == 1  # the field's appearance, now part of the page


@pytest.mark.parametrize(
    ("case", "setup", "expected"),
    [
        ("missing", {"pdf": "readings/nope.pdf"}, "13: error: PDF 'readings/nope.pdf' does not exist [file.missing]"),
        (
            "outside",
            {"pdf": "../../outside.pdf"},
            "13: error: PDF '../../outside.pdf' is outside the project [resource.refused]",
        ),
        (
            "not a pdf",
            {"files": {"scan.pdf": b"Chapter nine, typed out.\n"}},
            "13: error: readers/readings/scan.pdf is not a PDF (a PDF file begins with '%PDF-') [pdf.unreadable]",
        ),
        (
            "encrypted",
            {"files": {"scan.pdf": "encrypted"}},
            "13: error: readers/readings/scan.pdf is encrypted with a password; ask for an unencrypted copy [pdf.encrypted]",
        ),
        (
            "range",
            {"more": "    pages: 2-5\n"},
            "15: error: pages 2-5 lie outside readers/readings/scan.pdf, which has 2 pages [pdf.pages]",
        ),
        (
            "range syntax",
            {"more": "    pages: two to five\n"},
            "15: error: pages 'two to five' is not a page range: write pages: 3-28 (or one page) [pdf.pages]",
        ),
        (
            "zero pages",
            {"files": {"scan.pdf": "empty"}},
            "13: error: readers/readings/scan.pdf has no pages [pdf.pages]",
        ),
        (
            "no text",
            {"more": "    epub_text: true\n"},
            "15: error: readers/readings/scan.pdf has no text layer on pages 1–2 (a scan?): "
            "remove 'epub_text' or give a PDF with text [pdf.no-text]",
        ),
        (
            "unknown key",
            {"more": "    page: 2\n"},
            "15: error: unknown key 'page' in a PDF reading (did you mean 'pages'?) [meta.unknown-key]",
        ),
        (
            "unknown cite",
            {"cite": "scan2021"},
            "14: error: unknown citation key 'scan2021': not in bib/course.bib (did you mean 'scan2020'?) [cite.unknown]",
        ),
    ],
)
def test_bad_pdf_readings_name_the_reader_line(tmp_path, capsys, case, setup, expected):
    files = {"scan.pdf": pdfs.scan([(300, 400), (300, 400)])}
    for name, data in setup.get("files", {}).items():
        files[name] = {"encrypted": pdfs.encrypted(files["scan.pdf"]), "empty": pdfs.empty()}.get(data, data)
    project = pdf_project(
        tmp_path,
        files,
        pdf=setup.get("pdf", "readings/scan.pdf"),
        cite=setup.get("cite", "scan2020"),
        more=setup.get("more", ""),
    )
    lines = _failed_build(project, capsys)
    assert lines == [f"{YAML}:{expected}"], case


def test_a_pdf_over_the_size_limit(tmp_path, capsys, monkeypatch):
    data = pdfs.scan([(300, 400)])
    monkeypatch.setattr(pdfreadings, "MAX_PDF_BYTES", 1000)
    lines = _failed_build(pdf_project(tmp_path, {"scan.pdf": data}), capsys)
    assert lines == [
        f"{YAML}:13: error: PDF 'readings/scan.pdf' is {len(data)} bytes, over the 1000-byte limit for PDF readings; "
        "split it [file.size]"
    ]


def test_a_reading_of_too_many_pages(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pdfreadings, "MAX_PDF_PAGES", 2)
    lines = _failed_build(pdf_project(tmp_path, {"scan.pdf": pdfs.scan([(300, 400)] * 3)}), capsys)
    assert lines == [
        f"{YAML}:13: error: readers/readings/scan.pdf: a reading of 3 pages, over the limit of 2; give a page range [pdf.pages]"
    ]


def test_a_pdf_the_pdfa_cannot_carry(tmp_path, capsys):
    project = pdf_project(tmp_path, {"scan.pdf": pdfs.unembedded_font()})
    lines = _failed_build(project, capsys, "pdfa")
    tail = "the archival PDF/A cannot carry it; give a PDF/A-ready copy of the file (or build without --format pdfa) [pdf.pdfa]"
    assert lines == [
        f"{YAML}:13: error: readers/readings/scan.pdf: a font has no ToUnicode map, so its text cannot be read back "
        f"(Helvetica) on page 1: {tail}",
        f"{YAML}:13: error: readers/readings/scan.pdf: a font is not embedded (Helvetica) on page 1: {tail}",
    ]
    # the print PDF needs no PDF/A: the same reading builds
    assert main(["-q", "--out", str(project / "dist"), "--format", "pdf", "r"], project=project) == 0


def _failed_build(project: Path, capsys, fmt: str = "epub") -> list[str]:
    code, lines = cli(project, capsys, "--format", fmt, "r")
    assert code == 2, lines
    assert not (project / "dist").exists(), "a failed build wrote output"
    return lines


def test_placeholders_a_finisher_dropped_are_made_again(tmp_path, monkeypatch):
    """A finisher that removes empty structure elements before this step (a
    PDF/UA pass) must not break it: the pages still get their Part and
    Figures, in reading order, after the title pages."""
    from edition.outputs.pdf import archival

    write_print = archival.write_print  # the tagged PDF the PDF/A is made from

    def without_placeholders(*args, **kwargs):
        with pikepdf.open(io.BytesIO(write_print(*args, **kwargs))) as pdf:
            for element in list(_elements(pdf.Root.StructTreeRoot)):
                if element.get("/S") == "/Art":
                    parent = element.P
                    parent.K = pikepdf.Array([k for k in parent.K if k.objgen != element.objgen])
            out = io.BytesIO()
            pdf.save(out)
        return out.getvalue()

    monkeypatch.setattr(archival, "write_print", without_placeholders)
    tagged = pdfs.typeset("<h1>A Tagged Article</h1><p>Its text.</p>", tags=True)
    more = "  - pdf: readings/scan.pdf\n    cite: scan2020\n    title: The Scan Again\n"
    project = pdf_project(
        tmp_path, {"tagged.pdf": tagged, "scan.pdf": pdfs.scan([(300, 400)])}, pdf="readings/tagged.pdf", more=more
    )
    run(Options(project=project, out=tmp_path / "dist", slugs=("r",), formats=("pdfa",)))
    pdfa = tmp_path / "dist/r-pdfa.pdf"
    assert pdfa_check.check(pdfa) == []
    with pikepdf.open(pdfa) as pdf:
        order = [
            str(e.get("/T", e.S))
            for e in _elements(pdf.Root.StructTreeRoot)
            if e.get("/S") in ("/Part", "/Figure", "/H1")
        ]
    # the reader's title page, the typeset work, the tagged reading's title page, its
    # Part (with its own H1), the scan's title page, its Figure
    assert order == ["/H1", "/H1", "/H1", "A Scanned Chapter", "/H1", "/H1", "/Figure"]
