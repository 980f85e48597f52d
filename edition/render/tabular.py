"""How a table's values print: the rows, groups and totals of a ``Table`` as
cells of text the body template lays out.

Numbers are right-aligned in tabular figures. A column's numbers line up on
the decimal point: a value with fewer decimals than the column's widest is
padded with figure spaces (U+2007, the width of a tabular digit) and, when
it has no decimals at all, a punctuation space (U+2008, the width of the
point) - no zero is invented. Digits are grouped with commas when the
column reaches 10,000, its total counted (a year column stays "1971"), as
the Chicago Manual sets numbers in tables; ``thousands`` overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from markupsafe import Markup

from edition.model import Column, Table
from edition.render import printed

FIGURE_SPACE = "\u2007"
PUNCTUATION_SPACE = "\u2008"
MINUS = "\u2212"


@dataclass(frozen=True)
class Cell:
    text: str
    classes: str
    header: bool = False  # a row header: <th scope="row">


@dataclass(frozen=True)
class Head:
    text: str
    unit: str
    classes: str
    grouped: bool = False  # under a column group's head (in the second head row)


@dataclass(frozen=True)
class Band:
    """A cell of the first head row of a table with column groups: a group's
    label over ``span`` columns, or (``head``) an ungrouped column's head
    spanning both rows."""

    text: str
    span: int
    head: Head | None = None


@dataclass
class Group:
    label: str | None  # the group's heading row; None for an ungrouped table
    key: Any = None
    rows: list[list[Cell]] = field(default_factory=list)
    subtotal: list[Cell] | None = None


@dataclass
class View:
    heads: list[Head]
    groups: list[Group]
    totals: list[Cell] | None
    bands: list[Band] = field(default_factory=list)  # the first head row, with column groups


@dataclass(frozen=True)
class NumberFormat:
    places: int | None  # fixed decimals, or None: as written, aligned on the point
    width: int  # the column's most decimals (the padding target)
    thousands: bool


def column_format(column: Column, values: Iterable[Any]) -> NumberFormat:
    numbers = [v for v in values if v is not None]
    width = column.places if column.places is not None else max((_decimals(v) for v in numbers), default=0)
    thousands = column.thousands
    if thousands is None:  # as printed: 9999.7 with no decimals prints "10,000"
        thousands = any(abs(_rounded(v, column.places)) >= 10000 for v in numbers)
    return NumberFormat(column.places, width, thousands)


def _rounded(value: int | Decimal, places: int | None) -> int | Decimal:
    """The value as a column of ``places`` decimals prints it."""
    if places is None:
        return value
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _decimals(value: int | Decimal) -> int:
    if isinstance(value, int):
        return 0
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_number(value: int | Decimal, fmt: NumberFormat) -> str:
    value = _rounded(value, fmt.places)
    sign = MINUS if value < 0 else ""
    digits = f"{abs(value):f}" if isinstance(value, Decimal) else str(abs(value))
    whole, _, fraction = digits.partition(".")
    if fmt.thousands:
        whole = f"{int(whole):,}"
    if fmt.width == 0:
        return sign + whole
    if not fraction:
        return sign + whole + PUNCTUATION_SPACE + FIGURE_SPACE * fmt.width
    return sign + whole + "." + fraction + FIGURE_SPACE * (fmt.width - len(fraction))


def _classes(column: Column) -> str:
    kind = "num" if column.numeric else column.kind
    return f"{kind} align-{column.align}" if column.align else kind


def table_view(table: Table, date_format: Callable[[str], str] = str, smart: bool = True) -> View:
    """The table's cells, ready to print: every text from the description or
    the CSV (a head, a unit, a label, a text cell) as the Markdown it is
    (``printed``), numbers and dates as formatted."""

    def md(text: str) -> Markup:
        return printed.markup(text, smart)

    shown = table.shown
    formats = {c.name: column_format(c, _printed_values(table, c)) for c in shown if c.numeric}
    if table.group_by:
        group_column = table.column(table.group_by)
        if group_column.numeric:  # a text or date column's groups are headed by its values as written
            formats.setdefault(
                group_column.name, column_format(group_column, (r[group_column.name] for r in table.rows))
            )

    def show(column: Column, value: Any) -> str:
        if value is None or value == "":
            return md(table.missing)
        if column.numeric:
            return format_number(value, formats[column.name])
        if column.kind == "date":
            return date_format(value)
        return md(str(value))

    def row_cells(row: Mapping[str, Any]) -> list[Cell]:
        return [Cell(show(c, row[c.name]), _classes(c), c.name == table.row_header) for c in shown]

    def total_cells(rows: list[Mapping[str, Any]], label: str) -> list[Cell]:
        cells = []
        for index, column in enumerate(shown):
            if column.name in table.totals:
                cells.append(Cell(show(column, _sum(rows, column.name)), _classes(column)))
            elif index == 0:
                cells.append(Cell(label, _classes(column), bool(table.row_header)))
            else:
                cells.append(Cell("", _classes(column)))
        return cells

    grouped = {name for _, names in table.column_groups for name in names}
    heads = [Head(md(c.header), md(c.unit), _classes(c), c.name in grouped) for c in shown]
    bands: list[Band] = []
    if table.column_groups:
        starts = {names[0]: (label, len(names)) for label, names in table.column_groups}
        for column, head in zip(shown, heads, strict=True):
            if column.name in starts:
                label, span = starts[column.name]
                bands.append(Band(md(label), span))
            elif column.name not in grouped:
                bands.append(Band(head.text, 1, head))
    if table.group_by:
        groups = [Group(show(group_column, key), key, [row_cells(r) for r in rows]) for key, rows in table.groups()]
        if table.subtotals:
            for group, (key, rows) in zip(groups, table.groups(), strict=True):
                group.subtotal = total_cells(rows, md(table.totals_label) + Markup(", ") + show(group_column, key))
    else:
        groups = [Group(None, None, [row_cells(r) for r in table.rows])]
    totals = total_cells(list(table.rows), md(table.totals_label)) if table.totals else None
    return View(heads, groups, totals, bands)


def _sum(rows: Iterable[Mapping[str, Any]], name: str) -> Any:
    return sum((r[name] for r in rows if r[name] is not None), start=0)


def _printed_values(table: Table, column: Column) -> list[Any]:
    """Every number the column prints: its rows' values and, if it is totalled,
    its total and subtotals (a column of four-digit counts whose total reaches
    10,000 groups every figure, so that they line up: "1,133" above "11,618")."""
    values = [r[column.name] for r in table.rows]
    if column.name in table.totals:
        values.append(_sum(table.rows, column.name))
        if table.group_by and table.subtotals:
            values += [_sum(rows, column.name) for _, rows in table.groups()]
    return values


def note_labels(count: int) -> list[str]:
    """ "Note:" for a table's one note; "a.", "b.", ... for several (Chicago)."""
    if count == 1:
        return ["Note:"]
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [f"{letters[i]}." if i < len(letters) else f"{i + 1}." for i in range(count)]


def derived_totals(table: Table) -> dict[str, Any] | None:
    """The totals the table's own data gives for the totals the text states."""
    stated = table.stated_totals
    if not stated:
        return None
    column = stated["column"]
    first, last = stated.get("years", [None, None])
    counts: dict[str, int] = {}
    for row in table.rows:
        year = row[table.group_by]
        if first is not None and not (first <= year <= last):
            continue
        counts[row[column]] = counts.get(row[column], 0) + 1
    order = list(stated["counts"])
    rows = [(k, stated["counts"][k], counts.get(k, 0)) for k in order]
    rows += [(k, 0, v) for k, v in counts.items() if k not in stated["counts"]]
    return {
        "first": first,
        "last": last,
        "rows": rows,
        "differs": any(s != d for _, s, d in rows),
        "stated_sum": sum(s for _, s, _ in rows),
        "derived_sum": sum(d for _, _, d in rows),
    }
