"""Validation of metadata and front matter against small declarative schemas."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .diagnostics import Collector, suggest
from .model import SourceLocation
from .sources import Mapping_


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = False


def validate(mapping: Mapping_, schema: dict[str, Field], path: Path, diags: Collector, what: str) -> bool:
    """Record unknown keys, missing keys and wrong types; True if all is well."""
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
        if not isinstance(value, spec.kind):
            diags.error(
                SourceLocation(path, mapping.line(key)),
                "meta.type",
                f"{key!r} in {what} must be {_kind_name(spec.kind)}, not {_kind_name(type(value))}",
            )
    return len(diags.items) == before


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", list: "a list", dict: "a mapping", bool: "true or false"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def text(value: Any) -> str:
    return "" if value is None else str(value)
