"""Reading source files: UTF-8 text, YAML with line numbers, front matter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from edition.diagnostics import Collector
from edition.infra.xmlchars import FORBIDDEN, describe
from edition.model import SourceLocation
from edition.read import safe_yaml
from edition.read.sandbox import Sandbox


def read_text(
    sandbox: Sandbox, path: Path, diags: Collector, where: SourceLocation | None = None, name: str | None = None
) -> str | None:
    """The file's text, read through the sandbox, or ``None`` after recording
    why it cannot be read (``where`` is the reference to it, if not the file)."""
    data = sandbox.read_bytes(path, diags, where, name)
    text = None if data is None else decode(data, path, diags)
    if text is not None:
        sandbox.texts[sandbox.absolute(path)] = text
    return text


def decode(data: bytes, path: Path, diags: Collector) -> str | None:
    """UTF-8 text (a leading byte-order mark dropped) without the characters
    XML forbids, or ``None`` after a ``file.encoding`` diagnostic."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        line = data.count(b"\n", 0, start) + 1
        column = start - (data.rfind(b"\n", 0, start) + 1)
        diags.error(
            SourceLocation(path, line),
            "file.encoding",
            f"byte 0x{data[start]:02x} at byte offset {start} (column {column + 1}) "
            "is not UTF-8; save the file as UTF-8",
        )
        return None
    bad = FORBIDDEN.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        what = describe(bad.group())
        diags.error(
            SourceLocation(path, line),
            "file.encoding",
            f"{what} at character offset {bad.start()}, which XML forbids; delete it",
        )
        return None
    return text


@dataclass(frozen=True)
class Mapping_:
    """A YAML mapping with the line of each top-level key (and, through its
    node, of any value inside it)."""

    data: dict[str, Any]
    lines: dict[str, int]
    first_line: int
    node: yaml.Node | None = None

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)

    def line_at(self, key: str, *steps: str | int) -> int:
        """The line of a value inside the mapping: ``line_at("authors", 0, "name")``."""
        line = self.line(key)
        node = _value_node(self.node, key)
        for step in steps:
            node = _value_node(node, step)
            if node is None:
                break
            line = node.start_mark.line + 1 + (self.first_line - 1)
        return line


def _value_node(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        return next((v for k, v in node.value if str(k.value) == str(step)), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def load_yaml(text: str, path: Path, diags: Collector, line_offset: int = 0) -> Mapping_ | None:
    """Parse a YAML mapping within the limits of ``safe_yaml``; a
    ``yaml.syntax`` (or ``yaml.limit``, ``file.encoding``, ``meta.length``)
    diagnostic on failure."""
    try:
        node, data = safe_yaml.load(text)
    except safe_yaml.YamlRefused as refused:
        diags.error(SourceLocation(path, refused.line + line_offset), refused.code, refused.message)
        return None
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
    return Mapping_({str(k): v for k, v in data.items()}, lines, line_offset + 1, node)


def item_lines(mapping: Mapping_, key: str) -> list[dict[str, int]]:
    """For a top-level list of mappings (a reader's ``readings``), the line of
    each item and of each of its keys (``""`` is the item's own line), so a
    problem with one reading can name its line."""
    items = _value_node(mapping.node, key)
    if not isinstance(items, yaml.SequenceNode):
        return []
    offset = mapping.first_line - 1
    out = []
    for item in items.value:
        lines = {"": item.start_mark.line + 1 + offset}
        if isinstance(item, yaml.MappingNode):
            lines.update({str(k.value): k.start_mark.line + 1 + offset for k, _ in item.value})
        out.append(lines)
    return out


def load_mapping(sandbox: Sandbox, path: Path, diags: Collector) -> Mapping_ | None:
    """A YAML file that holds a mapping, or ``None`` after recording why not."""
    source = read_text(sandbox, path, diags)
    return None if source is None else load_yaml(source, path, diags)


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
