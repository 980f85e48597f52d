"""Word manuscripts as strangers make them (issue 25's review): what Word
generates around the text (a table of contents, the citation manager's
bibliography, page references), Mendeley's citations, text boxes, pictures
stored twice or described in their title, lists in a row, and text that looks
like Markdown.

One manuscript holding all of these is imported and built once (``--check``);
its EPUB's and PDF's text is compared with Pandoc's reading of the file, each
difference a documented behaviour of the import. The other cases only import.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from lxml import etree

from edition.cli import main
from edition.diagnostics import Collector
from edition.read import bibliography

from . import manuscripts, outputs
from .conftest import ROOT
from .test_import import _epub_notes, _pdf_words, run_cli

t = manuscripts.text_run
field = manuscripts.field
BIBLIOGRAPHY_FIELD = 'ADDIN ZOTERO_BIBL {"uncited":[],"omitted":[],"custom":[]} CSL_BIBLIOGRAPHY'
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'

#: Word's table of contents: a content control holding its heading and the
#: field, each entry a link to a heading's bookmark with a page reference.
CONTENTS = (
    '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/><w:docPartUnique/></w:docPartObj>'
    '</w:sdtPr><w:sdtContent><w:p><w:pPr><w:pStyle w:val="TOCHeading"/></w:pPr>'
    + t("Contents")
    + '</w:p><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> TOC \\o "1-3" '
    '\\h \\z \\u </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:hyperlink w:anchor="_Toc1">'
    + t("Opening")
    + "<w:r><w:tab/></w:r>"
    + field("PAGEREF _Toc1 \\h", t("1"))
    + '</w:hyperlink></w:p><w:p><w:hyperlink w:anchor="_Toc2">'
    + t("References")
    + "<w:r><w:tab/></w:r>"
    + field("PAGEREF _Toc2 \\h", t("3"))
    + '</w:hyperlink></w:p><w:p><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p></w:sdtContent></w:sdt>'
)
TYPED = "Typed as text: C:\\Users\\Ada\\notes, \\textbf, {#id} {.class}, [^1], &amp; &#x41;, $x$ and $$y$$."


def _stranger(path: Path) -> Path:
    mendeley = " ".join(
        [
            t("Mendeley cites "),
            manuscripts.csl_field([(manuscripts.KIM, {"locator": "12", "label": "page"})], "(Kim 2013, 12)", True),
            t(" and "),
            manuscripts.csl_field(
                [(manuscripts.SZALONTAI, {"locator": "118", "label": "page"})], "(Szalontai 2004, 118)", True
            ),
            t("."),
        ]
    )
    blocks = [
        ("", CONTENTS),
        ("Heading 1", '<w:bookmarkStart w:id="1" w:name="_Toc1"/>' + t("Opening") + '<w:bookmarkEnd w:id="1"/>'),
        ("Normal", t(TYPED)),
        ("Normal", t("::: is no fenced div")),
        ("Normal", mendeley),
        ("Normal", t("Words beside a box.") + manuscripts.text_box(t("Words in a box."))),
        ("List Number", t("number one")),
        ("List Number 2", t("number one point one")),
        ("List Number", t("number two")),
        (
            "Normal",
            '<w:bookmarkStart w:id="5" w:name="_Ref100"/>'
            + t("A paragraph referred to.")
            + '<w:bookmarkEnd w:id="5"/>',
        ),
        (
            "Normal",
            t("As said in ")
            + '<w:hyperlink w:anchor="_Ref100">'
            + t("the paragraph on page ")
            + field("PAGEREF _Ref100 \\h", t("2"))
            + "</w:hyperlink>"
            + t("."),
        ),
        ("Normal", manuscripts.picture("rIdPng", title="A red block described in its title only")),
        ("Normal", manuscripts.picture("rIdPng", descr="A red block drawn as a vector", svg_rid="rIdSvg")),
        ("Heading 1", '<w:bookmarkStart w:id="2" w:name="_Toc2"/>' + t("References") + '<w:bookmarkEnd w:id="2"/>'),
        (
            "",
            "<w:p>"
            + field(
                BIBLIOGRAPHY_FIELD,
                t("Kim, Suzy. 2013. Everyday Life.") + "</w:p><w:p>" + t("Szalontai, Balázs. 2004. Crisis."),
            )
            + "</w:p>",
        ),
    ]
    media = {"rIdPng": ("image1.png", manuscripts.png()), "rIdSvg": ("image2.svg", SVG)}
    return manuscripts.word_document(path, blocks, media=media)


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> tuple[Path, Path, str]:
    """The manuscript, the project it is imported into, and what the import said."""
    folder = tmp_path_factory.mktemp("stranger")
    path = _stranger(folder / "Stranger.docx")
    project = folder / "project"
    project.mkdir()
    shutil.copytree(ROOT / "templates", project / "templates")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), contextlib.chdir(project):
        assert main(["--import", str(path)], project=project) == 0, err.getvalue()
    return path, project, err.getvalue()


@pytest.fixture(scope="module")
def stranger_built(stranger) -> Path:
    _, project, _ = stranger
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["stranger", "--check", "-q", "--out", str(project / "dist")], project=project)
    assert status == 0, err.getvalue()
    return project / "dist"


def test_what_word_generates_is_left_out_and_said(stranger):
    _, project, said = stranger
    assert said.splitlines() == [
        f"{stranger[0]}: warning: a text box ('Words in a box.') is now paragraphs after the paragraph it was "
        "anchored to; check its place [import.moved]",
        f"{stranger[0]}: warning: a table of contents (Word's TOC field, made from the text and Word's page "
        "numbers) was left out: the edition makes its own [import.field]",
        f"{stranger[0]}: warning: a page number field (PAGEREF) shows '2', a page of Word's, which the edition's "
        "pages do not keep: its text is kept; check the sentence around it [import.field]",
        f"{stranger[0]}: warning: the heading 'References' and the citation manager's bibliography under it "
        "(2 paragraph(s)) were left out: the build prints the bibliography of the works cited (under its own "
        "heading, 'Bibliography') from the citations' data in the BibTeX file [import.field]",
    ]
    # no "Contents" section made of Word's table of contents, no "References" section left empty
    assert sorted(p.name for p in (project / "content/stranger/text").glob("*.md")) == ["01-opening.md"]


def test_mendeley_citations_of_two_works_stay_two_works(stranger):
    """Mendeley numbers each citation's items from ITEM-1: two citations of two
    works share the id, and Pandoc alone keeps one work for both."""
    _, project, _ = stranger
    path = project / "bib/stranger.bib"
    entries = bibliography.parse(path.read_text(encoding="utf-8"), path, Collector())
    assert sorted(entries) == ["kim2013everyday", "szalontai2004political"]
    text = (project / "content/stranger/text/01-opening.md").read_text(encoding="utf-8")
    assert "[@kim2013everyday, p. 12] and [@szalontai2004political, p. 118]" in text


def test_lists_in_a_row_stay_apart_without_an_empty_paragraph(stranger, stranger_built):
    _, project, _ = stranger
    text = (project / "content/stranger/text/01-opening.md").read_text(encoding="utf-8")
    assert "&nbsp;" not in text and text.count("<!-- -->") == 2
    for _, data in outputs.epub_spine(stranger_built / "stranger.epub"):
        for paragraph in etree.fromstring(data).iter(f"{outputs.XHTML}p"):
            assert "".join(paragraph.itertext()).strip(), etree.tostring(paragraph)


def _expected_words(path: Path) -> list[str]:
    """Pandoc's reading of the manuscript, as the import documents its changes."""
    words, notes = manuscripts.pandoc_reading(path)
    assert notes == []
    text = " ".join(words)
    edits = [
        ("Contents Opening 1 References 3 Opening", "A Short Manuscript Ada Tester Opening"),  # Word's contents out
        (" (Kim 2013, 12) and (Szalontai 2004, 118).", " and."),  # the citations are notes
        ("Words in a box.", "Words beside a box. Words in a box."),  # Pandoc's reader loses the box's paragraph
        ("A red block drawn", "A red block described in its title only A red block drawn"),  # the title is alt text
        (" References Kim, Suzy. 2013. Everyday Life. Szalontai, Balázs. 2004. Crisis.", ""),  # the build's own
    ]
    for before, after in edits:
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return text.split()


