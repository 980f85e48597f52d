"""Pandoc's Markdown writer, limited to the constructs the build prints.

Pandoc writes the Markdown (its writer knows every escape its reader needs);
the extensions the build refuses are turned off, so it writes pipe or grid
tables (never simple or multiline ones), lists numbered ``1.``, no raw HTML.
Raw TeX and TeX math stay on in the writer (the import never writes either)
so that it escapes what the build's reader would take for them: a backslash
before letters (``C:\\Users``) and a dollar sign. Smart punctuation is off:
the text keeps the characters the author typed (“curly” quotes, dashes,
ellipses, and straight ones where typed), and the work says
``smart_quotes: false``. What the build's reader reads as syntax where
Pandoc's would not is escaped here, where it is typed as text: ``--`` (an en
dash) and ``...`` (an ellipsis), every ``@`` (a citation), ``{`` (attributes),
``:::`` (a fenced div) and ``&`` before ``amp;`` (a character reference). Two lists in a row are kept apart by an HTML
comment, which the build drops (Pandoc's writer would put a paragraph
holding a no-break space between them).
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
    "-raw_html-raw_attribute-tex_math_single_backslash"
    "-native_divs-link_attributes-implicit_figures-auto_identifiers"
)
#: What the build's reader would read as typography, a citation, attributes or a div.
TYPED_RE = re.compile(r"--|\.\.\.|@|\{|:::|&#?[A-Za-z0-9]+;")
#: What the build's reader reads as a character reference (``&amp;``, ``&#x41;``).
ENTITY_RE = re.compile(r"&#?[A-Za-z0-9]+;")
LISTS_APART = {"t": "RawBlock", "c": ["markdown", "<!-- -->"]}
#: A marker paragraph between the parts of one writer run.
SEPARATOR = "EDITIONIMPORTSEPARATOR"


def write(blocks_list: list[list[Node]]) -> list[str]:
    """Each list of blocks as Markdown, a document of its own (one Pandoc run
    each: a section file numbers its notes from 1 and places them at its end)."""
    outputs = []
    for blocks in blocks_list:
        doc = document(map_lists(map_lists(blocks, _escape_typed), _lists_apart))
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


def _lists_apart(items: list[Any]) -> list[Any]:
    """An HTML comment between two lists of a kind in a row (which Markdown
    would read as one list)."""
    out: list[Any] = []
    for item in items:
        if out and isinstance(item, dict) and item.get("t") in ("BulletList", "OrderedList"):
            before = out[-1]
            if isinstance(before, dict) and before.get("t") == item["t"]:
                out.append(LISTS_APART)
        out.append(item)
    return out


def _escape_typed(items: list[Any]) -> list[Any]:
    """Split each ``Str`` so that its ``--``, ``...``, ``@``, ``{``, ``:::`` and
    ``&amp;`` are written escaped (``-\\-``, ``..\\.``, ``\\@``, ``\\{``, ``\\:::``) as raw
    Markdown."""
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
                char in "@{"
                or (char == "-" and text[index - 1 : index] == "-")
                or (char == "." and text[index - 2 : index] == "..")
                or (char == ":" and text[index : index + 3] == ":::" and text[index - 1 : index] != ":")
                or (char == "&" and ENTITY_RE.match(text, index))
            ):
                if text[start:index]:
                    out.append({"t": "Str", "c": text[start:index]})
                out.append({"t": "RawInline", "c": ["markdown", "\\" + char]})
                start = index + 1
        if text[start:]:
            out.append({"t": "Str", "c": text[start:]})
    return out
