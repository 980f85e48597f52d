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
import math
import os
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pikepdf

from edition.diagnostics import Collector, suggest
from edition.ids import slugify
from edition.model import BibEntry, PdfSource, Person, Reading, SourceLocation, Work, WorkMeta
from edition.read import readlog
from edition.read.bibtex import csl_markup
from edition.read.markdown.parse import markdown_of, plain_text
from edition.read.pdf import trim
from edition.read.pdf.bounds import Budget, PdfDamaged, PdfMeasure, PdfTooLarge
from edition.read.pdf.bounds import check as check_bounds
from edition.read.pdf.problems import problems
from edition.read.sandbox import Limit, Sandbox
from edition.read.schema import PARAGRAPH, Field, check_value

#: Largest PDF a reading may be (a 300-page scan at 300 dpi is about 60 MB): the largest input of all.
MAX_PDF_BYTES = readlog.LARGEST_INPUT
#: Most pages one reading may print: each is a page of the layout.
MAX_PDF_PAGES = 1000
#: Most pages the PDF readings of one volume may print together.
MAX_VOLUME_PDF_PAGES = 2000
#: The smallest and largest side of a page, in points (ISO 32000-1, annex C: 3 to 14,400 units).
MIN_SIDE, MAX_SIDE = 3.0, 14_400.0
#: How qpdf names a file it reads from memory, which says nothing to the reader of the message.
BUFFER_RE = re.compile(r"^(?:stream )?<_io\.BytesIO object at 0x[0-9a-f]+>:? ?")
SCHEMA = {
    "pdf": Field(str),
    "pages": Field((str, int)),
    "cite": Field(str),
    "title": Field(str),
    "permissions": Field(str, max_chars=PARAGRAPH),
    "epub_text": Field(bool),
    "trim": Field((str, int, float, dict)),  # its forms are read by trim.parse
}
KEYS = set(SCHEMA)
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
    files: PdfFiles,
) -> Work | None:
    """One PDF reading as a ``Work`` without sections, or ``None`` after
    recording every problem with the reader file and line. ``files`` holds
    the volume's PDF files, each read and measured once."""

    def where(key: str) -> SourceLocation:
        return SourceLocation(definition, lines.get(key) or lines.get(""))

    before = len(diags.items)
    for key in sorted(set(spec) - KEYS):
        diags.error(where(key), "meta.unknown-key", f"unknown key {key!r} in a PDF reading{suggest(key, KEYS)}")
    _check_types(spec, where, diags)
    entry = _entry(spec, bib, bib_path, where, diags)
    found = checked_file(spec.get("pdf"), definition.parent, sandbox, where("pdf"), diags, files)
    if found is None or len(diags.items) > before:
        return None
    cut = trim.parse(spec["trim"]) if "trim" in spec else trim.PRESETS["none"]
    if isinstance(cut, str):
        diags.error(where("trim"), "meta.type", cut)
        return None
    source = read_source(found, spec.get("pages"), bool(spec.get("epub_text")), where, diags, files, cut)
    if source is None or entry is None:
        return None
    if "trim" not in spec:  # a reader that trims has looked at the pages' edges
        source = replace(source, furniture=trim.furniture(found.data, source.first, source.last, cut))
    return _work(index, spec, source, entry, bib_path, language)


@dataclass
class PdfFile:
    """One PDF file of a volume: its bytes, read once, and (when it is a PDF
    the build can read) the file opened once, its streams measured once."""

    path: Path
    name: str  # relative to the project
    data: bytes
    pdf: pikepdf.Pdf | None = None
    measure: PdfMeasure | None = None
    refusal: tuple[str, str] | None = None  # (code, message) when no reading can use it


@dataclass
class PdfFiles:
    """The PDF files of one volume, each read, opened and measured once
    however many readings name it; one budget for the content of all their
    pages, and one for their number."""

    budget: Budget = field(default_factory=Budget)
    pages: int = 0  # pages of PDF readings so far in the volume
    over: bool = False  # the volume's pages went over the limit (said once)
    files: dict[Path, PdfFile] = field(default_factory=dict)

    def close(self) -> None:
        for file in self.files.values():
            if file.pdf is not None:
                file.pdf.close()
        self.files.clear()


