"""How large a table may be: checked on what was read, before any layout.

A table cell costs the layout far more than its text: WeasyPrint holds about
12 KB of boxes for a cell of one character, and the page make-up lays the
pages out several times. A 1.4 MB CSV of 5,000 rows of 100 one-character
columns asked for 500,000 cells: the layout held 9 GB after six minutes, and
under a memory limit it failed inside the engine's C code (the review's
segfault; not a recursion: the tables are flat). So every table, from a CSV
or written in Markdown (pipe or grid), is bounded in rows, columns and cells,
and an edition (a work, or a reader with all its readings) in the cells of
all its tables together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from edition.model import Section, SourceLocation, Table

#: More rows than this is not a table for a printed page: refused, not laid out for an hour.
MAX_TABLE_ROWS = 5000
#: More columns than this cannot be read on a page, even set small or turned.
MAX_TABLE_COLUMNS = 50
#: Cells of one table (rows × columns).
MAX_TABLE_CELLS = 50_000
#: Cells of all the tables of one edition (a work, or a reader with all its readings).
MAX_EDITION_CELLS = 100_000
#: Characters a grid table's grid may span (its lines times the longest): docutils reads it cell by cell.
MAX_GRID_CHARACTERS = 1_000_000


def too_large(rows: int, columns: int, cells: int | None = None) -> str | None:
    """Why a table of ``rows`` × ``columns`` (``cells`` in all, when spans
    make it fewer) is refused, or ``None``."""
    cells = rows * columns if cells is None else cells
    if columns > MAX_TABLE_COLUMNS:
        return f"the table has {columns} columns, over the limit of {MAX_TABLE_COLUMNS}; split it"
    if rows > MAX_TABLE_ROWS:
        return f"the table has more than {MAX_TABLE_ROWS} rows; split it or print an extract"
    if cells > MAX_TABLE_CELLS:
        return (
            f"the table has more than {MAX_TABLE_CELLS} cells ({rows} rows of {columns} columns); "
            "split it or print an extract"
        )
    return None


def markdown_tables(tokens: Iterable[Any]) -> Iterator[tuple[int, int, int, int]]:
    """Each Markdown table (pipe or grid) of a token stream: the line it
    starts on (as the tokens' maps give it), its rows, its widest row and its cells."""
    start = rows = widest = cells = width = 0
    inside = False
    for token in tokens:
        if token.type == "table_open":
            inside, rows, widest, cells = True, 0, 0, 0
            start = token.map[0] if token.map else 0
        elif not inside:
            continue
        elif token.type == "tr_open":
            rows, width = rows + 1, 0
        elif token.type in ("td_open", "th_open"):
            width, cells = width + 1, cells + 1
            widest = max(widest, width)
        elif token.type == "table_close":
            inside = False
            yield start, rows, widest, cells


def edition_cells(
    sections: Iterable[Section], tables: Mapping[str, Table], placed: set[str]
) -> Iterator[tuple[SourceLocation, int]]:
    """Where each table of a work's sections stands, with its cells: the
    Markdown tables of each section, and the CSV tables the sections place."""
    for section in sections:
        for start, _, _, cells in markdown_tables(section.tokens):
            yield SourceLocation(section.location.path, start + 1), cells
    for ident in sorted(placed):
        table = tables.get(ident)
        if table is not None:
            yield table.location, len(table.rows) * len(table.columns)


def over_edition_limit(
    found: Iterable[tuple[SourceLocation, int]], before: int = 0
) -> tuple[SourceLocation, int] | None:
    """The table with which the cells (``before`` of them already counted)
    pass ``MAX_EDITION_CELLS``, and the count there; else ``None``."""
    total = before
    for where, cells in found:
        total += cells
        if total > MAX_EDITION_CELLS:
            return where, total
    return None


def edition_message(total: int) -> str:
    return (
        f"with this table the edition's tables hold {total} cells, over the limit of {MAX_EDITION_CELLS} "
        "for all the tables of a work or reader; split it or print extracts"
    )
