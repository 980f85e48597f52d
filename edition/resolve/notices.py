"""What the build says about input that prints, but not as its author may expect.

An entry of a type neither Pandoc nor CSL knows (``@bibnote``, a ``@custom``
type) is formatted as a document: a warning names it (``bib.type``), with the
types to use instead. An entry the style's bibliography leaves out (CMOS 18
cites unpublished manuscripts and speeches in the notes only) is said in the
log, naming the entry, so nothing leaves the bibliography without a word.
A PDF reading whose pages print text where the volume prints its running
heads and folios (a browser's header and footer) is named (``pdf.furniture``).
A Markdown link to an address that is not a web or mail address (``file:``,
``javascript:``, a relative path) prints as its text without the link, and a
warning names it (``link.address``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import unquote

from edition.diagnostics import Diagnostic
from edition.model import Edition, SourceLocation, Work
from edition.read import bibliography
from edition.read.bibtex import entry_types as bibtypes
from edition.read.markdown.parse import walk_inline
from edition.resolve import links, table_citations

log = logging.getLogger(__name__)

KNOWN = "@book, @article, @incollection, @report, @thesis, @online, @misc or @unpublished"


def report(edition: Edition) -> None:
    """Every notice for the edition's works, each once."""
    _bibliography(edition)
    _links(edition)
    _furniture(edition)


def _furniture(edition: Edition) -> None:
    """A PDF reading whose pages print their own running heads or folios
    where the volume prints its own (``read.pdf.trim``)."""
    for work in edition.parts:
        source = work.pdf
        if source is None or not source.furniture:
            continue
        shown = ", ".join(f"“{line}”" for line in source.furniture)
        message = (
            f"{source.name}: its pages print text in their top or bottom 0.6 in ({shown}), where the volume "
            "prints its running heads and folios: cut it off with 'trim: browser' (a browser's header and footer) "
            "or 'trim: {top: 36, bottom: 36}' (points), or keep it and ignore this warning"
        )
        log.warning("%s", Diagnostic(source.location, "pdf.furniture", message, "warning"))


def _links(edition: Edition) -> None:
    said: set[tuple[str, int | None, str]] = set()
    for work in edition.parts:
        for section in work.all_sections:
            path = section.location.path
            tokens = list(section.tokens) + [t for n in work.notes if n.location.path == path for t in n.tokens]
            for child, line in walk_inline(tokens):
                href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
                if not href or href.startswith("#") or links.external_href(href):
                    continue
                written = unquote(href)
                if (str(path), line, written) in said:
                    continue
                said.add((str(path), line, written))
                message = (
                    f"link to {written!r}, which is not a web (http, https) or mail (mailto) address: its text is "
                    "printed without the link; write the full web address, or the text alone"
                )
                log.warning("%s", Diagnostic(SourceLocation(path, line), "link.address", message, "warning"))


def _bibliography(edition: Edition) -> None:
    said: set[tuple[str, str]] = set()
    for work in edition.parts:
        if work.bib_path is None:
            continue
        items = {item["id"]: item for item in bibliography.to_csl(work.bib_path, dict(work.bib))}
        listed = {key for key, _ in work.bibliography}
        for key in cited_keys(work):
            entry, item = work.bib.get(key), items.get(key)
            if entry is None or item is None or (str(work.bib_path), key) in said:
                continue
            said.add((str(work.bib_path), key))
            what = f"@{entry.entry_type}{{{key}}}"
            if bibtypes.unknown(entry, item):
                message = f"{what}: BibTeX type '{entry.entry_type}' is known neither to Pandoc nor to CSL, so it is formatted as a document; use {KNOWN}"
                log.warning("%s", Diagnostic(entry.location, "bib.type", message, "warning"))
            if work.bibliography and key not in listed and not work.pdf:
                message = (
                    f"{what} is cited in the notes only: the style's bibliography prints nothing for this "
                    f"{item.get('type', 'document').replace('_', ' ')}"
                )
                log.info("%s", Diagnostic(entry.location, "cite.bibliography", message, "note"))


def cited_keys(work: Work) -> Iterator[str]:
    """Every key the work cites, in reading order (its text, notes, tables' lines and source)."""
    tokens = [t for s in work.all_sections for t in s.tokens] + [t for n in work.notes for t in n.tokens]
    for child, _ in walk_inline(tokens):
        if child.type == "citation":
            yield from child.meta.get("keys", ())
    for note in table_citations.line_notes(work):
        for citation in note.citations:
            yield from citation.keys
    if work.meta.source:
        yield work.meta.source
