"""The archival PDF/A-3a, its embedded sources, and byte-identical builds."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pikepdf
import pytest

from edition.cli import main
from edition.commands.extract import embedded_files

from . import pdfa_check
from .builds import build_into
from .projects import ROOT


@pytest.fixture(scope="module")
def pdfa(built) -> Path:
    return built.out / "juche-pdfa.pdf"


def test_pdfa_passes_the_checker(pdfa):
    assert pdfa_check.check(pdfa) == []


def test_qpdf_and_pdffonts_accept_the_pdfa(pdfa):
    subprocess.run(["qpdf", "--check", str(pdfa)], check=True, capture_output=True)
    fonts = subprocess.run(["pdffonts", str(pdfa)], check=True, capture_output=True, text=True).stdout
    assert all(" yes yes yes " in row for row in fonts.splitlines()[2:])


def test_pdfa_is_the_print_layout_page_for_page(built, pdfa):
    import pdfplumber

    with pdfplumber.open(built.pdf) as a, pdfplumber.open(pdfa) as b:
        assert len(a.pages) == len(b.pages)
        for page_a, page_b in zip(a.pages, b.pages, strict=True):
            assert page_a.extract_text() == page_b.extract_text()


def test_print_pdf_is_not_left_with_archival_state(built):
    """A PDF/A write must not leak its output intent or XMP into the print PDF."""
    with pikepdf.open(built.pdf) as pdf:
        assert "/OutputIntents" not in pdf.Root
        assert "/AF" not in pdf.Root
        assert not pdf.attachments


def test_xmp_metadata_is_complete(pdfa):
    with pikepdf.open(pdfa) as pdf:
        meta = pdf.open_metadata(set_pikepdf_as_editor=False)
        assert meta["dc:title"] == "Juche and North Korea’s Global Aspirations"
        assert meta["dc:creator"] == ["Charles K. Armstrong"]
        assert meta["dc:identifier"] == "urn:uuid:6f1f8f2e-3a52-4c1e-9a57-2d1f0d7c9a01"
        assert meta["dc:language"] == {"en"}
        assert "Armstrong" in meta["dc:rights"]
        assert meta["dc:description"].startswith("Armstrong traces")
        assert meta["dc:relation"] == {"isPartOf: North Korea International Documentation Project Working Paper 1"}
        assert meta["xmp:CreateDate"] == "2026-11-27T00:00:00Z"


def test_sources_are_embedded_as_associated_files(pdfa):
    with pikepdf.open(pdfa) as pdf:
        specs = {str(s.UF): s for s in pdf.Root.AF}
        assert specs["content/juche/text/01-engaging-the-world.md"].AFRelationship == "/Source"
        assert specs["bib/juche.bib"].AFRelationship == "/Source"
        assert specs["content/juche/tables/diplomatic-relations.csv"].AFRelationship == "/Data"
        assert specs["content/juche/work.yaml"].AFRelationship == "/Data"
        assert specs["build-manifest.json"].AFRelationship == "/Supplement"
        assert specs["content/juche/text/01-engaging-the-world.md"].EF.F.Subtype == "/text/markdown"
        assert all(str(s.Desc) for s in specs.values())
    manifest = json.loads(embedded_files(pdfa)["build-manifest.json"])
    assert manifest["build_date"] == "2026-11-27T00:00:00Z"
    assert manifest["tools"]["weasyprint"] == "70.0"
    assert len(manifest["inputs"]["content/juche/work.yaml"]) == 64


def _one_pixel_image(pdf: pikepdf.Pdf, data: bytes, colour_space: str, **keys) -> None:
    """The first page's only image: one pixel in ``colour_space``."""
    image = pdf.make_stream(
        data,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=1,
        Height=1,
        ColorSpace=pikepdf.Name(colour_space),
        BitsPerComponent=8,
        **keys,
    )
    pdf.pages[0].Resources.XObject = pikepdf.Dictionary(Im0=image)


