"""Generated works and course readers: Hypothesis strategies that write random
but valid projects, and what their outputs must then show.

A ``Project`` is data (drawn by ``projects()``): one or two works, each with
sections of random lengths, notes from one word to half a page, several notes
in one sentence, citations, tables with and without captions, source lines and
notes (short, or long enough to break over pages), documents, cross-references
to sections, tables, notes and documents, foreign-language spans and headings
at every level; and, as often, a course reader of excerpts, whole works,
documents as readings and PDF readings (made by WeasyPrint, tagged or not, or
by Chromium's print-to-PDF); on Letter, A4 or 6 × 9 in. ``write`` puts it on
disk with the project's real templates; the project says what its source says
(``headings``, ``paragraphs``: their words in order, ``targets``: the words of
each element a link may lead to) for ``tests/invariants.py`` to compare with
what the outputs read.
"""

from __future__ import annotations

import base64
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from .conftest import ROOT

#: Plain words: what the generated text is made of (the content's words are
#: the author's, so any word will do; letters only, so every reading of the
#: outputs splits them alike).
_WORD_LIST = """
    archive border cabinet capital century charter colony commerce congress council
    culture decade delegate desert doctrine economy embassy empire envoy export
    factory famine finance foreign frontier garrison harbour harvest history import
    industry island journal justice kingdom labour league liberty market mission
    nation neutral ocean palace parliament party peasant period pioneer planning
    policy province railway reform region republic revenue river rural science
    senate society soldier state station summit system teacher territory theory
    treaty tribute union valley village voyage welfare worker writer youth
    modest quiet narrow distant ancient bitter steady formal brief public
    long early late great small other new first last whole open
"""
WORDS = tuple(_WORD_LIST.split())
LANGUAGES = ("fr", "de", "ko-Latn", "es", "it")
PAPERS = ("letter", "a4", "6x9")


# -- the project, as data ---------------------------------------------------------


@dataclass
class Note:
    label: str
    text: str  # Markdown


@dataclass
class Table:
    id: str
    rows: int
    caption_in_div: bool
    caption: str
    call: bool  # a note call in the caption (only where the caption is in the div)
    source: bool
    notes: tuple[str, ...]


@dataclass
class Section:
    stem: str
    title: str
    blocks: list[str]  # Markdown blocks (paragraphs, headings, table divs)
    paragraphs: list[str]  # the paragraphs' words, notes and calls left out
    headings: list[str]
    notes: list[Note]
    anchors: dict[str, str] = field(default_factory=dict)  # a heading's id -> its text


@dataclass
class Document:
    number: int
    title: str
    date: str
    body: list[str]


@dataclass
class Work:
    slug: str
    title: str
    author: str
    sections: list[Section]
    tables: list[Table]
    documents: list[Document]
    uuid_tail: int

    @property
    def headings(self) -> list[str]:
        return [h for s in self.sections for h in [s.title, *s.headings]]

    @property
    def paragraphs(self) -> list[str]:
        return [p for s in self.sections for p in s.paragraphs]

    @property
    def targets(self) -> dict[tuple[str, str], str]:
        """(work, id) -> the words of each element a link may lead to: sections,
        headings, tables (by caption) and documents (by title)."""
        out = {(self.slug, s.stem): s.title for s in self.sections}
        out.update({(self.slug, a): h for s in self.sections for a, h in s.anchors.items()})
        out.update({(self.slug, t.id): t.caption for t in self.tables})
        out.update({(self.slug, f"document-{d.number}"): d.title for d in self.documents})
        return out


@dataclass
class PdfReading:
    maker: str  # "weasyprint", "weasyprint-tagged" or "chromium"
    pages: int  # pages of the file
    first: int
    last: int
    title: str


@dataclass
class Reading:
    work: str | None = None  # a work's slug, or None for a PDF reading
    sections: list[str] | None = None
    documents: list[int] | None = None
    title: str | None = None
    pdf: PdfReading | None = None


@dataclass
class Reader:
    slug: str
    title: str
    permissions_page: bool
    introduction: str
    readings: list[Reading] = field(default_factory=list)


