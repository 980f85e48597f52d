"""What PDF/A does not allow on the pages of a source PDF, found at the reader stage.

Each problem is a kind in ``PROBLEMS``, a lookup table that says whether the
build can fix it without changing what is printed (``outputs/pdfpages.py``
does: drops JavaScript, flattens form fields) or must refuse to write the
PDF/A (fonts not embedded or without Unicode, transparency in the PDF/A-1
sense, uncalibrated CMYK). Changing a rule is one line of the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pikepdf

from edition.diagnostics import Diagnostic
from edition.model import PdfProblem
from edition.read.pdf.bounds import PdfMeasure


@dataclass(frozen=True)
class Problem:
    """What a kind of PDF/A problem is, and whether the build can fix it
    without changing what is printed."""

    what: str  # "a font is not embedded"
    fixable: bool
    fix: str = ""  # what the build does, when it can ("dropped", "flattened into the page")


#: Everything on a source page that PDF/A does not allow, as a lookup table: a
#: rule that changes (PDF/A-3 allows transparency that PDF/A-1 forbids) is one line.
PROBLEMS: dict[str, Problem] = {
    "font-not-embedded": Problem("a font is not embedded", False),
    "font-no-unicode": Problem("a font has no ToUnicode map, so its text cannot be read back", False),
    "transparency": Problem("transparency (soft masks, constant alpha or blend modes, which PDF/A-1 forbids)", False),
    "device-cmyk": Problem("uncalibrated CMYK colour, which the volume's sRGB output intent does not cover", False),
    "javascript": Problem("JavaScript", True, "dropped"),
    "actions": Problem("links that open other files or run programs", True, "dropped"),
    "form-fields": Problem("form fields", True, "flattened into the page as printed"),
    "hidden-annotations": Problem("non-printing annotations", True, "dropped (they are not printed)"),
    "transparency-group": Problem("a transparency group with nothing transparent in it", True, "removed"),
    "interpolation": Problem("images with interpolation", True, "interpolation flag removed"),
}
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
UNSAFE_ACTIONS = ("/JavaScript", "/Launch", "/GoToR", "/GoToE", "/ImportData", "/SubmitForm", "/ResetForm")


def problems(measure: PdfMeasure, first: int, last: int) -> list[PdfProblem]:
    """Every PDF/A problem of the pages ``first``–``last``, one per kind and
    page. Each page, and each resource dictionary pages share, is looked at
    once per file, each content stream parsed once (``measure``, which has
    measured them all first)."""
    pdf = measure.pdf
    found: set[tuple[str, int, str]] = set()
    if _document_javascript(pdf):
        found.add(("javascript", 0, "the document runs JavaScript when opened"))
    for number in range(first, last + 1):
        key = ("page-problems", number)
        if key not in measure.memo:
            measure.memo[key] = sorted(set(_page_problems(pdf.pages[number - 1], measure)))
        for kind, detail in measure.memo[key]:
            found.add((kind, number, detail))
    transparent = {page for kind, page, _ in found if kind == "transparency"}
    # a transparency group is only a problem where something is transparent
    found = {(k, p, d) for k, p, d in found if k != "transparency-group" or p not in transparent}
    return [PdfProblem(kind, page, detail) for kind, page, detail in sorted(found, key=lambda f: (f[1], f[0], f[2]))]


def _document_javascript(pdf: pikepdf.Pdf) -> bool:
    names = pdf.Root.get("/Names") or {}
    action = pdf.Root.get("/OpenAction")
    opens_js = isinstance(action, pikepdf.Dictionary) and action.get("/S") == "/JavaScript"
    return "/JavaScript" in names or "/AA" in pdf.Root or opens_js


def _page_problems(page: pikepdf.Page, measure: PdfMeasure) -> Iterator[tuple[str, str]]:
    if "/AA" in page.obj:
        yield "javascript", "the page runs JavaScript when opened or closed"
    group = page.obj.get("/Group")
    if isinstance(group, pikepdf.Dictionary) and group.get("/S") == "/Transparency":
        yield "transparency-group", "page group"
    resources = [page.obj.get("/Resources")]
    for annot in page.obj.get("/Annots") or []:
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        yield from _annotation_problems(annot)
        appearances = annot.get("/AP")
        appearance = appearances.get("/N") if isinstance(appearances, pikepdf.Dictionary) else None
        if isinstance(appearance, pikepdf.Stream) and _flags(annot) & 4:
            resources.append(appearance.get("/Resources"))
    for res in resources:
        yield from _shared_resource_problems(res, measure)
    cmyk = measure.page_operators(page.obj).cmyk if "/Contents" in page.obj else False
    if cmyk or any(_forms_set_cmyk(res, measure) for res in resources):
        yield "device-cmyk", "colour set with the k/K operators"


def _forms_set_cmyk(res: Any, measure: PdfMeasure) -> bool:
    """Whether a form a resource dictionary reaches sets DeviceCMYK colour (found once per dictionary)."""
    key = ("cmyk", res.objgen) if isinstance(res, pikepdf.Dictionary) and res.is_indirect else None
    if key is None or key not in measure.memo:
        found = any(measure.form_operators(form).cmyk for form in _forms([res], set()))
        if key is None:
            return found
        measure.memo[key] = found
    return measure.memo[key]


def _shared_resource_problems(res: Any, measure: PdfMeasure) -> list[tuple[str, str]]:
    """A resource dictionary's problems, found once for every page that shares it."""
    if not isinstance(res, pikepdf.Dictionary) or not res.is_indirect:
        return list(_resource_problems(res, set()))
    key = ("problems", res.objgen)
    if key not in measure.memo:
        measure.memo[key] = list(_resource_problems(res, set()))
    return measure.memo[key]


