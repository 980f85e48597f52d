"""Word manuscripts in (issue 25): ``python build.py --import PATH [--slug SLUG]``.

Four real files are imported into one project and built once (with
``--check``): a ``.docx`` written by python-docx with footnotes and Zotero
citation fields added as Word writes them, the same file saved by LibreOffice,
and a ``.docx`` and an ``.odt`` written by Pandoc. The EPUB's and the PDF's text
is compared word for word with Pandoc's reading of each file, notes included,
each note on its call's page. Bad files get one diagnostic line and exit 2.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pdfplumber
import pytest
from lxml import etree

from edition.cli import main
from edition.diagnostics import Collector
from edition.read import bibliography

from . import manuscripts, outputs
from .bounded import run_bounded
from .projects import ROOT

#: The Markdown the Pandoc-written manuscripts are made from.
PANDOC_SOURCE = """\
---
title: The Northern Delegation
author: Ada Tester
date: 2021-03-04
lang: en-GB
---

# Departure

The delegation left *Beijing* on a **Tuesday**, with [twelve]{.smallcaps} members and H~2~O rations
for the 1^st^ day.[^1] The minutes -- typed in haste... were kept.

> We have seen a country rebuilt from its foundations.

1. Pyongyang
2. Hamhung

- officials
- managers

# Arrival

## In the Capital

The hosts gave these figures:[^2]

| Year | Visitors | Region |
|------|---------:|--------|
| 1971 | 12 | Europe |
| 1972 | 35 | Africa |

: Table 2: Visitors by year

