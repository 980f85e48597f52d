"""Word tables as the work's tables.

A table that is data (one header row, every cell one line of plain text, a
caption) becomes ``tables/<id>.csv`` and ``tables/<id>.yaml``, placed by a
``::: {.table #id}`` div holding its caption; every other table (merged
cells, formatting, notes or several paragraphs in a cell, no caption) stays
a Markdown table in the text, which Pandoc's writer makes a pipe or grid table.

The description is chosen so that every cell prints as the author typed it:
a column is ``integer`` or ``decimal`` only when each of its cells is an
unsigned number without grouping (``4200``, ``310.5``), and digits are never
grouped (``thousands: false``); everything else (dates, percentages,
negative numbers, which the edition would print in its own forms) is text.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

import yaml

from edition import ids
from edition.manuscripts.pandoc_ast import Node, stringify

INTEGER_RE = re.compile(r"^\d+$")
DECIMAL_RE = re.compile(r"^\d+\.\d+$")
#: Inlines a data cell may hold: words, spaces, and nothing that prints otherwise.
PLAIN_INLINES = {"Str", "Space", "SoftBreak"}


@dataclass(frozen=True)
class DataTable:
    ident: str
    csv: str
    yaml: str
    caption: list[Node]  # the caption's blocks (the div's content)


def data_table(table: Node, ident: str) -> DataTable | None:
    """The table as CSV and YAML, or ``None`` if it is not plain data."""
    _attr, caption, _specs, head, bodies, foot = table["c"]
    caption_blocks = caption[1]
    head_rows = head[1]
    if not caption_blocks or not stringify(caption_blocks).strip() or len(head_rows) != 1 or foot[1]:
        return None
    body_rows = [row for body in bodies for row in (body[2] + body[3])]
    if any(body[2] for body in bodies):  # intermediate head rows
        return None
    header = _row_texts(head_rows[0])
    rows = [_row_texts(row) for row in body_rows]
    if header is None or not rows or any(r is None or len(r) != len(header) for r in rows):
        return None
    if any(not text for text in header) or any(not cell for row in rows for cell in row):
        return None  # an empty cell would print the edition's own mark
    names = _column_names(header)
    columns: dict[str, Any] = {}
    for index, (name, head_text) in enumerate(zip(names, header, strict=True)):
        values = [row[index] for row in rows]
        kind = _kind(values)
        spec: dict[str, Any] = {"type": kind, "header": head_text}
        if kind != "text":
            spec["thousands"] = False
        columns[name] = spec
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(rows)
    description = yaml.safe_dump(
        {"columns": columns}, allow_unicode=True, sort_keys=False, default_flow_style=None, width=1000
    )
    return DataTable(ident, buffer.getvalue(), description, caption_blocks)


def _row_texts(row: Node) -> list[str] | None:
    """Each cell's text, or ``None`` if a cell is more than one line of plain words."""
    texts = []
    for cell in row[1]:
        _attr, _align, rowspan, colspan, blocks = cell
        if rowspan != 1 or colspan != 1 or len(blocks) > 1:
            return None
        if blocks and (
            blocks[0]["t"] not in ("Para", "Plain") or any(i["t"] not in PLAIN_INLINES for i in blocks[0]["c"])
        ):
            return None
        texts.append(" ".join(stringify(blocks).split()) if blocks else "")
    return texts


def _column_names(header: list[str]) -> list[str]:
    names: list[str] = []
    for text in header:
        base = ids.ascii_slug(text).replace("-", "_") or "column"
        name, n = base, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _kind(values: list[str]) -> str:
    if all(INTEGER_RE.match(v) for v in values):
        return "integer"
    if all(INTEGER_RE.match(v) or DECIMAL_RE.match(v) for v in values):
        return "decimal"
    return "text"


def placing_div(ident: str, caption: list[Node]) -> Node:
    """``::: {.table #id}`` holding the caption."""
    return {"t": "Div", "c": [[ident, ["table"], []], caption]}


def table_id(caption: list[Node], taken: set[str]) -> str:
    """An id from the caption's words (``Table 1: Output of …`` -> ``output-of-…``)."""
    words = re.sub(r"^(?:table|tab\.)\s*[\dIVXLC]+[.:]?\s*", "", stringify(caption).strip(), flags=re.I)
    base = "-".join(ids.ascii_slug(words).split("-")[:5]) or "table"
    if not base[0].isalpha():
        base = f"table-{base}"
    ident, n = base, 2
    while ident in taken:
        ident, n = f"{base}-{n}", n + 1
    taken.add(ident)
    return ident
