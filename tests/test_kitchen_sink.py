"""The kitchen-sink work (tests/kitchen-sink/): every construct the pipeline
supports, built once into every output and checked there.

Other tests may add files to the work (a numeric table, texts in other
scripts); the checks here hold for whatever it contains.
"""

from __future__ import annotations

import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree, html

from edition.infra.fingerprints import pandoc_path
from edition.outputs.checks import epubcheck as checks

from . import outputs, pdfa_check

SLUG = "kitchen-sink"
XHTML = outputs.XHTML
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"

RAW_SYNTAX = outputs.RAW_SYNTAX


@pytest.fixture(scope="module")
def pdf_text(sink) -> list[str]:
    """The text of each page, as pdftotext reads it."""
    out = subprocess.run(["pdftotext", "-layout", str(sink["pdf"]), "-"], capture_output=True, text=True, check=True)
    return out.stdout.split("\f")[:-1]


@pytest.fixture(scope="module")
def epub_docs(sink) -> dict[str, etree._Element]:
    return {name: etree.fromstring(data) for name, data in outputs.epub_spine(sink["epub"])}


def test_it_builds_without_a_warning(sink):
    assert sink["warnings"] == []
    assert sink["pdf"].exists() and sink["pdfa"].exists() and sink["epub"].exists()


def test_epubcheck_finds_nothing(sink):
    assert checks.epubcheck(sink["epub"].read_bytes(), sink["epub"].name) == []


def test_ace_reports_no_violation(sink, tmp_path):
    report = outputs.ace_report(sink["epub"], tmp_path / "ace")
    assert outputs.violations(report) == []
    assert report["earl:result"]["earl:outcome"] == "pass"


def test_the_pdfa_passes_the_checker(sink):
    assert pdfa_check.check(sink["pdfa"]) == []


def test_every_note_is_on_its_calls_page(sink):
    pages = outputs.pdf_pages(sink["pdf"])
    notes = sorted(n for p in pages for n in p["notes"])
    assert notes == list(range(1, len(notes) + 1)) and len(notes) >= 17
    assert sorted(n for p in pages for n in p["calls"]) == notes
    assert outputs.notes_on_their_pages(sink["pdf"]) == {}


@pytest.mark.parametrize("construct", sorted(RAW_SYNTAX))
def test_no_raw_syntax_in_the_pdf(pdf_text, construct):
    found = [
        (page, m.group(0)) for page, text in enumerate(pdf_text, 1) for m in re.finditer(RAW_SYNTAX[construct], text)
    ]
    assert found == [], f"{construct} syntax printed in the PDF"


@pytest.mark.parametrize("construct", sorted(RAW_SYNTAX))
def test_no_raw_syntax_in_the_epub(epub_docs, construct):
    found = [
        (name, m.group(0))
        for name, root in epub_docs.items()
        for m in re.finditer(RAW_SYNTAX[construct], outputs.block_text(root.find(f"{XHTML}body")))
    ]
    assert found == [], f"{construct} syntax printed in the EPUB"


def test_citations_in_the_running_text_are_notes_numbered_with_the_written_ones(epub_docs):
    doc = epub_docs[f"{SLUG}-01-citations.xhtml"]
    first = doc.find(f".//{XHTML}p")
    text = "".join(first.itertext())
    # the citation's note call follows the sentence's full stop (Pandoc moves it)
    assert "numbered with the written notes.1 Two sources" in text.replace("\n", " ")
    assert "same source starts with Ibid. too.5 A written note comes in its turn.6" in text.replace("\n", " ")
    asides = {a.get("id"): " ".join("".join(a.itertext()).split()) for a in doc.iter(f"{XHTML}aside")}
    assert asides[f"{SLUG}--note-1"] == (
        "1. Dae-Sook Suh, Kim Il Sung: The North Korean Leader (Columbia University Press, 1988), 12."
    )
    assert asides[f"{SLUG}--note-4"] == "4. Ibid., chap. 4."
    assert asides[f"{SLUG}--note-5"] == "5. Ibid., 9."


