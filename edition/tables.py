"""Tables: a CSV of data and a YAML description beside it (``tables/<id>.csv``
and ``tables/<id>.yaml``), and the fenced divs of the text that place them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .diagnostics import Collector, suggest
from .markdown import div_attrs
from .model import Section, SourceLocation, Table
from .sandbox import Sandbox
from .schema import Field, check_value, is_kind, text, validate
from .sources import Mapping_, load_mapping, read_text

TABLE_SCHEMA = {
    "columns": Field(dict, True),
    "group_by": Field(str, True),
    "list_column": Field(str, True),
    "headers": Field(dict),
    "original_pages": Field(dict),
    "source_note": Field(str),
    "stated_totals": Field(dict),
}
COLUMN_TYPES = {"integer": int, "text": str}
#: More rows than this is not a table for a printed page: refused, not laid out for an hour.
MAX_TABLE_ROWS = 5000


def read_tables(sandbox: Sandbox, folder: Path, diags: Collector) -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for spec_path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        if spec_path.name.startswith("."):
            continue
        spec = load_mapping(sandbox, spec_path, diags)
        if spec is None or not validate(spec, TABLE_SCHEMA, spec_path, diags, "table description"):
            continue
        table = _read_csv(sandbox, spec_path.with_suffix(".csv"), spec, spec_path, diags)
        if table is not None:
            tables[table.id] = table
    return tables


def _read_csv(sandbox: Sandbox, path: Path, spec: Mapping_, spec_path: Path, diags: Collector) -> Table | None:
    source = read_text(sandbox, path, diags)
    if source is None:
        return None
    columns: dict[str, str] = {str(k): str(v) for k, v in spec.data["columns"].items()}
    for name, kind in columns.items():
        if kind not in COLUMN_TYPES:
            diags.error(
                SourceLocation(spec_path, spec.line("columns")),
                "meta.type",
                f"column {name!r} has unknown type {kind!r}; use one of {', '.join(COLUMN_TYPES)}",
            )
            return None
    reader = csv.reader(io.StringIO(source, newline=""))
    rows: list[dict[str, Any]] = []
    try:
        header = next(reader, None)
        if header != list(columns):
            diags.error(
                SourceLocation(path, 1),
                "csv.header",
                f"header is {','.join(header or [])!r}; expected {','.join(columns)!r}",
            )
            return None
        for record in reader:
            line = reader.line_num
            if not record:
                continue
            if len(record) != len(columns):
                diags.error(
                    SourceLocation(path, line),
                    "csv.fields",
                    f"row has {len(record)} fields; expected {len(columns)} ({', '.join(columns)})",
                )
                continue
            if len(rows) >= MAX_TABLE_ROWS:
                diags.error(
                    SourceLocation(path, line),
                    "csv.size",
                    f"the table has more than {MAX_TABLE_ROWS} rows; split it or print an extract",
                )
                return None
            row = _typed_row(record, columns, path, line, diags)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        diags.error(SourceLocation(path, reader.line_num), "csv.fields", f"CSV cannot be read: {exc}")
        return None
    d = spec.data
    for key in (d["group_by"], d["list_column"]):
        if key not in columns:
            diags.error(SourceLocation(spec_path, spec.line("group_by")), "meta.type", f"no column {key!r}")
            return None
    if not _check_description(spec, columns, spec_path, diags):
        return None
    return Table(
        id=path.stem,
        columns=columns,
        headers={str(k): str(v) for k, v in (d.get("headers") or {}).items()},
        rows=tuple(rows),
        group_by=d["group_by"],
        list_column=d["list_column"],
        location=SourceLocation(path, 1),
        source_note=text(d.get("source_note")),
        original_pages=dict(d.get("original_pages") or {}),
        stated_totals=d.get("stated_totals"),
    )


def _check_description(spec: Mapping_, columns: dict[str, str], path: Path, diags: Collector) -> bool:
    """The parts of a table description the templates print or count with:
    headers are text, original pages whole numbers, and the stated totals
    name a column, two years and a count for each name."""
    d, before = spec.data, len(diags.items)
    for key, value in (d.get("headers") or {}).items():
        check_value(value, Field(str), SourceLocation(path, spec.line_at("headers", key)), f"header of {key!r}", diags)
    for key, value in (d.get("original_pages") or {}).items():
        where = SourceLocation(path, spec.line_at("original_pages", key))
        check_value(value, Field(int, minimum=1), where, f"original page of {key!r}", diags)
    totals = d.get("stated_totals")
    if totals is not None:
        _check_totals(totals, spec, columns, path, diags)
    return len(diags.items) == before


def _check_totals(totals: dict, spec: Mapping_, columns: dict[str, str], path: Path, diags: Collector) -> None:
    def where(*steps: str | int) -> SourceLocation:
        return SourceLocation(path, spec.line_at("stated_totals", *steps))

    unknown = set(map(str, totals)) - {"column", "years", "counts"}
    for key in sorted(unknown):
        diags.error(
            where(key), "meta.unknown-key", f"unknown key {key!r} in stated_totals (it has column, years, counts)"
        )
    column = totals.get("column")
    if not isinstance(column, str) or column not in columns:
        diags.error(
            where("column"),
            "meta.type",
            f"stated_totals' column {column!r} is no column of the table{suggest(str(column), columns)}",
        )
    years = totals.get("years")
    if years is not None and not (
        isinstance(years, list) and len(years) == 2 and all(is_kind(y, int) for y in years) and years[0] <= years[1]
    ):
        diags.error(where("years"), "meta.type", "stated_totals' years must be [first, last], two whole numbers")
    counts = totals.get("counts")
    if not isinstance(counts, dict) or not counts:
        diags.error(
            where("counts") if counts is not None else where(),
            "meta.type",
            "stated_totals needs counts: a mapping of names to numbers",
        )
        return
    for name, count in counts.items():
        check_value(count, Field(int, minimum=0), where("counts", name), f"stated count of {name!r}", diags)


def _typed_row(
    record: list[str], columns: dict[str, str], path: Path, line: int, diags: Collector
) -> dict[str, Any] | None:
    row: dict[str, Any] = {}
    for (name, kind), value in zip(columns.items(), record, strict=True):
        try:
            row[name] = COLUMN_TYPES[kind](value)
        except ValueError:
            diags.error(SourceLocation(path, line), "csv.type", f"{name} {value!r} is not {kind}")
            return None
    return row


def check_placements(sections: tuple[Section, ...], tables: dict[str, Table], root: Path, diags: Collector) -> None:
    for section in sections:
        for token in section.tokens:
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
