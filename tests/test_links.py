"""Every number a reader looks up is right and every link can be clicked
(issue 22), on the paper and the demo course reader, read back from the files
with tools that are not the project's own (``tests/invariants.py``).

An audit found, while every other test passed: link annotations of no height
(every note call, every wrapped link), so that Chrome's viewer missed them; a
reader's contents and permissions page giving pages the layout had moved
("Bibliography … 16" for a heading on page 17); a table's header row repeated
on a new page tagged into the same header cells ("Transcript Transcript");
EPUB headings named with the print page-break marker in them ("3 Engaging the
World"); a caption that swallowed its note's call ("…, 1971 – 198014"); links
described as ", page 5"; grafted header cells missing from the ID tree; and
contents entries read as "Engaging the World3".
"""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.layout.engine import lay_out
from edition.layout.preflight import preflight
from edition.outputs.checks import pdfua as pdfua_check
from edition.pipeline import Options, build_date, run
from edition.read.work import read_work
from edition.render.environment import environment
from edition.render.print_html import print_html
from edition.resolve.edition import resolve_work, single_work_edition

from . import generated, invariants
from .cdp import Browser
from .projects import BIB_MIN, make_project, reader_head, section

READER = "north-korea-and-the-world"
BOOKS = ["juche.pdf", "juche-pdfa.pdf", f"{READER}.pdf", f"{READER}-pdfa.pdf"]


@pytest.fixture(scope="module")
def files(built, built_reader) -> dict[str, Path]:
    """The paper's and the demo reader's outputs (Letter), by file name."""
    return {path.name: path for folder in (built.out, built_reader.out) for path in folder.iterdir()}


@pytest.fixture(scope="module")
def pdfs(files):
    """Each PDF read once for the module (its glyphs are read once)."""
    opened = {name: invariants.Pdf(files[name]) for name in BOOKS}
    yield opened
    for pdf in opened.values():
        pdf.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


# -- links ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", BOOKS)
def test_every_link_has_an_area_over_its_glyphs(pdfs, name):
    """A note call's rectangle has height; a wrapped link has an area on each
    of its lines (WeasyPrint writes a rectangle's top before its bottom, and
    the union of a wrapped link's boxes had none)."""
    assert invariants.link_areas(pdfs[name]) == []


@pytest.mark.parametrize("name", BOOKS[::2])
def test_pdfium_finds_every_link_where_its_text_is(pdfs, name):
    """As Chrome's viewer does: at each glyph of a link's text, the link."""
    assert invariants.link_hits(pdfs[name]) == []


@pytest.mark.parametrize("name", BOOKS[::2])
def test_every_link_leads_where_its_description_says(pdfs, name):
    """A page in a description is the page the link leads to and prints; a
    permissions link says what it leads to, not ", page 5"; a link that wraps
    keeps its page in its description (note 60 of the reader)."""
    pdf = pdfs[name]
    assert invariants.link_destinations(pdf) + invariants.described_links(pdf) == []


def test_a_wrapped_link_in_a_note_keeps_its_page(pdfs):
    """Note 60's link wraps: its description said "Document No. 2," (", p. 25" lost)."""
    pdf = pdfs[f"{READER}.pdf"]
    wrapped = [group for group in invariants.link_groups(pdf) if len(group) > 1 or len(group[0].quads) > 1]
    assert wrapped, "the reader has a link that wraps onto a second line"
    contents = [link.contents for group in wrapped for link in group]
    assert all(invariants.PAGE_IN_DESCRIPTION.search(text) for text in contents), contents


# -- printed page numbers ------------------------------------------------------------


@pytest.mark.parametrize("name", BOOKS[::2])
def test_the_contents_give_the_pages_of_their_headings(pdfs, name):
    """On Letter the reader's contents said "Bibliography … 16" for a heading
    on page 17: WeasyPrint's target-counter was stale (edition/layout/pagerefs.py)."""
    assert invariants.contents_numbers(pdfs[name]) == []


def test_the_permissions_page_the_csv_and_the_epub_agree(files):
    """The permissions page said 5–17 where the CSV and the EPUB said 5–18."""
    assert invariants.permissions(files[f"{READER}.pdf"].parent, READER) == []


def test_preflight_reports_a_printed_page_that_is_not_the_page(tmp_path):
    """A page number printed after a link that is not its target's page is a
    preflight fault, named with the page, the target and both numbers."""
    project = make_project(
        tmp_path,
        sections={"01-one.md": section("One.\n"), "02-two.md": section("Two.\n", "Two")},
        bib=BIB_MIN,
    )
    edition = single_work_edition(resolve_work(read_work(project, "test")))
    options = Options(project=project, out=tmp_path / "dist")
    html = print_html(edition, environment(project / "templates"), options, build_date(edition))
    report = preflight(lay_out(html, project))
    assert report.faults["page_numbers"] == []
    # the contents print page 9 for the second section (the stylesheet's written-out number)
    wrong = html.replace('href="#test--02-two"', 'href="#test--02-two" data-page="9"', 1)
    report = preflight(lay_out(wrong, project))
    assert report.faults["page_numbers"] == [{"page": 2, "target": "test--02-two", "printed": 9, "target_page": 3}]