@dataclass
class Project:
    works: list[Work]
    reader: Reader | None
    paper: str

    @property
    def slug(self) -> str:
        """The edition the test builds: the reader, else the first work."""
        return self.reader.slug if self.reader else self.works[0].slug

    @property
    def headings(self) -> list[str]:
        """Headings the built edition prints: every section's (a reader prints
        the sections its readings hold)."""
        if self.reader is None:
            return self.works[0].headings
        works = {w.slug: w for w in self.works}
        out = []
        for reading in self.reader.readings:
            if reading.work is None or reading.sections == []:
                continue
            work = works[reading.work]
            for s in work.sections:
                if reading.sections is None or s.stem in reading.sections:
                    out += [s.title, *s.headings]
        return out

    @property
    def paragraphs(self) -> list[str]:
        if self.reader is None:
            return self.works[0].paragraphs
        works = {w.slug: w for w in self.works}
        out = []
        for reading in self.reader.readings:
            if reading.work is None or reading.sections == []:
                continue
            for s in works[reading.work].sections:
                if reading.sections is None or s.stem in reading.sections:
                    out += s.paragraphs
        return out

    @property
    def targets(self) -> dict[tuple[str, str], str]:
        return {key: text for w in self.works for key, text in w.targets.items()}

    def describe(self) -> str:
        """A short account of the project, for a failing example's message."""
        parts = [f"paper {self.paper}"]
        for w in self.works:
            parts.append(
                f"work {w.slug}: {len(w.sections)} sections, {sum(len(s.notes) for s in w.sections)} notes, "
                f"{len(w.tables)} tables ({[t.rows for t in w.tables]} rows), {len(w.documents)} documents"
            )
        if self.reader:
            kinds = [
                r.pdf.maker if r.pdf else "documents" if r.sections == [] else "excerpt" if r.sections else "whole"
                for r in self.reader.readings
            ]
            parts.append(f"reader {self.reader.slug}: {kinds}, permissions page {self.reader.permissions_page}")
        return "; ".join(parts)


# -- strategies --------------------------------------------------------------------


def _words(draw, low: int, high: int) -> list[str]:
    return draw(st.lists(st.sampled_from(WORDS), min_size=low, max_size=high))


def _title(draw, used: set[str], low: int = 1, high: int = 4) -> str:
    """A title of capitalised words, unique in the project (a heading is found
    by its words in the PDF's text)."""
    while True:
        title = " ".join(w.capitalize() for w in _words(draw, low, high))
        if title and title not in used and not any(title in u or u in title for u in used):
            used.add(title)
            return title
        low = high = high + 1


class _Notes:
    """Note labels and texts of one work, numbered in order of definition."""

    def __init__(self) -> None:
        self.count = 0

    def new(self, draw, targets: list[str], bib_keys: list[str]) -> Note:
        self.count += 1
        length = draw(st.sampled_from((1, 3, 12, 40, 150)))  # one word to half a page
        words = _words(draw, 1, length)
        text = " ".join(words).capitalize() + "."
        if draw(st.booleans()) and bib_keys:
            text += f" [@{draw(st.sampled_from(bib_keys))}, {draw(st.integers(1, 400))}]"
        if targets and draw(st.integers(0, 4)) == 0:
            text += f" See [{draw(st.sampled_from(WORDS))}](#{draw(st.sampled_from(targets))})."
        return Note(f"n{self.count}", text)


def _paragraph(draw, notes: _Notes, targets: list[str], bib_keys: list[str], section_notes: list[Note]):
    """A paragraph of sentences, with note calls (several in a sentence, or
    side by side), citations, a foreign span and a cross-reference; returns
    its Markdown and its words without notes."""
    sentences, plain = [], []
    for _ in range(draw(st.integers(1, 6))):
        words = _words(draw, 3, 24)
        out, kept = [], []
        for index, word in enumerate(words):
            text = word.capitalize() if index == 0 else word
            kept.append(text)
            if draw(st.integers(0, 11)) == 0:
                note = notes.new(draw, targets, bib_keys)
                section_notes.append(note)
                text += f"[^{note.label}]"
                if draw(st.integers(0, 3)) == 0:  # two calls side by side: "4,5"
                    other = notes.new(draw, targets, bib_keys)
                    section_notes.append(other)
                    text += f"[^{other.label}]"
            out.append(text)
        if len(out) > 4 and draw(st.integers(0, 4)) == 0:
            start = draw(st.integers(1, len(out) - 3))
            lang = draw(st.sampled_from(LANGUAGES))
            out[start] = f"[{out[start]}"
            out[start + 1] = f"{out[start + 1]}]{{lang={lang}}}"
        if len(out) > 4 and targets and draw(st.integers(0, 4)) == 0:
            start = draw(st.integers(1, len(out) - 3))
            if "[" not in out[start] + out[start + 1] and "]" not in out[start] + out[start + 1]:
                out[start] = f"[{out[start]}"
                out[start + 1] = f"{out[start + 1]}](#{draw(st.sampled_from(targets))})"
        sentence = " ".join(out)
        if bib_keys and draw(st.integers(0, 5)) == 0:
            sentence += f" [@{draw(st.sampled_from(bib_keys))}, {draw(st.integers(1, 300))}]"
        sentences.append(sentence + ".")
        plain.append(" ".join(kept) + ".")
    return " ".join(sentences), " ".join(plain)


