"""Course readers: the demo reader, and a reader of two works that share keys and names."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
from lxml import etree

from edition.pipeline import Options, run

from . import outputs, pdfa_check
from .projects import make_project, reader_head, section

SLUG = "north-korea-and-the-world"


@pytest.fixture(scope="module")
def reader(reader_dist):
    return reader_dist


@pytest.fixture(scope="module")
def pages(reader):
    return outputs.pdf_pages(reader / f"{SLUG}.pdf")


def test_the_demo_reader_builds_every_output(reader):
    for name in (
        f"{SLUG}.pdf",
        f"{SLUG}.epub",
        f"{SLUG}-pdfa.pdf",
        f"{SLUG}.permissions.csv",
        f"{SLUG}.preflight.json",
    ):
        assert (reader / name).stat().st_size > 0, name
    assert pdfa_check.check(reader / f"{SLUG}-pdfa.pdf") == []


def test_page_numbers_run_through_the_volume(pages):
    for number, page in enumerate(pages, 1):
        folio = page["text"].split()[-1] if page["text"].split() else ""
        if number == 1 or not page["lines"]:
            continue  # the title page and blank versos carry no folio
        assert folio == str(number), f"page {number} is numbered {folio!r}"


def test_notes_restart_per_reading_and_sit_on_their_pages(reader, pages):
    calls = [n for p in pages for n in p["calls"]]
    assert calls == list(range(1, 62))  # the essay's 61; the documents have none
    assert outputs.notes_on_their_pages(reader / f"{SLUG}.pdf") == {}


def test_each_reading_has_its_title_block_and_source_line(reader):
    spine = dict(outputs.epub_spine(reader / f"{SLUG}.epub"))
    heads = [spine[f"r{n}-juche-titlepage.xhtml"].decode() for n in (1, 3, 4, 5)]  # r2 is a PDF reading
    assert "Charles K. Armstrong" in heads[0] and "Excerpted from Charles K. Armstrong" in heads[0]
    for n, head in enumerate(heads[1:], 1):
        assert f"Printed as Document No. {n} in Charles K. Armstrong" in head
        assert "Columbia University" not in head  # a document is not Armstrong's


def test_each_reading_keeps_its_own_bibliography(reader):
    spine = dict(outputs.epub_spine(reader / f"{SLUG}.epub"))
    essay = re.findall(r'id="r1-juche--ref-([^"]+)"', spine["r1-juche-bibliography.xhtml"].decode())
    assert sorted(essay) == ["armstrong2009juche", "hungary1967report", "sed1977report", "sed1984memorandum"]
    assert not any(name.startswith(("r2-", "r3-", "r4-", "r5-")) and "bibliography" in name for name in spine)


def test_links_to_documents_in_other_readings(reader):
    spine = dict(outputs.epub_spine(reader / f"{SLUG}.epub"))
    essay = spine["r1-juche-06-north-koreans-in-ethiopia.xhtml"].decode()
    assert 'href="r5-juche-document-3.xhtml#r5-juche--document-3"' in essay
    assert 'id="r5-juche--document-3"' in spine["r5-juche-document-3.xhtml"].decode()


def test_ids_never_collide_across_the_epub(reader):
    ids = Counter()
    for _, data in outputs.epub_spine(reader / f"{SLUG}.epub"):
        ids.update(e.get("id") for e in etree.fromstring(data).iter() if e.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []


def test_two_level_navigation(reader):
    nav = etree.fromstring(dict(outputs.epub_spine(reader / f"{SLUG}.epub"))["nav.xhtml"])
    toc = nav.find(".//{*}nav[@role='doc-toc']/{*}ol")
    top = [li.find("{*}a").text for li in toc.findall("{*}li")]
    assert top == [
        "Introduction",
        "Juche and North Korea’s Global Aspirations",
        "Study Guide: North Korea and the World, 1967–1984",
        "Kim Il Sung and the Cuban Ambassador (1967)",
        "Honecker’s Visit to the DPRK (1977)",
        "Honecker and Kim Il Sung in Berlin (1984)",
        "Permissions",
    ]
    essay = toc.findall("{*}li")[1]
    assert [a.text for a in essay.find("{*}ol").findall("{*}li/{*}a")][:2] == [
        "Engaging the World",
        "A Global Development Model",
    ]


def test_page_list_follows_the_volume(reader):
    rows = list(csv.DictReader((reader / f"{SLUG}.permissions.csv").open(encoding="utf-8")))
    pdf_pages = {
        n for r in rows if r["kind"] == "pdf" for n in range(int(r["first_page"]) + 1, int(r["last_page"]) + 1)
    }
    outputs.assert_markers_match_pages(reader / f"{SLUG}.pdf", reader / f"{SLUG}.epub", pdf_pages)


def test_epubcheck_passes_the_reader(reader):
    check = outputs.epubcheck(reader / f"{SLUG}.epub")
    assert [f"{m.id} {m.location}: {m.message}" for m in check.messages] == []


def test_per_reading_metadata(reader):
    opf = outputs.opf(reader / f"{SLUG}.epub")
    sources = [e.text for e in opf.iterfind(".//{http://purl.org/dc/elements/1.1/}source")]
    assert sum(s.startswith("Printed as Document No.") for s in sources) == 3
    assert sum(s.startswith("Reproduced from HIST 389 Teaching Team") for s in sources) == 1  # the PDF reading
    assert [e.text for e in opf.iterfind(".//{http://purl.org/dc/elements/1.1/}contributor")] == [
        "Charles K. Armstrong",
        "HIST 389 Teaching Team",
    ]


def test_permissions_report_matches_the_pdf(reader, pages):
    rows = list(csv.DictReader((reader / f"{SLUG}.permissions.csv").open(encoding="utf-8")))
    assert [r["title"] for r in rows] == [
        "Juche and North Korea’s Global Aspirations",
        "Study Guide: North Korea and the World, 1967–1984",
        "Kim Il Sung and the Cuban Ambassador (1967)",
        "Honecker’s Visit to the DPRK (1977)",
        "Honecker and Kim Il Sung in Berlin (1984)",
    ]
    for row, following in zip(rows, rows[1:] + [None], strict=True):
        first, last = int(row["first_page"]), int(row["last_page"])
        assert int(row["pages"]) == last - first + 1
        opening = " ".join(" ".join(line) for line in pages[first - 1]["lines"][:3])
        assert row["title"].split(" (")[0] in opening, (row["title"], opening)
        if following:
            assert int(following["first_page"]) > last
            # nothing of the next reading before its first page
            assert following["title"].split(" (")[0] not in " ".join(
                " ".join(line) for line in pages[last - 1]["lines"][:3]
            )
    assert 0 < float(rows[0]["share_of_original"]) < 1
    text = re.sub(r"\s+", " ", pages[-1]["text"])
    assert "Permissions" in text and f"{rows[2]['first_page']}–{rows[2]['last_page']}" in text


# -- a reader of two works that share BibTeX keys and section names --------------------

ALPHA_BIB = (
    "@book{smith2000,\n  author = {Smith, Anna},\n  title = {Alpha Book},\n  publisher = {P},\n  date = {2000},\n}\n"
)
BETA_BIB = (
    "@book{smith2000,\n  author = {Smith, Bob},\n  title = {Beta Book},\n  publisher = {Q},\n  date = {2001},\n}\n"
)
WORK = """title: {title}
authors:
  - name: {author}
