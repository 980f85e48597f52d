"""Read one work folder, ``content/<slug>/``, into a ``Work``.

Every problem in the folder is collected and raised together at the end.
"""

from __future__ import annotations

import io
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from edition import ids
from edition.diagnostics import Collector
from edition.fonts import scripts
from edition.model import (
    BibEntry,
    CitationStyle,
    Image,
    Note,
    Person,
    RegisterEntry,
    Section,
    SourceLocation,
    Table,
    Work,
    WorkMeta,
)
from edition.read import bibliography, tablesize
from edition.read.markdown import blocks as mdblocks
from edition.read.markdown import check as mdcheck
from edition.read.markdown import metalines
from edition.read.markdown.parse import MAX_NOTES, Parsed, markdown_of, parse, plain_text, walk_inline
from edition.read.sandbox import IMAGES, Sandbox, place
from edition.read.schema import PARAGRAPH, Field, check_value, text, validate
from edition.read.sources import Mapping_, load_mapping, load_yaml, read_text, split_front_matter
from edition.read.styles import find_style
from edition.read.tables import check_placements, placed_ids, read_tables

#: Most section and document files in a work: each opens a page, so a few
#: thousand files of one line each would ask for thousands of pages.
MAX_FILES = 1000

WORK_SCHEMA = {
    "title": Field(str, True),
    "subtitle": Field(str),
    "short_title": Field(str),
    "authors": Field(list, True, own_schema=True),  # AUTHOR_SCHEMA
    "series": Field(str),
    "number": Field((int, str)),
    "series_editors": Field(list, items=str),
    "publisher": Field(str, True),
    "place": Field(str),
    "date": Field((str, int), True, date=True),
    "edition_date": Field((str, int), date=True),
    "language": Field(str, True, language=True),
    "identifier": Field(str, True),
    "rights": Field(str, True, max_chars=PARAGRAPH),
    "abstract": Field(str, max_chars=PARAGRAPH),
    "source": Field(str),
    "bibliography": Field(str),
    "csl": Field(str),
    "copy_text": Field(str),
    "appendix_title": Field(str),
    "document_label": Field(str),
    "smart_quotes": Field(bool),
    "original_page": Field(int, minimum=1),
    "appendix_original_page": Field(int, minimum=1),
}
AUTHOR_SCHEMA = {"name": Field(str, True), "sort_name": Field(str), "affiliation": Field(str)}
SECTION_SCHEMA = {"title": Field(str, True), "original_page": Field(int, minimum=1)}
DOCUMENT_SCHEMA = {
    "number": Field(int, True, minimum=1),
    "label": Field(str),
    "title": Field(str, True),
    "source_line": Field(str, True, max_chars=PARAGRAPH),
    "date": Field((str, int), date=True),
    "cite": Field(str),
    "obtained_by": Field(str),
    "translated_by": Field(str),
    "original_page": Field(int, minimum=1),
}
REGISTER_SCHEMA = {
    "kind": Field(str),
    "source": Field(str, max_chars=PARAGRAPH),
    "edition": Field(str, max_chars=PARAGRAPH),
    "source_line": Field(int, minimum=1),
    "file": Field(str),
    "why": Field(str, max_chars=PARAGRAPH),
}
REGISTER_KEYS = tuple(REGISTER_SCHEMA)
#: The keys of work.yaml whose text the edition prints (each is a line of Markdown).
PRINTED_META = (
    "title",
    "subtitle",
    "short_title",
    "series",
    "number",
    "publisher",
    "place",
    "rights",
    "abstract",
    "appendix_title",
    "document_label",
)
#: A document's label when its front matter gives none; a work may set its own
#: pattern (``document_label`` in work.yaml) with ``{number}`` in it.
DOCUMENT_LABEL = "Document No. {number}"
#: Image formats both outputs carry (EPUB 3 core media types Pillow reads), by Pillow's name.
IMAGE_FORMATS = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg"), "GIF": ("image/gif", ".gif")}
IMAGE_FORMATS["WEBP"] = ("image/webp", ".webp")
#: Largest image, in pixels (8000 x 5000): decoded, it takes 160 MB.
MAX_IMAGE_PIXELS = 40_000_000


