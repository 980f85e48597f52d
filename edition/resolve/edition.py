"""Resolve: turn read works into an edition (citations formatted, ids fixed)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

from markdown_it.token import Token

from edition.diagnostics import Collector
from edition.model import Citation, Edition, SourceLocation, Work
from edition.read import bibliography
from edition.read.markdown.parse import walk_inline
from edition.resolve import anchors, citeproc, full_stops, labels
from edition.resolve import table_citations as tablecites

log = logging.getLogger(__name__)


def resolve_work(work: Work) -> Work:
    diags = Collector()
    items = bibliography.to_csl(work.bib_path, dict(work.bib)) if work.bib_path else []
    style = work.style.path if work.style else None
    events = citation_events(work)
    lines = tablecites.line_notes(work)
    lang = _csl_lang(work.meta.language)
    formatted = citeproc.format_notes(events, items, lang, diags, style, tablecites.cited_keys(lines))
    citations = dict(formatted.citations)
    if lines:  # a table's lines cite apart from the chain of notes (tablecites)
        apart = tablecites.with_boundaries(lines)
        citations.update(citeproc.format_notes(apart, [*items, tablecites.BOUNDARY_ITEM], lang, diags, style).citations)
    diags.check()
    citations, taken = full_stops.single_stops(_text_inlines(work), _note_inlines(work), citations)
    work = replace(work, citations=citations, bibliography=formatted.bibliography, stops_taken=taken)
    diags.extend(anchors.check_work(work))
    diags.check()
    for warning in labels.check_link_texts(work, labels.labels(work)):
        log.warning("%s", warning)
    return work


def _text_inlines(work: Work) -> Iterator[list[Token]]:
    """The children of every inline of the work's running text."""
    yield from full_stops.inlines_of(t for s in work.all_sections for t in s.tokens)


def _note_inlines(work: Work) -> Iterator[list[Token]]:
    """The children of every inline of the work's notes and its tables' lines."""
    yield from full_stops.inlines_of(t for n in work.notes for t in n.tokens)
    yield from (children for _, _, _, children in tablecites.placed_lines(work))


def citation_events(work: Work) -> list[citeproc.Event]:
    """The work's notes and the citations of its running text, in the order a
    reader meets them (a note at its call)."""
    events: list[citeproc.Event] = []
    for section in work.all_sections:
        for child, line in walk_inline(list(section.tokens)):
            if child.type == "footnote_ref":
                events.append(work.notes[child.meta["note_number"] - 1])
            elif child.type == "citation" and "author_of" not in child.meta:
                location = SourceLocation(section.location.path, line)
                events.append(
                    Citation(child.meta["id"], child.content, child.meta["keys"], location, child.meta["narrative"])
                )
    return events


def single_work_edition(work: Work) -> Edition:
    return Edition(
        slug=work.slug,
        title=work.meta.title,
        identifier=work.meta.identifier,
        language=work.meta.language,
        parts=(work,),
    )


def _csl_lang(language: str) -> str:
    """Pandoc wants a full locale; ``en`` alone would pick en-US anyway."""
    return {"en": "en-US", "de": "de-DE", "fr": "fr-FR"}.get(language, language)
