"""The working paper built end to end: what a publisher checks in the outputs."""

from __future__ import annotations

import csv
import re
import subprocess
import zipfile

import pikepdf
import pytest
from lxml import etree

from . import outputs
from .projects import ROOT

COUNTRIES = [r["country"] for r in csv.DictReader((ROOT / "content/juche/tables/diplomatic-relations.csv").open())]
SECTIONS = [
    "Engaging the World",
    "A Global Development Model",
    "Joining the Third World",
    "The Vietnam War",
    "The Indian Summer of World Revolution",
    "North Koreans in Ethiopia",
    "“Victory” at the United Nations",
    "The Limits of North Korea-style “Globalization”",
]


def test_outputs_exist(built):
    assert built.pdf.stat().st_size > 50_000
    assert built.epub.stat().st_size > 50_000
    assert built.pdf.read_bytes().startswith(b"%PDF-")


def test_clean_build_logs_no_warning(built):
    assert [r.getMessage() for r in built.warnings] == []


def test_every_note_is_on_the_page_of_its_call(pdf_pages):
    call_page = {n: i for i, page in enumerate(pdf_pages, 1) for n in page["calls"]}
    note_page = {n: i for i, page in enumerate(pdf_pages, 1) for n in page["notes"]}
    assert sorted(call_page) == list(range(1, 62))
    assert sorted(note_page) == list(range(1, 62)), "a note is missing from the PDF"
    misplaced = {n: (call_page[n], note_page[n]) for n in call_page if call_page[n] != note_page[n]}
    assert misplaced == {}


def test_notes_text_in_the_pdf(pdf_pages):
    text = " ".join(p["text"] for p in pdf_pages)
    assert "Charles K. Armstrong, Juche and North Korea’s Global Aspirations" in text.replace("\n", " ")
    assert "Ibid., n. 2." in text
    assert "printed below as Document No. 3, p." in text.replace("\n", " ")


def _heading_pages(pdf_pages) -> dict[str, int]:
    pages = {}
    for number, page in enumerate(pdf_pages, 1):
        for line in page["lines"]:
            pages.setdefault(" ".join(line), number)
    return pages


def test_table_of_contents_page_numbers_are_where_the_headings_land(pdf_pages):
    toc = pdf_pages[1]["text"]
    assert "Contents" in toc
    lines = {" ".join(p["lines"][0]) if p["lines"] else "" for p in pdf_pages}
    assert lines
    headings = _heading_pages(pdf_pages)
    for title in SECTIONS + ["DOCUMENT APPENDIX"]:
        entry = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", toc, re.M)
        assert entry, f"{title} is not in the contents"
        assert headings[title] == int(entry.group(1)), title


def _in_order(text: str, names: list[str]) -> list[str]:
    """The names not found in ``text`` after the one before them."""
    missing, position = [], text.find("TABLE: DPRK Establishment")
    for name in names:
        found = text.find(name, position)
        if found < 0:
            missing.append(name)
        else:
            position = found + len(name)
    return missing


def test_the_table_lists_66_countries_in_order_in_both_outputs(built, pdf_pages):
    assert len(COUNTRIES) == 66
    pdf_text = " ".join(outputs.join_lines([line for p in pdf_pages for line in p["lines"]]))
    epub_text = " ".join(outputs.words_only(outputs.epub_items(built.epub)))
    assert _in_order(pdf_text, COUNTRIES) == []
    assert _in_order(epub_text, COUNTRIES) == []


def test_table_has_header_cells_and_caption_in_the_epub(built):
    xhtml = dict(outputs.epub_spine(built.epub))["juche-02-a-global-development-model.xhtml"]
    root = etree.fromstring(xhtml)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    table = root.find(".//h:table", ns)
    assert table.find("h:caption", ns) is not None
    assert len(table.findall(".//h:thead//h:th[@scope='col']", ns)) == 2
    rows = table.findall(".//h:tbody/h:tr", ns)
    assert [r.find("h:th", ns).xpath("string()").strip()[-4:] for r in rows] == [str(y) for y in range(1971, 1981)]


def test_regional_totals_are_checked_against_the_data(built):
    xhtml = dict(outputs.epub_spine(built.epub))["juche-02-a-global-development-model.xhtml"].decode()
    assert "Editorial note." in xhtml
    assert "10, 10, 3, 14, 26" in re.sub(r"\s+", " ", xhtml)