def test_the_outputs_hold_the_manuscript_s_words(stranger, stranger_built):
    """Text typed as Markdown syntax, a link holding a page reference (a link
    in a link), a text box, pictures: every word printed as typed, in both
    outputs, and the two citations' notes each name their own work."""
    path = stranger[0]
    expected = _expected_words(path)
    epub = stranger_built / "stranger.epub"
    assert outputs.words_only(outputs.epub_items(epub)) == expected
    printed, printed_notes = _pdf_words(stranger_built / "stranger.pdf")
    assert "".join(printed) == "".join(expected)  # (the PDF splits "2." at the link's end)
    for notes in (_epub_notes(epub), [n for _, n in printed_notes]):
        assert [n[:2] for n in notes] == [["Suzy", "Kim,"], ["Balázs", "Szalontai,"]], notes
    assert TYPED in " ".join(expected)


# -- fields, each on its own -------------------------------------------------------------


def _import(tmp_path: Path, capsys, blocks, notes=(), name="fields.docx"):
    path = manuscripts.word_document(tmp_path / name, blocks, notes=notes)
    project = tmp_path / "project"
    status, out, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0, err
    slug = path.stem
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((project / f"content/{slug}/text").glob("*.md")))
    return path, project, text, err


def test_a_bibliography_without_citation_data_stays_the_author_s_text(tmp_path, capsys):
    """Citations unlinked from Zotero (plain text) and its bibliography field:
    no data for the build to print a bibliography from, so its text stays."""
    bib = field(BIBLIOGRAPHY_FIELD, t("Kim, Suzy. 2013. Everyday Life."))
    _, project, text, err = _import(tmp_path, capsys, [("Normal", t("As Kim says (Kim 2013).")), ("Normal", bib)])
    assert err == []
    assert text.endswith("As Kim says (Kim 2013).\n\nKim, Suzy. 2013. Everyday Life.\n")
    assert not (project / "bib").exists()


