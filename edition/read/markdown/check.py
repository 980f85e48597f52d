"""Pandoc constructs the pipeline does not render, refused with file:line.

Pandoc's Markdown has more than an edition prints; what the pipeline does not
support must never reach an output as raw syntax. Each rule below finds one
construct in the parsed tokens (or in the source lines where markdown-it reads
the construct as something else) and names the supported alternative; the
README's compatibility table lists them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markdown_it.common.html_re import HTML_OPEN_CLOSE_TAG_STR
from markdown_it.token import Token

from edition.diagnostics import Collector
from edition.model import SourceLocation
from edition.read.markdown.parse import Parsed, typed_as_text, walk_inline

RAW_TEX_RE = re.compile(r"\\[A-Za-z]+")
#: An HTML tag as CommonMark reads raw HTML (markdown-it's own pattern), not
#: after a backslash: ``\<br>`` is text in Pandoc too.
HTML_TAG_RE = re.compile(r"(?<!\\)" + HTML_OPEN_CLOSE_TAG_STR.lstrip("^"))
#: Pandoc's fancy list markers that CommonMark does not read: letters, roman
#: numerals, (1), #. and example lists (@).
FANCY_LIST_RE = re.compile(
    r"^(?:\((?:\d+|[a-zA-Z]|[ivxlcdmIVXLCDM]+|@[\w-]*)\)"  # (1) (a) (iv) (@)
    r"|(?:[a-z]|[ivxlcdm]+)[.)]"  # a. iv)
    r"|(?:[A-Z]|[IVXLCDM]+)\)"  # A) IV)
    r"|(?:[A-Z]|[IVXLCDM]+)\.\s"  # "A.  " (Pandoc wants two spaces after a capital and a period)
    r"|#[.)])\s"
)
TASK_RE = re.compile(r"^\[[ xX]\]\s")
DASH_GROUPS_RE = re.compile(r"^\s*-{2,}(?:[ \t]+-{2,})+\s*$")
ATTRS_RE = re.compile(r"\]\{|(?:^|\s)\{[#.][^}]*\}")

STRAIGHT = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
#: The Markdown for the HTML an author most often types.
HTML_ALTERNATIVES = {
    "br": "a backslash at the end of the line for a line break",
    "sup": "^superscript^",
    "sub": "~subscript~",
    "em": "*emphasis*",
    "i": "*emphasis*",
    "strong": "**strong**",
    "b": "**strong**",
    "span": "[text]{.smallcaps}, [text]{lang=xx}",
    "div": "a fenced div, ::: {.class}",
    "a": "[text](https://...)",
    "img": "![description](file.png)",
    "u": "[text]{.underline}",
    "s": "~~strikeout~~",
    "del": "~~strikeout~~",
}

TEX_MATH = (
    "TeX math ($…$, $$…$$) is not supported: write the formula as text (x^2^, H~2~O) or as an image with alt text"
)
CITE_IN_HEADING = "a citation in a heading is not supported: cite in the text under the heading"
NOTE_IN_HEADING = "a note in a heading is not supported: call the note in the text under the heading"


#: Blocks a note cannot hold (a print footnote is set inline, at its call), named
#: with what to write instead.
NOTE_BLOCKS = {
    "blockquote_open": ("a block quotation", "quote it in the note's text with quotation marks"),
    "bullet_list_open": ("a list", "write the items as a sentence, or move the list into the text"),
    "ordered_list_open": ("a list", "write the items as a sentence, or move the list into the text"),
    "dl_open": ("a definition list", "write it as a sentence, or move it into the text"),
    "table_open": ("a table", "move the table into the text"),
    "grid_table_invalid": ("a table", "move the table into the text"),
    "fence": ("a code block", "use `code` in the note's text, or move the block into the text"),
    "code_block": ("a code block (a line indented by 4 more spaces)", "indent the note's paragraphs by 4 spaces only"),
    "heading_open": ("a heading", "write the heading's words in the note's text"),
    "hr": ("a horizontal rule", "delete it"),
    "container_div_open": ("a fenced div", "move the div into the text"),
    "line_block_open": ("a line block", "write the lines in the note's text, separated by ' / '"),
    "figure_open": ("a figure", "move the image into the text"),
    "math_block": ("TeX math", "write the formula as text"),
}


def check(parsed: Parsed, diags: Collector) -> None:
    """Refuse every unsupported construct in a parsed file."""
    path = parsed.path
    for note in parsed.notes:
        for line, message in _note_blocks(note.tokens, note.location.line):
            diags.error(SourceLocation(path, line), "md.unsupported", message)
    blocks = [(parsed.tokens, None)] + [(n.tokens, n.location.line) for n in parsed.notes]
    for tokens, default in blocks:
        for line, message in _problems(tokens, parsed.lines, parsed.first_line, default):
            diags.error(SourceLocation(path, line), "md.unsupported", message)
        for line, message in _invalid_tables(tokens):
            diags.error(SourceLocation(path, line), "md.table", message)
        for line, message in _images_without_alt(tokens):
            diags.error(SourceLocation(path, line), "md.alt-text", message)
        for line, code, message in _calls_in_links(tokens):
            diags.error(SourceLocation(path, line), code, message)


def _problems(
    tokens: list[Token], lines: list[str], first_line: int, default: int | None
) -> Iterator[tuple[int | None, str]]:
    yield from _block_problems(tokens, lines, first_line)
    yield from _heading_problems(tokens)
    for child, line in walk_inline(tokens):
        yield from _inline_problems(child, line or default, lines, first_line)
        if child.type == "text":
            yield from _raw_html(child, line or default, lines, first_line)
            yield from _unread_link(child, line or default, lines, first_line)


def _unescaped(source: str, tag: str) -> bool:
    start = source.find(tag)
    while start >= 0:
        if not source[:start].endswith("\\"):
            return True
        start = source.find(tag, start + 1)
    return False


def _raw_html(child: Token, line: int | None, lines: list[str], first_line: int) -> Iterator[tuple[int | None, str]]:
    """Raw HTML is never passed through (README, "Safety"), and printed as text
    it would show its syntax: refused, once per line, with the Markdown to write.
    The tag must stand in the source as written (a backslash before it makes it text)."""
    for match in HTML_TAG_RE.finditer(child.content):
        tag = match.group(0).translate(STRAIGHT)  # as typed: smart quotes have curled its attributes' quotes
        source = lines[line - first_line] if line is not None and 0 <= line - first_line < len(lines) else None
        # an escaped '>' is text as well ('\\<b\\>', as Pandoc's writer escapes a tag)
        source = source.replace("\\>", ">") if source is not None else None
        if source is not None and tag in source and not _unescaped(source, tag):
            continue
        name = tag.strip("</>").split()[0].rstrip("/")
        yield (
            line,
            (
                f"raw HTML ({tag if len(tag) <= 40 else tag[:37] + '...'}) is not supported: write Markdown "
                f"({HTML_ALTERNATIVES.get(name.lower(), '*emphasis*, [text]{.smallcaps}, [text]{lang=xx}')}), "
                "or \\< for a literal '<'"
            ),
        )
        return


#: A link's syntax left in the text: markdown-it (and Pandoc) could not read it as a link.
LINK_SYNTAX_RE = re.compile(r"\[[^\[\]\n]*\]\(")
#: A reference definition left in the text.
REFERENCE_RE = re.compile(r"^\[[^\[\]\n^]+\]:[ \t]")
UNREAD_LINK = (
    'a link that cannot be read (Pandoc prints it as text too): write [text](address "title"), the address in '
    "<…> if it has spaces, a title's inner quotation marks as \\\" or ’"
)
UNREAD_REFERENCE = (
    'a link reference that cannot be read (Pandoc prints it as text too): write [label]: address "title", the '
    "address in <…> if it has spaces, a title's inner quotation marks as \\\" or ’"
)


def _unread_link(child: Token, line: int | None, lines: list[str], first_line: int) -> Iterator[tuple[int | None, str]]:
    """Never print a link's syntax: ``[a](/url 'it's')`` reads as text. Only
    where the source has it unescaped (``\\[a\\](b)`` is text on purpose)."""
    match = LINK_SYNTAX_RE.search(child.content)
    if match is None:
        return
    source = lines[line - first_line] if line is not None and 0 <= line - first_line < len(lines) else None
    if source is None or not LINK_SYNTAX_RE.search(re.sub(r"\\.", "", source)):
        return
    yield line, UNREAD_LINK


def _block_problems(tokens: list[Token], lines: list[str], first_line: int) -> Iterator[tuple[int | None, str]]:
    for i, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else None
        if token.type in ("math_block", "math_block_label", "amsmath"):
            yield line, TEX_MATH
        elif token.type == "fence" and token.info.strip().startswith("{="):
            yield line, f'raw {token.info.strip()} content is not supported (see README, "Safety"): write Markdown'
        elif token.type == "inline" and i > 0 and tokens[i - 1].type == "paragraph_open":
            yield from _paragraph_problems(token, line, tokens, i)
        elif token.type == "hr" and line is not None and _dash_groups_table(lines, line - first_line):
            yield (
                line,
                (
                    "a simple or multiline table (columns under dashes) is not supported: "
                    "write a pipe table (| a | b |) or a grid table (+---+---+)"
                ),
            )


def _paragraph_problems(
    inline: Token, line: int | None, tokens: list[Token], i: int
) -> Iterator[tuple[int | None, str]]:
    first = inline.content.split("\n", 1)[0]
    in_item = i > 1 and tokens[i - 2].type == "list_item_open"
    if in_item and TASK_RE.match(first):
        yield line, "a task list item ([ ] or [x]) is not supported: write a bulleted list"
    elif FANCY_LIST_RE.match(first):
        marker = first.split()[0]
        yield (
            line,
            (
                f"a list numbered '{marker}' (letters, roman numerals, (1), #. or (@)) is not supported: "
                "number the items 1. 2. 3."
            ),
        )
    elif REFERENCE_RE.match(first):
        yield line, UNREAD_REFERENCE
    elif first.startswith(":::"):
        yield line, "a fenced div that cannot be read: write '::: {.class}' or '::: {#id}' and close it with ':::'"


def _dash_groups_table(lines: list[str], index: int) -> bool:
    """A line of dash groups touching text: a Pandoc simple or multiline table
    (markdown-it reads its dashes as a rule)."""
    if not (0 <= index < len(lines)) or not DASH_GROUPS_RE.match(lines[index]):
        return False
    before = lines[index - 1].strip() if index > 0 else ""
    after = lines[index + 1].strip() if index + 1 < len(lines) else ""
    return bool(before or after)


def _heading_problems(tokens: list[Token]) -> Iterator[tuple[int | None, str]]:
    for i, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        for child in tokens[i + 1].children or ():
            line = child.meta.get("line") if child.meta else None
            if child.type == "citation":
                yield line, CITE_IN_HEADING
            elif child.type == "footnote_ref":
                yield line, CITE_IN_HEADING if child.meta.get("auto") else NOTE_IN_HEADING


def _inline_problems(
    child: Token, line: int | None, lines: list[str], first_line: int
) -> Iterator[tuple[int | None, str]]:
    """A text token's raw TeX or attributes are refused unless written escaped
    (``C:\\\\Users``, ``\\{#id\\}``: the characters typed)."""
    if child.type in ("math_inline", "math_inline_double", "math_single"):
        yield line, TEX_MATH
    elif child.type == "text":
        tex = RAW_TEX_RE.search(child.content)
        if tex and not typed_as_text(RAW_TEX_RE, line, lines, first_line):
            yield (
                line,
                (
                    f"raw TeX ({tex.group(0)}) is not supported: use Markdown (*emphasis*, [text]{{.smallcaps}}); "
                    "write \\\\ for a backslash"
                ),
            )
        if ATTRS_RE.search(child.content) and not typed_as_text(ATTRS_RE, line, lines, first_line):
            yield (
                line,
                (
                    "attributes that cannot be read here: write {#id .class key=value} right after "
                    "a [span], a link, an image, `code` or at the end of a heading"
                ),
            )
    elif child.type == "image":
        for inner in child.children or ():
            if inner.type in ("citation", "footnote_ref"):
                yield line, "a note or citation in an image's description is not supported: put it in the text"


def _calls_in_links(tokens: list[Token]) -> Iterator[tuple[int | None, str, str]]:
    """A note call is a link: it cannot stand inside a link's text."""
    depth = 0
    for child, line in walk_inline(tokens):
        if child.type == "link_open":
            depth += 1
        elif child.type == "link_close":
            depth = max(depth - 1, 0)
        elif not depth:
            continue
        elif (child.type == "citation" and "author_of" not in child.meta) or (
            child.type == "footnote_ref" and child.meta.get("auto")
        ):
            yield line, "cite.syntax", "a citation inside a link's text: move it after the link's ']( )'"
        elif child.type == "footnote_ref":
            yield line, "md.unsupported", "a note inside a link's text is not supported: call it after the link"


def _note_blocks(tokens: list[Token], default: int | None) -> Iterator[tuple[int | None, str]]:
    """A note holds paragraphs: any other block at its top level is refused."""
    top = min((t.level for t in tokens), default=0)
    for token in tokens:
        if token.level != top or token.type in ("paragraph_open", "paragraph_close", "inline") or token.nesting < 0:
            continue
        what, instead = NOTE_BLOCKS.get(token.type, ("this block", "move it into the text"))
        line = token.map[0] + 1 if token.map else default
        yield line, f"{what} inside a note is not supported (a note holds paragraphs): {instead}"


def _invalid_tables(tokens: list[Token]) -> Iterator[tuple[int | None, str]]:
    for token in tokens:
        if token.type == "grid_table_invalid":
            yield (
                (token.map[0] + 1 if token.map else None),
                (f"a grid table that cannot be read ({token.content}): every row needs the same column borders"),
            )


def _images_without_alt(tokens: list[Token]) -> Iterator[tuple[int | None, str]]:
    for child, line in walk_inline(tokens):
        if child.type == "image" and not (child.children or child.attrGet("alt")):
            src = child.attrGet("src")
            yield (
                line,
                (
                    f"image {src!r} has no alt text: describe it between the brackets, ![A map of …]({src}); "
                    "the description is also the figure's caption"
                ),
            )


def line_problems(children: list[Token], source: str) -> Iterator[str]:
    """What a line of metadata Markdown (``source``, parsed into ``children``)
    holds that would print as syntax or lose words: the checks of the text's
    inline constructs (math, raw TeX, attributes that cannot be read) and raw
    HTML, once each."""
    said: set[str] = set()
    for child in children:
        problems = [message for _, message in _inline_problems(child, 1, [source], 1)]
        if child.type == "text":
            problems += [message for _, message in _raw_html(child, 1, [source], 1)]
        for message in problems:
            if message not in said:
                said.add(message)
                yield message
