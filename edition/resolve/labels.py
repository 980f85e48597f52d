"""The labels of what a cross-reference may name: figures and tables are
numbered through the work in reading order ("Figure 1", "Table 1", as CMOS
3.7 and 3.52 number them, consecutively where a work has few), and a note is
named by its number ("note 47").

A figure is an image alone in its paragraph (its description is its caption);
a table is a table placed from ``tables/`` or a Markdown table with a caption.
A table without a caption is not numbered: nothing could name it.

A link written without text (``[](#fig:map)``) prints its target's label; a
link whose text names a figure, table or note by another number than its
target's ("[Figure 2](#fig:map)" where the map is Figure 1) is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it.token import Token

from edition.diagnostics import Diagnostic
from edition.model import SourceLocation, Work
from edition.read.markdown.parse import div_attrs

#: What a label names, by kind, as the templates print it.
KINDS = ("figure", "table", "note")
#: A link text that names a numbered thing: "Figure 2", "fig. 2", "Table 3", "note 47", "n. 47", "47".
NAMED = re.compile(r"^(?:(figure|fig\.|table|tab\.|note|n\.)\s*)?(\d+)$", re.IGNORECASE)
WORD_KINDS = {"figure": "figure", "fig.": "figure", "table": "table", "tab.": "table", "note": "note", "n.": "note"}


@dataclass(frozen=True)
class Label:
    kind: str  # figure | table | note
    number: int


@dataclass
class Labels:
    """A work's numbered things: by the token that opens each (``id(token)``)
    and by the local id a link names."""

    tokens: dict[int, Label] = field(default_factory=dict)
    targets: dict[str, Label] = field(default_factory=dict)

    def of_token(self, token: Token) -> Label | None:
        return self.tokens.get(id(token))


def labels(work: Work) -> Labels:
    """Number the work's figures and tables in reading order (sections, then
    documents), and name its notes."""
    found = Labels()
    counts = {"figure": 0, "table": 0}
    for section in work.all_sections:
        tokens = list(section.tokens)
        for i, token in enumerate(tokens):
            kind, ident = _numbered(tokens, i)
            if kind is None:
                continue
            counts[kind] += 1
            label = Label(kind, counts[kind])
            found.tokens[id(token)] = label
            if ident:
                found.targets[ident] = label
    for note in work.notes:
        found.targets[f"note-{note.number}"] = Label("note", note.number)
    return found


def _numbered(tokens: list[Token], i: int) -> tuple[str | None, str]:
    """(kind, id) of the figure or table token ``i`` opens, or (None, "")."""
    token = tokens[i]
    if token.type == "figure_open":
        return "figure", str(token.attrGet("id") or "")
    if token.type == "table_open" and i + 1 < len(tokens) and tokens[i + 1].type == "caption_open":
        return "table", str(token.attrGet("id") or "")
    if token.type == "container_div_open":
        ident, classes, _ = div_attrs(token.info)
        if "table" in classes and ident:
            return "table", ident
    return None, ""


def check_link_texts(work: Work, found: Labels) -> Iterator[Diagnostic]:
    """A link whose text names its target by another number than the target's
    label (a figure renumbered after the text was written)."""
    for section in work.all_sections:
        yield from _check(section.tokens, section.location.path, None, found)
    for note in work.notes:
        yield from _check(note.tokens, note.location.path, note.location.line, found)


def _check(tokens, path, default_line: int | None, found: Labels) -> Iterator[Diagnostic]:
    line = default_line
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        children = list(token.children or ())
        for k, child in enumerate(children):
            if child.type != "link_open" or not str(child.attrGet("href") or "").startswith("#"):
                continue
            label = found.targets.get(str(child.attrGet("href"))[1:])
            text = _link_text(children, k)
            match = NAMED.match(text.strip())
            if label is None or match is None:
                continue
            kind = WORD_KINDS.get((match.group(1) or "").lower(), label.kind)
            if kind == label.kind and int(match.group(2)) != label.number:
                yield Diagnostic(
                    SourceLocation(path, line),
                    "link.label",
                    f"the link text '{text.strip()}' names {kind} {match.group(2)}, but its target is "
                    f"{label.kind} {label.number}; write [](#{str(child.attrGet('href'))[1:]}) to print the label",
                    "warning",
                )


def _link_text(children: list[Token], opening: int) -> str:
    parts = []
    for child in children[opening + 1 :]:
        if child.type == "link_close":
            break
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
    return "".join(parts)
