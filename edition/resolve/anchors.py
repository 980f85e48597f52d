"""Every id an edition's outputs carry, and every internal link, checked at
the resolve stage.

The ids are our own data: the sections' file names, the documents' numbers,
the headings, the ``{#id}`` of a span or a div, the original-page markers,
the notes, the bibliography entries and the pages the edition adds (title
page, contents, appendix, ...). Two elements with one id, or a link to an id
no element has, make an EPUB that fails EPUBCheck and a PDF whose link goes
nowhere; so they are found here, always, and named with file and line.

A heading's id made from its text (Pandoc's, given at parse time: ``notes``,
``notes-1``) gives way to any other element's id: it is made unique here and
written on the heading token for the renderers. An explicit id that clashes
with anything is an error, as is a section file name or a document number
that gives an id another element has.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it.token import Token

from edition import ids
from edition.diagnostics import BuildFailed, Diagnostic, suggest
from edition.model import Edition, Section, SourceLocation, Work
from edition.read.markdown.parse import div_attrs, make_parser

#: Ids of the pages an edition adds to each work (local id -> the page that
#: holds it, ``None`` where the element is not a link target in every output).
RESERVED = {
    "titlepage": "titlepage",
    "title": "titlepage",
    "contents": "contents",
    "end": None,
    "appendix": "appendix",
    "bibliography": "bibliography",
    "bibliography-title": "bibliography",
    "note-on-the-text": "note-on-the-text",
    "note-on-the-text-title": "note-on-the-text",
}
#: How messages name them.
RESERVED_NAMES = {
    "titlepage": "the title page",
    "title": "the work's title",
    "contents": "the contents",
    "end": "the end of the work",
    "appendix": "the appendix heading",
    "bibliography": "the bibliography",
    "bibliography-title": "the bibliography's heading",
    "note-on-the-text": "the Note on the Text",
    "note-on-the-text-title": "the heading of the Note on the Text",
}
#: Ids a course reader adds to the volume, in its own namespace.
VOLUME_IDS = ("titlepage", "contents", "introduction", "introduction-title", "permissions", "permissions-title")

#: Elements whose ``{#id}`` the outputs do not carry (an inline image's; a
#: lone image's moves to its figure).
SILENT_IDS = ("link_open", "image")
#: How messages name an element with an explicit id, by token type.
ELEMENT_NAMES = {"span_open": "span", "figure_open": "figure", "code_inline": "code", "table_open": "table"}
#: What the fix is, by the kind of the element that came second.
FIXES = {
    "explicit": "choose another id",
    "file": "rename the file",
    "document": "give each document its own number",
    "page": "mark each page of the original once",
    "table": "place each table once",
}


@dataclass(frozen=True)
class Anchor:
    local: str  # the work-local id
    kind: str  # reserved | file | document | explicit | heading | page | table | note | reference
    what: str  # how a message names the element
    location: SourceLocation | None
    page: str | None  # the section slug or edition page that holds it; None if no link may point to it


@dataclass
class Registry:
    """A work's ids, in the order the outputs carry them, and the clashes found."""

    anchors: dict[str, Anchor] = field(default_factory=dict)
    problems: list[Diagnostic] = field(default_factory=list)
    suffixes: dict[str, int] = field(default_factory=dict)  # the last number unique() gave each id

    def add(self, anchor: Anchor) -> bool:
        first = self.anchors.get(anchor.local)
        if first is None:
            self.anchors[anchor.local] = anchor
            return True
        self.problems.append(_clash(anchor, first))
        return False

    def unique(self, local: str) -> str:
        """``local``, or ``local-1``, ``local-2``... if it is taken."""
        candidate, number = local, self.suffixes.get(local, 0)
        while candidate in self.anchors:
            number += 1
            candidate = f"{local}-{number}"  # Pandoc's rule: notes, notes-1, notes-2
        self.suffixes[local] = number
        return candidate

    def suggestible(self) -> list[str]:
        """The ids a writer links to (not notes, page markers or headings' ``-title``)."""
        return [
            local
            for local, a in self.anchors.items()
            if a.page is not None and a.kind not in ("note", "page", "reference") and not local.endswith("-title")
        ]

    def targets(self) -> dict[str, str]:
        """Local id -> the section slug or page that holds it, for every link target."""
        return {local: a.page for local, a in self.anchors.items() if a.page is not None}


def _clash(new: Anchor, first: Anchor) -> Diagnostic:
    where = f" ({first.location})" if first.location else ""
    if new.kind == "file" and first.kind == "file":
        message = (
            f"{new.what} and {first.what}{where} both become {new.local!r} in the outputs' ids and file names; "
            "rename one of them"
        )
    else:
        fix = FIXES.get(new.kind, "choose another id")
        message = f"{new.what} has the id {new.local!r}, which {first.what}{where} has already; {fix}"
    return Diagnostic(new.location, "id.duplicate", message)


