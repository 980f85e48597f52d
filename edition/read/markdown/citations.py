"""Pandoc's citation syntax as markdown-it inline rules.

markdown-it has no citation plugin, so these two rules are ours, written from
the "Citations" section of Pandoc's manual and its Markdown reader:

- a bracketed cluster, ``[see @a, 12; @b]``, ``[-@a]`` (author suppressed);
- a narrative citation, ``@a`` or ``-@a``, optionally followed by a bracketed
  locator or suffix, ``@a [p. 4]``, or by more citations, ``@a [-@b, 3]``.

A citation token keeps its source as written (``content``): the citation
processor reads that source, so the pipeline never re-implements Pandoc's
parsing of prefixes, locators and suffixes. ``meta["keys"]`` holds the keys,
``meta["narrative"]`` whether the author's name stands in the text.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

#: A key as Pandoc reads it: a letter, digit or ``_`` first, then word
#: characters, with internal punctuation only before another word character
#: (so a sentence's full stop after ``@key.`` is not part of the key).
KEY = r"(?:\{[^{}\s]+\}|[\w](?:\w|[:.#$%&\-+?<>~/](?=\w)|[:/](?=/))*)"
#: A key inside a bracketed cluster: after the bracket, a space, ``;`` or ``-``.
CLUSTER_KEY_RE = re.compile(r"(?:^|(?<=[\s;\[-]))-?@(" + KEY + ")")
NARRATIVE_RE = re.compile(r"-?@(" + KEY + ")")


def cite_keys(inner: str) -> tuple[str, ...]:
    """The keys of a bracketed cluster's inside, in order."""
    return tuple(k.strip("{}") for k in CLUSTER_KEY_RE.findall(inner))


def _closing_bracket(state: StateInline, start: int, end: int) -> int:
    """The index of the ``]`` closing the ``[`` at ``start`` (before ``end``), or -1."""
    close = _closing_brackets(state).get(start, -1)
    return close if close < end else -1


def _closing_brackets(state: StateInline) -> dict[int, int]:
    """Where each ``[`` of the inline text closes, found once per text: a scan
    from every ``[`` to its match made unclosed brackets quadratic."""
    cache = state.env.setdefault("_closing_brackets", {})
    if state.src not in cache:
        pairs: dict[int, int] = {}
        opened: list[int] = []
        i, src = 0, state.src
        while i < len(src):
            char = src[i]
            if char == "\\":
                i += 2
                continue
            if char == "[":
                opened.append(i)
            elif char == "]" and opened:
                pairs[opened.pop()] = i
            i += 1
        cache[state.src] = pairs
    return cache[state.src]


def _is_link_or_span(src: str, close: int, end: int) -> bool:
    """``[…](url)``, ``[…][ref]`` and ``[…]{.attrs}`` are not citations."""
    return close + 1 < end and src[close + 1] in "([{"


def bracketed_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "[" or start + 1 >= state.posMax or src[start + 1] == "^":
        return False
    close = _closing_bracket(state, start, state.posMax)
    if close < 0 or _is_link_or_span(src, close, state.posMax):
        return False
    keys = cite_keys(src[start + 1 : close])
    if not keys:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.content = src[start : close + 1]
        token.meta = {"keys": keys, "narrative": False}
    state.pos = close + 1
    return True


def narrative_rule(state: StateInline, silent: bool) -> bool:
    src, start, end = state.src, state.pos, state.posMax
    if src[start] not in "@-" or (start > 0 and (src[start - 1].isalnum() or src[start - 1] in "_@")):
        return False
    m = NARRATIVE_RE.match(src, start, end)
    if not m:
        return False
    keys = [m.group(1).strip("{}")]
    stop = m.end()
    # an optional bracketed locator or suffix, or more citations, after spaces
    # and at most one line break
    after = re.compile(r"[ \t]*\n?[ \t]*").match(src, stop, end)
    bracket = after.end() if after else stop
    if bracket < end and src[bracket] == "[" and src[bracket + 1 : bracket + 2] != "^":
        close = _closing_bracket(state, bracket, end)
        if close > 0 and not _is_link_or_span(src, close, end):
            keys += cite_keys(src[bracket + 1 : close])
            stop = close + 1
    if not silent:
        token = state.push("citation", "", 0)
        token.content = src[start:stop]
        token.meta = {"keys": tuple(keys), "narrative": src[start] != "-"}
    state.pos = stop
    return True


def use(md: MarkdownIt) -> None:
    md.inline.ruler.before("link", "citation", bracketed_rule)
    md.inline.ruler.before("emphasis", "narrative_citation", narrative_rule)
