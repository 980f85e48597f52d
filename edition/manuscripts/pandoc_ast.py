"""Small helpers over Pandoc's JSON document model (``pandoc -t json``).

The import reads a manuscript into Pandoc's AST and changes it there (sections,
notes, citations, tables, images) before Pandoc's own Markdown writer writes
it; these helpers walk and build the nodes (``{"t": "Str", "c": "word"}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

Node = dict[str, Any]

#: Pandoc's JSON API version the AST is written in (Pandoc 3.9's).
API_VERSION = [1, 23, 1, 1]


def document(blocks: list[Node], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"pandoc-api-version": API_VERSION, "meta": meta or {}, "blocks": blocks}


def walk(value: Any) -> Iterator[Node]:
    """Every node under ``value``, depth first, parents before children."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "t" in item:
                yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


def map_lists(value: Any, change: Callable[[list[Any]], list[Any]]) -> Any:
    """``value`` with every list of nodes (a block's or an inline's children)
    replaced by ``change(list)``, innermost lists first."""
    if isinstance(value, list):
        items = [map_lists(v, change) for v in value]
        if items and all(isinstance(v, dict) and "t" in v for v in items):
            return change(items)
        return items
    if isinstance(value, dict):
        return {k: map_lists(v, change) for k, v in value.items()}
    return value


def stringify(value: Any) -> str:
    """The plain text of nodes (as Pandoc's ``stringify``): notes left out."""
    out: list[str] = []

    def visit(item: Any) -> None:
        if isinstance(item, list):
            for v in item:
                visit(v)
            return
        if not isinstance(item, dict) or "t" not in item:
            return
        kind, content = item["t"], item.get("c")
        if kind == "Str":
            out.append(content)
        elif kind in ("Space", "SoftBreak", "LineBreak"):
            out.append(" ")
        elif kind in ("Code", "Math", "RawInline"):
            out.append(content[1])
        elif kind == "Note":
            return
        elif kind in ("Cite", "Link", "Image", "Span", "Div"):
            visit(content[1])
        elif kind == "Quoted":
            mark = "“”" if content[0]["t"] == "DoubleQuote" else "‘’"
            out.append(mark[0])
            visit(content[1])
            out.append(mark[1])
        elif isinstance(content, list):
            visit(content)

    visit(value)
    return "".join(out)


def text_inlines(text: str) -> list[Node]:
    """Words and spaces as inlines."""
    inlines: list[Node] = []
    for i, word in enumerate(text.split(" ")):
        if i:
            inlines.append({"t": "Space"})
        if word:
            inlines.append({"t": "Str", "c": word})
    return inlines


def meta_text(value: Any) -> str:
    """A metadata value (``MetaInlines``, ``MetaString``, ``MetaBlocks``) as text."""
    if not isinstance(value, dict):
        return ""
    if value.get("t") == "MetaString":
        return str(value["c"])
    if value.get("t") in ("MetaInlines", "MetaBlocks"):
        return " ".join(stringify(value["c"]).split())
    return ""


def meta_list(value: Any) -> list[Any]:
    if isinstance(value, dict) and value.get("t") == "MetaList":
        return list(value["c"])
    return [value] if value else []