# -- the structure tree --------------------------------------------------------------


@pytest.mark.parametrize("name", BOOKS)
def test_header_cells_are_read_once_and_found_by_their_ids(pdfs, name):
    """A header row repeated on a new page is a pagination artifact, not the
    header cells' text again; a grafted reading's header cells are in the ID tree."""
    assert invariants.table_headers(pdfs[name]) == []


@pytest.mark.parametrize("name", BOOKS[::2])
def test_contents_entries_read_their_page_apart(pdfs, name):
    assert invariants.contents_read(pdfs[name]) == []


@pytest.mark.parametrize("name", BOOKS[::2])
def test_headings_and_captions_are_named_by_their_words(pdfs, name):
    """The table's caption held note 14's call and its note ("…, 1971 –
    198014 Ibid."): the call and the note are read after the table."""
    assert invariants.heading_names(pdfs[name]) == []


def test_the_checker_finds_a_header_cell_missing_from_the_id_tree(files, tmp_path):
    """The PDF/UA checker's ``table_headers`` rule looks each header cell up in
    the ID tree (it passed the reader whose grafted cells were not there)."""
    broken = tmp_path / "broken.pdf"
    with pikepdf.open(files[f"{READER}.pdf"]) as pdf:
        index = pikepdf.NameTree(pdf.Root.StructTreeRoot.IDTree)
        grafted = [key for key in index if key.startswith("r2-")]
        assert grafted
        del index[grafted[0]]
        pdf.save(broken)
    assert "table_headers" not in pdfua_check.check(files[f"{READER}.pdf"])
    assert "table_headers" in pdfua_check.check(broken)


# -- the EPUB -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["juche.epub", f"{READER}.epub"])
def test_epub_headings_and_tables_are_named_by_their_words(files, browser, name):
    """Chromium's accessibility tree: no heading named "3 Engaging the World"
    (the page-break marker stands before the heading), no table named
    "…, 1971 – 198014" (the caption's note call)."""
    assert invariants.epub_heading_markup(files[name]) == []
    assert invariants.epub_names(files[name], browser) == []


def test_page_breaks_are_read_before_named_elements_in_valid_places():
    """The rule for where a page-break marker stands, on markup of each kind:
    before a heading; at the end of the description before a term (a list
    holds terms and descriptions only); before a navigation, never in it."""
    from lxml import etree

    from edition.outputs.pdf.markers import relocate_xhtml

    def marker(page: int) -> str:
        return f'<span epub:type="pagebreak" role="doc-pagebreak" id="page-{page}" aria-label="{page}"/>'

    xhtml = (
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
        f"<h2>{marker(3)}Engaging the World</h2>"
        f"<dl><dt>One</dt><dd>First.</dd><dt>{marker(4)}Two</dt><dd>Second.</dd></dl>"
        f'<nav epub:type="toc"><h1>Contents</h1><ol><li><a href="a.xhtml">{marker(5)}Entry</a></li></ol></nav>'
        "</body></html>"
    )
    root = etree.fromstring(relocate_xhtml(xhtml.encode()))
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    parents = {m.get("id"): etree.QName(m.getparent()).localname for m in root.iterfind(".//x:span", ns)}
    following = {m.get("id"): m.getnext() for m in root.iterfind(".//x:span", ns)}
    assert parents == {"page-3": "body", "page-4": "dd", "page-5": "body"}
    assert etree.QName(following["page-3"]).localname == "h2"
    assert etree.QName(following["page-5"]).localname == "nav"
    assert following["page-4"] is None  # the last thing of the description "First."
    assert [etree.QName(e).localname for e in root.find(".//x:nav", ns)] == ["h1", "ol"]


# -- found by the generated works (tests/test_generated.py), shrunk by hand ----------


def test_a_space_between_a_note_call_and_a_link_is_read(tmp_path):
    """ "… neutral republic[^5] [congress reform](#…) market" was read
    "republiccongress": WeasyPrint draws no glyph for a box that is only a
    space (here between the call and the link), so the structure tree lost it."""
    body = "Neutral republic[^1] [congress reform](#02-two) market.\n\n[^1]: A note.\n"
    project = make_project(
        tmp_path, sections={"01-one.md": section(body), "02-two.md": section("Two.\n", "Two")}, bib=BIB_MIN
    )
    run(Options(project=project, out=tmp_path / "dist", formats=("pdf",)))
    with invariants.Pdf(tmp_path / "dist/test.pdf") as pdf:
        assert invariants.reading_order(pdf, ["Neutral republic congress reform market."]) == []