#: Other names for Markdown files: the build reads ``.md`` only.
OTHER_MARKDOWN = (".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".mdtxt", ".mdtext")


def check_unread(folder: Path, diags: Collector) -> None:
    """What an author puts in text/ or documents/ expecting it to be read, and
    the build would skip without a word: a folder of sections, a Markdown file
    named otherwise than ``.md``."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith("~"):
            continue
        if path.is_dir() and not path.is_symlink() and _holds_markdown(path):
            diags.error(
                SourceLocation(path),
                "file.unread",
                f"a folder in {folder.name}/ is not read: move its Markdown files into {folder.name}/ "
                "(they are read in file-name order: 03-one.md, 04-two.md)",
            )
        elif path.is_file() and path.suffix.lower() in OTHER_MARKDOWN:
            diags.error(
                SourceLocation(path),
                "file.unread",
                f"only .md files are read: rename it {path.stem}.md (or move it out of {folder.name}/)",
            )


def _holds_markdown(folder: Path) -> bool:
    for _, _, names in os.walk(folder):  # symbolic links to folders are not followed
        if any(Path(n).suffix.lower() in (".md", *OTHER_MARKDOWN) for n in names):
            return True
    return False


def markdown_files(folder: Path) -> list[Path]:
    """A folder's Markdown files in name order; hidden files (an editor's lock
    or swap file) are no part of the work."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if not p.name.startswith("."))


def read_work(
    project: Path,
    slug: str,
    sections: list[str] | None = None,
    documents: list[int] | None = None,
    sandbox: Sandbox | None = None,
) -> Work:
    """Read ``content/<slug>/``; ``sections`` (file stems) and ``documents``
    (numbers) select an excerpt, whose notes are numbered from 1.

    Every file is read through one ``Sandbox`` (a fresh one, or a reader's for
    this reading, which counts what the reader read before it); the files it
    opened are the work's ``inputs`` (the sources the PDF/A embeds), and
    nothing else."""
    root = project / "content" / slug
    sandbox = sandbox if sandbox is not None else Sandbox(project)
    diags = Collector()
    _check_folder(root, slug, sandbox, diags)
    diags.check()
    meta_map = load_mapping(sandbox, root / "work.yaml", diags)
    meta = _work_meta(meta_map, root / "work.yaml", diags) if meta_map else None
    style = _read_style(sandbox, meta, meta_map, root, diags)
    section_files = markdown_files(root / "text")
    document_files = markdown_files(root / "documents")
    check_unread(root / "text", diags)
    check_unread(root / "documents", diags)
    if len(section_files) + len(document_files) > MAX_FILES:
        extra = (section_files + document_files)[MAX_FILES]
        diags.error(
            SourceLocation(extra),
            "md.size",
            f"more than {MAX_FILES} section and document files; a work may have at most {MAX_FILES} "
            "(each opens a page): split it into several works",
        )
        diags.check()
    if sections is not None:
        section_files = [p for p in section_files if p.stem in sections]
    reading = _Reading(slug, style.notes if style else True, mdblocks.TakenIds(), meta.smart_quotes if meta else True)
    parsed_sections = [_read_section(sandbox, p, reading, diags) for p in section_files]
    tables = read_tables(sandbox, root / "tables", diags)
    label = meta.document_label if meta else DOCUMENT_LABEL
    parsed_documents = [_read_document(sandbox, p, reading, label, diags) for p in document_files]
    if documents is not None:
        parsed_documents = [d for d in parsed_documents if d is None or d[0].number in documents]
    if not parsed_sections and not (root / "text").is_dir():
        diags.error(SourceLocation(root / "text"), "file.missing", "a work needs a text/ folder of Markdown files")
    parsed_documents.sort(key=lambda pair: pair[0].number if pair and pair[0].number else 0)
    register = _read_register(sandbox, root / "editorial-register.yaml", diags)
    bib_path, bib = _read_bib(sandbox, project, meta, meta_map, root / "work.yaml", diags)
    _check_copy_text(sandbox, root, meta, meta_map, diags)
    sections = tuple(s for s, _ in filter(None, parsed_sections))
    documents = tuple(s for s, _ in filter(None, parsed_documents))
    parses = [p for _, p in filter(None, parsed_sections + parsed_documents)]
    _link_headings(parses)
    notes = _number_notes(parses, diags)
    check_placements(sections, tables, root, diags)
    _check_cells(sections + documents, tables, diags)
    bib_readable = not (meta and meta.bibliography and bib_path is None)  # (an unreadable one has its own diagnostic)
    if bib_readable:
        _check_citations(parses, bib, bib_path, diags)
        _check_documents(documents, bib, diags)
    bib_name = f"bib/{bib_path.name}" if bib_path else "the work's bibliography (none is set)"
    metalines.check_table_lines(tables.values(), bib if bib_readable else None, bib_name, diags)
    images = _read_images(parses, sandbox, diags)
    for parsed in parses:
        mdcheck.check(parsed, diags)
    printed = _printed_files(tuple(sandbox.texts), root, meta)
    characters = scripts.check_files([(p, sandbox.texts[p]) for p in printed], diags)
    diags.check()
    assert meta is not None
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
        inputs=_used(tuple(sandbox.opened), root / "tables", placed_ids(sections)),
        images=images,
        style=style,
        characters=characters,
    )


