"""Resolve: turn read works into an edition (citations formatted, ids fixed)."""

from __future__ import annotations

from dataclasses import replace

from . import anchors, bibliography, citeproc
from .diagnostics import Collector
from .model import Edition, Work


def resolve_work(work: Work) -> Work:
    diags = Collector()
    items = bibliography.to_csl(work.bib_path, dict(work.bib)) if work.bib_path else []
    formatted = citeproc.format_notes(work.notes, items, _csl_lang(work.meta.language), diags)
    diags.check()
    work = replace(work, citations=formatted.citations, bibliography=formatted.bibliography)
    diags.extend(anchors.check_work(work))
    diags.check()
    return work


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
