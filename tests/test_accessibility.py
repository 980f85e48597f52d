"""Accessible editions (issue 14): tagged PDFs that pass the PDF/UA checker and
claim PDF/UA-1, for the paper and the course reader; foreign words with their
language; original-page markers read as "original page N"; an EPUB whose
accessibility summary is counted from what it holds, that keeps its contrast in
a dark theme, and whose hidden navigation stays hidden in a Kindle conversion."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
import yaml
from lxml import etree

from . import outputs
from .pdfua_check import File, check
from .projects import BIB_MIN, ROOT, make_project, png, section

READER = "north-korea-and-the-world"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FOREIGN = {("segyewha", "ko-Latn"), ("avant le lettre", "fr"), ("Zeitgeist", "de"), ("doboz", "hu")}


@pytest.fixture(scope="module")
def reader(built_reader) -> Path:
    """The demo course reader (built once per session), built without a warning."""
    assert built_reader.warnings == []
    return built_reader.out


def tree(path: Path) -> File:
    return File(pikepdf.open(path))


# -- PDF ------------------------------------------------------------------------------


def test_every_pdf_passes_the_checker_and_claims_pdfua(built, reader):
    for path in (built.pdf, built.out / "juche-pdfa.pdf", reader / f"{READER}.pdf", reader / f"{READER}-pdfa.pdf"):
        assert check(path) == [], path.name
        with pikepdf.open(path) as pdf:
            meta = pdf.open_metadata()
            assert meta.get("pdfuaid:part") == "1", path.name
            assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        assert re.search(r"^Tagged:\s+yes$", info, re.M), path.name


def test_the_pdfa_is_pdfa_3a_and_pdfua_1_with_the_schema_declared(built):
    with pikepdf.open(built.out / "juche-pdfa.pdf") as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance"), meta.get("pdfuaid:part")) == ("3", "A", "1")
        xmp = pdf.Root.Metadata.read_bytes().decode()
    assert "<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>" in xmp


def test_the_press_file_is_tagged_but_claims_nothing(tmp_path):
    """The press file (bleed, crop marks) passes every rule but makes no claim: it is for the printer."""
    from edition.cli import main

    project = make_project(tmp_path, sections={"01-one.md": section("Text.[^1]\n\n[^1]: [@suh1988]\n")}, bib=BIB_MIN)
    assert main(["-q", "--out", str(tmp_path / "dist"), "--format", "pdf", "--press"], project=project) == 0
    assert check(tmp_path / "dist/test-press.pdf") == ["pdfua_identification"]
    assert check(tmp_path / "dist/test.pdf") == []


def test_notes_are_notes_and_their_calls_link_to_them(built):
    f = tree(built.pdf)
    notes = [e for e in f.elements if e.role == "Note"]
    assert [str(n.obj.ID) for n in notes] == [f"juche--note-{n}" for n in range(1, 62)]
    for number, note in enumerate(notes, 1):
        assert note.elements()[0].role == "Lbl" and f.text_of(note.elements()[0]).startswith(f"{number}.")
        siblings = note.parent.elements()
        reference = siblings[siblings.index(note) - 1]
        (link,) = [e for e in reference.walk() if e.role == "Link"]
        (annotation,) = link.annotations()
        assert (str(annotation.Dest), str(annotation.Contents)) == (f"juche--note-{number}", f"Note {number}")
        assert f.text_of(link) == str(number)


def test_contents_are_a_toc_with_one_described_link_per_entry(built, pdf_pages):
    f = tree(built.pdf)
    items = [e for e in f.elements if e.role == "TOCI"]
    assert len(items) == 14
    contents_page = f.pages[1]
    # one link per entry; an entry set on two lines has an annotation per line (issue 22), both alike
    annotations = [(str(a.Dest), str(a.Contents)) for a in contents_page.Annots]
    assert len(dict.fromkeys(annotations)) == 14
    links = {e.obj.objgen: e for item in items for e in item.walk() if e.role == "Link"}.values()
    assert len(links) == 14
    assert all(len({(str(a.Dest), str(a.Contents)) for a in link.annotations()}) == 1 for link in links)
    assert annotations[0][1] == f"Engaging the World, page {_page_of(pdf_pages, 'Engaging the World')}"
    assert not any("." * 3 in f.text_of(e).replace(" ", "") for e in items)


def _page_of(pdf_pages: list[dict], title: str) -> int:
    return next(n for n, p in enumerate(pdf_pages, 1) if n > 2 and title in p["text"])


def test_headings_nest_and_name_no_page_marker(built):
    f = tree(built.pdf)
    headings = [(e.role, f.text_of(e)) for e in f.elements if e.role.startswith("H")]
    roles = [r for r, _ in headings]
    assert roles[:2] == ["H1", "H2"] and roles.count("H1") == 1
    appendix = next(i for i, (_, t) in enumerate(headings) if t == "DOCUMENT APPENDIX")
    assert headings[appendix][0] == "H2"
    assert [r for r, t in headings[appendix + 1 :] if t.startswith("Memorandum") or t.startswith("Report")] == [
        "H3"
    ] * 3
    assert headings[-2:] == [("H2", "Bibliography"), ("H2", "Note on the Text")]
    assert not any("[" in t or "original page" in t for _, t in headings)


def test_foreign_words_carry_their_language(built):
    f = tree(built.pdf)
    assert f.pdf.Root.Lang == "en"
    spans = {(f.text_of(e), str(e.obj.Lang)) for e in f.elements if "/Lang" in e.obj and e.role == "Span"}
    assert spans >= FOREIGN
    found = set()
    for _, data in outputs.epub_spine(built.epub):
        for span in etree.fromstring(data).iter("{*}span"):
            if span.get("lang") and span.get(XML_LANG) == span.get("lang"):
                found.add(("".join(span.itertext()), span.get("lang")))
    assert found >= FOREIGN


def test_hyphenated_words_read_back_whole(built):
    text = subprocess.run(["pdftotext", str(built.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "\u2010" not in text
    assert "commu\u00ad\nniqué" in text  # a soft hyphen: the word is "communiqué"
    assert text.count("\u00ad\n") >= 20


def test_page_markers_read_as_original_pages(built):
    f = tree(built.pdf)
    markers = [e for e in f.elements if "original page" in str(e.obj.get("/ActualText", ""))]
    assert [int(re.search(r"\d+", str(m.obj.ActualText)).group()) for m in markers] == list(range(1, 33))
    for marker in markers:
        assert not any(a.role in ("H1", "H2", "H3", "TH", "Caption", "Link") for a in _ancestors(marker))
    table_marker = markers[3]  # page 4 begins with the table's row for 1974: read after the row before
    assert table_marker.parent.role == "TD"
    labels = []
    for _, data in outputs.epub_spine(built.epub):
        for span in etree.fromstring(data).iterfind(".//{*}span[@data-original-page]"):
            labels.append(span.get("aria-label"))
            names = {etree.QName(a).localname for a in span.iterancestors()}
            assert not names & {"h1", "h2", "h3", "h4", "th", "caption", "a"}, span.get("id")
            assert span.get("role") == "separator" and span.text.endswith(" ")  # "[2] became", not "[2]became"
    assert labels == [f"original page {n}" for n in range(1, 33)]


def _ancestors(element):
    node = element.parent
    while node is not None:
        yield node
        node = node.parent


def test_running_heads_and_folios_are_pagination_artifacts(built):
    f = tree(built.pdf)
    footers = {s.page for s in f.sequences if s.props.get("/Subtype") == "/Footer"}
    headers = {s.page for s in f.sequences if s.props.get("/Subtype") == "/Header"}
    with_text = {s.page for s in f.sequences if s.mcid is not None}
    assert footers == with_text - {0}  # a folio on every page with text but the title page
    assert headers and headers <= footers
    heads = {s.text for s in f.sequences if s.props.get("/Subtype") == "/Header"}
    assert heads == {"“Juche” and North Korea’s Global Aspirations", "Charles K. Armstrong"}


# -- EPUB -----------------------------------------------------------------------------


def _tables(epub: Path) -> tuple[int, int, int]:
    tables = [t for _, data in outputs.epub_spine(epub) for t in etree.fromstring(data).iter("{*}table")]
    return (
        len(tables),
        sum(t.find(".//{*}th") is not None for t in tables),
        sum(t.find("{*}caption") is not None for t in tables),
    )


def test_the_summary_counts_the_tables_each_book_holds(built, reader):
    assert _tables(built.epub) == (2, 2, 1)  # the diplomatic relations, the register
    assert _tables(reader / f"{READER}.epub") == (3, 3, 1)  # and the permissions
    paper = outputs.a11y(built.epub)["schema:accessibilitySummary"][0]
    volume = outputs.a11y(reader / f"{READER}.epub")["schema:accessibilitySummary"][0]
    assert "2 tables (all with header cells, 1 with a caption)" in paper
    assert "3 tables (all with header cells, 1 with a caption)" in volume
    readings = yaml.safe_load((ROOT / "readers" / f"{READER}.yaml").read_text(encoding="utf-8"))["readings"]
    assert f"{len(readings)} readings" in volume
    pdf_readings = sum(1 for r in readings if "pdf" in r)
    assert f"{pdf_readings} reading{'s are' if pdf_readings != 1 else ' is'} printed from a PDF" in volume


def test_the_summary_changes_when_a_table_and_an_image_are_added(tmp_path):
    from edition.cli import main

    plain = section("Text.\n")
    more = section("Text.\n\n::: {.table #t}\nTABLE: A caption\n:::\n\n![A red square](square.png)\n")
    table = {
        "content/test/tables/t.csv": "year,country\n1971,Malta\n",
        "content/test/tables/t.yaml": "columns:\n  year: integer\n  country: text\ngroup_by: year\nlist_column: country\n",
        "content/test/text/square.png": png(4, 4, "red"),
    }
    summaries = []
    for name, body in (("plain", plain), ("more", more)):
        project = make_project(tmp_path / name, sections={"01-one.md": body}, bib=BIB_MIN, extra=table)
        assert main(["-q", "--out", str(project / "dist"), "--format", "epub"], project=project) == 0
        summaries.append(outputs.a11y(project / "dist/test.epub")["schema:accessibilitySummary"][0])
    assert not re.search(r"\d+ tables? \(|\d+ images?", summaries[0])
    assert "1 table (with header cells, with a caption)" in summaries[1]
    assert "It has 1 image, all with a text alternative." in summaries[1]


def test_the_cover_alt_names_every_text_drawn_on_it(built):
    cover = dict(outputs.epub_spine(built.epub))["cover.xhtml"]
    alt = etree.fromstring(cover).find(".//{*}img").get("alt")
    assert alt == (
        "Cover: Juche and North Korea’s Global Aspirations, by Charles K. Armstrong, North Korea International "
        "Documentation Project Working Paper No. 1, Woodrow Wilson International Center for Scholars."
    )


def test_the_ncx_has_the_page_list(built, pdf_pages):
    with zipfile.ZipFile(built.epub) as z:
        ncx = etree.fromstring(z.read("EPUB/toc.ncx"))
    targets = ncx.findall(".//{*}pageList/{*}pageTarget")
    assert [t.get("value") for t in targets] == [str(n) for n in range(1, len(pdf_pages) + 1)]
    nav = etree.fromstring(dict(outputs.epub_spine(built.epub))["nav.xhtml"])
    hrefs = [a.get("href") for a in nav.find(".//{*}nav[@id='page-list']").iter("{*}a")]
    assert [t.find("{*}content").get("src") for t in targets] == hrefs
    assert ncx.find(".//{*}meta[@name='dtb:totalPageCount']").get("content") == str(len(pdf_pages))


def _opaque_colours(css: str) -> dict[str, str]:
    """Selector -> declarations that set an opaque colour (a hex or rgb() value)."""
    rules = dict(re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)))
    opaque = re.compile(r"#[0-9a-fA-F]{3,6}\b|rgb\(|rgba\([^)]*,\s*1(\.0*)?\s*\)")
    return {" ".join(k.split()): v for k, v in rules.items() if opaque.search(v)}


def test_colours_follow_the_readers_theme():
    """No opaque colour in the EPUB's CSS (a fixed grey was 3.66:1 on a night
    theme): markers take the text colour, lighter by opacity; a highlight is a
    translucent grey; the contents and marginal notes are not justified."""
    base = (ROOT / "templates/base.css").read_text()
    epub = (ROOT / "templates/epub/epub.css").read_text()
    overridden = dict(re.findall(r"([^{}]+)\{([^{}]*)\}", re.sub(r"/\*.*?\*/", "", epub, flags=re.S)))
    overridden = {" ".join(k.split()) for k in overridden}
    assert set(_opaque_colours(base)) - overridden == set()  # what the EPUB would show as base.css says
    assert _opaque_colours(epub) == {}
    assert "color-scheme: light dark" in epub
    assert re.search(r"nav, nav li \{ text-align: left;", epub)
    assert re.search(r"\.marginal, \.signature \{ text-align: left; \}", epub)


def test_a_kindle_conversion_keeps_the_navigation_hidden(built, tmp_path):
    if shutil.which("ebook-convert") is None:
        pytest.fail("Calibre's ebook-convert is not installed: run bash .ci/setup")
    azw3, text = tmp_path / "juche.azw3", tmp_path / "juche.txt"
    for source, target in ((built.epub, azw3), (azw3, text)):
        subprocess.run(["ebook-convert", str(source), str(target)], check=True, capture_output=True, timeout=300)
    converted = text.read_text(encoding="utf-8")
    assert "Landmarks" not in converted and "Start of the text" not in converted
    assert not re.search(r"^\s*1\s*\n\s*2\s*\n\s*3\s*$", converted, re.M)  # the page list
    assert "Engaging the World" in converted  # the contents stay
    assert "soon [2] became" in converted  # a marker is not glued to its word


def test_any_structure_the_templates_produce_is_tagged(tmp_path):
    """Lists (nested, numbered), a figure, a quotation, headings three levels
    down, a foreign word, a link and a note: tagged, and passing the checker."""
    from edition.cli import main

    body = section(
        "Intro with a [Wort]{lang=de} and a note.[^1]\n\n## Sub\n\n- one\n- two *more*\n\n1. first\n2. second\n"
        "   - nested\n\n### Deeper\n\n> A quotation.\n\n![A red square](square.png)\n\n#### Deepest\n\n"
        "A [link](https://example.org).\n\n[^1]: [@suh1988, 4]\n"
    )
    project = make_project(
        tmp_path, sections={"01-one.md": body}, bib=BIB_MIN, extra={"content/test/text/square.png": png(4, 4, "red")}
    )
    assert main(["-q", "--out", str(tmp_path / "dist"), "--format", "pdf"], project=project) == 0
    pdf = tmp_path / "dist/test.pdf"
    assert check(pdf) == []
    f = tree(pdf)
    roles = [e.role for e in f.elements]
    assert {"L", "LI", "Lbl", "LBody", "BlockQuote", "Figure", "H3", "H4", "H5", "Note", "Link"} <= set(roles)
    (figure,) = [e for e in f.elements if e.role == "Figure"]
    assert str(figure.obj.Alt) == "A red square"
    assert ("Wort", "de") in {(f.text_of(e), str(e.obj.Lang)) for e in f.elements if "/Lang" in e.obj}
