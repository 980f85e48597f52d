"""Typography a press signs off: the page-by-page review's faults, measured on
the real outputs, the make-up of pages, each new preflight fault provoked once,
and pictures of chosen pages compared with reviewed ones (tests/golden/).

Regenerate the pictures on purpose, after reviewing the pages:
    python -m pytest tests/test_typography.py -k golden --update-golden
"""

from __future__ import annotations

import functools
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image, ImageChops

from edition.layout import makeup as pagefit
from edition.layout.preflight import preflight
from edition.layout.vocabulary import is_number, words
from edition.read.work import read_work
from edition.render.contents import document_entry

from . import outputs, stress
from .builds import first_layout, typesetting
from .projects import BIB_MIN, DEMO_READER, ROOT, make_project, section

GOLDEN = Path(__file__).parent / "golden"
TOP_MARGIN_PT = 0.85 * 72  # the running heads stand above this


def _lines(page) -> list[list[dict]]:
    return outputs._lines(page.extract_words(extra_attrs=["size", "non_stroking_color"]))


def _line_texts(pdf: Path, number: int) -> list[str]:
    with pdfplumber.open(pdf) as doc:
        return [" ".join(w["text"] for w in line) for line in _lines(doc.pages[number - 1])]


@functools.lru_cache(maxsize=8)
def _read(pdf: str, _version: tuple[int, int]) -> tuple[list[str], list[str]]:
    """Each page's text (spaces normalised) and running head, read once per file
    version: the tests look up many pages of the same few PDFs."""
    texts, heads = [], []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            texts.append(re.sub(r"\s+", " ", page.extract_text() or ""))
            heads.append(" ".join(w["text"] for w in page.extract_words() if w["bottom"] < TOP_MARGIN_PT))
    return texts, heads


def _pages(pdf: Path) -> tuple[list[str], list[str]]:
    stat = pdf.stat()
    return _read(str(pdf), (stat.st_mtime_ns, stat.st_size))


def _page_of(pdf: Path, text: str, start: int = 1) -> int:
    for number, page_text in enumerate(_pages(pdf)[0], 1):
        if number >= start and text in page_text:
            return number
    raise AssertionError(f"{text!r} is not in {pdf.name}")


def _head(pdf: Path, number: int) -> str:
    """The running head of a page: the text above the text block."""
    return _pages(pdf)[1][number - 1]


# -- the faults of the review ------------------------------------------------------------


def test_section_headings_have_space_above_them(built):
    """A heading after text keeps its style's space: no heading sits on the line before it."""
    for title in ("A Global Development Model", "Joining the Third World", "The Vietnam War"):
        number = _page_of(built.pdf, title, 3)
        with pdfplumber.open(built.pdf) as doc:
            lines = _lines(doc.pages[number - 1])
        texts = [" ".join(w["text"] for w in line) for line in lines]
        at = next(i for i, t in enumerate(texts) if t.startswith(title))
        if at == 0:
            continue
        above = max(w["bottom"] for w in lines[at - 1])
        assert lines[at][0]["top"] - above > 12, f"{title} on p. {number} sits on the line above it"


def test_no_running_head_on_opening_pages_and_heads_elsewhere(built):
    openers = [_page_of(built.pdf, t, 3) for t in ("Engaging the World", "DOCUMENT APPENDIX", "Bibliography")]
    openers += [_page_of(built.pdf, f"DOCUMENT No. {n}", 3) for n in (2, 3)]
    for number in openers:
        assert _head(built.pdf, number) == "", f"p. {number} opens a part but has the head {_head(built.pdf, number)!r}"
    assert _head(built.pdf, openers[0] + 1) == "Charles K. Armstrong"
    assert "Global Aspirations" in _head(built.pdf, openers[0] + 2)


def test_each_reading_opens_without_a_running_head(reader_dist):
    pdf = reader_dist / f"{DEMO_READER}.pdf"
    for title in (
        "Introduction",
        "Kim Il Sung and the Cuban Ambassador (1967)",
        "Honecker’s Visit to the DPRK (1977)",
        "Permissions",
    ):
        number = _page_of(pdf, title, 3)
        assert _head(pdf, number) == "", f"{title} (p. {number}) has a running head"
    # the permissions page no longer carries the last reading's head
    assert "Berlin" not in _head(pdf, _page_of(pdf, "Share of the original"))


