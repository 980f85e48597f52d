"""Pandoc's block constructs that markdown-it and its plugins lack.

Written here, each as a small markdown-it rule, because no plugin of
mdit-py-plugins provides it:

- heading attributes ``## Europe {#europe .class}`` and Pandoc's automatic
  identifiers (``auto_identifiers``); the attribute syntax itself is read by
  mdit-py-plugins' attrs parser;
- line blocks (``| line``), for verse and addresses;
- grid tables (``+---+``): the grid is read by docutils' ``GridTableParser``
  (the reStructuredText grid, which Pandoc's is), each cell's text parsed as
  Markdown blocks;
- table captions (``Table: …`` or ``: …`` before or after a table);
- implicit figures: an image alone in its paragraph is a figure whose caption
  is the image's description;
- a backslash before a space, Pandoc's non-breaking space;
- Pandoc's smart dashes and ellipses, and implicit header references
  (``[Heading text]`` links to that heading);
- HTML comments (``<!-- … -->``), dropped; markdown-it's own HTML rules are
  used for comments only (other raw HTML stays text: see README "Safety").
"""

from __future__ import annotations

import re
import unicodedata

from docutils.parsers.rst.tableparser import GridTableParser, TableMarkupError
from docutils.statemachine import StringList
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.html_block import html_block
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.html_inline import html_inline
from markdown_it.token import Token
from mdit_py_plugins.attrs.parse import ParseError
from mdit_py_plugins.attrs.parse import parse as parse_attrs

from edition.read import tablesize

HEADING_ATTRS_RE = re.compile(r"[ \t]*(\{[^{}]*\})[ \t]*$")
#: ``Table:``, ``table:`` or a colon not followed by punctuation (Pandoc's rule)
UNESCAPED_PIPE_RE = re.compile(r"(?<!\\)\|")
CAPTION_ATTRS_RE = re.compile(r"[ \t]*(\{[^{}]*\})[ \t]*$")
CAPTION_RE = re.compile(r"^(?:[Tt]able:|:(?![!-/:-@\[-`{-~]))[ \t]*")
GRID_BORDER_RE = re.compile(r"^\+(?:[-=:]+\+)+[ \t]*$")


# -- heading attributes and identifiers ------------------------------------------------