![A blue square standing for the capital's plan](plan.png)

### Afterwards

A last line.

[^1]: A note with *italic* words.
[^2]: The figures are the hosts' own.
"""

#: Each imported work: its file, and the words its title page prints before the text.
WORKS = {
    "letters": ("Letters from Pyongyang.docx", "Letters from Pyongyang Mira Song"),
    "letters-lo": ("letters-libreoffice.docx", "Letters from Pyongyang Mira Song"),
    "delegation": ("delegation.docx", "The Northern Delegation Ada Tester"),
    # Pandoc's ODT reader keeps the Title, Author and Date paragraphs as text:
    # the text before the first heading is a section titled with the work's title
    "delegation-odt": ("delegation.odt", "The Northern Delegation Ada Tester The Northern Delegation"),
}
ODT_ALT = "A blue square standing for the capital’s plan"


def run_cli(argv: list[str], project: Path, capsys) -> tuple[int, list[str], list[str]]:
    """``python build.py ARGV`` run in ``project`` (so that paths show as the author sees them)."""
    project.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(project):
        status = main(argv, project=project)
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err.splitlines()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("manuscripts")
    word = manuscripts.word_manuscript(folder / WORKS["letters"][0])
    plan = {"plan.png": manuscripts.png(colour=(40, 40, 180))}
    return {
        "letters": word,
        "letters-lo": manuscripts.libreoffice_copy(word, folder / WORKS["letters-lo"][0]),
        "delegation": manuscripts.pandoc_manuscript(folder / WORKS["delegation"][0], PANDOC_SOURCE, plan),
        "delegation-odt": manuscripts.pandoc_manuscript(folder / WORKS["delegation-odt"][0], PANDOC_SOURCE, plan),
    }


@pytest.fixture(scope="module")
def imported(files, tmp_path_factory) -> tuple[Path, dict[str, tuple[int, str, str]]]:
    """The project the four manuscripts are imported into, and what each import printed."""
    project = tmp_path_factory.mktemp("imported")
    shutil.copytree(ROOT / "templates", project / "templates")
    said = {}
    for slug, path in files.items():  # (capsys is function-scoped: output captured by hand)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(project):
            status = main(["--import", str(path), "--slug", slug], project=project)
        said[slug] = (status, out.getvalue(), err.getvalue())
    return project, said


#: The works built: LibreOffice's copy of the Word manuscript gives the same
#: files as the Word manuscript (test_libreoffice_copy_imports_as_word_s), so the
#: same outputs.
BUILT = ("letters", "delegation", "delegation-odt")


@pytest.fixture(scope="module")
def built(imported) -> Path:
    """Every imported work built once, as the import said to (``--check``), after
    the one edit it asked for: the alt text the .odt's image lacked."""
    project, said = imported
    assert all(status == 0 for status, _, _ in said.values()), said
    figure = project / "content/delegation-odt/text/03-arrival.md"
    figure.write_text(figure.read_text(encoding="utf-8").replace("![](", f"![{ODT_ALT}]("), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main([*BUILT, "--check", "-q", "--out", str(project / "dist")], project=project)
    assert status == 0, err.getvalue()
    return project / "dist"


# -- the imports ------------------------------------------------------------------------


def test_import_says_what_it_made_what_to_fill_in_and_how_to_build(imported):
    _, said = imported
    status, out, err = said["letters"]
    assert status == 0 and err == ""
    assert out.splitlines() == [
        "imported Letters from Pyongyang.docx as content/letters/ and bib/letters.bib: 2 section(s), 3 note(s), "
        "2 citation(s), 1 data table(s), 1 image(s)",
        "  to fill in, in content/letters/work.yaml: publisher",
        "  to fill in, in content/letters/work.yaml: rights",
        "  to check, in content/letters/work.yaml: date (2024-05-17: the day the file was last saved, not a publication date)",
        "build it with: python build.py letters --check",
    ]


def test_the_work_folder_is_in_the_work_format(imported, files):
    project, _ = imported
    work = project / "content/letters"
    assert sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file()) == [
        "tables/output-of-the-factories-visited.csv",
        "tables/output-of-the-factories-visited.yaml",
        "text/01-arrival.md",
        "text/02-work-and-figures.md",
        "text/images/figure-1.png",
        "work.yaml",
    ]
    arrival = (work / "text/01-arrival.md").read_text(encoding="utf-8")
    assert arrival.startswith("---\ntitle: Arrival\n---\n")
    # formatting kept as the Markdown writes it; notes in place, with their own formatting
    for kept in (
        "capital in *late spring*, as the **Rodong Sinmun** reported the next morning.[^1]",
        "[twelve]{.smallcaps} cities, measured CO~2~ in the 1^st^ district",
        "> We have seen a country rebuilt",
        "1.  Pyongyang and its factories",
        "- party officials",
        "First line of the song\\\nsecond line of the song.",
        "[^1]: The newspaper’s account is dated the *following* day.",
        "[^2]: [@kim2013everyday, p. 12]",
    ):
        assert kept in arrival
    figures = (work / "text/02-work-and-figures.md").read_text(encoding="utf-8")
    assert "## The Factories" in figures and "## The Return" in figures  # levelled below the title
    assert (
        "::: {#output-of-the-factories-visited .table}\nTable 1: Output of the factories visited, 1967\n:::" in figures
    )
    assert "![A red block standing for the factory floor plan](images/figure-1.png)" in figures
    assert "[^1]: [@szalontai2004political, p. 118]" in figures
    assert (work / "tables/output-of-the-factories-visited.csv").read_text() == (
        "factory,workers,tonnes\nHwanghae Iron,4200,310.5\nKangson Steel,3900,287.25\nNampo Glass,1150,42\n"
    )
    with zipfile.ZipFile(files["letters"]) as package:
        assert (work / "text/images/figure-1.png").read_bytes() == package.read("word/media/image1.png")
    meta = (work / "work.yaml").read_text(encoding="utf-8")
    for line in ("title: Letters from Pyongyang", "- name: Mira Song", "language: en-US", "bibliography: letters.bib"):
        assert line in meta


def test_zotero_fields_become_bibtex_entries(imported):
    project, _ = imported
    path = project / "bib/letters.bib"
    diags = Collector()
    entries = bibliography.parse(path.read_text(encoding="utf-8"), path, diags)
    assert not diags.items
    assert sorted(entries) == ["kim2013everyday", "szalontai2004political"]
    kim = entries["kim2013everyday"]
    assert kim.entry_type == "book"
    assert kim.fields["publisher"] == "Cornell University Press" and kim.fields["address"] == "Ithaca"
    assert entries["szalontai2004political"].fields["journal"] == "Cold War International History Project Bulletin"


def test_libreoffice_copy_imports_as_word_s(imported):
    """LibreOffice's .docx of the Word manuscript (its own XML for the same
    text, footnotes and fields) gives the same work."""
    project, _ = imported
    lo, word = project / "content/letters-lo", project / "content/letters"
    names = sorted(str(p.relative_to(word)) for p in word.rglob("*") if p.is_file() and p.name != "work.yaml")
    assert names == sorted(str(p.relative_to(lo)) for p in lo.rglob("*") if p.is_file() and p.name != "work.yaml")
    for name in names:
        assert (lo / name).read_bytes() == (word / name).read_bytes(), name
    assert (project / "bib/letters-lo.bib").read_text() == (project / "bib/letters.bib").read_text()


def test_odt_image_without_alt_text_is_named_where_to_write_one(imported):
    _, said = imported
    status, _, err = said["delegation-odt"]
    assert status == 0
    assert err.splitlines() == [
        "content/delegation-odt/text/03-arrival.md:15: warning: image 'images/figure-1.png' has no alt text in the "
        "manuscript: describe it between the brackets, ![A map of …](images/figure-1.png); the build refuses an "
        "image without one [import.alt-text]"
    ]


# -- the outputs against the manuscripts ---------------------------------------------------


def _pdf_words(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The author's words of the PDF (black), a super- or subscript joined to
    its word; and each note's words with the page it is printed on."""
    words: list[str] = []
    notes: list[tuple[int, list[str]]] = []
    with pdfplumber.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            found = page.extract_words(x_tolerance=2, extra_attrs=["non_stroking_color", "size"])
            black = [w for w in found if tuple(w["non_stroking_color"] or ()) == outputs.BLACK]
            lines: list[list[dict]] = []
            for word in sorted(black, key=lambda w: (w["size"] < 9.6, w["top"])):
                middle = (word["top"] + word["bottom"]) / 2
                line = next((ln for ln in lines if ln[0]["top"] - 1 <= middle <= ln[0]["bottom"] + 1), None)
                if line is None:
                    lines.append([word])
                else:
                    line.append(word)
            for line in sorted(lines, key=lambda ln: ln[0]["top"]):
                line.sort(key=lambda w: w["x0"])
                joined = [line[0]["text"]]
                for before, word in zip(line, line[1:], strict=False):
                    if word["x0"] - before["x1"] < 0.5:
                        joined[-1] += word["text"]
                    else:
                        joined.append(word["text"])
                words += joined
            note_words = [w for w in found if 8.0 <= w["size"] <= 8.6 and w not in black and w["top"] > 0.85 * 72]
            for line in outputs._lines(note_words):
                texts = [w["text"] for w in line]
                if re.fullmatch(r"\d+\.", texts[0]) and line[0]["x0"] < 100:
                    notes.append((number, texts[1:]))
                elif notes:
                    notes[-1][1].extend(texts)
    # list markers are the edition's (the EPUB's are drawn by its stylesheet)
    return [w for w in words if not re.fullmatch(r"\d+\.|•", w)], notes


def _epub_notes(path: Path) -> list[list[str]]:
    notes = []
    for _, data in outputs.epub_spine(path):
        root = etree.fromstring(data)
        for aside in root.iter(f"{outputs.XHTML}aside"):
            if "footnote" in (aside.get(f"{outputs.EPUB_NS}type") or ""):
                words = " ".join(aside.itertext()).split()
                notes.append(words[1:])  # after the back link, "1."
    return notes


def _expected(slug: str, files: dict[str, Path], pdf: bool = False) -> tuple[list[str], list[list[str]]]:
    words, notes = manuscripts.pandoc_reading(files[slug])
    if (
        slug == "delegation-odt"
    ):  # the alt text the author wrote in, before the caption Pandoc's ODT reader keeps as text
        text = " ".join(words)
        assert text.count(ODT_ALT) == 1
        words = text.replace(ODT_ALT, f"{ODT_ALT} {ODT_ALT}").split()
    return WORKS[slug][1].split() + _table_heads_out(slug, words, pdf), notes


#: The head row of each work's table, and whether the table is data (CSV and YAML).
TABLE_HEADS = {
    "letters": ("Factory Workers Tonnes", True),
    "delegation": ("Year Visitors Region", True),
    "delegation-odt": ("Year Visitors Region", False),  # no caption Pandoc's ODT reader sees: a Markdown table
}


def _table_heads_out(slug: str, words: list[str], pdf: bool) -> list[str]:
    """A table's head is printed in the edition's colour in the PDF, and a data
    table's head comes from its description (both checked in
    test_table_heads_are_printed)."""
    head, data = TABLE_HEADS[slug]
    if not (pdf or data):
        return words
    text = " ".join(words)
    assert text.count(f" {head} ") == 1
    return text.replace(f" {head} ", " ", 1).split()


def _compare(expected: list[str], actual: list[str], what: str) -> None:
    import difflib

    matcher = difflib.SequenceMatcher(a=expected, b=actual, autojunk=False)
    differences = [
        f"  {tag}: manuscript {expected[a1:a2]} | {what} {actual[b1:b2]}"
        for tag, a1, a2, b1, b2 in matcher.get_opcodes()
        if tag != "equal"
    ]
    assert not differences, f"{what} differs from the manuscript:\n" + "\n".join(differences)


@pytest.mark.parametrize("slug", BUILT)
def test_epub_text_is_the_manuscript_word_for_word(slug, files, built):
    words, notes = _expected(slug, files)
    epub = built / f"{slug}.epub"
    _compare(words, outputs.words_only(outputs.epub_items(epub)), f"{slug}.epub")
    assert _epub_notes(epub) == notes


@pytest.mark.parametrize("slug", BUILT)
def test_pdf_text_is_the_manuscript_word_for_word_each_note_on_its_call_s_page(slug, files, built):
    words, notes = _expected(slug, files, pdf=True)
    pdf = built / f"{slug}.pdf"
    printed, printed_notes = _pdf_words(pdf)
    _compare(words, printed, f"{slug}.pdf")
    assert [n for _, n in printed_notes] == notes
    calls = {call: page for page, info in enumerate(outputs.pdf_pages(pdf)) for call in info["calls"]}
    assert {number: page for number, (page, _) in enumerate(printed_notes, 1)} == calls


@pytest.mark.parametrize("slug", BUILT)
def test_table_heads_are_printed(slug, built):
    head, _ = TABLE_HEADS[slug]
    assert any(head in page["text"] for page in outputs.pdf_pages(built / f"{slug}.pdf"))
    heads = [
        "".join(th.itertext())
        for _, data in outputs.epub_spine(built / f"{slug}.epub")
        for th in etree.fromstring(data).iter(f"{outputs.XHTML}th")
        if "".join(th.itertext()) in head.split()
    ]
    assert heads == head.split()


# -- what the import refuses or warns about ---------------------------------------------------


#: The one run of ``_docx_with``'s paragraph, as python-docx writes it.
RUN = b'<w:r><w:t xml:space="preserve">One paragraph.</w:t></w:r>'


def _docx_with(tmp_path: Path, name: str, member: str, change=lambda data: data, add=None) -> Path:
    """A one-paragraph .docx with ``member`` changed (the change must change it) and members added."""
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("One paragraph.")])

    def changed(data: bytes) -> bytes:
        new = change(data)
        assert new != data or change(b"") == b"", "the test's change did not apply"
        return new

    return manuscripts.rewrite_member(source, tmp_path / name, member, changed, add)


