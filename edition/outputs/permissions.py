"""The permissions report of a course reader, ``dist/<reader>.permissions.csv``."""

from __future__ import annotations

import csv
import io

from ..model import Edition


def permissions_csv(edition: Edition, pages: dict[str, tuple[int, int]]) -> bytes:
    """The report for the copyright office: each reading, its source, its pages."""
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
        ]
    )
    for number, work in enumerate(edition.parts, 1):
        r = work.reading
        first, last = pages.get(work.slug, (0, 0))
        share = f"{r.words / r.original_words:.3f}" if r.original_words else ""
        writer.writerow(
            [
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
        )
    return out.getvalue().encode("utf-8")
