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
pages that PDF/A does not allow (``pdfproblems``).
The outputs never read the file again.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pikepdf

from edition.diagnostics import Collector, suggest
from edition.ids import slugify
from edition.model import BibEntry, PdfSource, Person, Reading, SourceLocation, Work, WorkMeta
from edition.read.pdf.bounds import PdfDamaged, PdfTooLarge
from edition.read.pdf.bounds import check as check_bounds
from edition.read.pdf.problems import problems
from edition.read.sandbox import Limit, Sandbox

#: Largest PDF a reading may be (a 300-page scan at 300 dpi is about 60 MB).
MAX_PDF_BYTES = 256 * 1024 * 1024
#: Most pages one reading may print: each is a page of the layout.
MAX_PDF_PAGES = 1000
KEYS = {"pdf", "pages", "cite", "title", "permissions", "epub_text"}
RANGE = re.compile(r"\s*(\d+)\s*(?:[-–]\s*(\d+)\s*)?")


def is_pdf_reading(spec: Any) -> bool:
    return isinstance(spec, dict) and "pdf" in spec


def read_pdf_reading(
    sandbox: Sandbox,
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
    found = checked_file(spec.get("pdf"), definition.parent, sandbox, where("pdf"), diags)
    if found is None or len(diags.items) > before:
        return None
    path, data = found
    source = read_source(path, data, sandbox.project, spec.get("pages"), bool(spec.get("epub_text")), where, diags)
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


def _unreadable(name: str, exc: pikepdf.PdfError) -> str:
    """qpdf's reason on one line, cut to a length a diagnostic can carry."""
    reason = " ".join(str(exc).split())[:160]
    return f"{name} cannot be read as a PDF: {reason}"


def checked_file(
    raw: Any, base: Path, sandbox: Sandbox, where: SourceLocation, diags: Collector
) -> tuple[Path, bytes] | None:
    """The file a reading names and its bytes, read once under the sandbox's
    rule (inside the project, not hidden, a regular file under the size limit
    for PDF readings)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    if ":" in raw.split("/")[0]:
        diags.error(where, "resource.refused", f"{raw!r}: only files inside the project may be used")
        return None
    if Path(raw).is_absolute():
        diags.error(where, "resource.refused", f"PDF {raw!r} is an absolute path; write it relative to the reader file")
        return None
    path = Path(os.path.normpath(base / raw))
    data = sandbox.read_bytes(path, diags, where, f"PDF {raw!r}", Limit(MAX_PDF_BYTES, "PDF readings"))
    return None if data is None else (path.resolve(), data)


def read_source(
    path: Path, data: bytes, project: Path, pages: Any, with_text: bool, where, diags: Collector
) -> PdfSource | None:
    """Check the file's bytes, read once, and describe the pages the reading uses."""
    name = path.relative_to(project.resolve()).as_posix()
    if b"%PDF-" not in data[:1024]:
        diags.error(where("pdf"), "pdf.unreadable", f"{name} is not a PDF (a PDF file begins with '%PDF-')")
        return None
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        diags.error(where("pdf"), "pdf.encrypted", f"{name} is encrypted with a password; ask for an unencrypted copy")
        return None
    except pikepdf.PdfError as exc:
        diags.error(where("pdf"), "pdf.unreadable", _unreadable(name, exc))
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
        try:
            check_bounds(pdf, first, last)
        except PdfTooLarge as exc:
            diags.error(where("pdf"), "file.size", f"{name}: {exc}")
            return None
        except PdfDamaged as exc:
            diags.error(where("pdf"), "pdf.unreadable", f"{name} cannot be printed: {exc}; give a repaired copy")
            return None
        except pikepdf.PdfError as exc:
            diags.error(where("pdf"), "pdf.unreadable", _unreadable(name, exc))
            return None
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


# -- the reading as a work of the volume -------------------------------------------------


def _work(
    index: int,
    spec: dict,
    source: PdfSource,
    entry: BibEntry,
    bib_path: Path | None,
    language: str,
) -> Work:
    from edition.read import bibliography

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
