"""The PDF/UA checker: each rule broken once in the real paper's PDF, to see it
fail; WeasyPrint's own PDF/UA output fails it; the build claims PDF/UA only
when it passes."""

from __future__ import annotations

import io
import logging

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from edition.outputs.checks import pdfua as checker
from edition.outputs.pdf import archival

from .builds import first_layout, typesetting
from .pdfua_check import RULES, File, check
from .projects import BIB_MIN, make_project, section


@pytest.fixture(scope="module")
def paper(built) -> bytes:
    return built.pdf.read_bytes()


def elements(pdf: pikepdf.Pdf, role: str) -> list:
    return [e for e in File(pdf).elements if e.role == role]


def xmp_without(key: str):
    def mutate(pdf: pikepdf.Pdf) -> None:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            del meta[key]

    return mutate


def append(page: int, data: bytes, prepend: bytes = b""):
    def mutate(pdf: pikepdf.Pdf) -> None:
        if prepend:
            pdf.pages[page].contents_add(pdf.make_stream(prepend), prepend=True)
        pdf.pages[page].contents_add(pdf.make_stream(data))

    return mutate


def rewrite_marked(page_of, change):
    """Rewrite the BDC property lists of a page's content stream."""

    def mutate(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[page_of(pdf)]
        ops = []
        for op in pikepdf.parse_content_stream(page):
            if str(op.operator) == "BDC" and isinstance(op.operands[1], Dictionary):
                op = pikepdf.ContentStreamInstruction([op.operands[0], change(op.operands[1])], op.operator)
            ops.append(op)
        page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(ops))

    return mutate


def _without_actual_text(props: Dictionary) -> Dictionary:
    return Dictionary({k: v for k, v in props.items() if k != "/ActualText"})


def _as_layout(props: Dictionary) -> Dictionary:
    return Dictionary(Type=Name.Layout) if props.get("/Type") == "/Pagination" else props


def _page_with_hyphen(pdf: pikepdf.Pdf) -> int:
    return next(s.page for s in File(pdf).sequences if "/ActualText" in s.props and s.text.endswith("\u2010"))


def _set(getter, key: str, value):
    def mutate(pdf: pikepdf.Pdf) -> None:
        getter(pdf)[key] = value

    return mutate


def _drop_mcid(pdf: pikepdf.Pdf) -> None:
    paragraph = elements(pdf, "P")[0].obj
    paragraph.K = Array([k for k in paragraph.K if not isinstance(k, int)][:0] + list(paragraph.K)[1:])


def _drop_objr(pdf: pikepdf.Pdf) -> None:
    link = elements(pdf, "Link")[0].obj
    link.K = Array([k for k in link.K if not (isinstance(k, Dictionary) and k.get("/Type") == "/OBJR")])


def _contents_as_destination(pdf: pikepdf.Pdf) -> None:
    annotation = pdf.pages[1].Annots[0]
    annotation.Contents = annotation.Dest


def _drop(getter, key: str):
    def mutate(pdf: pikepdf.Pdf) -> None:
        del getter(pdf)[key]

    return mutate


def _marker_span(pdf: pikepdf.Pdf):
    return next(e.obj for e in elements(pdf, "Span") if "original page" in str(e.obj.get("/ActualText", "")))


def _leaders_in_text(pdf: pikepdf.Pdf) -> None:
    elements(pdf, "Reference")[0].obj.ActualText = String("Engaging the World . . . . . . 3")


def _first_font(pdf: pikepdf.Pdf):
    return next(iter(pdf.pages[2].Resources.Font.values()))


def _descriptor(pdf: pikepdf.Pdf):
    return _first_font(pdf).DescendantFonts[0].FontDescriptor


#: One way to break each rule.
BREAKS = {
    "pdfua_identification": xmp_without("pdfuaid:part"),
    "xmp_title": xmp_without("dc:title"),
    "display_doc_title": _set(lambda pdf: pdf.Root.ViewerPreferences, "/DisplayDocTitle", False),
    "tagged": _set(lambda pdf: pdf.Root.MarkInfo, "/Suspects", True),
    "document_language": _set(lambda pdf: pdf.Root, "/Lang", String("English!")),
    "standard_types": _set(lambda pdf: pdf.Root.StructTreeRoot, "/RoleMap", Dictionary(P=Name.Span)),
    "content_tagged_or_artifact": append(2, b"\n0 0 m 90 90 l S\n"),
    "artifacts_and_content_apart": append(2, b"\nEMC\n", prepend=b"/Artifact BMC\n"),
    "marked_content_in_tree": _drop_mcid,
    "headings": _set(lambda pdf: elements(pdf, "H2")[0].obj, "/S", Name("/H4")),
    "table_structure": _set(lambda pdf: elements(pdf, "TR")[0].obj, "/S", Name.P),
    "table_headers": _set(lambda pdf: elements(pdf, "TD")[0].obj.A, "/Headers", Array([String("nowhere")])),
    "list_structure": _set(lambda pdf: elements(pdf, "LI")[0].obj, "/S", Name.P),
    "toc_structure": _set(lambda pdf: elements(pdf, "TOCI")[0].obj, "/S", Name.P),
    "notes": _drop(lambda pdf: elements(pdf, "Note")[0].obj, "/ID"),
    "figures_alt": _set(lambda pdf: elements(pdf, "P")[0].obj, "/S", Name.Figure),
    "annotations_in_structure": _drop_objr,
    "link_contents": _contents_as_destination,
    "tab_order": _drop(lambda pdf: pdf.pages[1].obj, "/Tabs"),
    "page_furniture": rewrite_marked(lambda _pdf: 2, _as_layout),
    "leaders_and_rules": _leaders_in_text,
    "page_markers": _drop(_marker_span, "/ActualText"),
    "hyphenation": rewrite_marked(_page_with_hyphen, _without_actual_text),
    "unicode_mapping": _drop(_first_font, "/ToUnicode"),
    "fonts_embedded": _drop(_descriptor, "/FontFile2"),
}


