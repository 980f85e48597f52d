"""Resolve: turn read works into an edition (citations formatted, ids fixed)."""

from __future__ import annotations

from dataclasses import replace

from edition.diagnostics import Collector
from edition.model import Citation, Edition, SourceLocation, Work
from edition.read import bibliography
from edition.read.markdown.parse import walk_inline
from edition.resolve import anchors, citeproc


def resolve_work(work: Work) -> Work:
    diags = Collector()
    items = bibliography.to_csl(work.bib_path, dict(work.bib)) if work.bib_path else []
    style = work.style.path if work.style else None
    events = citation_events(work)
    formatted = citeproc.format_notes(events, items, _csl_lang(work.meta.language), diags, style)
    diags.check()
    work = replace(work, citations=formatted.citations, bibliography=formatted.bibliography)
    diags.extend(anchors.check_work(work))
    diags.check()
    return work


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