@st.composite
def tables(draw, number: int, used: set[str], rich: bool = False) -> Table:
    caption_in_div = draw(st.booleans())
    rows = (70, 12, 5, 2) if rich else (2, 5, 12, 70)  # 70 rows break over pages: the header repeats
    return Table(
        id=f"table-{number}",
        rows=draw(st.sampled_from(rows)),
        caption_in_div=caption_in_div,
        caption=_title(draw, used, 2, 6),
        call=caption_in_div and draw(st.booleans()),
        source=draw(st.booleans()),
        notes=tuple(" ".join(_words(draw, 2, 8)).capitalize() + "." for _ in range(draw(st.integers(0, 2)))),
    )


@st.composite
def works(draw, slug: str, uuid_tail: int, used: set[str], rich: bool = False) -> Work:
    """A work; ``rich``: one that holds every kind of thing at least once (a
    table long enough to break, a document, two sections, a heading), so that
    even Hypothesis' simplest example of it exercises them all."""
    notes = _Notes()
    bib_keys = list(BIB_KEYS)
    table_list = [draw(tables(n, used, rich)) for n in range(1, draw(st.integers(int(rich), 2)) + 1)]
    documents = [
        Document(
            n,
            _title(draw, used, 2, 8),
            f"19{draw(st.integers(50, 89))}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}",
            [" ".join(_words(draw, 5, 60)).capitalize() + "." for _ in range(draw(st.integers(1, 4)))],
        )
        for n in range(1, draw(st.integers(int(rich), 2)) + 1)
    ]
    count = draw(st.integers(1 + int(rich), 3))
    stems = [f"0{n}-{'-'.join(_words(draw, 1, 2))}" for n in range(1, count + 1)]
    anchors = iter(range(1, 1000))
    targets = stems + [t.id for t in table_list] + [f"document-{d.number}" for d in documents]
    sections = []
    unplaced = list(table_list)
    for index, stem in enumerate(stems):
        title = _title(draw, used)
        blocks, paragraphs, headings, section_notes, anchors_of = [], [], [], [], {}
        level = 1
        first = [2, 0, 1, 2] if rich else []  # a paragraph, a heading, a table, a paragraph
        for number in range(draw(st.integers(len(first) or 1, 5))):
            kind = first[number] if number < len(first) else draw(st.integers(0, 5))
            if kind == 0:
                # ## … ##### print as h3 … h6; a heading goes at most one level deeper
                # than the one before it (a skipped level is the author's fault, not a layout's)
                level = draw(st.integers(2, min(level + 1, 5)))
                heading = _title(draw, used)
                anchor = f"h{next(anchors)}"
                targets.append(anchor)
                blocks.append(f"{'#' * level} {heading} {{#{anchor}}}")
                headings.append(heading)
                anchors_of[anchor] = heading
            elif kind == 1 and unplaced:
                table = unplaced.pop(0)
                caption = table.caption if table.caption_in_div else ""
                if table.call:
                    note = notes.new(draw, [], bib_keys)
                    section_notes.append(note)
                    caption += f"[^{note.label}]"
                blocks.append(f"::: {{.table #{table.id}}}\n{caption}\n:::")
            else:
                markdown, plain = _paragraph(draw, notes, targets, bib_keys, section_notes)
                blocks.append(markdown)
                paragraphs.append(plain)
        if index == len(stems) - 1:
            for table in unplaced:  # every table is placed
                blocks.append(f"::: {{.table #{table.id}}}\n{table.caption if table.caption_in_div else ''}\n:::")
                table.call = False
        sections.append(Section(stem, title, blocks, paragraphs, headings, section_notes, anchors_of))
    return Work(slug, _title(draw, used, 2, 5), "Ada Tester", sections, table_list, documents, uuid_tail)


@st.composite
def pdf_readings(draw, makers: tuple[str, ...] = ("weasyprint", "weasyprint-tagged", "chromium")) -> PdfReading:
    pages = draw(st.integers(1, 4))
    first = draw(st.integers(1, pages))
    last = draw(st.integers(first, pages))
    return PdfReading(draw(st.sampled_from(makers)), pages, first, last, "")


#: The readings of a rich reader, before any drawn: every kind, and a PDF by each maker.
RICH_READINGS = ("pdf:chromium", "excerpt", "documents", "pdf:weasyprint-tagged")


