"""One full stop where a formatted citation ends with one and the author's
text puts another after it.

A written note ``[^1]: [@brown, 495].`` ends with the author's full stop, and
a note style's citation ends with its own ("... at 495."; "Id."): printed
together they make "at 495..". Pandoc's citeproc drops the author's when it
follows a citation whose text ends with one (``mvPunct``); here the citation
gives up its own instead, so the author's text, which the layout counts
character by character, stays as written. Beyond Pandoc:

- a style's closing full stop inside the parentheses Pandoc puts around a
  citation in a note's sentence gives way too ("(… 1988, p. 18)." rather
  than "(… 1988, p. 18.).");
- where the citation ends with a quotation ("… “A Memo.”"), the author's full
  stop is the one dropped (American usage sets it inside the quotation
  marks), in notes and in a table's lines (``Work.stops_taken``; the running
  text, which the layout counts, keeps it);
- where the author's text goes on with a semicolon, comma or colon
  (``[^1]: [@plessy, 540]; [@brown, 494].``), the style's closing full stop
  gives way ("(1896);", not "(1896).;").

A full stop after a letter may be an abbreviation's ("Id.", "ed.", "et al."):
it stays before a semicolon and inside parentheses, where it is no closing stop.
An ellipsis a style prints after a short title ("Kim il sung...") keeps its
three points (the author's full stop is not printed after it, in notes); and
where Pandoc moved the first of them inside the title's quotation marks
("“Agreements.”.."), it is put back ("“Agreements”...").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from markdown_it.token import Token

#: The author's full stop right after a citation: followed by a space, the end
#: of the text, or closing punctuation (not a letter, a digit or an ellipsis).
AUTHORS_STOP = re.compile(r"\.(?=[\s)\]\u201d\u2019\"'\u00bb\u203a]|$)")
#: The author's semicolon, comma or colon right after a citation.
AUTHORS_PAUSE = re.compile(r"[;,:](?=\s|$)")
#: What may stand before a style's closing full stop (not a letter: that is an abbreviation's).
CLOSING = r"[)\]\d]"
#: The end of a citation's text: its final full stop, or one inside the parentheses around it.
FINAL_STOP = re.compile(r"\.$")
CLOSING_STOP = re.compile(CLOSING + r"(\.)$")
PARENTHESIZED_STOP = re.compile(CLOSING + r"(\.)\)+$")
QUOTED_STOP = re.compile(r"\.[\u201d\u2019]+$")
#: Tags and closing quotation marks, as they stand between points in citeproc's markup.
_CLOSERS = r"(?:</?[a-z][^>]*>|[\u201d\u2019])*"
#: Three points at the end, with closing quotation marks (or tags) between them or not.
ELLIPSIS = re.compile(rf"\.{_CLOSERS}\.{_CLOSERS}\.{_CLOSERS}$")
#: An ellipsis whose first point Pandoc moved inside the quotation marks before it.
SPLIT_ELLIPSIS = re.compile(r"\.((?:</?[a-z][^>]*>)*[\u201d\u2019]+(?:</?[a-z][^>]*>)*)\.\.(?!\.)")


def single_stops(
    text: Iterable[list[Token]], notes: Iterable[list[Token]], citations: dict[str, str]
) -> tuple[dict[str, str], frozenset[str]]:
    """``citations`` (id -> markup) with the full stop each gives way taken
    out, and the ids of the citations after which the author's full stop is
    dropped instead; ``text`` and ``notes`` are the children of each inline
    token of the running text and of the notes and tables' lines."""
    out = {ident: SPLIT_ELLIPSIS.sub(r"\1...", markup) for ident, markup in citations.items()}
    taken: set[str] = set()
    for in_note, inlines in ((False, text), (True, notes)):
        for children in inlines:
            for child, following in zip(children, children[1:], strict=False):
                if child.type != "citation" or following.type != "text" or child.meta.get("id") not in out:
                    continue
                ident = child.meta["id"]
                end = _text_end(out[ident])
                stop = _stop_giving_way(end, following.content)
                if stop is not None:
                    out[ident] = out[ident][:stop] + out[ident][stop + 1 :]
                elif (
                    in_note
                    and AUTHORS_STOP.match(following.content)
                    and (QUOTED_STOP.search(end) or ELLIPSIS.search(end))
                ):
                    taken.add(ident)
    return out, frozenset(taken)


def _stop_giving_way(end: str, after: str) -> int | None:
    """Where, in the citation's text ``end``, the full stop stands that gives
    way to the author's punctuation ``after`` it, if one does."""
    if ELLIPSIS.search(end):
        return None  # an ellipsis keeps its three points
    patterns = (FINAL_STOP, PARENTHESIZED_STOP) if AUTHORS_STOP.match(after) else ()
    if AUTHORS_PAUSE.match(after):
        patterns = (CLOSING_STOP, PARENTHESIZED_STOP)
    for pattern in patterns:
        found = pattern.search(end)
        if found:
            return found.start(found.lastindex or 0)
    return None


def _text_end(markup: str) -> str:
    """The markup without its closing tags at the end (``…(1896).</span>`` -> ``…(1896).``)."""
    return re.sub(r"(?:</[a-z]+>\s*)+$", "", markup.rstrip())


def inlines_of(tokens: Iterable[Token]) -> Iterable[list[Token]]:
    """The children of each inline token."""
    return (list(t.children) for t in tokens if t.type == "inline" and t.children)
