"""One full stop where a formatted citation ends with one and the author's
text puts another after it.

A written note ``[^1]: [@brown, 495].`` ends with the author's full stop, and
a note style's citation ends with its own ("... at 495."; "Id."): printed
together they make "at 495..". Pandoc's citeproc drops the author's when it
follows a citation whose text ends with one (``mvPunct``); here the citation
gives up its own instead, so the author's text, which the layout counts
character by character, stays as written. Beyond Pandoc, a full stop before a
closing parenthesis or quotation mark counts too: a note never ends "..”".
And where the author's text goes on with a semicolon, comma or colon
(``[^1]: [@plessy, 540]; [@brown, 494].``), the style's closing full stop
after a parenthesis or a number gives way ("(1896);", not "(1896).;"); one
after a letter is an abbreviation's and stays ("Id.;", "et al.,").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markdown_it.token import Token

#: The author's full stop right after a citation: followed by a space, the end
#: of the text, or closing punctuation (not a letter, a digit or an ellipsis).
AUTHORS_STOP = re.compile(r"\.(?=[\s)\]\u201d\u2019\"'\u00bb\u203a]|$)")
#: The citation's own full stop at the end of its markup (before closing tags).
OWN_STOP = re.compile(r"\.((?:</[a-z]+>)*)\s*$")
#: The author's semicolon, comma or colon right after a citation.
AUTHORS_PAUSE = re.compile(r"[;,:](?=\s|$)")
#: The style's closing full stop: after a parenthesis, a bracket or a digit (not an abbreviation's).
CLOSING_STOP = re.compile(r"(?<=[)\]\d])\.((?:</[a-z]+>)*)\s*$")


def single_stops(inlines: Iterable[list[Token]], citations: dict[str, str]) -> dict[str, str]:
    """``citations`` (id -> markup) with the final full stop taken from each
    citation that the author's own full stop follows in ``inlines`` (the
    children of each inline token)."""
    out = dict(citations)
    for children in inlines:
        for child, following in zip(children, children[1:], strict=False):
            if child.type != "citation" or following.type != "text":
                continue
            ident = child.meta.get("id", "")
            markup = out.get(ident)
            if markup and _gives_way(markup, following.content):
                out[ident] = OWN_STOP.sub(r"\1", markup, count=1)
    return out


def _gives_way(markup: str, after: str) -> bool:
    """Whether the citation's final full stop gives way to the author's punctuation ``after`` it."""
    if AUTHORS_STOP.match(after):
        return bool(OWN_STOP.search(markup))
    return bool(AUTHORS_PAUSE.match(after) and CLOSING_STOP.search(_text_end(markup)))


def _text_end(markup: str) -> str:
    """The markup's end with its closing tags taken off (``…(1896).</span>`` -> ``…(1896).``)."""
    return re.sub(r"(?:</[a-z]+>\s*)+$", "", markup)


def inlines_of(tokens: Iterable[Token]) -> Iterable[list[Token]]:
    """The children of each inline token."""
    return (list(t.children) for t in tokens if t.type == "inline" and t.children)
