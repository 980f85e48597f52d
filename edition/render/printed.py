"""Every string the edition prints from metadata, read by the rules of its text.

Markdown files are not all an edition prints: titles, names, the series and the
rights, a table's heads and cells, a reader's course line and a reading's
title come from YAML, CSV and BibTeX. Pandoc reads YAML metadata as Markdown;
the edition reads every printed string the same way, whatever file it comes
from: inline Markdown (emphasis, ``code``, a span with its language) with
Pandoc's smart typography (curly quotation marks and apostrophes unless the
work says ``smart_quotes: false``, en and em dashes, ellipses), so a table
cell's "Gov't" prints "Gov’t" as the text beside it does. ``markup`` gives
the HTML for the pages, ``plain`` the text for the places that take no markup
(running heads, the contents, the outline, the EPUB's and the PDF's metadata).
What a line cannot print (a note, an image, math) is refused when it is read
(``read.markdown.metalines``).
"""

from __future__ import annotations

import functools
from typing import Any

from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup, escape

from edition.read.markdown.parse import PARSER, plain_text


class _LineRenderer(RendererHTML):
    """Inline Markdown of a metadata line: text, emphasis, and bracketed spans
    with a class (``[Kim]{.smallcaps}``, as BibTeX's ``\\textsc`` comes) or a
    language (``[doboz]{lang=hu}``); the language is written as both
    ``lang`` and ``xml:lang``, which HTML and XHTML alike accept. A line break
    of the value is a space (a title page's line is set by its layout)."""

    def span_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        kind, lang = token.attrGet("class"), token.attrGet("lang")
        attributes = f' class="{escape(kind)}"' if kind else ""  # .smallcaps, as the text sets it
        attributes += f' lang="{escape(lang)}" xml:lang="{escape(lang)}"' if lang else ""
        return f"<span{attributes}>"

    def span_close(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return "</span>"

    def citation(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return str(escape(tokens[idx].content))

    def link_open(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return ""  # a metadata line links nowhere: its text stays

    def link_close(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return ""

    def image(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return str(escape(self.renderInlineAsText(tokens[idx].children or [], options, env)))

    def softbreak(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return " "

    def hardbreak(self, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        return " "


@functools.lru_cache(maxsize=16384)
def markup(text: str, smart: bool = True) -> Markup:
    """``text`` (a line of Markdown from metadata) as the HTML it prints."""
    if not text:
        return Markup("")
    tokens = PARSER.parseInline(str(text), {"smart": smart})
    return Markup(_LineRenderer().renderInline(tokens[0].children or [], PARSER.options, {}))


@functools.lru_cache(maxsize=16384)
def plain(text: str, smart: bool = True) -> str:
    """``text`` (a line of Markdown from metadata) as the text it prints."""
    return plain_text(str(text), smart) if text else ""
