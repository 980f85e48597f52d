"""Print-grade pagination: notes on their call's page on any paper, and the preflight."""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pytest

from edition.cli import main
from edition.layout.preflight import preflight

from . import outputs, stress
from .builds import first_layout, typesetting
from .projects import BIB_MIN, DEMO_READER, make_project, section

notes_on_their_pages = outputs.notes_on_their_pages


def build_stress(tmp_path, seed: int, notes: int, paper: str) -> tuple[int, object]:
    body = section(stress.document(seed, notes), title="Stress")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB_MIN)
    status = main(["-q", "--out", str(tmp_path / "dist"), "--format", "pdf", "--paper", paper], project=project)
    return status, tmp_path / "dist"


@pytest.mark.parametrize("paper", ["letter", "a4", "6x9"])
def test_paper_notes_on_every_paper(paper, paper_build):
    pdf = paper_build(paper).pdf
    pages = outputs.pdf_pages(pdf)
    assert sorted(n for p in pages for n in p["calls"]) == list(range(1, 62))
    assert sorted(n for p in pages for n in p["notes"]) == list(range(1, 62))
    assert notes_on_their_pages(pdf) == {}


def test_the_paper_has_a_clean_preflight(built):
    report = json.loads((built.out / "juche.preflight.json").read_text())
    assert report["counts"] == {k: 0 for k in report["counts"]}
    assert report["pages"] == len(outputs.pdf_pages(built.pdf))


def test_the_demo_reader_has_a_clean_preflight(built_reader):
    """Its p. 16 ends 5.4 lines short before "Bibliography", whose first entry
    has three lines: the heading would need all three at the foot (two and
    one leave a widow), more than the room, so the page is no hole."""
    report = json.loads((built_reader.out / f"{DEMO_READER}.preflight.json").read_text())
    assert report["counts"] == {k: 0 for k in report["counts"]}, report["faults"]


STRESS_RUNS = [(1, 300, "letter")]  # its first layout misplaces two notes and drops two
SLOW_RUNS = [(seed, 600, paper) for seed in (1, 2, 3) for paper in ("letter", "a4", "6x9")]


@pytest.mark.parametrize(("seed", "notes", "paper"), STRESS_RUNS)
def test_stress_every_note_present_and_on_its_page(tmp_path, seed, notes, paper):
    status, dist = build_stress(tmp_path, seed, notes, paper)
    assert status == 0, f"seed {seed}: the build failed"
    misplaced = notes_on_their_pages(dist / "test.pdf")
    pages = outputs.pdf_pages(dist / "test.pdf")
    assert sorted(n for p in pages for n in p["notes"]) == list(range(1, notes + 1)), f"seed {seed}: a note is missing"
    assert misplaced == {}, f"seed {seed}, paper {paper}: notes off their call's page {misplaced}"
    # a call, or two side by side ("4,5"), is never broken from the word before it
    assert outputs.lines_starting_with_a_call(dist / "test.pdf") == []


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "notes", "paper"), SLOW_RUNS)
def test_stress_long(tmp_path, seed, notes, paper):
    test_stress_every_note_present_and_on_its_page(tmp_path, seed, notes, paper)


# -- preflight: each kind of fault on a small case that provokes it --------------------


def _report(tmp_path, body: str, css: str = "", paper: str = "letter"):
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    if css:
        sheet = project / "templates/print/print.css"
        sheet.write_text(sheet.read_text() + "\n" + css + "\n")
    return preflight(first_layout(typesetting(project, paper=paper, out=tmp_path / "dist")))


def test_preflight_finds_notes_off_their_page(tmp_path):
    """The stress document's first layout, before any correction, with the
    notes' area held to 60% of the page (WeasyPrint sets all of them where
    they may take 90%, the house style since issue 24)."""
    report = _report(tmp_path, stress.document(1, 300), css="@page { @footnote { max-height: 60%; } }")
    assert report.faults["notes_misplaced"]


def test_preflight_finds_widows_and_orphans(tmp_path):
    """Paragraphs allowed to leave one line alone do so on some page of a few samples."""
    found = []
    for seed in range(7, 12):
        body = stress.document(seed, 0) + "\n\n".join(
            stress._sentence(__import__("random").Random(seed * 100 + i), 30, 60) for i in range(40)
        )
        report = _report(tmp_path / str(seed), body, css="p { widows: 1; orphans: 1; }")
        found = report.faults["widows"] + report.faults["orphans"]
        if found:
            break
    assert found
    assert all(len(f["line"]) > 0 for f in found)


def test_preflight_finds_a_stranded_heading(tmp_path):
    filler = "\n\n".join(stress._sentence(__import__("random").Random(i), 40, 60) for i in range(12))
    blocks = [filler[: 700 * k] for k in range(1, 30)]
    found = False
    for cut in blocks:
        report = _report(
            tmp_path / str(len(cut)),
            cut + "\n\n### A Heading at the Foot\n\n" + filler,
            css="h3 { break-after: auto; page-break-after: auto; }",
        )
        if report.faults["stranded_headings"]:
            found = True
            break
    assert found