def test_narrative_and_suppressed_author_citations(epub_docs):
    doc = epub_docs[f"{SLUG}-01-citations.xhtml"]
    paragraph = " ".join("".join(doc.findall(f".//{XHTML}p")[1].itertext()).split())
    # the author's name stays in the text, the rest goes to the note
    assert paragraph.startswith(
        "Kim7 argues that daily life changed; Kim8 adds the detail, and Balázs Szalontai9 reads"
    )
    assert "as Armstrong does, the citation suppresses the name.10" in paragraph
    asides = {a.get("id"): " ".join("".join(a.itertext()).split()) for a in doc.iter(f"{XHTML}aside")}
    assert asides[f"{SLUG}--note-8"] == "8. Ibid., 44."
    assert asides[f"{SLUG}--note-10"] == "10. Juche and North Korea’s Global Aspirations, n. 14."
    assert asides[f"{SLUG}--note-11"] == "11. Ibid., sec. 2."


def test_narrative_citations_inside_notes(epub_docs):
    doc = epub_docs[f"{SLUG}-01-citations.xhtml"]
    asides = [" ".join("".join(a.itertext()).split()) for a in doc.iter(f"{XHTML}aside")]
    inline = next(a for a in asides if a.split(". ", 1)[1].startswith("As Cumings"))
    assert inline.endswith(
        "As Cumings, “The Corporate State in North Korea,” 205 shows, the state was corporate; "
        "compare (Suh, Kim Il Sung, 7)."
    )
    written = next(a for a in asides if "A written note with a narrative citation" in a)
    assert "Charles K. Armstrong, Juche and North Korea’s Global Aspirations" in written
    assert written.endswith(
        "n. 3 describes the model, and a bracketed one follows (see Suzy Kim, “Everyday Life "
        "in the North Korean Revolution” (PhD diss., University of Chicago, 2001), 12)."
    )


