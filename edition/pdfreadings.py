"""Readings printed from existing PDFs: read, checked and described at the reader stage.

A course reader may name a PDF (a scanned chapter, an article from a publisher)
instead of a work::

    - pdf: readings/cumings-1997-ch9.pdf   # relative to the reader file's folder
      pages: 3-28                          # pages of the file; default all
      cite: cumings1997                    # key in the reader's bibliography
      title: The Korean War                # optional; else the entry's title
      permissions: Reproduced by permission of W. W. Norton.
      epub_text: true                      # optional: the text layer as an EPUB appendix

This module checks the file once (inside the project, a regular file under the
size limit, a PDF, not encrypted, the pages in range), keeps its bytes, notes
the size of each page used, whether the file is tagged, and everything on those
pages that PDF/A does not allow (``PROBLEMS`` says which the build fixes).
The outputs never read the file again.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from .diagnostics import Collector, Diagnostic, suggest
from .ids import slugify
from .model import BibEntry, PdfProblem, PdfSource, Person, Reading, SourceLocation, Work, WorkMeta

#: Largest PDF a reading may be (a 300-page scan at 300 dpi is about 60 MB).
MAX_PDF_BYTES = 256 * 1024 * 1024
#: Most pages one reading may print: each is a page of the layout.
MAX_PDF_PAGES = 1000
KEYS = {"pdf", "pages", "cite", "title", "permissions", "epub_text"}
RANGE = re.compile(r"\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?")


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


def is_pdf_reading(spec: Any) -> bool:
    return isinstance(spec, dict) and "pdf" in spec


def read_pdf_reading(
    project: Path,
    definition: Path,
    index: int,
    spec: dict,
    lines: dict[str, int],
    bib: dict[str, BibEntry],
    bib_path: Path | None,
    language: str,
    diags: Collector,
) -> Work | None:
    """One PDF reading as a ``Work`` without sections, or ``None`` after
    recording every problem with the reader file and line."""

    def where(key: str) -> SourceLocation:
        return SourceLocation(definition, lines.get(key) or lines.get(""))

    before = len(diags.items)
    for key in sorted(set(spec) - KEYS):
        diags.error(where(key), "meta.unknown-key", f"unknown key {key!r} in a PDF reading{suggest(key, KEYS)}")
    _check_types(spec, where, diags)
    entry = _entry(spec, bib, bib_path, where, diags)
    path = checked_file(spec.get("pdf"), definition.parent, project, where("pdf"), diags)
    if path is None or len(diags.items) > before:
        return None
    source = read_source(path, project, spec.get("pages"), bool(spec.get("epub_text")), where, diags)
    if source is None or entry is None:
        return None
    return _work(index, spec, source, entry, bib_path, language)


def _check_types(spec: dict, where, diags: Collector) -> None:
    for key, kind, name in (
        ("pdf", str, "text"),
        ("cite", str, "text"),
        ("title", str, "text"),
        ("permissions", str, "text"),
        ("epub_text", bool, "true or false"),
        ("pages", (str, int), "a page or a range such as 3-28"),
    ):
        if key in spec and not isinstance(spec[key], kind):
            diags.error(where(key), "meta.type", f"{key!r} in a PDF reading must be {name}")


def _entry(spec: dict, bib: dict[str, BibEntry], bib_path: Path | None, where, diags: Collector) -> BibEntry | None:
    cite = spec.get("cite")
    if not isinstance(cite, str):
        if "cite" not in spec:
            diags.error(
                where(""), "meta.missing", "a PDF reading needs 'cite', the key of its source in the bibliography"
            )
        return None
    if bib_path is None:
        diags.error(
            where("cite"), "meta.missing", "a PDF reading's 'cite' needs the reader's 'bibliography' (a file in bib/)"
        )
        return None
    if cite not in bib:
        diags.error(
            where("cite"),
            "cite.unknown",
            f"unknown citation key {cite!r}: not in bib/{bib_path.name}{suggest(cite, bib)}",
        )
        return None
    return bib[cite]


def checked_file(raw: Any, base: Path, project: Path, where: SourceLocation, diags: Collector) -> Path | None:
    """The file a reading names, if it is a regular file inside the project
    under the size limit.

    Stands in for the one rule of issue 12's ``edition/sandbox.py`` until that
    lands; the lead switches this to it at merge time."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    if ":" in raw.split("/")[0]:
        diags.error(where, "resource.refused", f"{raw!r}: only files inside the project may be used")
        return None
    target = (base / raw).resolve()
    if not target.is_relative_to(project.resolve()):
        diags.error(where, "resource.refused", f"{raw!r} is outside the project")
        return None
    if not target.exists():
        diags.error(where, "file.missing", f"PDF {raw!r} does not exist")
        return None
    if not target.is_file():
        diags.error(where, "resource.refused", f"{raw!r} is not a regular file")
        return None
    size = target.stat().st_size
    if size > MAX_PDF_BYTES:
        diags.error(
            where,
            "file.size",
            f"{raw!r} is {size} bytes, over the {MAX_PDF_BYTES}-byte limit for PDF readings; split it",
        )
        return None
    return target


