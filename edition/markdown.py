"""Markdown in Pandoc's dialect, parsed with markdown-it-py and its plugins.

Supported beyond CommonMark, with Pandoc's syntax: footnotes (``[^id]``,
``^[inline]``), bracketed citations (``[@key]``, ``[@key, 204]``,
``[see @a, 12; @b]``), bracketed spans and attributes (``[text]{lang=ko}``,
``[]{.op n=5}``) and fenced divs (``::: {.table #id}``). The citation rule is
ours (markdown-it has no citation plugin); everything else is the library's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.footnote import footnote_plugin

from .diagnostics import Collector
from .model import Citation, SourceLocation

#: A citation item's key, as Pandoc reads it (internal punctuation allowed).
KEY_RE = re.compile(r"(?:^|(?<=[\s;\[-]))-?@([\w][\w:.#$%&+?<>~/-]*)")
UNDEFINED_NOTE_RE = re.compile(r"\[\^([^\]\s]+)\]")
NOTE_DEFINITION_RE = re.compile(r"^\[\^([^\]\s]+)\]:", re.M)
INLINE_NOTE_RE = re.compile(r"\^\[")
#: What the bracket-depth check looks at: brackets, escapes, blank lines.
BRACKET_RE = re.compile(r"\\.|\[|\]|\n[ \t]*\n", re.S)
DIV_RE = re.compile(r"^\s*(?:\{([^}]*)\}|([\w-]+))\s*$")
#: Nesting deeper than this is refused, not recursed into.
MAX_NESTING = 50
#: Most notes in one work (its files together), so the notes' layout stays bounded.
MAX_NOTES = 5000


def _citation_rule(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "[" or start + 1 >= state.posMax or src[start + 1] == "^":
        return False
    i = _closing_brackets(state).get(start)
    if i is None or i >= state.posMax:
        return False
    inner = src[start + 1 : i]
    keys = cite_keys(inner)
    if not keys or (i + 1 < state.posMax and src[i + 1] in "([{"):
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.content = inner
        token.meta = {"keys": keys}
    state.pos = i + 1
    return True


def _closing_brackets(state: StateInline) -> dict[int, int]:
    """Where each ``[`` of the inline text closes, found once per text (a
    scan from every ``[`` would make 5,000 nested brackets quadratic)."""
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


def cite_keys(inner: str) -> tuple[str, ...]:
    """The keys of a citation cluster, in order; trailing punctuation is not key."""
    return tuple(k.rstrip(".:?") for k in KEY_RE.findall(inner))


def _div_valid(params: str, *_: object) -> bool:
    return bool(DIV_RE.match(params))


def make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"typographer": False, "maxNesting": MAX_NESTING})
    md.use(footnote_plugin)
    md.use(attrs_plugin, spans=True)
    md.use(container_plugin, "div", validate=_div_valid)
    md.inline.ruler.before("link", "citation", _citation_rule)
    md.disable("html_block")
    md.disable("html_inline")
    return md


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


@dataclass
class Parsed:
    """A Markdown file's body tokens and its notes, in the order of their calls."""

    path: Path
    tokens: list[Token]
    notes: list[ParsedNote] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)


def parse(body: str, path: Path, first_line: int, diags: Collector, cite_prefix: str) -> Parsed:
    """Parse a Markdown body; problems with notes go to ``diags``."""
    env: dict = {}
    offset = first_line - 1
    if not _within_limits(body, path, offset, diags):
        return Parsed(path, [])
    try:
        tokens = PARSER.parse(body, env)
    except RecursionError:
        diags.error(SourceLocation(path, first_line), "md.nesting", "Markdown nested too deeply to parse")
        return Parsed(path, [])
    for token in tokens:
        if token.map:
            token.map = [token.map[0] + offset, token.map[1] + offset]
    deep = next((tok for tok in tokens if tok.level >= MAX_NESTING - 1), None)
    if deep is not None:
        line = (deep.map[0] + 1) if deep.map else first_line
        diags.error(
            SourceLocation(path, line), "md.nesting", f"Markdown nested more than {MAX_NESTING} levels deep; flatten it"
        )
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
    parsed = Parsed(path, body_tokens, notes)
    _number_citations(parsed, path, cite_prefix)
    _check_undefined(body_tokens, path, diags)
    _check_page_markers(body_tokens, path, diags)
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


def _check_page_markers(tokens: list[Token], path: Path, diags: Collector) -> None:
    for child, line in walk_inline(tokens):
        marker = child.type == "span_open" and "op" in str(child.attrGet("class") or "").split()
        if marker and not str(child.attrGet("n") or "").isdigit():
            diags.error(
                SourceLocation(path, line),
                "md.page-marker",
                f"original-page marker with page {child.attrGet('n')!r}: write []{{.op n=5}} with the page number",
            )


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
    """Every inline child token, with the line of the block it stands in."""
    line = None
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        for child in token.children or ():
            yield child, line


def _number_citations(parsed: Parsed, path: Path, prefix: str) -> None:
    count = 0
    blocks: list[tuple[list[Token], int | None]] = [(parsed.tokens, None)]
    blocks += [(n.tokens, n.location.line) for n in parsed.notes]
    for tokens, default_line in blocks:
        for child, line in walk_inline(tokens):
            if child.type == "citation":
                count += 1
                cid = f"{prefix}-c{count}"
                child.meta["id"] = cid
                parsed.citations.append(
                    Citation(cid, child.content, child.meta["keys"], SourceLocation(path, line or default_line))
                )


def _check_undefined(tokens: list[Token], path: Path, diags: Collector) -> None:
    for child, line in walk_inline(tokens):
        if child.type == "text":
            for m in UNDEFINED_NOTE_RE.finditer(child.content):
                diags.error(
                    SourceLocation(path, line),
                    "md.footnote-undefined",
                    f"note [^{m.group(1)}] is called but never defined; add a line '[^{m.group(1)}]: ...'",
                )