def test_every_rule_is_broken_once():
    assert set(BREAKS) == {rule.__name__ for rule in RULES}


def test_the_paper_passes_every_rule(paper):
    assert check(paper) == []


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_breaking_a_rule_fails_it(paper, rule):
    """The paper passes every rule (the test above); broken once, the rule fails."""
    with pikepdf.open(io.BytesIO(paper)) as pdf:
        BREAKS[rule.__name__](pdf)
        assert not rule(File(pdf))


def _toc_links(pdf: pikepdf.Pdf) -> list:
    return [e for item in elements(pdf, "TOCI") for e in item.walk() if e.role == "Link"]


def test_a_contents_entry_set_on_two_lines_is_one_link(paper):
    """A wrapped contents entry ("DOCUMENT No. 1: Report, …") has an annotation
    on each line, side by side in one Link: one link, which the rule passes."""
    with pikepdf.open(io.BytesIO(paper)) as pdf:
        assert any(len(link.annotations()) == 2 for link in _toc_links(pdf)), "an entry wraps"
        assert checker.toc_structure(File(pdf))


def test_a_contents_entry_with_annotations_over_each_other_fails(paper):
    """WeasyPrint's own contents entry has three annotations over the same
    words (a Link in a Link): the rule fails one annotation laid over another."""
    with pikepdf.open(io.BytesIO(paper)) as pdf:
        link = _toc_links(pdf)[0]
        (annotation,) = link.annotations()
        page = next(p for p in pdf.pages if any(a.objgen == annotation.objgen for a in p.get("/Annots") or []))
        again = pdf.make_indirect(Dictionary({k: v for k, v in annotation.items() if k != "/StructParent"}))
        page.Annots.append(again)
        link.obj.K = Array([*link.obj.K, Dictionary(Type=Name.OBJR, Obj=again, Pg=page.obj)])
        assert not checker.toc_structure(File(pdf))


# -- a small project: WeasyPrint's own PDF/UA, and the claim --------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A work with a footnote, laid out (the running heads come from its title page)."""
    root = tmp_path_factory.mktemp("small")
    body = section("A sentence with a note.[^1]\n\nMore text.\n\n[^1]: [@suh1988, 4]\n")
    project = make_project(root, sections={"01-one.md": body}, bib=BIB_MIN)
    job = typesetting(project)
    return job.edition, first_layout(job)


def test_weasyprints_own_pdfua_is_a_false_claim(small):
    """WeasyPrint's pdf/ua-1 variant claims PDF/UA-1 for a tree the checker rejects."""
    _, document = small
    failures = check(document.write_pdf(pdf_variant="pdf/ua-1"))
    assert "pdfua_identification" not in failures
    assert {"marked_content_in_tree", "link_contents", "page_furniture", "leaders_and_rules"} <= set(failures)


def test_our_print_pdf_of_it_is_claimed(small):
    edition, document = small
    data = archival.claim(archival.write_print(document, edition), edition, pdfa=False)
    assert check(data) == []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") == "1"


def test_no_claim_when_the_checker_fails(small, monkeypatch):
    edition, document = small

    def always_fails(_f) -> bool:
        return False

    monkeypatch.setattr(checker, "RULES", [*checker.RULES, always_fails])
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logger = logging.getLogger("edition")  # the CLI's set-up stops it propagating: listen on it
    logger.addHandler(handler)
    try:
        data = archival.claim(archival.write_print(document, edition), edition, pdfa=False)
    finally:
        logger.removeHandler(handler)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") is None
        assert pdf.Root.MarkInfo.Marked is True  # tagged all the same
    assert [r.getMessage() for r in records] == ["test.pdf is not claimed as PDF/UA-1: it breaks always_fails"]
