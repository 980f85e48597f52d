"""Links read as Pandoc's Markdown reader reads them, where CommonMark differs.

markdown-it reads a link as CommonMark does; Pandoc's reader is more lenient
in three ways an author meets (its ``source`` and ``linkTitle`` parsers), and
where markdown-it gives up, the syntax would print as text:

- a title may hold its own quotation marks: ``[a](/url "a "b" c")`` and
  ``[b]: /url "a "b" c"`` (a quotation mark that a letter follows opens a
  quotation inside the title);
- an inline link's address may hold spaces (``[a](my file.html)``), up to a
  title or the closing parenthesis, and a parenthesis in it is part of it
  (``[a](/url (x))`` is the address ``/url (x)``, as Pandoc reads it);
- every address is read, whatever its scheme: markdown-it refuses
  ``javascript:``, ``file:`` and ``data:`` addresses and leaves the whole
  link as text. The renderer makes a link only of a web or mail address
  (``resolve.links``); any other prints as its text, and the build says so
  (``link.address``).
"""

from __future__ import annotations

import types
from collections.abc import Callable

from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.helpers import parseLinkDestination, parseLinkLabel, parseLinkTitle
from markdown_it.rules_inline import StateInline

SPACES = " \t\n"


class _Helpers(types.SimpleNamespace):
    """markdown-it's link helpers, with Pandoc's rules while an inline link or
    image is read (``inline``) or a reference definition (the rest)."""

    inline = False

    def parseLinkLabel(self, *args, **kwargs):  # noqa: N802 - markdown-it's name
        return parseLinkLabel(*args, **kwargs)

    def parseLinkDestination(self, string: str, pos: int, maximum: int):  # noqa: N802
        if not self.inline or string[pos : pos + 1] == "<":
            return parseLinkDestination(string, pos, maximum)
        return _source(string, pos, maximum)

    def parseLinkTitle(self, string: str, start: int, maximum: int, prev_state=None):  # noqa: N802
        found = parseLinkTitle(string, start, maximum, prev_state)
        if prev_state is not None or string[start : start + 1] not in ('"', "'"):
            return found
        return _quoted_title(string, start, maximum) or found


def _source(string: str, pos: int, maximum: int):
    """Pandoc's inline address: everything up to a title (a space and then a
    quotation mark) or the closing parenthesis, parentheses balanced; runs of
    spaces become one."""
    result = parseLinkDestination(string, pos, pos)  # an empty result, of markdown-it's own type
    start, depth = pos, 0
    while pos < maximum:
        char = string[pos]
        if char == "\\" and pos + 1 < maximum:
            pos += 2
            continue
        if char in SPACES:
            end = pos
            while end < maximum and string[end] in SPACES:
                end += 1
            if end >= maximum or (depth == 0 and string[end] in "\"')"):
                break
            pos = end
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        pos += 1
    if depth or pos == start:
        return result
    result.ok, result.pos = True, pos
    result.str = unescapeAll(" ".join(string[start:pos].split()))
    return result


def _quoted_title(string: str, start: int, maximum: int):
    """A title in ``"…"`` or ``'…'`` read as Pandoc's ``quotedTitle`` reads
    it: it ends at a quotation mark that no letter or digit follows; one that
    a letter follows opens a quotation inside the title, which must close the
    same way. None when there is no such title (markdown-it's reading stands)."""
    end = _quoted(string, start, maximum)
    if end is None:
        return None
    found = parseLinkTitle(string, start, start)  # an empty state, of markdown-it's own type
    found.ok, found.pos = True, end
    found.str = unescapeAll(" ".join(string[start + 1 : end - 1].split()))
    return found


def _quoted(string: str, pos: int, maximum: int) -> int | None:
    """The position after the quotation closing the one at ``pos``."""
    marker = string[pos]
    pos += 1
    if pos >= maximum or string[pos] in SPACES:
        return None
    while pos < maximum:
        char = string[pos]
        if char == "\\" and pos + 1 < maximum:
            pos += 2
        elif char == "\n" and string[pos + 1 : pos + 2] == "\n":
            return None  # a blank line ends the paragraph
        elif char != marker:
            pos += 1
        elif pos + 1 >= maximum or not string[pos + 1].isalnum():
            return pos + 1
        else:
            inner = _quoted(string, pos, maximum)
            if inner is None:
                return None
            pos = inner
    return None


def _inline(rule: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    def read(state: StateInline, silent: bool) -> bool:
        helpers = state.md.helpers
        helpers.inline = True
        try:
            return rule(state, silent)
        finally:
            helpers.inline = False

    return read


def use(md: MarkdownIt) -> None:
    md.helpers = _Helpers()
    md.validateLink = lambda _url: True  # the renderer decides what becomes a link
    for name in ("link", "image"):
        rule = next(r for r in md.inline.ruler.__rules__ if r.name == name)
        rule.fn = _inline(rule.fn)
    md.inline.ruler.__cache__ = None
