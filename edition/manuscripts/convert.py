"""Pandoc's reading of a manuscript, turned into the parts of a work.

What Word's model has and the work's Markdown prints differently is changed
here, in Pandoc's document model, never a word of the text:

- the text is cut into one section per top-level heading (the heading is the
  section's title); text before the first heading opens a section titled with
  the work's title; a single heading of the top level that opens the document
  is the work's title, and the next level makes the sections;
- headings are levelled: the section's first level below its title is ``##``,
  and a level is never skipped (PDF/UA asks for it);
- bookmarks and heading ids are dropped, except where a link of the text
  points to them (a link to a section's title points to the section);
- a note holds paragraphs only (a print footnote is set at its call): a
  quotation, list or table inside a note becomes its paragraphs, said in a
  warning; a note or citation in a heading (the build refuses it there) moves
  to the end of the paragraph after the heading, said in a warning;
- images lose their size (the edition sizes them) and point to their file in
  the work; a figure's caption is its description, and Word's alt text, when
  it differs, stays beside it as a comment the outputs do not show;
- equations (which the build does not typeset) stay as their TeX in code, said
  in a warning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from edition import ids
from edition.manuscripts import fields, images, tables
from edition.manuscripts.notices import Notices
from edition.manuscripts.package import Package
from edition.manuscripts.pandoc_ast import Node, map_lists, stringify, walk

#: Blocks a note may hold.
NOTE_BLOCKS = ("Para", "Plain")
#: Span classes the build prints; any other span is unwrapped (its words kept).
SPAN_CLASSES = ("smallcaps", "underline", "mark")


@dataclass
class Part:
    """A section of the work: its title (inlines) and its blocks."""

    title: list[Node]
    blocks: list[Node]
    stem: str = ""  # the file name without .md
    anchor: str = ""  # the heading's id in the manuscript


@dataclass
class Converted:
    title: list[Node]  # the work's title from a heading, if the text gives it so
    parts: list[Part]
    tables: list[tables.DataTable] = field(default_factory=list)
    images: images.Extracted = field(default_factory=images.Extracted)
    alt_missing: list[tuple[int, str]] = field(default_factory=list)  # (part index, image path)


def split(doc: dict[str, Any]) -> Converted:
    """The sections of the text, and the work's title if a heading gives it."""
    title, parts = _split(_unwrap_divs(doc["blocks"]))
    return Converted(title, parts)


def shape(package: Package, converted: Converted, work_title: list[Node], notices: Notices) -> None:
    """Make the sections the work's: titles, file names, headings, notes,
    images and tables (see the module's docstring)."""
    parts = converted.parts
    targets = {
        node["c"][2][0][1:]
        for node in walk([p.blocks for p in parts])
        if node["t"] == "Link" and node["c"][2][0].startswith("#")
    }
    for part in parts:
        if not part.title:
            part.title = copy.deepcopy(work_title)
    _name_parts(parts)
    _link_targets(parts, targets)
    for number, part in enumerate(parts):
        part.blocks = _level_headings(part.blocks)
        part.blocks = _move_out_of_headings(part.blocks, part, notices)
        part.blocks = [_clean_block(b, targets, notices) for b in part.blocks]
        part.blocks = [b for b in part.blocks if b is not None]
        part.title = _clean_title(part.title)
        if package.kind == "odt":
            _odt_notes(part)
        _notes_hold_paragraphs(part, notices)
        _place_images(package, part, number, converted)
        _place_tables(part, converted)
    _dead_links(parts, notices)


# -- structure --------------------------------------------------------------------------


def settle_bibliography(doc: dict[str, Any], cited: bool, notices: Notices) -> None:
    """The citation manager's bibliography (between the markers ``fields``
    put around it): left out when the document's citations carry their data
    (the build prints the bibliography from it), with a heading it leaves
    with nothing under it; else kept as the author's text."""
    blocks = _unwrap_divs(doc["blocks"])
    out: list[Node] = []
    index = 0
    while index < len(blocks):
        start = index
        if not _is_marker(blocks[start], fields.BIBLIOGRAPHY_START):
            out.append(blocks[start])
            index += 1
            continue
        end = next(
            (k for k in range(start + 1, len(blocks)) if _is_marker(blocks[k], fields.BIBLIOGRAPHY_END)), len(blocks)
        )
        index = end + 1
        if not cited:
            out += blocks[start + 1 : end]
            continue
        entries = sum(1 for b in blocks[start + 1 : end] if stringify(b).strip())
        after = blocks[index] if index < len(blocks) else None
        heading = out[-1] if out and out[-1]["t"] == "Header" else None
        what = f"the citation manager's bibliography ({entries} paragraph(s)) was"
        if heading is not None and (after is None or (after["t"] == "Header" and after["c"][0] <= heading["c"][0])):
            out.pop()
            title = " ".join(stringify(heading["c"][2]).split())
            what = (
                f"the heading '{title}' and the citation manager's bibliography under it ({entries} paragraph(s)) were"
            )
        notices.warn(
            "import.field",
            f"{what} left out: the build prints the bibliography of the works cited (under its own heading, "
            "'Bibliography') from the citations' data in the BibTeX file",
        )
    doc["blocks"] = map_lists(out, _without_markers)