def _heading_attributes(state: StateCore) -> None:
    """Move a trailing ``{#id .class key=value}`` of a heading into its
    attributes (``{-}`` is Pandoc's ``.unnumbered``)."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[i + 1]
        m = HEADING_ATTRS_RE.search(inline.content)
        if not m:
            continue
        text = m.group(1)
        if text == "{-}":
            attrs = {"class": "unnumbered"}
        else:
            try:
                _, attrs = parse_attrs(text)
            except ParseError:
                continue
        inline.content = inline.content[: m.start()]
        for name, value in attrs.items():
            token.attrSet(name, value)


def pandoc_identifier(text: str) -> str:
    """Pandoc's automatic identifier of a heading's text (``auto_identifiers``)."""
    kept = "".join(c for c in text.lower() if c.isspace() or c.isalnum() or c in "_-.")
    ident = "-".join(kept.split())
    while ident and not ident[0].isalpha():
        ident = ident[1:]
    return ident or "section"


#: Ids the edition gives its own parts (see ``edition/ids.py``): a heading's
#: automatic id never takes one of them.
RESERVED_ID_RE = re.compile(
    r"^(?:titlepage|title|contents|appendix|bibliography|note-on-the-text|end"
    r"|(?:note|noteref|op|document)-\d+|ref-.*)$"
)


class TakenIds(set):
    """The ids taken so far, and the last number ``unique_identifier`` gave
    each one: twenty thousand headings "Notes" are numbered in linear time,
    not by trying ``notes-1`` … ``notes-19999`` again for each."""

    def __init__(self, *ids: str) -> None:
        super().__init__(ids)
        self.last: dict[str, int] = {}


def unique_identifier(ident: str, used: set[str]) -> str:
    """``ident``, or ``ident-1``, ``ident-2``… when taken (Pandoc's rule)."""
    n = used.last.get(ident, 0) if isinstance(used, TakenIds) else 0
    candidate = f"{ident}-{n}" if n else ident
    while candidate in used or RESERVED_ID_RE.match(candidate):
        n += 1
        candidate = f"{ident}-{n}"
    used.add(candidate)
    if isinstance(used, TakenIds):
        used.last[ident] = n
    return candidate


def inline_text(children: list[Token]) -> str:
    """The plain text of inline tokens, without notes (for identifiers and alt text)."""
    out = []
    for child in children:
        if child.type in ("text", "code_inline", "math_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif child.type == "image":
            out.append(inline_text(child.children or []))
    return "".join(out)


# -- line blocks -----------------------------------------------------------------------


def _line_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.is_code_block(start_line):
        return False
    first = state.src[state.bMarks[start_line] + state.tShift[start_line] : state.eMarks[start_line]]
    if not (first.startswith("| ") or first == "|"):
        return False
    if silent:
        return True
    lines: list[tuple[int, str]] = []
    line = start_line
    while line < end_line:
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if state.sCount[line] < state.blkIndent or not text:
            break
        if text.startswith("| ") or text == "|":
            body = text[2:]
            stripped = body.lstrip(" ")
            lines.append((line, "\u00a0" * (len(body) - len(stripped)) + stripped))
        elif state.sCount[line] > state.blkIndent and lines:  # a continuation line starts with a space
            lines[-1] = (lines[-1][0], lines[-1][1] + "\n" + text)
        else:
            break
        line += 1
    token = state.push("line_block_open", "div", 1)
    token.attrSet("class", "line-block")
    token.map = [start_line, line]
    for k, (first_line, text) in enumerate(lines):
        if k:
            state.push("line_break", "br", 0)
        inline = state.push("inline", "", 0)
        inline.content = text
        inline.map = [first_line, first_line + text.count("\n") + 1]
        inline.children = []
    state.push("line_block_close", "div", -1)
    state.line = line
    return True


# -- grid tables -----------------------------------------------------------------------


class MisalignedBorder(TableMarkupError):
    """A ``|`` inside a cell that spans columns: a border out of line."""

    def __init__(self, offset: int) -> None:
        super().__init__("a '|' that is not under a '+' of the border above it; line the borders up")
        self.offset = offset


def _grid_table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if state.is_code_block(start_line):
        return False
    first = state.src[state.bMarks[start_line] + state.tShift[start_line] : state.eMarks[start_line]]
    if not GRID_BORDER_RE.match(first):
        return False
    indent = state.tShift[start_line]
    lines, line = [], start_line
    while line < end_line:
        text = state.src[state.bMarks[line] : state.eMarks[line]]
        body = text[indent:].rstrip() if len(text) > indent else ""
        if not body or body[0] not in "+|" or state.sCount[line] < state.blkIndent:
            break
        lines.append(body)
        line += 1
    if silent:
        return True
    # its size from its borders, before docutils reads the grid (a 300 x 300 grid took it half a minute)
    problem = tablesize.too_large(sum(1 for text in lines if text[0] == "+") - 1, lines[0].count("+") - 1)
    if problem is None and len(lines) * max(len(text) for text in lines) > tablesize.MAX_GRID_CHARACTERS:
        problem = f"the grid table spans more than {tablesize.MAX_GRID_CHARACTERS} characters; split it"
    if problem is not None:
        token = state.push("table_too_large", "", 0)
        token.map = [start_line, line]
        token.content = problem
        state.line = line
        return True
    try:
        aligns, header_rows, body_rows = _read_grid(lines)
    except TableMarkupError as exc:
        token = state.push("grid_table_invalid", "", 0)
        row = start_line + getattr(exc, "offset", 0)
        token.map = [row, row + 1]
        token.content = " ".join(str(exc).split())
        state.line = line
        return True
    table = state.push("table_open", "table", 1)
    table.map = [start_line, line]
    for part, rows in (("thead", header_rows), ("tbody", body_rows)):
        if not rows:
            continue
        state.push(f"{part}_open", part, 1)
        cell_tag = "th" if part == "thead" else "td"
        for row in rows:
            state.push("tr_open", "tr", 1)
            for col, rowspan, colspan, offset, cell in row:
                cell_open = state.push(f"{cell_tag}_open", cell_tag, 1)
                cell_open.map = [start_line + offset, start_line + offset + len(cell)]
                if col < len(aligns) and aligns[col]:
                    cell_open.attrSet("style", f"text-align:{aligns[col]}")
                if rowspan > 1:
                    cell_open.attrSet("rowspan", str(rowspan))
                if colspan > 1:
                    cell_open.attrSet("colspan", str(colspan))
                _cell_blocks(state, "\n".join(cell), start_line + offset)
                state.push(f"{cell_tag}_close", cell_tag, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{part}_close", part, -1)
    state.push("table_close", "table", -1)
    state.line = line
    return True


def _read_grid(lines: list[str]) -> tuple[list[str], list, list]:
    """Column alignments, header rows and body rows: each row a list of
    ``(column, rowspan, colspan, line offset, cell lines)``."""
    separator = next((k for k, text in enumerate(lines) if text.startswith("+=") or text.startswith("+:=")), None)
    align_line = lines[separator] if separator is not None else lines[0]
    aligns = [_alignment(part) for part in align_line.strip("+").split("+")]
    plain = [
        re.sub(r"(?<=[+])([:]?)([-=]+)([:]?)(?=[+])", _plain_border, text) if text[0] == "+" else text for text in lines
    ]
    # docutils' grid must be rectangular: pad the right edge
    width = max(len(text) for text in plain)
    plain = [text + " " * (width - len(text)) for text in plain]
    widths, head, body = GridTableParser().parse(StringList(plain))
    starts = [0]
    for w in widths[:-1]:
        starts.append(starts[-1] + w + 1)

    def rows(parsed):
        out = []
        for row in parsed:  # a position a span covers is None
            cells = []
            for col, cell in enumerate(row):
                if cell is not None:
                    morerows, morecols, offset, block = cell
                    if morecols and any(UNESCAPED_PIPE_RE.search(text) for text in block):
                        # a border one column off: docutils (and Pandoc) read a
                        # cell spanning two columns, with the "|" as its text
                        raise MisalignedBorder(offset)
                    cells.append((col, morerows + 1, morecols + 1, offset, list(block)))
            out.append(cells)
        return out

    return aligns + [""] * (len(widths) - len(aligns)), rows(head), rows(body)


def _plain_border(m: re.Match) -> str:
    fill = m.group(2)[0]
    return fill * (len(m.group(1)) + len(m.group(2)) + len(m.group(3)))


def _alignment(part: str) -> str:
    left, right = part.startswith(":"), part.endswith(":")
    return {(True, True): "center", (False, True): "right", (True, False): "left"}.get((left, right), "")


def _cell_blocks(state: StateBlock, text: str, first_line: int) -> None:
    """A cell's text parsed as Markdown blocks; a cell of one paragraph prints
    without a paragraph of its own (Pandoc's ``Plain``)."""
    start = len(state.tokens)
    state.md.block.parse(text, state.md, state.env, state.tokens)
    inner = state.tokens[start:]
    for token in inner:
        token.level += state.level
        if token.map:
            token.map = [token.map[0] + first_line, token.map[1] + first_line]
    if [t.type for t in inner] == ["paragraph_open", "inline", "paragraph_close"]:
        inner[0].hidden = inner[2].hidden = True


# -- table captions --------------------------------------------------------------------


def _table_captions(state: StateCore) -> None:
    """``Table: …`` (or ``: …``) in the paragraph before or after a table, or
    on the line right after its last row, becomes the table's caption."""
    tokens = state.tokens
    lines = state.src.split("\n")
    i = 0
    while i < len(tokens):
        if tokens[i].type != "table_open":
            i += 1
            continue
        close = _matching(tokens, i, "table_open", "table_close")
        caption = _caption_after(tokens, close) or _caption_in_last_row(tokens, i, close, lines)
        if caption is None:
            caption = _caption_before(tokens, i)
        if caption is not None:
            inline, remove = caption
            for k in sorted(remove, reverse=True):
                del tokens[k]
                if k < i:
                    i -= 1
            inline.content = CAPTION_RE.sub("", inline.content, count=1)
            _caption_attributes(inline, tokens[i])
            opening = Token("caption_open", "caption", 1)
            opening.map = inline.map
            tokens[i + 1 : i + 1] = [opening, inline, Token("caption_close", "caption", -1)]
        i += 1


def _caption_attributes(inline: Token, table: Token) -> None:
    """``Table: Caption. {#tbl:id .class}``: attributes at the caption's end
    are the table's (Pandoc 3), so ``[Table 1](#tbl:id)`` links to it."""
    match = CAPTION_ATTRS_RE.search(inline.content)
    if not match:
        return
    try:
        _, attrs = parse_attrs(match.group(1))
    except ParseError:
        return  # left in the text, where the check refuses it with its line
    for name, value in attrs.items():
        table.attrSet(name, value)
    inline.content = inline.content[: match.start()]


def _is_caption(tokens: list[Token], k: int, level: int) -> bool:
    return (
        k >= 0
        and k + 2 < len(tokens)
        and tokens[k].type == "paragraph_open"
        and tokens[k + 1].type == "inline"
        and tokens[k + 2].type == "paragraph_close"
        and bool(CAPTION_RE.match(tokens[k + 1].content))
        and tokens[k].level == level
    )


def _caption_after(tokens: list[Token], close: int) -> tuple[Token, list[int]] | None:
    k = close + 1
    return (tokens[k + 1], [k, k + 1, k + 2]) if _is_caption(tokens, k, tokens[close].level) else None


def _caption_before(tokens: list[Token], opening: int) -> tuple[Token, list[int]] | None:
    k = opening - 3
    return (tokens[k + 1], [k, k + 1, k + 2]) if _is_caption(tokens, k, tokens[opening].level) else None


def _caption_in_last_row(tokens: list[Token], opening: int, close: int, lines: list[str]):
    """A pipe table's rows need a ``|``: a following line without one (GFM
    would make it a row) is the caption when it reads like one."""
    last_tr = max((k for k in range(opening, close) if tokens[k].type == "tr_open"), default=None)
    if last_tr is None or not tokens[last_tr].map:
        return None
    source = lines[tokens[last_tr].map[0]]
    if "|" in source or not CAPTION_RE.match(source.strip()):
        return None
    end = _matching(tokens, last_tr, "tr_open", "tr_close")
    first_inline = next(t for t in tokens[last_tr:end] if t.type == "inline")
    first_inline.content = source.strip()
    remove = list(range(last_tr, end + 1))
    if tokens[last_tr - 1].type == "tbody_open" and tokens[end + 1].type == "tbody_close":
        remove = [last_tr - 1, *remove, end + 1]
    return first_inline, remove


def _matching(tokens: list[Token], start: int, opening: str, closing: str) -> int:
    depth = 0
    for k in range(start, len(tokens)):
        if tokens[k].type == opening:
            depth += 1
        elif tokens[k].type == closing:
            depth -= 1
            if depth == 0:
                return k
    return len(tokens) - 1


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


PIPE_DELIMITER_RE = re.compile(r"^\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _starts_table(state: StateBlock, line: int, end_line: int) -> bool:
    text = _line(state, line)
    if GRID_BORDER_RE.match(text):
        return True
    return "|" in text and line + 1 < end_line and bool(PIPE_DELIMITER_RE.match(_line(state, line + 1)))


def _caption_not_definition(deflist):
    """Pandoc reads ``: text`` before a table as the table's caption, not as a
    definition of the paragraph above: the definition-list rule steps aside."""

    def rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        marker = start_line + 1
        if marker < end_line and state.isEmpty(marker):
            marker += 1
        if marker < end_line and _line(state, marker).startswith(":"):
            after = marker
            while after < end_line and not state.isEmpty(after):
                after += 1
            while after < end_line and state.isEmpty(after):
                after += 1
            if after < end_line and _starts_table(state, after, end_line):
                return False
        return deflist(state, start_line, end_line, silent)

    return rule


# -- figures ---------------------------------------------------------------------------


def _implicit_figures(state: StateCore) -> None:
    """An image alone in a paragraph becomes a figure; its description is the
    caption and the alt text, its ``{#id}`` the figure's id (as Pandoc does)."""
    tokens = state.tokens
    for i in range(len(tokens) - 2):
        opening, inline, closing = tokens[i : i + 3]
        if opening.type != "paragraph_open" or closing.type != "paragraph_close" or inline.type != "inline":
            continue
        children = [c for c in inline.children or () if not (c.type == "text" and not c.content.strip())]
        if len(children) != 1 or children[0].type != "image":
            continue
        image = children[0]
        opening.type, opening.tag = "figure_open", "figure"
        closing.type, closing.tag = "figure_close", "figure"
        ident = image.attrGet("id")
        if ident:
            opening.attrSet("id", ident)
            del image.attrs["id"]
        inline.children = [image]


# -- dashes and ellipses ----------------------------------------------------------------

DASHES_RE = re.compile(r"---|--|\.\.\.")
DASHES = {"---": "\u2014", "--": "\u2013", "...": "\u2026"}


def _dashes(state: StateCore) -> None:
    """Pandoc's ``smart`` dashes and ellipses: ``---`` em dash, ``--`` en dash,
    ``...`` ellipsis, in text (not in code). Quotes are left as typed (see
    README, "Pandoc compatibility")."""
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or ():
            if child.type == "text" and ("--" in child.content or "..." in child.content):
                child.content = DASHES_RE.sub(lambda m: DASHES[m.group(0)], child.content)


# -- implicit header references ----------------------------------------------------------

IMPLICIT_REF_RE = re.compile(r"\[([^\[\]\n]+)\](?:\[([^\[\]\n]*)\])?")


def link_headings(tokens: list[Token], headings: dict[str, str]) -> None:
    """Pandoc's implicit header references: ``[Heading text]``, ``[Heading
    text][]`` or ``[link text][Heading text]`` link to the heading of that text
    (``headings``: lower-cased text -> id) when no reference of that name exists
    (markdown-it has then left the brackets as text)."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        for child in token.children:
            children += _linked(child, headings) if child.type == "text" and "[" in child.content else [child]
        token.children = children


def _linked(text: Token, headings: dict[str, str]) -> list[Token]:
    out, last = [], 0
    for m in IMPLICIT_REF_RE.finditer(text.content):
        label = m.group(2) or m.group(1)
        ident = headings.get(" ".join(label.lower().split()))
        if ident is None:
            continue
        out.append(_text_like(text, text.content[last : m.start()]))
        opening = Token("link_open", "a", 1)
        opening.attrSet("href", f"#{ident}")
        opening.meta = dict(text.meta)
        out += [opening, _text_like(text, m.group(1)), Token("link_close", "a", -1)]
        last = m.end()
    if not out:
        return [text]
    out.append(_text_like(text, text.content[last:]))
    return [t for t in out if t.type != "text" or t.content]


def _text_like(text: Token, content: str) -> Token:
    token = text.copy()
    token.content = content
    token.meta = dict(text.meta)
    return token


# -- escaped space ---------------------------------------------------------------------


def _escaped_space(state: StateInline, silent: bool) -> bool:
    """``\\ `` is a non-breaking space in Pandoc (CommonMark keeps the backslash)."""
    if not state.src.startswith("\\ ", state.pos):
        return False
    if not silent:
        state.append_pending("\u00a0")
    state.pos += 2
    return True


# -- comments --------------------------------------------------------------------------


def _comment_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    if not state.src.startswith("<!--", state.bMarks[start_line] + state.tShift[start_line]):
        return False
    if not html_block(state, start_line, end_line, silent):
        return False
    if not silent:
        state.tokens[-1].type = "comment"
    return True


def _comment_inline(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("<!--", state.pos):
        return False
    if not html_inline(state, silent):
        return False
    if not silent:
        state.tokens[-1].type = "comment"
    return True


def use(md: MarkdownIt) -> None:
    """Add the rules (after the deflist plugin, whose rule one of them wraps)."""
    deflist = next(r for r in md.block.ruler.__rules__ if r.name == "deflist")
    md.block.ruler.at("deflist", _caption_not_definition(deflist.fn), {"alt": deflist.alt})
    md.core.ruler.before("inline", "heading_attributes", _heading_attributes)
    md.core.ruler.before("inline", "table_captions", _table_captions)
    md.core.ruler.after("inline", "implicit_figures", _implicit_figures)
    md.block.ruler.after("table", "grid_table", _grid_table)
    md.block.ruler.after("grid_table", "line_block", _line_block)
    md.block.ruler.before(
        "html_block", "comment_block", _comment_block, {"alt": ["paragraph", "reference", "blockquote"]}
    )
    md.inline.ruler.before("html_inline", "comment", _comment_inline)
    md.inline.ruler.before("escape", "escaped_space", _escaped_space)
    md.core.ruler.after("inline", "dashes", _dashes)


def is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")