def read_source(path: Path, project: Path, pages: Any, with_text: bool, where, diags: Collector) -> PdfSource | None:
    """Open the file once, check it and describe the pages the reading uses."""
    name = path.relative_to(project.resolve()).as_posix()
    data = path.read_bytes()
    if b"%PDF-" not in data[:1024]:
        diags.error(where("pdf"), "pdf.unreadable", f"{name} is not a PDF (a PDF file begins with '%PDF-')")
        return None
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        diags.error(where("pdf"), "pdf.encrypted", f"{name} is encrypted with a password; ask for an unencrypted copy")
        return None
    except pikepdf.PdfError as exc:
        reason = " ".join(str(exc).split())[:160]
        diags.error(where("pdf"), "pdf.unreadable", f"{name} cannot be read as a PDF: {reason}")
        return None
    with pdf:
        if pdf.is_encrypted:
            diags.error(
                where("pdf"),
                "pdf.encrypted",
                f"{name} is encrypted (its owner restricts what may be done with it); ask for an unencrypted copy",
            )
            return None
        total = len(pdf.pages)
        if total == 0:
            diags.error(where("pdf"), "pdf.pages", f"{name} has no pages")
            return None
        span = page_range(pages, total, name, where, diags)
        if span is None or not within_limit(*span, name, where, diags):
            return None
        first, last = span
        used = [pdf.pages[n - 1] for n in range(first, last + 1)]
        text = extract_text(data, first, last) if with_text else ()
        if with_text and not any(t.strip() for t in text):
            diags.error(
                where("epub_text"),
                "pdf.no-text",
                f"{name} has no text layer on pages {first}–{last} (a scan?): remove 'epub_text' or give a PDF with text",
            )
            return None
        return PdfSource(
            name=name,
            path=path,
            data=data,
            first=first,
            last=last,
            total=total,
            sizes=tuple(displayed_size(page) for page in used),
            tagged=is_tagged(pdf),
            location=where("pdf"),
            problems=tuple(problems(pdf, first, last)),
            text=text,
        )


def page_range(pages: Any, total: int, name: str, where, diags: Collector) -> tuple[int, int] | None:
    """``pages: 3-28`` (or ``5``, or absent for all) as (first, last) within the file."""
    if pages is None:
        return 1, total
    match = RANGE.fullmatch(str(pages))
    if match is None or isinstance(pages, bool):
        diags.error(
            where("pages"), "pdf.pages", f"pages {pages!r} is not a page range: write pages: 3-28 (or one page)"
        )
        return None
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        diags.error(
            where("pages"),
            "pdf.pages",
            f"pages {pages} is not a range of pages: the first must be 1 or more and not after the last",
        )
        return None
    if last > total:
        diags.error(
            where("pages"),
            "pdf.pages",
            f"pages {pages} lie outside {name}, which has {total} page{'s' if total != 1 else ''}",
        )
        return None
    return first, last


def within_limit(first: int, last: int, name: str, where, diags: Collector) -> bool:
    if last - first + 1 <= MAX_PDF_PAGES:
        return True
    diags.error(
        where("pages"),
        "pdf.pages",
        f"{name}: a reading of {last - first + 1} pages, over the limit of {MAX_PDF_PAGES}; give a page range",
    )
    return False


def displayed_size(page: pikepdf.Page) -> tuple[float, float]:
    """Width and height in points of the page as a viewer shows it: its trim
    box (else crop box, else media box), turned by /Rotate. The outputs place
    exactly this form (``Page.as_form_xobject``)."""
    form = page.as_form_xobject()
    x0, y0, x1, y1 = (float(v) for v in form.BBox)
    a, b, c, d, _, _ = (float(v) for v in form.get("/Matrix", [1, 0, 0, 1, 0, 0]))
    xs = [a * x + c * y for x in (x0, x1) for y in (y0, y1)]
    ys = [b * x + d * y for x in (x0, x1) for y in (y0, y1)]
    return round(max(xs) - min(xs), 3), round(max(ys) - min(ys), 3)


def is_tagged(pdf: pikepdf.Pdf) -> bool:
    mark = pdf.Root.get("/MarkInfo")
    return "/StructTreeRoot" in pdf.Root and mark is not None and bool(mark.get("/Marked", False))


