"""Read one work folder, ``content/<slug>/``, into a ``Work``.

Every problem in the folder is collected and raised together at the end.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from markdown_it.token import Token

from . import bibliography, mdblocks, mdcheck, scripts
from .diagnostics import Collector
from .markdown import Parsed, parse, walk_inline
from .model import (
    BibEntry,
    CitationStyle,
    Note,
    Person,
    RegisterEntry,
    Section,
    SourceLocation,
    Work,
    WorkMeta,
)
from .schema import Field, text, validate
from .sources import Mapping_, load_mapping, load_yaml, read_text, split_front_matter
from .styles import find_style
from .tables import check_placements, read_tables

WORK_SCHEMA = {
    "title": Field(str, True),
    "subtitle": Field(str),
    "short_title": Field(str),
    "authors": Field(list, True),
    "series": Field(str),
    "number": Field((int, str)),
    "series_editors": Field(list),
    "publisher": Field(str, True),
    "place": Field(str),
    "date": Field((str, int), True),
    "edition_date": Field((str, int)),
    "language": Field(str, True),
    "identifier": Field(str, True),
    "rights": Field(str, True),
    "abstract": Field(str),
    "source": Field(str),
    "bibliography": Field(str),
    "csl": Field(str),
    "copy_text": Field(str),
    "appendix_title": Field(str),
    "document_label": Field(str),
    "original_page": Field(int),
    "appendix_original_page": Field(int),
}
AUTHOR_KEYS = {"name", "sort_name", "affiliation"}
SECTION_SCHEMA = {"title": Field(str, True), "original_page": Field(int)}
DOCUMENT_SCHEMA = {
    "number": Field(int, True),
    "label": Field(str),
    "title": Field(str, True),
    "source_line": Field(str, True),
    "date": Field((str, int)),
    "cite": Field(str),
    "obtained_by": Field(str),
    "translated_by": Field(str),
    "original_page": Field(int),
}
#: A document's label when its front matter gives none; a work may set its own
#: pattern (``document_label`` in work.yaml) with ``{number}`` in it.
DOCUMENT_LABEL = "Document No. {number}"
REGISTER_KEYS = ("kind", "source", "edition", "source_line", "file", "why")


def read_work(project: Path, slug: str, sections: list[str] | None = None, documents: list[int] | None = None) -> Work:
    """Read ``content/<slug>/``; ``sections`` (file stems) and ``documents``
    (numbers) select an excerpt, whose notes are numbered from 1."""
    root = project / "content" / slug
    diags = Collector()
    meta_map = load_mapping(root / "work.yaml", diags)
    meta = _work_meta(meta_map, root / "work.yaml", diags) if meta_map else None
    style = _read_style(meta, meta_map, root, project, diags)
    tables = read_tables(root / "tables", diags)
    section_files = sorted((root / "text").glob("*.md"))
    document_files = sorted((root / "documents").glob("*.md"))
    if sections is not None:
        section_files = [p for p in section_files if p.stem in sections]
    reading = _Reading(slug, style.notes if style else True, set())
    parsed_sections = [_read_section(p, reading, diags) for p in section_files]
    label = meta.document_label if meta else DOCUMENT_LABEL
    parsed_documents = [_read_document(p, reading, label, diags) for p in document_files]
    if documents is not None:
        parsed_documents = [d for d in parsed_documents if d is None or d[0].number in documents]
    if not parsed_sections and not (root / "text").is_dir():
        diags.error(SourceLocation(root / "text"), "file.missing", "a work needs a text/ folder of Markdown files")
    parsed_documents.sort(key=lambda pair: pair[0].number if pair and pair[0].number else 0)
    register = _read_register(root / "editorial-register.yaml", diags)
    bib_path, bib = _read_bib(project, meta, root / "work.yaml", diags)
    _check_copy_text(root, meta, meta_map, diags)
    sections = tuple(s for s, _ in filter(None, parsed_sections))
    documents = tuple(s for s, _ in filter(None, parsed_documents))
    parses = [p for _, p in filter(None, parsed_sections + parsed_documents)]
    _link_headings(parses)
    notes = _number_notes(parses)
    check_placements(sections, tables, root, diags)
    _check_citations(parses, bib, bib_path, diags)
    _check_documents(documents, bib, diags)
    _check_images(parses, project, diags)
    for parsed in parses:
        mdcheck.check(parsed, diags)
    inputs = tuple(sorted(p for p in root.rglob("*") if p.is_file())) + ((bib_path,) if bib_path else ())
    characters = scripts.check_files(_printed_files(inputs, root, meta), diags)
    diags.check()
    assert meta is not None
    if style and style.path.is_relative_to(project.resolve()) and style.path not in inputs:
        inputs += (style.path,)
    return Work(
        slug=slug,
        root=root,
        meta=meta,
        sections=sections,
        documents=documents,
        tables=tables,
        notes=notes,
        register=register,
        bib=bib,
        bib_path=bib_path,
        inputs=inputs,
        style=style,
        characters=characters,
    )


@dataclass
class _Reading:
    """What reading one work's files shares: the slug, whether citations in
    the running text become notes, and the heading ids taken so far."""

    slug: str
    note_style: bool
    used_ids: set[str]


def _read_style(
    meta: WorkMeta | None, meta_map: Mapping_ | None, root: Path, project: Path, diags: Collector
) -> CitationStyle | None:
    if meta is None or meta_map is None:
        return None
    where = SourceLocation(root / "work.yaml", meta_map.line("csl") if meta.csl else None)
    return find_style(meta.csl, root, project, where, diags)


def _printed_files(inputs: tuple[Path, ...], root: Path, meta: WorkMeta | None) -> list[Path]:
    """The text files whose characters reach the outputs (not the copy-text,
    which is only attached to the PDF/A)."""
    copy_text = root / meta.copy_text if meta and meta.copy_text else None
    return [p for p in inputs if p.suffix in scripts.TEXT_SUFFIXES and p != copy_text]


def _work_meta(m: Mapping_, path: Path, diags: Collector) -> WorkMeta | None:
    if not validate(m, WORK_SCHEMA, path, diags, "work metadata"):
        return None
    authors = []
    for item in m.data["authors"]:
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or "name" not in item or set(item) - AUTHOR_KEYS:
            diags.error(
                SourceLocation(path, m.line("authors")),
                "meta.type",
                "each author needs 'name' and may have 'sort_name' and 'affiliation'",
            )
            return None
        authors.append(Person(str(item["name"]), text(item.get("sort_name")), text(item.get("affiliation"))))
    d = m.data
    if not _label_pattern_ok(text(d.get("document_label")) or DOCUMENT_LABEL):
        diags.error(
            SourceLocation(path, m.line("document_label")),
            "meta.type",
            "'document_label' must hold {number} and no other braces, as \"Document No. {number}\"",
        )
        return None
    return WorkMeta(
        title=d["title"],
        subtitle=text(d.get("subtitle")),
        short_title=text(d.get("short_title")),
        authors=tuple(authors),
        series=text(d.get("series")),
        number=text(d.get("number")),
        series_editors=tuple(str(e) for e in d.get("series_editors") or ()),
        publisher=d["publisher"],
        place=text(d.get("place")),
        date=str(d["date"]),
        edition_date=text(d.get("edition_date")),
        language=d["language"],
        identifier=d["identifier"],
        rights=d["rights"],
        abstract=text(d.get("abstract")),
        source=text(d.get("source")),
        bibliography=text(d.get("bibliography")),
        csl=text(d.get("csl")),
        copy_text=text(d.get("copy_text")),
        appendix_title=text(d.get("appendix_title")) or "Appendix",
        document_label=text(d.get("document_label")) or DOCUMENT_LABEL,
        original_page=d.get("original_page"),
        appendix_original_page=d.get("appendix_original_page"),
    )


def _label_pattern_ok(pattern: str) -> bool:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
    except ValueError:
        return False
    return fields == ["number"]


def _front(path: Path, diags: Collector) -> tuple[Mapping_, str, int] | None:
    source = read_text(path, diags)
    if source is None:
        return None
    front, body, first = split_front_matter(source)
    if front is None:
        diags.error(SourceLocation(path, 1), "meta.missing", "the file needs YAML front matter between '---' lines")
        return None
    mapping = load_yaml(front, path, diags, line_offset=1)
    return None if mapping is None else (mapping, body, first)


def _read_section(path: Path, reading: _Reading, diags: Collector) -> tuple[Section, Parsed] | None:
    loaded = _front(path, diags)
    if loaded is None:
        return None
    mapping, body, first = loaded
    if not validate(mapping, SECTION_SCHEMA, path, diags, "section front matter"):
        return None
    parsed = _parse(body, path, first, diags, f"{reading.slug}-{path.stem}", reading)
    section = Section(
        kind="chapter",
        slug=path.stem,
        title=mapping.data["title"],
        tokens=tuple(parsed.tokens),
        location=SourceLocation(path, 1),
        original_page=mapping.data.get("original_page"),
    )
    return section, parsed


def _read_document(path: Path, reading: _Reading, label: str, diags: Collector) -> tuple[Section, Parsed] | None:
    loaded = _front(path, diags)
    if loaded is None:
        return None
    mapping, body, first = loaded
    if not validate(mapping, DOCUMENT_SCHEMA, path, diags, "document front matter"):
        return None
    d = mapping.data
    parsed = _parse(body, path, first, diags, f"{reading.slug}-doc-{path.stem}", reading)
    section = Section(
        kind="document",
        slug=f"document-{d['number']}",
        title=d["title"],
        tokens=tuple(parsed.tokens),
        location=SourceLocation(path, 1),
        original_page=d.get("original_page"),
        number=d["number"],
        label=d.get("label") or label.format(number=d["number"]),
        source_line=d["source_line"],
        date=text(d.get("date")),
        cite=text(d.get("cite")),
        obtained_by=text(d.get("obtained_by")),
        translated_by=text(d.get("translated_by")),
    )
    return section, parsed


def _link_headings(parses: list[Parsed]) -> None:
    """``[Heading text]`` links to the heading of that text anywhere in the
    work (Pandoc's implicit header references; the first heading wins)."""
    headings: dict[str, str] = {}
    for parsed in parses:
        for i, token in enumerate(parsed.tokens):
            if token.type == "heading_open":
                text = " ".join(mdblocks.inline_text(parsed.tokens[i + 1].children or []).lower().split())
                headings.setdefault(text, str(token.attrGet("id")))
    for parsed in parses:
        mdblocks.link_headings(parsed.tokens, headings)
        for note in parsed.notes:
            mdblocks.link_headings(note.tokens, headings)


def _parse(body: str, path: Path, first: int, diags: Collector, prefix: str, reading: _Reading) -> Parsed:
    return parse(body, path, first, diags, prefix, reading.note_style, reading.used_ids)


def _number_notes(parses: list[Parsed]) -> tuple[Note, ...]:
    """Notes numbered through the work in the order of their calls.

    Each call token gets its note's number (``meta["note_number"]``), so the
    renderers never count.
    """
    notes: list[Note] = []
    for parsed in parses:
        base = len(notes)
        for child, _ in walk_inline(parsed.tokens + [t for n in parsed.notes for t in n.tokens]):
            if child.type == "footnote_ref":
                child.meta["note_number"] = base + child.meta["id"] + 1
        for pn in parsed.notes:
            number = len(notes) + 1
            citations = tuple(c for c in parsed.citations if _in_tokens(c.id, pn.tokens))
            notes.append(Note(pn.label, number, tuple(pn.tokens), pn.location, citations, pn.source, pn.auto))
    return tuple(notes)


def _in_tokens(citation_id: str, tokens: list[Token]) -> bool:
    return any(child.type == "citation" and child.meta.get("id") == citation_id for child, _ in walk_inline(tokens))


def _read_register(path: Path, diags: Collector) -> tuple[RegisterEntry, ...]:
    if not path.exists():
        return ()
    mapping = load_mapping(path, diags)
    if mapping is None:
        return ()
    entries = mapping.data.get("entries") or []
    out = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != set(REGISTER_KEYS):
            diags.error(
                SourceLocation(path, mapping.line("entries")),
                "meta.type",
                f"each register entry needs exactly the keys {', '.join(REGISTER_KEYS)}",
            )
            return ()
        out.append(RegisterEntry(**{k: entry[k] for k in REGISTER_KEYS}))
    return tuple(out)


def _read_bib(
    project: Path, meta: WorkMeta | None, meta_path: Path, diags: Collector
) -> tuple[Path | None, dict[str, BibEntry]]:
    if meta is None or not meta.bibliography:
        return None, {}
    path = project / "bib" / meta.bibliography
    if not path.exists():
        diags.error(SourceLocation(meta_path), "file.missing", f"bibliography bib/{meta.bibliography} does not exist")
        return None, {}
    return path, bibliography.load(path, diags)


def _check_copy_text(root: Path, meta: WorkMeta | None, meta_map: Mapping_ | None, diags: Collector) -> None:
    """The copy-text (the transcript the edition is made from) must be there and
    readable: it is embedded in the PDF/A as the edition's source witness."""
    if meta is None or meta_map is None or not meta.copy_text:
        return
    path = root / meta.copy_text
    if not path.is_file():
        diags.error(
            SourceLocation(root / "work.yaml", meta_map.line("copy_text")),
            "file.missing",
            f"copy-text {meta.copy_text!r} does not exist in the work's folder",
        )
        return
    read_text(path, diags)


def _check_citations(parses: list[Parsed], bib: dict[str, BibEntry], bib_path: Path | None, diags: Collector) -> None:
    from .diagnostics import suggest

    for parsed in parses:
        for citation in parsed.citations:
            for key in citation.keys:
                if key not in bib:
                    where = f"bib/{bib_path.name}" if bib_path else "the work's bibliography (none is set)"
                    diags.error(
                        citation.location,
                        "cite.unknown",
                        f"unknown citation key {key!r}: not in {where}{suggest(key, bib)}",
                    )


def _check_documents(documents: tuple[Section, ...], bib: dict[str, BibEntry], diags: Collector) -> None:
    from .diagnostics import suggest

    for document in documents:
        if document.cite and document.cite not in bib:
            diags.error(
                document.location,
                "cite.unknown",
                f"unknown citation key {document.cite!r} in 'cite'{suggest(document.cite, bib)}",
            )


def _check_images(parses: list[Parsed], project: Path, diags: Collector) -> None:
    for parsed in parses:
        for child, line in walk_inline(parsed.tokens):
            if child.type == "image":
                _check_resource(str(child.attrGet("src") or ""), parsed.path, line, project, diags)


def _check_resource(src: str, path: Path, line: int | None, project: Path, diags: Collector) -> None:
    where = SourceLocation(path, line)
    if ":" in src.split("/")[0]:
        diags.error(where, "resource.refused", f"{src!r}: only files inside the project may be used")
        return
    target = (path.parent / src).resolve()
    if not target.is_relative_to(project.resolve()):
        diags.error(where, "resource.refused", f"{src!r} is outside the project")
    elif not target.exists():
        diags.error(where, "file.missing", f"image {src!r} does not exist")