def _used(opened: tuple[Path, ...], tables: Path, placed: set[str]) -> tuple[Path, ...]:
    """The files the edition is made from: every file read, but a table the
    text never places (read and checked all the same) is not published (a
    ``tables/salaries.csv`` lying in the folder never reaches the PDF/A)."""
    return tuple(
        p for p in opened if not (p.parent == tables and p.suffix in (".csv", ".yaml") and p.stem not in placed)
    )


@dataclass
class _Reading:
    """What reading one work's files shares: the slug, whether citations in
    the running text become notes, and the heading ids taken so far."""

    slug: str
    note_style: bool
    used_ids: set[str]
    smart: bool = True  # Pandoc's smart quotes


def _read_style(
    sandbox: Sandbox, meta: WorkMeta | None, meta_map: Mapping_ | None, root: Path, diags: Collector
) -> CitationStyle | None:
    if meta is None or meta_map is None:
        return None
    where = SourceLocation(root / "work.yaml", meta_map.line("csl") if meta.csl else None)
    return find_style(meta.csl, root, sandbox, where, diags)


def _check_cells(sections: tuple[Section, ...], tables: dict[str, Table], diags: Collector) -> None:
    """The cells of all the work's tables (Markdown, and CSV tables placed) within the limit for an edition."""
    over = tablesize.over_edition_limit(tablesize.edition_cells(sections, tables, placed_ids(sections)))
    if over is not None:
        where, total = over
        code = "csv.size" if where.path.suffix == ".csv" else "md.size"
        diags.error(where, code, tablesize.edition_message(total))


def _printed_files(inputs: tuple[Path, ...], root: Path, meta: WorkMeta | None) -> list[Path]:
    """The text files whose characters reach the outputs (not the copy-text,
    which is only attached to the PDF/A)."""
    copy_text = root / meta.copy_text if meta and meta.copy_text else None
    return [p for p in inputs if p.suffix in scripts.TEXT_SUFFIXES and p != copy_text]


def _check_folder(root: Path, slug: str, sandbox: Sandbox, diags: Collector) -> None:
    """The work's folder: a safe name, inside the project (not a link out of it)."""
    if not ids.NAME_RE.match(slug):
        diags.error(SourceLocation(root), "file.name", f"a work's folder name must be {ids.NAME_RULE}; rename {slug!r}")
        return
    refusal = place(root, [sandbox.project], "the work's folder", sandbox.project)
    if refusal is not None:
        diags.error(SourceLocation(root), refusal.code, refusal.message)


def _work_meta(m: Mapping_, path: Path, diags: Collector) -> WorkMeta | None:
    if not validate(m, WORK_SCHEMA, path, diags, "work metadata"):
        return None
    authors = _authors(m, path, diags)
    if authors is None:
        return None
    metalines.check_fields(m, PRINTED_META, path, "work metadata", diags)
    metalines.check_list(m, "authors", ("name", "affiliation", "sort_name"), path, "work metadata", diags)
    metalines.check_list(m, "series_editors", (), path, "work metadata", diags)
    d = m.data
    problem = label_pattern_problem(text(d.get("document_label")) or DOCUMENT_LABEL)
    if problem:
        diags.error(
            SourceLocation(path, m.line("document_label")),
            "meta.type",
            f"'document_label' is {d['document_label']!r}: {problem}; write text with {{number}} once in it, "
            'as "Document No. {number}" (no other braces, no format)',
        )
        return None
    smart = d.get("smart_quotes", True) is not False
    return WorkMeta(
        title=plain_text(d["title"], smart),
        title_markdown=markdown_of(d["title"], smart),
        subtitle=plain_text(text(d.get("subtitle")), smart),
        subtitle_markdown=markdown_of(text(d.get("subtitle")), smart),
        short_title=plain_text(text(d.get("short_title")), smart),
        authors=tuple(authors),
        series=text(d.get("series")),
        number=text(d.get("number")),
        series_editors=tuple(plain_text(str(e), smart) for e in d.get("series_editors") or ()),
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
        smart_quotes=smart,
        original_page=d.get("original_page"),
        appendix_original_page=d.get("appendix_original_page"),
    )


