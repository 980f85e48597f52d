"""Course readers: several works, or parts of works, as one volume.

A reader is defined in ``readers/<slug>.yaml``. Each reading is read from its
work's folder afresh (an excerpt numbers its own notes from 1) and given the id
namespace ``r<n>-<work>`` so the same work can stand in a volume twice. The
volume is read whole here; ``edition.resolve.volume`` then resolves each reading
on its own (its own "Ibid." chains and bibliography).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from pathlib import Path

from edition import ids
from edition import project as project_facts
from edition.diagnostics import Collector, suggest
from edition.fonts import scripts
from edition.model import BibEntry, Edition, ReaderMeta, Reading, SourceLocation, Work
from edition.read import bibliography, tablesize
from edition.read.markdown import metalines
from edition.read.markdown.parse import markdown_of, parse, plain_text, walk_inline
from edition.read.pdf.readings import PdfFiles, is_pdf_reading, read_pdf_reading
from edition.read.sandbox import Sandbox
from edition.read.schema import PARAGRAPH, Field, check_value, text, validate
from edition.read.sources import Mapping_, item_lines, load_yaml, read_text
from edition.read.tables import placed_ids
from edition.read.work import read_work

#: Longest introduction of a reader, in characters of Markdown.
INTRODUCTION = 50_000
#: Most readings in one reader: each reads its work afresh and keeps it.
MAX_READINGS = 200
READER_SCHEMA = {
    "title": Field(str, True),
    "course_code": Field(str, True),
    "instructor": Field(str, True),
    "institution": Field(str, True),
    "term": Field(str, True),
    "identifier": Field(str, True),
    "date": Field((str, int), True, date=True),
    "language": Field(str, True, language=True),
    "rights": Field(str, True, max_chars=PARAGRAPH),
    "introduction": Field(str, max_chars=INTRODUCTION),
    "permissions_page": Field(bool),
    "bibliography": Field(str),  # in bib/: the sources of the PDF readings
    "readings": Field(list, True, own_schema=True),  # READING_SCHEMA, or pdfreadings.SCHEMA
}
READING_SCHEMA = {
    "work": Field(str, True),
    "sections": Field(list, items=str),
    "documents": Field(list, items=int),
    "title": Field(str),
    "permissions": Field(str, max_chars=PARAGRAPH),
}
READING_KEYS = set(READING_SCHEMA)
#: The keys of a reader definition whose text the volume prints (lines of Markdown).
PRINTED = ("title", "course_code", "instructor", "institution", "term", "rights")


@dataclass(frozen=True)
class ReadVolume:
    """A course reader as read: its readings read, not yet resolved."""

    edition: Edition
    #: each work a reading takes from, read whole (a reading's links are checked against it)
    whole: dict[str, Work] = dataclasses.field(default_factory=dict)


def read_reader(project: Path, slug: str) -> ReadVolume:
    path = project / "readers" / f"{slug}.yaml"
    diags = Collector()
    if not ids.NAME_RE.match(slug):
        diags.error(SourceLocation(path), "file.name", f"a reader's file name must be {ids.NAME_RULE}; rename {slug!r}")
        diags.check()
    sandbox = Sandbox(project)
    source = read_text(sandbox, path, diags)
    mapping = load_yaml(source, path, diags) if source is not None else None
    diags.check()
    assert mapping is not None
    if not validate(mapping, READER_SCHEMA, path, diags, "reader definition"):
        diags.check()
    d = mapping.data
    metalines.check_fields(mapping, PRINTED, path, "reader definition", diags)
    metalines.check_list(mapping, "readings", ("title", "permissions"), path, "reader definition", diags)
    works = project_facts.works(project)
    if not d["readings"]:
        diags.error(
            SourceLocation(path, mapping.line("readings")), "meta.missing", "a reader needs at least one reading"
        )
    if len(d["readings"]) > MAX_READINGS:
        diags.error(
            SourceLocation(path, mapping.line_at("readings", MAX_READINGS)),
            "meta.length",
            f"more than {MAX_READINGS} readings; a reader may have at most {MAX_READINGS}: split it into several readers",
        )
        diags.check()
    bib_path, bib = _read_bib(sandbox, project, path, mapping, diags)
    readings: list[Work] = []
    volume = _Volume(project, sandbox, path, mapping, works, bib, bib_path, diags)
    try:
        for index, spec in enumerate(d["readings"], 1):
            part = volume.reading(index, spec)
            if part is not None:
                readings.append(part)
    finally:
        volume.pdf_files.close()
    intro_tokens = _introduction(mapping, path, diags)
    # the reader's bibliography prints too: the title pages of its PDF readings
    printed = [sandbox.absolute(p) for p in (path, bib_path) if p is not None]
    characters = scripts.check_files([(p, sandbox.texts[p]) for p in printed if p in sandbox.texts], diags)
    diags.check()
    reader = ReaderMeta(
        title=plain_text(d["title"]),
        title_markdown=markdown_of(d["title"]),
        course_code=d["course_code"],
        instructor=plain_text(d["instructor"]),
        institution=d["institution"],
        term=d["term"],
        identifier=d["identifier"],
        date=str(d["date"]),
        language=d["language"],
        rights=d["rights"],
        introduction=intro_tokens,
        definition=path,
        permissions_page=bool(d.get("permissions_page")),
        characters=characters,
    )
    edition = Edition(
        slug=slug,
        title=reader.title,
        identifier=reader.identifier,
        language=reader.language,
        parts=tuple(readings),
        reader=reader,
    )
    return ReadVolume(edition, volume.whole)


@dataclass
class _Volume:
    """What the readings of one reader share while they are read."""

    project: Path
    sandbox: Sandbox
    path: Path
    mapping: Mapping_
    works: list[str]
    bib: dict[str, BibEntry]
    bib_path: Path | None
    diags: Collector
    whole: dict[str, Work] = dataclasses.field(default_factory=dict)  # each work read whole once
    original_words: dict[str, int] = dataclasses.field(default_factory=dict)
    pdf_files: PdfFiles = dataclasses.field(default_factory=PdfFiles)  # each PDF read and measured once
    cells: int = 0  # the cells of the readings' tables so far

    def reading(self, index: int, spec: object) -> Work | None:
        """One reading of the volume, or ``None`` after its diagnostics."""
        mapping, path, diags = self.mapping, self.path, self.diags
        where = SourceLocation(path, mapping.line_at("readings", index - 1))
        if is_pdf_reading(spec):
            assert isinstance(spec, dict)
            lines = item_lines(mapping, "readings")
            item = lines[index - 1] if index <= len(lines) else {}
            language = mapping.data["language"]
            return read_pdf_reading(
                self.sandbox, path, index, spec, item, self.bib, self.bib_path, language, diags, self.pdf_files
            )
        if not isinstance(spec, dict) or "work" not in spec or set(map(str, spec)) - READING_KEYS:
            diags.error(
                where,
                "meta.type",
                f"reading {index} needs 'work' (or 'pdf') and may have {', '.join(sorted(READING_KEYS - {'work'}))}",
            )
            return None
        if not _valid_reading(spec, mapping, index, path, diags):
            return None
        work = spec["work"]
        if work not in self.works:
            diags.error(
                where, "meta.type", f"reading {index}: no work {work!r} in content/{suggest(str(work), self.works)}"
            )
            return None
        if work not in self.whole:
            self.whole[work] = self._read(work)
            self.original_words[work] = count_words(self.whole[work])
        if not _check_selection(spec, self.whole[work], mapping, index, path, diags):
            return None
        part = self._read(work, spec.get("sections"), spec.get("documents"))
        found = list(tablesize.edition_cells(part.all_sections, part.tables, placed_ids(part.all_sections)))
        over = tablesize.over_edition_limit(found, self.cells)  # the volume's tables, counted in every reading
        if over is not None:
            diags.error(where, "meta.length", f"reading {index}: {tablesize.edition_message(over[1])}")
            return None
        self.cells += sum(cells for _, cells in found)
        return _reading(index, spec, part, self.original_words[work])

    def _read(self, work: str, sections: list[str] | None = None, documents: list[int] | None = None) -> Work:
        """A work read afresh for a reading, what it reads counted with all the
        reader has read so far (the same work read twice counts twice): a
        reader of 200 readings of one large work is refused, not read 200 times."""
        sandbox = Sandbox(self.project, total=self.sandbox.total)
        try:
            return read_work(self.project, work, sections, documents, sandbox)
        finally:
            self.sandbox.total = sandbox.total


def _introduction(mapping: Mapping_, path: Path, diags: Collector) -> tuple:
    """The introduction's Markdown, checked as a section's is; it is the
    compiler's own text, so it has no notes, citations or images."""
    body = text(mapping.data.get("introduction"))
    if not body:
        return ()
    parsed = parse(body, path, mapping.line("introduction") + 1, diags, "introduction")
    if parsed.notes or parsed.citations or any(c.type == "image" for c, _ in walk_inline(parsed.tokens)):
        diags.error(
            SourceLocation(path, mapping.line("introduction")),
            "meta.type",
            "the introduction is the compiler's own text: notes, citations and images belong in the readings",
        )
    return tuple(parsed.tokens)