def test_a_pdf_reading_printed_by_chromium_builds_and_keeps_the_invariants(tmp_path, browser):
    """Chromium's print-to-PDF tags a header cell with an array of attribute
    dictionaries (``/A [<</O /Table /Scope /Column>> …]``); the PDF/UA checker
    read ``/A`` as one dictionary and the build ended in an internal error."""
    reading = generated.PdfReading("chromium", 1, 1, 1, "A Printed Handout")
    reader = (
        reader_head("A Reader")
        + "bibliography: test.bib\nreadings:\n  - pdf: readings/handout.pdf\n    cite: suh1988\n"
    )
    extra = {"readers/r.yaml": reader, "readers/readings/handout.pdf": generated.make_pdf(reading, browser)}
    project = make_project(tmp_path, bib=BIB_MIN, extra=extra)
    assert main(["-q", "--out", str(tmp_path / "dist"), "r"], project=project) == 0
    assert invariants.pdf_problems(tmp_path / "dist/r.pdf") == []


def test_a_link_set_on_two_lines_leaves_the_links_beside_it_clickable(tmp_path):
    """Found by the generated works: one annotation per wrapped link, its
    rectangle spanning both lines (with a quad for each), lay over the link
    before it on its first line, and PDFium (Chrome's viewer), which finds a
    link by its rectangle alone (the last annotation first), took the one for
    the other."""
    long_link = " ".join(["[a cross-reference whose words run on past the end of a line"] + ["and on"] * 8)
    body = f"Some words to begin with, [the one before](#03-three) and {long_link}](#02-two) and more words.\n"
    sections = {
        "01-one.md": section(body),
        "02-two.md": section("Two.\n", "Two"),
        "03-three.md": section("3.\n", "Three"),
    }
    project = make_project(tmp_path, sections=sections, bib=BIB_MIN)
    run(Options(project=project, out=tmp_path / "dist", formats=("pdf",)))
    with invariants.Pdf(tmp_path / "dist/test.pdf") as pdf:
        groups = invariants.link_groups(pdf)
        assert any(len(group) > 1 or len(group[0].quads) > 1 for group in groups), "the first link wraps"
        assert invariants.link_hits(pdf) + invariants.link_areas(pdf) == []


def test_a_contents_entry_set_on_two_lines_keeps_the_pdfua_claim(tmp_path):
    """Found by the slow run of the generated works: a contents entry that
    wraps (a long document title) has an annotation on each line, and the
    PDF/UA checker took two annotations of one entry on one page for
    WeasyPrint's overlapping ones: the file was not claimed as PDF/UA-1."""
    title = " ".join(["A Title Long Enough to Run On Past the End of the Line"] * 3)
    sections = {"01-one.md": section("One.\n"), "02-two.md": section("Two.\n", title)}
    project = make_project(tmp_path, sections=sections, bib=BIB_MIN)
    run(Options(project=project, out=tmp_path / "dist", formats=("pdf",)))
    with invariants.Pdf(tmp_path / "dist/test.pdf") as pdf:
        entry = [link for link in pdf.links if link.contents.startswith(title)]
        assert len(entry) == 2 and entry[0].page == entry[1].page, "the entry is set on two lines of one page"
    assert invariants.pdf_problems(tmp_path / "dist/test.pdf") == []


def test_a_work_excerpted_twice_has_each_excerpt_in_the_contents(tmp_path):
    """Found by the slow run of the generated works: a reader that excerpts one
    section of a work twice prints its title and headings twice; the contents
    gave each its page (11 and 13), and the invariant, which looks for each
    entry after the one before, found the second excerpt's on the first's page."""
    reader = (
        reader_head("A Reader")
        + "bibliography: test.bib\nreadings:\n"
        + "  - work: test\n    sections: [01-one]\n    permissions: Reproduced by permission.\n" * 2
    )
    sections = {"01-one.md": section("One.\n", "Envoy Envoy"), "02-two.md": section("Two.\n", "Two")}
    project = make_project(tmp_path, sections=sections, bib=BIB_MIN, extra={"readers/r.yaml": reader})
    assert main(["-q", "--format", "pdf", "--out", str(tmp_path / "dist"), "r"], project=project) == 0
    with invariants.Pdf(tmp_path / "dist/r.pdf") as pdf:
        entries = [e for e in invariants.contents_entries(pdf) if e.title == "Envoy Envoy"]
        assert len(entries) == 2 and entries[0].number != entries[1].number, entries
        assert invariants.contents_numbers(pdf) == []