def _check_types(spec: dict, where, diags: Collector) -> None:
    """Each key's type and length, by the schema every definition is checked with."""
    for key, shape in SCHEMA.items():
        if key in spec:
            check_value(spec[key], shape, where(key), f"{key!r} in a PDF reading", diags)


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


def _damaged(exc: Exception) -> str:
    """A malformed object met while reading the pages, said on one short line."""
    return "an object on its pages is not of the kind PDF prescribes (" + " ".join(str(exc).split())[:120] + ")"


def _unreadable(name: str, exc: pikepdf.PdfError) -> str:
    """qpdf's reason on one line, cut to a length a diagnostic can carry."""
    reason = " ".join(BUFFER_RE.sub("", str(exc)).split())[:160]
    return f"{name} cannot be read as a PDF: {reason}"


def checked_file(
    raw: Any, base: Path, sandbox: Sandbox, where: SourceLocation, diags: Collector, files: PdfFiles
) -> PdfFile | None:
    """The file a reading names, read once under the sandbox's rule (inside
    the project, not hidden, a regular file under the size limit for PDF
    readings) and opened once, however many readings name it."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    if ":" in raw.split("/")[0]:
        diags.error(where, "resource.refused", f"{raw!r}: only files inside the project may be used")
        return None
    if Path(raw).is_absolute():
        diags.error(where, "resource.refused", f"PDF {raw!r} is an absolute path; write it relative to the reader file")
        return None
    path = Path(os.path.normpath(base / raw))
    known = files.files.get(path)
    if known is None:
        data = sandbox.read_bytes(path, diags, where, f"PDF {raw!r}", Limit(MAX_PDF_BYTES, "PDF readings"))
        if data is None:
            return None
        name = path.resolve().relative_to(sandbox.project.resolve()).as_posix()
        known = files.files[path] = _open(PdfFile(path.resolve(), name, data))
    if known.refusal is not None:
        diags.error(where, *known.refusal)
        return None
    return known


def _open(file: PdfFile) -> PdfFile:
    """The file opened, or why it cannot be used: not a PDF, encrypted, damaged, without pages."""
    name = file.name
    if b"%PDF-" not in file.data[:1024]:
        file.refusal = ("pdf.unreadable", f"{name} is not a PDF (a PDF file begins with '%PDF-')")
        return file
    try:
        pdf = pikepdf.open(io.BytesIO(file.data))
    except pikepdf.PasswordError:
        file.refusal = ("pdf.encrypted", f"{name} is encrypted with a password; ask for an unencrypted copy")
        return file
    except pikepdf.PdfError as exc:
        file.refusal = ("pdf.unreadable", _unreadable(name, exc))
        return file
    if pdf.is_encrypted:
        pdf.close()
        file.refusal = (
            "pdf.encrypted",
            f"{name} is encrypted (its owner restricts what may be done with it); ask for an unencrypted copy",
        )
        return file
    try:
        empty = len(pdf.pages) == 0
    except (pikepdf.PdfError, RuntimeError) as exc:  # a page tree qpdf cannot walk (a loop in /Kids)
        pdf.close()
        file.refusal = ("pdf.unreadable", _unreadable(name, exc))
        return file
    if empty:
        pdf.close()
        file.refusal = ("pdf.pages", f"{name} has no pages")
        return file
    file.pdf, file.measure = pdf, PdfMeasure(pdf)
    return file


def read_source(
    file: PdfFile,
    pages: Any,
    with_text: bool,
    where,
    diags: Collector,
    files: PdfFiles,
    cut: trim.Trim = trim.PRESETS["none"],
) -> PdfSource | None:
    """Check the pages the reading uses, within the volume's bounds, and describe them."""
    pdf, measure, name = file.pdf, file.measure, file.name
    assert pdf is not None and measure is not None
    total = len(pdf.pages)
    span = page_range(pages, total, name, where, diags)
    if span is None or not within_limit(*span, name, where, diags, files):
        return None
    first, last = span
    try:
        check_bounds(measure, first, last, files.budget)
        sizes = tuple(_size(measure, pdf, n) for n in range(first, last + 1))
        small = [n for n in range(first, last + 1) if trim.too_small(pdf.pages[n - 1], cut)]
        if small:
            diags.error(
                where("trim"),
                "meta.type",
                f"'trim' leaves less than 1 in of page {small[0]} of {name}: trim less (in points, from each edge)",
            )
            return None
        if any(cut):  # the size of the placed form: the trimmed page
            sizes = tuple(_size(measure, pdf, n, cut) for n in range(first, last + 1))
        found = problems(measure, first, last)
    except PdfTooLarge as exc:
        diags.error(where("pdf"), "file.size", f"{name}: {exc}")
        return None
    except PdfDamaged as exc:
        diags.error(where("pdf"), "pdf.unreadable", f"{name} cannot be printed: {exc}; give a repaired copy")
        return None
    except PageBoxError as exc:
        diags.error(where("pdf"), "pdf.unreadable", f"{name}: {exc}; give a repaired copy")
        return None
    except pikepdf.PdfError as exc:
        diags.error(where("pdf"), "pdf.unreadable", _unreadable(name, exc))
        return None
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # an object of another kind than PDF says
        diags.error(where("pdf"), "pdf.unreadable", f"{name} cannot be printed: {_damaged(exc)}; give a repaired copy")
        return None
    files.pages += last - first + 1
    text = _text(file, first, last) if with_text else ()
    if with_text and not any(t.strip() for t in text):
        diags.error(
            where("epub_text"),
            "pdf.no-text",
            f"{name} has no text layer on pages {first}–{last} (a scan?): remove 'epub_text' or give a PDF with text",
        )
        return None
    return PdfSource(
        name=name,
        path=file.path,
        data=file.data,
        first=first,
        last=last,
        total=total,
        sizes=sizes,
        tagged=is_tagged(pdf),
        location=where("pdf"),
        problems=tuple(found),
        text=text,
        trim=cut,
    )


