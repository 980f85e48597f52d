"""Works written by other authors, as Pandoc users write them: what used to
break, read without building (the kitchen sink builds the rest)."""

from __future__ import annotations

import pytest

from edition.diagnostics import BuildFailed
from edition.fonts.scripts import right_to_left
from edition.read import safe_yaml
from edition.read.work import read_work

from .projects import BIB_MIN, make_project, section

TABLE = "content/test/tables/votes.yaml"
PLACED = section("::: {.table #votes}\nVotes\n:::\n")
CSV = "summit,yes,no,abstain\nBelgrade,20,5,3\n"


def _problems(project) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        read_work(project, "test")
    return [str(d).replace(str(project) + "/", "") for d in failed.value.diagnostics]


def test_yaml_reads_yes_and_no_as_text_as_pandoc_does():
    _, data = safe_yaml.load("yes: 1\nno: 2\non: off\nhidden: true\nshown: False\n")
    assert data == {"yes": 1, "no": 2, "on": "off", "hidden": True, "shown": False}


def test_a_table_with_columns_named_yes_and_no_reads(tmp_path):
    spec = "columns:\n  summit: text\n  yes: integer\n  no: integer\n  abstain: integer\n"
    project = make_project(
        tmp_path,
        sections={"01-one.md": PLACED},
        bib=BIB_MIN,
        extra={TABLE: spec, "content/test/tables/votes.csv": CSV},
    )
    table = read_work(project, "test").tables["votes"]
    assert [c.name for c in table.columns] == ["summit", "yes", "no", "abstain"]
    assert table.rows[0]["no"] == 5


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (
            "  - {label: Votes, columns: [yes, abstain]}\n",
            "the columns of group 'Votes' must stand side by side in the printed order",
        ),
        (
            "  - {label: Votes, columns: [yes, maybe]}\n",
            "column group 'Votes' names 'maybe', which is not a printed column",
        ),
        ("  - [yes, no]\n", "column group 1 must be written {label: Text, columns: [a, b]}"),
    ],
)
def test_a_column_group_that_cannot_be_printed_is_refused_at_its_line(tmp_path, groups, message):
    spec = "columns:\n  summit: text\n  yes: integer\n  no: integer\n  abstain: integer\ncolumn_groups:\n" + groups
    project = make_project(
        tmp_path,
        sections={"01-one.md": PLACED},
        bib=BIB_MIN,
        extra={TABLE: spec, "content/test/tables/votes.csv": CSV},
    )
    assert _problems(project) == [f"{TABLE}:6: error: {message} [meta.type]"]


def test_an_undated_misc_entry_is_read_and_an_undated_book_is_named_with_the_fix(tmp_path):
    bib = BIB_MIN + "@misc{leaflet,\n  title = {A Leaflet},\n}\n@book{nodate,\n  author = {Roe, J.},\n"
    bib += "  title = {A Book},\n  publisher = {P},\n}\n"
    project = make_project(tmp_path, sections={"01-one.md": section("Text [@leaflet].\n")}, bib=bib)
    assert _problems(project) == [
        "bib/test.bib:10: error: @book{nodate} lacks the field 'date or year'; write year = {n.d.} for an "
        "undated work [bib.missing-field]"
    ]


@pytest.mark.parametrize(
    ("tag", "rtl"),
    [
        ("ar", True),
        ("ar-Latn", False),
        ("he", True),
        ("jrb", True),
        ("az-Arab", True),
        ("ko-Latn", False),
        ("hi", False),
    ],
)
def test_direction_follows_the_script_a_language_tag_names(tag, rtl):
    assert right_to_left(tag) is rtl


def test_a_folder_of_sections_or_a_markdown_file_of_another_name_is_not_skipped_silently(tmp_path):
    project = make_project(
        tmp_path,
        bib=BIB_MIN,
        extra={
            "content/test/text/part-1/03-three.md": section("Three.\n"),
            "content/test/text/04-four.markdown": section("Four.\n"),
            "content/test/text/images/map.png": b"not read: no Markdown in this folder",
        },
    )
    assert _problems(project) == [
        "content/test/text/04-four.markdown: error: only .md files are read: rename it 04-four.md "
        "(or move it out of text/) [file.unread]",
        "content/test/text/part-1: error: a folder in text/ is not read: move its Markdown files into text/ "
        "(they are read in file-name order: 03-one.md, 04-two.md) [file.unread]",
    ]