publisher: Test Press
date: 2020-01
language: en
identifier: urn:uuid:00000000-0000-4000-8000-00000000000{n}
rights: Test rights.
bibliography: {slug}.bib
"""
READER = (
    reader_head("Two Works")
    + """readings:
  - work: alpha
  - work: beta
"""
)


def test_two_works_sharing_keys_and_section_names(tmp_path):
    body = section("Opening.[^1] More.[^2]\n\n[^1]: [@smith2000, 3]\n[^2]: [@smith2000, 4]\n", title="Introduction")
    project = make_project(
        tmp_path,
        slug="alpha",
        sections={"01-intro.md": body},
        bib=ALPHA_BIB,
        work_yaml=WORK.format(title="Alpha", author="Anna Smith", n=1, slug="alpha"),
        extra={
            "content/beta/work.yaml": WORK.format(title="Beta", author="Bob Smith", n=2, slug="beta"),
            "content/beta/text/01-intro.md": body,
            "bib/beta.bib": BETA_BIB,
            "readers/two.yaml": READER,
        },
    )
    run(Options(project=project, out=tmp_path / "dist", slugs=("two",), formats=("pdf", "epub")))
    spine = dict(outputs.epub_spine(tmp_path / "dist/two.epub"))
    assert "Alpha Book" in spine["r1-alpha-bibliography.xhtml"].decode()
    assert "Beta Book" in spine["r2-beta-bibliography.xhtml"].decode()
    assert "Beta Book" not in spine["r1-alpha-bibliography.xhtml"].decode()
    ids = Counter()
    for _, data in spine.items():
        ids.update(e.get("id") for e in etree.fromstring(data).iter() if e.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    calls = [n for p in outputs.pdf_pages(tmp_path / "dist/two.pdf") for n in p["calls"]]
    assert calls == [1, 2, 1, 2]  # note numbers restart per reading
    check = outputs.epubcheck(tmp_path / "dist/two.epub")
    assert [f"{m.id}: {m.message}" for m in check.messages] == []
