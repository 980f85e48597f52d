"""Tables of any shape: any declared columns, typed values, numbers aligned on
the decimal point, units, totals, groups, source lines and notes, wide tables;
every column accounted for; every option checked with file:line."""

from __future__ import annotations

import re
import zipfile

import pdfplumber
import pytest
from lxml import etree

from edition.outputs.checks import epubcheck as checks
from edition.pipeline import Options, run

from . import outputs
from .builds import cli_epub as run_build
from .builds import relative
from .projects import BIB_MIN, WORK_YAML, make_project, section

H = "{http://www.w3.org/1999/xhtml}"
TRADE_YAML = """\
caption: Trade with selected partners, 1985
columns:
  partner: {type: text, header: Partner}
  exports: {type: decimal, header: Exports, unit: US$ million}
  imports: {type: decimal, header: Imports, unit: US$ million}
  share: {type: percent, header: Share}
  population: {type: integer, header: Population}
  signed: {type: date, header: Agreement signed}
totals: {label: All partners, columns: [exports, imports, population]}
source: Kim, *Foreign Trade* (1988), table 4.
notes:
  - Figures rounded by the source.
  - Dates of the first trade agreement.
"""
TRADE_CSV = """\
partner,exports,imports,share,population,signed
Soviet Union,612.5,1043.25,48.2,278800000,1949-03-17
China,250,290.1,20.5%,1050000000,1953-11
Japan,170.75,,12,121000000,
East Germany,-3.5,40.0,3.1,16600000,1955
"""
REGIONS_YAML = """\
columns:
  year: {type: integer, header: Year}
  region: {type: text, header: Region}
  count: {type: integer, header: Countries}
group_by: year
totals: [count]
subtotals: true
wide: small
"""
REGIONS_CSV = "year,region,count\n1971,Europe,2\n1971,Middle East,1\n1972,Africa,5\n1972,Asia-Pacific,3\n"
#: Four-digit counts whose total reaches 10,000: the column (total included) groups its digits.
COUNTS_YAML = (
    "columns:\n  year: {type: integer, header: Year}\n  vessels: {type: integer, header: Vessels}\ntotals: [vessels]\n"
)
COUNTS_CSV = "year,vessels\n1903,1133\n1904,9000\n1905,1485\n"
WIDE_COLUMNS = [f"y{1970 + i}" for i in range(14)]
WIDE_YAML = (
    "caption: Fourteen years of output\nwide: rotate\ncolumns:\n  name: {type: text, header: Country}\n"
    + "".join(f"  {c}: {{type: decimal, header: '{c[1:]}', unit: t}}\n" for c in WIDE_COLUMNS)
)
WIDE_CSV = (
    "name,"
    + ",".join(WIDE_COLUMNS)
    + "\n"
    + "".join(f"Country {r}," + ",".join(f"{(r + 1) * (i + 3) * 17.3:.1f}" for i in range(14)) + "\n" for r in range(8))
)
BODY = """\
The figures follow.

::: {.table #trade}
:::

By region and year.

::: {.table #regions}
Diplomatic relations by region
:::

A wide table stands on a page of its own.

::: {.table #wide}
:::

After the wide table the text goes on.

::: {.table #counts}
Vessels cleared
:::
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    extra = {
        "content/test/tables/trade.yaml": TRADE_YAML,
        "content/test/tables/trade.csv": TRADE_CSV,
        "content/test/tables/regions.yaml": REGIONS_YAML,
        "content/test/tables/regions.csv": REGIONS_CSV,
        "content/test/tables/wide.yaml": WIDE_YAML,
        "content/test/tables/wide.csv": WIDE_CSV,
        "content/test/tables/counts.yaml": COUNTS_YAML,
        "content/test/tables/counts.csv": COUNTS_CSV,
    }
    project = make_project(root, sections={"01-one.md": section(BODY, "Trade")}, bib=BIB_MIN, extra=extra)
    # strict: no preflight fault (the wide table fits its landscape page), no warning
    run(Options(project=project, out=root / "dist", check=True, strict=True))
    return root / "dist"


def _tables(dist) -> dict[str, etree._Element]:
    root = etree.fromstring(dict(outputs.epub_spine(dist / "test.epub"))["test-01-one.xhtml"])
    return {div.get("id").rsplit("-", 1)[-1]: div for div in root.iter(f"{H}div") if "table-block" in div.get("class")}


def _cells(row: etree._Element) -> list[str]:
    return [" ".join(c.xpath("string()").replace("\u2007", " ").replace("\u2008", " ").split()) for c in row]


def test_every_column_prints_with_its_header_and_unit(built):
    table = _tables(built)["trade"].find(f"{H}table")
    assert table.find(f"{H}caption").xpath("string()") == "Table 1. Trade with selected partners, 1985"
    heads = table.findall(f"{H}thead/{H}tr/{H}th")
    assert all(h.get("scope") == "col" for h in heads)
    assert _cells(heads) == [
        "Partner",
        "Exports (US$ million)",
        "Imports (US$ million)",
        "Share (%)",
        "Population",
        "Agreement signed",
    ]
    assert heads[1].find(f"{H}span").get("class") == "unit"


def test_values_print_by_their_type(built):
    rows = _tables(built)["trade"].findall(f"{H}table/{H}tbody/{H}tr")
    assert [_cells(r) for r in rows] == [
        ["Soviet Union", "612.5", "1043.25", "48.2", "278,800,000", "17 March 1949"],
        ["China", "250", "290.1", "20.5", "1,050,000,000", "November 1953"],
        ["Japan", "170.75", "\u2014", "12", "121,000,000", "\u2014"],
        ["East Germany", "\u22123.5", "40.0", "3.1", "16,600,000", "1955"],
        ["All partners", "1029.75", "1373.35", "", "1,466,400,000", ""],
    ]
    first = rows[0]
    assert first[0].tag == f"{H}th" and first[0].get("scope") == "row"
    assert [c.get("class") for c in first[1:]] == ["num", "num", "num", "num", "date"]
    assert "total" in rows[-1].get("class")


def test_a_column_whose_total_reaches_ten_thousand_groups_every_figure(built):
    """The counts are four-digit, their total five: the column groups them all
    (CMOS 9.55), so "1,133" lines up above "11,618"; the years stay "1903"."""
    rows = _tables(built)["counts"].findall(f"{H}table/{H}tbody/{H}tr")
    assert [_cells(r) for r in rows] == [["1903", "1,133"], ["1904", "9,000"], ["1905", "1,485"], ["Total", "11,618"]]
    with pdfplumber.open(built / "test.pdf") as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "1903 1,133" in text and "Total 11,618" in text


def test_numbers_line_up_on_the_decimal_point_in_print(built):
    """The point of every exports figure (or, in a whole number, the
    punctuation space standing for it) sits at one x in the PDF."""
    with pdfplumber.open(built / "test.pdf") as pdf:
        page = next(p for p in pdf.pages if "Soviet Union" in (p.extract_text() or ""))
        words = page.extract_words()
        chars = page.chars
    head = next(w for w in words if w["text"] == "Exports")
    points = {}
    for label in ("Soviet", "China", "Japan", "East", "All"):
        row = next(w for w in words if w["text"] == label and w["x0"] < head["x0"])
        points[label] = [
            c["x0"]
            for c in chars
            if abs(c["top"] - row["top"]) < 2 and c["text"] in ".\u2008" and head["x0"] - 30 < c["x0"] < head["x1"]
        ]
    assert all(len(xs) == 1 for xs in points.values()), points
    xs = [x for found in points.values() for x in found]
    assert max(xs) - min(xs) < 0.5, points


def test_source_line_and_notes_follow_the_table(built):
    foot = _tables(built)["trade"].find(f"{H}div[@class='table-foot']")
    paragraphs = [" ".join(p.xpath("string()").split()) for p in foot]
    assert paragraphs == [
        "Source: Kim, Foreign Trade (1988), table 4.",
        "a. Figures rounded by the source.",
        "b. Dates of the first trade agreement.",
    ]
    assert foot.find(f"{H}p/{H}em").text == "Foreign Trade"


def test_groups_have_heading_rows_subtotals_and_a_total(built):
    block = _tables(built)["regions"]
    assert "table-small" in block.get("class")
    bodies = block.findall(f"{H}table/{H}tbody")
    assert [[_cells(r) for r in body] for body in bodies] == [
        [["1971"], ["Europe", "2"], ["Middle East", "1"], ["Total, 1971", "3"]],
        [["1972"], ["Africa", "5"], ["Asia-Pacific", "3"], ["Total, 1972", "8"]],
        [["Total", "11"]],
    ]
    assert bodies[0][0][0].get("scope") == "rowgroup" and bodies[0][0][0].get("colspan") == "2"


def test_a_wide_table_stands_on_a_landscape_page_and_scrolls_in_the_epub(built):
    with pdfplumber.open(built / "test.pdf") as pdf:
        sizes = {
            ("wide" if "Fourteen years of output" in (p.extract_text() or "") else "other"): (p.width, p.height)
            for p in pdf.pages
        }
        text = [p.extract_text() or "" for p in pdf.pages]
    width, height = sizes["wide"]
    assert width > height
    other_width, other_height = sizes["other"]
    assert (width, height) == (other_height, other_width)
    wide_page = next(i for i, t in enumerate(text) if "Fourteen years" in t)
    assert "Country 7" in text[wide_page] and "1983" in text[wide_page]
    assert "After the wide table" in text[wide_page + 1]
    assert "table-rotate" in _tables(built)["wide"].get("class")
    with zipfile.ZipFile(built / "test.epub") as z:
        assert re.search(r"\.table-block\[tabindex\] \{ overflow-x: auto; \}", z.read("EPUB/css/epub.css").decode())
    block = _tables(built)["wide"]
    assert (block.get("role"), block.get("tabindex")) == ("region", "0")
    assert block.get("aria-labelledby") == block.find(f"{H}table/{H}caption").get("id")


def test_the_epub_passes_epubcheck_and_ace_with_its_wide_tables(built, tmp_path):
    assert checks.epubcheck((built / "test.epub").read_bytes(), "test.epub") == []
    assert outputs.ace_violations(built / "test.epub", tmp_path / "ace") == []


def test_a_small_table_is_set_smaller_in_print(built):
    with pdfplumber.open(built / "test.pdf") as pdf:
        words = [w for p in pdf.pages for w in p.extract_words(extra_attrs=["size"])]
    europe = next(w["size"] for w in words if w["text"] == "Europe")
    body = next(w["size"] for w in words if w["text"] == "figures")
    assert europe < 0.8 * body


def test_a_table_wider_than_the_page_is_a_preflight_fault(tmp_path):
    extra = {
        "content/test/tables/wide.yaml": WIDE_YAML.replace("wide: rotate\n", ""),
        "content/test/tables/wide.csv": WIDE_CSV,
        "content/test/tables/counts.yaml": COUNTS_YAML,
        "content/test/tables/counts.csv": COUNTS_CSV,
    }
    body = "Text.\n\n::: {.table #wide}\n:::\n"
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN, extra=extra)
    result = run(Options(project=project, out=tmp_path / "dist", formats=("pdf",)))
    faults = result.preflight["test"].faults["overfull_lines"]
    assert [f["line"] for f in faults] == ["table: Table 1. Fourteen years of output"]
    assert faults[0]["over_by_px"] > 50


BAD_TABLES = {
    "unknown column key": (
        "columns:\n  year: integer\n  gdp: {type: decimal, unti: bn}\n",
        "year,gdp\n1971,2.5\n",
        [
            "content/test/tables/t.yaml:3: error: unknown key 'unti' in column 'gdp' (did you mean 'unit'?) [meta.unknown-key]"
        ],
    ),
    "unknown type": (
        "columns:\n  year: integer\n  gdp:\n    type: float\n",
        "year,gdp\n1971,2.5\n",
        [
            "content/test/tables/t.yaml:4: error: column 'gdp' has unknown type 'float'; "
            "use one of integer, decimal, percent, text, date [meta.type]"
        ],
    ),
    "places on a text column": (
        "columns:\n  name: {type: text, places: 2}\n",
        "name\nMalta\n",
        [
            "content/test/tables/t.yaml:2: error: 'places' of column 'name' must be 0 to 10, "
            "for a decimal or percent column [meta.type]"
        ],
    ),
    "column a grouped list does not print": (
        "columns:\n  year: integer\n  country: text\n  region: text\ngroup_by: year\nlist_column: country\n",
        "year,country,region\n1971,Malta,Europe\n",
        [
            "content/test/tables/t.yaml:4: error: column 'region' is not printed by a grouped list "
            "(group_by + list_column): mark it 'hidden: true' or leave out 'list_column' [meta.type]"
        ],
    ),
    "totals of a text column": (
        "columns:\n  name: text\n  capital: text\n  gdp: decimal\ntotals: [capital]\n",
        "name,capital,gdp\nMalta,Valletta,2.5\n",
        [
            "content/test/tables/t.yaml:5: error: 'totals' names 'capital': only printed integer, decimal "
            "or percent columns are summed [meta.type]"
        ],
    ),
    "row header not a column": (
        "columns:\n  name: text\n  gdp: decimal\nrow_header: nmae\n",
        "name,gdp\nMalta,2.5\n",
        [
            "content/test/tables/t.yaml:4: error: 'row_header' names 'nmae', which is not a declared column "
            "(did you mean 'name'?) [meta.type]"
        ],
    ),
    "wide": (
        "columns:\n  name: text\nwide: huge\n",
        "name\nMalta\n",
        ["content/test/tables/t.yaml:3: error: 'wide' must be one of small, rotate, not 'huge' [meta.type]"],
    ),
    "decimal with a comma": (
        "columns:\n  name: text\n  gdp: decimal\n",
        'name,gdp\nMalta,2.5\nChile,"1,234.5"\n',
        [
            "content/test/tables/t.csv:3: error: gdp '1,234.5' is not decimal "
            "(write digits with a point, as 1234.5) [csv.type]"
        ],
    ),
    "date": (
        "columns:\n  name: text\n  signed: date\n",
        "name,signed\nMalta,1977-13-01\n",
        [
            "content/test/tables/t.csv:2: error: signed '1977-13-01' is not date "
            "(write an ISO date: 1977, 1977-12 or 1977-12-13) [csv.type]"
        ],
    ),
    "undeclared column": (
        "columns:\n  name: text\n",
        "name,gdp\nMalta,2.5\n",
        [
            "content/test/tables/t.csv:1: error: column 'gdp' is not declared in t.yaml; declare it under "
            "'columns' (with 'hidden: true' to leave it unprinted) [csv.header]"
        ],
    ),
    "no caption": (
        "columns:\n  name: text\n",
        "name\nMalta\n",
        [
            "content/test/text/01-one.md:6: error: table 't' has no caption: write it inside the div "
            "or give 'caption' in tables/t.yaml [meta.missing]"
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TABLES))
def test_a_bad_table_names_its_line(case, tmp_path, capsys):
    spec, data, expected = BAD_TABLES[case]
    body = "Text.\n\n::: {.table #t}\n:::\n" if case == "no caption" else "Text.\n\n::: {.table #t}\nCaption\n:::\n"
    extra = {"content/test/tables/t.yaml": spec, "content/test/tables/t.csv": data}
    project = make_project(tmp_path, sections={"01-one.md": section(body)}, bib=BIB_MIN, extra=extra)
    status, lines = run_build(project, capsys)
    assert relative(lines, project) == expected
    assert status == 2


DOCUMENT = '---\nnumber: 2\ntitle: "A report"\nsource_line: "[Source: an archive.]"\n---\nThe report.\n'


@pytest.mark.parametrize(
    ("pattern", "label"),
    [(None, "Document No. 2"), ("DOCUMENT No. {number}", "DOCUMENT No. 2"), ("Doc. {number}", "Doc. 2")],
)
def test_a_document_without_a_label_gets_the_works_pattern(tmp_path, capsys, pattern, label):
    work_yaml = WORK_YAML.format(slug="test") + (f'document_label: "{pattern}"\n' if pattern else "")
    project = make_project(tmp_path, bib=BIB_MIN, work_yaml=work_yaml, extra={"content/test/documents/2.md": DOCUMENT})
    status, lines = run_build(project, capsys)
    assert (status, lines) == (0, [])
    xhtml = dict(outputs.epub_spine(project / "dist/test.epub"))["test-document-2.xhtml"].decode()
    assert f'<p class="document-label" data-title="{label}">{label}</p>' in xhtml


def test_a_label_pattern_without_the_number_is_refused(tmp_path, capsys):
    work_yaml = WORK_YAML.format(slug="test") + 'document_label: "Document {num}"\n'
    project = make_project(tmp_path, bib=BIB_MIN, work_yaml=work_yaml)
    status, lines = run_build(project, capsys)
    assert status == 2
    assert relative(lines, project) == [
        "content/test/work.yaml:11: error: 'document_label' is 'Document {num}': '{num}' is not {number}; "
        'write text with {number} once in it, as "Document No. {number}" (no other braces, no format) [meta.type]'
    ]


def test_the_grouping_of_digits_follows_the_printed_value():
    """A value printed with fewer decimals is rounded before the column is
    measured against 10,000: 9999.7 with no decimals prints "10,000"."""
    from decimal import Decimal

    from edition.model import Column
    from edition.render.tabular import column_format, format_number

    rounded = Column("x", "decimal", "X", places=0)
    fmt = column_format(rounded, [Decimal("9999.7"), Decimal("12.2")])
    assert [format_number(v, fmt) for v in (Decimal("9999.7"), Decimal("12.2"))] == ["10,000", "12"]
    as_written = Column("x", "decimal", "X")
    fmt = column_format(as_written, [Decimal("9999.7")])
    assert format_number(Decimal("9999.7"), fmt) == "9999.7"
