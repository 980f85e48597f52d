"""Validation of metadata and front matter against small declarative schemas.

Every text value has a length limit (``LINE`` for a title or a name,
``PARAGRAPH`` for an abstract or a rights statement): metadata is set on
title pages and drawn on the cover, where a runaway value costs minutes of
layout. The limit is kept here, for every text a schema's field holds,
however deep in its lists and mappings (a reading's permissions, a table's
column heads), so no reader of a definition can let one through. A
language is a BCP 47 tag, and so is every ``lang=`` in the Markdown of a
text (``languages``). Dates are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` and
must exist in the calendar. ``true`` is not a number, though Python counts
it as one.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edition.diagnostics import Collector, suggest
from edition.model import SourceLocation
from edition.read.languages import language_problem, span_languages
from edition.read.sources import Mapping_

#: Longest title, name, label or other one-line text in metadata.
LINE = 500
#: Longest abstract, rights statement, source line or other paragraph.
PARAGRAPH = 10_000
DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
DATE_FORMS = "YYYY, YYYY-MM or YYYY-MM-DD"


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = False
    max_chars: int = LINE  # for text values, and the text items of a list
    items: type | tuple[type, ...] | None = None  # for lists: what each item must be
    date: bool = False  # text that must be a date in DATE_FORMS
    minimum: int | None = None  # for whole numbers
    language: bool = False  # text that must be a language tag (``languages``)
    own_schema: bool = False  # a list of mappings each checked by a schema of its own, at its own lines


def validate(mapping: Mapping_, schema: dict[str, Field], path: Path, diags: Collector, what: str) -> bool:
    """Record unknown keys, missing keys, wrong types, overlong texts and bad
    dates; True if all is well."""
    before = len(diags.items)
    for key in mapping.data:
        if key not in schema:
            diags.error(
                SourceLocation(path, mapping.line(key)),
                "meta.unknown-key",
                f"unknown key {key!r} in {what}{suggest(key, schema)}",
            )
    for key, spec in schema.items():
        value = mapping.data.get(key)
        if value is None:
            if spec.required:
                diags.error(
                    SourceLocation(path, mapping.first_line),
                    "meta.missing",
                    f"{what} lacks the required key {key!r}",
                )
            continue
        check_value(value, spec, SourceLocation(path, mapping.line(key)), f"{key!r} in {what}", diags)
    return len(diags.items) == before


def check_value(value: Any, spec: Field, where: SourceLocation, name: str, diags: Collector) -> bool:
    """One value against its field: type, length (of every text in it),
    languages, date form, list items."""
    if not is_kind(value, spec.kind):
        diags.error(where, "meta.type", f"{name} must be {kind_name(spec.kind)}, not {kind_name(type(value))}")
        return False
    if not spec.own_schema and not check_texts(value, spec.max_chars, where, name, diags):
        return False
    if spec.language and not check_language(value, where, name, diags):
        return False
    if spec.minimum is not None and isinstance(value, int) and value < spec.minimum:
        diags.error(where, "meta.type", f"{name} must be a whole number from {spec.minimum}, not {value}")
        return False
    if spec.date:
        return check_date(value, where, name, diags)
    if spec.items is not None and isinstance(value, list):
        item_spec = Field(spec.items, max_chars=spec.max_chars)
        for number, item in enumerate(value, 1):
            if not check_value(item, item_spec, where, f"item {number} of {name}", diags):
                return False
    return True


def is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that ``true`` and ``false`` are not numbers."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def check_length(value: str, limit: int, where: SourceLocation, name: str, diags: Collector) -> bool:
    if len(value) <= limit:
        return True
    diags.error(where, "meta.length", f"{name} is {len(value)} characters long, over the limit of {limit}; shorten it")
    return False


def check_texts(value: Any, limit: int, where: SourceLocation, name: str, diags: Collector) -> bool:
    """Every text in ``value`` (itself, or inside its lists and mappings, keys
    too) within ``limit``, and every ``lang=`` in it a language tag."""
    if isinstance(value, str):
        if not check_length(value, limit, where, name, diags):
            return False
        return all(check_language(tag, where, f"a span's lang= in {name}", diags) for tag in span_languages(value))
    if isinstance(value, dict):
        inner = [item for pair in value.items() for item in pair]
    elif isinstance(value, list):
        inner = value
    else:
        return True
    inner_name = name if name.startswith("a text in ") else f"a text in {name}"
    return all(check_texts(item, limit, where, inner_name, diags) for item in inner)


def check_language(value: str, where: SourceLocation, name: str, diags: Collector) -> bool:
    problem = language_problem(value)
    if problem is None:
        return True
    diags.error(where, "meta.language", f"{name} is {value!r}, {problem}")
    return False


def check_date(value: Any, where: SourceLocation, name: str, diags: Collector) -> bool:
    """A date in ``DATE_FORMS`` that exists in the calendar."""
    text = str(value)
    m = DATE_RE.match(text)
    if not m:
        diags.error(where, "meta.date", f"{name} is {text!r}: write a date as {DATE_FORMS} (2009, 2009-04, 2009-04-01)")
        return False
    year, month, day = (int(part) if part else 1 for part in m.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        diags.error(where, "meta.date", f"{name} is {text!r}, which is not a date of the calendar")
        return False
    return True


def kind_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        int: "a whole number",
        float: "a number",
        list: "a list",
        dict: "a mapping",
        bool: "true or false",
        type(None): "empty",
    }
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def text(value: Any) -> str:
    return "" if value is None else str(value)
