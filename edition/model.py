"""The document model: plain frozen dataclasses, no I/O.

Readers build these from ``content/``; ``resolve`` numbers notes and formats
citations; renderers only read them. Everything a reader produced carries a
``SourceLocation`` so a later phase can still name the file and line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it.token import Token


@dataclass(frozen=True)
class SourceLocation:
    path: Path
    line: int | None = None

    def __str__(self) -> str:
        try:
            shown = os.path.relpath(self.path)
        except ValueError:
            shown = str(self.path)
        if shown.startswith(".."):
            shown = str(self.path)
        return f"{shown}:{self.line}" if self.line else shown


@dataclass(frozen=True)
class Person:
    name: str
    sort_name: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class WorkMeta:
    title: str  # plain text; the Markdown as written in title_markdown when it has any
    authors: tuple[Person, ...]
    language: str
    identifier: str
    date: str
    rights: str
    publisher: str
    subtitle: str = ""
    title_markdown: str = ""  # the title as written, when it holds Markdown ("The *Porto Franco*")
    subtitle_markdown: str = ""
    edition_date: str = ""  # this edition's date; the build's timestamps come from it
    short_title: str = ""
    series: str = ""
    number: str = ""
    series_editors: tuple[str, ...] = ()
    place: str = ""
    abstract: str = ""
    source: str = ""
    bibliography: str = ""
    csl: str = ""  # the citation style, as the work names it ("" for the default)
    copy_text: str = ""  # the transcript the edition was made from, relative to the work folder
    appendix_title: str = "Appendix"
    smart_quotes: bool = True  # straight quotes typed become curly, as Pandoc's `smart`
    document_label: str = "Document No. {number}"  # a document's label when its front matter has none
    original_page: int | None = None
    appendix_original_page: int | None = None

    @property
    def author_line(self) -> str:
        names = [a.name for a in self.authors]
        if len(names) < 2:  # (a PDF reading's entry may name no one: a handout, a statute)
            return "".join(names)
        return ", ".join(names[:-1]) + " and " + names[-1]

    @property
    def running_title(self) -> str:
        return self.short_title or self.title


@dataclass(frozen=True)
class Citation:
    """One citation cluster as written, e.g. ``[see @a, 12; @b]`` or ``@a [p. 4]``."""

    id: str
    raw: str  # the Pandoc source of the citation
    keys: tuple[str, ...]
    location: SourceLocation
    narrative: bool = False  # the author's name stands in the text (``@a``)


@dataclass(frozen=True)
class Note:
    label: str
    number: int
    tokens: tuple[Token, ...]
    location: SourceLocation
    citations: tuple[Citation, ...] = ()
    source: str = ""  # the note's Markdown, as written, for the citation processor
    auto: bool = False  # made by a note style from a citation in the running text


@dataclass(frozen=True)
class CitationStyle:
    """The CSL style a work's citations are formatted in."""

    name: str  # as the work names it
    path: Path
    notes: bool  # a note style (``class="note"``); else citations stand in the text


#: Column types whose values are numbers: right-aligned, tabular figures, summable.
NUMERIC_TYPES = ("integer", "decimal", "percent")
COLUMN_TYPES = (*NUMERIC_TYPES, "text", "date")


@dataclass(frozen=True)
class Column:
    """One declared column of a CSV table and how it prints."""

    name: str
    kind: str  # one of COLUMN_TYPES
    header: str
    unit: str = ""
    places: int | None = None  # decimals shown (decimal, percent); None: as in the data
    thousands: bool | None = None  # group digits with commas; None: when the column (its totals counted) reaches 10,000
    align: str = ""  # "left" | "right" | "center"; "" chooses by type
    hidden: bool = False  # read (and checked) but not printed

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_TYPES


