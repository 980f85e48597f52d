"""A structural PDF/A-3 checker built on pikepdf.

veraPDF (the reference validator) is not installable here; this checks what
can be checked from the file's structure, one named rule at a time. What only
veraPDF checks (glyph widths against the embedded font programs, colour spaces
inside content streams, the full XMP schema validation, every tagged-PDF rule
of ISO 14289) is listed in the README.
"""

from __future__ import annotations

from pathlib import Path

import pikepdf

FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
FORBIDDEN_ANNOTATIONS = {"/Sound", "/Movie", "/Screen", "/3D", "/RichMedia", "/FileAttachment"}


def check(path: Path) -> list[str]:
    """The names of the rules the file breaks (empty when it passes)."""
    failures: list[str] = []
    with pikepdf.open(path) as pdf:
        for rule in RULES:
            if not rule(pdf):
                failures.append(rule.__name__)
    return failures


def _xmp(pdf: pikepdf.Pdf) -> pikepdf.models.PdfMetadata:
    return pdf.open_metadata(set_pikepdf_as_editor=False)


def pdfa_identification(pdf: pikepdf.Pdf) -> bool:
    if "/Metadata" not in pdf.Root:
        return False
    meta = _xmp(pdf)
    return meta.get("pdfaid:part") == "3" and meta.get("pdfaid:conformance") == "A"


def output_intent(pdf: pikepdf.Pdf) -> bool:
    intents = pdf.Root.get("/OutputIntents")
    if not intents:
        return False
    pdfa = [i for i in intents if i.get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        return False
    profile = pdfa[0].get("/DestOutputProfile")
    return profile is not None and int(profile.get("/N", 0)) == 3 and profile.read_bytes()[36:40] == b"acsp"


def _fonts(pdf: pikepdf.Pdf):
    """Every font a page draws with, in the page's resources and in those of
    the forms it draws (a PDF reading's pages are forms), recursively."""
    seen: set = set()
    for page in pdf.pages:
        yield from _resource_fonts(page.Resources, seen)


def _resource_fonts(resources, seen: set):
    if resources is None:
        return
    if resources.is_indirect:
        if resources.objgen in seen:
            return
        seen.add(resources.objgen)
    for _, font in (resources.get("/Font") or {}).items():
        yield font
        yield from font.get("/DescendantFonts") or []
        yield from _resource_fonts(font.get("/Resources"), seen)
    for _, xobject in (resources.get("/XObject") or {}).items():
        if xobject.get("/Subtype") == "/Form":
            yield from _resource_fonts(xobject.get("/Resources"), seen)


def fonts_embedded(pdf: pikepdf.Pdf) -> bool:
    for font in _fonts(pdf):
        if font.get("/Subtype") == "/Type0":
            continue
        descriptor = font.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor for k in FONT_FILES):
            return False
    return True


def fonts_to_unicode(pdf: pikepdf.Pdf) -> bool:
    # a composite font's ToUnicode stands on the Type0 font, not on its CIDFont
    # (CIDFontType2 for TrueType outlines, CIDFontType0 for CFF, as Noto CJK)
    return all("/ToUnicode" in f for f in _fonts(pdf) if f.get("/Subtype") not in ("/CIDFontType0", "/CIDFontType2"))


def notdef_references(pdf: pikepdf.Pdf) -> list[tuple[int, str]]:
    """(page, font) of every glyph 0 (.notdef) a page's text shows: a
    character the font could not draw, printed as a box (PDF/A-3 6.2.11.8).
    The edition's fonts are composite (Type0, Identity-H): two bytes a glyph."""
    found = []
    for number, page in enumerate(pdf.pages, 1):
        fonts = page.Resources.get("/Font") or {}
        font = None
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op == "Tf":
                font = fonts.get(str(operands[0]))
            elif op in ("Tj", "'", '"', "TJ") and font is not None and font.get("/Subtype") == "/Type0":
                strings = operands[0] if op == "TJ" else operands[-1:]
                for item in strings:
                    if isinstance(item, pikepdf.String):
                        data = bytes(item)
                        if any(data[i : i + 2] == b"\0\0" for i in range(0, len(data) - 1, 2)):
                            found.append((number, str(font.get("/BaseFont"))))
    return found


def no_notdef_glyphs(pdf: pikepdf.Pdf) -> bool:
    return not notdef_references(pdf)


