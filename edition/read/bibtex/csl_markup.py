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

#: Characters Markdown (with the edition's extensions) reads in a line.
SPECIAL = re.compile(r"([\\`*_\[\]{}<>#^~$@|&])")
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
#: The tags Pandoc writes into CSL JSON. Anything else that looks like a tag
#: (a title's "<than>") is the author's text: Pandoc writes it as it is.
TAG = re.compile(r"<(/?)(i|em|b|strong|sup|sub|span)((?:\s[^<>]*)?)>")


def to_markdown(value: str) -> str:
    """``value`` (a CSL JSON string with Pandoc's tags) as a line of Markdown:
    the tags as their Markdown, a tag left open or closed without opening as
    the characters it is, every other character as itself."""
    out: list[str] = []
    opened: list[tuple[str, str, str, int]] = []  # tag, its Markdown after, the tag as written, where in out
    pos = 0
    for m in TAG.finditer(value):
        out.append(_escape(value[pos : m.start()]))
        pos = m.end()
        closing, tag, attributes = m.group(1) == "/", m.group(2), m.group(3)
        if not closing:
            before, after = WRAP.get(tag) or (("[", "]{.smallcaps}") if SMALL_CAPS.search(attributes) else ("", ""))
            opened.append((tag, after, m.group(0), len(out)))
            out.append(before)
        elif opened and opened[-1][0] == tag:
            _, after, _, at = opened.pop()
            if "".join(out[at + 1 :]).strip():
                out.append(after)
            else:
                out[at] = ""  # nothing inside: no marks around nothing
        else:
            out.append(_escape(m.group(0)))
    out.append(_escape(value[pos:]))
    for _, _, written, at in opened:
        out[at] = _escape(written)
    return "".join(out).strip()


def _escape(text: str) -> str:
    return SPECIAL.sub(r"\\\1", text)