def _is_marker(block: Node, text: str) -> bool:
    return block["t"] in ("Para", "Plain") and block["c"] == [{"t": "Str", "c": text}]


def _without_markers(items: list[Any]) -> list[Any]:
    """A marker Pandoc read inside another block (a table, a list) goes; the
    text between stays."""
    markers = (fields.BIBLIOGRAPHY_START, fields.BIBLIOGRAPHY_END)
    return [i for i in items if not (isinstance(i, dict) and any(_is_marker(i, m) for m in markers))]


def _unwrap_divs(blocks: list[Node]) -> list[Node]:
    """Divs (Word's custom styles, bookmarked blocks) are no part of the text's
    structure: their blocks stand in their place."""
    out: list[Node] = []
    for block in blocks:
        if block["t"] == "Div":
            out.extend(_unwrap_divs(block["c"][1]))
        else:
            out.append(block)
    return out


def _split(blocks: list[Node]) -> tuple[list[Node], list[Part]]:
    """(the work's title from a heading, or []; the sections)."""
    levels = [b["c"][0] for b in blocks if b["t"] == "Header" and stringify(b["c"][2]).strip()]
    if not levels:
        return [], [Part([], blocks)]
    top = min(levels)
    title: list[Node] = []
    first = next((b for b in blocks if b["t"] != "HorizontalRule"), None)
    if levels.count(top) == 1 and any(level > top for level in levels) and first is not None and first["t"] == "Header":
        title = first["c"][2]
        blocks = [b for b in blocks if b is not first]
        top = min(level for level in levels if level > top)
    parts: list[Part] = []
    current = Part([], [])
    for block in blocks:
        if block["t"] == "Header" and block["c"][0] == top and stringify(block["c"][2]).strip():
            if current.blocks or current.title:
                parts.append(current)
            current = Part(block["c"][2], [], anchor=block["c"][1][0])
        else:
            current.blocks.append(block)
    parts.append(current)
    return title, [p for p in parts if p.title or _has_text(p.blocks)]


def _has_text(blocks: list[Node]) -> bool:
    return any(node["t"] in ("Str", "Image", "Note", "Cite", "Table") for node in walk(blocks))


def _name_parts(parts: list[Part]) -> None:
    """``01-arrival``, ``02-work-and-figures``: the order and the title."""
    width = max(2, len(str(len(parts))))
    for number, part in enumerate(parts, 1):
        words = "-".join(ids.ascii_slug(stringify(part.title)).split("-")[:6]) or "section"
        part.stem = f"{number:0{width}d}-{words}"


def _link_targets(parts: list[Part], targets: set[str]) -> None:
    """A link to a section's heading, or to a bookmark in it, points to the
    section (its id is its file's)."""
    renamed = {}
    for part in parts:
        anchors = [part.anchor] + [n["c"][0][0] for n in walk(part.title) if n["t"] == "Span"]
        renamed |= {a: ids.file_id(part.stem) for a in anchors if a and a in targets}
    if not renamed:
        return
    for part in parts:
        for node in walk(part.blocks):
            if node["t"] == "Link" and node["c"][2][0][1:] in renamed:
                node["c"][2][0] = "#" + renamed[node["c"][2][0][1:]]


def _dead_links(parts: list[Part], notices: Notices) -> None:
    """A link to a place the work does not hold (a bookmark Pandoc could not
    place, one in a part of the file that is not the text) is kept as its
    words: the build refuses a link to no id."""
    held = {ids.file_id(p.stem) for p in parts}
    for node in walk([p.blocks for p in parts]):
        if node["t"] in ("Header", "Div", "Span"):
            held.add(node["c"][1][0] if node["t"] == "Header" else node["c"][0][0])
    for part in parts:
        dead: list[str] = []

        def keep_words(items: list[Any], dead: list[str] = dead) -> list[Any]:
            out: list[Any] = []
            for item in items:
                url = item["c"][2][0] if isinstance(item, dict) and item.get("t") == "Link" else ""
                if url.startswith("#") and url[1:] not in held:
                    dead.append(" ".join(stringify(item["c"][1]).split()))
                    out += item["c"][1]
                else:
                    out.append(item)
            return out

        part.blocks = map_lists(part.blocks, keep_words)
        for words in dead:
            notices.warn(
                "import.link",
                f"the link on '{words}' points to a place in the manuscript the work does not hold (a bookmark "
                "the import cannot place): its words are kept, without the link; link them again if needed "
                "(to a section: [words](#01-file-name))",
                notices.section(part.stem),
                words,
            )