def test_preflight_finds_an_overfull_line(tmp_path):
    report = _report(tmp_path, "Text " + "Unbreakable" * 20 + " more text.\n", css="p { hyphens: manual; }")
    assert report.faults["overfull_lines"]
    assert report.faults["overfull_lines"][0]["over_by_px"] > 10


def test_preflight_finds_a_run_of_hyphenated_lines(tmp_path):
    words = "internationalization incomprehensibility counterrevolutionary establishmentarianism " * 40
    report = _report(
        tmp_path,
        words + "\n",
        css="html { hyphenate-limit-zone: 0; hyphenate-limit-chars: 5 2 2; } p { width: 2.2in; }",
    )
    assert report.faults["hyphenation_runs"]


def test_preflight_finds_an_underfull_page(tmp_path):
    rows = "".join(f"{1900 + i},Country {i}\n" for i in range(45))
    extra = {
        "content/test/tables/t.csv": "year,country\n" + rows,
        "content/test/tables/t.yaml": "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n",
    }
    project_body = "Short opening paragraph.\n\n::: {.table #t}\nA long table\n:::\n\nAfter.\n"
    project = make_project(tmp_path, sections={"01-one.md": section(project_body)}, bib=BIB_MIN, extra=extra)
    sheet = project / "templates/print/print.css"
    sheet.write_text(sheet.read_text() + "\n.table-block, table { break-inside: avoid; }\n")
    document = first_layout(typesetting(project, out=tmp_path))
    assert preflight(document).faults["underfull_pages"]


def test_strict_fails_on_preflight_faults(tmp_path, capsys):
    body = "Text " + "Unbreakable" * 20 + " more text.\n"
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN)
    sheet = project / "templates/print/print.css"
    sheet.write_text(sheet.read_text() + "\np { hyphens: manual; }\n")
    assert main(["-q", "--out", str(tmp_path / "dist"), "--format", "pdf"], project=project) == 0
    assert main(["-q", "--out", str(tmp_path / "strict"), "--format", "pdf", "--strict"], project=project) == 2
    err = capsys.readouterr().err
    assert "overfull lines" in err and "[preflight.fault]" in err
    assert not (tmp_path / "strict").exists()


def test_press_file_has_bleed_crop_marks_and_cmyk_black(built):
    import pikepdf

    path = built.out / "juche-press.pdf"  # the session's build of the paper writes it too
    with pikepdf.open(path) as pdf:
        page = pdf.pages[2]
        trim = [float(v) for v in page.TrimBox]
        bleed = [float(v) for v in page.BleedBox]
        assert trim == [0, 0, 612, 792]
        assert bleed == [-9, -9, 621, 801]  # 0.125 in on every side
        operators = {str(op.operator) for p in pdf.pages for op in pikepdf.parse_content_stream(p)}
        assert not operators & {"rg", "RG", "g", "G"}, "an RGB or grey colour in the press file"
        # forms too (the notes' rule is an SVG drawn as a form), but for WeasyPrint's crop marks,
        # drawn in RGB black outside the trim: lines, where every other form fills rectangles
        forms = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
        for form in forms:
            used = {str(op.operator) for op in pikepdf.parse_content_stream(form)}
            if "re" in used:
                assert not used & {"rg", "RG", "g", "G"}, f"an RGB or grey colour in form {form.objgen}"
    # the press file is the same text, page for page, under the same rules
    assert [p["text"] for p in outputs.pdf_pages(path)] == [p["text"] for p in outputs.pdf_pages(built.pdf)]
    assert _rules(path) == _rules(built.pdf)
    assert notes_on_their_pages(path) == {}


def _rules(pdf: Path) -> list[list[int]]:
    """The widths of the thin rules drawn on each page (pdfplumber's paths under
    1.5 pt high), but for crop marks (under 20 pt: the press file's)."""
    with pdfplumber.open(pdf) as doc:
        return [
            sorted(round(r["x1"] - r["x0"]) for r in page.rects + page.lines if r["height"] < 1.5 and r["width"] > 20)
            for page in doc.pages
        ]


def test_a_paragraph_split_around_a_moved_table_starts_its_page_in_its_first_part():
    """A paragraph cut where the make-up moved a table to the next page's head
    continues after the table: the page that opens on its second part begins in
    its first part, never in the table's own notes (a generated work stopped
    the build with 'is not a text block', issue 22's Hypothesis run)."""
    from xml.etree import ElementTree

    from edition.layout.pages import _logical_block
    from edition.layout.pagestart import text_blocks

    section = ElementTree.fromstring(
        '<section id="s"><p class="split" data-p="w:7">Peasant</p>'
        '<div class="table-block float-moved" data-float="0"><table><caption>T</caption></table>'
        '<p class="table-note">A note of the table.</p></div>'
        '<p class="continued after-float" data-p="w:7">empire</p><p data-p="w:8">Theory</p></section>'
    )
    first, moved, continued = section[0], section[1], section[2]
    assert _logical_block(section, continued) is first
    assert first in text_blocks(section) and moved.find("p") not in text_blocks(section)