def registry(work: Work) -> Registry:
    """Every id of one work (a whole work, or the part of it a reading prints)."""
    reg = Registry()
    _reserved(reg, work)
    for section in work.all_sections:
        _section(reg, work, section)
    for key, _html in work.bibliography:
        reg.add(Anchor(f"ref-{key}", "reference", f"the bibliography entry {key!r}", None, "bibliography"))
    return reg


def _reserved(reg: Registry, work: Work) -> None:
    exists = {
        "contents": work.reading is None,
        "appendix": bool(work.documents) and not work.documents_only,
        "bibliography": bool(work.bibliography),
        "note-on-the-text": bool(work.register) and not work.documents_only,
    }
    for local, page in RESERVED.items():
        if page in exists and not exists[page]:
            page = None  # the element is not in this edition: reserved, but no link target
        what = f"{RESERVED_NAMES[local]} (added by the edition)"
        reg.add(Anchor(local, "reserved", what, None, page))
    whole = work.reading is None or work.reading.kind == "whole"
    if work.meta.original_page and whole:
        _page(reg, work.meta.original_page, "titlepage", SourceLocation(work.root / "work.yaml"))
    if work.meta.appendix_original_page and exists["appendix"]:
        _page(reg, work.meta.appendix_original_page, "appendix", SourceLocation(work.root / "work.yaml"))


def _page(reg: Registry, page: int, holder: str, location: SourceLocation | None) -> None:
    reg.add(Anchor(f"op-{page}", "page", f"the start of original page {page}", location, holder))


def _section(reg: Registry, work: Work, section: Section) -> None:
    path = section.location.path
    if section.kind == "document":
        what, kind = f"document number {section.number} ({_shown(work, path)})", "document"
    else:
        what, kind = f"the section file {_shown(work, path)!r}", "file"
    if reg.add(Anchor(section.slug, kind, what, section.location, section.slug)):  # (one clash per file)
        reg.add(Anchor(f"{section.slug}-title", kind, f"the title of {what}", section.location, section.slug))
    if section.original_page:
        _page(reg, section.original_page, section.slug, section.location)
    for child, _line in _with_lines(section.tokens):
        if child.type == "footnote_ref":
            note = work.notes[child.meta["note_number"] - 1]
            for local in (f"note-{note.number}", f"noteref-{note.number}"):
                reg.add(Anchor(local, "note", f"note {note.number}", note.location, section.slug))
    note_tokens = [t for n in work.notes if n.location.path == path for t in n.tokens]
    add_tokens(reg, work, list(section.tokens) + note_tokens, section.slug, path)


def _shown(work: Work, path: Path) -> str:
    try:
        return path.relative_to(work.root).as_posix()
    except ValueError:
        return path.name


def add_tokens(reg: Registry, work: Work, tokens: Sequence[Token], holder: str, path: Path) -> None:
    """The ids the elements of a body give: explicit ids, headings (made
    unique), original-page markers and placed tables."""
    following = {id(token): tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token.type == "heading_open"}
    for token, line in _with_lines(tokens):
        where = SourceLocation(path, line)
        if token.type == "heading_open":
            _heading(reg, token, following.get(id(token)), holder, where)
        elif token.type == "container_div_open":
            ident, classes, _ = div_attrs(token.info)
            if ident and "table" in classes:
                if reg.add(Anchor(ident, "table", f"the table {ident!r} placed here", where, holder)):
                    _table_pages(reg, work, ident, holder, where)
            elif ident:
                reg.add(Anchor(ident, "explicit", f"the div {{#{ident}}}", where, holder))
        elif token.type == "span_open" and "op" in str(token.attrGet("class") or "").split():
            page = str(token.attrGet("n") or "")
            if page.isdigit():
                _page(reg, int(page), holder, where)
        elif token.attrs and token.attrGet("id") and token.type not in SILENT_IDS:
            ident = str(token.attrGet("id"))
            element = ELEMENT_NAMES.get(token.type, token.type.removesuffix("_open"))
            reg.add(Anchor(ident, "explicit", f"the {element} {{#{ident}}}", where, holder))


