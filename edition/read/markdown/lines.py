"""The source line of every inline token.

markdown-it gives block tokens their lines (``Token.map``) but inline tokens
none, so a problem in the fifth line of a paragraph would be reported at its
first. This module wraps the inline parser: every token pushed while a block's
text is parsed is stamped with the position it was pushed at (a nested parse,
an inline note ``^[…]``, is shifted to where its text stands in the block), and
``assign_lines`` turns positions into lines once the whole file is parsed.
The line is kept in ``token.meta["line"]``. A text token never spans a line
break (the newline rule ends it), so the position it is flushed at is on its
line.
"""

from __future__ import annotations

import bisect
import re
import types
from typing import Literal

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

POSITIONS = "_positions"  # env key: id(token) -> (token, root children list, offset in the block's text)
STACK = "_inline_states"
BLOCKS = "_inline_blocks"  # env key: id(children list) -> the block's inline token


class _PositionedState(StateInline):
    root: list[Token]
    offset: int = 0

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        if self.pending:
            self.pushPending()
        token = super().push(ttype, tag, nesting)
        self._stamp(token)
        return token

    def pushPending(self) -> Token:
        token = super().pushPending()
        self._stamp(token)
        return token

    def _stamp(self, token: Token) -> None:
        self.env[POSITIONS].setdefault(id(token), (token, self.root, self.offset + self.pos))


def _parse(self, src: str, md: MarkdownIt, env: dict, tokens: list[Token]) -> list[Token]:
    """``ParserInline.parse`` with a positioned state."""
    env.setdefault(POSITIONS, {})
    stack: list[_PositionedState] = env.setdefault(STACK, [])
    state = _PositionedState(src, md, env, tokens)
    if stack:  # a part of the string being parsed: an inline note
        outer = stack[-1]
        state.root, state.offset = outer.root, outer.offset + max(outer.src.find(src, outer.pos), 0)
    else:
        state.root, state.offset = tokens, 0
    stack.append(state)
    try:
        self.tokenize(state)
        for rule in self.ruler2.getRules(""):
            rule(state)
    finally:
        stack.pop()
    return state.tokens


def _remember_blocks(state: StateCore) -> None:
    """Right after inline parsing, while each block's children list is the one
    its tokens were stamped with (later rules may replace the list)."""
    state.env[BLOCKS] = {id(t.children): t for t in state.tokens if t.type == "inline" and t.children is not None}


def use(md: MarkdownIt) -> None:
    md.inline.parse = types.MethodType(_parse, md.inline)
    md.core.ruler.after("inline", "remember_blocks", _remember_blocks)


def assign_lines(env: dict, line_offset: int = 0) -> None:
    """Set ``meta["line"]`` (1-based, plus ``line_offset``) on every inline token
    of a parsed file whose block has a line."""
    blocks = env.get(BLOCKS, {})
    newlines: dict[int, list[int]] = {}  # block -> where its line ends are (counting them per token was quadratic)
    for token, root, offset in env.get(POSITIONS, {}).values():
        block = blocks.get(id(root))
        if block is None or not block.map:
            continue
        if id(block) not in newlines:
            newlines[id(block)] = [m.start() for m in re.finditer("\n", block.content)]
        token.meta["line"] = block.map[0] + 1 + bisect.bisect_left(newlines[id(block)], offset) + line_offset
    for key in (POSITIONS, STACK, BLOCKS):
        env.pop(key, None)


def line_of(token: Token, default: int | None = None) -> int | None:
    return token.meta.get("line", default) if token.meta else default