def _flags(annot: pikepdf.Dictionary) -> int:
    try:
        return int(annot.get("/F", 0))
    except (TypeError, ValueError):
        return 0


def _annotation_problems(annot: pikepdf.Object) -> Iterator[tuple[str, str]]:
    subtype = annot.get("/Subtype")
    action = annot.get("/A")
    if "/AA" in annot or (isinstance(action, pikepdf.Dictionary) and action.get("/S") == "/JavaScript"):
        yield "javascript", f"a {str(subtype)[1:]} annotation runs JavaScript"
    elif isinstance(action, pikepdf.Dictionary) and action.get("/S") in UNSAFE_ACTIONS:
        yield "actions", f"a link action {str(action.get('/S'))[1:]}"
    if subtype == "/Widget":
        yield "form-fields", "form field"
    elif subtype not in ("/Link", "/Popup") and not _flags(annot) & 4:
        yield "hidden-annotations", f"{str(subtype)[1:]} annotation"


def _resource_problems(res: Any, seen: set[tuple[int, int]]) -> Iterator[tuple[str, str]]:
    """Walk a resource dictionary and those it reaches (forms, patterns, Type 3 fonts)."""
    if not isinstance(res, pikepdf.Dictionary):
        return
    if res.is_indirect:
        if res.objgen in seen:
            return
        seen.add(res.objgen)
    for _, font in (res.get("/Font") or {}).items():
        yield from _font_problems(font, seen)
    for _, gs in (res.get("/ExtGState") or {}).items():
        yield from _state_problems(gs)
    has_default_cmyk = "/DefaultCMYK" in (res.get("/ColorSpace") or {})
    for _, space in (res.get("/ColorSpace") or {}).items():
        if not has_default_cmyk and _is_cmyk(space):
            yield "device-cmyk", "a DeviceCMYK colour space"
    for _, xobject in (res.get("/XObject") or {}).items():
        subtype = xobject.get("/Subtype")
        if subtype == "/Image":
            if "/SMask" in xobject or int(xobject.get("/SMaskInData", 0)) > 0:
                yield "transparency", "an image with a soft mask"
            if xobject.get("/Interpolate") is True:
                yield "interpolation", "image"
            if not has_default_cmyk and _is_cmyk(xobject.get("/ColorSpace")):
                yield "device-cmyk", "a DeviceCMYK image"
        elif subtype == "/Form":
            group = xobject.get("/Group")
            if isinstance(group, pikepdf.Dictionary) and group.get("/S") == "/Transparency":
                yield "transparency-group", "form group"
            yield from _resource_problems(xobject.get("/Resources"), seen)
    for _, pattern in (res.get("/Pattern") or {}).items():
        yield from _resource_problems(pattern.get("/Resources"), seen)