def extract_text(data: bytes, first: int, last: int) -> tuple[str, ...]:
    """The text layer of each page, as pdfminer reads it: one paragraph per
    text box, the lines of a box joined by spaces. Not edited in any other way."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    pages = []
    for layout in extract_pages(io.BytesIO(data), page_numbers=range(first - 1, last)):
        paragraphs = [
            " ".join(element.get_text().split()) for element in layout if isinstance(element, LTTextContainer)
        ]
        pages.append("\n\n".join(p for p in paragraphs if p))
    return tuple(pages)


# -- what PDF/A does not allow ----------------------------------------------------------


def problems(pdf: pikepdf.Pdf, first: int, last: int) -> list[PdfProblem]:
    """Every PDF/A problem of the pages ``first``–``last``, one per kind and page."""
    found: set[tuple[str, int, str]] = set()
    if _document_javascript(pdf):
        found.add(("javascript", 0, "the document runs JavaScript when opened"))
    for number in range(first, last + 1):
        page = pdf.pages[number - 1]
        for kind, detail in _page_problems(page):
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


def _page_problems(page: pikepdf.Page) -> Iterator[tuple[str, str]]:
    if "/AA" in page.obj:
        yield "javascript", "the page runs JavaScript when opened or closed"
    group = page.obj.get("/Group")
    if isinstance(group, pikepdf.Dictionary) and group.get("/S") == "/Transparency":
        yield "transparency-group", "page group"
    resources = [page.obj.get("/Resources")]
    for annot in page.obj.get("/Annots") or []:
        yield from _annotation_problems(annot)
        appearance = (annot.get("/AP") or {}).get("/N")
        if isinstance(appearance, pikepdf.Stream) and int(annot.get("/F", 0)) & 4:
            resources.append(appearance.get("/Resources"))
    seen: set[tuple[int, int]] = set()
    for res in resources:
        yield from _resource_problems(res, seen)
    for stream in [page.obj, *_forms(resources, set())]:
        if _cmyk_operators(stream):
            yield "device-cmyk", "colour set with the k/K operators"


def _annotation_problems(annot: pikepdf.Object) -> Iterator[tuple[str, str]]:
    subtype = annot.get("/Subtype")
    action = annot.get("/A")
    if "/AA" in annot or (isinstance(action, pikepdf.Dictionary) and action.get("/S") == "/JavaScript"):
        yield "javascript", f"a {str(subtype)[1:]} annotation runs JavaScript"
    elif isinstance(action, pikepdf.Dictionary) and action.get("/S") in UNSAFE_ACTIONS:
        yield "actions", f"a link action {str(action.get('/S'))[1:]}"
    if subtype == "/Widget":
        yield "form-fields", "form field"
    elif subtype not in ("/Link", "/Popup") and not int(annot.get("/F", 0)) & 4:
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
            if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
                seen.add(xobject.objgen)
                yield xobject
                yield from _forms([xobject.get("/Resources")], seen)


def _cmyk_operators(stream: pikepdf.Object) -> bool:
    """Whether a content stream sets DeviceCMYK colour (``k``/``K``)."""
    try:
        source = pikepdf.Page(stream) if isinstance(stream, pikepdf.Dictionary) and "/Contents" in stream else stream
        return bool(pikepdf.parse_content_stream(source, "k K"))
    except pikepdf.PdfError:
        return False


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


# -- the reading as a work of the volume -------------------------------------------------


def _work(
    index: int,
    spec: dict,
    source: PdfSource,
    entry: BibEntry,
    bib_path: Path | None,
    language: str,
) -> Work:
    from . import bibliography

    items = bibliography.to_csl(bib_path, {entry.key: entry}) if bib_path else []
    item = next((i for i in items if i.get("id") == entry.key), {})
    authors = tuple(Person(_name(a)) for a in item.get("author") or item.get("editor") or [] if _name(a))
    # the entry's title as written (Pandoc's CSL JSON has it in sentence case)
    written = re.sub(r"[{}]", "", entry.fields.get("title", ""))
    title = " ".join(str(spec.get("title") or written or Path(source.name).stem).split())
    issued = (item.get("issued") or {}).get("date-parts") or [[""]]
    meta = WorkMeta(
        title=title,
        authors=authors,
        language=language,
        identifier="",
        date=str(issued[0][0]) if issued and issued[0] else "",
        rights=str(spec.get("permissions") or ""),
        publisher=_plain(item.get("publisher", "")),
        bibliography=bib_path.name if bib_path else "",
    )
    reading = Reading(
        work=source.name,
        kind="pdf",
        title=title,
        show_authors=bool(authors),
        permissions=str(spec.get("permissions") or ""),
        pdf=source,
    )
    slug = f"r{index}-{slugify(Path(source.name).stem)}"
    return Work(
        slug=slug,
        root=source.path.parent,
        meta=meta,
        sections=(),
        documents=(),
        tables={},
        notes=(),
        register=(),
        bib={entry.key: entry},
        bib_path=bib_path,
        inputs=(source.path, *((bib_path,) if bib_path else ())),
        reading=reading,
    )


def _name(person: dict) -> str:
    return " ".join(filter(None, [person.get("given", ""), person.get("family", ""), person.get("literal", "")]))


def _plain(value: Any) -> str:
    return re.sub(r"<[^>]+>", "", str(value or ""))