def test_three_documents_with_their_source_lines(built, pdf_pages):
    spine = dict(outputs.epub_spine(built.epub))
    pdf_text = re.sub(r"\s+", " ", " ".join(p["text"] for p in pdf_pages))
    for number, source in (
        (1, "[Source: MOL, XIX-J-1-j Korea, 1967, 61. doboz, 1, 002130/1967."),
        (2, "[Source: SAPMO-BA, DY 30, J IV 2/2A/2123. Obtained for NKIDP by Bernd Schaefer"),
        (3, "[Source: SAPMO-BA, DY 30, 2460. Obtained and translated for NKIDP by Bernd"),
    ):
        xhtml = spine[f"juche-document-{number}.xhtml"].decode()
        assert f"DOCUMENT No. {number}" in xhtml
        assert source in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", xhtml))  # words, not the language markup
        assert source in pdf_text


def test_each_document_starts_a_new_page(pdf_pages):
    for number in (1, 2, 3):
        label = f"DOCUMENT No. {number}"
        opening = [i for i, p in enumerate(pdf_pages) if any(label in " ".join(line) for line in p["lines"][:2])]
        anywhere = [i for i, p in enumerate(pdf_pages) if any(label in " ".join(line) for line in p["lines"])]
        assert len(opening) == 1 and opening == anywhere, label


def test_bibliography_lists_every_cited_work_once(built):
    xhtml = dict(outputs.epub_spine(built.epub))["juche-bibliography.xhtml"].decode()
    entries = re.findall(r'<li class="csl-entry" id="juche--ref-([^"]+)"', xhtml)
    # CMOS 18 leaves unpublished speeches out of the bibliography (14.115)
    assert sorted(entries) == sorted(["armstrong2009juche", "hungary1967report", "sed1977report", "sed1984memorandum"])
    assert len(entries) == len(set(entries))


def test_epubcheck_reports_no_error_and_no_warning(built):
    check = outputs.epubcheck(built.epub)
    problems = [f"{m.level} {m.id} {m.location}: {m.message}" for m in check.messages]
    assert problems == []
    assert check.valid


def test_epub_package_metadata(built):
    with zipfile.ZipFile(built.epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    ns = {"dc": "http://purl.org/dc/elements/1.1/", "opf": "http://www.idpf.org/2007/opf"}
    get = lambda name: [e.text for e in opf.iterfind(f".//dc:{name}", ns)]  # noqa: E731
    assert get("title") == ["Juche and North Korea’s Global Aspirations"]
    assert get("creator") == ["Charles K. Armstrong"]
    assert get("contributor") == ["Christian F. Ostermann"]
    assert get("language") == ["en"]
    assert get("publisher") == ["Woodrow Wilson International Center for Scholars"]
    assert get("identifier") == ["urn:uuid:6f1f8f2e-3a52-4c1e-9a57-2d1f0d7c9a01"]
    assert get("rights") and get("description") and get("date") == ["2009-04"]
    series = opf.find(".//opf:meta[@property='belongs-to-collection']", ns)
    assert series.text == "North Korea International Documentation Project Working Paper"


def test_epub_notes_are_footnote_asides_with_back_links(built):
    xhtml = dict(outputs.epub_spine(built.epub))["juche-01-engaging-the-world.xhtml"].decode()
    assert 'epub:type="noteref" role="doc-noteref" id="juche--noteref-1" href="#juche--note-1"' in xhtml
    assert '<aside class="footnote" epub:type="footnote" role="doc-footnote" id="juche--note-1">' in xhtml
    assert 'href="#juche--noteref-1" role="doc-backlink"' in xhtml


def test_pdf_metadata(built):
    with pikepdf.open(built.pdf) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]) == "Juche and North Korea’s Global Aspirations"
        assert str(info["/Author"]) == "Charles K. Armstrong"
        assert str(info["/Keywords"])
        outline = [item.title for item in pdf.open_outline().root]
    assert outline[: len(SECTIONS)] == SECTIONS
    assert "DOCUMENT APPENDIX" in outline


def test_pdf_embeds_only_the_edition_font(built):
    report = subprocess.run(["pdffonts", str(built.pdf)], capture_output=True, text=True, check=True).stdout
    rows = report.splitlines()[2:]
    assert rows
    for row in rows:
        assert "Charis-Edition" in row, row
        assert re.search(r"\byes\s+yes\s+yes\b", row), f"not embedded, subset and with ToUnicode: {row}"


@pytest.mark.parametrize("word", ["Yi Chu-yŏn", "Balázs Szalontai", "Eisenhüttenstadt", "István Kádas"])
def test_latin_extended_text_survives(pdf_pages, word):
    assert word in " ".join(outputs.join_lines([line for p in pdf_pages for line in p["lines"]]))
