"""The permissions report of a course reader, ``dist/<reader>.permissions.csv``.

The report is opened in spreadsheets, and its text cells come from reader and
work metadata: a title ``=HYPERLINK(...)`` would run as a formula. Text that a
spreadsheet could read as a formula is neutralised the OWASP way (CSV
injection): a leading apostrophe, which spreadsheets show as text and which a
reader of the CSV sees plainly, and every text cell in double quotes. Numbers
are written as numbers.
"""

from __future__ import annotations

import csv
import io

from edition.model import Edition
from edition.render import printed

#: What makes a spreadsheet read a cell as a formula (or a DDE call) when it
#: starts the cell, also after leading spaces; full-width forms included.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def cell(value: object) -> object:
    """A CSV cell that no spreadsheet runs: text that could start a formula gets a leading ``'``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(" \u00a0\u3000").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def permissions_csv(
    edition: Edition, pages: dict[str, tuple[int, int]], scales: dict[str, tuple[float, float]] | None = None
) -> bytes:
    """The report for the copyright office: each reading, its source, its pages.

    A reading printed from a PDF counts its share in pages (``share_basis``) of
    the original its BibTeX entry describes (a chapter's page range), else of
    the file, and says which pages of the file it used and at what scale they print."""
    scales = scales or {}
    out = io.StringIO()
    # every text cell quoted (OWASP's advice; a bare carriage return would end the row)
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(
        [
            "reading",
            "title",
            "work",
            "source",
            "first_page",
            "last_page",
            "pages",
            "words",
            "original_words",
            "share_of_original",
            "permissions",
            "kind",
            "share_basis",
            "source_pages",
            "source_pages_used",
            "source_total_pages",
            "scale",
        ]
    )
    for number, work in enumerate(edition.parts, 1):
        r = work.reading
        first, last = pages.get(work.slug, (0, 0))
        share = f"{r.words / r.original_words:.3f}" if r.original_words else ""
        row = [
            number,
            r.title,
            r.work,
            r.source_text,
            first,
            last,
            last - first + 1 if last else 0,
            r.words,
            r.original_words,
            share,
            printed.plain(r.permissions),
        ]
        if r.pdf:
            low, high = scales.get(work.slug, (0.0, 0.0))
            row[7:10] = ["", "", f"{r.pdf.pages / r.pages_of_original:.3f}"]
            row += ["pdf", "pages", f"{r.pdf.first}-{r.pdf.last}", r.pdf.pages, r.pdf.total]
            row.append(f"{low:.3f}" if low == high else f"{low:.3f}-{high:.3f}")
        else:
            row += ["typeset", "words", "", "", "", ""]
        writer.writerow([cell(v) for v in row])
    return out.getvalue().encode("utf-8")
