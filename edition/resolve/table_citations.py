"""Citations in a table's caption, source line and notes (its YAML description).

``source: Counted from the letters [@briefwechsel1983]`` cites as a note
would: the citation is formatted by Pandoc's citeproc in the work's style, in
the form a note gives it, and printed in the line (CMOS 3.74: a table's source
note cites its source as a footnote does). A table's lines are not notes: they
stand apart from the work's chain of notes, so they are formatted in a run of
their own, each line as a note, with a note citing a placeholder between two
lines, so that no line is "Ibid." of the one before and no note of the text is
"Ibid." of a table. The sources they cite are listed in the bibliography
(``nocite`` in the work's own run).

A citation token is found again at every render by its place: the line's
name and its order in the line (``number``), so the ids never need storing.
"""

from __future__ import annotations

from collections.abc import Iterator

from markdown_it.token import Token

from edition.model import Citation, Note, Table, Work
from edition.read.markdown.parse import PARSER, div_attrs

#: The CSL item of the placeholder cited between two lines (never printed).
BOUNDARY = "edition-table-line-boundary"
BOUNDARY_ITEM = {"id": BOUNDARY, "type": "document", "title": "Boundary"}


def line_id(work_slug: str, table: Table, name: str) -> str:
    """The id prefix of a line's citations: ``<work>-table-<id>-<name>``."""
    return f"{work_slug}-table-{table.id}-{name}"


def number(children: list[Token], prefix: str) -> list[Token]:
    """Give each citation token of a parsed line its id (``<prefix>-c1``, ...),
    in order; the citation tokens."""
    found = [c for c in children if c.type == "citation"]
    for n, child in enumerate(found, 1):
        child.meta["id"] = f"{prefix}-c{n}"
    return found


def parse_line(markdown: str, prefix: str, smart: bool) -> list[Token]:
    """A line's inline tokens, its citations numbered."""
    children = PARSER.parseInline(markdown, {"smart": smart})[0].children or []
    number(children, prefix)
    return children


def placed_tables(work: Work) -> Iterator[Table]:
    """The tables the work's sections place, in reading order (each once)."""
    seen: set[str] = set()
    for section in work.all_sections:
        for token in section.tokens:
            if token.type != "container_div_open":
                continue
            ident, classes, _ = div_attrs(token.info)
            if "table" in classes and ident in work.tables and ident not in seen:
                seen.add(ident)
                yield work.tables[ident]


def placed_lines(work: Work) -> Iterator[tuple[Table, str, str, list[Token]]]:
    """Each line of each placed table: the table, the line's name, its
    Markdown and its parsed children (citations numbered)."""
    for table in placed_tables(work):
        for name, markdown in table.texts:
            yield table, name, markdown, parse_line(markdown, line_id(work.slug, table, name), work.meta.smart_quotes)


def line_notes(work: Work) -> list[Note]:
    """Each line of a placed table that cites, as a written note for citeproc
    (in reading order)."""
    notes: list[Note] = []
    for table, name, markdown, children in placed_lines(work):
        tokens = [t for t in children if t.type == "citation"]
        if not tokens:
            continue
        where = table.text_lines.get(name, table.location)
        citations = tuple(Citation(t.meta["id"], t.content, t.meta["keys"], where, t.meta["narrative"]) for t in tokens)
        notes.append(Note(line_id(work.slug, table, name), len(notes) + 1, (), where, citations, markdown))
    return notes


def with_boundaries(notes: list[Note]) -> list[Note]:
    """The lines with a note citing the placeholder between each two."""
    out: list[Note] = []
    for note in notes:
        if out:
            where = note.location
            boundary = Citation(f"{note.label}-boundary", f"[@{BOUNDARY}]", (BOUNDARY,), where)
            out.append(Note(boundary.id, 0, (), where, (boundary,), boundary.raw))
        out.append(note)
    return out


def cited_keys(notes: list[Note]) -> list[str]:
    """Every key the lines cite, once, in order."""
    keys: list[str] = []
    for note in notes:
        for citation in note.citations:
            keys += [k for k in citation.keys if k not in keys]
    return keys