def _level_headings(blocks: list[Node]) -> list[Node]:
    """Headings below the section's title from ``##`` on, never skipping a level."""
    out, stack = [], []  # stack: the manuscript's levels of the open headings
    for block in blocks:
        if block["t"] == "Header":
            level = block["c"][0]
            while stack and stack[-1] >= level:
                stack.pop()
            stack.append(level)
            block = {"t": "Header", "c": [len(stack) + 1, block["c"][1], block["c"][2]]}
        out.append(block)
    return out


def _move_out_of_headings(blocks: list[Node], part: Part, notices: Notices) -> list[Node]:
    """Notes and citations in a heading (or the section's title) move to the end
    of the next paragraph: the build refuses them in a heading."""
    moved_title = _take_calls(part.title)
    pending: list[Node] = list(moved_title)
    where = [stringify(part.title)] if moved_title else []
    out = []
    for block in blocks:
        if block["t"] == "Header":
            taken = _take_calls(block["c"][2])
            if taken:
                pending += taken
                where.append(stringify(block["c"][2]))
        elif pending and block["t"] in ("Para", "Plain"):
            block["c"] = block["c"] + pending
            pending = []
        out.append(block)
    if pending:
        out.append({"t": "Para", "c": pending})
    for heading in where:
        notices.warn(
            "import.moved",
            f"the heading '{heading.strip()}' held a note or citation, which a heading cannot hold: "
            "it is now at the end of the paragraph after the heading; check its place",
            notices.section(part.stem),
        )
    return out


def _take_calls(inlines: list[Node]) -> list[Node]:
    """Remove the notes and citations from ``inlines``, at any depth (in
    place); return them in their order."""
    taken: list[Node] = []
    kept: list[Node] = []
    for inline in inlines:
        if inline["t"] in ("Note", "Cite"):
            taken.append(inline)
            continue
        kept.append(inline)
        content = inline.get("c")
        if _is_inlines(content):
            taken += _take_calls(content)
        elif isinstance(content, list):  # a span's, link's or quotation's inlines beside its attributes
            for part in content:
                if _is_inlines(part):
                    taken += _take_calls(part)
    inlines[:] = kept
    return taken


def _is_inlines(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "t" in i for i in value)


def _clean_title(inlines: list[Node]) -> list[Node]:
    cleaned = _clean_inlines(copy.deepcopy(inlines), set(), None)
    return [{"t": "Space"} if i["t"] in ("LineBreak", "SoftBreak") else i for i in cleaned]


# -- blocks and inlines -------------------------------------------------------------------


def _clean_block(block: Node, targets: set[str], notices: Notices | None) -> Node | None:
    kind = block["t"]
    if kind in ("Para", "Plain"):
        inlines = _trim(_clean_inlines(block["c"], targets, notices))
        return {"t": kind, "c": inlines} if inlines else None
    if kind == "Header":
        level, attr, inlines = block["c"]
        ident = attr[0] if attr[0] in targets else ""
        inlines = _trim(_clean_inlines(inlines, targets, notices))
        inlines = [{"t": "Space"} if i["t"] in ("LineBreak", "SoftBreak") else i for i in inlines]
        return {"t": "Header", "c": [level, [ident, [], []], inlines]} if inlines else None
    if kind == "Figure":
        return _figure(block, targets, notices)
    if kind == "RawBlock":
        return None
    if kind == "Div":
        return {"t": "Div", "c": [block["c"][0], _clean_blocks(block["c"][1], targets, notices)]}
    if kind == "BlockQuote":
        inner = _clean_blocks(block["c"], targets, notices)
        return {"t": "BlockQuote", "c": inner} if inner else None
    if kind == "BulletList":
        items = [_clean_blocks(item, targets, notices) for item in block["c"]]
        return {"t": kind, "c": [i or [{"t": "Plain", "c": []}] for i in items]}
    if kind == "OrderedList":
        (start, _style, _delim), items = block["c"]
        items = [_clean_blocks(item, targets, notices) or [{"t": "Plain", "c": []}] for item in items]
        return {"t": kind, "c": [[start, {"t": "Decimal"}, {"t": "Period"}], items]}
    if kind == "DefinitionList":
        return {
            "t": kind,
            "c": [
                [_clean_inlines(term, targets, notices), [_clean_blocks(d, targets, notices) for d in defs]]
                for term, defs in block["c"]
            ],
        }
    if kind == "LineBlock":
        return {"t": kind, "c": [_clean_inlines(line, targets, notices) for line in block["c"]]}
    if kind == "Table":
        return _clean_table(block, targets, notices)
    return block  # CodeBlock, HorizontalRule