def _size(
    measure: PdfMeasure, pdf: pikepdf.Pdf, number: int, cut: trim.Trim = trim.PRESETS["none"]
) -> tuple[float, float]:
    """The page's displayed size, once per file and trim (the file is shared
    by the volume's readings: a trim is set on the page only while it is measured)."""
    key = ("size", number, cut)
    if key not in measure.memo:
        with trim.trimmed(pdf.pages[number - 1], cut) as page:
            measure.memo[key] = displayed_size(page, number)
    return measure.memo[key]


def _text(file: PdfFile, first: int, last: int) -> tuple[str, ...]:
    """The text layer of the pages, each page read once per file."""
    assert file.measure is not None
    memo = file.measure.memo
    missing = [n for n in range(first, last + 1) if ("text", n) not in memo]
    if missing:
        for number, text in zip(
            range(missing[0], missing[-1] + 1), extract_text(file.data, missing[0], missing[-1]), strict=True
        ):
            memo[("text", number)] = text
    return tuple(memo[("text", n)] for n in range(first, last + 1))


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


def within_limit(first: int, last: int, name: str, where, diags: Collector, files: PdfFiles) -> bool:
    """A reading's pages within the limit for one reading, and the volume's
    PDF pages with them within the limit for a volume (each is a page of the layout)."""
    count = last - first + 1
    if count > MAX_PDF_PAGES:
        diags.error(
            where("pages"),
            "pdf.pages",
            f"{name}: a reading of {count} pages, over the limit of {MAX_PDF_PAGES}; give a page range",
        )
        return False
    if files.pages + count > MAX_VOLUME_PDF_PAGES:
        if files.over:  # said once, at the first reading over the limit
            return False
        files.over = True
        diags.error(
            where("pages"),
            "pdf.pages",
            f"{name}: with this reading's {count} pages the volume prints {files.pages + count} pages of PDF "
            f"readings, over the limit of {MAX_VOLUME_PDF_PAGES}; split the reader into several volumes",
        )
        return False
    return True