def test_contents_give_each_document_its_title_and_date(pdf_pages, built):
    toc = re.sub(r"\s+", " ", pdf_pages[1]["text"])
    work = read_work(ROOT, "juche")
    for document in work.documents:
        entry = document_entry(document)
        assert entry.startswith(f"{document.label}: ") and entry != document.label
        head = entry.split("…")[0][:40]
        assert head in toc, f"{head!r} not in the contents"
    assert "9 March 1967" in toc and "13 December 1977" in toc and "1 June 1984" in toc
    assert "DOCUMENT No. 1: Report, Embassy of Hungary" in _nav(built.epub)


def _nav(epub: Path) -> str:
    import zipfile

    with zipfile.ZipFile(epub) as z:
        name = next(n for n in z.namelist() if n.endswith("nav.xhtml"))
        return z.read(name).decode()


def test_editorial_note_keeps_the_spaces_between_its_words(built, pdf_pages):
    pdf_text = re.sub(r"\s+", " ", " ".join(p["text"] for p in pdf_pages))
    xhtml = dict(outputs.epub_spine(built.epub))["juche-02-a-global-development-model.xhtml"].decode()
    for text in (pdf_text, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", xhtml))):
        assert "27 in Africa (64 countries)" in text
        assert "26 respectively (63)" in text


def test_the_editions_own_words_come_from_its_data(built, pdf_pages):
    """The fidelity test for the edition's text: every word of the contents and
    of the editorial note under the table is a word of the data or the templates."""
    known = typesetting(ROOT, "juche").words()
    toc = pdf_pages[1]["text"]
    page = next(p["text"] for p in pdf_pages if "Editorial note." in p["text"])
    note = re.search(r"Editorial note\..*?as written\.", page, re.S).group(0)
    text = (toc + "\n" + note).replace(outputs.HYPHENATE + "\n", "")  # leaders' dots are no words
    assert [w for w in words(text) if w not in known and not is_number(w)] == []
    assert json.loads((built.out / "juche.preflight.json").read_text())["counts"]["joined_words"] == 0


def test_an_inline_note_runs_its_source_lines_together(tmp_path):
    body = (
        "A paragraph with an inline note.^[The\ndistinction between the two is one of degree, as the\nauthor says.]\n"
    )
    document, _ = _lay_out(tmp_path, body)
    lines = _note_lines(document)
    assert lines[0].startswith("1.") and "The distinction between" in lines[0], lines


def test_a_note_line_never_holds_a_word_alone(built):
    """Note 19 on Letter: WeasyPrint broke "… Szalontai, March" / "9, 1967" after the
    first word of a run that ends before a link (edition/layout/linebreaks.py)."""
    number = _page_of(built.pdf, "István Kádas, “Report")
    texts = _line_texts(built.pdf, number)
    first = next(i for i, t in enumerate(texts) if "István Kádas" in t)
    assert len(texts[first + 1].split()) > 3, texts[first : first + 3]
    assert "March 9, 1967" in " ".join(texts[first : first + 3])


def test_a_run_before_an_inline_element_breaks_at_its_last_word():
    """The WeasyPrint case itself, at every width of a range (edition/layout/linebreaks.py)."""
    import weasyprint

    from edition.fonts import faces as fonts

    text = (
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore, "
        "March 9, 1967, XIX-J-1-j Korea, 1967, 61. doboz, 1, 002130/1967, Magyar Országos Levéltár (MOL), "
        "Budapest, printed below as <em>Document No.\u00a01</em>."
    )
    faces = fonts.font_face_css(lambda p: p.resolve().as_uri())
    for width in range(380, 430, 3):
        html = (
            f"<style>{faces} @page {{ size: 8in 4in; margin: 0 }} "
            f'p {{ width: {width}px; font: 10px "{fonts.FAMILY}"; margin: 0 }}</style><p>{text}</p>'
        )
        lines = _box_lines(weasyprint.HTML(string=html).render(), 0)
        assert all(len(line.split()) > 1 for line in lines[:-1]), (width, lines)


def test_a_note_call_never_starts_a_line(paper_build):
    for paper in ("letter", "6x9"):
        assert outputs.lines_starting_with_a_call(paper_build(paper).pdf) == [], paper


def test_note_numbers_hang_aligned_past_nine(built):
    number = next(i for i, p in enumerate(outputs.pdf_pages(built.pdf), 1) if {9, 10} <= set(p["notes"]))
    with pdfplumber.open(built.pdf) as doc:
        found = doc.pages[number - 1].extract_words(extra_attrs=["size"])
    lines = outputs._lines([w for w in found if 8 <= w["size"] <= 8.6 and w["top"] > TOP_MARGIN_PT])
    numbers = {line[0]["text"]: line for line in lines if line[0]["text"] in ("9.", "10.")}
    assert abs(numbers["9."][0]["x1"] - numbers["10."][0]["x1"]) < 0.5, "note numbers do not align on the full stop"
    assert abs(numbers["9."][1]["x0"] - numbers["10."][1]["x0"]) < 0.5, "note texts do not start at one indent"
    assert numbers["10."][0]["x0"] < numbers["9."][0]["x0"], "the numbers hang right-aligned"


def test_the_title_is_set_on_two_balanced_lines(paper_build):
    for paper in ("letter", "6x9"):
        texts = _line_texts(paper_build(paper).pdf, 1)
        assert "Juche and North Korea’s" in texts and "Global Aspirations" in texts, (paper, texts)


# -- the make-up of pages ----------------------------------------------------------------


def test_the_reader_page_that_called_note_19_is_full(reader_dist):
    """The issue's page: the make-up no longer ends it a third of the page early
    to carry note 19's line over; every page more than two lines short ends a section."""
    report = json.loads((reader_dist / f"{DEMO_READER}.preflight.json").read_text())
    assert report["counts"]["underfull_pages"] == 0
    assert report["counts"]["notes_misplaced"] == 0
    pdf = reader_dist / f"{DEMO_READER}.pdf"
    number = _page_of(pdf, "movements which the Cubans also agreed with")
    pages = outputs.pdf_pages(pdf)
    assert 19 in pages[number - 1]["calls"] and 19 in pages[number - 1]["notes"]


@pytest.mark.parametrize("paper", ["letter", "a4", "6x9"])
def test_the_paper_makes_up_in_few_rounds_with_no_page_short(paper, paper_build):
    build = paper_build(paper)
    assert build.result.layout_rounds["juche"] <= 4
    report = json.loads((build.out / "juche.preflight.json").read_text())
    assert report["counts"] == {k: 0 for k in report["counts"]}


def test_respacing_a_paragraph_moves_it_by_the_line_predicted(tmp_path):
    """The model behind \\looseness: paragraphs it says a tighter (looser)
    setting shortens (lengthens) by one line do, in the next layout."""
    rng = random.Random(5)
    body = "\n\n".join(" ".join(stress._sentence(rng, 40, 80) for _ in range(3)) for _ in range(14))
    document, rendered = _lay_out(tmp_path, body)
    flow = pagefit.read_flow(document)
    run = pagefit._run(flow, flow.pages[2:])
    predicted = {sign: pagefit._candidates(run, 0, len(run.lines), sign, set())[:4] for sign in (-1, +1)}
    assert predicted[-1] and predicted[+1], "no paragraph to respace in the sample"
    before = _paragraph_lines(flow)
    for sign, keys in predicted.items():
        corrections = pagefit.Corrections(spacing={key: sign for key in keys})
        after = _paragraph_lines(pagefit.read_flow(_lay_out(tmp_path, body, corrections, rendered)[0]))
        for key in keys:
            assert after[key] == before[key] + sign, (sign, key, before[key], after[key])


# -- each new preflight fault, provoked once -----------------------------------------------


def test_preflight_finds_a_heading_without_space_above(tmp_path):
    filler = " ".join(stress._sentence(random.Random(1), 30, 40) for _ in range(3))
    body = f"{filler}\n\n### A Subheading\n\n{filler}\n"
    report = _preflight(tmp_path, body, css="h3 { margin-top: 0; }")
    assert [f["heading"] for f in report.faults["heading_space"]] == ["A Subheading"]
    assert _preflight(tmp_path / "ok", body).faults["heading_space"] == []


def test_preflight_finds_a_running_head_on_an_opening_page(tmp_path):
    report = _preflight(tmp_path, "Text.\n", css=".essay > .chapter:first-child > h2 { string-set: none; }")
    assert [f["head"] for f in report.faults["running_heads"]] == ["A Test Work"]
    assert _preflight(tmp_path / "ok", "Text.\n").faults["running_heads"] == []


def test_preflight_finds_a_contents_entry_that_is_only_a_label(tmp_path):
    document = (
        "---\nnumber: 1\nlabel: DOCUMENT No. 1\ntitle: A Report on Something\ndate: 1967-03-09\n"
        'source_line: "[Source: an archive.]"\n---\nThe document.\n'
    )
    extra = {"content/test/documents/1.md": document}
    toc = "{{ entry.title.split(':')[0] }}"
    report = _preflight(tmp_path, "Text.\n", extra=extra, template=("{{ entry.title }}", toc))
    assert report.faults["contents_entries"] == [
        {"page": 2, "entry": "DOCUMENT No. 1", "target_title": "A Report on Something"}
    ]
    assert _preflight(tmp_path / "ok", "Text.\n", extra=extra).faults["contents_entries"] == []


def test_preflight_passes_the_contents_entry_of_a_section_with_subheadings(tmp_path):
    """A section is named by its own heading: its subheadings are not its title
    (issue 24: "entry I. From Ad Coelum…, target_title A. The Maxim at Common Law")."""
    body = "Text.\n\n## A. The Maxim at Common Law\n\nMore text.\n\n## B. The Air Age\n\nText.\n"
    assert _preflight(tmp_path, body).faults["contents_entries"] == []


def test_preflight_counts_a_hole_before_a_heading_that_would_have_fit(tmp_path):
    """A page more than three lines short is a hole unless a forced break or a
    heading kept with its text follows: here the heading and two lines of its
    text would have fitted (a stylesheet keeps twelve lines with it)."""
    rng = random.Random(3)
    paragraphs = "\n\n".join(" ".join(stress._sentence(rng, 30, 40) for _ in range(4)) for _ in range(10))
    after = " ".join(stress._sentence(rng, 30, 40) for _ in range(10))
    body = f"{paragraphs}\n\n### A Subheading\n\n{after}\n"
    holes = _preflight(tmp_path, body, css="h3 + p { orphans: 12; }").faults["underfull_pages"]
    assert [h["page"] for h in holes] == [4] and holes[0]["lines_short"] > 3, holes
    assert _preflight(tmp_path / "ok", body).faults["underfull_pages"] == []


def test_preflight_finds_words_a_template_joined(tmp_path):
    joined = (
        "{{ md(work.meta.publisher, smart) }}{% if work.meta.place %}",
        "{{ md(work.meta.publisher, smart) }}{{ md(work.meta.rights, smart) }}{% if work.meta.place %}",
    )
    report = _preflight(tmp_path, "Text.\n", template=joined)
    assert {"page": 1, "word": "PressTest"} in report.faults["joined_words"]
    assert _preflight(tmp_path / "ok", "Text.\n").faults["joined_words"] == []


def test_preflight_finds_a_page_more_than_two_lines_short(tmp_path):
    """A table kept whole moves to the next page and leaves the page short,
    where no section ends."""
    rows = "".join(f"{1900 + i},Country {i}\n" for i in range(45))
    extra = {
        "content/test/tables/t.csv": "year,country\n" + rows,
        "content/test/tables/t.yaml": "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n",
    }
    body = "Short opening paragraph.\n\n::: {.table #t}\nA long table\n:::\n\nAfter.\n"
    report = _preflight(tmp_path, body, css=".table-block, table { break-inside: avoid; }", extra=extra)
    assert report.faults["underfull_pages"] and report.faults["underfull_pages"][0]["lines_short"] > 2


# -- pictures of the pages ---------------------------------------------------------------------

#: Pages whose pictures are reviewed: (name, build, page).
GOLDEN_PAGES = [
    ("letter-01-title", "letter", 1),
    ("letter-02-contents", "letter", 2),
    ("letter-03-opening", "letter", 3),
    ("letter-05-table", "letter", 5),
    ("letter-15-appendix", "letter", 15),
    ("letter-26-bibliography", "letter", 26),
    ("a4-03-opening", "a4", 3),
    ("6x9-01-title", "6x9", 1),
    ("6x9-06-table", "6x9", 6),
    ("reader-01-title", "reader", 1),
    ("reader-08-note-19", "reader", 8),
    ("reader-23-reading", "reader", 23),
    # the make-up's stress works (tests/makeup-works/), on Letter
    ("law-review-10-long-note", "law-review", 10),
    ("chapter-05-figure-at-head", "chapter", 5),
    ("chapter-07-table-at-head", "chapter", 7),
]
#: Resolution of the pictures, and how many pixels may differ (a rasterizer's
#: anti-aliasing may vary between poppler versions; the builds are byte-reproducible).
GOLDEN_DPI = 40
GOLDEN_TOLERANCE = 0.002


@pytest.mark.parametrize(("name", "build", "page"), GOLDEN_PAGES, ids=[n for n, _, _ in GOLDEN_PAGES])
def test_golden_page(name, build, page, request, tmp_path, paper_build, reader_dist, makeup_build):
    if build == "reader":
        pdf = reader_dist / f"{DEMO_READER}.pdf"
    elif build in ("law-review", "chapter"):
        pdf = makeup_build(build).pdf
    else:
        pdf = paper_build(build).pdf
    actual = _render_page(pdf, page, tmp_path / f"{name}-actual")
    golden = GOLDEN / f"{name}.png"
    if request.config.getoption("--update-golden"):
        GOLDEN.mkdir(exist_ok=True)
        shutil.copyfile(actual, golden)
        return
    assert golden.exists(), f"no reviewed picture {golden}: review the page, then run pytest --update-golden"
    expected, got = Image.open(golden).convert("L"), Image.open(actual).convert("L")
    assert expected.size == got.size, f"{name}: page size {got.size}, reviewed {expected.size}; see {actual}"
    difference = ImageChops.difference(expected, got)
    changed = sum(difference.histogram()[33:])
    share = changed / (got.width * got.height)
    if share > GOLDEN_TOLERANCE:
        diff_path = tmp_path / f"{name}-diff.png"
        _difference_picture(expected, got, difference).save(diff_path)
        pytest.fail(
            f"{name}: {share:.2%} of the pixels differ from the reviewed picture {golden}; "
            f"difference in {diff_path}, this build in {actual} "
            "(if the change is wanted: review it, then run pytest --update-golden)"
        )


def _render_page(pdf: Path, page: int, prefix: Path) -> Path:
    """One page as a small picture: 40 dpi, sixteen greys (a 4-bit PNG)."""
    subprocess.run(
        [
            "pdftoppm",
            *("-r", str(GOLDEN_DPI), "-gray", "-png", "-f", str(page), "-l", str(page), "-singlefile"),
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    path = prefix.with_suffix(".png")
    greys = Image.new("P", (1, 1))
    greys.putpalette([v for k in range(16) for v in (k * 17,) * 3])
    Image.open(path).convert("RGB").quantize(palette=greys, dither=Image.Dither.NONE).save(path, optimize=True)
    return path


def _difference_picture(expected: Image.Image, got: Image.Image, difference: Image.Image) -> Image.Image:
    """The reviewed page in grey, with what changed in red."""
    base = Image.merge("RGB", [expected.point(lambda v: 128 + v // 2)] * 3)
    mask = difference.point(lambda v: 255 if v > 32 else 0)
    red = Image.new("RGB", got.size, (220, 0, 0))
    return Image.composite(red, base, mask)


# -- helpers -------------------------------------------------------------------------------------


def _lay_out(tmp_path: Path, body: str, corrections=None, project=None):
    project = project or make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    return first_layout(typesetting(project, out=tmp_path / "dist"), corrections), project


def _preflight(tmp_path: Path, body: str, css: str = "", extra=None, template=None):
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN, extra=extra)
    if css:
        sheet = project / "templates/print/print.css"
        sheet.write_text(sheet.read_text() + "\n" + css + "\n")
    if template:
        blocks = project / "templates/body/blocks.html"
        old, new = template
        assert old in blocks.read_text()
        blocks.write_text(blocks.read_text().replace(old, new, 1))
    job = typesetting(project, out=tmp_path / "dist")
    return preflight(first_layout(job), job.words())


def _box_lines(document, page: int) -> list[str]:
    """The text of a page's lines, from the layout."""
    root = document.pages[page]._page_box.children[0]
    return [_text(line.box) for line in pagefit._page_lines(page, root) if line.box is not None]


def _text(box) -> str:
    from weasyprint.formatting_structure import boxes

    from edition.layout.pages import _walk

    return " ".join("".join(b.text for b in _walk(box) if isinstance(b, boxes.TextBox)).replace("\u2002", " ").split())


def _note_lines(document) -> list[str]:
    """The lines of the first page's notes (not the lines inside a note number's box)."""
    from weasyprint.formatting_structure import boxes

    from edition.layout.pages import _walk

    for page in document.pages:
        for area in page._page_box.children[1:]:
            if isinstance(area, boxes.FootnoteAreaBox) and area.children:
                return [
                    _text(line)
                    for block in _walk(area)
                    if isinstance(block, boxes.BlockContainerBox) and not isinstance(block, boxes.InlineBlockBox)
                    for line in block.children
                    if isinstance(line, boxes.LineBox)
                ]
    return []


def _paragraph_lines(flow: pagefit.Flow) -> dict[tuple[str, int], int]:
    counts: dict[tuple[str, int], int] = {}
    for line in flow.lines:
        if line.position:
            counts[line.position[:2]] = counts.get(line.position[:2], 0) + 1
    return counts


def test_golden_pictures_are_small():
    pictures = list(GOLDEN.glob("*.png"))
    assert {p.stem for p in pictures} == {n for n, _, _ in GOLDEN_PAGES}
    assert all(p.stat().st_size < 60_000 for p in pictures)
    assert sum(p.stat().st_size for p in pictures) < 600_000