@pytest.mark.parametrize(
    ("instruction", "said"),
    [
        ("ADDIN Mendeley Bibliography CSL_BIBLIOGRAPHY", "the citation manager's bibliography (1 paragraph(s)) was"),
        ("ADDIN EN.REFLIST", "the citation manager's bibliography (1 paragraph(s)) was"),
    ],
)
def test_mendeley_and_endnote_bibliographies_are_left_out_beside_their_citations(instruction, said, tmp_path, capsys):
    cite = manuscripts.csl_field([(manuscripts.KIM, {})], "(Kim 2013)", mendeley=True)
    blocks = [("Normal", t("Text ") + cite + t(".")), ("Normal", field(instruction, t("Kim, Suzy. 2013. Life.")))]
    path, _, text, err = _import(tmp_path, capsys, blocks)
    assert "Kim, Suzy" not in text
    assert err == [
        f"{path}: warning: {said} left out: the build prints the bibliography of the works cited (under its own "
        "heading, 'Bibliography') from the citations' data in the BibTeX file [import.field]"
    ]


@pytest.mark.parametrize(
    ("instruction", "what"),
    [
        (
            'TOC \\o "1-3" \\h',
            "a table of contents (Word's TOC field, made from the text and Word's page numbers) "
            "was left out: the edition makes its own",
        ),
        (
            'INDEX \\e "	" \\c "2"',
            "an index (Word's INDEX field, made from the text and Word's page numbers) was "
            "left out: the edition makes no index from Word's index entries",
        ),
    ],
)
def test_word_s_generated_lists_are_left_out(instruction, what, tmp_path, capsys):
    blocks = [
        ("Normal", t("Before.")),
        ("Normal", field(instruction, t("Entry") + "<w:r><w:tab/></w:r>" + t("4"))),
        ("Normal", t("After.")),
    ]
    path, _, text, err = _import(tmp_path, capsys, blocks)
    assert text.endswith("---\nBefore.\n\nAfter.\n")
    assert err == [f"{path}: warning: {what} [import.field]"]