#: What a document label pattern holds: text, and ``{number}`` once. Parsed
#: here, never handed to ``str.format`` (``{number:>1500000000}`` is a
#: gigabyte of spaces, ``{number.__class__}`` an attribute).
NUMBER_FIELD = "{number}"


def label_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a document label pattern; None if it is."""
    fields = re.findall(r"\{[^{}]*\}?|\}", pattern)
    others = [f for f in fields if f != NUMBER_FIELD]
    if others:
        return f"{others[0]!r} is not {NUMBER_FIELD}"
    if len(fields) != 1:
        return f"it holds {NUMBER_FIELD} " + ("more than once" if fields else "nowhere")
    return None


def document_label(pattern: str, number: int) -> str:
    """A document's label from its work's pattern (checked by ``label_pattern_problem``)."""
    return pattern.replace(NUMBER_FIELD, str(number))


def _authors(m: Mapping_, path: Path, diags: Collector) -> list[Person] | None:
    """Each author is a name, or a mapping of 'name', 'sort_name' and
    'affiliation', each of them text."""
    authors, before = [], len(diags.items)
    smart = m.data.get("smart_quotes", True) is not False
    if not m.data["authors"]:
        diags.error(SourceLocation(path, m.line("authors")), "meta.missing", "work metadata needs at least one author")
    for index, item in enumerate(m.data["authors"]):
        where = SourceLocation(path, m.line_at("authors", index))
        name = f"author {index + 1}"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or "name" not in item or set(map(str, item)) - set(AUTHOR_SCHEMA):
            diags.error(where, "meta.type", "each author needs 'name' and may have 'sort_name' and 'affiliation'")
            continue
        for key, spec in AUTHOR_SCHEMA.items():
            if item.get(key) is not None:
                inner = SourceLocation(path, m.line_at("authors", index, key))
                check_value(item[key], spec, inner, f"{key!r} of {name}", diags)
        if len(diags.items) == before:
            # a name prints as text everywhere (title page, running heads, metadata)
            name, sort_name = plain_text(item["name"], smart), plain_text(text(item.get("sort_name")), smart)
            authors.append(Person(name, sort_name, text(item.get("affiliation"))))
    return authors if len(diags.items) == before else None


def _front(sandbox: Sandbox, path: Path, diags: Collector) -> tuple[Mapping_, str, int] | None:
    source = read_text(sandbox, path, diags)
    if source is None:
        return None
    front, body, first = split_front_matter(source)
    if front is None:
        diags.error(SourceLocation(path, 1), "meta.missing", "the file needs YAML front matter between '---' lines")
        return None
    mapping = load_yaml(front, path, diags, line_offset=1)
    return None if mapping is None else (mapping, body, first)


def _read_section(sandbox: Sandbox, path: Path, reading: _Reading, diags: Collector) -> tuple[Section, Parsed] | None:
    loaded = _front(sandbox, path, diags)
    if loaded is None:
        return None
    mapping, body, first = loaded
    if not validate(mapping, SECTION_SCHEMA, path, diags, "section front matter"):
        return None
    metalines.check_fields(mapping, ("title",), path, "section front matter", diags)
    parsed = _parse(body, path, first, diags, f"{reading.slug}-{path.stem}", reading)
    section = Section(
        kind="chapter",
        slug=ids.file_id(path.stem),
        title=plain_text(mapping.data["title"], reading.smart),
        title_markdown=markdown_of(mapping.data["title"], reading.smart),
        tokens=tuple(parsed.tokens),
        location=SourceLocation(path, 1),
        original_page=mapping.data.get("original_page"),
    )
    return section, parsed


def _read_document(
    sandbox: Sandbox, path: Path, reading: _Reading, label: str, diags: Collector
) -> tuple[Section, Parsed] | None:
    loaded = _front(sandbox, path, diags)
    if loaded is None:
        return None
    mapping, body, first = loaded
    if not validate(mapping, DOCUMENT_SCHEMA, path, diags, "document front matter"):
        return None
    metalines.check_fields(mapping, ("title", "label", "source_line"), path, "document front matter", diags)
    d = mapping.data
    parsed = _parse(body, path, first, diags, f"{reading.slug}-doc-{path.stem}", reading)
    section = Section(
        kind="document",
        slug=f"document-{d['number']}",
        title=plain_text(d["title"], reading.smart),
        title_markdown=markdown_of(d["title"], reading.smart),
        tokens=tuple(parsed.tokens),
        location=SourceLocation(path, 1),
        original_page=d.get("original_page"),
        number=d["number"],
        label=d.get("label") or document_label(label, d["number"]),
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
    return parse(body, path, first, diags, prefix, reading.note_style, reading.used_ids, reading.smart)


def _number_notes(parses: list[Parsed], diags: Collector) -> tuple[Note, ...]:
    """Notes numbered through the work in the order of their calls.

    Each call token gets its note's number (``meta["note_number"]``), so the
    renderers never count. A work has at most ``MAX_NOTES``."""
    notes: list[Note] = []
    for parsed in parses:
        base = len(notes)
        by_id = {c.id: c for c in parsed.citations}
        for child, _ in walk_inline(parsed.tokens + [t for n in parsed.notes for t in n.tokens]):
            if child.type == "footnote_ref":
                child.meta["note_number"] = base + child.meta["id"] + 1
        for pn in parsed.notes:
            number = len(notes) + 1
            if number == MAX_NOTES + 1:
                diags.error(
                    pn.location,
                    "md.size",
                    f"more than {MAX_NOTES} notes; a work may have at most {MAX_NOTES}: split it into several works",
                )
            citations = tuple(
                by_id[c.meta["id"]]
                for c, _ in walk_inline(pn.tokens)
                if c.type == "citation" and c.meta.get("id") in by_id
            )
            notes.append(Note(pn.label, number, tuple(pn.tokens), pn.location, citations, pn.source, pn.auto))
    return tuple(notes)


def _read_register(sandbox: Sandbox, path: Path, diags: Collector) -> tuple[RegisterEntry, ...]:
    if not path.exists() and not path.is_symlink():
        return ()
    mapping = load_mapping(sandbox, path, diags)
    if mapping is None or not validate(mapping, {"entries": Field(list)}, path, diags, "the editorial register"):
        return ()
    out = []
    for index, entry in enumerate(mapping.data.get("entries") or []):
        where = SourceLocation(path, mapping.line_at("entries", index))
        if not isinstance(entry, dict) or set(map(str, entry)) != set(REGISTER_KEYS):
            diags.error(where, "meta.type", f"each register entry needs exactly the keys {', '.join(REGISTER_KEYS)}")
            return ()
        for key, spec in REGISTER_SCHEMA.items():
            inner = SourceLocation(path, mapping.line_at("entries", index, key))
            if not check_value(entry[key], spec, inner, f"{key!r} of register entry {index + 1}", diags):
                return ()
        out.append(RegisterEntry(**{k: entry[k] for k in REGISTER_KEYS}))
    return tuple(out)


def _read_bib(
    sandbox: Sandbox, project: Path, meta: WorkMeta | None, meta_map: Mapping_ | None, meta_path: Path, diags: Collector
) -> tuple[Path | None, dict[str, BibEntry]]:
    """The work's BibTeX file, named in work.yaml relative to bib/."""
    if meta is None or meta_map is None or not meta.bibliography:
        return None, {}
    where = SourceLocation(meta_path, meta_map.line("bibliography"))
    name = f"bibliography bib/{meta.bibliography}"
    written = Path(meta.bibliography)
    path = project / "bib" / written
    if written.is_absolute():
        _absolute(path, f"bibliography {meta.bibliography!r}", "name a file in bib/", where, sandbox, diags)
        return None, {}
    source = read_text(sandbox, path, diags, where, name)
    if source is None:
        return None, {}
    return path, bibliography.parse(source, path, diags)