@dataclass(frozen=True)
class Table:
    """A CSV table with its declared columns; rows hold typed values (int,
    Decimal, str) or None for an empty cell."""

    id: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    location: SourceLocation
    caption: str = ""
    source: str = ""
    notes: tuple[str, ...] = ()
    group_by: str = ""
    list_column: str = ""  # with group_by: one row per group listing this column's values
    row_header: str = ""  # the column whose cells head their rows ("" for none)
    totals: tuple[str, ...] = ()  # columns summed in a totals row
    totals_label: str = "Total"
    subtotals: bool = False  # a totals row after each group
    wide: str = ""  # "" | "small" | "rotate"
    column_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (label, adjacent printed columns) heads over heads
    missing: str = "\u2014"  # printed for an empty cell
    source_note: str = ""
    original_pages: Mapping[Any, int] = field(default_factory=dict)
    stated_totals: Mapping[str, Any] | None = None
    # where the Markdown lines of the description stand: "caption", "source", "note-1", ...
    text_lines: Mapping[str, SourceLocation] = field(default_factory=dict)

    @property
    def texts(self) -> tuple[tuple[str, str], ...]:
        """The description's lines of Markdown that print, by name: the caption,
        the source line and each note ("note-1", "note-2", ...)."""
        named = [("caption", self.caption), ("source", self.source)]
        named += [(f"note-{n}", note) for n, note in enumerate(self.notes, 1)]
        return tuple((name, line) for name, line in named if line)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def shown(self) -> tuple[Column, ...]:
        """The columns printed, in their declared order."""
        if self.list_column:
            return (self.column(self.group_by), self.column(self.list_column))
        return tuple(c for c in self.columns if not c.hidden and c.name != self.group_by)

    def groups(self) -> list[tuple[Any, list[Mapping[str, Any]]]]:
        """Rows grouped by ``group_by`` in the order they first appear."""
        out: dict[Any, list[Mapping[str, Any]]] = {}
        for row in self.rows:
            out.setdefault(row[self.group_by], []).append(row)
        return list(out.items())


@dataclass(frozen=True)
class Section:
    """A chapter or a document of the appendix: a titled body of Markdown."""

    kind: str  # "chapter" | "document"
    slug: str
    title: str  # plain text (contents, running heads, outline); title_markdown as written
    tokens: tuple[Token, ...]
    location: SourceLocation
    original_page: int | None = None
    title_markdown: str = ""  # the title as written, when it holds Markdown
    # documents only
    number: int | None = None
    label: str = ""
    source_line: str = ""
    date: str = ""
    cite: str = ""
    obtained_by: str = ""
    translated_by: str = ""


@dataclass(frozen=True)
class RegisterEntry:
    kind: str
    source: str
    edition: str
    source_line: int
    file: str
    why: str


@dataclass(frozen=True)
class BibEntry:
    key: str
    entry_type: str
    fields: Mapping[str, str]
    location: SourceLocation


@dataclass(frozen=True)
class Image:
    """An image the text shows, as read (through the sandbox) and checked."""

    path: Path  # the file, as the text names it
    data: bytes
    media_type: str
    name: str  # its file name in the EPUB's images/ folder, unique in the work


@dataclass(frozen=True)
class PdfProblem:
    """Something on a page of a source PDF that PDF/A does not allow, by kind
    (a key of ``pdfproblems.PROBLEMS``, which says whether the build can fix it)."""

    kind: str
    page: int  # page of the source file, from 1
    detail: str


@dataclass(frozen=True)
class PdfSource:
    """The file of a PDF reading, read and checked by the reader stage; the
    outputs use its bytes, never the file again."""

    name: str  # path relative to the project (as embedded in the PDF/A)
    path: Path
    data: bytes = field(repr=False, compare=False)
    first: int  # first and last page of the file the reading reproduces, from 1
    last: int
    total: int  # pages of the whole file
    sizes: tuple[tuple[float, float], ...]  # each used page's width and height in pt, as displayed
    tagged: bool  # the file has a structure tree (a tagged PDF)
    location: SourceLocation  # the reading's 'pdf:' line in the reader file
    problems: tuple[PdfProblem, ...] = ()
    text: tuple[str, ...] = ()  # the text layer of each used page, when the reader asks for it (epub_text)
    trim: tuple[float, float, float, float] = (
        0.0,
        0.0,
        0.0,
        0.0,
    )  # points off each displayed edge (top, right, bottom, left)
    furniture: tuple[str, ...] = ()  # lines of the source's own running heads or folios, as printed (read.pdf.trim)

    @property
    def pages(self) -> int:
        return self.last - self.first + 1

    @property
    def page_numbers(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True)