def _ole(streams: list[str]) -> bytes:
    """The head of an OLE compound file and its directory's stream names, as
    Word writes a file with a password (``EncryptionInfo``, ``EncryptedPackage``)."""
    names = b"".join(name.encode("utf-16-le") + b"\0\0" for name in streams)
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + names + b"\0" * 1024


def _bomb(tmp_path: Path) -> Path:
    """A .docx whose document part inflates 1000 times (2 MiB of zeros from 2 KiB)."""
    path = _docx_with(tmp_path, "bomb.docx", "word/document.xml")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/media/padding.bin", b"\0" * (2 * 1024 * 1024))
    return path


REFUSED = {
    "not-a-zip": (lambda t: _write(t / "notes.docx", b"Dear editor, here is my chapter."), "import.format"),
    "damaged-zip": (
        lambda t: _write(t / "cut.docx", _docx_with(t, "whole.docx", "").read_bytes()[:2000]),
        "import.format",
    ),
    "word-97-doc": (lambda t: _write(t / "old.docx", _ole(["WordDocument", "1Table"])), "import.format"),
    "encrypted": (
        lambda t: _write(t / "secret.docx", _ole(["EncryptionInfo", "EncryptedPackage"])),
        "import.encrypted",
    ),
    "macros": (
        lambda t: _docx_with(
            t,
            "macros.docm",
            "[Content_Types].xml",
            lambda d: d.replace(b"document.main+xml", b"document.macroEnabled.main+xml"),
            {"word/vbaProject.bin": b'\xd0\xcf\x11\xe0 Attribute VB_Name = "NewMacros"'},
        ),
        "import.macros",
    ),
    "zip-bomb": (_bomb, "file.size"),
    "tracked-changes": (
        lambda t: _docx_with(
            t,
            "changes.docx",
            "word/document.xml",
            lambda d: d.replace(
                RUN,
                b'<w:ins w:id="1" w:author="Ed Itor" w:date="2024-01-01T00:00:00Z">' + RUN + b"</w:ins>",
            ),
        ),
        "import.tracked-changes",
    ),
    "not-a-manuscript": (lambda t: _write(t / "table.xlsx", b"PK\x03\x04"), "import.format"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_manuscript_gets_one_diagnostic_and_nothing_is_written(case, tmp_path, capsys):
    make, code = REFUSED[case]
    source = tmp_path / "in"
    source.mkdir()
    path = make(source)
    project = tmp_path / "project"
    project.mkdir()
    status, out, err = run_cli(["--import", str(path), "--slug", "work"], project, capsys)
    assert status == 2, err
    assert len(err) == 2 and err[1] == "import failed; nothing was written", err
    assert err[0].startswith(f"{path}: error: ") and err[0].endswith(f"[{code}]"), err
    assert "Traceback" not in "\n".join(err) and out == []
    assert not (project / "content" / "work").exists() and not (project / "bib").exists()


def test_refusal_messages_say_what_to_do(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    expected = {
        "tracked-changes": "the file has 1 unresolved tracked change(s) by Ed Itor; in Word, Review > Accept > "
        "Accept All Changes (or Reject > Reject All Changes), save, and import it again",
        "encrypted": "the file is encrypted with a password; remove the password",
        "macros": "the file carries macros (word/vbaProject.bin); the import never runs them",
        "zip-bomb": "inflates 1",
    }
    for case, words in expected.items():
        folder = tmp_path / case
        folder.mkdir()
        path = REFUSED[case][0](folder)
        _, _, err = run_cli(["--import", str(path)], project, capsys)
        assert words in err[0], err


def test_zip_bomb_is_refused_within_bounds(tmp_path):
    """The refusal comes from the ZIP directory: under 1 GiB of memory and a
    few CPU seconds, whatever the members declare."""
    path = _bomb(tmp_path)
    with zipfile.ZipFile(path) as package:  # the bomb is real: its member packs a thousand times smaller
        info = package.getinfo("word/media/padding.bin")
    assert info.file_size > 500 * info.compress_size
    result = run_bounded(
        [sys.executable, "-c", "import sys; from edition.cli import main; sys.exit(main())", "--import", str(path)],
        tmp_path,
        cpu_seconds=30,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 2, result.stderr
    assert "[file.size]" in result.stderr and "Traceback" not in result.stderr


def test_an_existing_work_is_never_overwritten(tmp_path, capsys):
    path = manuscripts.small_word(tmp_path / "Short Piece.docx", [manuscripts.text_run("New words.")])
    project = tmp_path / "project"
    (project / "content/short-piece/text").mkdir(parents=True)
    kept = project / "content/short-piece/text/01-old.md"
    kept.write_text("old words", encoding="utf-8")
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 2
    assert err[0] == (
        "content/short-piece: error: a work of this name exists and is never overwritten; to import "
        "a revised manuscript, import it under a new name (--slug short-piece-2) and compare the two folders, or "
        "remove content/short-piece/ and bib/short-piece.bib first [import.exists]"
    )
    assert kept.read_text(encoding="utf-8") == "old words"
    assert sorted(p.name for p in (project / "content").iterdir()) == ["short-piece"]  # no staging left
    status, out, _ = run_cli(["--import", str(path), "--slug", "short-piece-2"], project, capsys)
    assert status == 0 and out[-1] == "build it with: python build.py short-piece-2 --check"


def test_an_existing_bibtex_file_is_never_overwritten(tmp_path, capsys):
    cite = manuscripts.zotero_field(manuscripts.KIM, "12", manuscripts.KIM_NOTE, 1)
    path = manuscripts.small_word(
        tmp_path / "cited.docx", [manuscripts.text_run("Text.") + manuscripts.note_call(1)], [cite]
    )
    project = tmp_path / "project"
    (project / "bib").mkdir(parents=True)
    (project / "bib/cited.bib").write_text("% mine\n", encoding="utf-8")
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 2 and err[0].endswith("[import.exists]") and "bib/cited.bib" in err[0]
    assert (project / "bib/cited.bib").read_text(encoding="utf-8") == "% mine\n"
    assert not (project / "content/cited").exists()


def test_slug_must_be_a_work_name(tmp_path, capsys):
    path = manuscripts.small_word(tmp_path / "a.docx", [manuscripts.text_run("Text.")])
    status, _, err = run_cli(["--import", str(path), "--slug", "../x"], tmp_path, capsys)
    assert status == 2 and err[0].endswith("[file.name]")


def test_comments_are_dropped_and_listed(tmp_path, capsys):
    comments = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:comments xmlns:w="{manuscripts.W_NS}"><w:comment w:id="0" w:author="Ed Itor" w:date="2024-01-01T00:00:00Z">'
        "<w:p><w:r><w:t>Check this date.</w:t></w:r></w:p></w:comment></w:comments>"
    ).encode()
    path = _docx_with(
        tmp_path,
        "commented.docx",
        "word/document.xml",
        lambda d: d.replace(
            RUN,
            b'<w:commentRangeStart w:id="0"/>' + RUN + b'<w:commentRangeEnd w:id="0"/>',
        ),
        {"word/comments.xml": comments},
    )
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0
    assert err == [
        f"{path}: warning: comment by Ed Itor on 'One paragraph.' dropped (comments are no part of the text): "
        "'Check this date.' [import.comment]"
    ]
    text = (project / "content/commented/text/01-a-short-manuscript.md").read_text(encoding="utf-8")
    assert "One paragraph." in text and "Check this date" not in text


def test_entry_lacking_a_required_field_is_written_as_misc(tmp_path, capsys):
    book = {key: value for key, value in manuscripts.KIM.items() if key != "publisher"}
    cite = manuscripts.zotero_field(book, "12", manuscripts.KIM_NOTE, 1)
    path = manuscripts.small_word(
        tmp_path / "nopub.docx", [manuscripts.text_run("Text.") + manuscripts.note_call(1)], [cite]
    )
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0
    assert err == [
        "bib/nopub.bib:1: warning: the citation manager's entry 'kim2013everyday' (book) lacks publisher: it is "
        "written as @misc; add the missing data and change its type back to @book [import.citation]"
    ]
    assert (project / "bib/nopub.bib").read_text(encoding="utf-8").startswith("@misc{kim2013everyday,")


def test_note_in_a_heading_moves_after_it(tmp_path, capsys):
    path = manuscripts.small_word(
        tmp_path / "heading.docx",
        [manuscripts.text_run("The text under it.")],
        [manuscripts.text_run("A note on the heading.")],
        heading=manuscripts.text_run("Chapter One") + manuscripts.note_call(1),
    )
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0
    assert err[0].endswith("check its place [import.moved]") and "'Chapter One'" in err[0]
    text = (project / "content/heading/text/01-chapter-one.md").read_text(encoding="utf-8")
    assert text == "---\ntitle: Chapter One\n---\nThe text under it.[^1]\n\n[^1]: A note on the heading.\n"


def test_blocks_in_a_note_become_its_paragraphs(tmp_path, capsys):
    """A quotation in a Word footnote (a paragraph in the Quote style)."""
    quoted = '</w:p><w:p><w:pPr><w:pStyle w:val="Quote"/></w:pPr>' + manuscripts.text_run("Quoted in the note.")
    path = manuscripts.small_word(
        tmp_path / "quoted.docx",
        [manuscripts.text_run("Text.") + manuscripts.note_call(1)],
        [manuscripts.text_run("A note.") + quoted],
    )
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0 and err[0].endswith("[import.note]")
    assert err[0].startswith("content/quoted/text/01-a-short-manuscript.md:6: warning: the note beginning 'A note.")
    text = (project / "content/quoted/text/01-a-short-manuscript.md").read_text(encoding="utf-8")
    assert "[^1]: A note.\n\n    Quoted in the note.\n" in text


def test_equation_is_kept_as_code(tmp_path, capsys):
    path = manuscripts.pandoc_manuscript(tmp_path / "maths.docx", "# One\n\nThe area is $a^2$ here.\n")
    project = tmp_path / "project"
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0 and err[0].endswith("[import.equation]")
    assert "The area is `a^{2}` here." in (project / "content/maths/text/01-one.md").read_text(encoding="utf-8")


def test_vector_picture_is_refused_with_the_way_to_save_it(tmp_path, capsys):
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    word = manuscripts.word_manuscript(tmp_path / "source.docx")
    path = manuscripts.rewrite_member(word, tmp_path / "vector.docx", "word/media/image1.png", lambda _: svg)
    status, _, err = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 2
    assert "image 1 (word/media/image1.png) is a SVG picture" in err[0] and err[0].endswith("[import.image]")


def test_image_without_alt_text_is_refused_by_the_build_where_the_import_said(tmp_path, capsys):
    path = manuscripts.word_manuscript(tmp_path / "noalt.docx", alt_text=False)
    project = tmp_path / "project"
    shutil.copytree(ROOT / "templates", project / "templates")
    status, _, err = run_cli(["--import", str(path)], project, capsys)
    assert status == 0
    warning = err[0]
    assert warning.startswith("content/noalt/text/02-work-and-figures.md:14: warning: image 'images/figure-1.png'")
    status, _, err = run_cli(["noalt", "--format", "epub", "--out", str(tmp_path / "dist")], project, capsys)
    assert status == 2
    assert err[0].startswith(
        "content/noalt/text/02-work-and-figures.md:14: error: image 'images/figure-1.png' has no alt text"
    )


def test_text_typed_as_markdown_syntax_stays_the_author_s(tmp_path, capsys):
    """What the build's reader would turn into typography or a citation is
    written escaped: the characters print as typed."""
    typed = "Mail @rodong -- or ... *not* [1] <b> $5 # 1. done"
    path = manuscripts.small_word(tmp_path / "typed.docx", [manuscripts.text_run(typed)])
    project = tmp_path / "project"
    shutil.copytree(ROOT / "templates", project / "templates")
    assert run_cli(["--import", str(path)], project, capsys)[0] == 0
    assert run_cli(["typed", "--format", "epub", "--out", str(tmp_path / "dist")], project, capsys)[0] == 0
    assert typed in " ".join(outputs.words_only(outputs.epub_items(tmp_path / "dist/typed.epub")))


def _odt(tmp_path: Path, change) -> Path:
    source = manuscripts.pandoc_manuscript(tmp_path / "source.odt", "# One\n\nA last line.\n")
    return manuscripts.rewrite_member(source, tmp_path / "changed.odt", "content.xml", change)


def test_odt_comments_are_listed_and_tracked_changes_refused(tmp_path, capsys):
    annotated = _odt(
        tmp_path,
        lambda d: d.replace(
            b"A last line.",
            b"A last<office:annotation><dc:creator>Ed Itor</dc:creator><text:p>Note to self</text:p>"
            b"</office:annotation> line.",
        ),
    )
    status, _, err = run_cli(["--import", str(annotated)], tmp_path / "project", capsys)
    assert status == 0
    assert err == [
        f"{annotated}: warning: comment by Ed Itor dropped (comments are no part of the text): 'Note to self' [import.comment]"
    ]
    assert "Note to self" not in (tmp_path / "project/content/changed/text/01-one.md").read_text(encoding="utf-8")
    region = (
        b'<text:tracked-changes><text:changed-region text:id="ct1"><text:insertion><office:change-info>'
        b"<dc:creator>Ed Itor</dc:creator><dc:date>2024-01-01T00:00:00</dc:date></office:change-info>"
        b"</text:insertion></text:changed-region></text:tracked-changes>"
    )
    changed = _odt(tmp_path, lambda d: d.replace(b"<office:text>", b"<office:text>" + region))
    status, _, err = run_cli(["--import", str(changed), "--slug", "other"], tmp_path / "project", capsys)
    assert status == 2
    assert err[0] == (
        f"{changed}: error: the file has 1 unresolved tracked change(s) by Ed Itor; in LibreOffice, Edit > Track "
        "Changes > Manage > Accept All (or Reject All), save, and import it again (the import does not choose "
        "between two versions of the text) [import.tracked-changes]"
    )


def _zotero_prefs(style: str) -> bytes:
    """Zotero's document preferences, as it stores them in the custom properties."""
    prefs = (
        f'<data data-version="3" zotero-version="6.0"><session id="abc"/><style id="{style}" hasBibliography="1" '
        'bibliographyStyleHasBeenSet="0"/><prefs><pref name="fieldType" value="Field"/></prefs></data>'
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/'
        'officeDocument/2006/custom-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
        'docPropsVTypes"><property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="ZOTERO_PREF_1">'
        f"<vt:lpwstr>{escape(prefs)}</vt:lpwstr></property></Properties>"
    ).encode()


@pytest.mark.parametrize(
    ("style", "line"),
    [
        ("http://www.zotero.org/styles/chicago-author-date", "csl: chicago-author-date"),
        ("http://example.org/house", ""),
    ],
)
def test_zotero_document_style_becomes_the_work_s(style, line, tmp_path, capsys):
    cite = manuscripts.zotero_field(manuscripts.KIM, "12", "(Kim 2013, 12)", 0)
    source = manuscripts.small_word(tmp_path / "source.docx", [manuscripts.text_run("Text ") + cite])
    path = manuscripts.rewrite_member(
        source, tmp_path / "styled.docx", "", lambda d: d, add={"docProps/custom.xml": _zotero_prefs(style)}
    )
    status, out, _ = run_cli(["--import", str(path)], tmp_path / "project", capsys)
    assert status == 0
    meta = (tmp_path / "project/content/styled/work.yaml").read_text(encoding="utf-8")
    if line:
        assert line in meta.splitlines()
    else:
        assert "csl:" not in meta
        assert any("http://example.org/house, which is not among the installed styles" in o for o in out)