def _absolute(path: Path, name: str, fix: str, where: SourceLocation, sandbox: Sandbox, diags: Collector) -> None:
    """An absolute path is refused: outside the project, or, inside it, because
    the project must build wherever it is copied."""
    refusal = place(path, [sandbox.project], name, sandbox.project)
    if refusal is not None:
        diags.error(where, refusal.code, refusal.message)
    else:
        diags.error(where, "resource.refused", f"{name} is an absolute path; {fix}")


def _check_copy_text(
    sandbox: Sandbox, root: Path, meta: WorkMeta | None, meta_map: Mapping_ | None, diags: Collector
) -> None:
    """The copy-text (the transcript the edition is made from) must be there and
    readable: it is embedded in the PDF/A as the edition's source witness."""
    if meta is None or meta_map is None or not meta.copy_text:
        return
    where = SourceLocation(root / "work.yaml", meta_map.line("copy_text"))
    name = f"copy-text {meta.copy_text!r}"
    if Path(meta.copy_text).is_absolute():
        _absolute(Path(meta.copy_text), name, "name a file in the work's folder", where, sandbox, diags)
        return
    read_text(sandbox, root / meta.copy_text, diags, where, name)


def _check_citations(parses: list[Parsed], bib: dict[str, BibEntry], bib_path: Path | None, diags: Collector) -> None:
    from edition.diagnostics import suggest

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
    from edition.diagnostics import suggest

    for document in documents:
        if document.cite and document.cite not in bib:
            diags.error(
                document.location,
                "cite.unknown",
                f"unknown citation key {document.cite!r} in 'cite'{suggest(document.cite, bib)}",
            )


