"""Pandoc's CSL JSON markup of a BibTeX field, as the Markdown it stands for.

Pandoc's BibLaTeX reader turns a field's LaTeX into text (``--`` an en dash,
``\\"o`` an ö, ``\\&`` an ampersand) and its formatting into the few HTML tags
CSL JSON carries (``<i>``, ``<b>``, ``<sup>``, ``<sub>``, small capitals, and
``<span class="nocase">`` around words kept from case changes). A field the
edition prints itself (a PDF reading's title) is written back as a line of
Markdown, so it goes through the same rules as every other printed string
(``render.printed``): the tags as Markdown, every other character escaped
where Markdown would read it.
"""

from __future__ import annotations

import re

from lxml import html

#: Characters Markdown (with the edition's extensions) reads in a line.
SPECIAL = re.compile(r"([\\`*_\[\]{}<>#^~$@|])")
#: The Markdown around each CSL tag's content.
WRAP = {
    "i": ("*", "*"),
    "em": ("*", "*"),
    "b": ("**", "**"),
    "strong": ("**", "**"),
    "sup": ("^", "^"),
    "sub": ("~", "~"),
}
SMALL_CAPS = re.compile(r"font-variant\s*:\s*small-caps")


def to_markdown(value: str) -> str:
    """``value`` (a CSL JSON string with Pandoc's tags) as a line of Markdown."""
    if "<" not in value:
        return _escape(value)
    root = html.fragment_fromstring(value, create_parent="div")
    return _inner(root).strip()


def _inner(element: html.HtmlElement) -> str:
    out = [_escape(element.text or "")]
    for child in element:
        out.append(_element(child))
        out.append(_escape(child.tail or ""))
    return "".join(out)


def _element(element: html.HtmlElement) -> str:
    inner = _inner(element)
    if not inner.strip():
        return inner
    tag = str(element.tag).lower()
    if tag in WRAP:
        before, after = WRAP[tag]
        return f"{before}{inner}{after}"
    if tag == "span" and SMALL_CAPS.search(element.get("style") or ""):
        return f"[{inner}]{{.smallcaps}}"
    return inner  # nocase spans and anything else: the words alone


def _escape(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text)