def _clean_blocks(blocks: list[Node], targets: set[str], notices: Notices | None) -> list[Node]:
    cleaned = [_clean_block(b, targets, notices) for b in blocks]
    return [b for b in cleaned if b is not None]


def _clean_table(block: Node, targets: set[str], notices: Notices | None) -> Node:
    table = copy.deepcopy(block)
    table["c"][0] = ["", [], []]
    for node in walk(table["c"][1:]):
        if node["t"] in ("Para", "Plain"):
            node["c"] = _trim(_clean_inlines(node["c"], targets, notices))
    return table


def _figure(block: Node, targets: set[str], notices: Notices | None) -> Node | None:
    """A figure as the work writes one: an image alone in its paragraph, the
    caption its description; Word's alt text beside it when it differs."""
    _attr, caption, content = block["c"]
    image = next((n for n in walk(content) if n["t"] == "Image"), None)
    if image is None:
        return None
    caption_inlines = [i for b in caption[1] if b["t"] in ("Para", "Plain") for i in b["c"]]
    alt = images.alt_text(image)
    description = _clean_inlines(caption_inlines, targets, notices) or image["c"][1]
    figure = {"t": "Para", "c": [{"t": "Image", "c": [image["c"][0], description, image["c"][2]]}]}
    if caption_inlines and alt and alt != " ".join(stringify(caption_inlines).split()):
        figure["alt_in_word"] = alt  # written beside it as a comment (see _place_images)
    return figure


def _trim(inlines: list[Node]) -> list[Node]:
    """No break or space at a paragraph's ends (a trailing hard break would
    print a backslash)."""
    while inlines and inlines[-1]["t"] in ("Space", "SoftBreak", "LineBreak"):
        inlines = inlines[:-1]
    while inlines and inlines[0]["t"] in ("Space", "SoftBreak", "LineBreak"):
        inlines = inlines[1:]
    return inlines


def _clean_inlines(inlines: list[Node], targets: set[str], notices: Notices | None) -> list[Node]:
    out: list[Node] = []
    for inline in inlines:
        kind = inline["t"]
        if kind == "Span":
            attr, content = inline["c"]
            content = _clean_inlines(content, targets, notices)
            classes = [c for c in attr[1] if c in SPAN_CLASSES]
            ident = attr[0] if attr[0] in targets else ""
            if classes or ident:
                out.append({"t": "Span", "c": [[ident, classes, []], content]})
            else:
                out.extend(content)
        elif kind == "Note":
            out.append({"t": "Note", "c": _clean_blocks(inline["c"], targets, notices)})
        elif kind == "Math":
            if notices is not None:
                notices.warn(
                    "import.equation",
                    f"an equation ({inline['c'][1][:40]}) is kept as its TeX in code, which the build prints as "
                    "written: replace it with text (x^2^, H~2~O) or an image with alt text",
                )
            out.append({"t": "Code", "c": [["", [], []], inline["c"][1]]})
        elif kind == "RawInline":
            continue
        elif kind == "Link":
            attr, content, (url, title) = inline["c"]
            content = _unlinked(_clean_inlines(content, targets, notices))
            out.append({"t": "Link", "c": [["", [], []], content, [url, ""]]})
        elif kind in ("Emph", "Strong", "Underline", "Strikeout", "Superscript", "Subscript", "SmallCaps"):
            content = _clean_inlines(inline["c"], targets, notices)
            if content:
                out.append({"t": kind, "c": content})
        elif kind == "Quoted":
            out.append({"t": "Quoted", "c": [inline["c"][0], _clean_inlines(inline["c"][1], targets, notices)]})
        elif kind == "Cite":
            out.append({"t": "Cite", "c": [inline["c"][0], []]})
        else:
            out.append(inline)
    return out