@pytest.mark.parametrize(
    ("instruction", "said"),
    [
        (
            'ADDIN ZOTERO_ITEM CSL_CITATION {"citationID":"x","citationItems":[{"id":9,"uris":["u"]}]}',
            "no data for the works it cites",
        ),
        ('ADDIN ZOTERO_ITEM CSL_CITATION {"citationID":"y", "citationItems": [', "data the import cannot read"),
    ],
)
def test_a_citation_field_that_cites_nothing_readable_stays_its_text(instruction, said, tmp_path, capsys):
    """An old Zotero's field (its items without their data), a damaged one:
    not a citation of a key the build cannot find, but the text it shows."""
    path, project, text, err = _import(
        tmp_path, capsys, [("Normal", t("As argued ") + field(instruction, t("(Nobody 1900, 5)")) + t("."))]
    )
    assert text.endswith("As argued (Nobody 1900, 5).\n")
    assert err == [
        f"{path}: warning: a citation field holds {said}: it is kept as the text it shows, '(Nobody 1900, 5)'; "
        "to make it a citation, add the work to the BibTeX file and write [@key] in its place [import.citation]"
    ]
    assert not (project / "bib").exists()


def test_a_link_to_a_bookmark_the_work_does_not_hold_keeps_its_words(tmp_path, capsys):
    blocks = [
        ("Normal", t("See ") + '<w:hyperlink w:anchor="_Ref404">' + t("the lost table") + "</w:hyperlink>" + t("."))
    ]
    _, _, text, err = _import(tmp_path, capsys, blocks, name="dead.docx")
    assert text.endswith("See the lost table.\n")
    assert err == [
        "content/dead/text/01-a-short-manuscript.md:4: warning: the link on 'the lost table' points to a place in "
        "the manuscript the work does not hold (a bookmark the import cannot place): its words are kept, without "
        "the link; link them again if needed (to a section: [words](#01-file-name)) [import.link]"
    ]


def test_a_character_no_font_draws_is_said_at_its_line(tmp_path, capsys):
    _, _, _, err = _import(
        tmp_path, capsys, [("Normal", t("Fine.")), ("Normal", t("Party 🎉 time."))], name="emoji.docx"
    )
    assert err == [
        "content/emoji/text/01-a-short-manuscript.md:6: warning: U+1F389 PARTY POPPER at column 7 is in no font of "
        "the edition; replace it, or see 'Scripts and fonts' in the README for the scripts the edition sets "
        "[font.missing-glyph]"
    ]


def test_a_picture_shown_twice_without_alt_text_is_named_at_each_place(tmp_path, capsys):
    blocks = [
        ("Normal", manuscripts.picture("rIdPng", descr="A red block")),
        ("Normal", t("Between.")),
        ("Normal", manuscripts.picture("rIdPng")),
    ]
    path = manuscripts.word_document(
        tmp_path / "twice.docx", blocks, media={"rIdPng": ("image1.png", manuscripts.png())}
    )
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0
    assert [e.split(": warning:")[0] for e in err] == ["content/twice/text/01-a-short-manuscript.md:8"]


def test_a_text_box_in_a_note_keeps_the_note_s_words(tmp_path, capsys):
    note = t("The note's words.") + manuscripts.text_box(t("A box in the note."))
    _, _, text, _ = _import(
        tmp_path, capsys, [("Normal", t("Text.") + manuscripts.note_call(1))], [note], "boxnote.docx"
    )
    assert "[^1]: The note's words.\n\n    A box in the note.\n" in text


# -- a LibreOffice manuscript --------------------------------------------------------------

