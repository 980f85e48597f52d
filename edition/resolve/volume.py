"""A course reader resolved: each reading on its own (its own "Ibid." chains
and bibliography), with the line that names its source, and every link of
the volume checked against the works its readings come from."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape, unescape

from edition.diagnostics import Collector
from edition.model import Citation, Edition, Note, Reading, SourceLocation, Work
from edition.read import bibliography
from edition.read.course_reader import ReadVolume
from edition.read.markdown.parse import plain_text
from edition.resolve import anchors, citeproc
from edition.resolve.edition import resolve_work


def resolve_volume(volume: ReadVolume) -> Edition:
    parts = []
    for part in volume.edition.parts:
        if part.pdf is None:
            part = resolve_work(part)
        parts.append(replace(part, reading=_with_source_line(part)))
    edition = replace(volume.edition, parts=tuple(parts))
    whole = volume.whole
    anchors.check_edition(
        edition, {w.reading.work: whole[w.reading.work] for w in parts if w.reading and w.reading.work in whole}
    )
    return edition


def _with_source_line(work: Work) -> Reading:
    """ "Originally published as …", the work's own source cited in full (for
    a PDF reading, "Reproduced from …" its entry in the reader's bibliography)."""
    reading = work.reading
    assert reading is not None
    key = next(iter(work.bib)) if work.pdf else work.meta.source
    if not key:
        return reading
    items = bibliography.to_csl(work.bib_path, dict(work.bib)) if work.bib_path else []
    location = work.pdf.location if work.pdf else SourceLocation(work.root / "work.yaml")
    citation = Citation("source", f"@{key}", (key,), location)
    note = Note("source", 1, (), location, (citation,), f"[@{key}]")
    html = citeproc.format_notes([note], items, "en-US", Collector()).citations.get("source", "")
    if reading.kind == "pdf":
        lead = "Reproduced from "
    elif reading.kind == "whole":
        lead = "Originally published as "
    elif reading.kind == "documents":
        labels = " and ".join(
            plain_text(d.label, work.meta.smart_quotes).replace("DOCUMENT", "Document") for d in work.documents
        )
        lead = f"Printed as {labels} in "
    else:
        lead = "Excerpted from "
    # the line as HTML (the lead escaped: a document's label is the author's text) and as text
    plain = unescape(re.sub(r"<[^>]+>", "", html))
    return replace(reading, source_line=escape(lead) + html, source_text=lead + plain)
