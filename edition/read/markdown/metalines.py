"""Lines of Markdown written in metadata, checked as the text is.

Every string the edition prints is inline Markdown, wherever it is written
(``printed``): a title or a name in YAML, a reader's course line, a table's
source line, a CSV cell. A line holds inline Markdown only: no note (a line is
not in the chain of notes), no image, no math or raw HTML or TeX; a citation
only in a table's caption, source line and notes (``tablecites``), with a key
of the work's bibliography. What a line cannot print is refused with its file
and line, as in the text: never printed as syntax, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from edition.diagnostics import Collector, suggest
from edition.model import BibEntry, SourceLocation
from edition.read.markdown.check import line_problems
from edition.read.markdown.parse import PARSER, UNDEFINED_NOTE_RE
from edition.read.sources import Mapping_


def check_line(
    markdown: str,
    where: SourceLocation,
    what: str,
    diags: Collector,
    cites: bool = False,
    bib: Mapping[str, BibEntry] | None = None,
    bib_name: str = "",
) -> None:
    """Refuse what ``markdown`` (the value of ``what``, written at ``where``)
    cannot print. With ``cites``, citations are allowed, and their keys must be
    in ``bib`` (unless it is None: a bibliography that could not be read has
    its own diagnostic)."""
    if not markdown:
        return
    children = PARSER.parseInline(markdown, {})[0].children or []
    said = set()

    def refuse(code: str, message: str) -> None:
        if message not in said:
            said.add(message)
            diags.error(where, code, message)

    for child in children:
        if child.type == "footnote_ref" or (child.type == "text" and UNDEFINED_NOTE_RE.search(child.content)):
            refuse("md.unsupported", f"a note in {what} is not supported: write its words in the line")
        elif child.type == "image":
            refuse("md.unsupported", f"an image in {what} is not supported: put it in the text")
        elif child.type == "citation" and not cites:
            refuse(
                "md.unsupported",
                f"a citation in {what} is not formatted: cite in the text, or in a table's source line "
                "(write \\@ for an at sign)",
            )
        elif child.type == "citation" and bib is not None:
            for key in child.meta["keys"]:
                if key not in bib:
                    refuse("cite.unknown", f"unknown citation key {key!r}: not in {bib_name}{suggest(key, bib)}")
    for message in line_problems(children, markdown):
        refuse("md.unsupported", message)


#: What each line of a table's description is called in a diagnostic.
TABLE_LINES = {"caption": "a table's caption", "source": "a table's source line"}


def check_table_lines(tables, bib: Mapping[str, BibEntry] | None, bib_name: str, diags: Collector) -> None:
    """The caption, source line and notes of each table's description."""
    for table in tables:
        for name, markdown in table.texts:
            what = TABLE_LINES.get(name, "a table's note")
            where = table.text_lines.get(name, table.location)
            check_line(markdown, where, what, diags, cites=True, bib=bib, bib_name=bib_name)


def check_fields(mapping: Mapping_, keys: Iterable[str], path: Path, what: str, diags: Collector) -> None:
    """Each of ``keys`` of a YAML mapping that holds text (``what`` names the
    mapping: "work metadata"), at its line."""
    for key in keys:
        value = mapping.data.get(key)
        if isinstance(value, str):
            check_line(value, SourceLocation(path, mapping.line(key)), f"{key!r} in {what}", diags)


def check_list(mapping: Mapping_, key: str, fields: Iterable[str], path: Path, what: str, diags: Collector) -> None:
    """The text of each item of a YAML list (``series_editors``), or of the
    ``fields`` of each mapping in it (each author's name and affiliation)."""
    for index, item in enumerate(mapping.data.get(key) or []):
        if isinstance(item, str):
            check_line(item, SourceLocation(path, mapping.line_at(key, index)), f"{key!r} {index + 1} in {what}", diags)
        elif isinstance(item, dict):
            for name in fields:
                if isinstance(item.get(name), str):
                    where = SourceLocation(path, mapping.line_at(key, index, name))
                    check_line(item[name], where, f"{name!r} of {key!r} {index + 1} in {what}", diags)