def not_encrypted(pdf: pikepdf.Pdf) -> bool:
    return not pdf.is_encrypted and "/Encrypt" not in pdf.trailer


def no_javascript(pdf: pikepdf.Pdf) -> bool:
    names = pdf.Root.get("/Names") or {}
    if "/JavaScript" in names or "/AA" in pdf.Root:
        return False
    action = pdf.Root.get("/OpenAction")
    if isinstance(action, pikepdf.Dictionary) and action.get("/S") == "/JavaScript":
        return False
    for page in pdf.pages:
        if "/AA" in page.obj:
            return False
        for annot in page.get("/Annots") or []:
            act = annot.get("/A")
            if act is not None and act.get("/S") in ("/JavaScript", "/Launch", "/GoToR", "/ImportData"):
                return False
    return True


def annotations_printable(pdf: pikepdf.Pdf) -> bool:
    for page in pdf.pages:
        for annot in page.get("/Annots") or []:
            if annot.get("/Subtype") in FORBIDDEN_ANNOTATIONS:
                return False
            if annot.get("/Subtype") != "/Popup" and not int(annot.get("/F", 0)) & 4:
                return False
    return True


def no_links_to_files(pdf: pikepdf.Pdf) -> bool:
    for page in pdf.pages:
        for annot in page.get("/Annots") or []:
            act = annot.get("/A")
            if act is not None and act.get("/S") == "/URI" and str(act.get("/URI", "")).startswith("file:"):
                return False
    return True


def no_interpolated_images(pdf: pikepdf.Pdf) -> bool:
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image" and obj.get("/Interpolate") is True:
            return False
    return True


def images_match_output_intent(pdf: pikepdf.Pdf) -> bool:
    """With an RGB output intent, no image may be in DeviceCMYK (ISO 19005-2, 6.2.4.3)."""
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
            space = obj.get("/ColorSpace")
            if isinstance(space, pikepdf.Array) and len(space) and space[0] == "/Indexed":
                space = space[1]
            if space == "/DeviceCMYK":
                return False
    return True


def associated_files(pdf: pikepdf.Pdf) -> bool:
    af = pdf.Root.get("/AF")
    if not af:
        return False
    for spec in af:
        if spec.get("/AFRelationship") not in ("/Source", "/Data", "/Alternative", "/Supplement", "/Unspecified"):
            return False
        stream = (spec.get("/EF") or {}).get("/F")
        if stream is None or "/Subtype" not in stream or "/Desc" not in spec or "/UF" not in spec:
            return False
        params = stream.get("/Params") or {}
        if "/ModDate" not in params:
            return False
    embedded = set(pdf.attachments)
    return embedded == {str(s.get("/UF")) for s in af}


def tagged(pdf: pikepdf.Pdf) -> bool:
    mark = pdf.Root.get("/MarkInfo")
    return (
        "/StructTreeRoot" in pdf.Root
        and mark is not None
        and mark.get("/Marked") is True
        and bool(str(pdf.Root.get("/Lang", "")))
    )


def info_matches_xmp(pdf: pikepdf.Pdf) -> bool:
    info = pdf.docinfo
    meta = _xmp(pdf)
    pairs = [
        ("/Title", meta.get("dc:title")),
        ("/Author", ", ".join(meta.get("dc:creator") or [])),
        ("/Subject", meta.get("dc:description")),
        ("/Keywords", meta.get("pdf:Keywords")),
        ("/Creator", meta.get("xmp:CreatorTool")),
        ("/Producer", meta.get("pdf:Producer")),
    ]
    for key, value in pairs:
        if key in info and str(info[key]) != (value or ""):
            return False
    for key, xmp_key in (("/CreationDate", "xmp:CreateDate"), ("/ModDate", "xmp:ModifyDate")):
        if key in info:
            d = str(info[key]).removeprefix("D:")
            expected = f"{d[0:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}Z"
            if meta.get(xmp_key) != expected:
                return False
    return True


RULES = [
    pdfa_identification,
    output_intent,
    fonts_embedded,
    fonts_to_unicode,
    no_notdef_glyphs,
    not_encrypted,
    no_javascript,
    annotations_printable,
    no_links_to_files,
    no_interpolated_images,
    images_match_output_intent,
    associated_files,
    tagged,
    info_matches_xmp,
]