class PageBoxError(Exception):
    """A page whose size cannot be placed (a message completing "<file>: ...")."""


def displayed_size(page: pikepdf.Page, number: int = 1) -> tuple[float, float]:
    """Width and height in points of the page as a viewer shows it: its trim
    box (else crop box, else media box), turned by /Rotate. The outputs place
    exactly this form (``Page.as_form_xobject``). A page no viewer could
    show as a page raises ``PageBoxError``: a box without width or height, or
    larger than a PDF page may be (ISO 32000-1, annex C), turned by other than
    a multiple of 90 degrees."""
    rotate = _inherited(page.obj, "/Rotate")
    if rotate is not None and not (
        _is_number(rotate) and float(rotate) == int(float(rotate)) and int(float(rotate)) % 90 == 0
    ):
        raise PageBoxError(
            f"page {number} is turned by /Rotate {_shown(rotate)}; a page turns by a multiple of 90 degrees"
        )
    form = page.as_form_xobject()
    values = [*form.BBox, *form.get("/Matrix", [1, 0, 0, 1, 0, 0])]
    if len(values) != 10 or not all(_is_number(v) and math.isfinite(float(v)) for v in values):
        raise PageBoxError(f"page {number} has a page box or /UserUnit that is not four numbers")
    x0, y0, x1, y1, a, b, c, d, _, _ = (float(v) for v in values)
    xs = [a * x + c * y for x in (x0, x1) for y in (y0, y1)]
    ys = [b * x + d * y for x in (x0, x1) for y in (y0, y1)]
    width, height = round(max(xs) - min(xs), 3), round(max(ys) - min(ys), 3)
    box = "[" + " ".join(_number(float(v)) for v in form.BBox) + "]"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise PageBoxError(
            f"page {number} is {_number(width)} × {_number(height)} points (its box {box}); a page is {MIN_SIDE:g} "
            f"to {MAX_SIDE:g} points wide and high"
        )
    return width, height


def _inherited(page: pikepdf.Object, key: str) -> Any:
    """A page attribute, from the page or the nearest page-tree node above it that has it."""
    node, seen = page, set()
    while isinstance(node, pikepdf.Dictionary) and node.objgen not in seen:
        if key in node:
            return node.get(key)
        seen.add(node.objgen)
        node = node.get("/Parent")
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _number(value: float) -> str:
    """A number as PDF writes it: ``300``, ``10000000``, ``0.5``."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _shown(value: Any) -> str:
    return " ".join(str(value).split())[:40]


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
    # the reader's title for it, or the entry's as written (Markdown, either way)
    written = str(
        spec.get("title") or bibliography.written_title(entry) or csl_markup.to_markdown(Path(source.name).stem)
    )
    written = " ".join(written.split())
    title = plain_text(written)
    issued = (item.get("issued") or {}).get("date-parts") or [[""]]
    meta = WorkMeta(
        title=title,
        title_markdown=markdown_of(written),
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
        title_markdown=markdown_of(written),
        show_authors=bool(authors),
        permissions=str(spec.get("permissions") or ""),
        pdf=source,
        original_pages=original_pages(entry),
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


#: A BibTeX page range: ``32--63``, ``32-63``, ``32–63``.
PAGE_RANGE = re.compile(r"\s*(\d+)\s*(?:-{1,3}|\u2013|\u2014)\s*(\d+)\s*")


def original_pages(entry: BibEntry) -> int:
    """Pages of the original the entry describes: its page range (a chapter,
    an article), or its ``pagetotal`` (a book); 0 when it gives neither."""
    found = PAGE_RANGE.fullmatch(entry.fields.get("pages", ""))
    if found and int(found.group(2)) >= int(found.group(1)):
        return int(found.group(2)) - int(found.group(1)) + 1
    total = entry.fields.get("pagetotal", "").strip()
    return int(total) if total.isdigit() and int(total) > 0 else 0


def _name(person: dict) -> str:
    return " ".join(filter(None, [person.get("given", ""), person.get("family", ""), person.get("literal", "")]))


def _plain(value: Any) -> str:
    return re.sub(r"<[^>]+>", "", str(value or ""))