def _read_images(parses: list[Parsed], sandbox: Sandbox, diags: Collector) -> dict[str, Image]:
    """Every image the text shows, read through the sandbox and checked to be
    a PNG, JPEG, GIF or WebP of at most ``MAX_IMAGE_PIXELS``. Each image token
    gets the key of its file (``meta["image"]``), so the renderers never look
    for files."""
    images: dict[str, Image] = {}
    for parsed in parses:
        for child, line in walk_inline(parsed.tokens + [t for n in parsed.notes for t in n.tokens]):
            if child.type == "image":
                where = SourceLocation(parsed.path, line)
                key = _read_image(str(child.attrGet("src") or ""), parsed.path, where, sandbox, images, diags)
                if key:
                    child.meta["image"] = key
    return images


def _read_image(
    src: str, path: Path, where: SourceLocation, sandbox: Sandbox, images: dict[str, Image], diags: Collector
) -> str | None:
    # markdown-it percent-encodes a link's destination (`my map.png` -> `my%20map.png`)
    written = unquote(src)
    name = f"image {written!r}"
    if ":" in written.split("/")[0]:
        diags.error(where, "resource.refused", f"{name}: only files inside the project may be used")
        return None
    file = Path(os.path.normpath(path.parent / written))
    if Path(written).is_absolute():
        _absolute(file, name, "write it relative to the text's file", where, sandbox, diags)
        return None
    key = file.relative_to(sandbox.project).as_posix() if file.is_relative_to(sandbox.project) else str(file)
    if key in images:
        return key
    data = sandbox.read_bytes(file, diags, where, name, IMAGES)
    if data is None:
        return None
    kind = _image_kind(data, name, where, diags)
    if kind is None:
        return None
    media_type, suffix = kind
    images[key] = Image(file, data, media_type, _unique_name(ids.file_id(file.stem), suffix, images))
    return key


def _unique_name(stem: str, suffix: str, images: dict[str, Image]) -> str:
    """The image's file name in the EPUB: safe, and not one another image has
    (``map.png`` in two folders becomes ``map.png`` and ``map-2.png``)."""
    taken = {image.name for image in images.values()}
    name, number = f"{stem}{suffix}", 1
    while name in taken:
        number += 1
        name = f"{stem}-{number}{suffix}"
    return name


def _image_kind(data: bytes, name: str, where: SourceLocation, diags: Collector) -> tuple[str, str] | None:
    """``(media type, suffix)`` of an image both outputs can carry, or ``None``
    after a diagnostic. Only the header is read: no pixels are decoded."""
    from PIL import Image as PillowImage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with PillowImage.open(io.BytesIO(data)) as image:
                format_, (width, height) = image.format, image.size
        except PillowImage.DecompressionBombError:  # Pillow's own, larger limit
            format_, width, height = "PNG", MAX_IMAGE_PIXELS, 2
        except (OSError, SyntaxError, ValueError):
            format_, width, height = None, 0, 0
    if format_ not in IMAGE_FORMATS:
        diags.error(
            where,
            "file.unreadable",
            f"{name} is not a PNG, JPEG, GIF or WebP image; save it as PNG (a drawing, an SVG) or JPEG (a photograph)",
        )
        return None
    if width * height > MAX_IMAGE_PIXELS:
        diags.error(where, "file.size", f"{name} has more than {MAX_IMAGE_PIXELS} pixels; scale it down")
        return None
    return IMAGE_FORMATS[format_]