def _unlinked(inlines: list[Node]) -> list[Node]:
    """A link's text without links in it, at any depth (Word's hyperlink
    around a page reference, which is a link of its own): Markdown has no
    link in a link, and would print the inner one's brackets and target as text."""

    def expand(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            out += item["c"][1] if isinstance(item, dict) and item.get("t") == "Link" else [item]
        return out

    return map_lists(inlines, expand)


# -- notes ------------------------------------------------------------------------------


def _odt_notes(part: Part) -> None:
    """Pandoc's ODT reader reads a note's paragraphs as block quotations (the
    note style's indent): the note holds the paragraphs inside them."""
    for node in walk(part.blocks):
        if node["t"] == "Note":
            node["c"] = [
                inner for block in node["c"] for inner in (block["c"] if block["t"] == "BlockQuote" else [block])
            ]


def _notes_hold_paragraphs(part: Part, notices: Notices) -> None:
    for node in walk(part.blocks):
        if node["t"] != "Note":
            continue
        flat, changed = _paragraphs(node["c"])
        if changed:
            node["c"] = flat
            first = " ".join(" ".join(stringify(b["c"]) for b in flat).split()[:6])
            notices.warn(
                "import.note",
                f"the note beginning '{first}' held a quotation, list, table or heading, which a note cannot hold "
                "(a print footnote is set at its call): its words are kept as paragraphs; check it",
                notices.section(part.stem),
                "]: " + " ".join(stringify(flat[0]["c"]).split()[:3]) if flat else "",
            )


def _paragraphs(blocks: list[Node]) -> tuple[list[Node], bool]:
    out: list[Node] = []
    changed = False
    for block in blocks:
        kind = block["t"]
        if kind in NOTE_BLOCKS:
            out.append({"t": "Para", "c": block["c"]})
            continue
        changed = True
        if kind in ("BlockQuote", "Div"):
            inner, _ = _paragraphs(block["c"] if kind == "BlockQuote" else block["c"][1])
            out += inner
        elif kind in ("BulletList", "OrderedList"):
            items = block["c"] if kind == "BulletList" else block["c"][1]
            for item in items:
                out += _paragraphs(item)[0]
        elif kind == "Header":
            out.append({"t": "Para", "c": block["c"][2]})
        elif kind == "LineBlock":
            lines = [i for line in block["c"] for i in ([*line, {"t": "LineBreak"}])]
            out.append({"t": "Para", "c": _trim(lines)})
        elif kind == "CodeBlock":
            out.append({"t": "Para", "c": [{"t": "Code", "c": [["", [], []], block["c"][1]]}]})
        elif kind == "Table":
            for cell_blocks in _table_cells(block):
                out += _paragraphs(cell_blocks)[0]
        elif kind == "DefinitionList":
            for term, definitions in block["c"]:
                out.append({"t": "Para", "c": term})
                for definition in definitions:
                    out += _paragraphs(definition)[0]
        elif kind == "Figure":
            image = next((n for n in walk(block["c"][2]) if n["t"] == "Image"), None)
            if image is not None:
                out.append({"t": "Para", "c": [image]})
    return [b for b in out if b["c"]], changed


def _table_cells(table: Node) -> list[list[Node]]:
    _attr, caption, _specs, head, bodies, foot = table["c"]
    rows = head[1] + [r for body in bodies for r in body[2] + body[3]] + foot[1]
    cells = [caption[1]] + [cell[4] for row in rows for cell in row[1]]
    return [c for c in cells if c]


# -- images and tables ------------------------------------------------------------------


def _place_images(package: Package, part: Part, number: int, converted: Converted) -> None:
    out: list[Node] = []
    for block in part.blocks:
        alt_in_word = block.pop("alt_in_word", None) if isinstance(block, dict) else None
        for node in walk(block):
            if node["t"] == "Image":
                images.with_title_as_alt(node)
                src = images.extract(package, node, converted.images)
                node["c"] = images.plain_image(src, node["c"][1])["c"]
                if not images.alt_text(node):
                    converted.alt_missing.append((number, src))
        if alt_in_word:
            comment = "<!-- Word's alt text for the figure below: " + alt_in_word.replace("--", "- -") + " -->"
            out.append({"t": "RawBlock", "c": ["markdown", comment]})
        out.append(block)
    part.blocks = out


def _place_tables(part: Part, converted: Converted) -> None:
    taken = {t.ident for t in converted.tables}
    out = []
    for block in part.blocks:
        if block["t"] == "Table":
            caption = block["c"][1][1]
            ident = tables.table_id(caption, taken) if caption else ""
            data = tables.data_table(block, ident) if ident else None
            if data is not None:
                converted.tables.append(data)
                block = tables.placing_div(ident, data.caption)
        out.append(block)
    part.blocks = out
