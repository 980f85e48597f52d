"""Languages are BCP 47 tags, checked where they are read.

A language is written into markup (``lang`` and ``xml:lang`` in the EPUB's
XHTML, ``xml:lang`` on its ``<package>``, ``Lang`` in the PDF's structure,
``lang`` for Pandoc's citeproc): ``en" dir="rtl`` would write attributes of
its own. So every language the build accepts (a work's or a reader's
``language``, ``lang=`` on a span, a div or a heading, in the text and in the
Markdown of metadata) must be a valid tag: letters and digits in parts joined
by hyphens (``langcodes`` turns ``en_US`` into ``en-US`` before it parses, so
the characters are checked first), and a tag ``langcodes`` finds valid in
the IANA Language Subtag Registry it ships (RFC 5646: its language, script,
region and variants registered, in their order), which also catches the
mistakes a grammar alone lets through (``jp`` for Japanese, ``en-Latn-Latn``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import langcodes

#: What a tag is made of, before langcodes reads it.
TAG_CHARS = re.compile(r"[A-Za-z0-9]{1,8}(?:-[A-Za-z0-9]{1,8})*")
#: Why a tag is refused, with the forms a message offers.
NOT_A_TAG = "not a BCP 47 language tag (such as en, ko-Latn or zh-Hant)"


def language_problem(tag: str) -> str | None:
    """Why ``tag`` is not a language the outputs may carry; None if it is one."""
    if not TAG_CHARS.fullmatch(tag) or not langcodes.tag_is_valid(tag):
        return NOT_A_TAG
    return None


def span_languages(markdown: str) -> Iterator[str]:
    """The ``lang=`` of every span in a line of Markdown metadata (a title, a caption)."""
    if "lang" not in markdown:
        return
    from edition.read.markdown.parse import PARSER, walk_inline

    for child, _ in walk_inline(PARSER.parseInline(markdown, {})):
        lang = child.attrGet("lang") if child.attrs else None
        if lang is not None:
            yield str(lang)