def _pandoc_html(project: Path) -> html.HtmlElement:
    """Pandoc's own HTML for the work's text: its Markdown, its BibTeX, its CSL."""
    bodies = []
    for path in sorted((project / "content" / SLUG / "text").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        bodies.append(text.split("---\n", 2)[2])
    style = re.search(r"^csl: (\S+)", (project / "content" / SLUG / "work.yaml").read_text(), re.M).group(1)
    from edition.infra.tools import csl_path

    out = subprocess.run(
        [
            pandoc_path(),
            "-f",
            "markdown",
            "-t",
            "html5",
            "--wrap=none",
            "--citeproc",
            "--csl",
            str(csl_path(style)),
            "--bibliography",
            str(project / "bib" / f"{SLUG}.bib"),
        ],
        input="\n\n".join(bodies),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return html.document_fromstring(out)


def _pandoc_notes(project: Path) -> list[str]:
    notes = []
    for item in _pandoc_html(project).xpath('//section[@id="footnotes"]/ol/li'):
        for back in item.xpath('.//a[contains(@class, "footnote-back")]'):
            back.drop_tree()
        notes.append(" ".join(item.text_content().split()))
    return notes


def test_note_texts_agree_with_pandocs_citeproc(sink, epub_docs):
    """The same Markdown and BibTeX through Pandoc alone gives the same notes,
    except where the edition is right: a written note that opens with "ibid."
    capitalizes it (CMOS 14.34; Pandoc does so only in the notes it makes), and
    Pandoc's BibTeX reader drops the archival fields (archive, archive_place,
    signature) and calls a thesis "PhD thesis" where CMOS has "PhD diss."."""
    ours = []
    for root in epub_docs.values():
        for aside in root.iter(f"{XHTML}aside"):
            ours.append(" ".join("".join(aside.itertext()).split()).split(". ", 1)[1])
    theirs = _pandoc_notes(sink["project"])
    assert len(ours) == len(theirs)
    differ, ibid, archival, untyped = [], 0, 0, 0
    for number, (mine, pandoc) in enumerate(zip(ours, theirs, strict=True), 1):
        if "SAPMO-BA" in mine:  # the archival note: Pandoc loses the archive
            assert "SAPMO-BA" not in pandoc and mine.startswith("Bernd Schaefer, trans., “Memorandum")
            archival += 1
            continue
        pandoc = pandoc.replace("PhD thesis", "PhD diss.")
        if pandoc.startswith("ibid.") and mine == "I" + pandoc[1:]:
            ibid += 1
            continue
        if mine != pandoc and mine.replace("\u201c", "").replace("\u201d", "") == pandoc:
            untyped += 1  # a @misc: Pandoc's BibTeX reader gives it no CSL type, so no quotation marks
            continue
        if mine != pandoc:
            differ.append((number, mine, pandoc))
    assert differ == [], "\n".join(map(repr, differ))
    assert ibid >= 1 and archival >= 1


def test_the_text_around_citations_agrees_with_pandoc(sink, epub_docs):
    """A narrative citation's name in the text, the punctuation moved before a
    citation's note: the paragraphs of the citations section read as Pandoc's."""
    doc = epub_docs[f"{SLUG}-01-citations.xhtml"]
    for call in doc.xpath("//*[@epub:type='noteref']", namespaces={"epub": "http://www.idpf.org/2007/ops"}):
        _drop_keeping_tail(call)
    ours = [" ".join("".join(p.itertext()).split()) for p in doc.find(f".//{XHTML}section").iter(f"{XHTML}p")]
    root = _pandoc_html(sink["project"])
    for ref in root.xpath('//a[contains(@class, "footnote-ref")]'):
        ref.drop_tree()
    theirs = [" ".join(p.text_content().split()) for p in root.xpath("//body/p | //body/blockquote/p")]
    assert ours == theirs[: len(ours)]


def _drop_keeping_tail(element: etree._Element) -> None:
    parent, previous = element.getparent(), element.getprevious()
    tail = element.tail or ""
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def test_cross_references_give_the_page_in_print(pdf_text):
    def page_of(line: str) -> int:
        return next(n for n, text in enumerate(pdf_text, 1) if re.search(rf"(?m)^\s*{re.escape(line)}\s*$", text))

    text = " ".join(" ".join(pdf_text).split())
    # the page follows the link's words after a comma (issue 24: no parentheses inside parentheses)
    europe = re.search(r"the section on Europe, p\. (\d+)", text)
    africa = re.search(r"the one on Africa, p\. (\d+)", text)
    figure = re.search(r"see the map, p\. (\d+)", text)
    implicit = re.search(r"the countries of Africa in the 1970s, p\. (\d+)", text)
    assert europe and africa and figure and implicit
    assert implicit.group(1) == africa.group(1)
    assert int(europe.group(1)) == page_of("Europe")
    assert int(africa.group(1)) == page_of("Africa in the 1970s")
    assert int(figure.group(1)) == page_of("Figure 1. A map of the places named in this section")


def test_cross_references_point_to_the_right_file_in_the_epub(epub_docs):
    ids = {el.get("id"): name for name, root in epub_docs.items() for el in root.iter() if el.get("id")}
    links = [a.get("href") for root in epub_docs.values() for a in root.iter(f"{XHTML}a") if a.get("class") == "xref"]
    assert len(links) >= 4  # three written as links, one an implicit header reference
    for href in links:
        file, fragment = href.split("#")
        assert ids.get(fragment) == file, href
    assert ids[f"{SLUG}--europe"] == f"{SLUG}-02-structure.xhtml"
    assert ids[f"{SLUG}--fig:map"] == f"{SLUG}-03-tables-figures-verse.xhtml"


def test_headings_keep_their_attributes_and_levels(epub_docs):
    doc = epub_docs[f"{SLUG}-02-structure.xhtml"]
    headings = [
        (etree.QName(h).localname, h.get("id"), h.get("class"), "".join(h.itertext()))
        for h in doc.iter()
        if etree.QName(h).localname in ("h3", "h4", "h5")
    ]
    assert headings == [
        ("h3", f"{SLUG}--europe", "region", "Europe"),
        ("h4", f"{SLUG}--the-nordic-countries", None, "The Nordic Countries"),
        ("h5", f"{SLUG}--finland", "unnumbered", "Finland"),
        ("h3", f"{SLUG}--africa-1970s", None, "Africa in the 1970s"),
    ]


def test_tables_have_their_captions_cells_and_alignment(epub_docs):
    doc = epub_docs[f"{SLUG}-03-tables-figures-verse.xhtml"]
    tables = doc.findall(f".//{XHTML}table")
    captions = ["".join(t.find(f"{XHTML}caption").itertext()) for t in tables]
    assert captions == ["Table 1. Diplomatic relations established, by year", "Table 2. Aid missions and what they did"]
    pipe, grid = tables
    assert [c.text for c in pipe.iter(f"{XHTML}th")] == ["Year", "Country", "Region"]
    first_row = pipe.find(f".//{XHTML}tbody/{XHTML}tr")
    assert [(td.text, td.get("style")) for td in first_row] == [
        ("1972", "text-align:right"),
        ("Malta", "text-align:left"),
        ("Europe", "text-align:center"),
    ]
    cells = [" ".join("".join(td.itertext()).split()) for td in grid.iter(f"{XHTML}td")]
    assert cells == ["Ethiopia", "Irrigation and rice farming", "Madagascar", "A presidential palace"]


def test_figure_lists_verse_and_definitions(epub_docs):
    doc = epub_docs[f"{SLUG}-03-tables-figures-verse.xhtml"]
    figure = doc.find(f".//{XHTML}figure")
    assert figure.get("id") == f"{SLUG}--fig:map"
    assert figure.find(f"{XHTML}img").get("alt") == "A map of the places named in this section"
    assert (
        "".join(figure.find(f"{XHTML}figcaption").itertext()) == "Figure 1. A map of the places named in this section"
    )
    verse = doc.find(f".//{XHTML}div[@class='line-block']")
    lines = [line.strip() for line in outputs.block_text(verse).split("\n") if line.strip()]
    assert lines[0] == "The mountains and the rivers of the land,"
    assert "".join(verse.itertext()).count("\u00a0") == 4  # the indented line keeps its indent
    structure = epub_docs[f"{SLUG}-02-structure.xhtml"]
    nested = structure.find(f".//{XHTML}ol/{XHTML}li/{XHTML}ul")
    assert [li.text for li in nested] == ["agricultural experts", "military advisers"]
    terms = [dt.text for dt in structure.iter(f"{XHTML}dt")]
    assert terms == ["Juche", "Chollima"]
    small = structure.find(f".//{XHTML}span[@class='smallcaps']")
    assert small.text == "Small Capitals"
    body = etree.tostring(structure, encoding="unicode")
    assert "editorial comment" not in body and "inline comment" not in body
    assert structure.find(f".//{XHTML}hr") is not None


def test_print_shows_each_construct(pdf_text):
    text = " ".join(" ".join(pdf_text).split())
    for expected in (
        "Diplomatic relations established, by year",
        "Aid missions and what they did",
        "Irrigation and rice farming",
        "The mountains and the rivers of the land,",
        "Embassy of the Hungarian People\u2019s Republic Pyongyang 9 March 1967",  # smart quotes, as Pandoc
        "and of Europe \u2013 the two regions",
        "Juche The doctrine of self-reliance",
        "H2O, 210, code, Small Capitals",
        "A block of code, set as written.",
    ):
        assert expected in text, expected


#: The kitchen sink's samples of each script (text/04-scripts-and-numbers.md): lang, text.
SCRIPT_SAMPLES = {
    "Hangul": ("ko", "대한민국"),
    "Hanja": ("ko", "大韓民國"),
    "Chinese (simplified)": ("zh-Hans", "中华人民共和国"),
    "Chinese (traditional)": ("zh-Hant", "中華民國"),
    "Japanese": ("ja", "きたちょうせん"),
    "Russian": ("ru", "Союз Советских Социалистических Республик"),
    "German": ("de", "Deutsche Demokratische Republik"),
    "Greek": ("grc", "ἐν ἀρχῇ ἦν ὁ λόγος"),
    "Hebrew": ("he", "ירושלים"),
    "Arabic": ("ar", "الجمهورية العربية"),
    "Devanagari": ("hi", "व्यापार"),
    "Vietnamese": ("vi", "Hội An"),
}


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("name", sorted(SCRIPT_SAMPLES))
def test_every_script_reads_back_from_the_pdf(sink, name):
    """pdfplumber reads each sample back (a right-to-left one in either order,
    as text extraction does not reorder it)."""
    import pdfplumber

    _, sample = SCRIPT_SAMPLES[name]
    with pdfplumber.open(sink["pdf"]) as pdf:
        text = " ".join(page.extract_text() or "" for page in pdf.pages)
    text = _words(text.replace("\u2010\n", ""))  # a word hyphenated at a line end, whole again
    words = sample.split()
    assert all(w in text or w[::-1] in text for w in words), name


@pytest.mark.parametrize("name", sorted(SCRIPT_SAMPLES))
def test_every_script_is_in_the_epub_with_its_language(epub_docs, name):
    lang, sample = SCRIPT_SAMPLES[name]
    spans = [
        _words(outputs.block_text(e))
        for doc in epub_docs.values()
        for e in doc.iter()
        if isinstance(e.tag, str)
        and e.get("lang") == lang
        and e.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    ]
    assert sample in spans, name


def test_the_numeric_table_prints_its_totals_aligned(pdf_text, epub_docs):
    page = next(p for p in pdf_text if "Aid pledged by the DPRK" in p)
    rows = {line.split()[0]: line for line in page.splitlines() if line.strip()}
    # decimals on the point: the pledges end in the same column, the total sums them
    ends = {rows[r].index(v) + len(v) for r, v in (("Ethiopia", "12.50"), ("Madagascar", "8.25"), ("Guinea", "9.40"))}
    assert len(ends) == 1
    assert "30.15" in rows["All"] and "100.0" in rows["All"]
    epub = " ".join(_words(outputs.block_text(doc)) for doc in epub_docs.values())
    assert "All recipients 30.15 100.0" in epub


# -- constructs as other authors write them (text/05-other-authors.md) --------------

OTHER = f"{SLUG}-05-other-authors.xhtml"


def test_straight_quotes_print_curly_as_pandoc_prints_them(epub_docs, pdf_text):
    expected = "type \u201cdouble\u201d and \u2018single\u2019 straight quotes, and an author\u2019s apostrophe"
    assert expected in " ".join(outputs.block_text(epub_docs[OTHER]).split())
    assert expected in " ".join(" ".join(pdf_text).split())


def test_a_note_keeps_its_paragraphs_apart(sink, epub_docs):
    """A note of two paragraphs: the second a block of its own in both outputs
    (they used to run together, "note.The second")."""
    import pdfplumber

    notes = [a for doc in epub_docs.values() for a in doc.iter(f"{XHTML}aside")]
    note = next(a for a in notes if "first paragraph of the note" in "".join(a.itertext()))
    second = note.find(f".//{XHTML}span[@class='note-paragraph']")
    assert second is not None and "".join(second.itertext()).startswith("The second paragraph")
    with pdfplumber.open(sink["pdf"]) as pdf:
        page = next(p for p in pdf.pages if "first paragraph of the note" in (p.extract_text() or ""))
        lines = (page.extract_text() or "").splitlines()
    first = next(i for i, line in enumerate(lines) if "The first paragraph of the note." in line)
    assert lines[first].rstrip().endswith("The first paragraph of the note.")
    assert lines[first + 1].lstrip().startswith("The second paragraph of the note")


def test_punctuation_moves_before_the_call_only_as_pandoc_moves_it(epub_docs):
    text = " ".join(etree.tostring(epub_docs[OTHER], method="text", encoding="unicode").split())
    assert re.search(r"as the memorandum says\d+\u201d\.", text), text  # the call stays inside the quotation
    assert re.search(r"Suh\d+\u2019s book", text), text  # the apostrophe stays in its word
    assert re.search(r"a citation\d+\u2014here", text), text


def test_table_caption_attributes_and_cross_references(epub_docs, pdf_text):
    doc = epub_docs[OTHER]
    table = next(t for t in doc.iter(f"{XHTML}table") if t.get("id") == f"{SLUG}--tbl:houses")
    assert "".join(table.find(f"{XHTML}caption").itertext()) == "Table 4. Houses with an identifier of their own."
    hrefs = [a.get("href") for a in doc.iter(f"{XHTML}a") if a.get("class") == "xref"]
    assert f"{OTHER}#{SLUG}--tbl:houses" in hrefs and f"{OTHER}#{SLUG}--fig:harbour" in hrefs
    figure = doc.find(f".//{XHTML}figure")
    assert figure.get("id") == f"{SLUG}--fig:harbour"  # read with its unquoted width=80%
    text = " ".join(" ".join(pdf_text).split())
    assert re.search(r"See the houses, p\. \d+ and the harbour, p\. \d+", text), text


def test_column_groups_head_their_columns(epub_docs, pdf_text):
    doc = epub_docs[OTHER]
    block = next(d for d in doc.iter(f"{XHTML}div") if d.get("id") == f"{SLUG}--delegations")
    first, second = block.findall(f".//{XHTML}thead/{XHTML}tr")
    assert [(th.text.strip(), th.get("scope"), th.get("colspan"), th.get("rowspan")) for th in first] == [
        ("Summit", "col", None, "2"),
        ("Year", "col", None, "2"),
        ("Delegations led by", "colgroup", "2", None),
        ("Observers", "col", None, "2"),  # the column named "no": text, not false
    ]
    assert [th.text for th in second] == ["Heads of state", "Ministers"]
    text = " ".join(" ".join(pdf_text).split())
    assert "Delegations led by" in text and re.search(r"Belgrade 1961 20 5 3", text), text


def test_an_undated_entry_prints_n_d(epub_docs):
    text = " ".join(" ".join(outputs.block_text(d) for d in epub_docs.values()).split())
    assert "Long Live the Friendship of the Peoples,\u201d Leaflet, n.d." in text, text


def test_direction_follows_the_script_a_tag_names(epub_docs):
    spans = {s.get("lang"): s.get("dir") for s in epub_docs[OTHER].iter(f"{XHTML}span") if s.get("lang")}
    assert spans["ar-Latn"] is None  # a romanization of Arabic
    assert spans["jrb"] == "rtl"  # Judaeo-Arabic, in Hebrew letters
    assert spans["hi"] is None and spans["vi"] is None


def test_a_title_in_markdown_prints_its_markup_and_its_text_elsewhere(sink, epub_docs, pdf_text):
    """A section title with *emphasis*: emphasis in the heading, plain text in
    the contents, the navigation and the running heads, never an asterisk."""
    heading = epub_docs[OTHER].find(f".//{XHTML}h2")
    assert heading.get("data-title") == "Other Authors’ Habits, Pandoc Style"
    assert heading.find(f"{XHTML}em").text == "Pandoc"
    with zipfile.ZipFile(sink["epub"]) as z:
        nav = z.read("EPUB/nav.xhtml").decode()
    assert "Other Authors’ Habits, Pandoc Style" in nav
    contents = " ".join(" ".join(pdf_text[:3]).split())
    assert "Other Authors’ Habits, Pandoc Style" in contents
    assert "*" not in nav and "*" not in contents