def _heading(reg: Registry, token: Token, inline: Token | None, holder: str, where: SourceLocation) -> None:
    """A heading's own ``{#id}`` must be unique; an id made from its text
    (Pandoc's, at parse time) gives way to any other element's."""
    ident = str(token.attrGet("id") or "")
    if ident and not token.meta.get("auto_id"):
        reg.add(Anchor(ident, "explicit", f"the heading id {{#{ident}}}", where, holder))
        return
    if not ident:  # a heading of metadata Markdown (an introduction)
        ident = ids.slugify(inline.content if inline is not None else "")
    if ident in reg.anchors:
        ident = reg.unique(ident)
    token.attrSet("id", ident)
    token.meta["auto_id"] = True
    reg.add(Anchor(ident, "heading", f"the heading at line {where.line} (its id made from its text)", where, holder))


def _table_pages(reg: Registry, work: Work, ident: str, holder: str, where: SourceLocation) -> None:
    table = work.tables.get(ident)
    if table is None:
        return
    for _key, page in table.original_pages.items():
        if isinstance(page, int):
            _page(reg, page, holder, where)


def _with_lines(tokens: Sequence[Token]) -> Iterator[tuple[Token, int | None]]:
    line = None
    for token in tokens:
        if token.map:
            line = token.map[0] + 1
        yield token, line
        for child in token.children or ():
            yield child, line


def links(work: Work) -> Iterator[tuple[str, SourceLocation]]:
    """Every internal link of a work's text and notes (``[see](#id)``, also
    inside a citation's prefix or suffix): the target's local id and where."""
    for section in work.all_sections:
        yield from _links(section.tokens, section.location.path)
    for note in work.notes:
        yield from _links(note.tokens, note.location.path, note.location.line)


def _links(tokens: Iterable[Token], path: Path, default: int | None = None) -> Iterator[tuple[str, SourceLocation]]:
    for token, line in _with_lines(list(tokens)):
        where = SourceLocation(path, line or default)
        if token.type == "link_open":
            href = str(token.attrGet("href") or "")
            if href.startswith("#"):
                yield href[1:], where
        elif token.type == "citation":  # its prefix or suffix, read without the citation rules
            for inner in _LINKS_ONLY.parseInline(token.content, {}):
                yield from _links(inner.children or [], path, line or default)


#: The Markdown parser without the citation rules: what a citation's text links to.
_LINKS_ONLY = make_parser()
_LINKS_ONLY.inline.ruler.disable(["citation", "narrative_citation"])


def check_links(reg: Registry, work: Work, elsewhere: Iterable[str] = ()) -> list[Diagnostic]:
    """A link to an id the work does not have (nor another reading of a volume)."""
    targets = reg.targets()
    known = set(targets) | set(elsewhere)
    problems = []
    for target, where in links(work):
        if target not in known:
            # (suggestions for the first few: each compares with every id)
            hint = suggest(target, reg.suggestible()) if len(problems) < 20 else ""
            problems.append(
                Diagnostic(
                    where,
                    "link.target",
                    f"link to '#{target}', which is no id in this work{hint}; link to a section, a document or an {{#id}}",
                )
            )
    return problems


def check_work(work: Work) -> list[Diagnostic]:
    """Clashes of a work's ids, and, for a whole work, its dangling links.

    A reading of a volume may leave out what its links point to; the volume
    checks those against the whole work (``check_edition``)."""
    reg = registry(work)
    problems = list(reg.problems)
    if work.reading is None:
        problems += check_links(reg, work)
    return problems


def check_edition(edition: Edition, wholes: dict[str, Work]) -> None:
    """A volume: every link of a reading points to an id of its work (a target
    the volume leaves out is printed unlinked), and no reading's ids clash
    with the volume's own (title page, contents, introduction, permissions)."""
    problems: list[Diagnostic] = []
    seen: dict[str, str] = {ids.output_id(edition.slug, local): "the reader" for local in VOLUME_IDS}
    checked: set[str] = set()
    for work in edition.parts:
        reg = registry(work)
        if edition.reader and work is edition.parts[0]:
            before = len(reg.problems)
            add_tokens(reg, work, list(edition.reader.introduction), "introduction", edition.reader.definition)
            problems += reg.problems[before:]
        for local in reg.anchors:
            full = ids.output_id(work.slug, local)
            if full in seen:
                problems.append(
                    Diagnostic(
                        SourceLocation(edition.reader.definition if edition.reader else work.root),
                        "id.duplicate",
                        f"the id {full!r} of {work.slug} is also an id of {seen[full]}; rename the reader",
                    )
                )
            seen.setdefault(full, work.slug)
        whole = wholes.get(work.reading.work) if work.reading else None
        if whole is not None and work.reading and work.reading.work not in checked:
            checked.add(work.reading.work)
            problems += check_links(registry(whole), whole)
    if problems:
        raise BuildFailed(problems)
