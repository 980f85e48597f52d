"""Every script the texts of the field use: Korean (Hangul, Hanja), Chinese
(simplified, traditional), Japanese, Russian, German, Greek, Hebrew and
Arabic, each read back from the print PDF and the EPUB; the fonts embedded,
cut down and our own; no box (.notdef) anywhere; lang choosing the CJK forms."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from fontTools.ttLib import TTFont
from lxml import etree

from edition.commands import freshness
from edition.fonts import scripts
from edition.outputs.checks import epubcheck as checks
from edition.outputs.epub.cover import Faces, draw_cover
from edition.pipeline import Options, run

from . import outputs, pdfa_check
from .projects import BIB_MIN, ROOT, make_project, section

#: name -> (lang, text, the family that draws it, right to left)
SAMPLES = {
    "Hangul": ("ko", "조선민주주의인민공화국", "Edition-CJK", False),
    "Hanja": ("ko", "朝鮮民主主義人民共和國", "Edition-CJK", False),
    "Chinese (simplified)": ("zh-Hans", "中华人民共和国", "Edition-CJK", False),
    "Chinese (traditional)": ("zh-Hant", "中華民國臺灣", "Edition-CJK", False),
    "Japanese": ("ja", "北朝鮮はきたちょうせんとカタカナで", "Edition-CJK", False),
    "Russian": ("ru", "Союз Советских Социалистических Республик", "Charis-Edition", False),
    "German": ("de", "Eisenhüttenstadt an der Oder, Straße", "Charis-Edition", False),
    "Greek": ("grc", "ἐν ἀρχῇ ἦν ὁ λόγος", "Edition-Greek", False),
    "Hebrew": ("he", "ירושלים עיר הקודש", "Edition-Hebrew", True),
    "Arabic": ("ar", "الجمهورية العربية السورية", "Edition-Arabic", True),
}
#: One character in four languages: Noto CJK's locl feature draws it four ways (three shapes).
FORMS = " ".join(f"[骨]{{lang={lang}}}" for lang in ("ko", "ja", "zh-Hans", "zh-Hant"))
BODY = (
    "The samples follow, one to a paragraph.\n\n"
    + "\n\n".join(f"[{text}]{{lang={lang}}}" for lang, text, _, _ in SAMPLES.values())
    + f"\n\nForms: {FORMS}.\n\n**Bold [한국]{{lang=ko}}** and *italic [漢字]{{lang=ko}}*.\n\n"
    + "::: {lang=he}\nשָׁלוֹם עֲלֵיכֶם\n:::\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripts")
    project = make_project(root, sections={"01-one.md": section(BODY, "Samples")}, bib=BIB_MIN)
    result = run(Options(project=project, out=root / "dist", strict=True, check=True))
    return root / "dist", result


def _page_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_reads_back_from_the_pdf(built, name):
    out, _ = built
    lang, text, _, rtl = SAMPLES[name]
    for pdf in (out / "test.pdf", out / "test-pdfa.pdf"):
        printed = _page_text(pdf)
        if rtl:  # pdfplumber reads glyphs left to right: each word comes out reversed
            words = set(printed.split())
            assert all(word[::-1] in words for word in text.split()), (name, pdf.name)
        else:
            assert " ".join(text.split()) in " ".join(printed.split()), (name, pdf.name)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_is_in_the_epub_with_its_language(built, name):
    out, _ = built
    lang, text, _, rtl = SAMPLES[name]
    xhtml = dict(outputs.epub_spine(out / "test.epub"))["test-01-one.xhtml"]
    root = etree.fromstring(xhtml)
    spans = root.findall(f".//{{http://www.w3.org/1999/xhtml}}span[@lang='{lang}']")
    span = next(s for s in spans if s.xpath("string()") == text)
    assert span.get("{http://www.w3.org/XML/1998/namespace}lang") == lang
    assert span.get("dir") == ("rtl" if rtl else None)


def test_a_hebrew_block_is_set_right_to_left(built):
    out, _ = built
    xhtml = dict(outputs.epub_spine(out / "test.epub"))["test-01-one.xhtml"].decode()
    assert '<div lang="he" xml:lang="he" dir="rtl">' in xhtml
    # its letters read back right to left (reversed); the points, set apart, and spaces left out
    letters = re.sub("[\u0591-\u05c7\\s]", "", _page_text(out / "test.pdf"))
    assert "עליכם"[::-1] in letters and "שלום"[::-1] in letters


def test_no_box_in_either_pdf_and_the_pdfa_passes(built):
    out, _ = built
    for pdf in ("test.pdf", "test-pdfa.pdf"):
        with pikepdf.open(out / pdf) as doc:
            assert pdfa_check.notdef_references(doc) == [], pdf
    assert pdfa_check.check(out / "test-pdfa.pdf") == []
    subprocess.run(["qpdf", "--check", str(out / "test-pdfa.pdf")], check=True, capture_output=True)


def test_the_fallback_fonts_are_embedded_subset_and_our_own(built):
    out, _ = built
    for pdf in ("test.pdf", "test-pdfa.pdf"):
        rows = subprocess.run(["pdffonts", str(out / pdf)], check=True, capture_output=True, text=True).stdout
        fonts = {row.split()[0].split("+", 1)[1]: row for row in rows.splitlines()[2:]}
        # no system font stood in: every font is Charis or one the edition declared
        assert all(name.startswith(("Charis-Edition", "Edition-")) for name in fonts), fonts
        assert {"Edition-CJK", "Edition-CJK-Bold", "Edition-Greek", "Edition-Hebrew", "Edition-Arabic"} <= set(fonts)
        assert all(" yes yes yes " in row for row in fonts.values())


def test_each_sample_is_drawn_by_its_font(built):
    out, _ = built
    with pdfplumber.open(out / "test.pdf") as doc:
        chars = [c for page in doc.pages for c in page.chars]
    regular = [c for c in chars if not c["fontname"].endswith(("-Bold", "-Italic")) and c["text"].strip()]
    for name, (_, text, family, _) in SAMPLES.items():
        fonts = {c["fontname"].split("+", 1)[1] for c in regular if c["text"] in text}
        assert fonts == {family}, (name, fonts)


def test_lang_chooses_the_cjk_glyph_forms(built):
    """骨 in Korean, Japanese, simplified and traditional Chinese: the locl
    feature of Noto CJK draws it with three different glyphs."""
    out, _ = built
    with pikepdf.open(out / "test.pdf") as pdf:
        font = next(
            f
            for page in pdf.pages
            for f in (page.Resources.get("/Font") or {}).values()
            if str(f.BaseFont).endswith("+Edition-CJK")
        )
        cmap = font.ToUnicode.read_bytes().decode()
    glyphs = set(re.findall(r"<([0-9a-f]{4})> <9aa8>", cmap))
    assert len(glyphs) == 3


def test_the_epub_carries_the_fonts_cut_to_the_text(built):
    out, _ = built
    with zipfile.ZipFile(out / "test.epub") as z:
        names = z.namelist()
        css = z.read("EPUB/css/base.css").decode()
        opf = z.read("EPUB/content.opf").decode()
        fonts = {n.rsplit("/", 1)[1]: z.read(n) for n in names if n.startswith("EPUB/fonts/")}
    for family in ("EditionCJK", "EditionGreek", "EditionHebrew", "EditionArabic"):
        assert f"{family}-Regular" in " ".join(fonts), family
    for name, (_, text, family, _) in SAMPLES.items():
        if family == "Charis-Edition":
            file = "CharisSIL-Regular.ttf"
        else:
            file = next(f for f in fonts if f.startswith(family.replace("-", "") + "-Regular"))
            assert f'font-family: "{family.replace("-", " ")}"; src: url("../fonts/{file}")' in css
        cmap = TTFont(io.BytesIO(fonts[file])).getBestCmap()
        assert all(ord(c) in cmap for c in text if not c.isspace()), name
    cjk = fonts["EditionCJK-Regular.otf"]
    assert len(cjk) < 60_000  # cut down from a 26 MB collection
    assert 'media-type="font/otf"' in opf and 'href="fonts/EditionCJK-Regular.otf"' in opf


def test_the_epub_passes_epubcheck_and_ace(built, tmp_path):
    out, _ = built
    assert checks.epubcheck((out / "test.epub").read_bytes(), "test.epub") == []
    assert outputs.ace_violations(out / "test.epub", tmp_path / "ace") == []


def test_a_text_in_latin_script_needs_no_fallback():
    assert scripts.needed("Eisenhüttenstadt, Straße; Союз; “quoted” – 1971; Yi Chu-yŏn") == ()
    # Charis has the Greek letters of phonetics only: Greek text is set in Noto Serif, whole words of it
    assert [f.family for f in scripts.needed("Δημοκρατία")] == ["Edition Greek"]
    assert [f.family for f in scripts.needed("한국 ἀρχῇ")] == ["Edition Greek", "Edition CJK"]
    assert scripts.print_css("Plain English.") == ""


def test_the_fingerprint_knows_system_fonts_by_size_and_date_without_reading_them(tmp_path, monkeypatch):
    font = tmp_path / "Big.ttc"
    font.write_bytes(b"x" * 1000)
    monkeypatch.setattr(freshness, "_system_fonts", lambda: [font])
    project = make_project(tmp_path / "p", bib=BIB_MIN)
    read: list[Path] = []
    original = freshness.snapshot_entry
    monkeypatch.setattr(freshness, "snapshot_entry", lambda path, *a: read.append(path) or original(path, *a))

    def key() -> str:
        return freshness.key(freshness.snapshot(project, tmp_path / "no-charis"), project)

    first = key()
    assert read and font not in read
    assert key() == first
    font.write_bytes(b"y" * 1001)
    assert key() != first


def test_the_epub_cover_draws_every_script_in_its_font():
    from PIL import Image

    faces = Faces("bold", 100)
    runs = faces.runs("North Korea: 조선 and ירושלים")
    assert [(text, Path(font.path).name) for text, font in runs] == [
        ("North Korea: ", "CharisSIL-Bold.ttf"),
        ("조선 ", "NotoSerifCJK-Bold.ttc"),
        ("and ", "CharisSIL-Bold.ttf"),
        ("ירושלים", "NotoSerifHebrew-Bold.ttf"),
    ]
    layout = ROOT / "templates/epub/cover.yaml"
    texts = {"title": "조선", "author_line": "A", "series_line": "", "publisher": "P"}
    drawn = Image.open(io.BytesIO(draw_cover(texts, layout)))
    boxes = Image.open(io.BytesIO(draw_cover({**texts, "title": "\ue000\ue000"}, layout)))
    assert drawn.tobytes() != boxes.tobytes()  # Charis would draw both as the same two boxes
