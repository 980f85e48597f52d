"""The permissions report of a course reader, ``dist/<reader>.permissions.csv``."""

from __future__ import annotations

import csv
import io

from ..model import Edition


def permissions_csv(
    edition: Edition, pages: dict[str, tuple[int, int]], scales: dict[str, tuple[float, float]] | None = None
) -> bytes:
    """The report for the copyright office: each reading, its source, its pages.

    A reading printed from a PDF counts its share in pages of the source file
    (``share_basis``), and says which pages it used and at what scale they print."""
    scales = scales or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
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
            r.permissions,
        ]
        if r.pdf:
            low, high = scales.get(work.slug, (0.0, 0.0))
            row[7:10] = ["", "", f"{r.pdf.pages / r.pdf.total:.3f}"]
            row += ["pdf", "pages", f"{r.pdf.first}-{r.pdf.last}", r.pdf.pages, r.pdf.total]
            row.append(f"{low:.3f}" if low == high else f"{low:.3f}-{high:.3f}")
        else:
            row += ["typeset", "words", "", "", "", ""]
        writer.writerow(row)
    return out.getvalue().encode("utf-8")