def _valid_reading(spec: dict, mapping: Mapping_, index: int, path: Path, diags: Collector) -> bool:
    ok = True
    for key, field in READING_SCHEMA.items():
        if spec.get(key) is not None:
            where = SourceLocation(path, mapping.line_at("readings", index - 1, key))
            ok = check_value(spec[key], field, where, f"{key!r} of reading {index}", diags) and ok
    return ok


def _check_selection(spec: dict, work: Work, mapping: Mapping_, index: int, path: Path, diags: Collector) -> bool:
    """The sections and documents a reading names exist in its work, and the
    reading holds something."""
    before = len(diags.items)
    stems = [s.location.path.stem for s in work.sections]
    for position, stem in enumerate(spec.get("sections") or []):
        if stem not in stems:
            diags.error(
                SourceLocation(path, mapping.line_at("readings", index - 1, "sections", position)),
                "reader.selection",
                f"reading {index}: no section {stem!r} in content/{spec['work']}/text/{suggest(stem, stems)}",
            )
    numbers = [d.number for d in work.documents]
    for position, number in enumerate(spec.get("documents") or []):
        if number not in numbers:
            known = ", ".join(str(n) for n in numbers) or "none"
            diags.error(
                SourceLocation(path, mapping.line_at("readings", index - 1, "documents", position)),
                "reader.selection",
                f"reading {index}: no document {number} in content/{spec['work']}/documents/ (it has {known})",
            )
    if spec.get("sections") == [] and spec.get("documents") == []:
        diags.error(
            SourceLocation(path, mapping.line_at("readings", index - 1)),
            "reader.selection",
            f"reading {index} selects no section and no document; name what it prints",
        )
    return len(diags.items) == before


