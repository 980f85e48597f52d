"""Authors' files as they write them (issue 26): what strangers' works hit in the
read, resolve and render stages. Each case is a small project built for real:
exit 0 with the right output, or exit 2 with one diagnostic; never exit 1."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name

from edition.cli import main
from edition.outputs.checks import pdfua as pdfua_check

from . import pdfs
from .projects import BIB_MIN, make_project, reader_head, section

TEXT = "content/test/text/01-one.md"
TABLE_PLACED = section("Text.\n\n::: {.table #t}\nVotes\n:::\n")


def build(project: Path, capsys, *args: str) -> tuple[int, list[str]]:
    """Build the project (EPUB unless told); its exit status and the lines it
    printed on stderr, paths relative to the project."""
    formats = () if "--format" in args else ("--format", "epub")
    code = main(["-q", "--no-cache", "--out", str(project / "dist"), *formats, *args], project=project)
    err = capsys.readouterr().err.strip().splitlines()
    return code, [line.replace(str(project) + "/", "") for line in err if not line.startswith("build failed")]


def xhtml(project: Path, name: str = "test-01-one.xhtml") -> str:
    with zipfile.ZipFile(project / "dist" / "test.epub") as epub:
        return epub.read(f"EPUB/{name}").decode("utf-8")


def table_project(root: Path, spec: str, csv: str, bib: str = BIB_MIN, body: str = TABLE_PLACED) -> Path:
    return make_project(
        root,
        sections={"01-one.md": body},
        bib=bib,
        extra={"content/test/tables/t.csv": csv, "content/test/tables/t.yaml": spec},
    )


# -- internal errors on ordinary input ------------------------------------------------------


def test_group_by_a_text_column(tmp_path, capsys):
    csv = "region,country,n\nAsia,China,1\nAsia,Japan,2\nEurope,France,3\n"
    project = table_project(tmp_path, "columns: {region: text, country: text, n: integer}\ngroup_by: region\n", csv)
    assert build(project, capsys) == (0, [])
    page = xhtml(project)
    assert '<th scope="rowgroup" colspan="2">Asia</th>' in page
    assert '<th scope="rowgroup" colspan="2">Europe</th>' in page


def test_stated_totals_by_years_need_a_column_of_years(tmp_path, capsys):
    spec = "columns: {region: text, country: text}\ngroup_by: region\nstated_totals: {column: country, years: [1970, 1979], counts: {China: 1}}\n"
    project = table_project(tmp_path, spec, "region,country\nAsia,China\n")
    assert build(project, capsys) == (
        2,
        [
            "content/test/tables/t.yaml:3: error: 'stated_totals' years count the rows of years: 'group_by' "
            "('region') must be an integer column [meta.type]"
        ],
    )


BRIEFWECHSEL = "@book{briefwechsel1983,\n  editor = {Roe, Jane},\n  title = {Briefwechsel},\n  publisher = {Insel},\n  year = {1983},\n}\n"


def test_a_citation_in_a_tables_source_line_is_formatted_as_a_note_gives_it(tmp_path, capsys):
    spec = "columns: {region: text, n: integer}\nsource: Counted from the letters [@briefwechsel1983]\n"
    body = section("Text [@suh1988].\n\n::: {.table #t}\nVotes\n:::\n\nMore [@suh1988].\n")
    project = table_project(tmp_path, spec, "region,n\nAsia,1\n", BIB_MIN + BRIEFWECHSEL, body)
    assert build(project, capsys) == (0, [])
    page = xhtml(project)
    assert (
        '<span class="label">Source:</span> Counted from the letters (Jane Roe, ed., <em>Briefwechsel</em> (Insel, 1983))'
        in page
    )
    # the table's line stands apart from the notes: the second note is "Ibid." of the first
    assert "Ibid." in page
    # and the source it cites is in the bibliography
    assert "Roe, Jane, ed. <em>Briefwechsel</em>. Insel, 1983." in xhtml(project, "test-bibliography.xhtml")


def test_two_table_lines_citing_one_source_never_say_ibid(tmp_path, capsys):
    spec = "columns: {region: text, n: integer}\nsource: '[@briefwechsel1983, 3]'\nnotes: ['As [@briefwechsel1983, 4] counts them.']\n"
    project = table_project(tmp_path, spec, "region,n\nAsia,1\n", BIB_MIN + BRIEFWECHSEL)
    assert build(project, capsys) == (0, [])
    page = xhtml(project)
    assert "Ibid" not in page
    assert "Jane Roe, ed., <em>Briefwechsel</em> (Insel, 1983), 3." in page
    assert "As (Roe, <em>Briefwechsel</em>, 4) counts them." in page


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("See^[a note]", "a note in a table's source line is not supported: write its words in the line"),
        ("See[^1]", "a note in a table's source line is not supported: write its words in the line"),
        ("An ![map](map.png) here", "an image in a table's source line is not supported: put it in the text"),
        (
            "Math $x^2$ here",
            "TeX math ($…$, $$…$$) is not supported: write the formula as text (x^2^, H~2~O) or as an image with alt text",
        ),
        (
            "Raw <b>bold</b> here",
            "raw HTML (<b>) is not supported: write Markdown (**strong**), or \\< for a literal '<'",
        ),
    ],
)
def test_what_a_tables_line_cannot_print_is_refused_at_its_line(tmp_path, capsys, line, message):
    spec = f"columns: {{region: text, n: integer}}\nsource: '{line}'\n"
    project = table_project(tmp_path, spec, "region,n\nAsia,1\n")
    assert build(project, capsys) == (2, [f"content/test/tables/t.yaml:2: error: {message} [md.unsupported]"])


def test_an_unknown_key_in_a_tables_source_line(tmp_path, capsys):
    spec = "columns: {region: text, n: integer}\nsource: 'From [@suh1989]'\n"
    project = table_project(tmp_path, spec, "region,n\nAsia,1\n")
    assert build(project, capsys) == (
        2,
        [
            "content/test/tables/t.yaml:2: error: unknown citation key 'suh1989': not in bib/test.bib "
            "(did you mean 'suh1988'?) [cite.unknown]"
        ],
    )


# -- PDF readings printed by a browser ------------------------------------------------------------

ARTICLE = (
    "<h1>Trade and Aid, 1919&ndash;1939</h1><p>The article's first paragraph.</p>"
    "<table><thead><tr><th>Year</th><th>Trade</th></tr></thead>"
    "<tbody><tr><td>1920</td><td>12</td></tr><tr><td>1921</td><td>14</td></tr></tbody></table><p>More text.</p>"
)
CARR = (
    "@incollection{carr1939,\n  author = {Carr, E. H.},\n  title = {Trade and Aid, 1919--1939},\n"
    "  booktitle = {The Twenty Years' Crisis},\n  publisher = {Macmillan},\n  pages = {32--63},\n  year = {1939},\n}\n"
)


def reader_project(
    root: Path, pdf: bytes, reading: str = "", head: str = "A Reader", bib: str = BIB_MIN + CARR
) -> Path:
    definition = reader_head(head) + "bibliography: test.bib\npermissions_page: true\nreadings:\n"
    definition += "  - pdf: readings/article.pdf\n    cite: carr1939\n" + reading + "  - work: test\n"
    return make_project(
        root,
        sections={"01-one.md": section("Text [@suh1988].\n")},
        bib=bib,
        extra={"readers/course.yaml": definition, "readers/readings/article.pdf": pdf},
    )


@pytest.fixture(scope="module")
def browser_article() -> bytes:
    return pdfs.browser_printed(ARTICLE)


def test_the_checker_reads_table_cells_attributes_in_an_array(browser_article):
    """Chromium writes each cell's attributes as an array of dictionaries."""
    with pikepdf.open(io.BytesIO(browser_article)) as pdf:
        file = pdfua_check.File(pdf)
        assert pdfua_check.table_headers(file)
        th = next(e for e in file.elements if e.role == "TH")
        th.obj.A = Array([Dictionary(O=Name.Table, RowSpan=1), 1])  # no Scope, no ID a cell names
        del th.obj["/ID"]
        assert not pdfua_check.table_headers(file)


def test_a_reader_with_a_browser_printed_table_builds_and_is_claimed(tmp_path, capsys, browser_article):
    project = reader_project(tmp_path, browser_article)
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert (code, lines) == (0, [])
    with pikepdf.open(project / "dist" / "course.pdf") as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") == "1"


def test_a_reading_whose_tags_break_a_rule_is_named_with_a_code(tmp_path, capsys):
    listed = pdfs.browser_printed("<h1>Notes</h1><p>Text.</p><hr><ul><li>One</li><li>Two</li></ul>")
    project = reader_project(tmp_path, listed)
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    assert lines == [
        "readers/course.yaml:13: warning: readers/readings/article.pdf: its own tags break the PDF/UA rules "
        "list_structure, leaders_and_rules (see README, 'Accessibility'), and they are kept in the volume, so "
        "course.pdf is not claimed as PDF/UA-1; give a copy of the file that passes PDF/UA (or one without tags, "
        "printed as figures) [pdf.tags]"
    ]
