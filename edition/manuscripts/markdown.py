"""Pandoc's Markdown writer, limited to the constructs the build prints.

Pandoc writes the Markdown (its writer knows every escape its reader needs);
the extensions the build refuses are turned off, so it writes pipe or grid
tables (never simple or multiline ones), lists numbered ``1.``, no raw HTML
or TeX. Smart punctuation is off: the text keeps the characters the author
typed (“curly” quotes, dashes, ellipses, and straight ones where typed), and
the work says ``smart_quotes: false``. Two sequences the build's reader
always turns into typography are escaped here, where they are typed as
such: ``--`` (an en dash) and ``...`` (an ellipsis), and every ``@``, which
would begin a citation.
"""

from __future__ import annotations

import json
import re
from typing import Any

from edition.infra.tools import run_pandoc
from edition.manuscripts.pandoc_ast import Node, document, map_lists

WRITER = (
    "markdown"
    "-smart-simple_tables-multiline_tables-fancy_lists-example_lists-task_lists"
    "-raw_html-raw_tex-raw_attribute-tex_math_dollars-tex_math_single_backslash"
    "-native_divs-link_attributes-implicit_figures-auto_identifiers"
)
#: What the build's reader would read as typography or a citation.
TYPED_RE = re.compile(r"--|\.\.\.|@")
#: A marker paragraph between the parts of one writer run.
SEPARATOR = "EDITIONIMPORTSEPARATOR"


def write(blocks_list: list[list[Node]]) -> list[str]:
    """Each list of blocks as Markdown, a document of its own (one Pandoc run
    each: a section file numbers its notes from 1 and places them at its end)."""
    outputs = []
    for blocks in blocks_list:
        doc = document(map_lists(blocks, _escape_typed))
        stdout, _ = run_pandoc(["-f", "json", "-t", WRITER, "--wrap=none"], json.dumps(doc).encode("utf-8"))
        outputs.append(stdout.decode("utf-8"))
    return outputs


def write_inlines(inline_lists: list[list[Node]]) -> list[str]:
    """Lines of inlines (titles, captions) as Markdown, one Pandoc run for all."""
    if not inline_lists:
        return []
    blocks: list[Node] = []
    for inlines in inline_lists:
        blocks.append({"t": "Para", "c": inlines})
        blocks.append({"t": "Para", "c": [{"t": "Str", "c": SEPARATOR}]})
    (text,) = write([blocks])
    parts = [p.strip() for p in text.split(SEPARATOR)]
    return [" ".join(p.split("\n")) for p in parts[: len(inline_lists)]]


def _escape_typed(items: list[Any]) -> list[Any]:
    """Split each ``Str`` so that its ``--``, ``...`` and ``@`` are written
    escaped (``-\\-``, ``..\\.``, ``\\@``) as raw Markdown."""
    if not any(isinstance(i, dict) and i.get("t") == "Str" and TYPED_RE.search(i["c"]) for i in items):
        return items
    out: list[Any] = []
    for item in items:
        if not (isinstance(item, dict) and item.get("t") == "Str" and TYPED_RE.search(item["c"])):
            out.append(item)
            continue
        text, start = item["c"], 0
        for index, char in enumerate(text):
            if (
                char == "@"
                or (char == "-" and text[index - 1 : index] == "-")
                or (char == "." and text[index - 2 : index] == "..")
            ):
                if text[start:index]:
                    out.append({"t": "Str", "c": text[start:index]})
                out.append({"t": "RawInline", "c": ["markdown", "\\" + char]})
                start = index + 1
        if text[start:]:
            out.append({"t": "Str", "c": text[start:]})
    return out
