"""Tables: a CSV of data and a YAML description beside it (``tables/<id>.csv``
and ``tables/<id>.yaml``), and the fenced divs of the text that place them.

Every column of the CSV must be declared, and every declared column must be
in the CSV: a table never drops a column without a word. Values are typed as
they are read (integer, decimal, percent, text, date) and a bad value names
its file and line.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from edition.diagnostics import Collector, suggest
from edition.model import COLUMN_TYPES, Column, Section, SourceLocation, Table
from edition.read import tablesize
from edition.read.markdown import metalines
from edition.read.markdown.parse import div_attrs
from edition.read.sandbox import Sandbox
from edition.read.schema import PARAGRAPH, Field, text, validate
from edition.read.sources import Mapping_, load_mapping, read_text

TABLE_SCHEMA = {
    "columns": Field(dict, True),
    "caption": Field(str, max_chars=PARAGRAPH),
    "source": Field(str, max_chars=PARAGRAPH),
    "notes": Field((list, str), max_chars=PARAGRAPH),
    "group_by": Field(str),
    "list_column": Field(str),
    "headers": Field(dict),
    "row_header": Field((str, bool)),
    "totals": Field((bool, list, dict)),
    "subtotals": Field(bool),
    "wide": Field(str),
    "column_groups": Field(list),
    "missing": Field(str),
    "original_pages": Field(dict),
    "source_note": Field(str, max_chars=PARAGRAPH),
    "stated_totals": Field(dict),
}
#: The keys of a column given in the long form, ``name: {type: decimal, ...}``.
COLUMN_SCHEMA = {
    "type": Field(str, True),
    "header": Field(str),
    "unit": Field(str),
    "places": Field(int),
    "thousands": Field(bool),
    "align": Field(str),
    "hidden": Field(bool),
}
ALIGNMENTS = ("left", "right", "center")
WIDE = ("small", "rotate")
TOTALS_KEYS = {"label", "columns"}
MAX_PLACES = 10

INTEGER_RE = re.compile(r"[+-]?\d+")
DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
DATE_RE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
HINTS = {
    "integer": "write digits only, as 1234",
    "decimal": "write digits with a point, as 1234.5",
    "percent": "write a number, as 12.5 or 12.5%",
    "date": "write an ISO date: 1977, 1977-12 or 1977-12-13",
}


def read_tables(sandbox: Sandbox, folder: Path, diags: Collector) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for spec_path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if spec_path.name.startswith("."):  # an editor's lock or swap file
            continue
        spec = load_mapping(sandbox, spec_path, diags)
        if spec is None or not validate(spec, TABLE_SCHEMA, spec_path, diags, "table description"):
            continue
        table = _read_table(sandbox, spec_path, spec, diags)
        if table is not None:
            tables[table.id] = table
    return tables


def _read_table(sandbox: Sandbox, spec_path: Path, spec: Mapping_, diags: Collector) -> Table | None:
    before = len(diags.items)
    lines = _key_lines(spec)
    columns = _columns(spec, spec_path, lines, diags)
    if columns is None:
        return None
    layout = _layout(spec, columns, spec_path, lines, diags)
    for key, text_value in _printed_texts(spec.data):
        where = SourceLocation(spec_path, lines.get(key) or spec.line_at(*key))
        metalines.check_line(text_value, where, f"{'.'.join(map(str, key))!r} in the table description", diags)
    rows = _read_csv(sandbox, spec_path.with_suffix(".csv"), columns, diags)
    if layout is None or rows is None or len(diags.items) > before:
        return None
    d = spec.data
    return Table(
        id=spec_path.stem,
        columns=columns,
        rows=tuple(rows),
        location=SourceLocation(spec_path.with_suffix(".csv"), 1),
        caption=text(d.get("caption")),
        source=text(d.get("source")),
        notes=tuple(str(n) for n in ([d["notes"]] if isinstance(d.get("notes"), str) else d.get("notes") or [])),
        source_note=text(d.get("source_note")),
        original_pages=dict(d.get("original_pages") or {}),
        stated_totals=d.get("stated_totals"),
        missing=text(d["missing"]) if "missing" in d else "\u2014",
        text_lines=_text_lines(spec, spec_path),
        **layout,
    )


def _text_lines(spec: Mapping_, path: Path) -> dict[str, SourceLocation]:
    """Where the caption, the source line and each note are written."""
    found = {key: SourceLocation(path, spec.line(key)) for key in ("caption", "source") if key in spec.data}
    notes = spec.data.get("notes")
    for index in range(len(notes) if isinstance(notes, list) else 1 if notes else 0):
        line = spec.line_at("notes", index) if isinstance(notes, list) else spec.line("notes")
        found[f"note-{index + 1}"] = SourceLocation(path, line)
    return found


def _printed_texts(d: dict) -> Iterator[tuple[tuple, str]]:
    """The description's texts that print beside the data, by their path of
    keys: column heads and units, the totals' label, the column groups'
    labels, the mark of an empty cell (the caption, source and notes are
    checked with the work's bibliography: ``check_table_lines``)."""
    for name, options in (d.get("columns") or {}).items():
        for key in ("header", "unit"):
            if isinstance(options, dict) and isinstance(options.get(key), str):
                yield ("columns", str(name), key), options[key]
    for name, header in (d.get("headers") or {}).items():
        if isinstance(header, str):
            yield ("headers", str(name)), header
    totals = d.get("totals")
    if isinstance(totals, dict) and isinstance(totals.get("label"), str):
        yield ("totals", "label"), totals["label"]
    for index, group in enumerate(d.get("column_groups") or []):
        if isinstance(group, dict) and isinstance(group.get("label"), str):
            yield ("column_groups", index, "label"), group["label"]
    if isinstance(d.get("missing"), str):
        yield ("missing",), d["missing"]


def _key_lines(spec: Mapping_) -> dict[tuple[str, ...], int]:
    """The line of every mapping key of a YAML file, by its path of keys
    (``("columns", "gdp", "places")``), so a nested mistake names its line
    (from the node the bounded loader composed: the file is not read again)."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*prefix, str(key.value))
                if here not in lines:  # (an alias may lead back: each key once)
                    lines[here] = key.start_mark.line + 1
                    walk(value, here)

    if spec.node is not None:
        walk(spec.node, ())
    return lines


def _columns(spec: Mapping_, path: Path, lines: dict, diags: Collector) -> tuple[Column, ...] | None:
    headers = spec.data.get("headers") or {}
    out: list[Column] = []
    for name, value in spec.data["columns"].items():
        name = str(name)
        where = SourceLocation(path, lines.get(("columns", name), spec.line("columns")))
        options = {"type": value} if isinstance(value, str) else value
        if not isinstance(options, dict):
            diags.error(where, "meta.type", f"column {name!r} must be a type (as 'text') or a mapping with 'type'")
            continue
        column = _column(name, options, headers, path, lines, where, diags)
        if column is not None:
            out.append(column)
    for name in headers:
        if str(name) not in spec.data["columns"]:
            where = SourceLocation(path, lines.get(("headers", str(name)), spec.line("headers")))
            diags.error(where, "meta.type", f"'headers' names {name!r}, which is not a declared column")
    if len(out) != len(spec.data["columns"]):
        return None
    return tuple(out)


def _column(
    name: str, options: dict, headers: dict, path: Path, lines: dict, where: SourceLocation, diags: Collector
) -> Column | None:
    before = len(diags.items)
    line_of = lambda key: lines.get(("columns", name, key), where.line)  # noqa: E731
    for key in options:
        if key not in COLUMN_SCHEMA:
            diags.error(
                SourceLocation(path, line_of(key)),
                "meta.unknown-key",
                f"unknown key {key!r} in column {name!r}{suggest(str(key), COLUMN_SCHEMA)}",
            )
    for key, spec in COLUMN_SCHEMA.items():
        value = options.get(key)
        if value is None:
            if spec.required:
                diags.error(where, "meta.missing", f"column {name!r} lacks the required key 'type'")
            continue
        if not isinstance(value, spec.kind) or (spec.kind is int and isinstance(value, bool)):
            kind = {str: "text", int: "a whole number", bool: "true or false"}[spec.kind]
            diags.error(SourceLocation(path, line_of(key)), "meta.type", f"{key!r} of column {name!r} must be {kind}")
    if len(diags.items) > before:
        return None
    kind = options["type"]
    if kind not in COLUMN_TYPES:
        diags.error(
            SourceLocation(path, line_of("type")),
            "meta.type",
            f"column {name!r} has unknown type {kind!r}; use one of {', '.join(COLUMN_TYPES)}",
        )
        return None
    places = options.get("places")
    if places is not None and (kind not in ("decimal", "percent") or not 0 <= places <= MAX_PLACES):
        diags.error(
            SourceLocation(path, line_of("places")),
            "meta.type",
            f"'places' of column {name!r} must be 0 to {MAX_PLACES}, for a decimal or percent column",
        )
        return None
    align = options.get("align", "")
    if align and align not in ALIGNMENTS:
        diags.error(
            SourceLocation(path, line_of("align")),
            "meta.type",
            f"'align' of column {name!r} must be one of {', '.join(ALIGNMENTS)}, not {align!r}",
        )
        return None
    return Column(
        name=name,
        kind=kind,
        header=str(options.get("header") or headers.get(name) or name),
        unit=text(options.get("unit")) or ("%" if kind == "percent" else ""),
        places=places,
        thousands=options.get("thousands"),
        align=align,
        hidden=bool(options.get("hidden")),
    )


def _layout(
    spec: Mapping_, columns: tuple[Column, ...], path: Path, lines: dict, diags: Collector
) -> dict[str, Any] | None:
    """Grouping, row headers, totals and width, checked against the columns."""
    d = spec.data
    names = {c.name: c for c in columns}
    before = len(diags.items)

    def err(key: str, message: str, *nested: str) -> None:
        diags.error(SourceLocation(path, lines.get((key, *nested), spec.line(key))), "meta.type", message)

    def known(key: str, name: str, *nested: str) -> bool:
        if name in names:
            return True
        err(key, f"{key!r} names {name!r}, which is not a declared column{suggest(name, names)}", *nested)
        return False

    group_by, list_column = text(d.get("group_by")), text(d.get("list_column"))
    if group_by:
        known("group_by", group_by)
    if list_column and not group_by:
        err("list_column", "'list_column' lists a column's values by group: give 'group_by' too")
    elif list_column and list_column == group_by:
        err("list_column", "'list_column' must be another column than 'group_by'")
    elif list_column and known("list_column", list_column):
        for c in columns:
            if c.name not in (group_by, list_column) and not c.hidden:
                diags.error(
                    SourceLocation(path, lines.get(("columns", c.name), spec.line("columns"))),
                    "meta.type",
                    f"column {c.name!r} is not printed by a grouped list (group_by + list_column): "
                    f"mark it 'hidden: true' or leave out 'list_column'",
                )
    if len(diags.items) > before:
        return None
    table_view = Table("", columns, (), SourceLocation(path), group_by=group_by, list_column=list_column)
    shown = table_view.shown
    if not shown:
        err("columns", "every column is hidden: show at least one")
        return None
    row_header = d.get("row_header", True)
    if row_header is True:
        row_header = "" if list_column else shown[0].name
    elif row_header is False:
        row_header = ""
    elif known("row_header", row_header) and row_header not in {c.name for c in shown}:
        err("row_header", f"'row_header' names {row_header!r}, which is not printed")
    totals, label = _totals(d.get("totals"), shown, row_header, err, known)
    subtotals = bool(d.get("subtotals"))
    if subtotals and (not group_by or list_column or not totals):
        err("subtotals", "'subtotals' needs 'group_by' (without 'list_column') and 'totals'")
    wide = text(d.get("wide"))
    if wide and wide not in WIDE:
        err("wide", f"'wide' must be one of {', '.join(WIDE)}, not {wide!r}")
    if d.get("original_pages") and not group_by:
        err("original_pages", "'original_pages' marks where groups begin: give 'group_by' too")
    stated = d.get("stated_totals")
    if stated is not None and (not group_by or stated.get("column") not in names):
        err("stated_totals", "'stated_totals' needs 'group_by' and a declared 'column' to count")
    elif stated is not None:
        _check_stated(stated, err)
        by = names.get(group_by)
        if stated.get("years") is not None and by is not None and by.kind != "integer":
            err(
                "stated_totals",
                f"'stated_totals' years count the rows of years: 'group_by' ({group_by!r}) must be an integer column",
                "years",
            )
    for key, page in (d.get("original_pages") or {}).items():
        if not isinstance(page, int) or isinstance(page, bool) or page < 1:
            err("original_pages", f"the original page of {key!r} must be a whole number from 1", str(key))
    column_groups = _column_groups(d.get("column_groups") or [], shown, list_column, err)
    if len(diags.items) > before:
        return None
    return {
        "column_groups": column_groups,
        "group_by": group_by,
        "list_column": list_column,
        "row_header": row_header,
        "totals": totals,
        "totals_label": label,
        "subtotals": subtotals,
        "wide": wide,
    }


def _column_groups(
    value: list, shown: tuple[Column, ...], list_column: str, err
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Heads over heads: each group a label over adjacent printed columns."""
    order = [c.name for c in shown]
    out: list[tuple[str, tuple[str, ...]]] = []
    taken: set[str] = set()
    if value and list_column:
        err("column_groups", "'column_groups' heads the columns of a data table, not a grouped list")
        return ()
    for number, group in enumerate(value, 1):
        names = group.get("columns") if isinstance(group, dict) else None
        label = group.get("label") if isinstance(group, dict) else None
        if not isinstance(label, str) or not label.strip() or not isinstance(names, list) or not names:
            err(
                "column_groups",
                f"column group {number} must be written {{label: Text, columns: [a, b]}}",
            )
            continue
        names = [str(n) for n in names]
        unknown = [n for n in names if n not in order]
        if unknown:
            err("column_groups", f"column group {label!r} names {unknown[0]!r}, which is not a printed column")
            continue
        positions = sorted(order.index(n) for n in names)
        if positions != list(range(positions[0], positions[0] + len(positions))):
            err("column_groups", f"the columns of group {label!r} must stand side by side in the printed order")
            continue
        if taken & set(names):
            err("column_groups", f"column group {label!r} names a column another group already has")
            continue
        taken |= set(names)
        out.append((label, tuple(order[p] for p in positions)))
    return tuple(out)


def _check_stated(stated: dict, err) -> None:
    """The totals the text states: a column, the years ``[first, last]``, and a
    count (a whole number) for each name the column holds."""
    for key in sorted(set(map(str, stated)) - {"column", "years", "counts"}):
        err("stated_totals", f"unknown key {key!r} in 'stated_totals' (it has column, years, counts)", key)
    years = stated.get("years")
    if years is not None and not (
        isinstance(years, list)
        and len(years) == 2
        and all(isinstance(y, int) and not isinstance(y, bool) for y in years)
        and years[0] <= years[1]
    ):
        err("stated_totals", "'stated_totals' years must be [first, last], two whole numbers", "years")
    counts = stated.get("counts")
    if not isinstance(counts, dict) or not counts:
        err("stated_totals", "'stated_totals' needs 'counts': a mapping of names to numbers", "counts")
        return
    for name, count in counts.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            err("stated_totals", f"the stated count of {name!r} must be a whole number", "counts", str(name))


def _totals(value: Any, shown: tuple[Column, ...], row_header: str, err, known) -> tuple[tuple[str, ...], str]:
    """``totals: true`` sums every printed integer and decimal column;
    ``totals: [a, b]`` or ``{label: ..., columns: [a, b]}`` names them."""
    label = "Total"
    if value in (None, False):
        return (), label
    if value is True:
        names = [c.name for c in shown if c.kind in ("integer", "decimal") and c.name != row_header]
        if not names:
            err("totals", "'totals: true' found no printed integer or decimal column to sum")
        return tuple(names), label
    if isinstance(value, dict):
        unknown = set(value) - TOTALS_KEYS
        if unknown or not isinstance(value.get("columns"), list) or not isinstance(value.get("label", ""), str):
            err("totals", "'totals' as a mapping has 'columns' (a list) and an optional 'label' (text)")
            return (), label
        label = value.get("label") or label
        value = value["columns"]
    printed = {c.name: c for c in shown}
    names = []
    for name in value:
        name = str(name)
        if not known("totals", name):
            continue
        if name not in printed or not printed[name].numeric:
            err("totals", f"'totals' names {name!r}: only printed integer, decimal or percent columns are summed")
        elif name in (row_header, shown[0].name):
            err("totals", f"'totals' names {name!r}, whose cell in the totals row holds the label {label!r}")
        else:
            names.append(name)
    return tuple(names), label


def _read_csv(
    sandbox: Sandbox, path: Path, columns: tuple[Column, ...], diags: Collector
) -> list[dict[str, Any]] | None:
    source = read_text(sandbox, path, diags)
    if source is None:
        return None
    reader = csv.reader(io.StringIO(source, newline=""))
    rows: list[dict[str, Any]] = []
    printed_text = [c for c in columns if c.kind == "text" and not c.hidden]
    try:
        header = next(reader, None) or []
        if (problem := tablesize.too_large(0, len(header))) is not None:  # before a row is read
            diags.error(SourceLocation(path, 1), "csv.size", problem)
            return None
        if not _check_header(header, columns, path, diags):
            return None
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != len(header):
                diags.error(
                    SourceLocation(path, line),
                    "csv.fields",
                    f"row has {len(record)} fields; expected {len(header)} ({', '.join(header)})",
                )
                continue
            if (problem := tablesize.too_large(len(rows) + 1, len(header))) is not None:
                diags.error(SourceLocation(path, line), "csv.size", problem)
                return None
            row = _typed_row(dict(zip(header, record, strict=True)), columns, path, line, diags)
            if row is not None:
                rows.append(row)
                for column in printed_text:  # a text cell prints as the Markdown it is (render.printed)
                    metalines.check_line(
                        row[column.name] or "", SourceLocation(path, line), f"column {column.name!r}", diags
                    )
    except csv.Error as exc:
        diags.error(SourceLocation(path, reader.line_num), "csv.fields", f"CSV cannot be read: {exc}")
        return None
    return rows


def _check_header(header: list[str], columns: tuple[Column, ...], path: Path, diags: Collector) -> bool:
    """Every CSV column declared and every declared column in the CSV."""
    where = SourceLocation(path, 1)
    declared = [c.name for c in columns]
    before = len(diags.items)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            diags.error(where, "csv.header", f"column {name!r} appears twice in the header; rename one")
        seen.add(name)
        if name not in declared:
            diags.error(
                where,
                "csv.header",
                f"column {name!r} is not declared in {path.with_suffix('.yaml').name}{suggest(name, declared)}; "
                "declare it under 'columns' (with 'hidden: true' to leave it unprinted)",
            )
    for name in declared:
        if name not in seen:
            diags.error(
                where,
                "csv.header",
                f"declared column {name!r} is missing from the header {','.join(header)!r}",
            )
    return len(diags.items) == before


def _typed_row(
    record: dict[str, str], columns: tuple[Column, ...], path: Path, line: int, diags: Collector
) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    for column in columns:
        raw = record[column.name]
        try:
            row[column.name] = typed_value(column.kind, raw)
        except ValueError:
            hint = f" ({HINTS[column.kind]})" if column.kind in HINTS and column.kind != "integer" else ""
            diags.error(SourceLocation(path, line), "csv.type", f"{column.name} {raw!r} is not {column.kind}{hint}")
            return None
    return row


def typed_value(kind: str, raw: str) -> Any:
    """A CSV cell as the value its column's type reads: int, Decimal, str, or
    None for an empty cell. Raises ValueError for a value of the wrong type."""
    value = raw.strip()
    if kind == "text":
        return raw
    if not value:
        return None
    if kind == "integer" and INTEGER_RE.fullmatch(value):
        return int(value)
    if kind == "decimal" and DECIMAL_RE.fullmatch(value):
        return Decimal(value)
    if kind == "percent" and DECIMAL_RE.fullmatch(value.removesuffix("%").rstrip()):
        return Decimal(value.removesuffix("%").rstrip())
    if kind == "date" and DATE_RE.fullmatch(value):
        parts = [int(p) for p in value.split("-")]
        datetime.date(parts[0], *(parts[1:] + [1, 1])[:2])  # raises ValueError for 1977-13
        return value
    raise ValueError(value)


def placed_ids(sections: Iterable[Section]) -> set[str]:
    """The ids of the tables the sections place (``::: {.table #id}``)."""
    found = set()
    for section in sections:
        for token in section.tokens:
            if token.type == "container_div_open":
                ident, classes, _ = div_attrs(token.info)
                if "table" in classes and ident:
                    found.add(ident)
    return found


def check_placements(sections: tuple[Section, ...], tables: dict[str, Table], root: Path, diags: Collector) -> None:
    for section in sections:
        for index, token in enumerate(section.tokens):
            if token.type == "container_div_open":
                ident, classes, _ = div_attrs(token.info)
                line = token.map[0] + 1 if token.map else None
                if "table" in classes and not ident:
                    diags.error(
                        SourceLocation(section.location.path, line),
                        "md.div",
                        "a table div needs the table's id: write '::: {.table #name}' for tables/name.csv",
                    )
                elif "table" in classes and ident not in tables and not (root / "tables" / f"{ident}.yaml").exists():
                    # (a table whose files exist but failed to load has its own diagnostics)
                    diags.error(
                        SourceLocation(section.location.path, line),
                        "table.unknown",
                        f"no table {ident!r}: add tables/{ident}.csv and tables/{ident}.yaml",
                    )
                elif "table" in classes and ident in tables and not tables[ident].caption:
                    following = section.tokens[index + 1] if index + 1 < len(section.tokens) else None
                    if following is None or following.type == "container_div_close":
                        diags.error(
                            SourceLocation(section.location.path, line),
                            "meta.missing",
                            f"table {ident!r} has no caption: write it inside the div or give 'caption' "
                            f"in tables/{ident}.yaml",
                        )