@st.composite
def readers(draw, work_list: list[Work], used: set[str], rich: bool = False) -> Reader:
    """A course reader of the works; ``rich``: one with a reading of every kind."""
    readings = []
    first = RICH_READINGS if rich else ()
    for number in range(len(first) if rich else draw(st.integers(1, 4))):
        work = draw(st.sampled_from(work_list))
        kind = first[number] if number < len(first) else draw(st.sampled_from(("whole", "excerpt", "documents", "pdf")))
        kind, _, maker = kind.partition(":")
        if kind == "excerpt":
            stems = [s.stem for s in work.sections]
            chosen = draw(st.lists(st.sampled_from(stems), min_size=1, max_size=len(stems), unique=True))
            readings.append(Reading(work.slug, sections=sorted(chosen), documents=[]))
        elif kind == "documents" and work.documents:
            number = draw(st.sampled_from([d.number for d in work.documents]))
            readings.append(Reading(work.slug, sections=[], documents=[number], title=_title(draw, used, 2, 5)))
        elif kind == "pdf":
            reading = draw(pdf_readings((maker,) if maker else ("weasyprint", "weasyprint-tagged", "chromium")))
            reading.title = _title(draw, used, 2, 5)
            readings.append(Reading(pdf=reading))
        else:
            readings.append(Reading(work.slug))
    return Reader(
        "generated-reader",
        _title(draw, used, 2, 5),
        rich or draw(st.booleans()),
        " ".join(_words(draw, 5, 40)).capitalize() + ".",
        readings,
    )


@st.composite
def projects(draw, reader: bool | None = None, rich: bool = False, papers: tuple[str, ...] = PAPERS) -> Project:
    """A project: one or two works (one when ``rich``), and (``reader`` True,
    or as drawn) a reader of them, on one of ``papers`` (the first is the
    simplest example's)."""
    used: set[str] = set()
    count = 1 if rich else draw(st.integers(1, 2))
    work_list = [draw(works(f"work{n}", n, used, rich)) for n in range(1, count + 1)]
    with_reader = draw(st.booleans()) if reader is None else reader
    return Project(
        work_list,
        draw(readers(work_list, used, rich)) if with_reader else None,
        draw(st.sampled_from(papers)),
    )


# -- on disk -------------------------------------------------------------------------

BIB_KEYS = ("suh1988", "kim2001")
BIB = """\
@book{suh1988,
  author = {Suh, Dae-Sook},
  title = {Kim Il Sung: The North Korean Leader},
  publisher = {Columbia University Press},
  address = {New York},
  date = {1988},
}
@article{kim2001,
  author = {Kim, Suzy},
  title = {Revolutionary Mothers},
  journaltitle = {Journal of Korean Studies},
  volume = {12},
  date = {2001},
  pages = {1--30},
}
"""


def _work_yaml(work: Work) -> str:
    return (
        f"title: {work.title}\nauthors:\n  - name: {work.author}\n    affiliation: Test University\n"
        "publisher: Test Press\ndate: 2020-01\nlanguage: en\n"
        f"identifier: urn:uuid:00000000-0000-4000-8000-{work.uuid_tail:012d}\n"
        f"rights: Test rights.\nbibliography: {work.slug}.bib\nsource: suh1988\n"
    )


def _table_files(table: Table) -> dict[str, str]:
    rows = "".join(f"{WORDS[n % len(WORDS)].capitalize()} {n},{1900 + n}\n" for n in range(table.rows))
    spec = "columns:\n  name: {type: text, header: Name}\n  year: {type: integer, header: Year}\n"
    if not table.caption_in_div:
        spec += f"caption: {table.caption}\n"
    if table.source:
        spec += "source: A register of the archive.\n"
    if table.notes:
        spec += "notes:\n" + "".join(f"  - {n}\n" for n in table.notes)
    return {f"tables/{table.id}.csv": "name,year\n" + rows, f"tables/{table.id}.yaml": spec}


def write_work(work: Work, root: Path) -> None:
    folder = root / "content" / work.slug
    files = {"work.yaml": _work_yaml(work)}
    for section in work.sections:
        notes = "".join(f"[^{n.label}]: {n.text}\n" for n in section.notes)
        body = "\n\n".join(section.blocks) + ("\n\n" + notes if notes else "\n")
        files[f"text/{section.stem}.md"] = f'---\ntitle: "{section.title}"\n---\n{body}'
    for table in work.tables:
        files.update(_table_files(table))
    for document in work.documents:
        body = "\n\n".join(document.body)
        files[f"documents/{document.number}.md"] = (
            f'---\nnumber: {document.number}\ntitle: "{document.title}"\n'
            f'source_line: "[Source: an archive, file {document.number}.]"\ndate: {document.date}\n---\n{body}\n'
        )
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "bib").mkdir(exist_ok=True)
    (root / "bib" / f"{work.slug}.bib").write_text(BIB, encoding="utf-8")