#: A text as LibreOffice keeps it (Flat ODT): footnotes (one of two paragraphs),
#: an endnote, a heading with a bookmark and a cross-reference to it.
FLAT_ODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:meta><dc:title>Zwei Kapitel</dc:title><dc:creator>Lena Office</dc:creator></office:meta>
<office:styles>
 <style:style style:name="Heading_20_1" style:display-name="Heading 1" style:family="paragraph" style:default-outline-level="1"/>
</office:styles>
<office:body><office:text>
<text:h text:style-name="Heading_20_1" text:outline-level="1">Erstes Kapitel</text:h>
<text:p>Der Text.<text:note text:id="ftn1" text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body>
<text:p>Eine Fußnote.</text:p><text:p>Ihr zweiter Absatz.</text:p></text:note-body></text:note> Weiter.<text:note text:id="edn1"
 text:note-class="endnote"><text:note-citation>i</text:note-citation><text:note-body><text:p>Eine Endnote.</text:p></text:note-body></text:note></text:p>
<text:h text:style-name="Heading_20_1" text:outline-level="1"><text:bookmark-start text:name="zwei"/>Zweites Kapitel<text:bookmark-end text:name="zwei"/></text:h>
<text:p>Siehe <text:bookmark-ref text:reference-format="text" text:ref-name="zwei">Zweites Kapitel</text:bookmark-ref>.</text:p>
</office:text></office:body></office:document>
"""


@pytest.fixture(scope="module")
def libreoffice_odt(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("libreoffice")
    (folder / "kapitel.fodt").write_text(FLAT_ODT, encoding="utf-8")
    return manuscripts.libreoffice_copy(folder / "kapitel.fodt", folder / "kapitel.odt")


def test_libreoffice_notes_and_cross_references_come_in_whole(libreoffice_odt, tmp_path, capsys):
    """Pandoc reads each paragraph of a LibreOffice note as a block quotation
    (the note style's indent), and a bookmark in a heading as an id of its own
    (``anchor``): neither is worth a warning, nor may stop the build."""
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(libreoffice_odt)], project, capsys)
    assert status == 0 and err == []
    first = (project / "content/kapitel/text/01-erstes-kapitel.md").read_text(encoding="utf-8")
    assert first.endswith("[^1]: Eine Fußnote.\n\n    Ihr zweiter Absatz.\n\n[^2]: Eine Endnote.\n")
    second = (project / "content/kapitel/text/02-zweites-kapitel.md").read_text(encoding="utf-8")
    assert second.endswith("---\nSiehe [Zweites Kapitel](#02-zweites-kapitel).\n")


def test_a_comment_on_a_note_s_words_is_listed_with_them(tmp_path, capsys):
    commented = '<w:commentRangeStart w:id="3"/>' + t("these words") + '<w:commentRangeEnd w:id="3"/>'
    source = manuscripts.word_document(
        tmp_path / "source.docx",
        [("Normal", t("Text.") + manuscripts.note_call(1))],
        notes=[t("A note on ") + commented],
    )
    comments = (
        f'<w:comments xmlns:w="{manuscripts.W_NS}"><w:comment w:id="3" w:author="Ed Itor">'
        "<w:p><w:r><w:t>Source?</w:t></w:r></w:p></w:comment></w:comments>"
    ).encode()
    path = manuscripts.rewrite_member(source, tmp_path / "noted.docx", "", lambda d: d, {"word/comments.xml": comments})
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0
    assert err == [
        f"{path}: warning: comment by Ed Itor on 'these words' dropped (comments are no part of the text): "
        "'Source?' [import.comment]"
    ]


def test_a_text_box_sharing_a_run_with_words_keeps_them(tmp_path, capsys):
    box = manuscripts.text_box(t("Boxed."))
    shared = box.replace("<w:r>", '<w:r><w:t xml:space="preserve">Same run. </w:t>', 1)
    _, _, text, _ = _import(tmp_path, capsys, [("Normal", t("Before. ") + shared)], name="shared.docx")
    assert text.endswith("---\nBefore. Same run.\n\nBoxed.\n")