def _font_problems(font: pikepdf.Object, seen: set[tuple[int, int]]) -> Iterator[tuple[str, str]]:
    name = str(font.get("/BaseFont", font.get("/Name", "?")))[1:]
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        yield from _resource_problems(font.get("/Resources"), seen)
    else:
        described = font
        if subtype == "/Type0":
            described = (font.get("/DescendantFonts") or [pikepdf.Dictionary()])[0]
        descriptor = described.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor for k in FONT_FILES):
            yield "font-not-embedded", name
    if "/ToUnicode" not in font:
        yield "font-no-unicode", name


def _state_problems(gs: pikepdf.Object) -> Iterator[tuple[str, str]]:
    smask = gs.get("/SMask")
    if smask is not None and smask != pikepdf.Name.None_:
        yield "transparency", "a soft mask"
    for key in ("/CA", "/ca"):
        if key in gs and float(gs[key]) < 1.0:
            yield "transparency", f"constant alpha {float(gs[key]):g}"
    modes = gs.get("/BM")
    modes = list(modes) if isinstance(modes, pikepdf.Array) else [modes] if modes is not None else []
    if any(m not in ("/Normal", "/Compatible") for m in modes):
        yield "transparency", f"blend mode {str(modes[0])[1:]}"


def _is_cmyk(space: Any) -> bool:
    if space is None:
        return False
    if isinstance(space, pikepdf.Name):
        return space == "/DeviceCMYK"
    if isinstance(space, pikepdf.Array) and len(space) > 1:
        family = space[0]
        if family == "/Indexed":
            return _is_cmyk(space[1])
        if family in ("/Separation", "/DeviceN"):
            return _is_cmyk(space[2])
    return False


def _forms(resources: list[Any], seen: set[tuple[int, int]]) -> Iterator[pikepdf.Stream]:
    for res in resources:
        if not isinstance(res, pikepdf.Dictionary):
            continue
        for _, xobject in (res.get("/XObject") or {}).items():
            if (
                isinstance(xobject, pikepdf.Stream)
                and xobject.get("/Subtype") == "/Form"
                and xobject.objgen not in seen
            ):
                seen.add(xobject.objgen)
                yield xobject
                yield from _forms([xobject.get("/Resources")], seen)


def pdfa_diagnostics(edition) -> tuple[list[Diagnostic], list[str]]:
    """For a build that writes the PDF/A: an error for each problem of a PDF
    reading the build cannot fix, and a line for each it fixes (for the log)."""
    errors, fixes = [], []
    for work in edition.parts:
        source = work.pdf
        if source is None:
            continue
        by_kind: dict[str, list[PdfProblem]] = {}
        for problem in source.problems:
            by_kind.setdefault(problem.kind, []).append(problem)
        for kind, found in by_kind.items():
            rule = PROBLEMS[kind]
            details = sorted({p.detail for p in found})
            where = _pages([p.page for p in found])
            if rule.fixable:
                fixes.append(f"{source.name}: {rule.what} {where}: {rule.fix}")
            else:
                errors.append(
                    Diagnostic(
                        source.location,
                        "pdf.pdfa",
                        f"{source.name}: {rule.what} ({', '.join(details[:3])}{'…' if len(details) > 3 else ''}) {where}: "
                        "the archival PDF/A cannot carry it; give a PDF/A-ready copy of the file "
                        "(or build without --format pdfa)",
                    )
                )
    return errors, fixes


def _pages(numbers: list[int]) -> str:
    """``on pages 2–4, 7`` (page 0 is the document itself)."""
    if numbers == [0] or not numbers:
        return "in the document"
    pages = sorted({n for n in numbers if n})
    runs: list[list[int]] = []
    for n in pages:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
    return f"on page{'s' if len(pages) > 1 else ''} {text}"
