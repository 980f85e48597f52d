"""YAML within bounds: every YAML file and front matter the build reads is
loaded here.

PyYAML's safe loader builds what the text says, and a small text can say a
great deal: 600 bytes of nested aliases ("billion laughs") stand for
hundreds of millions of values, a recursive alias (``series_editors: &r
[*r]``) for a list that contains itself, a few thousand ``[`` for a nesting
that overflows Python's stack. So ``load`` composes the node graph first
(aliases stay shared: linear in the text), refusing nesting deeper than
``MAX_DEPTH`` as it goes, then walks the graph once with aliases expanded
(memoised, so the walk is linear too), refusing a value that contains
itself, more than ``MAX_VALUES`` values, a depth over ``MAX_DEPTH`` reached
through aliases, a text longer than ``MAX_TEXT_CHARS`` or holding a
character XML forbids; only then is anything constructed.

Timestamps are not resolved: ``date: 2009-04-01`` stays the text
``2009-04-01`` for the metadata's own date check (PyYAML would raise on
``2026-13-45``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from edition.infra.xmlchars import FORBIDDEN, describe

#: Deepest nesting of lists and mappings, aliases followed.
MAX_DEPTH = 50
#: Most values (texts, numbers, lists, mappings) a YAML document may stand
#: for, each alias counted as often as it is used.
MAX_VALUES = 100_000
#: Longest single text value.
MAX_TEXT_CHARS = 100_000
#: Longest number (Python refuses to read a whole number of more than 4,300
#: digits; no page, year or count in metadata needs more than a few).
MAX_NUMBER_CHARS = 100
NUMBERS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
#: Longest YAML document (a file, or a Markdown file's front matter): PyYAML
#: scans about a megabyte a second, so metadata is refused before it is scanned.
MAX_YAML_CHARS = 1_000_000


@dataclass
class YamlRefused(Exception):
    """A YAML document beyond the limits: the line and the diagnostic."""

    line: int  # 1-based, in the YAML text
    code: str
    message: str


TIMESTAMP = "tag:yaml.org,2002:timestamp"
BOOL = "tag:yaml.org,2002:bool"
BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _resolvers() -> dict[str, list]:
    """The safe loader's implicit types, less timestamps (dates stay text) and
    with YAML 1.2's booleans, as Pandoc reads metadata: `yes`, `no`, `on` and
    `off` stay text (a table column named "no" is not False)."""
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag not in (TIMESTAMP, BOOL)]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for first in "tTfF":
        resolvers[first] = [*resolvers.get(first, []), (BOOL, BOOL_RE)]
    return resolvers


class BoundedLoader(yaml.SafeLoader):
    """The safe loader, with nesting bounded while composing and timestamps left as text."""

    yaml_implicit_resolvers = _resolvers()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlRefused(mark.line + 1, "yaml.limit", _too_deep())
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_deep() -> str:
    return f"YAML nested more than {MAX_DEPTH} levels deep; flatten it"


def load(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node (for line numbers) and its value.

    Raises ``yaml.YAMLError`` for a syntax error, ``YamlRefused`` for a
    document beyond the limits."""
    if len(text) > MAX_YAML_CHARS:
        raise YamlRefused(
            1, "yaml.limit", f"YAML of {len(text)} characters, over the limit of {MAX_YAML_CHARS}; shorten it"
        )
    loader = BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _Walk().size(node, 1)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


class _Walk:
    """Counts the values of a node graph with aliases expanded, once per node."""

    def __init__(self) -> None:
        self.known: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)
        self.open: set[int] = set()

    def size(self, node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        line = node.start_mark.line + 1
        if key in self.open:
            raise YamlRefused(
                line,
                "yaml.limit",
                "a YAML alias stands inside the value it names (&a [*a]); a value cannot contain itself",
            )
        if key not in self.known:
            self.open.add(key)
            self.known[key] = self._measure(node, depth)
            self.open.discard(key)
        values, height = self.known[key]
        if depth + height - 1 > MAX_DEPTH:
            raise YamlRefused(line, "yaml.limit", _too_deep() + " (aliases included)")
        return values, height

    def _measure(self, node: yaml.Node, depth: int) -> tuple[int, int]:
        if isinstance(node, yaml.ScalarNode):
            _check_text(node)
            return 1, 1
        if depth >= MAX_DEPTH:
            raise YamlRefused(node.start_mark.line + 1, "yaml.limit", _too_deep() + " (aliases included)")
        if isinstance(node, yaml.MappingNode):
            _check_keys(node)
        children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
        values, height = 1, 1
        for child in children:
            child_values, child_height = self.size(child, depth + 1)
            values += child_values
            height = max(height, child_height + 1)
            if values > MAX_VALUES:
                raise YamlRefused(
                    node.start_mark.line + 1,
                    "yaml.limit",
                    f"YAML stands for more than {MAX_VALUES} values (each alias counted where it is used); "
                    "write fewer values or fewer aliases",
                )
        return values, height


def _check_keys(node: yaml.MappingNode) -> None:
    """A key written twice in one mapping: PyYAML keeps the last and drops the
    first without a word (``title`` twice, ``columns`` twice)."""
    first: dict[tuple[str, str], int] = {}
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        line = key.start_mark.line + 1
        written = (key.tag, key.value)
        if written in first:
            raise YamlRefused(
                line,
                "yaml.duplicate-key",
                f"key {key.value!r} appears twice in this mapping ({_above(line - first[written])}); keep one",
            )
        first[written] = line


def _above(lines: int) -> str:
    """Where the first of two keys stands, from the second (the YAML may be a
    file's front matter: its own line numbers are not the file's)."""
    if lines == 0:
        return "also earlier on this line"
    return f"also {lines} line{'s' if lines > 1 else ''} above"


def _check_text(node: yaml.ScalarNode) -> None:
    value = node.value
    line = node.start_mark.line + 1
    if len(value) > MAX_TEXT_CHARS:
        raise YamlRefused(
            line, "meta.length", f"a YAML value of {len(value)} characters, over the limit of {MAX_TEXT_CHARS}"
        )
    bad = FORBIDDEN.search(value)
    if bad:
        raise YamlRefused(
            line, "file.encoding", f"a YAML value holds {describe(bad.group())}, which XML forbids; delete it"
        )
    if node.tag in NUMBERS and len(value) > MAX_NUMBER_CHARS:
        raise YamlRefused(
            line, "yaml.limit", f"a number of {len(value)} characters, over the limit of {MAX_NUMBER_CHARS}"
        )
