"""Markdown in Pandoc's dialect, parsed with markdown-it-py and its plugins.

Supported with Pandoc's syntax (see README, "Pandoc compatibility"): footnotes
(``[^id]``, ``^[inline]``), citations (``mdcite``), bracketed spans and
attributes (``[text]{lang=ko}``, ``[]{.op n=5}``), fenced divs
(``::: {.table #id}``), pipe tables, definition lists, strikeout,
superscript and subscript (the libraries' rules); grid tables, table captions,
heading attributes and identifiers, line blocks, implicit figures and comments
(``mdblocks``). ``mdlines`` gives every inline token its line; ``mdcheck``
refuses what is not supported.

With a note style, a citation in the running text becomes an automatic note,
numbered with the written notes in the order of their calls, and punctuation
after it moves before the call (as Pandoc's citeproc does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_core.smartquotes import QUOTE_RE, process_inlines
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.attrs import parse as attrs_parse
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

from edition.diagnostics import Collector
from edition.model import Citation, SourceLocation
from edition.read import tablesize
from edition.read.languages import language_problem
from edition.read.markdown import blocks as mdblocks
from edition.read.markdown import citations as mdcite
from edition.read.markdown import lines as mdlines
from edition.read.markdown import link_syntax

UNDEFINED_NOTE_RE = re.compile(r"\[\^([^\]\s]+)\]")
NOTE_DEFINITION_RE = re.compile(r"^\[\^([^\]\s]+)\]:", re.M)
INLINE_NOTE_RE = re.compile(r"\^\[")
#: A backslash escape: CommonMark's, before any ASCII punctuation.
ESCAPE_RE = re.compile(r"\\[!-/:-@\[-`{-~]")
#: What the bracket-depth check looks at: brackets, escapes, blank lines.
BRACKET_RE = re.compile(r"\\.|\[|\]|\n[ \t]*\n", re.S)
DIV_RE = re.compile(r"^\s*(?:\{([^}]*)\}|([\w-]+))\s*$")
#: Nesting deeper than this is refused, not recursed into.
MAX_NESTING = 50
#: Closing quotation marks: a citation before one stays inside the quotation.
CLOSING_QUOTES = "\u201d\u2019\u00bb\u203a"
#: Most notes in one work (its files together), so the notes' layout stays bounded.
MAX_NOTES = 5000
#: Longest block (a paragraph, a table cell's row, a code block), in characters:
#: placing the print pages in the EPUB costs, per page, a walk of the block the
#: page begins in, so one block of a whole book's length would be quadratic.
MAX_BLOCK_CHARS = 100_000
cite_keys = mdcite.cite_keys


def _div_valid(params: str, *_: object) -> bool:
    return bool(DIV_RE.match(params))


def _pandoc_bare_values() -> None:
    """Read an unquoted attribute value as Pandoc does: up to the next space or
    ``}`` (``width=50%``, ``height=2.5in``). The attrs plugin stops at letters,
    digits, ``:``, ``_`` and ``-``, so ``{#fig:map width=50%}`` would print as
    text. Its parser is a table of state handlers; the two that read a bare
    value are replaced (the plugin's own rules stay for everything else)."""
    state = attrs_parse.State

    def value(char: str, pos: int, tokens: attrs_parse.TokenState) -> attrs_parse.State:
        if char == '"':
            tokens.set_start(pos)
            return state.SCANNING_QUOTED_VALUE
        if char in "{}" or char.isspace():
            raise attrs_parse.ParseError(f"Unexpected character whilst scanning value: {char}", pos)
        tokens.set_start(pos)
        return state.SCANNING_BARE_VALUE

    def bare(char: str, pos: int, tokens: attrs_parse.TokenState) -> attrs_parse.State:
        if char == "}" or char.isspace():
            tokens.append(tokens.start, pos, "value")
            return state.DONE if char == "}" else state.SCANNING
        if char == "{":
            raise attrs_parse.ParseError(f"Unexpected character whilst scanning bare value: {char}", pos)
        return state.SCANNING_BARE_VALUE

    attrs_parse.HANDLERS[state.SCANNING_VALUE] = value
    attrs_parse.HANDLERS[state.SCANNING_BARE_VALUE] = bare


_pandoc_bare_values()


def make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"typographer": False, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(attrs_plugin, spans=True)
    md.use(container_plugin, "div", validate=_div_valid)
    md.use(deflist_plugin)
    md.use(superscript_plugin)
    md.use(sub_plugin)
    # read only to be refused with a clear message (mdcheck): Pandoc's rules
    # for what a dollar sign opens, so that "$5 and $10" stays text
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, allow_labels=False, double_inline=True)
    # after the notes: "^[" is an inline note before it is a superscript
    _move_after(md.inline.ruler, "sup", "footnote_ref")
    mdcite.use(md)
    link_syntax.use(md)
    mdblocks.use(md)
    md.core.ruler.after("inline", "smart_quotes", _smart_quotes)
    mdlines.use(md)
    md.disable("html_block")
    md.disable("html_inline")
    return md


def _smart_quotes(state: StateCore) -> None:
    """Pandoc's ``smart`` quotes: "…" and '…' become “…” and ‘…’, an apostrophe
    ’ (markdown-it's rule, run on the text tokens only: never in code). Off when
    the parse's env says ``smart: False`` (a work that prints its copy-text's
    characters as typed, ``smart_quotes: false``); metadata lines parse with
    an empty env and follow the default."""
    if state.env.get("smart", True):
        for token in state.tokens:
            if token.type == "inline" and token.children and QUOTE_RE.search(token.content):
                process_inlines(token.children, state)
                for child in token.children:  # an image's description (a figure's caption, its alt text)
                    if child.type == "image" and child.children:
                        process_inlines(child.children, state)


def plain_text(markdown: str, smart: bool = True) -> str:
    """A line of Markdown (a title) as the text it prints, for the places that
    take no markup: the contents, running heads, the outline, metadata."""
    out: list[str] = []
    for child in PARSER.parseInline(markdown, {"smart": smart})[0].children or []:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def markdown_of(title: str, smart: bool = True) -> str:
    """The title as written when it holds Markdown (its plain text differs), else ""."""
    return title if plain_text(title, smart) != title else ""


def _move_after(ruler, name: str, after: str) -> None:
    rules = ruler.__rules__
    rule = rules.pop(next(i for i, r in enumerate(rules) if r.name == name))
    rules.insert(next(i for i, r in enumerate(rules) if r.name == after) + 1, rule)
    ruler.__cache__ = None


PARSER = make_parser()


def div_attrs(info: str) -> tuple[str, list[str], dict[str, str]]:
    """``(id, classes, attributes)`` of a fenced div's opening line."""
    m = DIV_RE.match(info)
    if not m:
        return "", [], {}
    if m.group(2):
        return "", [m.group(2)], {}
    ident, classes, attrs = "", [], {}
    for part in re.findall(r'[^\s"=]+(?:="[^"]*"|=[^\s]*)?', m.group(1)):
        if part.startswith("#"):
            ident = part[1:]
        elif part.startswith("."):
            classes.append(part[1:])
        elif "=" in part:
            k, v = part.split("=", 1)
            attrs[k] = v.strip('"')
    return ident, classes, attrs


@dataclass
class ParsedNote:
    label: str
    tokens: list[Token]
    location: SourceLocation
    source: str
    auto: bool = False  # made from a citation in the running text


@dataclass
class Parsed:
    """A Markdown file's body tokens and its notes, in the order of their calls."""

    path: Path
    tokens: list[Token]
    notes: list[ParsedNote] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # the body's source lines
    first_line: int = 1  # the file line of the body's first line


def parse(
    body: str,
    path: Path,
    first_line: int,
    diags: Collector,
    cite_prefix: str,
    note_style: bool = True,
    used_ids: set[str] | None = None,
    smart: bool = True,
) -> Parsed:
    """Parse a Markdown body; problems with notes go to ``diags``. ``used_ids``
    holds the identifiers taken in the work so far (headings get unique ones)."""
    env: dict = {"smart": smart}
    offset = first_line - 1
    if not _within_limits(body, path, offset, diags):
        return Parsed(path, [])
    try:
        tokens = PARSER.parse(body, env)
    except RecursionError:
        diags.error(SourceLocation(path, first_line), "md.nesting", "Markdown nested too deeply to parse")
        return Parsed(path, [])
    mdlines.assign_lines(env, offset)
    for token in tokens:
        if token.map:
            token.map = [token.map[0] + offset, token.map[1] + offset]
    deep = next((tok for tok in tokens if tok.level >= MAX_NESTING - 1), None)
    # emphasis is paired after markdown-it's own nesting limit: ``*a *a … b* b*`` nests without bound
    inline = next(
        (tok for tok in tokens for child in tok.children or () if tok.level + child.level >= MAX_NESTING - 1), None
    )
    deep = deep or inline
    long = next((tok for tok in tokens if tok.map and len(tok.content) > MAX_BLOCK_CHARS), None)
    if long is not None and deep is None:
        diags.error(
            SourceLocation(path, long.map[0] + 1),
            "md.size",
            f"a block of {len(long.content)} characters, over the limit of {MAX_BLOCK_CHARS} for one paragraph "
            "or code block; split it",
        )
        return Parsed(path, [])
    if deep is not None:
        line = (deep.map[0] + 1) if deep.map else first_line
        diags.error(
            SourceLocation(path, line), "md.nesting", f"Markdown nested more than {MAX_NESTING} levels deep; flatten it"
        )
        return Parsed(path, [])
    for token in tokens:  # a grid table measured by its borders, before it was read
        if token.type == "table_too_large":
            diags.error(SourceLocation(path, (token.map[0] if token.map else 0) + 1), "md.size", token.content)
            return Parsed(path, [])
    for start, rows, widest, cells in tablesize.markdown_tables(tokens):
        if (problem := tablesize.too_large(rows, widest, cells)) is not None:
            diags.error(SourceLocation(path, start + 1), "md.size", problem)
            return Parsed(path, [])
    _check_definitions(body, path, offset, env, diags)
    body_tokens, note_tokens = _split_notes(tokens)
    call_lines = {c.meta["id"]: line for c, line in walk_inline(body_tokens) if c.type == "footnote_ref"}
    notes = _collect_notes(note_tokens, env, path, diags, call_lines, first_line)
    for note in notes:
        if any(child.type == "footnote_ref" for child, _ in walk_inline(note.tokens)):
            diags.error(
                note.location, "md.nesting", "a note cannot contain another note; move the inner note's text out"
            )
    assign_heading_ids(body_tokens, mdblocks.TakenIds() if used_ids is None else used_ids)
    parsed = Parsed(path, body_tokens, notes, lines=body.split("\n"), first_line=first_line)
    _number_citations(parsed, path, cite_prefix)
    if note_style:
        _automatic_notes(parsed)
    _check_undefined(body_tokens, path, diags, parsed.lines, first_line)
    everything = [*body_tokens, *(token for note in notes for token in note.tokens)]
    _check_page_markers(everything, path, diags)
    _check_languages(everything, path, diags)
    return parsed


def _within_limits(body: str, path: Path, offset: int, diags: Collector) -> bool:
    """Checked on the text before it is parsed: no more notes than a work may
    have, no brackets nested deeper than ``MAX_NESTING``."""
    notes = [m.start() for m in NOTE_DEFINITION_RE.finditer(body)] + [m.start() for m in INLINE_NOTE_RE.finditer(body)]
    if len(notes) > MAX_NOTES:
        at = sorted(notes)[MAX_NOTES]
        diags.error(
            SourceLocation(path, body.count("\n", 0, at) + 1 + offset),
            "md.size",
            f"more than {MAX_NOTES} notes; a work may have at most {MAX_NOTES}: split it into several works",
        )
        return False
    deep = _deepest_brackets(body)
    if deep is not None:
        diags.error(
            SourceLocation(path, body.count("\n", 0, deep) + 1 + offset),
            "md.nesting",
            f"Markdown nested more than {MAX_NESTING} levels deep; flatten it",
        )
        return False
    return True


def _deepest_brackets(body: str) -> int | None:
    """Where ``[`` first nests more than ``MAX_NESTING`` deep in a paragraph, if it does."""
    depth = 0
    for m in BRACKET_RE.finditer(body):
        token = m.group()
        if token == "[":
            depth += 1
            if depth > MAX_NESTING:
                return m.start()
        elif token == "]":
            depth = max(0, depth - 1)
        elif token.count("\n") >= 2:  # a blank line ends the paragraph
            depth = 0
    return None


def assign_heading_ids(tokens: list[Token], used: set[str]) -> None:
    """Every heading gets an id: its own ``{#id}``, or Pandoc's automatic one,
    made unique in the work."""
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        given = token.attrGet("id")
        if given:
            used.add(str(given))
            continue
        text = mdblocks.inline_text(tokens[i + 1].children or [])
        token.attrSet("id", mdblocks.unique_identifier(mdblocks.pandoc_identifier(text), used))
        token.meta["auto_id"] = True  # made from its text: another may be made if it clashes (anchors)


#: An original page's number: ASCII digits (``str.isdigit`` takes ``²``, which ``int`` refuses).
PAGE_NUMBER = re.compile(r"[0-9]{1,6}")


def _check_page_markers(tokens: list[Token], path: Path, diags: Collector) -> None:
    """Every ``[]{.op n=5}``, in the text and its notes, gives a page number."""
    for child, line in walk_inline(tokens):
        marker = child.type == "span_open" and "op" in str(child.attrGet("class") or "").split()
        if marker and not PAGE_NUMBER.fullmatch(str(child.attrGet("n") or "")):
            diags.error(
                SourceLocation(path, line),
                "md.page-marker",
                f"original-page marker with page {child.attrGet('n')!r}: write []{{.op n=5}} with the page number",
            )


def _check_languages(tokens: list[Token], path: Path, diags: Collector) -> None:
    """Every ``lang=`` (of a span, a div, a heading, in the text and its notes)
    is a language tag: it is written into the outputs' markup."""
    found: list[tuple[str, int | None]] = []
    line = None
    for token in tokens:
        line = token.map[0] + 1 if token.map else line
        lang = div_attrs(token.info)[2].get("lang") if token.type == "container_div_open" else token.attrGet("lang")
        if lang is not None:
            found.append((str(lang), line))
    found += [(str(child.attrGet("lang")), line) for child, line in walk_inline(tokens) if child.attrGet("lang")]
    for lang, where in found:
        problem = language_problem(lang)
        if problem:
            diags.error(SourceLocation(path, where), "md.language", f"lang={lang!r} is {problem}")


def _check_definitions(body: str, path: Path, offset: int, env: dict, diags: Collector) -> None:
    seen: dict[str, int] = {}
    line, counted = 1, 0  # lines counted once through the body, not from its start for each note
    for m in NOTE_DEFINITION_RE.finditer(body):
        line += body.count("\n", counted, m.start())
        counted = m.start()
        label = m.group(1)
        if label in seen:
            diags.error(
                SourceLocation(path, line + offset),
                "md.footnote-duplicate",
                f"note [^{label}] is already defined at line {seen[label]}; give one of them another label",
            )
        else:
            seen[label] = line + offset
    used = {v.get("label") for v in env.get("footnotes", {}).get("list", {}).values()}
    for label, line in seen.items():
        if label not in used:
            diags.error(
                SourceLocation(path, line),
                "md.footnote-unused",
                f"note [^{label}] is defined but never called; add [^{label}] to the text or delete it",
            )


def _split_notes(tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    for i, token in enumerate(tokens):
        if token.type == "footnote_block_open":
            return tokens[:i], tokens[i:]
    return tokens, []


def _collect_notes(
    tokens: list[Token], env: dict, path: Path, diags: Collector, call_lines: dict[int, int | None], first_line: int
) -> list[ParsedNote]:
    listing = env.get("footnotes", {}).get("list", {})
    notes: list[ParsedNote] = []
    current: list[Token] | None = None
    meta: dict = {}
    for token in tokens:
        if token.type == "footnote_open":
            current, meta = [], token.meta
        elif token.type == "footnote_close" and current is not None:
            entry = listing.get(meta["id"], {})
            if entry.get("count", 1) > 1:
                diags.error(
                    _first_location(current, path),
                    "md.footnote-duplicate",
                    f"note [^{entry.get('label')}] is called {entry['count']} times; "
                    "call each note once (define a second note for the second call)",
                )
            source = entry.get("content") or "\n\n".join(t.content for t in current if t.type == "inline")
            label = entry.get("label") or f"inline-{meta['id']}"
            location = _first_location(current, path)
            if location.line is None:  # an inline note: it stands at its call
                location = SourceLocation(path, call_lines.get(meta["id"]) or first_line)
            notes.append(ParsedNote(label, current, location, source))
            current = None
        elif current is not None and token.type != "footnote_anchor":
            current.append(token)
    return notes


def _first_location(tokens: list[Token], path: Path) -> SourceLocation:
    for token in tokens:
        if token.map:
            return SourceLocation(path, token.map[0] + 1)
    return SourceLocation(path)


def walk_inline(tokens: list[Token]):
    """Every inline child token, with its line (the line of the block it stands
    in when the token's own is not known)."""
    line = None
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        for child in token.children or ():
            yield child, mdlines.line_of(child, line)


def _number_citations(parsed: Parsed, path: Path, prefix: str) -> None:
    """Ids for every citation, in the order a reader meets them (a note's
    citations at its call)."""
    count = 0
    entered: set[int] = set()  # a note that calls itself (refused later) is visited once

    def visit(tokens: list[Token], default_line: int | None) -> None:
        nonlocal count
        for child, line in walk_inline(tokens):
            if child.type == "footnote_ref" and child.meta["id"] < len(parsed.notes):
                if child.meta["id"] in entered:
                    continue
                entered.add(child.meta["id"])
                note = parsed.notes[child.meta["id"]]
                visit(note.tokens, note.location.line)
            elif child.type == "citation" and "id" not in child.meta:
                count += 1
                cid = f"{prefix}-c{count}"
                child.meta["id"] = cid
                parsed.citations.append(
                    Citation(
                        cid,
                        child.content,
                        child.meta["keys"],
                        SourceLocation(path, line or default_line),
                        narrative=child.meta["narrative"],
                    )
                )

    visit(parsed.tokens, None)
    for note in parsed.notes:  # a note never called still has its citations checked
        visit(note.tokens, note.location.line)


def _automatic_notes(parsed: Parsed) -> None:
    """With a note style, each citation in the running text becomes a note of
    its own (a narrative citation keeps the author's name in the text); notes
    are renumbered in the order of their calls."""
    citations = {c.id: c for c in parsed.citations}
    ordered: list[ParsedNote] = []
    for token in parsed.tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        rest = list(token.children)
        while rest:
            child = rest.pop(0)
            if child.type == "footnote_ref":
                ordered.append(parsed.notes[child.meta["id"]])
                child.meta["id"] = len(ordered) - 1
                children.append(child)
            elif child.type == "citation" and "author_of" not in child.meta:
                citation = citations[child.meta["id"]]
                ordered.append(_auto_note(child, citation))
                call = Token("footnote_ref", "", 0)
                call.meta = {"id": len(ordered) - 1, "auto": True, "line": citation.location.line}
                if citation.narrative:
                    author = child.copy()
                    author.meta = {**child.meta, "id": f"{citation.id}-author", "author_of": citation.id}
                    children.append(author)
                else:
                    _drop_space_before(children)
                children += _punctuation_after(rest)
                children.append(call)
            else:
                children.append(child)
        token.children = children
    ordered += [n for n in parsed.notes if all(n is not o for o in ordered)]
    parsed.notes = ordered


def _auto_note(call: Token, citation: Citation) -> ParsedNote:
    paragraph = Token("paragraph_open", "p", 1)
    paragraph.map = [citation.location.line - 1, citation.location.line] if citation.location.line else None
    inline = Token("inline", "", 0)
    inline.content = call.content
    inline.map = paragraph.map
    inline.children = [call]
    tokens = [paragraph, inline, Token("paragraph_close", "p", -1)]
    return ParsedNote(f"cite-{citation.id}", tokens, citation.location, call.content, auto=True)


def _drop_space_before(children: list[Token]) -> None:
    """Pandoc drops the space before a citation that becomes a note."""
    while children and children[-1].type == "softbreak":
        children.pop()
    if children and children[-1].type == "text":
        children[-1].content = children[-1].content.rstrip()


def _punctuation_after(rest: list[Token]) -> list[Token]:
    """Punctuation right after the citation, moved before the note call, as
    Pandoc moves it: a run that ends a word ("text [@key]." and "[@key]), next"
    move; "@key's" and "[@key]---and" do not), and never a closing quotation
    mark, which keeps the call inside the quotation ("“quoted [@key]”.")."""
    if not rest or rest[0].type != "text":
        return []
    text = rest[0].content
    n = 0
    while n < len(text) and mdblocks.is_punctuation(text[n]):
        n += 1
    if not n or (n < len(text) and not text[n].isspace()) or text[0] in CLOSING_QUOTES:
        return []
    moved = Token("text", "", 0)
    moved.content = text[:n]
    rest[0].content = text[n:]
    return [moved]


def typed_as_text(pattern: re.Pattern[str], line: int | None, lines: list[str], first_line: int) -> bool:
    """Whether what ``pattern`` finds in a text token was written escaped in
    its source line (``\\[\\^1\\]``, ``C:\\\\Users``, ``\\{#id\\}``): the text
    typed, not the syntax. True when the line, its escapes taken out, holds
    no match (markdown-it's text token no longer tells an escaped character
    from a typed one)."""
    if line is None or not 0 <= line - first_line < len(lines):
        return False
    return pattern.search(ESCAPE_RE.sub("", lines[line - first_line])) is None


def _check_undefined(tokens: list[Token], path: Path, diags: Collector, lines: list[str], first_line: int) -> None:
    for child, line in walk_inline(tokens):
        if child.type == "text" and not typed_as_text(UNDEFINED_NOTE_RE, line, lines, first_line):
            for m in UNDEFINED_NOTE_RE.finditer(child.content):
                diags.error(
                    SourceLocation(path, line),
                    "md.footnote-undefined",
                    f"note [^{m.group(1)}] is called but never defined; add a line '[^{m.group(1)}]: ...'",
                )