BREAKERS = {
    "pdfa_identification": lambda pdf: pdf.Root.__delitem__("/Metadata"),
    "output_intent": lambda pdf: pdf.Root.__delitem__("/OutputIntents"),
    "fonts_embedded": lambda pdf: [
        d.FontDescriptor.__delitem__("/FontFile2")
        for f in pdf.pages[2].Resources.Font.values()
        for d in f.DescendantFonts
    ],
    "fonts_to_unicode": lambda pdf: [f.__delitem__("/ToUnicode") for f in pdf.pages[2].Resources.Font.values()],
    # a box: glyph 0 shown in the page's first font
    "no_notdef_glyphs": lambda pdf: pdf.pages[2].contents_add(
        pdf.make_stream(b"BT /" + next(iter(pdf.pages[2].Resources.Font.keys()))[1:].encode() + b" 9 Tf <0000> Tj ET")
    ),
    "no_javascript": lambda pdf: pdf.Root.__setitem__(
        "/OpenAction", pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    ),
    "annotations_printable": lambda pdf: [a.__setitem__("/F", 0) for p in pdf.pages for a in p.get("/Annots") or []],
    "no_links_to_files": lambda pdf: (
        pdf.pages[1]
        .Annots[0]
        .__setitem__("/A", pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("file:///etc/passwd")))
    ),
    "no_interpolated_images": lambda pdf: _one_pixel_image(pdf, b"\x00" * 3, "/DeviceRGB", Interpolate=True),
    "images_match_output_intent": lambda pdf: _one_pixel_image(pdf, b"\x00" * 4, "/DeviceCMYK"),
    "associated_files": lambda pdf: pdf.Root.__delitem__("/AF"),
    "tagged": lambda pdf: pdf.Root.__delitem__("/StructTreeRoot"),
    "info_matches_xmp": lambda pdf: pdf.docinfo.__setitem__("/Title", pikepdf.String("Another title")),
}


@pytest.mark.parametrize("rule", [r.__name__ for r in pdfa_check.RULES])
def test_checker_fails_a_pdf_broken_for_each_rule(pdfa, tmp_path, rule):
    broken = tmp_path / f"{rule}.pdf"
    with pikepdf.open(pdfa) as pdf:
        if rule == "not_encrypted":
            pdf.save(broken, encryption=pikepdf.Encryption(owner="o", user="", R=6))
        else:
            BREAKERS[rule](pdf)
            pdf.save(broken)
    if rule == "not_encrypted":
        assert "not_encrypted" in pdfa_check.check(broken)
    else:
        assert rule in pdfa_check.check(broken)


def test_two_builds_give_identical_bytes(built, tmp_path):
    again = build_into(tmp_path / "again")
    for name in ("juche.pdf", "juche-pdfa.pdf", "juche.epub"):
        assert (again.out / name).read_bytes() == (built.out / name).read_bytes(), name


def test_rebuild_from_the_extracted_sources_is_identical(built, tmp_path, monkeypatch):
    project = tmp_path / "project"
    assert main(["-q", "--extract", str(built.out / "juche-pdfa.pdf"), str(project)]) == 0
    assert (project / "content/juche/work.yaml").read_bytes() == (ROOT / "content/juche/work.yaml").read_bytes()
    monkeypatch.chdir(project)
    assert main(["-q", "--out", "dist"], project=project) == 0
    for name in ("juche.pdf", "juche-pdfa.pdf", "juche.epub"):
        assert (project / "dist" / name).read_bytes() == (built.out / name).read_bytes(), name


def test_extract_refuses_names_that_leave_the_folder(built, tmp_path, capsys):
    evil = tmp_path / "evil.pdf"
    shutil.copy(built.out / "juche-pdfa.pdf", evil)
    with pikepdf.open(evil, allow_overwriting_input=True) as pdf:
        pdf.attachments["../escape.txt"] = pikepdf.AttachedFileSpec(pdf, b"x", filename="../escape.txt")
        pdf.save(evil)
    assert main(["--extract", str(evil), str(tmp_path / "out")]) == 2
    assert "resource.refused" in capsys.readouterr().err
    assert not (tmp_path / "escape.txt").exists()


def test_the_copy_text_is_embedded_as_the_source_witness(pdfa):
    """The transcript the edition was made from travels with the archival copy."""
    with pikepdf.open(pdfa) as pdf:
        specs = {str(s.UF): s for s in pdf.Root.AF}
        spec = specs["content/juche/copy-text.txt"]
        assert spec.AFRelationship == "/Source"
        assert str(spec.Desc).startswith("copy-text")
    copy = embedded_files(pdfa)["content/juche/copy-text.txt"]
    assert copy == (ROOT / "content/juche/copy-text.txt").read_bytes()