class Reading:
    """How a work stands in a course reader: which part of it, and what the
    volume owes its source."""

    work: str  # the work's folder in content/
    kind: str  # "whole" | "excerpt" | "documents" | "pdf"
    title: str  # plain text; the Markdown as written in title_markdown when it has any
    show_authors: bool
    source_line: str = ""  # "Originally published as …", as HTML
    source_text: str = ""  # the same, as plain text (the permissions report)
    permissions: str = ""
    words: int = 0  # words of the original the reading reproduces
    original_words: int = 0  # words of the whole original
    pdf: PdfSource | None = None  # a reading printed from an existing PDF (kind "pdf")
    title_markdown: str = ""
    smart_quotes: bool = True  # how title_markdown is read: the reader's text, or its work's
    original_pages: int = 0  # pages of the original a PDF reading is from (its entry's pages); 0: the file's

    @property
    def pages_of_original(self) -> int:
        """What a PDF reading's share is counted against: the pages of the
        original its BibTeX entry gives (a chapter's ``pages = {32--63}``, a
        book's ``pagetotal``), else the pages of the file."""
        return self.original_pages or (self.pdf.total if self.pdf else 0)


@dataclass(frozen=True)
class ReaderMeta:
    title: str  # plain text; the Markdown as written in title_markdown when it has any
    course_code: str
    instructor: str
    institution: str
    term: str
    identifier: str
    date: str
    language: str
    rights: str
    introduction: tuple[Token, ...]
    definition: Path
    permissions_page: bool = False
    characters: frozenset[str] = frozenset()  # every character of the reader definition
    title_markdown: str = ""


@dataclass(frozen=True)
class Work:
    slug: str
    root: Path
    meta: WorkMeta
    sections: tuple[Section, ...]
    documents: tuple[Section, ...]
    tables: Mapping[str, Table]
    notes: tuple[Note, ...]
    register: tuple[RegisterEntry, ...]
    bib: Mapping[str, BibEntry]
    bib_path: Path | None
    inputs: tuple[Path, ...]  # exactly the files the readers opened: the edition's sources
    images: Mapping[str, Image] = field(default_factory=dict)  # by the key on each image token
    reading: Reading | None = None  # set when the work is one reading of a volume
    style: CitationStyle | None = None  # None: the default style
    # filled by resolve
    citations: Mapping[str, str] = field(default_factory=dict)
    bibliography: tuple[tuple[str, str], ...] = ()  # (key, html) in style order
    stops_taken: frozenset[str] = frozenset()  # citations after which the author's full stop is not printed
    characters: frozenset[str] = frozenset()  # every character of the work's text files (fonts)

    @property
    def all_sections(self) -> tuple[Section, ...]:
        return self.sections + self.documents

    @property
    def pdf(self) -> PdfSource | None:
        """The source PDF of a reading printed from one (it has no sections)."""
        return self.reading.pdf if self.reading else None

    @property
    def documents_only(self) -> bool:
        """A reading made of appendix documents alone: no appendix heading, no
        Note on the Text of the work around them."""
        return self.reading is not None and self.reading.kind == "documents"


@dataclass(frozen=True)
class Edition:
    """What a build publishes: one work, or several works as a course reader."""

    slug: str
    title: str
    identifier: str
    language: str
    parts: tuple[Work, ...]
    reader: ReaderMeta | None = None

    @property
    def main(self) -> Work:
        return self.parts[0]

    @property
    def creators(self) -> list[str]:
        """Who the volume is by: the compiler of a reader, the authors of a work."""
        if self.reader:
            return [self.reader.instructor]
        return [a.name for a in self.main.meta.authors]

    @property
    def date(self) -> str:
        return self.reader.date if self.reader else self.main.meta.date

    @property
    def publisher(self) -> str:
        return self.reader.institution if self.reader else self.main.meta.publisher

    @property
    def rights(self) -> str:
        return self.reader.rights if self.reader else self.main.meta.rights

    @property
    def smart_quotes(self) -> bool:
        """How the volume's own metadata reads: a reader's as Pandoc's default, a work's as it says."""
        return True if self.reader else self.main.meta.smart_quotes

    @property
    def untagged_pdf_readings(self) -> tuple[str, ...]:
        """The source PDFs without tags: a volume holding one cannot claim PDF/UA."""
        return tuple(w.pdf.name for w in self.parts if w.pdf and not w.pdf.tagged)

    @property
    def characters(self) -> frozenset[str]:
        """Every character of the content the volume prints (which fonts it needs)."""
        own = self.reader.characters if self.reader else frozenset()
        return own.union(*(w.characters for w in self.parts))