def _read_bib(
    sandbox: Sandbox, project: Path, path: Path, mapping: Mapping_, diags: Collector
) -> tuple[Path | None, dict[str, BibEntry]]:
    """The reader's own bibliography (``bibliography: hist389.bib``, in bib/),
    read under the sandbox's rule."""
    name = mapping.data.get("bibliography")
    if not isinstance(name, str):
        return None, {}
    where = SourceLocation(path, mapping.line("bibliography"))
    if Path(name).is_absolute():
        diags.error(where, "resource.refused", f"bibliography {name!r} is an absolute path; name a file in bib/")
        return None, {}
    bib_path = project / "bib" / name
    source = read_text(sandbox, bib_path, diags, where, f"bibliography bib/{name}")
    if source is None:
        return None, {}
    return bib_path, bibliography.parse(source, bib_path, diags)


def _reading(index: int, spec: dict, part: Work, original_words: int) -> Work:
    sections = spec.get("sections")
    documents = spec.get("documents")
    if sections is None and documents is None:
        kind = "whole"
    elif not part.sections and part.documents:
        kind = "documents"
    else:
        kind = "excerpt"
    smart = part.meta.smart_quotes
    if spec.get("title"):  # the compiler's words, read as the reader's text
        written, smart = str(spec["title"]), True
    elif kind == "documents":
        written = "; ".join(d.title_markdown or d.title for d in part.documents)
    else:
        written = part.meta.title_markdown or part.meta.title
    written = " ".join(written.split())
    reading = Reading(
        work=spec["work"],
        kind=kind,
        title=plain_text(written, smart),
        title_markdown=markdown_of(written, smart),
        smart_quotes=smart,
        show_authors=kind != "documents",
        permissions=text(spec.get("permissions")),
        words=count_words(part),
        original_words=original_words,
    )
    return replace(part, slug=f"r{index}-{spec['work']}", reading=reading)


def count_words(work: Work) -> int:
    """Words of the work's own text: sections and documents, without notes."""
    total = sum(len(s.title.split()) for s in work.all_sections)
    for section in work.all_sections:
        for child, _ in walk_inline(list(section.tokens)):
            if child.type == "text":
                total += len(child.content.split())
    return total