def _reader_yaml(reader: Reader) -> str:
    lines = [
        f"title: {reader.title}",
        "course_code: TEST 101",
        "instructor: Ina Structor",
        "institution: Test University",
        "term: Fall 2027",
        "identifier: urn:uuid:00000000-0000-4000-8000-000000000099",
        "date: 2027-09",
        "language: en",
        "rights: Test.",
        f"permissions_page: {'true' if reader.permissions_page else 'false'}",
        f"introduction: {reader.introduction}",
        f"bibliography: {reader.slug}.bib",
        "readings:",
    ]
    for number, reading in enumerate(reader.readings, 1):
        if reading.pdf is not None:
            pdf = reading.pdf
            lines += [
                f"  - pdf: readings/reading-{number}.pdf",
                f"    pages: {pdf.first}-{pdf.last}",
                f"    cite: reading{number}",
                "    permissions: Reproduced by permission.",
            ]
            continue
        lines.append(f"  - work: {reading.work}")
        if reading.sections is not None:
            lines.append(f"    sections: [{', '.join(reading.sections)}]")
        if reading.documents is not None:
            lines.append(f"    documents: [{', '.join(map(str, reading.documents))}]")
        if reading.title:
            lines.append(f"    title: {reading.title}")
        lines.append("    permissions: Reproduced by permission.")
    return "\n".join(lines) + "\n"


def _reader_bib(reader: Reader) -> str:
    return "".join(
        f"@misc{{reading{n},\n  author = {{Tester, Ada}},\n  title = {{{r.pdf.title}}},\n  date = {{2020}},\n}}\n"
        for n, r in enumerate(reader.readings, 1)
        if r.pdf is not None
    )


def pdf_html(reading: PdfReading) -> str:
    """The pages of a PDF reading: a heading, paragraphs and a table on each."""
    pages = []
    for n in range(1, reading.pages + 1):
        words = " ".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(60))
        pages.append(
            f'<section style="break-after: page"><h1>{reading.title} {n}</h1><p>{words}.</p>'
            f"<table><thead><tr><th>Name</th><th>Year</th></tr></thead>"
            f"<tbody><tr><td>{WORDS[n]}</td><td>{1950 + n}</td></tr></tbody></table></section>"
        )
    return "".join(pages)


def make_pdf(reading: PdfReading, browser=None) -> bytes:
    """A PDF reading made as the course would have it: by WeasyPrint (with or
    without tags) or by Chromium's print-to-PDF (``browser``, a ``tests.cdp.Browser``)."""
    from . import pdfs

    if reading.maker.startswith("weasyprint"):
        return pdfs.typeset(pdf_html(reading), tags=reading.maker == "weasyprint-tagged")
    assert browser is not None, "a Chromium PDF reading needs the browser"
    html = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{reading.title}</title></head>'
    html += f"<body>{pdf_html(reading)}</body></html>"
    browser.navigate("about:blank")  # an HTML document (the page may hold an EPUB's XHTML, parsed as XML)
    browser.send("Page.setDocumentContent", {"frameId": _frame(browser), "html": html}, session=browser.session)
    data = browser.send(
        "Page.printToPDF", {"generateTaggedPDF": True, "printBackground": False}, session=browser.session
    )["data"]
    return base64.b64decode(data)


def _frame(browser) -> str:
    tree = browser.send("Page.getFrameTree", {}, session=browser.session)
    return tree["frameTree"]["frame"]["id"]


def write(project: Project, root: Path, browser=None) -> Path:
    """The project on disk under ``root`` (the real templates; one BibTeX file per work)."""
    shutil.copytree(ROOT / "templates", root / "templates", dirs_exist_ok=True)
    for work in project.works:
        write_work(work, root)
    if project.reader is not None:
        readers_folder = root / "readers"
        (readers_folder / "readings").mkdir(parents=True, exist_ok=True)
        (readers_folder / f"{project.reader.slug}.yaml").write_text(_reader_yaml(project.reader), encoding="utf-8")
        (root / "bib" / f"{project.reader.slug}.bib").write_text(_reader_bib(project.reader), encoding="utf-8")
        for number, reading in enumerate(project.reader.readings, 1):
            if reading.pdf is not None:
                data = make_pdf(reading.pdf, browser)
                (readers_folder / "readings" / f"reading-{number}.pdf").write_bytes(data)
    return root
