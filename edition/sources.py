"""Reading source files: UTF-8 text, YAML with line numbers, front matter."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import readlog
from .diagnostics import Collector
from .model import SourceLocation

#: C0 controls other than tab, line feed and carriage return: not allowed in XML.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Largest content file read (a pathological 50 MB file fails with a diagnostic).
MAX_FILE_BYTES = 8 * 1024 * 1024


def read_text(path: Path, diags: Collector) -> str | None:
    """The file's text, or ``None`` after recording why it cannot be read."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        diags.error(SourceLocation(path), "file.missing", "file not found")
        return None
    if size > MAX_FILE_BYTES:  # checked before reading: a 50 MB file is never loaded
        diags.error(
            SourceLocation(path),
            "file.size",
            f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit for content files; split it",
        )
        return None
    data = readlog.read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        bad = CONTROL.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            diags.error(
                SourceLocation(path, line),
                "file.encoding",
                f"control character U+{ord(bad.group()):04X} at character offset {bad.start()}; delete it",
            )
            return None
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1)
        diags.error(
            SourceLocation(path, line),
            "file.encoding",
            f"byte 0x{data[exc.start]:02x} at byte offset {exc.start} (column {column + 1}) "
            "is not UTF-8; save the file as UTF-8",
        )
        return None


@dataclass(frozen=True)
class Mapping_:
    """A YAML mapping with the line of each top-level key."""

    data: dict[str, Any]
    lines: dict[str, int]
    first_line: int

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)


def load_yaml(text: str, path: Path, diags: Collector, line_offset: int = 0) -> Mapping_ | None:
    """Parse a YAML mapping, recording a ``yaml.syntax`` diagnostic on failure."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # the construct that failed (an unclosed quote, a bad indent) starts at
        # the context mark; the problem mark is where the parser gave up
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = (mark.line + 1 + line_offset) if mark else line_offset + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if getattr(exc, "context", None):
            problem = f"{exc.context}, {problem}"
        diags.error(SourceLocation(path, line), "yaml.syntax", f"YAML cannot be parsed: {problem}")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        diags.error(SourceLocation(path, line_offset + 1), "yaml.syntax", "expected a mapping of keys to values")
        return None
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = key_node.start_mark.line + 1 + line_offset
    data = {str(k): _plain(v) for k, v in data.items()}
    return Mapping_(data, lines, line_offset + 1)


def item_lines(text: str, key: str) -> list[dict[str, int]]:
    """For a top-level list of mappings (a reader's ``readings``), the line of
    each item and of each of its keys (``""`` is the item's own line), so a
    problem with one reading can name its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(node, yaml.MappingNode):
        return []
    items = next((v for k, v in node.value if k.value == key), None)
    if not isinstance(items, yaml.SequenceNode):
        return []
    out = []
    for item in items.value:
        lines = {"": item.start_mark.line + 1}
        if isinstance(item, yaml.MappingNode):
            lines.update({str(k.value): k.start_mark.line + 1 for k, _ in item.value})
        out.append(lines)
    return out


def load_mapping(path: Path, diags: Collector) -> Mapping_ | None:
    """A YAML file that holds a mapping, or ``None`` after recording why not."""
    source = read_text(path, diags)
    return None if source is None else load_yaml(source, path, diags)


def _plain(value: Any) -> Any:
    """YAML dates as ISO strings, so metadata stays text."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """``(front_matter, body, body_first_line)`` for a Markdown file.

    The front matter is the Pandoc/Jekyll block between two ``---`` lines at the
    top of the file.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    return "\n".join(lines[1:]), "", len(lines) + 1
