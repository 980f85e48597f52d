"""The EPUB for readers: print page numbers, accessibility, notes, Ace."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from . import outputs
from .projects import BIB_MIN, make_project, png, section

TEXT_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td", "th", "caption"}


assert_markers_match_pages = outputs.assert_markers_match_pages


def test_each_marker_precedes_the_first_word_of_its_pdf_page(built):
    assert_markers_match_pages(built.pdf, built.epub)


def test_page_list_lists_every_page_in_order(built, pdf_pages):
    nav = dict(outputs.epub_spine(built.epub))["nav.xhtml"]
    root = etree.fromstring(nav)
    page_list = root.find(".//{*}nav[@id='page-list']")
    entries = [(a.text, a.get("href")) for a in page_list.iter("{*}a")]
    assert [int(t) for t, _ in entries] == list(range(1, len(pdf_pages) + 1))
    spine = dict(outputs.epub_spine(built.epub))
    for _text, href in entries:
        file, fragment = href.split("#")
        assert f'id="{fragment}"' in spine[file].decode(), href


#: Where a page that begins with one is marked just before it: a heading (or
#: the navigation it heads) is named by its words alone (DPUB-ARIA places
#: ``doc-pagebreak`` before a heading).
NAMED_BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "nav", "table"}


def test_markers_stand_inside_text_blocks_or_before_a_heading(built):
    count = 0
    for _, data in outputs.epub_spine(built.epub):
        for marker in etree.fromstring(data).iterfind(".//{*}span[@role='doc-pagebreak']"):
            ancestors = {etree.QName(a).localname for a in marker.iterancestors()}
            following = marker.getnext()
            before = following is not None and etree.QName(following).localname in NAMED_BLOCKS
            assert ancestors & (TEXT_BLOCKS - NAMED_BLOCKS) or before, marker.get("id")
            assert not ancestors & {"h1", "h2", "h3", "h4", "h5", "h6"}, marker.get("id")
            assert marker.get("aria-label") == marker.get("id").removeprefix("page-")
            count += 1
    assert count == len(outputs.pdf_page_first_words(built.pdf))


def test_page_source_metadata(built):
    opf = outputs.opf(built.epub)
    source = opf.findtext(".//{http://purl.org/dc/elements/1.1/}source")
    assert source and source.startswith("urn:uuid:")
    assert opf.find(".//{*}meta[@property='pageBreakSource']").text == source
    features = {m.text for m in opf.iterfind(".//{*}meta[@property='schema:accessibilityFeature']")}
    assert {"printPageNumbers", "pageNavigation", "pageBreakMarkers", "tableOfContents"} <= features


def test_a4_epub_follows_the_a4_pages(a4, built):
    assert_markers_match_pages(a4.pdf, a4.epub)
    assert outputs.epub_page_starts(a4.epub) != outputs.epub_page_starts(built.epub)


def test_a4_notes_are_on_the_page_of_their_call(a4):
    pages = outputs.pdf_pages(a4.pdf)
    calls = {n: i for i, p in enumerate(pages) for n in p["calls"]}
    notes = {n: i for i, p in enumerate(pages) for n in p["notes"]}
    assert sorted(calls) == sorted(notes) == list(range(1, 62))
    assert {n: (calls[n], notes[n]) for n in calls if calls[n] != notes[n]} == {}


def test_accessibility_metadata_of_the_paper(built):
    meta = outputs.a11y(built.epub)
    assert meta["schema:accessMode"] == ["textual"]  # no images but the cover
    assert meta["schema:accessModeSufficient"] == ["textual"]
    assert "alternativeText" in meta["schema:accessibilityFeature"]
    assert meta["schema:accessibilityHazard"] == ["none"]
    assert meta["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    summary = meta["schema:accessibilitySummary"][0]
    assert (
        "8 chapters" in summary
        and "61 notes" in summary
        and f"{len(outputs.pdf_page_first_words(built.pdf))} pages" in summary
    )


@pytest.mark.parametrize("alt", ["A red square", ""])
def test_alternative_text_follows_the_images(tmp_path, alt):
    """An image has alt text (an image without is refused, md.alt-text), and the
    accessibility metadata says so."""
    from edition.cli import main

    body = section(f"A figure:\n\n![{alt}](square.png)\n")
    project = make_project(
        tmp_path, sections={"01-one.md": body}, bib=BIB_MIN, extra={"content/test/text/square.png": png(4, 4, "red")}
    )
    status = main(["-q", "--out", str(tmp_path / "dist"), "--format", "epub"], project=project)
    if not alt:
        assert status == 2 and not (tmp_path / "dist").exists()
        return
    assert status == 0
    meta = outputs.a11y(tmp_path / "dist/test.epub")
    assert "visual" in meta["schema:accessMode"]
    assert "alternativeText" in meta["schema:accessibilityFeature"]
    assert meta["schema:accessModeSufficient"] == ["textual"]
    assert "dcterms:conformsTo" in meta
    names = [n for n, _ in outputs.epub_spine(tmp_path / "dist/test.epub")]
    assert "test-01-one.xhtml" in names


def test_every_document_has_its_language(built):
    for name, data in outputs.epub_spine(built.epub):
        root = etree.fromstring(data)
        assert root.get("lang") == "en" and root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en", name
    assert outputs.opf(built.epub).get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_note_markup_for_every_reader(built):
    """noteref -> an aside footnote later in the same file, id on the aside,
    the back link first in the note, short notes (Kobo's, Apple's and Kindle's
    conditions for pop-ups)."""
    for name, data in outputs.epub_spine(built.epub):
        text = data.decode()
        for number in re.findall(r'id="juche--noteref-(\d+)"', text):
            ref = text.index(f'id="juche--noteref-{number}"')
            aside = text.index(
                f'<aside class="footnote" epub:type="footnote" role="doc-footnote" id="juche--note-{number}">'
            )
            assert aside > ref, (name, number)
            note = text[aside : text.index("</aside>", aside)]
            assert re.search(rf'<p><a class="note-number" href="#juche--noteref-{number}" role="doc-backlink"', note)
            assert len(re.sub(r"<[^>]+>", "", note)) < 5000


def test_ace_reports_no_violation(built, tmp_path):
    report = outputs.ace_report(built.epub, tmp_path / "ace")
    assert outputs.violations(report) == []
    assert report["earl:result"]["earl:outcome"] == "pass"
